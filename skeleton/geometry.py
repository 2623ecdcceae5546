"""One geometry for every model and feature: aspect-correct, centred, scaled, at one frame rate.

The store keeps x and y as fractions of the frame's width and height (as extractors return
them), so the same body is stretched differently in a 1920x1080, a 340x256 and a portrait
368x640 video. Before any model or feature sees a skeleton, :func:`body_frame` does three
things, always in this order:

1. **aspect-correct units**: x is multiplied by width/height, so x and y are both measured in
   frame heights (a circle stays a circle). Unknown frame size: taken as square (factor 1).
2. **centre**: the origin moves to the mean, over the sequence, of the layout's centre joints
   of the main person (person 0) where they are seen.
3. **scale**: coordinates are divided by the main person's mean torso length (shoulders'
   midpoint to hips' midpoint) over the frames where it is seen.

Per sequence, not per frame: moving about the frame stays motion, while where the person
stands, how far from the camera, and the frame's size and shape no longer matter. z is scaled
with x and y (MediaPipe's z has roughly x's scale); visibility is kept. Missing joints stay NaN.

:func:`resample` brings a sequence to a model's frame rate by timestamps (nearest frame), so a
30 fps import and a 16 fps extraction reach a model at the same rate.
"""

from __future__ import annotations

import numpy as np

from .layouts import get_layout
from .metrics import torso_size

METHOD = "aspect-centre-torso/1"  # recorded in checkpoints with the frame rate


def aspect_correct(joints: np.ndarray, width: float | None, height: float | None) -> np.ndarray:
    """``(..., V, C)`` with x, y as fractions of the frame -> x, y in frame heights (a copy)."""
    corrected = np.array(joints, dtype=np.float32, copy=True)
    if width and height:
        corrected[..., 0] *= float(width) / float(height)
    return corrected


def mean_torso_length(joints: np.ndarray, layout: str) -> float:
    """Mean torso length of ``(T, V, C)`` over the frames where it is seen (1.0 when never)."""
    lengths = torso_size(joints[..., :2], layout)
    lengths = lengths[np.isfinite(lengths) & (lengths > 1e-6)]
    return float(lengths.mean()) if lengths.size else 1.0


def body_frame(people: np.ndarray, layout: str, width: float | None = None,
               height: float | None = None) -> np.ndarray:
    """Aspect-correct, centre and scale a sequence (see the module docstring).

    Shapes:
        people: ``(M, T, V, 4)`` or ``(T, V, 4)`` x, y, z, visibility (NaN where unseen)
        -> the same shape, float32; x, y, z in torso lengths around the centre joints.
    """
    single = np.ndim(people) == 3
    joints = aspect_correct(people[None] if single else people, width, height)
    seen = np.isfinite(joints[..., :2]).all(axis=-1)
    if joints.shape[-1] > 3:
        visibility = joints[..., 3]
        seen &= ~(np.isfinite(visibility) & (visibility <= 0))  # OpenPose writes 0,0 with score 0
    joints[..., :2] = np.where(seen[..., None], joints[..., :2], np.nan)
    main = joints[0]
    centre = main[:, list(get_layout(layout).center), :2].reshape(-1, 2)
    centre = centre[np.isfinite(centre).all(axis=1)]
    origin = centre.mean(axis=0) if len(centre) else np.zeros(2, np.float32)
    scale = mean_torso_length(main, layout)
    joints[..., :2] = (joints[..., :2] - origin) / scale
    if joints.shape[-1] > 2:
        depth = joints[..., 2]
        joints[..., 2] = (depth - np.nanmean(depth) if np.isfinite(depth).any() else depth) / scale
    return joints[0] if single else joints


def resample(joints: np.ndarray, timestamps: np.ndarray, frames_per_second: float,
             axis: int = -3) -> tuple[np.ndarray, np.ndarray]:
    """Resample along time to ``frames_per_second`` by timestamps, picking the nearest frame.

    Nearest-frame sampling keeps missing joints missing (no invented in-between poses) and is
    what extraction does when it samples a video. Shapes: ``joints`` with time on ``axis``
    (default: ``(..., T, V, C)``), ``timestamps (T,)`` seconds -> ``(..., T', V, C)``, ``(T',)``.
    """
    times = np.asarray(timestamps, dtype=np.float64)
    finite = np.isfinite(times)
    if len(times) < 2 or not finite.all() or np.any(np.diff(times) <= 0):
        return joints, times  # no usable clock: leave the sequence as it is
    wanted = times[0] + np.arange(int(np.floor((times[-1] - times[0]) * frames_per_second + 1e-6)) + 1) \
        / frames_per_second
    after = np.clip(np.searchsorted(times, wanted), 1, len(times) - 1)
    nearest = np.where(wanted - times[after - 1] <= times[after] - wanted, after - 1, after)
    return np.take(joints, nearest, axis=axis), wanted


def mirror_image(values: np.ndarray, mirror_index: tuple[int, ...] | list[int] | np.ndarray, joint_axis: int = -2,
                 x_axis: int = -1) -> np.ndarray:
    """The left-right mirror image of body-centred coordinates: x negated (x is centred on the
    body, so this flips about it), each joint swapped with its mirror (``Layout.mirror_index``:
    ``left_hip`` <-> ``right_hip``, midline joints kept). A missing joint (NaN, or 0 in model
    channels) stays missing.

    Shapes: any, kept (a copy); joints along ``joint_axis``, coordinates with x first along
    ``x_axis``: ``(T, V, C)`` with the defaults, ``(..., C, T, V, M)`` model channels with
    ``joint_axis=-2, x_axis=-4``.
    """
    flipped = np.take(values, np.asarray(mirror_index, dtype=np.int64), axis=joint_axis)  # a copy
    x = [slice(None)] * flipped.ndim
    x[x_axis] = 0
    flipped[tuple(x)] = -flipped[tuple(x)]
    return flipped
