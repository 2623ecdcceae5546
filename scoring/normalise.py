"""Poses in one body frame for form scoring: aspect-correct, hip-centred, torso-scaled, one side.

A reference is fitted on many people filmed by many cameras, so before two poses are compared
everything that is not form is taken out, always in this order:

1. **aspect-correct units** (:func:`posegraph.skeleton.geometry.aspect_correct`): x and y are
   fractions of the frame's width and height in the store; x times width/height puts both in
   frame heights. Without a frame size the frame is taken as square.
2. **hip-centred, per frame**: the origin is the midpoint of the two hips *of that frame*, so
   walking about, and the hip drift of a squat, are not form; a frame without both hips has no
   origin and is left out (all NaN: "nobody" for scoring).
3. **scaled by torso length**: the sequence's *median* torso length (shoulders' midpoint to
   hips' midpoint, over the frames where it is seen). One number per sequence, so bending
   the trunk still changes the pose; the median ignores a few mis-detected frames; distance to
   the camera and body size no longer matter.
4. **one facing side** (``mirror=True``): a side view of someone facing left is mirrored to
   face right: x -> -x and every ``left_*`` joint swapped with its ``right_*`` namesake (found by
   name, so any layout works). The side is decided per sequence from the data: the sign of the
   median, over frames, of nose x minus hip-centre x (``head`` where the layout has no nose).
   Facing the camera this median is near 0 and its sign arbitrary, which is harmless: a frontal
   body mirrored with its sides swapped is the same body.

Only the image plane is used (x, y): z is missing in 2-D layouts and MediaPipe's z is the
noisiest coordinate. A joint is **not seen** where x or y is NaN or its visibility is finite
and <= 0 (the rule of ``posegraph.features.joints``); joints whose visibility is below
``min_visibility`` (0 by default: see ``FitOptions``) can also be treated as not seen, but the
hips and shoulders that centre and scale the body only need to be seen.
"""

from __future__ import annotations

import numpy as np

from posegraph.features.joints import FALLBACKS
from posegraph.skeleton import Layout, get_layout
from posegraph.skeleton.geometry import aspect_correct, mirror_image
from posegraph.skeleton.metrics import torso_size

# The joints that say how a body is posed: one head point, the limbs' main joints. Frame scores
# average these (hands, feet and face points are scored too, but 10 face points would outvote
# the knees); the phase clusters match poses on them.
BODY_JOINTS = (
    "nose", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
    "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)


def joint_index(layout: Layout, name: str) -> int | None:
    """Position of joint ``name`` in ``layout`` (``head`` for ``nose`` where needed), or None."""
    for candidate in (name, FALLBACKS.get(name)):
        if candidate in layout.joint_names:
            return layout.joint_names.index(candidate)
    return None


def body_joints(layout: Layout) -> np.ndarray:
    """Indices ``(J,)`` of the :data:`BODY_JOINTS` that ``layout`` has, in that order."""
    found = (joint_index(layout, name) for name in BODY_JOINTS)
    return np.array([index for index in found if index is not None], dtype=np.int64)


def seen_joints(joints: np.ndarray, min_visibility: float = 0.0) -> np.ndarray:
    """``(T, V)`` True where a joint is seen (see the module docstring).

    Shapes: ``joints (T, V, C>=2)`` -> ``(T, V)`` bool.
    """
    seen = np.isfinite(joints[..., 0]) & np.isfinite(joints[..., 1])
    if joints.shape[-1] > 3:
        visibility = joints[..., 3]
        floor = max(float(min_visibility), 0.0)
        low = (visibility <= 0) if floor <= 0 else (visibility < floor)
        seen &= ~(np.isfinite(visibility) & low)
    return seen


def facing_sign(poses: np.ndarray, layout: Layout) -> float:
    """+1 when the body faces +x (or cannot tell), -1 when it faces -x.

    Shapes: ``poses (T, V, 2)`` hip-centred -> a float. Rule: the sign of the median over
    frames of the nose's (or head's) x; hip-centred, that is nose x minus hip-centre x.
    """
    nose = joint_index(layout, "nose")
    if nose is None:
        return 1.0
    offsets = poses[:, nose, 0]
    offsets = offsets[np.isfinite(offsets)]
    return -1.0 if offsets.size and np.median(offsets) < 0 else 1.0


def normalise(joints: np.ndarray, layout: str | Layout, frame_size: tuple[float, float] | None = None,
              mirror: bool = True, min_visibility: float = 0.0) -> np.ndarray:
    """One sequence in the scoring body frame (see the module docstring).

    Args:
        joints: ``(T, V, C)`` x, y (fractions of the frame), z, visibility; NaN where unseen.
        layout: the layout (or its name) giving the joint order.
        frame_size: ``(width, height)`` of the video, for aspect-correct units; None: square.
        mirror: turn sequences that face -x to face +x (with left and right swapped).
        min_visibility: joints seen with a lower visibility come out NaN.

    Shapes:
        joints ``(T, V, C)`` -> ``(T, V, 2)`` float32 x, y in torso lengths from the frame's hip
        centre; NaN where a joint is not seen, and in whole frames without both hips.
    """
    layout = get_layout(layout) if isinstance(layout, str) else layout
    joints = np.asarray(joints)
    if joints.ndim != 3 or joints.shape[1] != layout.num_joints or joints.shape[2] < 2:
        raise ValueError(f"expected (T, {layout.num_joints}, 4) joints of layout {layout.name!r}, "
                         f"got shape {joints.shape}")
    width, height = frame_size if frame_size is not None else (None, None)
    corrected = aspect_correct(joints, width, height)
    xy = np.where(seen_joints(corrected)[..., None], corrected[..., :2], np.nan)
    hips = xy[:, [layout.index("left_hip"), layout.index("right_hip")]].mean(axis=1)
    torso = torso_size(xy, layout.name)
    torso = torso[np.isfinite(torso) & (torso > 1e-6)]
    if not torso.size:  # no frame shows a torso: nothing can be put in the body frame
        return np.full(xy.shape, np.nan, dtype=np.float32)
    poses = (xy - hips[:, None, :]) / np.median(torso)
    poses[~seen_joints(corrected, min_visibility)] = np.nan
    if mirror and facing_sign(poses, layout) < 0:
        poses = mirror_image(poses, layout.mirror_index)
    return poses.astype(np.float32)


def differing_frames(first: np.ndarray, second: np.ndarray, layout: str | Layout,
                     frame_size: tuple[float, float] | None = None, threshold: float = 0.15) -> np.ndarray:
    """``(T,)`` True where two takes of one movement (a valid execution and its faulty twin with the
    same timing and camera) differ by more than ``threshold`` torso lengths in some joint, in this
    body frame without mirroring: where a fault shows (a knee caves only near the bottom)."""
    difference = np.linalg.norm(normalise(first, layout, frame_size, False)
                                - normalise(second, layout, frame_size, False), axis=-1)
    return np.nanmax(difference, axis=1) > threshold
