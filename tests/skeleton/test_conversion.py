import numpy as np
import pytest

from posegraph.skeleton import conversions, convert, get_layout


def coded_points(layout_name: str, channels: int = 4, leading: tuple = ()) -> np.ndarray:
    """Joint j gets x = j, y = 100 + j, z = -j, confidence = (j + 1) / 100."""
    count = get_layout(layout_name).num_joints
    joints = np.arange(count, dtype=np.float32)
    values = np.stack([joints, 100 + joints, -joints, (joints + 1) / 100][:channels - 1]
                      + [(joints + 1) / 100], axis=-1)
    return np.broadcast_to(values, leading + values.shape).copy()


def expected_by_name(source: str, target: str, name: str, values: np.ndarray) -> np.ndarray:
    return values[..., get_layout(source).index(name), :]


@pytest.mark.parametrize("source, target", conversions())
def test_named_joints_are_copied(source, target):
    values = coded_points(source)
    converted = convert(values, source, target)
    target_layout = get_layout(target)
    assert converted.shape == (target_layout.num_joints, 4)
    for index, name in enumerate(target_layout.joint_names):
        if name in get_layout(source).joint_names:
            np.testing.assert_array_equal(converted[index], expected_by_name(source, target, name, values))


@pytest.mark.parametrize("source", ["blazepose33", "coco17", "penn13"])
def test_neck_is_shoulder_midpoint_with_the_lower_confidence(source):
    values = coded_points(source)
    layout = get_layout(source)
    left, right = layout.index("left_shoulder"), layout.index("right_shoulder")
    values[left] = [0.2, 0.4, 0.0, 0.9]
    values[right] = [0.6, 0.5, 1.0, 0.3]
    neck = convert(values, source, "openpose18")[get_layout("openpose18").index("neck")]
    np.testing.assert_allclose(neck, [0.4, 0.45, 0.5, 0.3])


def test_whole_sequences_and_batches_convert():
    batch = coded_points("blazepose33", leading=(2, 7))  # (N, T, V, C)
    converted = convert(batch, "blazepose33", "openpose18")
    assert converted.shape == (2, 7, 18, 4)
    np.testing.assert_array_equal(converted[1, 3], convert(batch[1, 3], "blazepose33", "openpose18"))


def test_three_channel_arrays_keep_the_last_channel_as_confidence():
    values = coded_points("coco17", channels=3)
    converted = convert(values, "coco17", "openpose18")
    assert converted.shape == (18, 3)
    np.testing.assert_allclose(converted[1, 2], min(values[5, 2], values[6, 2]))


def test_blazepose_via_coco_equals_direct_conversion():
    values = np.random.default_rng(0).random((5, 33, 4))
    via_coco = convert(convert(values, "blazepose33", "coco17"), "coco17", "openpose18")
    np.testing.assert_allclose(via_coco, convert(values, "blazepose33", "openpose18"))


@pytest.mark.parametrize("target, absent", [
    ("openpose18", ("right_eye", "left_eye", "right_ear", "left_ear")),
    ("coco17", ("left_eye", "right_eye", "left_ear", "right_ear")),
])
def test_penn_head_becomes_the_nose_and_the_face_is_missing(target, absent):
    values = coded_points("penn13", leading=(3,))  # (T, 13, 4)
    converted = convert(values, "penn13", target)
    layout = get_layout(target)
    assert converted.shape == (3, layout.num_joints, 4)
    np.testing.assert_array_equal(converted[:, layout.index("nose")], values[:, 0])  # the head
    for name in absent:
        assert np.isnan(converted[:, layout.index(name), :3]).all()
        assert (converted[:, layout.index(name), 3] == 0).all()
    present = [index for index, name in enumerate(layout.joint_names) if name not in absent]
    assert np.isfinite(converted[:, present]).all()
    bare = convert(values[..., :2], "penn13", target, confidence_channel=None)
    assert np.isnan(bare[:, layout.index(absent[0])]).all()


@pytest.mark.parametrize("source", ["blazepose33", "coco17"])
def test_nose_stands_for_the_penn_head(source):
    values = coded_points(source, leading=(2,))
    converted = convert(values, source, "penn13")
    assert converted.shape == (2, 13, 4)
    np.testing.assert_array_equal(converted[:, 0], values[:, get_layout(source).index("nose")])
    assert np.isfinite(converted).all()


def test_blazepose_via_coco_to_penn_equals_direct_conversion():
    values = np.random.default_rng(1).random((4, 33, 4))
    via_coco = convert(convert(values, "blazepose33", "coco17"), "coco17", "penn13")
    np.testing.assert_allclose(via_coco, convert(values, "blazepose33", "penn13"))


def test_wrong_joint_count_and_unknown_pairs_are_explained():
    with pytest.raises(ValueError, match=r"expected an array \(\.\.\., 33, C\)"):
        convert(np.zeros((10, 18, 3)), "blazepose33", "openpose18")
    with pytest.raises(ValueError, match="no conversion from 'openpose18' to 'blazepose33'"):
        convert(np.zeros((18, 3)), "openpose18", "blazepose33")


def test_same_layout_is_a_copy():
    values = coded_points("ntu25")
    converted = convert(values, "ntu25", "ntu25")
    converted[0, 0] = 99
    assert values[0, 0] == 0
