"""The augmentations that make one skeleton source look like another, and the joint-presence input."""

import numpy as np
import pytest
from posegraph.gcn.config import config_from_dict, load_config
from posegraph.gcn.preprocess import as_present, prepare
from posegraph.gcn.source_variation import (
    SourceVariation,
    bone_tree,
    change_speed,
    drop_joints,
    jitter,
    miss_frames,
    symmetric_scales,
    vary_bones,
    vary_channels,
    vary_source,
    vary_view,
)
from posegraph.skeleton import get_layout
from posegraph.skeleton.geometry import mirror_image
from posegraph.skeleton.source import SkeletonSource


def body(frames: int = 40, layout: str = "penn13", seed: int = 0) -> np.ndarray:
    """``(T, V, 4)`` a wobbling random body: x, y around the origin, z 0, visibility 1."""
    random = np.random.default_rng(seed)
    rest = random.normal(0, 1, (get_layout(layout).num_joints, 2))
    wobble = 0.1 * np.sin(np.linspace(0, 6, frames))[:, None, None]
    xy = rest[None] + wobble
    return np.concatenate([xy, np.zeros((frames, len(rest), 1)), np.ones((frames, len(rest), 1))], -1).astype(np.float32)


def lengths(joints: np.ndarray, layout: str) -> np.ndarray:
    """``(T, bones)`` lengths of the layout's bones."""
    edges = np.array(get_layout(layout).edges)
    return np.linalg.norm(joints[:, edges[:, 0], :2] - joints[:, edges[:, 1], :2], axis=-1)


def test_a_mirrored_sample_swaps_left_and_right_joints_by_name():
    layout = get_layout("blazepose33")
    joints = body(layout="blazepose33")
    flipped = mirror_image(joints, layout.mirror_index)
    for name in ("wrist", "knee", "eye_outer", "heel"):
        left, right = layout.index(f"left_{name}"), layout.index(f"right_{name}")
        np.testing.assert_array_equal(flipped[:, left, 0], -joints[:, right, 0])
        np.testing.assert_array_equal(flipped[:, left, 1:], joints[:, right, 1:])
    nose = layout.index("nose")
    np.testing.assert_array_equal(flipped[:, nose, 0], -joints[:, nose, 0])
    np.testing.assert_array_equal(mirror_image(flipped, layout.mirror_index), joints)


@pytest.mark.parametrize("angle", [-15.0, 7.5, 90.0])
def test_a_rotation_keeps_every_bone_length(angle):
    joints = body()
    rotated = vary_view(joints, angle_deg=angle)
    np.testing.assert_allclose(lengths(rotated, "penn13"), lengths(joints, "penn13"), rtol=1e-5)
    assert not np.allclose(rotated[..., :2], joints[..., :2])
    np.testing.assert_array_equal(rotated[..., 2:], joints[..., 2:])  # z and visibility carried


def test_shear_aspect_and_perspective_change_the_shape_and_keep_missing_joints_missing():
    joints = body()
    joints[3:5, 2] = np.nan
    for change in ({"shear": 0.2}, {"aspect": (0.85, 1.15)}, {"perspective": (0.06, -0.06)}):
        varied = vary_view(joints, **change)
        assert not np.allclose(lengths(varied, "penn13")[0], lengths(joints, "penn13")[0])
        assert np.isnan(varied[3:5, 2, :2]).all() and np.isfinite(np.delete(varied, 2, axis=1)).all()


@pytest.mark.parametrize("layout", ["penn13", "openpose18", "blazepose33", "coco17"])
def test_bone_scaling_scales_each_tree_bone_by_its_factor_and_reaches_every_joint(layout):
    joints = body(layout=layout)
    scales = symmetric_scales(layout, 0.15, np.random.default_rng(3))
    varied = vary_bones(joints, layout, scales)
    tree = bone_tree(layout)
    assert {child for _, child in tree} | set(get_layout(layout).center) == set(range(get_layout(layout).num_joints))
    middle = joints[:, list(get_layout(layout).center), :2].mean(axis=1)
    for parent, child in tree:
        anchor, moved_anchor = (middle, middle) if parent < 0 else (joints[:, parent, :2], varied[:, parent, :2])
        before = np.linalg.norm(joints[:, child, :2] - anchor, axis=-1)
        after = np.linalg.norm(varied[:, child, :2] - moved_anchor, axis=-1)
        np.testing.assert_allclose(after, scales[child] * before, rtol=1e-4)
    mirror = get_layout(layout).mirror_index
    np.testing.assert_array_equal(scales, scales[list(mirror)])  # a left bone as long as its right twin
    assert (scales >= 0.85).all() and (scales <= 1.15).all() and np.ptp(scales) > 0


def test_a_child_whose_parent_is_missing_stays_where_it_was():
    layout = get_layout("penn13")
    joints = body()
    elbow, wrist = layout.index("left_elbow"), layout.index("left_wrist")
    joints[5, elbow] = np.nan
    varied = vary_bones(joints, "penn13", np.full(layout.num_joints, 1.2, np.float32))
    np.testing.assert_array_equal(varied[5, wrist, :2], joints[5, wrist, :2])
    assert not np.allclose(varied[6, wrist, :2], joints[6, wrist, :2])


