"""Each feature group on hand-made poses with known angles, distances and speeds."""

import math
import subprocess
import sys

import numpy as np
import pytest

from posegraph.features import FEATURE_NAMES, FEATURES, GROUPS, build_features
from posegraph.skeleton import get_layout

BLAZEPOSE = get_layout("blazepose33")
Z = {"nose": 0.5, "left_hip": 0.1, "right_hip": 0.3, "left_wrist": -0.4}


def as_dict(features: np.ndarray, frame: int = 0) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, features[frame].tolist()))


@pytest.fixture
def standing_features(standing, make_joints):
    features, mask = build_features(make_joints(standing, "blazepose33", z=Z), "blazepose33", fps=30)
    return as_dict(features), dict(zip(FEATURE_NAMES, mask[0].tolist()))


def test_table_documents_83_unique_snake_case_features():
    assert len(FEATURES) == len(set(FEATURE_NAMES)) == 83
    assert all(name.isidentifier() and name == name.lower() for name in FEATURE_NAMES)
    counts = {group: sum(spec.group == group for spec in FEATURES) for group in GROUPS}
    assert counts == {"coordinates": 33, "angles": 21, "distances": 7, "velocities": 14, "visibility": 8}
    units = {"coordinates": "body lengths", "angles": "degrees", "distances": "body lengths",
             "velocities": "body lengths per second", "visibility": "0-1"}
    assert all(spec.unit == units[spec.group] and spec.formula and spec.joints for spec in FEATURES)


def test_importing_the_package_stays_cheap():
    code = "import sys, posegraph.features; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    heavy = {"torch", "cv2", "mediapipe", "prefect", "scipy", "pandas", "pyarrow", "duckdb"}
    assert "numpy" in loaded.split() and not heavy & set(loaded.split())


def test_coordinates_are_relative_to_hip_centre_in_body_lengths(standing_features):
    values, mask = standing_features
    assert values["nose_x"] == pytest.approx(0.0, abs=1e-6)  # hip centre (120, 200), scale 100
    assert values["nose_y"] == pytest.approx(-1.4)
    assert values["left_wrist_x"] == pytest.approx(0.7)
    assert values["left_wrist_y"] == pytest.approx(-0.5)
    assert values["right_ankle_y"] == pytest.approx(1.0)
    assert values["nose_z"] == pytest.approx((0.5 - 0.2) / 100)  # hips' mean z 0.2
    assert values["left_wrist_z"] == pytest.approx((-0.4 - 0.2) / 100)
    assert mask["left_elbow_z"] and math.isnan(values["left_elbow_z"])  # no z given for it
    assert not mask["nose_z"]


def test_angles_of_a_known_pose(standing_features):
    values, mask = standing_features
    # wrists seen from the shoulder centre (120, 100): (70, 50) and (-20, 100)
    hand_separation = math.degrees(math.acos((70 * -20 + 50 * 100) / math.hypot(70, 50) / math.hypot(20, 100)))
    expected = {
        "left_elbow_angle": 90, "right_elbow_angle": 180, "left_knee_angle": 180, "right_knee_angle": 180,
        "left_hip_angle": 180, "right_hip_angle": 180, "left_shoulder_elevation": 0,
        "right_shoulder_elevation": 0, "spine_inclination": 0, "forearm_convergence": 90,
        "upper_arm_convergence": 0, "body_line_from_vertical": 0, "left_forearm_from_vertical": 90,
        "right_forearm_from_vertical": 180, "hand_separation": hand_separation, "shoulder_line_tilt": 0,
        "ankle_stance": 2 * math.degrees(math.atan(20 / 100)), "hip_hinge": 180,
        "left_upper_arm_from_vertical": 180, "right_upper_arm_from_vertical": 180,
    }
    assert {name: values[name] for name in expected} == pytest.approx(expected, abs=1e-4)
    assert mask["knee_hip_bend_ratio"]  # a straight body has no knee-to-hip ratio
    assert math.isnan(values["knee_hip_bend_ratio"])


@pytest.mark.parametrize(("knee", "ankle", "ratio"), [
    ((200.0, 200.0), (200.0, 300.0), 45.0),   # thigh horizontal, shin vertical: knee 90, hip 90
    ((100.0, 300.0), (100.0, 400.0), 0.0),    # legs straight, torso horizontal: pure hip hinge
])
def test_knee_hip_bend_ratio(make_joints, knee, ankle, ratio):
    shoulder = (200.0, 200.0) if ratio == 0 else (100.0, 100.0)
    points = {f"{side}_{joint}": point for side in ("left", "right")
              for joint, point in (("shoulder", shoulder), ("hip", (100.0, 200.0)), ("knee", knee),
                                   ("ankle", ankle))}
    features, _ = build_features(make_joints(points, "coco17"), "coco17", fps=30)
    assert as_dict(features)["knee_hip_bend_ratio"] == pytest.approx(ratio, abs=1e-4)


