"""Keypoint accuracy against known joints."""

from __future__ import annotations

import numpy as np

from .layouts import get_layout


def torso_size(joints: np.ndarray, layout: str = "blazepose33") -> np.ndarray:
    """Distance from the shoulders' midpoint to the hips' midpoint, per frame ``(T,)``."""
    spec = get_layout(layout)
    shoulders = joints[..., [spec.index("left_shoulder"), spec.index("right_shoulder")], :].mean(axis=-2)
    hips = joints[..., [spec.index("left_hip"), spec.index("right_hip")], :].mean(axis=-2)
    return np.linalg.norm(shoulders - hips, axis=-1)


def pck(estimated: np.ndarray, truth: np.ndarray, threshold: float = 0.1, layout: str = "blazepose33",
        joints: list[int] | None = None) -> float:
    """Share of joints within ``threshold`` x torso size of the truth (PCK), over frames where
    both are present. Arrays ``(T, V, 2)`` in the same (pixel) units."""
    limit = threshold * torso_size(truth, layout)
    distance = np.linalg.norm(estimated - truth, axis=-1)
    if joints is not None:
        distance = distance[:, joints]
    valid = np.isfinite(distance) & np.isfinite(limit)[:, None]
    if not valid.any():
        return float("nan")
    return float((distance[valid] < np.broadcast_to(limit[:, None], distance.shape)[valid]).mean())
