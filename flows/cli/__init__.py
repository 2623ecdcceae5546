"""The ``posegraph`` command line, split by user: extraction (data engineers), store imports,
training (ML engineers), analysis (SQL) and form scoring (coaches, app developers). Heavy
libraries are imported inside the commands, so ``--help`` stays fast."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import (analyse, analysis, cache, deploy, ensemble, export, extraction, import_synth, live, score_count, store,
               training, ui)


def command_demo(arguments: argparse.Namespace) -> int:
    from posegraph.flows.demo import run_demo

    return run_demo(Path(arguments.out), subjects=arguments.subjects, workers=arguments.workers)


EXAMPLES = """examples:
  posegraph extract videos/ --store corpus              skeletons of every video under videos/ (label = folder)
  posegraph query "SELECT label, count(*) FROM videos GROUP BY 1" --store corpus
  posegraph train --model stgcn --store corpus          train with the defaults, evaluate on the test split
  posegraph cache build --store corpus --layout openpose18   prepare the training clips once (large corpora)
  posegraph classify clip.mp4 --checkpoint runs/RUN/best.pt
  posegraph ensemble --checkpoints runs/A runs/B --store corpus --out ab.yaml   weights searched on val
  posegraph count squat.mp4 --out squat-count.png        count repetitions (no training needed)
  posegraph analyse squat.mp4 --bundle bundle --out report/   exercise, repetitions, form per rep, cues
  posegraph store check corpus --repair                 find and take out damaged files
  posegraph store report corpus --html report.html      data quality: splits, outliers, duplicates, failures
  posegraph ui --store corpus --runs runs/              browse the corpus in the browser

'posegraph COMMAND --help' describes a command and its options."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("posegraph")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posegraph", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES,
        description="Exercise videos -> skeletons -> Parquet tables -> skeleton-graph models.")
    parser.add_argument("--version", action="version", version=f"posegraph {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (analysis, import_synth, store, extraction, training, cache, ensemble, export, deploy, score_count, analyse,
                  live, ui):
        group.register(commands)
    demo = commands.add_parser("demo", help="the end-to-end demo on synthetic data")
    demo.add_argument("--out", default="demo_output", help="folder for everything the demo makes (default demo_output)")
    demo.add_argument("--subjects", type=int, default=6, help="synthetic subjects in the skeleton corpus (default 6)")
    demo.add_argument("--workers", type=int, default=2, help="extraction processes")
    demo.set_defaults(run=command_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The one error boundary of every command: a product error (a file that is not a video, a
    store that is not one, a bad checkpoint, ...) is one line naming the file and what to do, exit
    2; anything else is a bug: one line saying where its traceback was written, exit 1
    (``POSEGRAPH_DEBUG=1`` shows it instead)."""
    arguments = build_parser().parse_args(argv)
    from posegraph.flows.lifeline import tie_children_to_this_process

    tie_children_to_this_process()  # before anything starts a process: a kill -9 at any moment leaves none
    try:
        return arguments.run(arguments)
    except KeyboardInterrupt:
        print(f"posegraph {arguments.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _closed_pipe()
    except Exception as error:  # noqa: BLE001 - the boundary: nobody should read a traceback to learn their file is bad
        if not _is_product_error(error):
            if os.environ.get("POSEGRAPH_DEBUG"):
                raise
            print(f"posegraph {arguments.command}: internal error ({type(error).__name__}: {error}); this is a bug: "
                  f"the traceback is in {_save_traceback(arguments.command)}", file=sys.stderr)
            return 1
        print(f"posegraph {arguments.command}: error: {error}", file=sys.stderr)
        return 2


def _is_product_error(error: BaseException) -> bool:
    """An error about the user's input or machine, worded for them (not a bug)."""
    from posegraph.data.errors import StoreError
    from posegraph.skeleton.video import VideoError

    return isinstance(error, (StoreError, VideoError, OSError, ValueError))  # CheckpointError is a ValueError


def _save_traceback(command: str) -> str:
    import tempfile
    import traceback

    with tempfile.NamedTemporaryFile("w", prefix=f"posegraph-{command}-", suffix=".txt", delete=False) as file:
        traceback.print_exc(file=file)
    return file.name


def _closed_pipe() -> int:
    """The reader of our output went away (``posegraph layouts --joints | head``): stop quietly."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # Python's flush at exit must not fail again
    return 0
