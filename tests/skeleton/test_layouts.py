import numpy as np
import pytest

from posegraph.skeleton import LAYOUTS, Layout, get_layout


def components(layout: Layout) -> int:
    parent = list(range(layout.num_joints))

    def find(joint: int) -> int:
        while parent[joint] != joint:
            joint = parent[joint]
        return joint

    for first, second in layout.edges:
        parent[find(first)] = find(second)
    return len({find(joint) for joint in range(layout.num_joints)})


@pytest.mark.parametrize("name, joints, edges", [
    ("blazepose33", 33, 35), ("coco17", 17, 16), ("openpose18", 18, 17), ("ntu25", 25, 24),
    ("penn13", 13, 14),
])
def test_joint_and_edge_counts(name, joints, edges):
    layout = get_layout(name)
    assert (layout.name, layout.num_joints, len(layout.edges)) == (name, joints, edges)
    assert len({tuple(sorted(edge)) for edge in layout.edges}) == edges  # no duplicate bones


@pytest.mark.parametrize("name", ["coco17", "openpose18", "ntu25", "penn13"])
def test_trees_are_connected(name):
    assert components(get_layout(name)) == 1


def test_blazepose_has_mediapipes_three_components():
    """MediaPipe's connections leave the face (0-8) and the mouth (9-10) apart from the body."""
    layout = get_layout("blazepose33")
    assert components(layout) == 3
    assert (9, 10) in layout.edges
    face_to_body = [edge for edge in layout.edges if min(edge) <= 10 < max(edge)]
    assert face_to_body == []


def test_blazepose_edges_are_mediapipe_pose_connections():
    pose = pytest.importorskip("mediapipe.python.solutions.pose",
                               reason="mediapipe not installed")
    expected = {tuple(sorted(edge)) for edge in pose.POSE_CONNECTIONS}
    assert {tuple(sorted(edge)) for edge in get_layout("blazepose33").edges} == expected
    names = [landmark.name.lower() for landmark in pose.PoseLandmark]
    assert list(get_layout("blazepose33").joint_names) == names


def test_openpose18_is_the_kinetics_skeleton_order():
    assert get_layout("openpose18").joint_names == (
        "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
        "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip",
        "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear")
    assert get_layout("openpose18").center == (1,)


def test_coco17_is_hrnet_output_order():
    names = get_layout("coco17").joint_names
    assert names[:5] == ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
    assert names[-2:] == ("left_ankle", "right_ankle")


def test_penn13_is_penn_actions_annotation_order():
    layout = get_layout("penn13")
    assert layout.joint_names == (
        "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
        "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
    assert [layout.joint_names[joint] for joint in layout.center] == ["left_shoulder", "right_shoulder"]
    bones = {tuple(sorted(layout.joint_names[joint] for joint in edge)) for edge in layout.edges}
    assert {("head", "left_shoulder"), ("left_hip", "right_hip"), ("left_ankle", "left_knee"),
            ("right_elbow", "right_wrist"), ("right_hip", "right_shoulder")} <= bones


def test_penn13_partitions_and_torso_size_work():
    graph = pytest.importorskip("posegraph.skeleton.graph", reason="torch not installed")
    from posegraph.skeleton.metrics import torso_size

    spatial = graph.partitions("penn13", "spatial")
    assert spatial.shape == (3, 13, 13)
    np.testing.assert_allclose(spatial.sum(dim=(0, 1)).numpy(), np.ones(13), atol=1e-6)  # columns sum to 1
    joints = np.zeros((1, 13, 2))
    joints[0, [1, 2], 1], joints[0, [7, 8], 1] = 0.2, 0.6
    np.testing.assert_allclose(torso_size(joints, "penn13"), [0.4])


def test_layouts_are_frozen_data():
    layout = get_layout("coco17")
    with pytest.raises(AttributeError):
        layout.name = "other"  # type: ignore[misc]
    assert set(LAYOUTS) == {"blazepose33", "coco17", "openpose18", "ntu25", "penn13"}


def test_unknown_layout_names_the_known_ones():
    with pytest.raises(KeyError, match="known layouts: blazepose33, coco17"):
        get_layout("kinect")


def test_bad_layout_definitions_are_refused():
    with pytest.raises(ValueError, match="bad edge"):
        Layout("broken", ("a", "b"), ((0, 2),), (0,))
    with pytest.raises(ValueError, match="not unique"):
        Layout("broken", ("a", "a"), ((0, 1),), (0,))
