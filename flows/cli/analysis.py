"""Commands for analysts: read-only SQL, the views' columns, layouts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import open_store as _store


def command_query(arguments: argparse.Namespace) -> int:
    from posegraph.data.export import write_result
    from posegraph.data.query import run_query

    result = run_query(_store(arguments.store), arguments.sql)
    write_result(result, arguments.format, Path(arguments.out) if arguments.out else None)
    if arguments.out:
        print(f"{result.num_rows} rows written to {arguments.out}", file=sys.stderr)
    return 0


def command_schema(arguments: argparse.Namespace) -> int:
    from posegraph.data.query import describe_views

    for view, columns in describe_views(_store(arguments.store)).items():
        print(view)
        for name, kind in columns:
            print(f"  {name:<20} {kind}")
    return 0


def command_layouts(arguments: argparse.Namespace) -> int:
    from posegraph.skeleton import LAYOUTS, conversions

    for layout in LAYOUTS.values():
        center = ", ".join(layout.joint_names[i] for i in layout.center)
        print(f"{layout.name}: {layout.num_joints} joints, {len(layout.edges)} edges, centre {center}")
        if arguments.joints:
            for index, name in enumerate(layout.joint_names):
                print(f"  {index:>2} {name}")
    print("conversions: " + ", ".join(f"{s} -> {t}" for s, t in conversions()))
    return 0



def register(commands: argparse._SubParsersAction) -> None:
    query = commands.add_parser("query", help="run read-only SQL (DuckDB) over a skeleton store")
    query.add_argument("sql", help="a SELECT over the views videos, frames, joints")
    query.add_argument("--store", required=True, help="skeleton store folder")
    query.add_argument("--format", default="table", choices=("table", "csv", "json", "parquet"))
    query.add_argument("--out", help="write the result to this file instead of the terminal")
    query.set_defaults(run=command_query)

    schema = commands.add_parser("schema", help="list the SQL views of a store and their columns")
    schema.add_argument("--store", required=True)
    schema.set_defaults(run=command_schema)

    layouts = commands.add_parser("layouts", help="list skeleton layouts and conversions")
    layouts.add_argument("--joints", action="store_true", help="also list every joint")
    layouts.set_defaults(run=command_layouts)
