"""Importers write videos in batches (one commit per table for every ``WRITE_BATCH`` videos) and
report every file, good or bad, as they go."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from .records import Skeletons, VideoInfo
from .store import SkeletonStore

WRITE_BATCH = 64
Record = tuple[VideoInfo, Skeletons | None, str | None]  # a row, its skeletons, why the file failed (or None)


@dataclass
class ImportReport:
    """What an import did: stored video ids and files that failed, with reasons."""

    imported: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def write_in_batches(store: SkeletonStore, records: Iterable[tuple[VideoInfo, Skeletons | None]],
                     size: int = WRITE_BATCH) -> int:
    """Write ``records`` (consumed lazily, so files are read as they are written) ``size`` at a time."""
    iterator: Iterator = iter(records)
    written = 0
    while batch := list(islice(iterator, size)):
        store.write_videos(batch)
        written += len(batch)
    return written


def import_files(store: SkeletonStore, files: Iterable[Path], read: Callable[[Path], Record],
                 on_file: Callable[[Path, str | None], None] | None = None) -> ImportReport:
    """Read each file (``read`` gives its row, skeletons and problem), store it, failed or not, and report it."""
    report = ImportReport()

    def records():
        for path in files:
            info, skeletons, problem = read(path)
            if problem is None:
                report.imported.append(info.video_id)
            else:
                report.failed.append((str(path), problem))
            if on_file is not None:
                on_file(path, problem)
            yield info, skeletons

    write_in_batches(store, records())
    return report
