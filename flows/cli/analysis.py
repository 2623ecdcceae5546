"""Commands for analysts: read-only SQL, the views' columns, layouts, the features table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import open_store as _store


def command_query(arguments: argparse.Namespace) -> int:
    from posegraph.data.export import check_output_path, write_result
    from posegraph.data.query import run_query
    from posegraph.features import FEATURE_NAMES

    store = _store(arguments.store)
    out = Path(arguments.out) if arguments.out else None
    if out is not None:
        check_output_path(out, store)
    result = run_query(store, arguments.sql, timeout_s=arguments.timeout or None, memory_limit=arguments.memory_limit,
                       feature_columns=FEATURE_NAMES)
    write_result(result, arguments.format, out)
    if arguments.out:
        print(f"{result.num_rows} rows written to {arguments.out}", file=sys.stderr)
    return 0


def command_schema(arguments: argparse.Namespace) -> int:
    from posegraph.data.query import column_note, describe_views
    from posegraph.features import FEATURE_NAMES

    for view, columns in describe_views(_store(arguments.store), FEATURE_NAMES).items():
        print(view)
        for name, kind in columns:
            note = column_note(view, name)
            print(f"  {name:<20} {kind:<12} {note}".rstrip())
    print("\njoint(list, 'left_knee') picks one joint from a frames list (joint(list, layout, name) in a store "
          "of several layouts); SQL lists are 1-based: x[1] is joint_index 0")
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


def command_features_build(arguments: argparse.Namespace) -> int:
    from tqdm import tqdm

    from posegraph.features.table import build_feature_table, select_videos

    store = _store(arguments.store)
    total = len(select_videos(store, arguments.layout, arguments.video))
    if arguments.layout and total == 0:
        known = sorted(set(store.videos().column("layout").to_pylist()))
        raise ValueError(f"no videos in layout {arguments.layout!r} in {store.root} "
                         f"(its layouts: {', '.join(known) or 'none'})")
    with tqdm(total=total, unit="video", desc="features", disable=arguments.quiet,
              file=sys.stderr) as bar:
        report = build_feature_table(store, arguments.layout, arguments.video,
                                     progress=lambda _: bar.update())
    for key, reason in report.failed:
        print(f"failed {key}: {reason}", file=sys.stderr)
    summary = report.summary()
    print(f"features: {summary['videos']} videos, {summary['frames']} frames written to "
          f"{store.location.child('features')}; {summary['skipped']} skipped (status not ok), "
          f"{summary['failed']} failed")
    return 1 if report.failed else 0


def register(commands: argparse._SubParsersAction) -> None:
    query = commands.add_parser("query", help="run read-only SQL (DuckDB) over a skeleton store")
    query.add_argument("sql", help="a SELECT over the views videos, frames, joints, features")
    query.add_argument("--store", required=True, help="skeleton store folder")
    query.add_argument("--format", default="table", choices=("table", "csv", "json", "parquet"),
                       help="table on the terminal (default), or csv, json, parquet (parquet needs --out)")
    query.add_argument("--out", help="write the result to this file instead of the terminal (not inside the store)")
    query.add_argument("--timeout", type=float, default=120.0,
                       help="stop the query after this many seconds (default 120; 0 = no limit)")
    query.add_argument("--memory-limit", default="4GB", help="DuckDB's memory limit for the query (default 4GB)")
    query.set_defaults(run=command_query)

    schema = commands.add_parser("schema", help="list the SQL views of a store and their columns")
    schema.add_argument("--store", required=True, help="skeleton store folder (or object-storage URI)")
    schema.set_defaults(run=command_schema)

    layouts = commands.add_parser("layouts", help="list skeleton layouts and conversions")
    layouts.add_argument("--joints", action="store_true", help="also list every joint")
    layouts.set_defaults(run=command_layouts)

    features = commands.add_parser("features", help="the per-frame biomechanical features table")
    actions = features.add_subparsers(dest="features_command", required=True, metavar="ACTION")
    build = actions.add_parser(
        "build", help="compute the 83 features of every stored frame of the ok videos (person 0) "
                      "into the store's features table, replacing earlier rows")
    build.add_argument("--store", required=True, help="skeleton store folder")
    build.add_argument("--layout", help="only videos stored in this layout (default: all)")
    build.add_argument("--video", action="append", metavar="VIDEO_ID",
                       help="only this video (repeatable; default: all)")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(run=command_features_build)
