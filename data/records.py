"""What goes into the store and what comes out: one video's metadata and skeletons."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from ..skeleton.vocabulary import DEFAULT_FPS  # noqa: F401  (the rate for rows that record none)


@dataclass(frozen=True)
class VideoInfo:
    """One row of the ``videos`` table (what the caller knows; the store fills the rest)."""

    video_id: str
    layout: str
    source_path: str | None = None
    label: str | None = None
    split: str | None = None
    group: str | None = None
    view: str | None = None  # camera view, where the source records it
    source_fps: float | None = None
    sampled_fps: float | None = None
    width: int | None = None
    height: int | None = None
    frame_count: int | None = None
    duration_s: float | None = None
    extractor: str | None = None
    extractor_version: str | None = None
    extractor_settings: str | None = None
    detection_rate: float | None = None
    mean_visibility: float | None = None
    status: str = "ok"
    reason: str | None = None
    repetitions: int | None = None
    extracted_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    also_at: list[str] | None = None  # other paths with the same bytes
    labels_seen: list[str] | None = None  # the labels of every copy

    def replace(self, **changes: object) -> "VideoInfo":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Skeletons:
    """All people of one video, as written to the ``frames`` table.

    Shapes:
        joints: ``(M, T, V, 4)`` float32 — x, y, z, visibility; NaN where a person is absent.
        detected: ``(M, T)`` bool. interpolated: ``(M, T, V)`` bool.
        timestamps: ``(T,)`` seconds. frame_indices: ``(T,)`` int. phase: ``(T,)`` str or None.
    """

    layout: str
    joints: np.ndarray
    detected: np.ndarray
    timestamps: np.ndarray
    frame_indices: np.ndarray
    interpolated: np.ndarray | None = None
    phase: np.ndarray | None = None

    def __post_init__(self) -> None:
        people, frames, joints, channels = self.joints.shape
        if channels != 4:
            raise ValueError(f"joints must be (M, T, V, 4) x/y/z/visibility, got {self.joints.shape}")
        if self.detected.shape != (people, frames):
            raise ValueError(f"detected must be {(people, frames)}, got {self.detected.shape}")
        if len(self.timestamps) != frames or len(self.frame_indices) != frames:
            raise ValueError("timestamps and frame_indices need one entry per frame")
        if self.interpolated is not None and self.interpolated.shape != (people, frames, joints):
            raise ValueError(f"interpolated must be {(people, frames, joints)}")

    @classmethod
    def single(cls, layout: str, joints: np.ndarray, detected: np.ndarray, timestamps: np.ndarray,
               frame_indices: np.ndarray | None = None, interpolated: np.ndarray | None = None,
               phase: np.ndarray | None = None) -> "Skeletons":
        """One person: ``joints (T, V, 4)``, ``detected (T,)``, ``interpolated (T, V)``."""
        frame_count = len(joints)
        return cls(
            layout=layout,
            joints=np.asarray(joints, dtype=np.float32)[None],
            detected=np.asarray(detected, dtype=bool)[None],
            timestamps=np.asarray(timestamps, dtype=np.float64),
            frame_indices=np.arange(frame_count) if frame_indices is None else np.asarray(frame_indices),
            interpolated=None if interpolated is None else np.asarray(interpolated, dtype=bool)[None],
            phase=phase,
        )


@dataclass(frozen=True)
class VideoFrames:
    """One person of one video as read back from the store.

    Shapes:
        joints: ``(T, V, 4)`` float32 — x, y, z, visibility (NaN where the person is absent).
        detected: ``(T,)`` bool. interpolated: ``(T, V)`` bool.
        timestamps: ``(T,)`` float64 seconds. frame_indices: ``(T,)`` int32.
    """

    video_id: str
    layout: str
    person: int
    joints: np.ndarray
    detected: np.ndarray
    interpolated: np.ndarray
    timestamps: np.ndarray
    frame_indices: np.ndarray
    phase: np.ndarray



def stored_frame_rate(row: dict) -> float:
    """The frame rate of a video's stored frames (a ``videos`` row): sampled, else native, else 16."""
    for column in ("sampled_fps", "source_fps"):
        value = row.get(column)
        if value is not None and np.isfinite(value) and value > 0:
            return float(value)
    return DEFAULT_FPS
