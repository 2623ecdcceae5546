"""The ``posegraph`` command line, split by user: extraction (data engineers), store imports,
training (ML engineers), analysis (SQL) and form scoring (coaches, app developers). Heavy
libraries are imported inside the commands, so ``--help`` stays fast."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import analysis, extraction, scoring, store, training, upkeep


def command_demo(arguments: argparse.Namespace) -> int:
    from posegraph.flows.demo import run_demo

    return run_demo(Path(arguments.out), subjects=arguments.subjects, workers=arguments.workers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posegraph",
        description="Exercise videos -> skeletons -> Parquet tables -> skeleton-graph models.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (analysis, store, upkeep, extraction, training, scoring):
        group.register(commands)
    demo = commands.add_parser("demo", help="the end-to-end demo on synthetic data")
    demo.add_argument("--out", default="demo_output")
    demo.add_argument("--subjects", type=int, default=6)
    demo.add_argument("--workers", type=int, default=2, help="extraction processes")
    demo.set_defaults(run=command_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    from posegraph.data.errors import StoreError

    try:
        return arguments.run(arguments)
    except (StoreError, FileNotFoundError, ValueError) as error:  # CheckpointError is a ValueError
        print(f"posegraph {arguments.command}: error: {error}", file=sys.stderr)
        return 2
