"""A corpus's data-quality profile (``posegraph store report``): what an analyst or data engineer
checks before training on a store.

:func:`profile_store` reads the store through its read-only SQL views (so a store on object
storage works the same) and returns a :class:`StoreReport`, plain data with a format field:

- videos per status, label, split and subject, and labels by split;
- subjects (the ``group`` column) found in more than one split: a model tested on people it
  trained on looks better than it is;
- distributions of detection rate, mean visibility, interpolated joint share, frame rate, short
  side (px) and duration over the stored videos, each with its outliers by Tukey's fences
  (beyond 1.5 inter-quartile ranges from the quartiles: a rule from the data itself, not a fixed
  threshold);
- mean visibility per joint and layout, with the joints far below the others;
- duplicate content: the same bytes at several paths (``also_at``), and different ids whose
  skeletons are the same frame for frame (coordinates to 3 decimals);
- class imbalance: the largest class over the smallest;
- failures grouped by reason (the file's path and numbers taken out of the reason).

Rules for ``--fail-on`` are in :mod:`.quality_rules`; Markdown and HTML in :mod:`.quality_render`.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from .query import run_query
from .store import SkeletonStore

REPORT_FORMAT = "posegraph-store-report/1"
STORED = ("ok", "rejected")  # statuses whose frames are in the store
OUTLIERS_LISTED = 20  # per distribution; the count is always whole
# The per-video measures: (name, column of the per-video rows, unit).
MEASURES = (
    ("detection_rate", "detection_rate", "share of frames with a person"),
    ("mean_visibility", "mean_visibility", "0-1"),
    ("interpolated", "interpolated", "share of joint values filled in"),
    ("fps", "source_fps", "frames/s"),
    ("short_side", "short_side", "px"),
    ("duration", "duration_s", "s"),
)


@dataclass(frozen=True)
class Outlier:
    video_id: str
    source_path: str | None
    value: float


@dataclass(frozen=True)
class Distribution:
    """One per-video measure over the stored videos, and its outliers (Tukey's fences)."""

    name: str
    unit: str
    count: int
    minimum: float | None = None
    q1: float | None = None
    median: float | None = None
    q3: float | None = None
    maximum: float | None = None
    low_fence: float | None = None
    high_fence: float | None = None
    outlier_count: int = 0
    outliers: tuple[Outlier, ...] = ()


@dataclass(frozen=True)
class JointVisibility:
    layout: str
    joint: str
    mean_visibility: float
    low_share: float  # share of frames where the joint's visibility is below 0.5
    outlier: bool  # below the low fence of its layout's joints


@dataclass(frozen=True)
class SubjectAcrossSplits:
    subject: str
    splits: tuple[str, ...]
    videos: int


@dataclass(frozen=True)
class DuplicateGroup:
    kind: str  # "same bytes" or "same skeleton"
    video_ids: tuple[str, ...]
    paths: tuple[str, ...]


@dataclass(frozen=True)
class FailureGroup:
    reason: str
    count: int
    examples: tuple[str, ...]  # the first few paths


@dataclass(frozen=True)
class StoreReport:
    """The whole profile. ``by_*`` are ``(name, videos)`` pairs, largest first."""

    store: str
    generated_at: str
    videos: int
    by_status: tuple[tuple[str, int], ...]
    by_label: tuple[tuple[str, int], ...]
    by_split: tuple[tuple[str, int], ...]
    by_subject: tuple[tuple[str, int], ...]
    label_by_split: dict[str, dict[str, int]]
    subjects_across_splits: tuple[SubjectAcrossSplits, ...]
    distributions: tuple[Distribution, ...]
    joint_visibility: tuple[JointVisibility, ...]
    duplicates: tuple[DuplicateGroup, ...]
    class_imbalance: float | None  # largest class / smallest class (stored videos); None below 2 classes
    smallest_classes: tuple[tuple[str, int], ...]  # classes under half the median class
    failures: tuple[FailureGroup, ...]
    format: str = REPORT_FORMAT
    video_values: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)  # measure -> id -> value
    # (the rules' and the histograms' input; left out of the JSON)

    def distribution(self, name: str) -> Distribution:
        return next(item for item in self.distributions if item.name == name)


