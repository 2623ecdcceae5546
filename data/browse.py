"""What the corpus browser (``posegraph ui``) reads from a store, as plain functions: the table of
videos and its filters, and one video's overlay, rendered once and kept.

The table is one query through the store's read-only SQL views (the same locked connection as
``posegraph query``), so it reads a store on object storage the same way; filtering happens on the
fetched table (10,000 videos are a few MB).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from .cache_folders import store_cache_root
from .query import run_query
from .rendering import render_stored_video
from .store import SkeletonStore

VIDEO_COLUMNS_SQL = """
    SELECT video_id, layout, label, split, "group" AS subject, status, reason, detection_rate,
           duration_s, frame_count, source_fps, width, height, source_path, extracted_at
    FROM videos ORDER BY label, split, subject, video_id"""


@dataclass(frozen=True)
class VideoFilter:
    """What the table shows: empty tuples mean every value; ranges are inclusive (None: open)."""

    labels: tuple[str, ...] = ()
    splits: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    detection_rate: tuple[float | None, float | None] = (None, None)
    duration_s: tuple[float | None, float | None] = (None, None)
    text: str = ""  # a part of the video id or the source path (case-insensitive)


def video_table(store: SkeletonStore) -> pa.Table:
    """Every ``videos`` row with the columns the browser shows (``subject`` is the ``group`` column)."""
    return run_query(store, VIDEO_COLUMNS_SQL)


def filter_videos(table: pa.Table, chosen: VideoFilter) -> pa.Table:
    """The rows of :func:`video_table` that ``chosen`` lets through."""
    keep = pa.array([True] * table.num_rows)
    for column, values in (("label", chosen.labels), ("split", chosen.splits), ("status", chosen.statuses),
                           ("subject", chosen.subjects)):
        if values:
            keep = pc.and_(keep, pc.fill_null(pc.is_in(table[column], pa.array(list(values), pa.string())), False))
    for column, (low, high) in (("detection_rate", chosen.detection_rate), ("duration_s", chosen.duration_s)):
        if low is not None:
            keep = pc.and_(keep, pc.fill_null(pc.greater_equal(table[column], low), False))
        if high is not None:
            keep = pc.and_(keep, pc.fill_null(pc.less_equal(table[column], high), False))
    if chosen.text.strip():
        pattern = re.escape(chosen.text.strip())
        found = pc.or_(pc.fill_null(pc.match_substring_regex(table["video_id"], pattern, ignore_case=True), False),
                       pc.fill_null(pc.match_substring_regex(table["source_path"], pattern, ignore_case=True), False))
        keep = pc.and_(keep, found)
    return table.filter(keep)


def overlay_video(store: SkeletonStore, video_id: str, layout: str, max_frames: int = 2000) -> Path:
    """The skeleton drawn over the video (``render``; WebM, plays in browsers), rendered on first
    use and kept under the store's cache folder, keyed by the video's ``extracted_at`` (a re-extracted
    video renders again). ``max_frames`` bounds the work for long videos (2,000 frames: ~2 min at 16 fps)."""
    rows = [row for row in store.video_rows(video_id) if row["layout"] == layout]
    if not rows:
        raise ValueError(f"video {video_id} in layout {layout} is not in the store {store.root}")
    stamp = rows[0]["extracted_at"]
    key = f"{video_id}-{layout}-{int(stamp.timestamp() * 1e6) if stamp else 0}"
    path = store_cache_root(store, "overlays") / f"{key}.webm"
    if not path.exists():
        partial = path.with_name(f".{path.stem}.{os.getpid()}.webm")
        render_stored_video(store, video_id, partial, layout=layout, scale=0.75, max_frames=max_frames)
        partial.replace(path)  # whole or not at all: another session may be reading it
    return path
