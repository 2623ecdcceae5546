"""From stored frames to model input ``(C, T, V, M)``: layout mapping, centring and scaling.

Normalisation (documented because checkpoints carry it): per sequence, the origin moves to the
mean position of the layout's centre joints over all frames where they are seen, and
coordinates are divided by the mean torso size (shoulders' midpoint to hips' midpoint) over
those frames. Channels are x, y, confidence (visibility). Joints that are missing (NaN, or
confidence 0 as OpenPose writes them) become 0 in every channel, as in the reference feeders.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from posegraph.skeleton import convert, get_layout
from posegraph.skeleton.metrics import torso_size

CHANNELS = ("x", "y", "confidence")


@dataclass(frozen=True)
class Normalization:
    """How coordinates were normalised (stored in checkpoints)."""

    method: str = "center-torso"
    frames_per_second: float = 16.0

    def to_dict(self) -> dict:
        return asdict(self)


def torso_length(joints: np.ndarray, layout: str) -> float:
    """Mean torso size over the frames where it is seen (1.0 when it never is)."""
    lengths = torso_size(joints[..., :2], layout)
    lengths = lengths[np.isfinite(lengths) & (lengths > 1e-6)]
    return float(lengths.mean()) if lengths.size else 1.0


def normalize(people: np.ndarray, layout: str) -> np.ndarray:
    """``people (M, T, V, 4)`` x, y, z, visibility -> ``(C=3, T, V, M)`` float32, centred and scaled."""
    spec = get_layout(layout)
    joints = people[..., [0, 1, 3]].astype(np.float32)  # x, y, confidence
    missing = ~np.isfinite(joints).all(axis=-1) | (np.nan_to_num(joints[..., 2]) <= 0)
    joints[missing] = np.nan
    main = joints[0]
    centre = main[:, list(spec.center), :2].reshape(-1, 2)
    centre = centre[np.isfinite(centre).all(axis=1)]
    origin = centre.mean(axis=0) if len(centre) else np.array([0.5, 0.5], np.float32)
    scale = torso_length(main, layout)
    joints[..., :2] = (joints[..., :2] - origin) / scale
    joints[missing] = 0.0
    return np.ascontiguousarray(joints.transpose(3, 1, 2, 0))  # (C, T, V, M)


def to_layout(people: np.ndarray, source: str, target: str) -> np.ndarray:
    """Map ``(M, T, V, 4)`` from the stored layout to the model's (e.g. blazepose33 -> openpose18)."""
    return people if source == target else convert(people, source, target)
