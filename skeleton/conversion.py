"""Joint maps between layouts, applied to whole arrays ``(..., V, C)``.

A target joint is either a source joint of the same name or, where the source has no such
joint, the mean of the listed source joints. The rule for such derived joints: coordinates
are the mean of the source joints, confidence (the last channel) is the *smallest* of their
confidences, because a derived point is only as trustworthy as its weakest input. So
OpenPose's neck is the midpoint of the two shoulders with the lower shoulder confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layouts import get_layout


@dataclass(frozen=True)
class JointMap:
    """For each target joint, the source joints it is built from (one = copy, more = mean)."""

    source: str
    target: str
    sources_per_joint: tuple[tuple[int, ...], ...]


# Target joints that the source layout lacks, as source joint names to average.
_DERIVED_JOINTS: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    ("blazepose33", "openpose18"): {"neck": ("left_shoulder", "right_shoulder")},
    ("blazepose33", "coco17"): {},
    ("coco17", "openpose18"): {"neck": ("left_shoulder", "right_shoulder")},
}


def conversions() -> list[tuple[str, str]]:
    """The ``(source, target)`` pairs that :func:`convert` supports."""
    return sorted(_DERIVED_JOINTS)


def joint_map(source: str, target: str) -> JointMap:
    """The joint map from layout ``source`` to layout ``target``."""
    if (source, target) not in _DERIVED_JOINTS:
        pairs = ", ".join(f"{s} -> {t}" for s, t in conversions())
        raise ValueError(f"no conversion from {source!r} to {target!r}; available: {pairs}")
    source_layout, target_layout = get_layout(source), get_layout(target)
    derived = _DERIVED_JOINTS[(source, target)]
    sources_per_joint = []
    for joint_name in target_layout.joint_names:
        names = derived.get(joint_name, (joint_name,))
        sources_per_joint.append(tuple(source_layout.index(name) for name in names))
    return JointMap(source, target, tuple(sources_per_joint))


def convert(
    array: np.ndarray, source: str, target: str, confidence_channel: int | None = -1
) -> np.ndarray:
    """Convert ``array`` of shape ``(..., V_source, C)`` to ``(..., V_target, C)``.

    Args:
        array: joints in layout ``source``; the last channel is the confidence.
        source: source layout name.
        target: target layout name; equal to ``source`` returns a copy.
        confidence_channel: channel holding confidence (min rule for derived joints);
            ``None`` treats every channel as a coordinate.

    Example:
        >>> openpose = convert(blazepose_frames, "blazepose33", "openpose18")  # (T, 18, 4)
    """
    values = np.asarray(array)
    expected_joints = get_layout(source).num_joints
    if values.ndim < 2 or values.shape[-2] != expected_joints:
        raise ValueError(
            f"expected an array (..., {expected_joints}, C) in layout {source!r}, "
            f"got shape {values.shape}"
        )
    if source == target:
        return values.copy()
    mapping = joint_map(source, target)
    converted = np.empty(values.shape[:-2] + (len(mapping.sources_per_joint), values.shape[-1]),
                         dtype=np.result_type(values.dtype, np.float32))
    for target_index, source_indices in enumerate(mapping.sources_per_joint):
        picked = values[..., list(source_indices), :]
        converted[..., target_index, :] = picked.mean(axis=-2)
        if confidence_channel is not None and len(source_indices) > 1:
            converted[..., target_index, confidence_channel] = picked[
                ..., confidence_channel
            ].min(axis=-1)
    return converted
