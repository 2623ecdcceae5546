"""The store's ``features`` table: the 83 features of every stored frame, built from the store.

For each ``ok`` video (and layout) of a store, person 0's frames are read back, made
aspect-correct by :func:`posegraph.skeleton.geometry.body_frame` (the store keeps x and y as
fractions of the frame's width and height; the features are invariant to its centring and
scaling, so only the aspect matters), turned into features by :func:`build_features` at the
video's own frame rate (``sampled_fps``, else ``source_fps``, else 16) and written back
through :meth:`SkeletonStore.write_features`: one row per stored frame, no resampling. Videos
go in id order and are written one bucket at a time, so a build rewrites each bucket file once
(more often only for buckets of more than ``WRITE_BATCH`` videos). A video that cannot be
built is reported and the others go on.

Example:
    >>> report = build_feature_table(SkeletonStore("corpus"))
    >>> report.summary()   # {'videos': 70, 'frames': 8400, 'skipped': 2, 'failed': 0}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from posegraph.data.records import stored_frame_rate
from posegraph.data.records import FeatureRows
from posegraph.data.store import SkeletonStore
from posegraph.skeleton.geometry import body_frame

from .builder import build_features
from .specs import FEATURE_NAMES

WRITE_BATCH = 512  # most videos per write: bounds memory (~50 kB per video of 150 frames)
STALE = "the video was written again while its features were built; run the build again"


@dataclass
class FeatureBuildReport:
    """What a build did: videos built (``video_id/layout``), frames written, videos skipped
    because their status is not ``ok``, and videos that failed, with the reason."""

    built: list[str] = field(default_factory=list)
    frames: int = 0
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {"videos": len(self.built), "frames": self.frames, "skipped": len(self.skipped),
                "failed": len(self.failed)}


def _key(video_id: str, layout: str) -> str:
    return f"{video_id}/{layout}"


def select_videos(store: SkeletonStore, layout: str | None = None,
                  video_ids: Iterable[str] | None = None) -> list[dict]:
    """The ``videos`` rows a build looks at (any status), sorted by id so batches stay in a bucket."""
    wanted = None if video_ids is None else set(video_ids)
    rows = [row for row in store.videos().to_pylist()
            if layout in (None, row["layout"]) and (wanted is None or row["video_id"] in wanted)]
    return sorted(rows, key=lambda row: (row["video_id"], row["layout"]))


frame_rate = stored_frame_rate  # the stored frames' rate (``posegraph.data.records``)


def video_features(store: SkeletonStore, row: dict) -> FeatureRows:
    """Person 0's features on every stored frame of the video a ``videos`` row describes."""
    frames = store.read_video(row["video_id"], person=0, layout=row["layout"])
    if len(frames.frame_indices) == 0:
        raise ValueError("no frames stored")
    joints = body_frame(frames.joints, row["layout"], row["width"], row["height"])
    values, _ = build_features(joints, row["layout"], frame_rate(row))  # NaN exactly where masked
    return FeatureRows(row["video_id"], row["layout"], frames.frame_indices, values,
                       row["extracted_at"])


def build_feature_table(store: SkeletonStore, layout: str | None = None,
                        video_ids: Iterable[str] | None = None,
                        progress: Callable[[str], None] | None = None,
                        batch_size: int = WRITE_BATCH) -> FeatureBuildReport:
    """Build (or rebuild) the ``features`` rows of a store's ``ok`` videos.

    Args:
        store: the skeleton store, read and written.
        layout: only videos stored in this layout (default: every layout).
        video_ids: only these videos (default: all); an id not in the store is a failure.
        progress: called with each selected video's id once it has been looked at.
        batch_size: most videos per :meth:`SkeletonStore.write_features` call (one bucket each).

    Returns:
        A :class:`FeatureBuildReport`. Running it again gives the same rows.
    """
    report = FeatureBuildReport()
    wanted = None if video_ids is None else list(video_ids)
    rows = select_videos(store, layout, wanted)
    found = {row["video_id"] for row in rows}
    report.failed += [(_key(video_id, layout or "*"), "not in the store")
                      for video_id in sorted(set(wanted or ()) - found)]
    batch: list[FeatureRows] = []
    for row in rows:
        if batch and (len(batch) >= batch_size
                      or store.bucket_of(row["video_id"]) != store.bucket_of(batch[0].video_id)):
            _write(store, batch, report)
            batch = []
        if row["status"] != "ok":
            report.skipped.append(_key(row["video_id"], row["layout"]))
        else:
            try:
                batch.append(video_features(store, row))
            except Exception as error:  # noqa: BLE001 - a damaged video must not stop the others
                report.failed.append((_key(row["video_id"], row["layout"]), _reason(error)))
        if progress is not None:
            progress(row["video_id"])
    if batch:
        _write(store, batch, report)
    return report


def _reason(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _write(store: SkeletonStore, batch: list[FeatureRows], report: FeatureBuildReport) -> None:
    """Write one bucket's batch; a write error (a damaged features file) fails the batch only."""
    try:
        stored = {(rows.video_id, rows.layout) for rows in store.write_features(FEATURE_NAMES, batch)}
    except Exception as error:  # noqa: BLE001 - reported, the other buckets go on
        report.failed += [(_key(rows.video_id, rows.layout), f"writing: {_reason(error)}") for rows in batch]
        return
    for rows in batch:
        key = _key(rows.video_id, rows.layout)
        if (rows.video_id, rows.layout) in stored:
            report.built.append(key)
            report.frames += len(rows.frame_indices)
        else:
            report.failed.append((key, STALE))
