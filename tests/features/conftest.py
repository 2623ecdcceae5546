"""Hand-made poses for the feature tests, in pixels (x right, y down)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from posegraph.skeleton import get_layout

# A frontal standing body: torso 100 px (body scale 100), shoulders 40 px apart, left elbow bent
# at a right angle with the forearm pointing sideways, right arm hanging straight, legs straight.
STANDING = {
    "nose": (120.0, 60.0),
    "left_shoulder": (140.0, 100.0), "right_shoulder": (100.0, 100.0),
    "left_elbow": (140.0, 150.0), "right_elbow": (100.0, 150.0),
    "left_wrist": (190.0, 150.0), "right_wrist": (100.0, 200.0),
    "left_hip": (140.0, 200.0), "right_hip": (100.0, 200.0),
    "left_knee": (140.0, 250.0), "right_knee": (100.0, 250.0),
    "left_ankle": (140.0, 300.0), "right_ankle": (100.0, 300.0),
}


def joints_from(points: dict[str, tuple[float, float]], layout: str, frames: int = 1,
                z: dict[str, float] | None = None, visibility: float = 1.0) -> np.ndarray:
    """``(frames, V, 4)`` in ``layout``: the named points in every frame, other joints NaN.

    A point named ``nose`` goes to ``head`` in layouts without a nose. z is NaN unless given.
    """
    names = get_layout(layout).joint_names
    joints = np.full((frames, len(names), 4), np.nan)
    for name, (x, y) in points.items():
        if name == "nose" and name not in names and "head" in names:
            name = "head"
        if name in names:
            index = names.index(name)
            joints[:, index, :2] = (x, y)
            joints[:, index, 3] = visibility
            if z is not None:
                joints[:, index, 2] = z.get(name, np.nan)
    return joints


@pytest.fixture(scope="session")
def standing() -> dict[str, tuple[float, float]]:
    return dict(STANDING)


@pytest.fixture(scope="session")
def make_joints() -> Callable[..., np.ndarray]:
    return joints_from


def documented_mask(joints: np.ndarray, layout: str) -> np.ndarray:
    """``(T, 83)`` the mask ``FEATURES`` promises: missing where an input joint is not seen (for
    visibility features: has no visibility), z where it is NaN, velocities also where a frame
    they difference is. Assumes the body scale is defined; ignores knee_hip_bend_ratio's
    straight-body rule (use bent poses)."""
    from posegraph.features import FEATURES

    names = get_layout(layout).joint_names

    def column(name: str, channel: int) -> np.ndarray:
        name = "head" if name == "nose" and name not in names else name
        return joints[:, names.index(name), channel] if name in names else np.full(len(joints), np.nan)

    mask = np.zeros((len(joints), len(FEATURES)), dtype=bool)
    for index, spec in enumerate(FEATURES):
        for joint in spec.joints:
            x, y, z, v = (column(joint, channel) for channel in range(4))
            no_position = np.isnan(x) | np.isnan(y)
            if spec.group == "visibility":
                mask[:, index] |= no_position | np.isnan(v)
            else:
                mask[:, index] |= no_position | (v <= 0)
                if spec.group == "coordinates" and spec.name.endswith("_z"):
                    mask[:, index] |= np.isnan(z)
        if spec.group == "velocities" and len(joints) > 1:
            own = mask[:, index].copy()
            mask[1:-1, index] |= own[:-2] | own[2:]  # central differences
            mask[0, index] |= own[1]
            mask[-1, index] |= own[-2]
        elif spec.group == "velocities":
            mask[:, index] = True
    return mask


@pytest.fixture(scope="session")
def expected_mask() -> Callable[[np.ndarray, str], np.ndarray]:
    return documented_mask
