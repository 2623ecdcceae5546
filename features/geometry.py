"""Vectorised plane geometry on ``(..., 2)`` arrays of image points (x right, y down).

Angles are in degrees, distances in the input's units. Every function propagates NaN, and an
angle involving a zero-length vector is NaN (undefined), never a silent 0.
"""

from __future__ import annotations

import numpy as np

UP = np.array([0.0, -1.0])  # vertical up in image coordinates (y grows downwards)


def midpoint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Midpoint of two point arrays ``(..., 2)``."""
    return (a + b) / 2.0


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance between two point arrays ``(..., 2)`` -> ``(...)``."""
    return np.hypot(a[..., 0] - b[..., 0], a[..., 1] - b[..., 1])


def angle_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Unsigned angle between vectors ``(..., 2)``, degrees in [0, 180]; NaN if either has length 0.

    ``atan2(|u x v|, u . v)`` is accurate near 0 and 180 degrees, where ``arccos`` is not.
    """
    u, v = np.broadcast_arrays(u, v)
    cross = u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]
    dot = u[..., 0] * v[..., 0] + u[..., 1] * v[..., 1]
    defined = (np.hypot(u[..., 0], u[..., 1]) > 0) & (np.hypot(v[..., 0], v[..., 1]) > 0)
    return np.where(defined, np.degrees(np.arctan2(np.abs(cross), dot)), np.nan)


def angle_at(a: np.ndarray, vertex: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Angle ``a - vertex - c`` at ``vertex``, degrees in [0, 180] (180 = straight)."""
    return angle_between(a - vertex, c - vertex)


def angle_from_vertical(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Angle of ``start -> end`` from vertical up: 0 pointing up, 90 sideways, 180 down."""
    return angle_between(end - start, UP)


def tilt_from_horizontal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle of the undirected line ``a - b`` from horizontal, degrees in [0, 90]."""
    dx, dy = np.abs(b[..., 0] - a[..., 0]), np.abs(b[..., 1] - a[..., 1])
    return np.where(np.hypot(dx, dy) > 0, np.degrees(np.arctan2(dy, dx)), np.nan)
