"""One test per scoring rule: outliers, the 0-100 mapping, known distances, running score,
unseen joints."""

import math

import numpy as np
import pytest

from posegraph.scoring import FormReference
from posegraph.scoring.mapping import HIGH_QUANTILE, MARGIN, Calibration, calibrate, scores_from_ramp
from posegraph.scoring.normalise import body_joints, normalise
from posegraph.scoring.outliers import far_frames, too_little_seen
from posegraph.scoring.phases import PhaseClusters, fit_phases
from posegraph.scoring.result import summarise
from posegraph.scoring.running import running_score
from posegraph.skeleton import get_layout

BLAZEPOSE = get_layout("blazepose33")
BODY = body_joints(BLAZEPOSE)


# -- outliers ----------------------------------------------------------------------------------
def test_frames_showing_less_than_half_the_body_are_out():
    poses = np.zeros((3, BLAZEPOSE.num_joints, 2))
    poses[1, BODY[:7]] = np.nan   # 7 of 13 body joints missing
    poses[2, BODY[:6]] = np.nan   # 6 missing: still more than half seen
    poses[:, 1:11] = np.nan       # face points do not count
    assert too_little_seen(poses, BODY).tolist() == [False, True, False]


def test_far_frames_is_a_robust_z_score():
    distances = np.r_[np.linspace(1.0, 2.0, 101), 2.5, 6.0, np.inf, np.nan]
    # median 1.5, MAD 0.25: z(2.5) = 2.7 stays, z(6.0) = 12.1 goes; no distance is far
    assert np.flatnonzero(far_frames(distances)).tolist() == [102, 103, 104]


def test_glitches_go_and_turning_points_stay(synthetic):
    """Frames where the skeleton jumps are left out; the bottom of every curl is kept."""
    curls = synthetic("biceps_curl", reference=True)
    poses = np.concatenate([normalise(s.joints, BLAZEPOSE, (s.width, s.height)) for s in curls])
    phase = np.concatenate([s.phase for s in curls])
    poses, phase = poses[~too_little_seen(poses, BODY)], phase[~too_little_seen(poses, BODY)]
    random = np.random.default_rng(0)
    glitches = random.choice(len(poses), 20, replace=False)
    poses[glitches] += random.normal(0, 0.4, poses[glitches].shape).astype(np.float32)
    _, far = fit_phases(poses, BODY, 15, 5, 0.05)
    assert far[glitches].all()
    moving = np.setdiff1d(np.flatnonzero(phase != "rest"), glitches)
    assert far[moving].mean() < 0.03


# -- the mapping -------------------------------------------------------------------------------
def test_the_ramp_runs_from_100_at_low_to_0_at_high():
    calibration = Calibration(low=np.array([1.0, 0.0]), high=np.array([3.0, 4.0]))
    deviations = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [9.0, np.nan]])
    np.testing.assert_allclose(calibration.scores(deviations),
                               [[100, 100], [100, 75], [50, 50], [0, 25], [0, np.nan]])


def test_the_ramp_position_is_not_capped_where_the_score_is():
    """Past the ramp's end the score stays 0 but the ramp keeps counting: 1 at ``high``, 4 at
    four ramps out, so a repetition's joints can still be ranked there."""
    calibration = Calibration(low=np.array([1.0]), high=np.array([3.0]))
    deviations = np.array([[0.0], [1.0], [3.0], [9.0], [np.nan]])
    np.testing.assert_allclose(calibration.ramp(deviations)[:, 0], [-0.5, 0.0, 1.0, 4.0, np.nan])
    np.testing.assert_allclose(scores_from_ramp(calibration.ramp(deviations)), calibration.scores(deviations))
    assert calibration.scores(deviations)[2, 0] == calibration.scores(deviations)[3, 0] == 0.0