def profile_store(store: SkeletonStore, timeout_s: float | None = 600.0) -> StoreReport:
    """The store's data-quality profile (a few SQL scans: the videos table, one pass over the frames)."""
    videos = run_query(store, _VIDEOS_SQL, timeout_s=timeout_s).to_pylist()
    per_video = {(row["video_id"], row["layout"]): row
                 for row in run_query(store, _FRAMES_SQL, timeout_s=timeout_s).to_pylist()}
    joints = run_query(store, _JOINTS_SQL, timeout_s=timeout_s).to_pylist()
    stored = [row for row in videos if row["status"] in STORED]
    for row in stored:
        summary = per_video.get((row["video_id"], row["layout"]), {})
        row["interpolated"] = summary.get("interpolated")
        row["skeleton_hash"] = summary.get("skeleton_hash")
    labels = Counter(row["label"] or "(none)" for row in stored)
    values = {name: {row["video_id"]: float(row[column]) for row in stored if _finite(row.get(column))}
              for name, column, _ in MEASURES}
    paths = {row["video_id"]: row["source_path"] for row in stored}
    distributions = tuple(_distribution(name, unit, values[name], paths) for name, _, unit in MEASURES)
    return StoreReport(
        store=str(store.root), generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        videos=len(videos),
        by_status=_counted(row["status"] for row in videos),
        by_label=tuple(labels.most_common()),
        by_split=_counted(row["split"] or "(none)" for row in stored),
        by_subject=_counted(row["group"] or "(none)" for row in stored),
        label_by_split=_label_by_split(stored),
        subjects_across_splits=_subjects_across_splits(stored),
        distributions=distributions,
        joint_visibility=_joint_visibility(joints),
        duplicates=_duplicates(videos, stored),
        class_imbalance=(max(labels.values()) / min(labels.values())) if len(labels) > 1 else None,
        smallest_classes=_smallest_classes(labels),
        failures=_failures(videos),
        video_values=values,
    )


_VIDEOS_SQL = """
    SELECT video_id, layout, source_path, label, split, "group", status, reason, also_at,
           detection_rate, mean_visibility, source_fps, least(width, height) AS short_side, duration_s
    FROM videos"""
# One pass over the frames: the interpolated share and a fingerprint of the skeleton itself.
_FRAMES_SQL = """
    SELECT video_id, layout,
           avg(list_sum(CAST(interpolated AS INTEGER[])) / len(interpolated)) AS interpolated,
           hash(list(list_transform(x, lambda v: round(v, 3)) || list_transform(y, lambda v: round(v, 3))
                     ORDER BY frame_index, person)) AS skeleton_hash
    FROM frames GROUP BY video_id, layout"""
_JOINTS_SQL = """
    SELECT layout, joint_index, any_value(joint_name) AS joint, avg(visibility) AS mean_visibility,
           avg(CASE WHEN visibility < 0.5 THEN 1.0 ELSE 0.0 END) AS low_share
    FROM joints WHERE detected GROUP BY layout, joint_index ORDER BY layout, joint_index"""


def _counted(values) -> tuple[tuple[str, int], ...]:
    return tuple(Counter(values).most_common())


def _fences(values: np.ndarray) -> tuple[float, float, float, float, float]:
    q1, median, q3 = (float(value) for value in np.percentile(values, [25, 50, 75]))
    spread = q3 - q1
    return q1, median, q3, q1 - 1.5 * spread, q3 + 1.5 * spread


def _finite(value) -> bool:
    return value is not None and bool(np.isfinite(value))


