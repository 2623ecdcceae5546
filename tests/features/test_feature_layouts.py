"""The same body in blazepose33, coco17, openpose18, penn13 and layouts lacking joints."""

import numpy as np
import pytest

from posegraph.features import FEATURE_NAMES, FEATURES, build_features
from posegraph.skeleton import Layout, convert, get_layout

Z_COLUMNS = np.array([spec.group == "coordinates" and spec.name.endswith("_z") for spec in FEATURES])
VISIBILITY_COLUMNS = np.array([spec.group == "visibility" for spec in FEATURES])


@pytest.fixture
def bent(standing):
    """The standing body with bent knees and one hip flexed, so every angle is defined."""
    return standing | {"left_knee": (165.0, 245.0), "right_knee": (90.0, 250.0), "right_ankle": (70.0, 295.0)}


@pytest.fixture
def moving(bent, make_joints):
    """Eight frames of ``bent`` in blazepose33 with z, the left wrist circling, random visibility."""
    joints = make_joints(bent, "blazepose33", frames=8, z={name: 0.01 * i for i, name in enumerate(bent)})
    angle = np.linspace(0, np.pi, 8)
    wrist = get_layout("blazepose33").index("left_wrist")
    joints[:, wrist, 0] += 20 * np.cos(angle)
    joints[:, wrist, 1] += 20 * np.sin(angle)
    joints[:, :, 3] = np.random.default_rng(3).uniform(0.5, 1.0, joints.shape[:2])
    return joints


@pytest.mark.parametrize("layout", ["coco17", "openpose18"])
def test_2d_layouts_agree_with_blazepose_and_mask_only_z(moving, layout, expected_mask):
    reference, reference_mask = build_features(moving, "blazepose33", fps=30)
    assert not reference_mask.any()
    joints = convert(moving, "blazepose33", layout)
    joints[..., 2] = np.nan  # 2-D extractors write z = NaN
    features, mask = build_features(joints, layout, fps=30)
    assert (mask == Z_COLUMNS).all()
    assert (mask == expected_mask(joints, layout)).all()
    np.testing.assert_allclose(features[:, ~Z_COLUMNS], reference[:, ~Z_COLUMNS], rtol=1e-5, atol=1e-5)


def test_openpose_zero_score_joint_masks_exactly_what_uses_it(moving, expected_mask):
    joints = convert(moving, "blazepose33", "openpose18")
    wrist = get_layout("openpose18").index("left_wrist")
    joints[3:6, wrist] = (0.0, 0.0, 0.0, 0.0)  # how OpenPose writes a joint it did not find
    features, mask = build_features(joints, "openpose18", fps=30)
    expected = expected_mask(joints, "openpose18")
    assert (mask == expected).all()
    assert np.isnan(features[mask]).all() and np.isfinite(features[~mask]).all()
    hit = {FEATURE_NAMES[i] for i in np.flatnonzero(mask[4] & ~mask[0])}
    assert hit == {"left_wrist_x", "left_wrist_y", "left_wrist_z", "left_elbow_angle", "forearm_convergence",
                   "left_forearm_from_vertical", "hand_separation", "hand_distance",
                   "left_shoulder_wrist_distance", "left_wrist_vx", "left_wrist_vy"}
    neighbours = {FEATURE_NAMES[i] for i in np.flatnonzero(mask[2] & ~mask[0])}
    assert neighbours == {"left_wrist_vx", "left_wrist_vy"}
    visibility = dict(zip(FEATURE_NAMES, features[4]))["visibility_left_arm"]
    assert visibility == pytest.approx(joints[4, get_layout("openpose18").index("left_elbow"), 3] / 2)


def test_penn13_uses_the_head_for_the_nose(bent, make_joints):
    coco, coco_mask = build_features(make_joints(bent, "coco17", frames=3), "coco17", fps=30)
    penn, penn_mask = build_features(make_joints(bent, "penn13", frames=3), "penn13", fps=30)
    assert (penn_mask == coco_mask).all() and (penn_mask == Z_COLUMNS).all()
    np.testing.assert_array_equal(penn[~penn_mask], coco[~coco_mask])
    assert penn[0, FEATURE_NAMES.index("nose_y")] == pytest.approx(-1.4)


def test_ntu25_and_a_layout_without_wrists(bent, make_joints):
    _, ntu_mask = build_features(make_joints(bent, "ntu25", frames=3), "ntu25", fps=30)
    assert (ntu_mask == Z_COLUMNS).all()  # head stands in for the nose
    coco = get_layout("coco17")
    keep = [i for i, name in enumerate(coco.joint_names) if not name.endswith("wrist")]
    no_wrists = Layout("coco17_no_wrists", tuple(coco.joint_names[i] for i in keep), (), (0,))
    joints = make_joints(bent, "coco17", frames=3)
    full, _ = build_features(joints, "coco17", fps=30)
    features, mask = build_features(joints[:, keep], no_wrists, fps=30)
    uses_wrist = np.array([any(j.endswith("wrist") for j in spec.joints) for spec in FEATURES])
    assert (mask == (uses_wrist | Z_COLUMNS)).all()
    np.testing.assert_array_equal(features[~mask], full[~mask])


def test_a_layout_without_visibility_masks_only_visibility(bent, make_joints, expected_mask):
    joints = make_joints(bent, "coco17", frames=4)
    joints[..., 3] = np.nan
    _, mask = build_features(joints, "coco17", fps=30)
    assert (mask == (Z_COLUMNS | VISIBILITY_COLUMNS)).all()
    assert (mask == expected_mask(joints, "coco17")).all()


def test_a_sequence_without_shoulders_has_no_scale(bent, make_joints):
    joints = make_joints(bent, "coco17", frames=4)
    joints[:, [get_layout("coco17").index(f"{side}_shoulder") for side in ("left", "right")]] = np.nan
    _, mask = build_features(joints, "coco17", fps=30)
    scaled = np.array([spec.unit.startswith("body lengths") for spec in FEATURES])
    assert mask[:, scaled].all()
    assert not mask[:, FEATURE_NAMES.index("left_knee_angle")].any()