def test_calibration_comes_from_the_references_own_deviations():
    deviations = np.column_stack([np.arange(1, 1001) / 100.0, np.full(1000, np.nan)])
    calibration = calibrate(deviations)
    assert calibration.low[0] == pytest.approx(np.median(deviations[:, 0]))
    assert calibration.high[0] == pytest.approx(MARGIN * np.quantile(deviations[:, 0], HIGH_QUANTILE))
    assert math.isnan(calibration.low[1]) and math.isnan(calibration.high[1])  # never seen: no score


def test_scores_fall_with_the_distance_from_the_matched_phase():
    """A hand-made reference: one phase, a standing pose. At the centroid every joint scores
    100; moving the left wrist away lowers its score, monotonically, to 0; others stay 100."""
    pose = _standing_pose()
    phases = PhaseClusters(pose[None].astype(np.float64), np.tile(0.01 * np.eye(2), (1, BLAZEPOSE.num_joints, 1, 1)),
                           np.array([100]), BODY)
    calibration = Calibration(np.full(BLAZEPOSE.num_joints, 0.5), np.full(BLAZEPOSE.num_joints, 5.0))
    reference = FormReference("squat", "blazepose33", _options(), phases, calibration, None, calibration)
    offsets = np.linspace(0.0, 0.8, 9)
    frames = np.repeat(pose[None], len(offsets), axis=0)
    wrist = BLAZEPOSE.index("left_wrist")
    frames[:, wrist, 0] += offsets
    joints = np.concatenate([frames + 0.5, np.ones(frames.shape[:2] + (2,))], axis=-1)  # x, y, z, v
    result = reference.score(joints)
    wrist_scores = result.joint_scores[:, wrist]
    assert wrist_scores[0] == 100.0 and wrist_scores[-1] == 0.0
    assert (np.diff(wrist_scores) <= 0).all() and (np.diff(wrist_scores) < 0).sum() >= 4
    others = np.delete(result.joint_scores[:, BODY], list(BODY).index(wrist), axis=1)
    np.testing.assert_allclose(others[np.isfinite(others)], 100.0)
    assert (np.diff(result.frame_scores) <= 0).all() and result.frame_scores[0] == 100.0


def _standing_pose() -> np.ndarray:
    """``(33, 2)``: hips at the origin, torso 1 long, facing +x (nose right of the hips)."""
    points = {"nose": (0.15, -1.35), "left_shoulder": (0.2, -1.0), "right_shoulder": (-0.2, -1.0),
              "left_elbow": (0.25, -0.5), "right_elbow": (-0.25, -0.5), "left_wrist": (0.3, -0.1),
              "right_wrist": (-0.3, -0.1), "left_hip": (0.15, 0.0), "right_hip": (-0.15, 0.0),
              "left_knee": (0.15, 0.9), "right_knee": (-0.15, 0.9), "left_ankle": (0.15, 1.8),
              "right_ankle": (-0.15, 1.8)}
    pose = np.full((BLAZEPOSE.num_joints, 2), np.nan)
    for name, point in points.items():
        pose[BLAZEPOSE.index(name)] = point
    return pose


def _options():
    from posegraph.scoring import FitOptions

    return FitOptions()


# -- running score and the unseen-joint rule ----------------------------------------------------
def test_running_score_averages_each_frame_with_the_running_score_before():
    scores = np.array([np.nan, 80.0, 40.0, np.nan, 100.0, 0.0])
    np.testing.assert_allclose(running_score(scores), [np.nan, 80.0, 60.0, 60.0, 80.0, 40.0])
    assert np.isnan(running_score(np.full(3, np.nan))).all()


