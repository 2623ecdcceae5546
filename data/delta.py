"""One table of the skeleton store as a Delta Lake table (delta-rs, the ``deltalake`` package).

Why Delta: a commit adds files and removes others through one entry in ``_delta_log/``, so a
write costs what it writes, not what the table already holds (the former format rewrote a whole
bucket file per write), and readers see exactly the files of one table version (a stray file in
the folder is never data). Replacing a video is one transaction: ``write_deltalake`` with
``mode="overwrite"`` and a ``predicate`` removes the rows the predicate selects and appends the new
ones atomically.

Writers of one store on local disk take an exclusive file lock around each commit (see
:func:`posegraph.data.atomic.store_lock`); on object storage delta-rs resolves concurrent commits
itself, and a commit that still conflicts is retried here.

Data files are read with pyarrow from the table's file list (never through
``DeltaTable.to_pyarrow_*``, which aborts the interpreter at exit with pyarrow 25).
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import PurePath

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties, DeltaTable, WriterProperties, write_deltalake
from deltalake._internal import RemoveAction
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError
from deltalake.transaction import AddAction

from .errors import DamagedFileError
from .location import StoreLocation

COMMIT_ATTEMPTS = 5
MERGE_AT = 16  # small files in one partition that a write merges into one sorted file
SMALL_FILE_BYTES = 8 * 1024 * 1024  # files below this count as small (merged again); above, left alone
TARGET_FILE_BYTES = 64 * 1024 * 1024  # compaction merges files smaller than this into files of this size
# Commits older than this leave the log at the next checkpoint: finding the latest version lists
# the log, so its length is bounded; `store history` and time travel reach back this far.
TABLE_PROPERTIES = {"delta.logRetentionDuration": "interval 7 days"}
ROW_GROUP_ROWS = 8192  # small row groups: a reader skips to one video's rows by their statistics


def writer_properties() -> WriterProperties:
    return WriterProperties(max_row_group_size=ROW_GROUP_ROWS, compression="ZSTD")


def sql_string(value: object) -> str:
    """``'value'`` for a SQL statement or predicate (quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def as_utc(moment: datetime) -> datetime:
    """``moment`` with a time zone: the store's timestamps are UTC, so a naive time counts as UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def sql_timestamp(moment: datetime) -> str:
    """A UTC microsecond timestamp literal for a delta-rs predicate (naive times count as UTC)."""
    text = as_utc(moment).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"arrow_cast('{text}', 'Timestamp(Microsecond, Some(\"UTC\"))')"  # typed as the column is


def sql_list(values: Iterable[str]) -> str:
    """``('a', 'b')`` for a delta-rs predicate (values quoted, duplicates dropped, sorted)."""
    return "(" + ", ".join(sorted({sql_string(value) for value in values})) + ")"


def _partitions_of(rows: pa.Table, partition_by: Sequence[str]) -> list[dict[str, str]]:
    """The distinct partitions (``{column: value}``) that ``rows`` fall in."""
    if rows.num_rows == 0 or not partition_by:
        return []
    keys = rows.select(list(partition_by)).group_by(list(partition_by)).aggregate([])
    return keys.to_pylist()


def _plain_type(data_type: pa.DataType) -> pa.DataType:
    """The type readers expect for one delta-rs wrote (``string_view`` and friends)."""
    if data_type in (pa.string_view(), pa.large_string()):
        return pa.string()
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type) or pa.types.is_list_view(data_type) \
            or pa.types.is_large_list_view(data_type):
        return pa.list_(_plain_type(data_type.value_type))
    return data_type


def plain_types(table: pa.Table) -> pa.Table:
    """``table`` with plain Arrow types, so files written by delta-rs and by pyarrow concatenate."""
    schema = pa.schema([field.with_type(_plain_type(field.type)) for field in table.schema])
    return table if schema.equals(table.schema) else table.cast(schema)


@dataclass(frozen=True)
class DataFile:
    """One data file of the current table version, with the partition it belongs to."""

    path: PurePath  # a Path for a store on local disk; inside the store's filesystem otherwise
    partition: dict[str, str | None]
    rows: int
    size_bytes: int
    min_video_id: str | None
    max_video_id: str | None


class StoreTable:
    """A Delta table of the store (``videos``, ``frames``, ``features`` or ``scores``).

    Args:
        location: the store's root (a local folder or an object-storage URI).
        name: the table's folder name inside it.
        partition_by: partition columns (``bucket``, and ``layout`` for the per-layout tables).
    """

    def __init__(self, location: StoreLocation, name: str, partition_by: Sequence[str], merge_at: int = MERGE_AT,
                 small_file_bytes: int = SMALL_FILE_BYTES) -> None:
        self.location, self.name, self.partition_by, self.merge_at = location, name, list(partition_by), merge_at
        self.root = location.root()
        self.small_file_bytes = small_file_bytes
        self.path = location.path(name)  # for Arrow
        self.uri = location.child(name)  # for delta-rs
        self._table: DeltaTable | None = None
        self._actions: tuple[int, pa.Table] | None = None  # (version, its add actions)
        self._pinned = False

    def exists(self) -> bool:
        if self.location.is_local:
            return (self.path / "_delta_log").is_dir()
        return DeltaTable.is_deltatable(self.uri)

    def current(self) -> DeltaTable | None:
        """The table at its latest version (loaded once, then updated incrementally), or None.

        Inside :meth:`pinned` the version is not looked up again (each look-up lists the log).
        """
        if self._table is None:
            if not self.exists():
                return None
            try:
                self._table = DeltaTable(self.uri)
            except TableNotFoundError:
                return None
        elif not self._pinned:
            self._table.update_incremental()
        return self._table

    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """Look the latest version up once, then use it (the caller holds the store's write lock,
        so only its own commits, which update the table object, can change it)."""
        self.current()
        self._pinned = True
        try:
            yield
        finally:
            self._pinned = False

    # -- writing -------------------------------------------------------------------------
    def replace(self, rows: pa.Table, predicate: str | None, writer: dict[str, str]) -> None:
        """Remove the rows ``predicate`` selects and append ``rows``, in one commit.

        ``rows`` must all satisfy ``predicate`` (delta-rs checks). With no rows it is a delete,
        which commits nothing when nothing matches. The caller holds the store's write lock.
        """
        properties = CommitProperties(custom_metadata=writer)
        for attempt in range(COMMIT_ATTEMPTS):
            try:
                self._commit(rows, predicate, properties)
                break
            except CommitFailedError:
                if attempt == COMMIT_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * 2 ** attempt)
            except (DeltaError, OSError) as error:
                raise DamagedFileError(
                    f"writing to the {self.name} table of the store at {self.root} failed while reading its "
                    f"files ({str(error).splitlines()[0][:200]}). If a file is damaged, run `posegraph store "
                    f"check {self.root} --repair`.") from None
        for partition in _partitions_of(rows, self.partition_by):
            self.merge_small_files(partition, self.merge_at)

    def _commit(self, rows: pa.Table, predicate: str | None, properties: CommitProperties) -> None:
        table = self.current()
        if rows.num_rows == 0:
            if table is not None and predicate:
                table.delete(predicate, commit_properties=properties)
            return
        if table is None:
            write_deltalake(self.uri, rows, mode="append", partition_by=self.partition_by or None,
                            commit_properties=properties, writer_properties=writer_properties(),
                            configuration=TABLE_PROPERTIES)
            self._table = DeltaTable(self.uri)
            return
        if predicate:
            write_deltalake(table, rows, mode="overwrite", predicate=predicate, schema_mode="merge",
                            commit_properties=properties, writer_properties=writer_properties())
        else:
            write_deltalake(table, rows, mode="append", schema_mode="merge", commit_properties=properties,
                            writer_properties=writer_properties())

    def overwrite(self, rows: pa.Table, writer: dict[str, str]) -> None:
        """Replace the whole table, schema included, by ``rows`` (one commit)."""
        write_deltalake(self.uri, rows, mode="overwrite", schema_mode="overwrite",
                        partition_by=self.partition_by or None, configuration=TABLE_PROPERTIES,
                        commit_properties=CommitProperties(custom_metadata=writer),
                        writer_properties=writer_properties())
        self._table = None

    def column_names(self) -> list[str]:
        """The table's columns (partition columns included); empty when there is no table."""
        table = self.current()
        return [] if table is None else [field.name for field in table.schema().fields]

    def merge_small_files(self, partition: dict[str, str], at_least: int = MERGE_AT) -> bool:
        """Merge a partition's small files into one file sorted by video id, in one commit.

        What keeps writes flat: a partition never holds more than ``at_least`` small files, so the
        files a write or a read of one video looks at stay few, and only small files are rewritten
        (their merged file stops being merged once it passes :data:`SMALL_FILE_BYTES`). The rows are
        the same, so the commit changes no data (``dataChange`` false).
        """
        small = [f for f in self.files(**partition) if f.size_bytes < self.small_file_bytes]
        if len(small) < at_least:
            return False
        rows = pa.concat_tables([plain_types(self.location.read_parquet(f.path)) for f in small], promote_options="permissive")
        rows = rows.sort_by([("video_id", "ascending")])
        folder = "/".join(f"{key}={partition[key]}" for key in self.partition_by)
        relative = f"{folder}/part-merged-{uuid.uuid4().hex}.zstd.parquet"
        self.location.write_parquet(rows, self.path / relative, row_group_size=ROW_GROUP_ROWS, compression="zstd")
        now = int(time.time() * 1000)
        ids = rows["video_id"]
        stats = {"numRecords": rows.num_rows, "minValues": {"video_id": pc.min(ids).as_py()},
                 "maxValues": {"video_id": pc.max(ids).as_py()}, "nullCount": {"video_id": 0}}
        actions = [RemoveAction(f.path.relative_to(self.path).as_posix(), False, now, f.size_bytes, partition) for f in small]
        actions.append(AddAction(path=relative, size=self.location.size(self.path / relative), partition_values=partition,
                                 modification_time=now, data_change=False, stats=json.dumps(stats)))
        table = self.current()
        table.create_write_transaction(actions, mode="append", schema=table.schema(), partition_by=self.partition_by,
                                       commit_properties=CommitProperties(custom_metadata={
                                           "posegraph.operation": f"merge {len(small)} small files"}))
        table.update_incremental()
        return True

    # -- upkeep --------------------------------------------------------------------------
    def compact(self, sort: bool = True) -> dict:
        """Merge small files into files of about :data:`TARGET_FILE_BYTES` (one commit, if any).

        ``sort`` rewrites each partition sorted by ``video_id`` (Z-order on one column), so that a
        file's row groups hold narrow ranges of ids and one video's read touches one row group;
        without it only small files are merged (cheap: what the automatic compaction does).
        """
        table = self.current()
        if table is None:
            return {"numFilesAdded": 0, "numFilesRemoved": 0}
        properties = CommitProperties(custom_metadata={"posegraph.operation": "compact" + (" (sorted)" if sort else "")})
        if sort:
            return table.optimize.z_order(["video_id"], target_size=TARGET_FILE_BYTES,
                                          writer_properties=writer_properties(), commit_properties=properties)
        return table.optimize.compact(target_size=TARGET_FILE_BYTES, writer_properties=writer_properties(),
                                      commit_properties=properties)

    def vacuum(self, retention_hours: float, dry_run: bool = False) -> list[str]:
        """Delete files no version younger than ``retention_hours`` refers to."""
        table = self.current()
        if table is None:
            return []
        return table.vacuum(retention_hours=int(retention_hours), enforce_retention_duration=False,
                            dry_run=dry_run, full=True)

    def history(self, limit: int | None = None) -> list[dict]:
        table = self.current()
        return [] if table is None else table.history(limit)

    def forget_missing_files(self, writer: dict[str, str]) -> list[str]:
        """Remove from the table, in one commit, the files that are no longer on disk."""
        table = self.current()
        if table is None:
            return []
        return table.repair(dry_run=False, commit_properties=CommitProperties(custom_metadata=writer))["files_removed"]

    # -- reading -------------------------------------------------------------------------
    def files(self, **partition: str | None) -> list[DataFile]:
        """The data files of the current version, only those of ``partition`` when given."""
        table = self.current()
        if table is None:
            return []
        if self._actions is None or self._actions[0] != table.version():
            self._actions = (table.version(), pa.table(table.get_add_actions(flatten=True)))
        actions = self._actions[1]
        names = actions.column_names
        for key, wanted in partition.items():
            actions = actions.filter(pc.equal(actions[f"partition.{key}"], wanted))
        result = []
        for row in actions.to_pylist():
            values = {column: row.get(f"partition.{column}") for column in self.partition_by}
            result.append(DataFile(
                path=self.path / row["path"], partition=values, rows=int(row["num_records"] or 0),
                size_bytes=int(row["size_bytes"]),
                min_video_id=row.get("min.video_id") if "min.video_id" in names else None,
                max_video_id=row.get("max.video_id") if "max.video_id" in names else None))
        return result
