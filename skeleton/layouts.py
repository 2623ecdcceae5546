"""The registered layouts: BlazePose-33, COCO-17, OpenPose-18 (Kinetics-Skeleton), NTU-25, Penn-13."""

from __future__ import annotations

from .layout import Layout

_BLAZEPOSE_JOINTS = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)

# Exactly mediapipe.solutions.pose.POSE_CONNECTIONS (35 bones). As in MediaPipe, the face
# (joints 0-8) and the mouth pair (9-10) are not connected to the body.
_BLAZEPOSE_EDGES = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)

BLAZEPOSE33 = Layout(
    name="blazepose33",
    joint_names=_BLAZEPOSE_JOINTS,
    edges=_BLAZEPOSE_EDGES,
    center=(11, 12),  # the shoulders: their midpoint is OpenPose's neck
)

# HRNet / COCO keypoint order.
COCO17 = Layout(
    name="coco17",
    joint_names=(
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
        "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
        "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    edges=(
        (15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6), (9, 7), (7, 5),
        (10, 8), (8, 6), (5, 0), (6, 0), (1, 0), (3, 1), (2, 0), (4, 2),
    ),
    center=(0,),
)

# Kinetics-Skeleton (OpenPose COCO-18) order, as in the ST-GCN reference graph.
OPENPOSE18 = Layout(
    name="openpose18",
    joint_names=(
        "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
        "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip",
        "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear",
    ),
    edges=(
        (4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9), (9, 8), (11, 5),
        (8, 2), (5, 1), (2, 1), (0, 1), (15, 0), (14, 0), (17, 15), (16, 14),
    ),
    center=(1,),
)

# NTU RGB+D (Kinect v2) order; edges are the reference's 1-based list minus one.
NTU25 = Layout(
    name="ntu25",
    joint_names=(
        "spine_base", "spine_mid", "neck", "head", "left_shoulder", "left_elbow", "left_wrist",
        "left_hand", "right_shoulder", "right_elbow", "right_wrist", "right_hand", "left_hip",
        "left_knee", "left_ankle", "left_foot", "right_hip", "right_knee", "right_ankle",
        "right_foot", "spine_shoulder", "left_hand_tip", "left_thumb", "right_hand_tip",
        "right_thumb",
    ),
    edges=tuple(
        (first - 1, second - 1)
        for first, second in (
            (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21),
            (10, 9), (11, 10), (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1),
            (18, 17), (19, 18), (20, 19), (22, 23), (23, 8), (24, 25), (25, 12),
        )
    ),
    center=(20,),
)

# Penn Action's annotation order (human-labelled, no face, hand or foot points). The head joins
# both shoulders, as the nose does in COCO-17; shoulders and hips close the torso as in BlazePose.
PENN13 = Layout(
    name="penn13",
    joint_names=(
        "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
        "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
        "right_ankle",
    ),
    edges=(
        (0, 1), (0, 2), (1, 2), (1, 3), (3, 5), (2, 4), (4, 6),
        (1, 7), (2, 8), (7, 8), (7, 9), (9, 11), (8, 10), (10, 12),
    ),
    center=(1, 2),  # the shoulders, as in blazepose33: their midpoint is OpenPose's neck
)

LAYOUTS: dict[str, Layout] = {
    layout.name: layout for layout in (BLAZEPOSE33, COCO17, OPENPOSE18, NTU25, PENN13)
}


def get_layout(name: str) -> Layout:
    """The registered layout called ``name``."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KeyError(
            f"unknown skeleton layout {name!r}; known layouts: {', '.join(sorted(LAYOUTS))}"
        ) from None
