"""Looking after a store: compaction, vacuum, commit history, and finding and removing damage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.compute as pc

from .delta import sql_string
from .store import DERIVED, TABLES, SkeletonStore

DAMAGED_DIR = "_damaged"
DEFAULT_RETENTION_HOURS = 168.0  # a week, Delta Lake's default: readers of older versions keep working


def compact(store: SkeletonStore) -> dict[str, dict]:
    """Merge each table's small files (one commit per table that had any)."""
    with store.lock():
        return {name: store.tables[name].compact() for name in TABLES}


def vacuum(store: SkeletonStore, retention_hours: float = DEFAULT_RETENTION_HOURS,
           dry_run: bool = False) -> dict[str, list[str]]:
    """Delete files that no table version younger than ``retention_hours`` refers to.

    That includes files a killed writer left behind (never committed). Versions older than the
    retention can no longer be read (time travel ends there).
    """
    with store.lock():
        return {name: store.tables[name].vacuum(retention_hours, dry_run) for name in TABLES}


@dataclass(frozen=True)
class Commit:
    """One commit of one table, as ``posegraph store history`` shows it."""

    table: str
    version: int
    time: datetime
    operation: str
    writer: str | None
    videos: int | None
    rows_added: int | None
    files_added: int | None
    files_removed: int | None


def history(store: SkeletonStore, limit: int | None = None) -> list[Commit]:
    """The commits of every table, newest first."""
    commits = []
    for name in TABLES:
        for entry in store.tables[name].history(limit):
            metrics = entry.get("operationMetrics") or {}
            videos = entry.get("posegraph.videos")
            commits.append(Commit(
                table=name, version=int(entry["version"]),
                time=datetime.fromtimestamp(entry["timestamp"] / 1000, tz=timezone.utc),
                operation=entry.get("posegraph.operation") or entry.get("operation", "?").lower(),
                writer=entry.get("posegraph.writer"), videos=int(videos) if videos else None,
                rows_added=metrics.get("num_added_rows"),
                files_added=metrics.get("num_added_files", metrics.get("numFilesAdded")),
                files_removed=metrics.get("num_removed_files", metrics.get("numFilesRemoved"))))
    commits.sort(key=lambda commit: (commit.time, commit.table, commit.version), reverse=True)
    return commits[:limit] if limit else commits


@dataclass(frozen=True)
class DamagedFile:
    table: str
    path: str
    problem: str
    partition: dict
    min_video_id: str | None
    max_video_id: str | None


@dataclass
class CheckReport:
    """What ``posegraph store check`` found (and, with ``--repair``, did)."""

    files_checked: int = 0
    damaged: list[DamagedFile] = field(default_factory=list)
    repaired: bool = False
    re_extract: list[dict] = field(default_factory=list)  # video_id, layout, source_path, why
    rebuild: list[dict] = field(default_factory=list)  # features / scores lost: video_id, layout, table


def check(store: SkeletonStore, repair: bool = False) -> CheckReport:
    """Read every data file the tables refer to; with ``repair``, take the damaged ones out.

    Repair moves each damaged file to ``STORE/_damaged/`` and removes it from its table in one
    commit; a video whose frames were in a damaged file loses its ``videos`` row too, so that the
    next ``posegraph extract`` over its corpus extracts it again (the report lists it by path).
    """
    report = CheckReport()
    for name in TABLES:
        for data_file in store.files(name):
            report.files_checked += 1
            try:
                store.location.read_parquet(data_file.path)
            except (OSError, pa.ArrowException) as error:
                report.damaged.append(DamagedFile(
                    name, str(data_file.path), str(error).splitlines()[0][:200], data_file.partition,
                    data_file.min_video_id, data_file.max_video_id))
    if not report.damaged:
        return report
    candidates = _videos_in_damaged_files(store, report.damaged)
    if not repair:
        report.re_extract = [row for row in candidates if row["table"] in ("frames", "videos")]
        report.rebuild = [row for row in candidates if row["table"] in DERIVED]
        return report
    with store.lock():
        for damaged in report.damaged:
            table_path = str(store.tables[damaged.table].path)
            destination = store.location.path(DAMAGED_DIR, damaged.table, damaged.path[len(table_path) + 1:])
            store.location.move(store.location.at(damaged.path), destination)
        writer = {"posegraph.operation": "repair: remove damaged files", "posegraph.writer": store.writer}
        for name in sorted({damaged.table for damaged in report.damaged}):
            store.tables[name].forget_missing_files(writer)
        lost = [row for row in candidates if row["table"] == "frames" and not _has_frames(store, row)]
        if lost:
            keys = " OR ".join(f"(layout = {sql_string(row['layout'])} AND video_id = {sql_string(row['video_id'])})"
                               for row in lost)
            store.tables["videos"].replace(pa.table({}), keys, writer | {"posegraph.videos": str(len(lost))})
    report.repaired = True
    report.re_extract = [row for row in candidates if row["table"] == "videos"] + lost
    report.rebuild = [row for row in candidates if row["table"] in DERIVED]
    return report


def _videos_in_damaged_files(store: SkeletonStore, damaged: list[DamagedFile]) -> list[dict]:
    """The videos a damaged file may have held, from the other tables and the file's statistics."""
    videos = store.videos() if not any(d.table == "videos" for d in damaged) else _readable_videos(store)
    found = []
    for damaged_file in damaged:
        bucket = damaged_file.partition.get("bucket")
        low, high = damaged_file.min_video_id, damaged_file.max_video_id
        if damaged_file.table == "videos":
            ids = set()
            for data_file in store.files("frames", bucket=bucket):
                try:
                    ids |= set(store.location.read_parquet(data_file.path, columns=["video_id"])["video_id"].to_pylist())
                except (OSError, pa.ArrowException):
                    continue
            ids = {i for i in ids if (low is None or low <= i) and (high is None or i <= high)}
            found += [{"table": "videos", "video_id": i, "layout": None, "source_path": None,
                       "why": f"its videos row was in {damaged_file.path}"} for i in sorted(ids)]
            continue
        layout = damaged_file.partition.get("layout")
        mask = pc.and_(pc.equal(videos["layout"], layout),
                       pc.equal(pc.utf8_slice_codeunits(videos["video_id"], 0, store.bucket_digits), bucket))
        for row in videos.filter(mask).to_pylist():
            if (low is None or low <= row["video_id"]) and (high is None or row["video_id"] <= high) \
                    and (damaged_file.table != "frames" or row["status"] == "ok"):
                found.append({"table": damaged_file.table, "video_id": row["video_id"], "layout": layout,
                              "source_path": row["source_path"], "why": f"its {damaged_file.table} were in "
                              f"{damaged_file.path}"})
    return found


def _readable_videos(store: SkeletonStore) -> pa.Table:
    tables = []
    for data_file in store.files("videos"):
        try:
            tables.append(store.location.read_parquet(data_file.path))
        except (OSError, pa.ArrowException):
            continue
    return pa.concat_tables(tables, promote_options="permissive") if tables else \
        pa.table({"video_id": pa.array([], pa.string()), "layout": pa.array([], pa.string()),
                  "status": pa.array([], pa.string()), "source_path": pa.array([], pa.string())})


def _has_frames(store: SkeletonStore, row: dict) -> bool:
    for data_file in store.files("frames", layout=row["layout"], bucket=store.bucket_of(row["video_id"])):
        ids = store.location.read_parquet(data_file.path, columns=["video_id"])["video_id"]
        if pc.any(pc.equal(ids, row["video_id"])).as_py():
            return True
    return False
