"""Importers write videos in batches: one commit per table for every ``WRITE_BATCH`` videos."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from .records import Skeletons, VideoInfo
from .store import SkeletonStore

WRITE_BATCH = 64


def write_in_batches(store: SkeletonStore, records: Iterable[tuple[VideoInfo, Skeletons | None]],
                     size: int = WRITE_BATCH) -> int:
    """Write ``records`` (consumed lazily, so files are read as they are written) ``size`` at a time."""
    iterator: Iterator = iter(records)
    written = 0
    while batch := list(islice(iterator, size)):
        store.write_videos(batch)
        written += len(batch)
    return written
