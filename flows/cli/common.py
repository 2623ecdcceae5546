"""Helpers shared by the command groups (cheap to import: nothing heavy at module level)."""

from __future__ import annotations


def open_store(path: str, create: bool = False):
    """The skeleton store at ``path`` (imported lazily: pyarrow is heavy)."""
    from posegraph.data import SkeletonStore

    return SkeletonStore(path, create=create)
