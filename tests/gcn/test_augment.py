import numpy as np
import pytest

from posegraph.gcn.augment import evenly_spaced_crops, mirror
from posegraph.skeleton import get_layout


def test_mirror_negates_x_and_swaps_sides():
    layout = get_layout("penn13")
    data = np.random.default_rng(0).normal(size=(3, 5, layout.num_joints, 1)).astype(np.float32)
    flipped = mirror(data, layout.mirror_index)
    left, right, head = layout.index("left_wrist"), layout.index("right_wrist"), layout.index("head")
    np.testing.assert_array_equal(flipped[0, :, left], -data[0, :, right])
    np.testing.assert_array_equal(flipped[1:, :, left], data[1:, :, right])
    np.testing.assert_array_equal(flipped[0, :, head], -data[0, :, head])
    np.testing.assert_array_equal(mirror(flipped, layout.mirror_index), data)  # an involution


def test_a_missing_joint_stays_missing_when_mirrored():
    layout = get_layout("openpose18")
    data = np.ones((3, 2, 18, 1), dtype=np.float32)
    data[:, :, layout.index("left_knee")] = 0.0
    flipped = mirror(data, layout.mirror_index)
    assert (flipped[:, :, layout.index("right_knee")] == 0).all()


@pytest.mark.parametrize("name", ["blazepose33", "coco17", "openpose18", "ntu25", "penn13"])
def test_every_layout_mirrors_left_to_right(name):
    layout = get_layout(name)
    index = layout.mirror_index
    assert sorted(index) == list(range(layout.num_joints))  # a permutation
    for position, target in enumerate(index):
        assert index[target] == position
        source = layout.joint_names[position]
        if "left" in source:
            assert layout.joint_names[target] == source.replace("left", "right")


def test_crops_spread_over_a_long_clip():
    data = np.arange(100, dtype=np.float32)[None, :, None, None].repeat(3, axis=0)
    crops = evenly_spaced_crops(data, 20, 5)
    assert crops.shape == (5, 3, 20, 1, 1)
    assert [int(crop[0, 0, 0, 0]) for crop in crops] == [0, 20, 40, 60, 80]


def test_a_short_clip_is_looped_from_several_phases():
    data = np.arange(10, dtype=np.float32)[None, :, None, None]
    crops = evenly_spaced_crops(data, 24, 4)
    assert crops.shape[1:] == (1, 24, 1, 1)
    for crop in crops:
        start = int(crop[0, 0, 0, 0])
        np.testing.assert_array_equal(crop[0, :, 0, 0], (start + np.arange(24)) % 10)
    assert len(crops) == 4 and len({int(c[0, 0, 0, 0]) for c in crops}) == 4
    assert len(evenly_spaced_crops(data[:, :1], 24, 4)) == 1  # one frame: one distinct window
