"""The graph models' input streams (joint, bone, joint motion, bone motion) from the layout's one
bone tree, in the dataset, at inference and in exports alike."""

import numpy as np
import pytest

from posegraph.gcn.model_inputs import input_stream
from posegraph.skeleton import get_layout
from posegraph.skeleton.layout import CENTRE


def joints_stream(frames: int = 4, layout: str = "penn13") -> np.ndarray:
    spec = get_layout(layout)
    rng = np.random.default_rng(0)
    data = np.zeros((3, frames, spec.num_joints, 1), np.float32)
    data[:2] = rng.uniform(0.1, 0.9, size=(2, frames, spec.num_joints, 1))
    data[2] = 1.0
    return data


def test_the_bone_tree_is_the_layout_s_and_reaches_every_joint_once():
    for name in ("blazepose33", "penn13", "openpose18"):
        spec = get_layout(name)
        children = [child for _, child in spec.bone_tree]
        assert sorted(children + list(spec.center)) == list(range(spec.num_joints))
        seen = set(spec.center)
        for parent, child in spec.bone_tree:  # parents before children
            assert parent == CENTRE or parent in seen
            seen.add(child)
        assert all(spec.bone_parents[joint] == CENTRE for joint in spec.center)


def test_bones_point_from_the_parent_and_motion_is_the_next_frame_minus_this_one():
    spec = get_layout("penn13")
    data = joints_stream()
    bone = input_stream(data, "penn13", "bone")
    parent, child = next((p, c) for p, c in spec.bone_tree if p != CENTRE)
    assert np.allclose(bone[:2, :, child], data[:2, :, child] - data[:2, :, parent])
    centre = data[:2][:, :, list(spec.center)].mean(axis=2)
    assert np.allclose(bone[:2, :, spec.center[0]], data[:2, :, spec.center[0]] - centre)
    motion = input_stream(data, "penn13", "joint_motion")
    assert np.allclose(motion[:2, :-1], data[:2, 1:] - data[:2, :-1]) and not motion[:, -1].any()
    bone_motion = input_stream(data, "penn13", "bone_motion")
    assert np.allclose(bone_motion[:2, :-1], bone[:2, 1:] - bone[:2, :-1])
    assert input_stream(data, "penn13", "joint") is data


def test_a_missing_joint_makes_its_bones_and_motions_missing_and_crops_keep_their_shape():
    spec = get_layout("penn13")
    data = joints_stream()
    parent, child = next((p, c) for p, c in spec.bone_tree if p != CENTRE)
    data[:, 1, parent] = 0.0  # missing in frame 1: zero with confidence zero
    bone = input_stream(data, "penn13", "bone")
    assert not bone[:, 1, child].any() and not bone[:, 1, parent].any() and bone[2, 0, child] == 1.0
    motion = input_stream(data, "penn13", "joint_motion")
    assert not motion[:, 0, parent].any() and not motion[:, 1, parent].any()
    crops = np.stack([data, data[:, ::-1]])
    assert np.allclose(input_stream(crops, "penn13", "bone")[0], bone)
    with pytest.raises(ValueError, match="choose from joint, bone"):
        input_stream(data, "penn13", "bones")


def test_the_dataset_feeds_the_stream_the_config_names(synthetic_store):
    from posegraph.gcn.dataset import SkeletonDataset, VideoItem

    row = synthetic_store.videos().to_pylist()[0]
    items = [VideoItem(row["video_id"], row["layout"], 0, row["width"], row["height"])]
    joint = SkeletonDataset(synthetic_store, items, "blazepose33", clip_frames=16, test_crops=2)
    bone = SkeletonDataset(synthetic_store, items, "blazepose33", clip_frames=16, test_crops=2, stream="bone_motion")
    assert np.allclose(bone[0][0].numpy(), input_stream(joint[0][0].numpy(), "blazepose33", "bone_motion"))
    trained = SkeletonDataset(synthetic_store, items, "blazepose33", train=True, clip_frames=16, stream="bone")
    assert trained[0][0].shape == (3, 16, 33, 1)
