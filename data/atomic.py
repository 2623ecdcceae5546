"""The writers' lock of a skeleton store on local disk, and whole-or-nothing file writes.

Delta Lake commits are atomic on their own (each is one new file in ``_delta_log/``, created only
if no other writer took that version). The lock serialises a store's writers on one machine so
that a write's commits to several tables (frames, then the ``videos`` rows) are not interleaved
with another writer's commits for the same videos, and so that commits never conflict. It is an
``flock``: the operating system releases it when its holder dies, ``kill -9`` included.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

LOCK_DIR = "_locks"


@contextlib.contextmanager
def store_lock(root: Path) -> Iterator[None]:
    """Exclusive write lock on the store across processes (released by the OS if we die)."""
    locks = root / LOCK_DIR
    locks.mkdir(exist_ok=True)
    with open(locks / "write.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def replace_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: a reader (or a kill) never meets half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(text)
    temporary.replace(path)
