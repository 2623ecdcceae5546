"""From stored frames to model input: layout mapping, one frame rate, one geometry.

Every model family goes through :func:`prepare`: the stored layout is mapped to the model's
(e.g. blazepose33 -> openpose18), the sequence is resampled by its timestamps to the model's
frame rate, then :func:`posegraph.skeleton.geometry.body_frame` makes x and y aspect-correct,
centres and scales them (documented there, once). Checkpoints carry a :class:`Normalization`
that names the method and the frame rate. The graph models then take channels x, y,
confidence, with missing joints 0 in every channel as in the reference feeders.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from posegraph.skeleton import convert
from posegraph.skeleton.geometry import METHOD, body_frame, resample
from posegraph.skeleton.source import SkeletonSource
from posegraph.skeleton.vocabulary import DEFAULT_FPS

CHANNELS = ("x", "y", "confidence")
# What a model reads as a joint's confidence. "presence": 1 for every joint with coordinates, what
# every source agrees on (Penn Action annotates occluded joints with visibility 0, BlazePose scores
# them 0.3-0.9, OpenPose gives a detector score): on this product's extraction of 24 real clips of
# Penn's classes a BiLSTM trained on Penn answered 37.5% right with "score" and 58.3% with
# "presence" (benchmarks/crosssource.py). "score": the source's own visibility (runs before it).
JOINT_CONFIDENCE = ("presence", "score")


@dataclass(frozen=True)
class Normalization:
    """How coordinates were normalised and at which frame rate (stored in checkpoints)."""

    method: str = METHOD
    frames_per_second: float = DEFAULT_FPS

    def to_dict(self) -> dict:
        return asdict(self)


def prepare(sequence: SkeletonSource, model_layout: str, frames_per_second: float | None = DEFAULT_FPS,
            confidence: str = "presence") -> np.ndarray:
    """``(M, T', V', 4)`` in the model's layout and frame rate, aspect-correct, centred, scaled;
    with ``confidence="presence"`` every joint with coordinates has visibility 1 (:func:`as_present`)."""
    if confidence not in JOINT_CONFIDENCE:
        raise ValueError(f"joint confidence {confidence!r}: choose from {', '.join(JOINT_CONFIDENCE)}")
    people = to_layout(sequence.people, sequence.layout, model_layout)
    if confidence == "presence":
        people = as_present(people)
    if frames_per_second:
        people, _ = resample(people, sequence.timestamps, frames_per_second)
    return body_frame(people, model_layout, sequence.width, sequence.height)


def as_present(people: np.ndarray) -> np.ndarray:
    """Every joint with finite x and y present with visibility 1; the rest NaN in every channel.
    A joint at exactly (0, 0) with a score of 0 or less is OpenPose's way of writing "not
    detected" (Kinetics-Skeleton) and stays missing.

    Shapes: ``(..., V, 4)`` kept."""
    people = np.array(people, dtype=np.float32, copy=True)
    finite = np.isfinite(people[..., :2]).all(axis=-1)
    with np.errstate(invalid="ignore"):
        undetected = (people[..., 0] == 0) & (people[..., 1] == 0) & ~(people[..., 3] > 0)
    present = finite & ~undetected
    people[~present] = np.nan
    people[..., 3] = np.where(present, 1.0, np.nan)
    return people


def to_channels(people: np.ndarray) -> np.ndarray:
    """``(M, T, V, 4)`` from :func:`prepare` -> ``(C=3, T, V, M)`` x, y, confidence; missing = 0."""
    joints = people[..., [0, 1, 3]].astype(np.float32)
    missing = ~np.isfinite(joints).all(axis=-1) | (np.nan_to_num(joints[..., 2]) <= 0)
    joints[missing] = 0.0
    return np.ascontiguousarray(joints.transpose(3, 1, 2, 0))


def normalize(people: np.ndarray, layout: str, width: int | None = None, height: int | None = None) -> np.ndarray:
    """``people (M, T, V, 4)`` -> ``(C=3, T, V, M)`` float32, aspect-correct, centred and scaled."""
    return to_channels(body_frame(people, layout, width, height))


def to_layout(people: np.ndarray, source: str, target: str) -> np.ndarray:
    """Map ``(M, T, V, 4)`` from the stored layout to the model's (e.g. blazepose33 -> openpose18)."""
    return people if source == target else convert(people, source, target)
