"""Joint maps between layouts, applied to whole arrays ``(..., V, C)``.

A target joint is built by one of three rules, written as plain data below:

- **copy**: the source joint of the same name, or the one source joint listed for it (a
  correspondence under another name: the nose stands for Penn Action's ``head``);
- **derived**: the mean of the listed source joints. Coordinates are the mean, confidence (the
  last channel) is the *smallest* of their confidences, because a derived point is only as
  trustworthy as its weakest input. So OpenPose's neck is the midpoint of the two shoulders with
  the lower shoulder confidence;
- **absent**: no source joints, ``()``, for a joint the source does not have (Penn Action has
  no eyes or ears). It comes out missing the way the store writes a missing joint: coordinates
  NaN, confidence 0, so models and metrics skip it instead of trusting an invented point.

Absences are listed explicitly: a target joint with no rule and no namesake in the source is
an error when the map is built, so a forgotten rule cannot pass as a missing joint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layouts import get_layout


@dataclass(frozen=True)
class JointMap:
    """For each target joint, the source joints it is built from (one = copy, more = mean,
    none = absent in the source)."""

    source: str
    target: str
    sources_per_joint: tuple[tuple[int, ...], ...]


_SHOULDERS = ("left_shoulder", "right_shoulder")
_NO_FACE = {name: () for name in ("left_eye", "right_eye", "left_ear", "right_ear")}

# Per conversion, the target joints not copied from a source joint of the same name: source
# joint names to copy (one) or average (several), or () where the source has no such joint.
_JOINT_SOURCES: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    ("blazepose33", "openpose18"): {"neck": _SHOULDERS},
    ("blazepose33", "coco17"): {},
    ("blazepose33", "penn13"): {"head": ("nose",)},
    ("coco17", "openpose18"): {"neck": _SHOULDERS},
    ("coco17", "penn13"): {"head": ("nose",)},
    ("penn13", "coco17"): {"nose": ("head",), **_NO_FACE},
    ("penn13", "openpose18"): {"nose": ("head",), "neck": _SHOULDERS, **_NO_FACE},
}


def conversions() -> list[tuple[str, str]]:
    """The ``(source, target)`` pairs that :func:`convert` supports."""
    return sorted(_JOINT_SOURCES)


def joint_map(source: str, target: str) -> JointMap:
    """The joint map from layout ``source`` to layout ``target``."""
    if (source, target) not in _JOINT_SOURCES:
        pairs = ", ".join(f"{s} -> {t}" for s, t in conversions())
        raise ValueError(f"no conversion from {source!r} to {target!r}; available: {pairs}")
    source_layout, target_layout = get_layout(source), get_layout(target)
    rules = _JOINT_SOURCES[(source, target)]
    sources_per_joint = []
    for joint_name in target_layout.joint_names:
        names = rules.get(joint_name, (joint_name,))
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
        confidence_channel: channel holding confidence (min rule for derived joints, 0 for
            absent ones); ``None`` treats every channel as a coordinate (absent joints all NaN).

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
        if not source_indices:  # absent in the source: missing, as the store writes it
            converted[..., target_index, :] = np.nan
            if confidence_channel is not None:
                converted[..., target_index, confidence_channel] = 0.0
            continue
        picked = values[..., list(source_indices), :]
        converted[..., target_index, :] = picked.mean(axis=-2)
        if confidence_channel is not None and len(source_indices) > 1:
            converted[..., target_index, confidence_channel] = picked[
                ..., confidence_channel
            ].min(axis=-1)
    return converted