def test_speed_changes_the_length_and_keeps_the_path():
    joints = body(60)
    faster = change_speed(joints, 1.5)
    assert len(faster) == 40
    np.testing.assert_allclose(faster[0], joints[0])
    np.testing.assert_allclose(faster[-1], joints[-1])
    np.testing.assert_allclose(change_speed(joints, 1.0), joints)
    assert len(change_speed(joints, 0.5)) == 120


def test_missed_frames_are_filled_as_extraction_fills_them():
    joints = body(200)
    missed = miss_frames(joints, 0.2, np.random.default_rng(1))
    # every gap is at most 12 frames and the default max gap is 8: only gaps of 9-12 frames (and
    # gaps at either end) stay empty; filled frames lie on the straight line between their neighbours
    empty = np.isnan(missed[:, 0, 0])
    changed = ~empty & ~np.isclose(missed[:, 0, 0], joints[:, 0, 0], atol=1e-6)
    assert changed.any()
    assert empty.mean() < 0.2
    for frame in np.flatnonzero(changed):
        assert np.isfinite(missed[frame]).all()


def test_dropped_joints_are_missing_in_every_frame_and_the_others_untouched():
    joints = body()
    dropped = drop_joints(joints, 0.5, np.random.default_rng(2))
    gone = np.isnan(dropped[:, :, 0]).all(axis=0)
    assert 0 < gone.sum() < joints.shape[1]
    assert np.isnan(dropped[:, gone]).all()
    np.testing.assert_array_equal(dropped[:, ~gone], joints[:, ~gone])


def test_jitter_has_the_asked_spread_and_keeps_missing_joints_missing():
    joints = body(400)
    joints[:, 0] = np.nan
    noisy = jitter(joints, 0.02, np.random.default_rng(4))
    assert np.isnan(noisy[:, 0]).all()
    assert abs(np.nanstd(noisy[:, 1:, :2] - joints[:, 1:, :2]) - 0.02) < 0.002


def test_vary_source_is_reproducible_and_keeps_an_absent_person_absent():
    joints = body(50)
    first = vary_source(joints, "penn13", np.random.default_rng(7))
    second = vary_source(joints, "penn13", np.random.default_rng(7))
    np.testing.assert_array_equal(first, second)
    assert first.shape[1:] == joints.shape[1:]
    nobody = np.full_like(joints, np.nan)
    assert np.isnan(vary_source(nobody, "penn13", np.random.default_rng(7), SourceVariation(probability=1.0))).all()


def test_vary_channels_keeps_the_channel_layout_and_missing_joints_at_zero():
    data = np.zeros((3, 30, 13, 2), dtype=np.float32)  # the second person is absent
    data[:2, :, :, 0] = np.transpose(body(30)[..., :2], (2, 0, 1))
    data[2, :, :, 0] = 1.0
    data[:, :, 4, 0] = 0.0  # one joint never seen
    varied = vary_channels(data, "penn13", np.random.default_rng(0), SourceVariation(probability=1.0))
    assert varied.shape[0] == 3 and varied.shape[2:] == (13, 2)
    assert (varied[:, :, :, 1] == 0).all() and (varied[:, :, 4, 0] == 0).all()
    assert np.isfinite(varied).all()


def test_presence_keeps_annotated_occluded_joints_and_drops_openpose_zeros():
    people = np.ones((1, 3, 4, 4), dtype=np.float32) * 0.5
    people[0, 0, 0, 3] = 0.0  # Penn Action: annotated, occluded
    people[0, 1, 1] = [0.0, 0.0, np.nan, 0.0]  # OpenPose: not detected
    people[0, 2, 2] = np.nan  # nobody
    present = as_present(people)
    assert present[0, 0, 0, 3] == 1.0 and present[0, 0, 0, 0] == 0.5
    assert np.isnan(present[0, 1, 1]).all() and np.isnan(present[0, 2, 2]).all()
    assert (present[0, 0, 1:, 3] == 1.0).all()


def test_prepare_reads_confidence_as_asked():
    joints = np.tile(body(10)[None], (1, 1, 1, 1))
    joints[0, :, 2, 3] = 0.0  # visibility 0 with coordinates
    sequence = SkeletonSource.from_people(joints, "penn13", np.arange(10) / 16.0)
    assert np.isfinite(prepare(sequence, "penn13", None, "presence")[0, :, 2, :2]).all()
    assert np.isnan(prepare(sequence, "penn13", None, "score")[0, :, 2, :2]).all()
    with pytest.raises(ValueError, match="joint confidence 'visible'"):
        prepare(sequence, "penn13", None, "visible")


def test_new_runs_read_presence_and_vary_the_source_and_older_runs_keep_what_they_were_trained_with():
    config = load_config(None, [], model="bilstm")
    assert config.joint_confidence == "presence" and config.vary_source and config.augment
    older = config_from_dict({"model": "stgcn", "augment": True})
    assert older.joint_confidence == "score" and not older.vary_source
    assert config_from_dict(config.to_dict()).joint_confidence == "presence"
    with pytest.raises(ValueError, match="joint_confidence='visibility': choose from presence, score"):
        load_config(None, ["joint_confidence=visibility"], model="stgcn")
