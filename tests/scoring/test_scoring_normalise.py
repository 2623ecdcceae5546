"""The scoring body frame: what must not change a pose (place, size, frame shape, facing side)."""

import numpy as np
import pytest

from posegraph.scoring.normalise import BODY_JOINTS, body_joints, normalise
from posegraph.skeleton import convert, get_layout
from posegraph.skeleton.geometry import aspect_correct

BLAZEPOSE = get_layout("blazepose33")
SIZE = (640, 480)


@pytest.fixture(scope="module")
def squat(synthetic):
    return synthetic("squat")[0]


@pytest.fixture(scope="module")
def push_up(synthetic):
    return synthetic("push_up")[0]  # side view: a clear facing side


def test_translation_and_scale_change_nothing(squat):
    moved = squat.joints.copy()
    moved[..., :2] = 0.5 * moved[..., :2] + np.array([0.3, 0.1])
    np.testing.assert_allclose(normalise(moved, BLAZEPOSE, SIZE), normalise(squat.joints, BLAZEPOSE, SIZE),
                               atol=1e-5)


def test_hips_centre_every_frame_and_the_median_torso_is_one(squat):
    poses = normalise(squat.joints, BLAZEPOSE, SIZE, mirror=False)
    hips = poses[:, [BLAZEPOSE.index("left_hip"), BLAZEPOSE.index("right_hip")]].mean(axis=1)
    seen = np.isfinite(hips).all(axis=1)
    np.testing.assert_allclose(hips[seen], 0.0, atol=1e-6)
    shoulders = poses[:, [BLAZEPOSE.index("left_shoulder"), BLAZEPOSE.index("right_shoulder")]].mean(axis=1)
    torso = np.linalg.norm(shoulders, axis=-1)
    assert np.nanmedian(torso) == pytest.approx(1.0, abs=1e-5)


def test_the_frame_size_is_corrected_for(squat):
    """One movement filmed landscape and portrait: the same poses once frame sizes are given."""
    in_heights = aspect_correct(squat.joints, *SIZE)  # x, y in frame heights
    portrait = in_heights.copy()
    portrait[..., 0] *= 640 / 360  # x as a fraction of a 360x640 frame's width
    landscape_poses = normalise(squat.joints, BLAZEPOSE, SIZE)
    np.testing.assert_allclose(normalise(portrait, BLAZEPOSE, (360, 640)), landscape_poses, atol=1e-5)
    assert not np.allclose(normalise(portrait, BLAZEPOSE), landscape_poses, atol=1e-2, equal_nan=True)


def test_a_mirror_image_faces_the_same_side(push_up):
    mirrored = push_up.joints[:, list(BLAZEPOSE.mirror_index)].copy()  # a mirror swaps the sides
    mirrored[..., 0] = 1.0 - mirrored[..., 0]
    original = normalise(push_up.joints, BLAZEPOSE, SIZE)
    np.testing.assert_allclose(normalise(mirrored, BLAZEPOSE, SIZE), original, atol=1e-5)
    assert np.nanmedian(original[:, BLAZEPOSE.index("nose"), 0]) > 0  # faces +x
    unmirrored = normalise(mirrored, BLAZEPOSE, SIZE, mirror=False)
    assert np.nanmedian(unmirrored[:, BLAZEPOSE.index("nose"), 0]) < 0


def test_mirror_pairs_are_found_by_name():
    for name in ("blazepose33", "coco17", "openpose18", "penn13", "ntu25"):
        layout = get_layout(name)
        swap = np.asarray(layout.mirror_index)
        assert (swap[swap] == np.arange(layout.num_joints)).all()
        for index, joint in enumerate(layout.joint_names):
            partner = layout.joint_names[swap[index]]
            expected = joint.replace("left", "\0").replace("right", "left").replace("\0", "right")
            assert partner == (expected if expected in layout.joint_names else joint)
    blazepose = get_layout("blazepose33")  # names with the side last are pairs too
    assert blazepose.joint_names[blazepose.mirror_index[blazepose.index("mouth_left")]] == "mouth_right"


def test_unseen_joints_and_frames_without_hips_come_out_nan(squat):
    joints = squat.joints.copy()
    joints[3, BLAZEPOSE.index("left_wrist"), 3] = 0.0          # visibility 0: not seen
    joints[4, BLAZEPOSE.index("left_hip"), :2] = np.nan        # no hip centre in frame 4
    joints[5, BLAZEPOSE.index("right_knee"), 3] = 0.3
    poses = normalise(joints, BLAZEPOSE, SIZE, mirror=False)
    wrist, knee = BLAZEPOSE.index("left_wrist"), BLAZEPOSE.index("right_knee")
    assert np.isnan(poses[3, wrist]).all()
    assert np.isfinite(np.delete(poses[3], wrist, axis=0)).all()
    assert np.isnan(poses[4]).all()
    assert np.isfinite(poses[5]).all()  # visibility 0.3 is still seen by default
    strict = normalise(joints, BLAZEPOSE, SIZE, mirror=False, min_visibility=0.5)
    assert np.isnan(strict[5, knee]).all() and np.isfinite(np.delete(strict[5], knee, axis=0)).all()


@pytest.mark.parametrize("layout", ["coco17", "openpose18", "penn13"])
def test_other_layouts_give_the_same_body_joints(squat, layout):
    spec = get_layout(layout)
    converted = convert(squat.joints, "blazepose33", layout)
    poses, reference = normalise(converted, spec, SIZE), normalise(squat.joints, BLAZEPOSE, SIZE)
    for name in ("left_shoulder", "right_wrist", "left_knee", "right_ankle"):
        np.testing.assert_allclose(poses[:, spec.index(name)], reference[:, BLAZEPOSE.index(name)], atol=1e-5)
    assert len(body_joints(spec)) == len(BODY_JOINTS)  # penn13's head stands for the nose


def test_a_sequence_without_a_torso_is_all_nan(squat):
    joints = squat.joints.copy()
    joints[:, BLAZEPOSE.index("left_shoulder"), :2] = np.nan
    assert np.isnan(normalise(joints, BLAZEPOSE, SIZE)).all()


def test_wrong_shapes_name_the_layout(squat):
    with pytest.raises(ValueError, match="coco17"):
        normalise(squat.joints, get_layout("coco17"))
