"""Atomic file replacement and per-bucket locks for the skeleton store.

A file is written under ``<store>/_staging/`` with a ``.partial`` suffix (neither pyarrow,
which skips ``_``-prefixed folders, nor a DuckDB ``**/*.parquet`` glob picks it up), flushed
to disk, then renamed over its destination: readers see the old file or the new one, never
half of one, also after ``kill -9``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

STAGING_DIR = "_staging"
LOCK_DIR = "_locks"
STAGING_SUFFIX = ".partial"
ROW_GROUP_ROWS = 8192  # small row groups let a reader skip to one video's rows


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def replace_parquet(root: Path, destination: Path, table: pa.Table) -> None:
    """Write ``table`` to ``destination`` atomically (staging file, fsync, rename)."""
    staging = root / STAGING_DIR
    staging.mkdir(exist_ok=True)
    partial = staging / f"{os.getpid()}-{uuid.uuid4().hex}{STAGING_SUFFIX}"
    try:
        with open(partial, "wb") as sink:
            pq.write_table(table, sink, row_group_size=ROW_GROUP_ROWS, compression="zstd")
            sink.flush()
            os.fsync(sink.fileno())
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(partial, destination)
        _fsync_directory(destination.parent)
    finally:
        partial.unlink(missing_ok=True)


def remove_file(destination: Path) -> None:
    """Delete ``destination`` if present (an atomic step of its own)."""
    destination.unlink(missing_ok=True)


@contextlib.contextmanager
def bucket_lock(root: Path, bucket: str) -> Iterator[None]:
    """Exclusive lock on one bucket across processes (released by the OS if we die)."""
    locks = root / LOCK_DIR
    locks.mkdir(exist_ok=True)
    with open(locks / f"bucket-{bucket}.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_stale_staging(root: Path) -> list[Path]:
    """Delete staging files left by processes that are no longer running."""
    removed = []
    for partial in (root / STAGING_DIR).glob(f"*{STAGING_SUFFIX}"):
        pid_text = partial.name.split("-", 1)[0]
        if pid_text.isdigit() and not _process_alive(int(pid_text)):
            partial.unlink(missing_ok=True)
            removed.append(partial)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