def test_lying_body_and_tilted_shoulders(make_joints):
    points = {"left_shoulder": (100.0, 90.0), "right_shoulder": (100.0, 110.0),  # shoulder line vertical
              "left_hip": (200.0, 90.0), "right_hip": (200.0, 110.0),
              "left_ankle": (350.0, 90.0), "right_ankle": (350.0, 110.0)}
    values = as_dict(build_features(make_joints(points, "coco17"), "coco17", fps=30)[0])
    assert values["spine_inclination"] == pytest.approx(90)
    assert values["body_line_from_vertical"] == pytest.approx(90)
    assert values["shoulder_line_tilt"] == pytest.approx(90)


def test_distances_in_body_lengths(standing_features):
    values, _ = standing_features
    expected = {"hand_distance": math.hypot(90, 50) / 100, "foot_distance": 0.4, "shoulder_width": 0.4,
                "left_shoulder_wrist_distance": math.hypot(50, 50) / 100,
                "right_shoulder_wrist_distance": 1.0, "left_hip_ankle_distance": 1.0,
                "right_hip_ankle_distance": 1.0}
    assert {name: values[name] for name in expected} == pytest.approx(expected, rel=1e-5)


def test_body_scale_falls_back_to_shoulder_width_when_the_torso_is_foreshortened(make_joints):
    # Seen from the feet: torso 10 px, shoulders 50 px -> scale 1.2 x 50 = 60.
    points = {"left_shoulder": (125.0, 100.0), "right_shoulder": (75.0, 100.0),
              "left_hip": (115.0, 110.0), "right_hip": (85.0, 110.0)}
    values = as_dict(build_features(make_joints(points, "coco17"), "coco17", fps=30)[0])
    assert values["shoulder_width"] == pytest.approx(50 / 60)
    assert values["left_shoulder_y"] == pytest.approx(-10 / 60)


def test_body_scale_is_the_median_over_frames(standing, make_joints):
    joints = make_joints(standing, "blazepose33", frames=5)
    joints[0, :, :2] = joints[0, :, :2] * 3.0  # one frame three times as big: the median ignores it
    values = as_dict(build_features(joints, "blazepose33", fps=30)[0], frame=1)
    assert values["shoulder_width"] == pytest.approx(0.4)


def test_velocities_in_body_lengths_per_second(standing, make_joints):
    joints = make_joints(standing, "blazepose33", frames=6)
    # 3 px per frame at 30 fps with a body scale of 100 px: 0.9 body lengths per second
    joints[:, BLAZEPOSE.index("left_wrist"), 0] += 3.0 * np.arange(6)
    joints[:, :, 0] += 7.0 * np.arange(6)[:, None]  # the whole body drifts: relative motion only
    features, mask = build_features(joints, "blazepose33", fps=30)
    column = FEATURE_NAMES.index
    np.testing.assert_allclose(features[:, column("left_wrist_vx")], 0.9, rtol=1e-5)
    np.testing.assert_allclose(features[:, column("left_wrist_vy")], 0.0, atol=1e-5)
    np.testing.assert_allclose(features[:, column("nose_vx")], 0.0, atol=1e-5)
    assert not mask[:, column("left_wrist_vx")].any()


def test_velocities_are_missing_next_to_a_missing_frame_and_for_a_single_frame(standing, make_joints):
    joints = make_joints(standing, "blazepose33", frames=7)
    joints[3] = np.nan  # nobody seen
    _, mask = build_features(joints, "blazepose33", fps=30)
    velocity = [spec.group == "velocities" for spec in FEATURES]
    assert mask[3].all()
    assert mask[[2, 4]][:, velocity].all()
    others = np.logical_not(velocity)  # as in an untouched frame (z and the bend ratio are missing)
    assert (mask[[2, 4]][:, others] == mask[0, others]).all() and not mask[0, others].all()
    assert not mask[[0, 1, 5, 6]][:, velocity].any()
    single, single_mask = build_features(joints[:1], "blazepose33", fps=30)
    assert single_mask[0, velocity].all() and np.isnan(single[0, velocity]).all()


def test_visibility_features_are_group_means(standing, make_joints):
    joints = make_joints(standing, "blazepose33", visibility=0.8)
    joints[0, BLAZEPOSE.index("right_wrist"), 3] = 0.4
    joints[0, BLAZEPOSE.index("left_knee"), 3] = 0.0  # reported, not seen
    values = as_dict(build_features(joints, "blazepose33", fps=30)[0])
    assert values["visibility_right_arm"] == pytest.approx(0.6)
    assert values["visibility_left_leg"] == pytest.approx(0.4)  # the 0 counts
    assert values["visibility_shoulders"] == pytest.approx(0.8)
    assert values["visibility_body"] == pytest.approx((11 * 0.8 + 0.4 + 0.0) / 13)
    assert math.isnan(values["left_knee_angle"])  # the unseen knee is missing in geometry


def test_empty_sequence_and_bad_input():
    features, mask = build_features(np.zeros((0, 33, 4)), "blazepose33", fps=30)
    assert features.shape == mask.shape == (0, 83)
    with pytest.raises(ValueError, match=r"\(T, 17, 4\)"):
        build_features(np.zeros((5, 33, 4)), "coco17", fps=30)
    with pytest.raises(ValueError, match="fps"):
        build_features(np.zeros((5, 17, 4)), "coco17", fps=0)
    with pytest.raises(KeyError, match="unknown skeleton layout"):
        build_features(np.zeros((5, 17, 4)), "coco-17", fps=30)