def test_unseen_joints_get_no_score_and_frames_with_nobody_none():
    names = BLAZEPOSE.joint_names
    joint_scores = np.full((3, len(names)), np.nan)
    joint_scores[0, BODY] = 90.0
    joint_scores[0, BLAZEPOSE.index("left_knee")] = 30.0
    joint_scores[1, BLAZEPOSE.index("left_knee")] = 60.0            # only one body joint seen
    joint_scores[1, BLAZEPOSE.index("left_pinky")] = 0.0            # not a body joint: no weight
    result = summarise(joint_scores, BODY, names, "phase", np.zeros(3, dtype=np.int64),
                       times=np.array([0.0, 0.5, 1.0]))
    assert result.frame_scores[0] == pytest.approx((12 * 90 + 30) / 13)
    assert result.frame_scores[1] == 60.0 and math.isnan(result.frame_scores[2])
    assert result.mean_score == pytest.approx((result.frame_scores[0] + 60.0) / 2)
    np.testing.assert_allclose(result.running_score[2], result.running_score[1])
    worst = result.worst_joints[0]
    assert (worst.joint, worst.mean_score, worst.frame_index, worst.time) == ("left_knee", 45.0, 0, 0.0)
    assert len(result.worst_joints) == 3
    summary = result.to_dict()
    assert set(summary) == {"mean_score", "frame_scores", "joint_scores", "running_score", "worst_joints"}
    assert summary["frame_scores"][2] is None and summary["joint_scores"][2][0] is None


def test_unseen_joints_through_the_api(squat_reference, synthetic):
    squat = synthetic("squat")[0]
    joints = squat.joints.copy()
    knee = BLAZEPOSE.index("left_knee")
    joints[10:20, knee, 3] = 0.0      # the left knee not seen for ten frames
    joints[30:35] = np.nan            # nobody in five frames
    size = (squat.width, squat.height)
    for method in ("phase", "joint"):
        result = squat_reference.score(joints, size, method=method)
        assert np.flatnonzero(np.isnan(result.joint_scores[10:20]).all(axis=0)).tolist() == [knee]
        assert np.isfinite(result.frame_scores[10:20]).all()
        assert np.isnan(result.frame_scores[30:35]).all() and np.isnan(result.joint_scores[30:35]).all()
        assert (result.running_score[30:35] == result.running_score[29]).all()
        assert 0.0 <= result.mean_score <= 100.0
    nobody = squat_reference.score(np.full((4, BLAZEPOSE.num_joints, 4), np.nan))
    assert np.isnan(nobody.mean_score) and nobody.worst_joints == () and nobody.to_dict()["mean_score"] is None
    assert squat_reference.score(np.zeros((0, BLAZEPOSE.num_joints, 4))).frame_scores.shape == (0,)


def test_scores_belong_to_the_joints_as_given_when_mirrored(push_up_reference, synthetic):
    """A person facing the other way is compared mirrored, but a hidden left elbow is still
    reported as the left elbow (the overlay colours the person's own joints)."""
    push_up = synthetic("push_up")[0]
    mirror = push_up.joints[:, list(BLAZEPOSE.mirror_index)].copy()
    mirror[..., 0] = 1.0 - mirror[..., 0]
    elbow = BLAZEPOSE.index("left_elbow")
    for joints in (push_up.joints.copy(), mirror):
        joints[:, elbow, 3] = 0.0
        result = push_up_reference.score(joints, (push_up.width, push_up.height))
        assert np.isnan(result.joint_scores[:, elbow]).all()
        assert np.isfinite(result.joint_scores[:, BLAZEPOSE.index("right_elbow")]).mean() > 0.9


def test_joints_a_layout_or_a_file_lacks_have_no_score(synthetic):
    """Penn Action has no eyes or ears: converted to coco17 they are NaN, and never scored."""
    from posegraph.skeleton import convert

    good = synthetic("squat", reference=True)[:4]
    penn = [convert(convert(s.joints, "blazepose33", "penn13"), "penn13", "coco17") for s in good]
    reference = FormReference.fit(penn, layout="coco17", frame_sizes=[(s.width, s.height) for s in good])
    result = reference.score(penn[0], (good[0].width, good[0].height))
    coco = get_layout("coco17")
    eyes = [coco.index(name) for name in ("left_eye", "right_eye", "left_ear", "right_ear")]
    assert np.isnan(result.joint_scores[:, eyes]).all()
    assert np.isfinite(result.joint_scores[:, coco.index("nose")]).mean() > 0.9
    assert result.mean_score > 60
