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

import numpy as np

ANGLES_DEG = (-10.0, -5.0, 0.0, 5.0, 10.0)
SCALES = (0.9, 1.0, 1.1)
TRANSLATIONS = (-0.2, -0.1, 0.0, 0.1, 0.2)
KEY_FRAME_STEP = 30


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
    """x (channel 0, centred on the body) negated, joints swapped by ``mirror_index``.
    Shapes: ``(..., C, T, V, M)`` kept (one sample, or a batch)."""
    flipped = data[..., list(mirror_index), :].copy()
    flipped[..., 0, :, :, :] = -flipped[..., 0, :, :, :]
    return flipped


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
    random key frames every :data:`KEY_FRAME_STEP` frames. Shapes: ``(4, frames)``."""
    keys = np.append(np.arange(0, frames, KEY_FRAME_STEP), frames)
    count = len(keys)
    angle = np.radians(random.choice(ANGLES_DEG, count))
    scale = random.choice(SCALES, count)
    shift_x = random.choice(TRANSLATIONS, count)
    shift_y = random.choice(TRANSLATIONS, count)
    positions = np.arange(frames)
    return np.stack([np.interp(positions, keys, values) for values in (angle, scale, shift_x, shift_y)])


def apply_camera(data: np.ndarray, path: np.ndarray) -> np.ndarray:
    """Move x, y along ``path`` (:func:`camera_path`); missing joints stay 0.

    Shapes: ``data (..., C, T, V, M)`` kept, ``path (..., 4, T)`` (one path per sample of a batch)."""
    channels = data.shape[-4]
    moved = data.copy()
    x, y = data[..., 0, :, :, :], data[..., 1, :, :, :]
    present = (data[..., 2, :, :, :] > 0) if channels > 2 else np.ones_like(x, dtype=bool)
    angle, scale = path[..., 0, :, None, None], path[..., 1, :, None, None]
    shift_x, shift_y = path[..., 2, :, None, None], path[..., 3, :, None, None]
    cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
    moved[..., 0, :, :, :] = np.where(present, cos * x - sin * y + shift_x, 0.0)
    moved[..., 1, :, :, :] = np.where(present, sin * x + cos * y + shift_y, 0.0)
    return moved.astype(np.float32)
