"""What goes into the store and what comes out: one video's metadata and skeletons."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from ..skeleton import get_layout
from .schema import STATUSES
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


@dataclass(frozen=True)
class FeatureRows:
    """One video's per-frame features, as given to :meth:`SkeletonStore.write_features`.

    Shapes:
        frame_indices: ``(T,)`` int, the stored frames' ``frame_index``.
        values: ``(T, F)`` float, columns in the order of the names passed along; NaN (or
        inf) is written as null.

    ``extracted_at`` is the ``videos`` row's value the features were computed from: if the
    video has been written again since, the rows are not stored (they would be stale).
    ``None`` skips that check (the row must still exist).
    """

    video_id: str
    layout: str
    frame_indices: np.ndarray
    values: np.ndarray
    extracted_at: datetime | None = None


@dataclass(frozen=True)
class RepetitionRows:
    """One video's counted repetitions, as given to :meth:`SkeletonStore.write_repetitions`.

    Shapes: ``frame_indices (R,)`` the video's frame of each repetition, ``times_s (R,)`` seconds.
    """

    video_id: str
    layout: str
    frame_indices: np.ndarray
    times_s: np.ndarray
    method: str
    extracted_at: datetime | None = None
    counted_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass(frozen=True)
class AnalysisRows:
    """One video's analysis (``posegraph analyse``), as given to :meth:`SkeletonStore.write_analyses`:
    the video-level answer and one entry per repetition.

    ``repetitions``: dicts with ``repetition, set, start_s, turn_s, end_s, score, depth, there_s,
    back_s`` and ``worst_joint`` (None where unknown); ``cues``: the cues' texts; ``document``:
    the whole analysis as JSON text.
    """

    video_id: str
    layout: str
    bundle: str
    exercise: str
    rejected: bool
    confidence: float
    count: int
    mean_score: float | None
    cues: tuple[str, ...]
    repetitions: tuple[dict, ...]
    document: str
    extracted_at: datetime | None = None
    analysed_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass(frozen=True)
class PhaseRows:
    """One video's phase labels in one scheme, as given to :meth:`SkeletonStore.write_phases`.

    ``ranges``: ``(first_frame, last_frame, phase)`` of source frame indices, inclusive. Writing
    a video's labels of a scheme again replaces them.
    """

    video_id: str
    scheme: str
    ranges: list[tuple[int, int, str]]
    source: str | None = None
    imported_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass(frozen=True)
class ScoreRows:
    """One video's form scores against one reference, as given to :meth:`SkeletonStore.write_scores`.

    Shapes:
        frame_indices: ``(T,)`` int, the scored frames' ``frame_index``.
        joint_scores: ``(T, V)`` float, 0-100 per joint in the layout's joint order.
        frame_scores, running_scores: ``(T,)`` float. timestamps: ``(T,)`` seconds or None.
        NaN (no score) is written as null.

    ``(video_id, layout, reference, method)`` keys the rows: writing them again replaces them.
    ``extracted_at`` works as for :class:`FeatureRows`: scores of a video written again since
    they were computed are not stored.
    """

    video_id: str
    layout: str
    reference: str
    method: str
    frame_indices: np.ndarray
    joint_scores: np.ndarray
    frame_scores: np.ndarray
    running_scores: np.ndarray
    timestamps: np.ndarray | None = None
    exercise: str | None = None
    reference_exercise: str | None = None
    reference_sha: str | None = None
    extracted_at: datetime | None = None
    scored_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


def completed_info(info: VideoInfo, skeletons: Skeletons | None, bucket_digits: int) -> VideoInfo:
    """``info`` checked against its skeletons, with the summary columns the caller left empty
    (frame count, detection rate, mean visibility, duration) computed from them."""
    layout = get_layout(info.layout)
    if info.status not in STATUSES:
        raise ValueError(f"video {info.video_id}: status must be one of {STATUSES}, got {info.status!r}")
    if not info.video_id or len(info.video_id) < bucket_digits:
        raise ValueError(f"video id {info.video_id!r} is too short")
    if skeletons is None:
        return info
    if skeletons.layout != info.layout or skeletons.joints.shape[2] != layout.num_joints:
        raise ValueError(
            f"video {info.video_id}: skeletons are {skeletons.layout} with "
            f"{skeletons.joints.shape[2]} joints, the row says {info.layout} "
            f"({layout.num_joints} joints)"
        )
    detected = skeletons.detected[0]
    visibility = skeletons.joints[0, detected, :, 3]
    timestamps = skeletons.timestamps
    return info.replace(
        frame_count=info.frame_count if info.frame_count is not None else int(len(detected)),
        detection_rate=info.detection_rate if info.detection_rate is not None
        else float(detected.mean()) if len(detected) else 0.0,
        mean_visibility=info.mean_visibility if info.mean_visibility is not None
        else float(np.nanmean(visibility)) if visibility.size else 0.0,
        duration_s=info.duration_s if info.duration_s is not None
        else float(timestamps[-1] - timestamps[0]) if len(timestamps) else 0.0,
    )
