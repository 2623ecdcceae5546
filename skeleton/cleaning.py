"""Cleaning extracted skeletons: low-visibility frames, short gaps, and per-video quality.

- A frame counts as detected only if the extractor found a person *and* the mean joint
  visibility is at least ``visibility_threshold`` (default 0.6). Other frames are emptied (NaN).
- Interior gaps of at most ``max_gap`` frames (default 8) are filled by linear interpolation
  of every channel between the detected frames around them, and marked as interpolated;
  longer gaps, and gaps at the start or end, stay empty.
- A video whose detection rate is below ``min_detection_rate`` (default 30%) is ``rejected``
  with the reason; its frames are still stored for inspection.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CleaningSettings:
    visibility_threshold: float = 0.6
    max_gap: int = 8
    min_detection_rate: float = 0.3


@dataclass(frozen=True)
class CleanedSkeleton:
    """Shapes: joints ``(T, V, 4)``, detected ``(T,)``, interpolated ``(T, V)``."""

    joints: np.ndarray
    detected: np.ndarray
    interpolated: np.ndarray
    detection_rate: float
    mean_visibility: float


def _gaps(detected: np.ndarray) -> list[tuple[int, int]]:
    """Interior runs of undetected frames as ``(first, end)`` (end exclusive)."""
    runs, start = [], None
    for position, seen in enumerate(detected):
        if not seen and start is None:
            start = position
        elif seen and start is not None:
            if start > 0:
                runs.append((start, position))
            start = None
    return runs


def clean(joints: np.ndarray, found: np.ndarray, settings: CleaningSettings = CleaningSettings()) -> CleanedSkeleton:
    """Apply the visibility threshold and gap filling to ``joints (T, V, 4)``."""
    joints = np.array(joints, dtype=np.float32, copy=True)
    frame_count, joint_count, _ = joints.shape
    with warnings.catch_warnings():  # frames where every joint is NaN have no mean: that is fine
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_visibility = np.nanmean(joints[..., 3], axis=1) if joint_count else np.zeros(frame_count)
    detected = np.asarray(found, dtype=bool) & (np.nan_to_num(mean_visibility, nan=0.0) >= settings.visibility_threshold)
    joints[~detected] = np.nan
    interpolated = np.zeros((frame_count, joint_count), dtype=bool)
    for first, end in _gaps(detected):
        if end - first > settings.max_gap:
            continue
        before, after = joints[first - 1], joints[end]
        weights = (np.arange(first, end) - (first - 1)) / (end - (first - 1))
        joints[first:end] = before + weights[:, None, None] * (after - before)
        interpolated[first:end] = True
    detection_rate = float(detected.mean()) if frame_count else 0.0
    visible = joints[detected][..., 3]
    return CleanedSkeleton(joints, detected, interpolated, detection_rate,
                           float(visible.mean()) if visible.size else 0.0)


def status_of(cleaned: CleanedSkeleton, settings: CleaningSettings = CleaningSettings()) -> tuple[str, str | None]:
    """``("ok", None)`` or ``("rejected", reason)``."""
    if cleaned.detection_rate < settings.min_detection_rate:
        return "rejected", (f"person detected in {cleaned.detection_rate:.0%} of frames, below the "
                            f"minimum of {settings.min_detection_rate:.0%}")
    return "ok", None
