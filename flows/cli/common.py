"""Helpers shared by the command groups (cheap to import: nothing heavy at module level)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from posegraph.skeleton.vocabulary import UNTIMED_FPS


def add_video_arguments(parser: argparse.ArgumentParser, many: bool = False,
                        store_help: str = "skeleton store to read a stored video from") -> None:
    """The arguments every command that reads a video shares: the positional ``video`` (one, or
    ``many``), ``--store`` and ``--fps`` (a landmarks file's frame rate: it has no clock)."""
    what = ("video files, landmarks files (.npy, .json, .csv, as `posegraph import landmarks` reads them) or "
            "stored video ids (prefixes, with --store)" if many else
            "a video file, a landmarks file (.npy, .json, .csv, as `posegraph import landmarks` reads them) or a "
            "stored video id (a prefix, with --store)")
    parser.add_argument("video", nargs="+" if many else None, help=what)
    parser.add_argument("--store", help=store_help)
    parser.add_argument("--fps", type=float, default=UNTIMED_FPS,
                        help=f"frames per second of a landmarks file, which has no clock (default {UNTIMED_FPS:g})")


def open_store(path: str, create: bool = False):
    """The skeleton store at ``path`` (imported lazily: pyarrow is heavy)."""
    from posegraph.data import SkeletonStore

    return SkeletonStore(path, create=create)


def check_before_flow(store: str | None = None, checkpoints: Sequence[str] = (), muscle_table: str | None = None,
                      init: str | None = None) -> None:
    """Ordinary mistakes (no store there; a checkpoint, run folder or ensemble file missing or
    unreadable; an ``--init`` checkpoint that does not load; a muscle table that does not read) as
    one line before a flow starts: inside the flow, Prefect would log the error's traceback first."""
    if store is not None:
        open_store(store)
    if init is not None:
        from posegraph.gcn.checkpoint import load_checkpoint

        load_checkpoint(init)
    if checkpoints:
        from posegraph.gcn.checkpoint import checkpoint_file
        from posegraph.gcn.ensemble import is_ensemble_file, load_ensemble

        for path in checkpoints:
            for member in load_ensemble(path).members if is_ensemble_file(path) else (path,):
                checkpoint_file(member)
    if muscle_table is not None:
        from posegraph.features.muscles import load_muscle_table

        load_muscle_table(muscle_table)