def _distribution(name: str, unit: str, values: dict[str, float], paths: dict[str, str | None]) -> Distribution:
    """``values``: video id -> the measure (finite values only)."""
    if not values:
        return Distribution(name, unit, 0)
    array = np.fromiter(values.values(), dtype=np.float64, count=len(values))
    q1, median, q3, low, high = _fences(array)
    outside = sorted((video for video, value in values.items() if not low <= value <= high),
                     key=lambda video: abs(values[video] - median), reverse=True)
    return Distribution(
        name, unit, len(values), float(array.min()), q1, median, q3, float(array.max()), low, high,
        len(outside), tuple(Outlier(video, paths.get(video), values[video]) for video in outside[:OUTLIERS_LISTED]))


def _label_by_split(rows: list[dict]) -> dict[str, dict[str, int]]:
    table: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        table[row["label"] or "(none)"][row["split"] or "(none)"] += 1
    return {label: dict(sorted(counts.items())) for label, counts in sorted(table.items())}


def _subjects_across_splits(rows: list[dict]) -> tuple[SubjectAcrossSplits, ...]:
    splits: dict[str, set[str]] = defaultdict(set)
    videos: Counter = Counter()
    for row in rows:
        if row["group"] and row["split"]:
            splits[row["group"]].add(row["split"])
            videos[row["group"]] += 1
    return tuple(SubjectAcrossSplits(subject, tuple(sorted(found)), videos[subject])
                 for subject, found in sorted(splits.items()) if len(found) > 1)


def _joint_visibility(rows: list[dict]) -> tuple[JointVisibility, ...]:
    result = []
    for layout in sorted({row["layout"] for row in rows}):
        joints = [row for row in rows if row["layout"] == layout and row["mean_visibility"] is not None]
        if not joints:
            continue
        low = _fences(np.array([row["mean_visibility"] for row in joints]))[3] if len(joints) >= 4 else -np.inf
        result += [JointVisibility(layout, row["joint"], float(row["mean_visibility"]), float(row["low_share"]),
                                   bool(row["mean_visibility"] < low)) for row in joints]
    return tuple(result)


def _duplicates(videos: list[dict], stored: list[dict]) -> tuple[DuplicateGroup, ...]:
    groups = [DuplicateGroup("same bytes", (row["video_id"],), tuple(row["also_at"]))
              for row in videos if row["also_at"] and len(row["also_at"]) > 1]
    by_hash: dict[tuple, list[dict]] = defaultdict(list)
    for row in stored:
        if row.get("skeleton_hash") is not None:
            by_hash[(row["layout"], row["skeleton_hash"])].append(row)
    groups += [DuplicateGroup("same skeleton", tuple(row["video_id"] for row in same),
                              tuple(row["source_path"] or "" for row in same))
               for same in by_hash.values() if len(same) > 1]
    return tuple(groups)


def _smallest_classes(labels: Counter) -> tuple[tuple[str, int], ...]:
    if len(labels) < 2:
        return ()
    median = float(np.median(list(labels.values())))
    return tuple((label, count) for label, count in sorted(labels.items(), key=lambda item: item[1])
                 if count < median / 2)


def failure_reason(reason: str | None, path: str | None) -> str:
    """A failure's reason without what differs between files (its path, numbers), for grouping."""
    text = reason or "(no reason recorded)"
    if path and text.startswith(path):
        text = text[len(path):].lstrip(": ")
    return re.sub(r"\d+(\.\d+)?", "N", text)


def _failures(videos: list[dict]) -> tuple[FailureGroup, ...]:
    groups: dict[str, list[str]] = defaultdict(list)
    for row in videos:
        if row["status"] != "ok":  # rejected videos are stored, but their reason belongs here too
            groups[f"{row['status']}: {failure_reason(row['reason'], row['source_path'])}"].append(
                row["source_path"] or row["video_id"])
    return tuple(FailureGroup(reason, len(paths), tuple(paths[:3]))
                 for reason, paths in sorted(groups.items(), key=lambda item: -len(item[1])))
