"""Augmentations for training, driven by an explicit random generator (resumable runs).

- :func:`random_crop`: a random window of ``length`` frames (padded by looping when shorter).
- :func:`camera_motion`: simulated camera movement as in the reference feeder
  (``random_move``): rotation, scale and translation that change smoothly over time,
  interpolated between a few random key frames.
- :func:`mirror`: the left-right mirror image (x negated, left and right joints swapped), so a
  movement filmed from the other side or done with the other arm looks as it would.
- :func:`evenly_spaced_crops`: the evaluation counterpart of :func:`random_crop`, several windows
  spread over the clip whose scores are averaged (test-time averaging).
"""

from __future__ import annotations

import functools

import numpy as np

from posegraph.skeleton.geometry import mirror_image

ANGLES_DEG = (-10.0, -5.0, 0.0, 5.0, 10.0)
SCALES = (0.9, 1.0, 1.1)
TRANSLATIONS = (-0.2, -0.1, 0.0, 0.1, 0.2)
KEY_FRAME_STEP = 30
# Arrays of the choices above, drawn by index: Generator.choice on a tuple converts it on every
# call and was 31% of a training batch's preparation (profiled, 64 clips of 300 frames).
_ANGLES = np.radians(np.array(ANGLES_DEG))
_SCALES = np.array(SCALES)
_TRANSLATIONS = np.array(TRANSLATIONS)
_CHOICE_COUNTS = np.array([len(_ANGLES), len(_SCALES), len(_TRANSLATIONS), len(_TRANSLATIONS)])


def random_crop(data: np.ndarray, length: int, random: np.random.Generator) -> np.ndarray:
    """``(C, T, V, M)`` -> ``(C, length, V, M)``: a random window, looped if the clip is short."""
    frames = data.shape[1]
    if frames >= length:
        start = int(random.integers(0, frames - length + 1))
        return data[:, start:start + length]
    return looped(data, length)[:, :length]


def looped(data: np.ndarray, length: int) -> np.ndarray:
    """``(C, T, V, M)`` repeated along time until it has at least ``length`` frames."""
    repeats = int(np.ceil(length / max(data.shape[1], 1)))
    return np.concatenate([data] * repeats, axis=1) if repeats > 1 else data


def mirror(data: np.ndarray, mirror_index: tuple[int, ...]) -> np.ndarray:
    """:func:`~posegraph.skeleton.geometry.mirror_image` of model channels: x (channel 0,
    centred on the body) negated, joints swapped by ``mirror_index``.
    Shapes: ``(..., C, T, V, M)`` kept (one sample, or a batch)."""
    return mirror_image(data, mirror_index, joint_axis=-2, x_axis=-4)


def evenly_spaced_crops(data: np.ndarray, length: int, count: int) -> np.ndarray:
    """``(C, T, V, M)`` -> ``(K, C, length, V, M)``: up to ``count`` windows spread evenly over the clip.

    A clip shorter than ``length`` is looped, starting at evenly spaced frames (each window then holds
    the whole clip, at different phases); identical windows are kept once.
    """
    frames = max(data.shape[1], 1)
    last_start = frames - length if frames >= length else frames - 1
    starts = sorted({int(round(start)) for start in np.linspace(0, last_start, max(count, 1))})
    source = looped(data, length + frames - 1) if frames < length else data
    return np.stack([source[:, start:start + length] for start in starts])


def camera_motion(data: np.ndarray, random: np.random.Generator) -> np.ndarray:
    """Smoothly varying rotation / scale / translation of x, y. Shapes: ``(C, T, V, M)`` kept."""
    return apply_camera(data, camera_path(data.shape[1], random))


def camera_path(frames: int, random: np.random.Generator) -> np.ndarray:
    """The camera's rotation (radians), scale and x, y shift per frame, interpolated between
    random key frames every :data:`KEY_FRAME_STEP` frames. Shapes: ``(4, frames)`` float32."""
    weights = _key_frame_weights(frames)
    choices = random.integers(0, _CHOICE_COUNTS, size=(weights.shape[0], 4))
    keys = np.stack([_ANGLES[choices[:, 0]], _SCALES[choices[:, 1]],
                     _TRANSLATIONS[choices[:, 2]], _TRANSLATIONS[choices[:, 3]]])
    return keys @ weights


@functools.lru_cache(maxsize=64)
def _key_frame_weights(frames: int) -> np.ndarray:
    """Linear interpolation between the key frames as one matrix (one product instead of four
    ``np.interp`` calls per sample). Shapes: ``(key frames, frames)`` float32, read-only."""
    keys = np.append(np.arange(0, frames, KEY_FRAME_STEP), frames)
    weights = np.stack([np.interp(np.arange(frames), keys, np.eye(len(keys))[row]) for row in range(len(keys))])
    weights = weights.astype(np.float32)
    weights.setflags(write=False)
    return weights


def apply_camera(data: np.ndarray, path: np.ndarray) -> np.ndarray:
    """Move x, y along ``path`` (:func:`camera_path`); missing joints stay 0.

    Shapes: ``data (..., C, T, V, M)`` kept, ``path (..., 4, T)`` (one path per sample of a batch)."""
    channels = data.shape[-4]
    moved = np.array(data, dtype=np.float32)
    x, y = moved[..., 0, :, :, :].copy(), moved[..., 1, :, :, :].copy()
    path = path.astype(np.float32, copy=False)
    angle, scale = path[..., 0, :, None, None], path[..., 1, :, None, None]
    shift_x, shift_y = path[..., 2, :, None, None], path[..., 3, :, None, None]
    # float32 and in place: the float64 version with np.where was 37% of a batch's preparation
    # (profiled, 64 clips of 300 frames).
    cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
    new_x, new_y = moved[..., 0, :, :, :], moved[..., 1, :, :, :]
    np.multiply(cos, x, out=new_x)
    new_x -= sin * y
    new_x += shift_x
    np.multiply(sin, x, out=new_y)
    new_y += cos * y
    new_y += shift_y
    if channels > 2:
        absent = data[..., 2, :, :, :] <= 0
        new_x[absent] = 0.0
        new_y[absent] = 0.0
    return moved
