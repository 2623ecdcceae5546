"""``posegraph store ...``: looking after a store (data engineers): compact, vacuum, history,
check and repair, migrate from the version-1 format."""

from __future__ import annotations

import argparse
import json
import sys

from .common import open_store


def command_compact(arguments: argparse.Namespace) -> int:
    from posegraph.data.upkeep import compact

    for table, metrics in compact(open_store(arguments.store)).items():
        print(f"{table:<9} {metrics.get('numFilesRemoved', 0):>6} files merged into {metrics.get('numFilesAdded', 0)}")
    return 0


def command_vacuum(arguments: argparse.Namespace) -> int:
    from posegraph.data.upkeep import vacuum

    removed = vacuum(open_store(arguments.store), arguments.retention_hours, arguments.dry_run)
    verb = "would remove" if arguments.dry_run else "removed"
    for table, files in removed.items():
        print(f"{table:<9} {verb} {len(files)} unreferenced file(s) older than {arguments.retention_hours:g} h")
    return 0


def command_history(arguments: argparse.Namespace) -> int:
    from posegraph.data.upkeep import history

    commits = history(open_store(arguments.store), arguments.limit)
    if arguments.json:
        print(json.dumps([commit.__dict__ | {"time": commit.time.isoformat()} for commit in commits], indent=1))
        return 0
    print(f"{'time (UTC)':<20} {'table':<9} {'version':>7}  {'operation':<28} {'videos':>6} {'rows':>8}  writer")
    for commit in commits:
        print(f"{commit.time:%Y-%m-%d %H:%M:%S} {commit.table:<9} {commit.version:>7}  {commit.operation[:28]:<28} "
              f"{commit.videos if commit.videos is not None else '':>6} "
              f"{commit.rows_added if commit.rows_added is not None else '':>8}  {commit.writer or ''}")
    return 0


def command_check(arguments: argparse.Namespace) -> int:
    from posegraph.data.upkeep import check

    report = check(open_store(arguments.store), repair=arguments.repair)
    print(f"checked {report.files_checked} data file(s): {len(report.damaged)} damaged")
    for damaged in report.damaged:
        print(f"  damaged: {damaged.path} ({damaged.table}): {damaged.problem}")
    if report.re_extract:
        print(f"videos to extract again ({len(report.re_extract)}; `posegraph extract` over their corpus "
              f"redoes exactly these):" if report.repaired else
              f"videos held by the damaged files ({len(report.re_extract)}):")
        for row in report.re_extract:
            print(f"  {row['source_path'] or row['video_id']}  ({row['why']})")
    if report.rebuild:
        print(f"derived rows lost ({len(report.rebuild)} videos): rebuild with `posegraph features build` "
              f"or `posegraph score`")
    if report.damaged and not report.repaired:
        print(f"run `posegraph store check {arguments.store} --repair` to take the damaged files out of the store")
        return 1
    if report.repaired:
        print(f"repaired: the damaged files were moved to {arguments.store}/_damaged/ and removed from the tables")
    return 0


def command_migrate(arguments: argparse.Namespace) -> int:
    from posegraph.data.migrate import migrate

    copied = migrate(arguments.old, arguments.new)
    print(f"copied {copied['videos']} videos rows, {copied['frames']} frames rows, {copied['features']} features "
          f"rows and {copied['scores']} scores rows into {arguments.new}; {arguments.old} was left as it was")
    return 0


def command_report(arguments: argparse.Namespace) -> int:
    """The data-quality report on stdout; exit status 1 when a ``--fail-on`` rule fails."""
    import dataclasses
    from pathlib import Path

    from posegraph.data.quality import profile_store
    from posegraph.data.quality_render import report_markdown, write_report_html
    from posegraph.data.quality_rules import check_rules, validate_rules

    validate_rules(arguments.fail_on)
    store = open_store(arguments.store)
    if arguments.flow:
        from posegraph.flows.reporting import store_report_flow

        report, results = store_report_flow(str(arguments.store), arguments.fail_on, arguments.html)
    else:
        report = profile_store(store)
        results = check_rules(report, arguments.fail_on)
        if arguments.html:
            write_report_html(report, arguments.html, results)
    print(report_markdown(report, results), end="")
    if arguments.json:
        document = dataclasses.asdict(report)
        document.pop("video_values")
        Path(arguments.json).write_text(json.dumps(document | {"rules": [dataclasses.asdict(item) for item in results]},
                                                   indent=1))
    if arguments.html:
        print(f"\nHTML report written to {arguments.html}")
    failed = [item for item in results if item.failed]
    for item in failed:
        print(f"posegraph store report: --fail-on {item.rule} failed: {item.detail}", file=sys.stderr)
    return 1 if failed else 0


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("store", help="look after a store: compact, vacuum, history, check, report, migrate")
    actions = group.add_subparsers(dest="store_command", required=True, metavar="ACTION")
    compact = actions.add_parser("compact", help="merge small data files (also done every few hundred commits)")
    compact.add_argument("store", help="skeleton store folder")
    compact.set_defaults(run=command_compact)
    vacuum = actions.add_parser("vacuum", help="delete files no recent table version refers to")
    vacuum.add_argument("store", help="skeleton store folder")
    vacuum.add_argument("--retention-hours", type=float, default=168.0,
                        help="keep files that versions younger than this refer to (default 168: a week)")
    vacuum.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    vacuum.set_defaults(run=command_vacuum)
    history = actions.add_parser("history", help="the commits of every table, newest first: who wrote what")
    history.add_argument("store", help="skeleton store folder")
    history.add_argument("--limit", type=int, default=50, help="commits per table, newest first (default 50)")
    history.add_argument("--json", action="store_true", help="one JSON object per commit")
    history.set_defaults(run=command_history)
    check = actions.add_parser("check", help="read every data file; --repair takes damaged ones out")
    check.add_argument("store", help="skeleton store folder")
    check.add_argument("--repair", action="store_true",
                       help="move damaged files to STORE/_damaged/, remove them from the tables, list videos to redo")
    check.set_defaults(run=command_check)
    report = actions.add_parser("report", help="data-quality profile: counts, subjects across splits, outliers, "
                                "duplicates, imbalance, failures (Markdown; --html; --fail-on for CI)")
    report.add_argument("store", help="skeleton store folder (or object-storage URI)")
    report.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report with charts")
    report.add_argument("--json", metavar="FILE", help="also write the report as JSON (format posegraph-store-report/1)")
    report.add_argument("--fail-on", action="append", default=[], metavar="RULE",
                        help="exit 1 when the rule fails: subjects-across-splits, duplicates, class-imbalance>R, "
                             "failed>S, MEASURE<V[:S] or MEASURE>V[:S] (e.g. detection-rate<0.5:5%%); repeatable")
    report.add_argument("--flow", action="store_true",
                        help="run as a Prefect flow: the report also becomes a Prefect artifact (key store-report)")
    report.set_defaults(run=command_report)
    migrate = actions.add_parser("migrate", help="copy a schema-version-1 store into the current format")
    migrate.add_argument("old", help="the version-1 store (only read)")
    migrate.add_argument("new", help="a new, empty folder for the version-2 store")
    migrate.set_defaults(run=command_migrate)
