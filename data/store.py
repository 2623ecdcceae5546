"""The skeleton store: Delta Lake tables of skeletons and what is derived from them.

Layout on disk::

    STORE/_posegraph_store.json      marker: format, schema version 2, buckets
    STORE/videos/                    Delta table, one row per (video_id, layout); partitions bucket=..
    STORE/frames/                    Delta table, one row per (video_id, layout, person, frame);
                                     partitions layout=../bucket=..
    STORE/features/                  Delta table, one row per (video_id, layout, frame)
    STORE/scores/                    Delta table, one row per (video_id, layout, reference, method, frame)
    STORE/_locks/                    the writers' lock (local disk)
    STORE/_damaged/                  files `posegraph store check --repair` took out of the tables

Each table's ``_delta_log/`` names the data files of every version: readers (this class, the
SQL views, Spark, Trino, Polars, DuckDB's delta reader) see exactly the files of one version, so
a stray or half-written file in a folder is never data. A video's bucket is the first
``bucket_digits`` hex digits of its id (default 2: 256 buckets per table and layout): reading one
video opens only its bucket's files, and compaction (``posegraph store compact``, and
automatically every few hundred commits) merges a bucket's small files.

Writes (``write_videos``) hold the store's write lock and commit per table: the frames of the
videos (old rows removed and new rows added in one commit), then the ``videos`` rows. A commit is
atomic and its cost does not grow with the store. The ``videos`` row is the commit record: frames
without one (a writer killed in between) are ignored by :meth:`read_video` and the SQL views, and
replaced on the next write. Writing a video again replaces its rows (idempotent).

``features`` holds data derived from a video's frames (``posegraph features build``) and ``scores``
its form scores (``posegraph score``). Writing a video drops its features and scores first, so no
derived rows outlive the skeletons they came from; derived rows are only written for the
``videos`` row they were computed from (its ``extracted_at``).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePath

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..skeleton import get_layout
from ..skeleton.vocabulary import STORED_PHASE_SCHEMES
from .atomic import store_lock
from .delta import DataFile, StoreTable, as_utc, plain_types, sql_list, sql_string, sql_timestamp
from .errors import DamagedFileError, NotAStoreError, StoreVersionError, VideoNotFoundError
from .location import StoreLocation
from .records import Skeletons, VideoFrames, VideoInfo
from .schema import (FEATURE_KEYS, METADATA_COLUMNS, SCHEMA_VERSION, STATUSES, VIDEOS_SCHEMA,
                     features_schema, frames_schema, scores_schema)

MARKER_NAME = "_posegraph_store.json"
STORE_FORMAT = "posegraph-skeleton-store"
TABLES = ("videos", "frames", "features", "scores", "repetitions", "phases")
DERIVED = ("features", "scores", "repetitions")  # computed from a video's frames: dropped when it is written again
PARTITIONS = {"videos": ("bucket",), "frames": ("layout", "bucket"), "features": ("layout", "bucket"),
              "scores": ("layout", "bucket"), "repetitions": ("layout", "bucket"), "phases": ("bucket",)}
REPETITIONS_SCHEMA = pa.schema([
    pa.field("video_id", pa.string(), nullable=False),
    pa.field("repetition", pa.int32(), nullable=False),  # 1, 2, ... in order
    pa.field("frame_index", pa.int32()),  # the video's frame of the repetition's turning point
    pa.field("time_s", pa.float64()),
    pa.field("method", pa.string()),  # the counter, e.g. pca-hysteresis/1
    pa.field("counted_at", pa.timestamp("us", tz="UTC")),
])
# Hand-made phase labels (not derived: they name source frames, so they survive re-extraction).
PHASE_SCHEMES = STORED_PHASE_SCHEMES  # repetitions: phase "repetition" per range
PHASES_SCHEMA = pa.schema([
    pa.field("video_id", pa.string(), nullable=False),
    pa.field("scheme", pa.string(), nullable=False),
    pa.field("first_frame", pa.int32(), nullable=False),  # source frame_index, inclusive
    pa.field("last_frame", pa.int32(), nullable=False),
    pa.field("phase", pa.string(), nullable=False),
    pa.field("source", pa.string()),  # where the labels came from (a CSV file's name)
    pa.field("imported_at", pa.timestamp("us", tz="UTC")),
])


def _row_groups_that_may_hold(file: pq.ParquetFile, video_id: str) -> list[int]:
    """Row groups whose ``video_id`` statistics do not rule the video out (a file's rows are sorted)."""
    column = file.schema_arrow.get_field_index("video_id")
    groups = []
    for index in range(file.metadata.num_row_groups):
        statistics = file.metadata.row_group(index).column(column).statistics
        if statistics is None or not statistics.has_min_max or statistics.min <= video_id <= statistics.max:
            groups.append(index)
    return groups


def read_data_file(location: StoreLocation, path: PurePath, video_id: str | None = None,
                   columns: list[str] | None = None) -> pa.Table:
    """Read one data file of the store (only ``video_id``'s rows, when given), with plain Arrow types.

    A damaged file is a :class:`DamagedFileError` naming it and the repair command.
    """
    try:
        file = location.parquet_file(path)
        if video_id is None:
            return plain_types(file.read(columns=columns))
        groups = _row_groups_that_may_hold(file, video_id)
        names = None if columns is None else list(dict.fromkeys([*columns, "video_id"]))
        table = plain_types(file.read_row_groups(groups, columns=names)) if groups else \
            plain_types(file.schema_arrow.empty_table()).select(names or file.schema_arrow.names)
        table = table.filter(pc.equal(table["video_id"], video_id))
        return table if columns is None else table.select(columns)
    except (OSError, pa.ArrowException, KeyError) as error:
        raise DamagedFileError(
            f"{path} is damaged or missing ({str(error).splitlines()[0][:160]}). Run "
            f"`posegraph store check {location.root()} --repair` to take it out of the store and list the "
            f"videos to extract again."
        ) from None


def _concat(tables: Sequence[pa.Table], empty_schema: pa.Schema) -> pa.Table:
    """Concatenate with unified schemas, so a column added later stays visible."""
    if not tables:
        return empty_schema.empty_table()
    return pa.concat_tables(tables, promote_options="permissive")


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns: missing ones null, others dropped."""
    columns = [table[field.name].cast(field.type) if field.name in table.column_names
               else pa.nulls(table.num_rows, field.type) for field in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def _with_partitions(table: pa.Table, **values: str) -> pa.Table:
    """Rows with their partition columns appended (what ``write_deltalake`` takes the folders from)."""
    for name, value in values.items():
        table = table.append_column(name, pa.array([value] * table.num_rows, type=pa.string()))
    return table


def _variable_lists(table: pa.Table) -> pa.Table:
    """Fixed-size list columns as plain lists (Delta has no fixed-size list type)."""
    fields = [pa.field(f.name, pa.list_(f.type.value_type), f.nullable) if pa.types.is_fixed_size_list(f.type)
              else f for f in table.schema]
    return table.cast(pa.schema(fields))


def _may_hold(data_file: DataFile, video_id: str) -> bool:
    """False when the file's statistics rule the video out."""
    low, high = data_file.min_video_id, data_file.max_video_id
    return low is None or high is None or low <= video_id <= high


def with_layout(table: pa.Table, layout: str) -> pa.Table:
    """A features (or scores) file's rows with their partition column put back (after ``video_id``)."""
    return table.add_column(1, pa.field("layout", pa.string(), nullable=False),
                            pa.array([layout] * table.num_rows, type=pa.string()))


# What :meth:`SkeletonStore.read_features` returns for a video without features.
FEATURE_KEY_COLUMNS = pa.schema([pa.field("video_id", pa.string(), nullable=False),
                                 pa.field("layout", pa.string(), nullable=False),
                                 pa.field("frame_index", pa.int32(), nullable=False)])


# What :meth:`SkeletonStore.read_repetitions` returns for a video without counted repetitions.
REPETITION_KEY_COLUMNS = pa.schema([pa.field("video_id", pa.string(), nullable=False),
                                    pa.field("layout", pa.string(), nullable=False),
                                    pa.field("repetition", pa.int32(), nullable=False)])


# What :meth:`SkeletonStore.read_scores` returns for a video without scores.
SCORE_KEY_COLUMNS = pa.schema([pa.field("video_id", pa.string(), nullable=False),
                               pa.field("layout", pa.string(), nullable=False),
                               pa.field("reference", pa.string(), nullable=False),
                               pa.field("method", pa.string(), nullable=False),
                               pa.field("frame_index", pa.int32(), nullable=False)])


@dataclass(frozen=True)
class FeatureRows:
    """One video's per-frame features, as given to :meth:`SkeletonStore.write_features`.

    Shapes:
        frame_indices: ``(T,)`` int, the stored frames' ``frame_index``.
        values: ``(T, F)`` float, columns in the order of the names passed along; NaN (or
        inf) is written as null.

    ``extracted_at`` is the ``videos`` row's value the features were computed from: if the
    video has been written again since, the rows are not stored (they would be stale).
    ``None`` skips that check (the row must still exist).
    """

    video_id: str
    layout: str
    frame_indices: np.ndarray
    values: np.ndarray
    extracted_at: datetime | None = None


@dataclass(frozen=True)
class RepetitionRows:
    """One video's counted repetitions, as given to :meth:`SkeletonStore.write_repetitions`.

    Shapes: ``frame_indices (R,)`` the video's frame of each repetition, ``times_s (R,)`` seconds.
    """

    video_id: str
    layout: str
    frame_indices: np.ndarray
    times_s: np.ndarray
    method: str
    extracted_at: datetime | None = None
    counted_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass(frozen=True)
class PhaseRows:
    """One video's phase labels in one scheme, as given to :meth:`SkeletonStore.write_phases`.

    ``ranges``: ``(first_frame, last_frame, phase)`` of source frame indices, inclusive. Writing
    a video's labels of a scheme again replaces them.
    """

    video_id: str
    scheme: str
    ranges: list[tuple[int, int, str]]
    source: str | None = None
    imported_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass(frozen=True)
class ScoreRows:
    """One video's form scores against one reference, as given to :meth:`SkeletonStore.write_scores`.

    Shapes:
        frame_indices: ``(T,)`` int, the scored frames' ``frame_index``.
        joint_scores: ``(T, V)`` float, 0-100 per joint in the layout's joint order.
        frame_scores, running_scores: ``(T,)`` float. timestamps: ``(T,)`` seconds or None.
        NaN (no score) is written as null.

    ``(video_id, layout, reference, method)`` keys the rows: writing them again replaces them.
    ``extracted_at`` works as for :class:`FeatureRows`: scores of a video written again since
    they were computed are not stored.
    """

    video_id: str
    layout: str
    reference: str
    method: str
    frame_indices: np.ndarray
    joint_scores: np.ndarray
    frame_scores: np.ndarray
    running_scores: np.ndarray
    timestamps: np.ndarray | None = None
    exercise: str | None = None
    reference_exercise: str | None = None
    reference_sha: str | None = None
    extracted_at: datetime | None = None
    scored_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


class SkeletonStore:
    """A folder of Delta Lake tables holding skeletons extracted from videos.

    Args:
        path: the store folder; created (with its marker) when missing or empty.
        create: if False, a missing store is an error instead of being created.
        bucket_digits: hex digits of the video id that pick the bucket (new stores only).

    Example:
        >>> store = SkeletonStore("corpus_store")
        >>> store.write_video(info, skeletons)
        >>> frames = store.read_video(info.video_id)   # frames.joints: (T, V, 4)
    """

    def __init__(self, path: str | Path, create: bool = True, bucket_digits: int = 2) -> None:
        self.location = StoreLocation.of(path)
        self.root = self.location.root()  # the folder (a Path), or the URI of a store on object storage
        marker = self.location.path(MARKER_NAME)
        if isinstance(self.root, Path) and self.root.exists() and not self.root.is_dir():
            raise NotAStoreError(f"{self.root} is a file, not a skeleton store. Point --store at a folder.")
        if self.location.exists(marker):
            self.bucket_digits = self._read_marker(marker)
        elif found := self.location.names():
            raise NotAStoreError(
                f"{self.root} is not a posegraph skeleton store (no {MARKER_NAME}; found: "
                f"{', '.join(found[:8])}). Point --store at an existing store, or at a new or empty folder "
                f"to create one."
            )
        elif not create:
            raise NotAStoreError(
                f"no skeleton store at {self.root}. Create one with `posegraph extract`, "
                f"`posegraph import kinetics` or `posegraph synth`."
            )
        else:
            self.bucket_digits = bucket_digits
            marker_content = {"format": STORE_FORMAT, "schema_version": SCHEMA_VERSION,
                              "table_format": "delta", "bucket_digits": bucket_digits}
            self.location.write_text(marker, json.dumps(marker_content, indent=2) + "\n")
        # videos files are tiny and every write reads its buckets' ones: a few per bucket, each
        # merged file small enough (256 KB, about a thousand rows) to be cheap to merge again
        self.tables = {name: StoreTable(self.location, name, PARTITIONS[name], merge_at=4,
                                        small_file_bytes=256 * 1024)
                       if name == "videos" else StoreTable(self.location, name, PARTITIONS[name]) for name in TABLES}
        self.writer = os.environ.get("POSEGRAPH_WRITER") or (
            f"{socket.gethostname()} pid {os.getpid()} {Path(sys.argv[0]).name if sys.argv else 'python'}")
        self._check_buckets()

    def lock(self) -> contextlib.AbstractContextManager:
        """The writers' lock: an ``flock`` on local disk; on object storage none (delta-rs's
        conditional commits keep concurrent writers apart, and a conflicting commit is retried)."""
        return store_lock(self.root) if self.location.is_local else contextlib.nullcontext()

    def _read_marker(self, marker: PurePath) -> int:
        try:
            content = json.loads(self.location.read_text(marker))
        except json.JSONDecodeError as error:
            raise NotAStoreError(f"{marker} is not valid JSON ({error}); the store is damaged.") from None
        if content.get("format") != STORE_FORMAT:
            raise NotAStoreError(f"{marker} does not describe a posegraph skeleton store.")
        version = content.get("schema_version")
        if version == 1:
            raise StoreVersionError(
                f"the store at {self.root} has schema version 1 (one Parquet file per bucket), but this "
                f"posegraph reads version {SCHEMA_VERSION} (Delta Lake tables). Copy it into the new format "
                f"with `posegraph store migrate {self.root} NEW_STORE`, then use NEW_STORE."
            )
        if version != SCHEMA_VERSION:
            raise StoreVersionError(
                f"the store at {self.root} has schema version {version}, "
                f"but this posegraph reads version {SCHEMA_VERSION}. Use the posegraph release "
                f"that wrote it, or write to a new store (a new folder)."
            )
        return int(content["bucket_digits"])

    def _check_buckets(self) -> None:
        """The marker's bucket width must be the one the data was written with (else every
        video would be looked for, and written, in another bucket)."""
        files = self.tables["videos"].files()
        if files and files[0].partition.get("bucket") is not None \
                and len(files[0].partition["bucket"]) != self.bucket_digits:
            raise StoreVersionError(
                f"{self.location.child(MARKER_NAME)} says bucket_digits={self.bucket_digits}, but the store's "
                f"videos are in {len(files[0].partition['bucket'])}-digit buckets. Put the marker's "
                f"bucket_digits back to {len(files[0].partition['bucket'])}.")

    # -- where things live -------------------------------------------------------------
    def bucket_of(self, video_id: str) -> str:
        return video_id[: self.bucket_digits]

    def layouts(self) -> list[str]:
        """Layouts that have frames in this store."""
        return sorted({f.partition["layout"] for f in self.tables["frames"].files() if f.partition.get("layout")})

    def files(self, table: str, **partition: str) -> list[DataFile]:
        """The data files of ``table``'s current version (only ``partition``'s, when given)."""
        return self.tables[table].files(**partition)

    def _commit_info(self, operation: str, count: int) -> dict[str, str]:
        return {"posegraph.operation": operation, "posegraph.videos": str(count), "posegraph.writer": self.writer}

    # -- writing -----------------------------------------------------------------------
    def write_video(self, info: VideoInfo, skeletons: Skeletons | None = None) -> VideoInfo:
        """Store (or replace) one video; ``skeletons=None`` stores only its ``videos`` row."""
        return self.write_videos([(info, skeletons)])[0]

    def write_videos(self, items: Iterable[tuple[VideoInfo, Skeletons | None]]) -> list[VideoInfo]:
        """Store several videos in one commit per table (two for frames when replacing). Returns
        the stored rows.

        A later item for the same (video, layout) replaces an earlier one. A rewrite's
        ``extracted_at`` is made later than the row it replaces (it keys the frames that go with
        the row), so the stored rows may differ from the given ones there.
        """
        latest = {}
        for info, skeletons in items:
            completed = self._complete_info(info, skeletons)
            latest[completed.video_id, completed.layout] = (completed, skeletons)
        group = list(latest.values())
        if not group:
            return []
        with self._writing():
            return [info for info, _ in self._write_group(group)]

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """The store's write lock, with every table's version looked up once (see ``StoreTable.pinned``)."""
        with self.lock(), contextlib.ExitStack() as pins:
            for table in self.tables.values():
                pins.enter_context(table.pinned())
            yield

    def _complete_info(self, info: VideoInfo, skeletons: Skeletons | None) -> VideoInfo:
        layout = get_layout(info.layout)
        if info.status not in STATUSES:
            raise ValueError(f"video {info.video_id}: status must be one of {STATUSES}, got {info.status!r}")
        if not info.video_id or len(info.video_id) < self.bucket_digits:
            raise ValueError(f"video id {info.video_id!r} is too short")
        if skeletons is None:
            return info
        if skeletons.layout != info.layout or skeletons.joints.shape[2] != layout.num_joints:
            raise ValueError(
                f"video {info.video_id}: skeletons are {skeletons.layout} with "
                f"{skeletons.joints.shape[2]} joints, the row says {info.layout} "
                f"({layout.num_joints} joints)"
            )
        detected = skeletons.detected[0]
        visibility = skeletons.joints[0, detected, :, 3]
        timestamps = skeletons.timestamps
        return info.replace(
            frame_count=info.frame_count if info.frame_count is not None else int(len(detected)),
            detection_rate=info.detection_rate if info.detection_rate is not None
            else float(detected.mean()) if len(detected) else 0.0,
            mean_visibility=info.mean_visibility if info.mean_visibility is not None
            else float(np.nanmean(visibility)) if visibility.size else 0.0,
            duration_s=info.duration_s if info.duration_s is not None
            else float(timestamps[-1] - timestamps[0]) if len(timestamps) else 0.0,
        )

    def _predicate(self, video_ids: Iterable[str], layout: str | None = None) -> str:
        video_ids = sorted(set(video_ids))
        where = f"bucket IN {sql_list(self.bucket_of(v) for v in video_ids)} AND video_id IN {sql_list(video_ids)}"
        return where if layout is None else f"layout = {sql_string(layout)} AND {where}"

    def _write_group(self, group: list[tuple[VideoInfo, Skeletons | None]]
                     ) -> list[tuple[VideoInfo, Skeletons | None]]:
        """The one write of skeletons (caller holds the lock): derived rows dropped, new frames
        appended, the rows committed, and only then the replaced frames deleted.

        Frames rows carry their ``videos`` row's ``extracted_at``: readers take only frames that
        match the committed row, so frames a killed writer committed without their row are never
        read, a rewrite killed before its row keeps the old version whole, and videos new to the
        store are plain appends (no existing file is read or rewritten).
        """
        current = self._current(info.video_id for info, _ in group)
        replacing = any((info.video_id, info.layout) in current for info, _ in group)
        group = [(_later_than(info, current.get((info.video_id, info.layout))), skeletons)
                 for info, skeletons in group]
        ids_per_layout: dict[str, set[str]] = defaultdict(set)
        new_frames: dict[str, list[pa.Table]] = defaultdict(list)
        for info, skeletons in group:
            ids_per_layout[info.layout].add(info.video_id)
            if skeletons is not None:
                rows = _variable_lists(frames_table(info.video_id, skeletons))
                rows = rows.append_column(pa.field("extracted_at", pa.timestamp("us", tz="UTC")),
                                          pa.array([info.extracted_at] * rows.num_rows, pa.timestamp("us", tz="UTC")))
                new_frames[info.layout].append(_with_partitions(rows, layout=info.layout,
                                                                bucket=self.bucket_of(info.video_id)))
        commit = self._commit_info("write videos", len(group))
        for layout, video_ids in sorted(ids_per_layout.items()):
            if replacing:
                for derived in DERIVED:  # first: derived data never outlives its source
                    self.tables[derived].replace(pa.table({}), self._predicate(video_ids, layout), commit)
            if rows := new_frames.get(layout):  # the committed versions stay; a killed writer's frames go
                committed = {video_id: current[video_id, layout] for video_id in video_ids
                             if (video_id, layout) in current}
                self.tables["frames"].replace(
                    pa.concat_tables(rows), self._frames_other_than(layout, committed, video_ids) if committed else None,
                    commit)
        rows = videos_table([info for info, _ in group])
        rows = rows.append_column("bucket", pc.utf8_slice_codeunits(rows["video_id"], 0, self.bucket_digits))
        keys = " OR ".join(f"(layout = {sql_string(layout)} AND video_id IN {sql_list(ids)})"
                           for layout, ids in sorted(ids_per_layout.items()))
        buckets = sql_list(self.bucket_of(info.video_id) for info, _ in group)
        self.tables["videos"].replace(rows, f"bucket IN {buckets} AND ({keys})" if replacing else None, commit)
        if replacing:  # only now: the rows that went have nothing left to read
            for layout, video_ids in sorted(ids_per_layout.items()):
                written = {info.video_id: info.extracted_at for info, skeletons in group
                           if info.layout == layout and skeletons is not None}
                self.tables["frames"].replace(pa.table({}), self._frames_other_than(layout, written, video_ids), commit)
        return group

    def _frames_other_than(self, layout: str, versions: dict[str, datetime],
                           video_ids: Iterable[str] = ()) -> str | None:
        """A predicate for the frames of ``versions``' videos (and of ``video_ids``) in ``layout``
        other than those of the given ``extracted_at`` per video; None when it selects nothing."""
        video_ids = set(video_ids) | set(versions)
        if not video_ids:
            return None
        kept = " OR ".join(f"(video_id = {sql_string(video_id)} AND extracted_at = {sql_timestamp(moment)})"
                           for video_id, moment in sorted(versions.items()))
        if not kept or "extracted_at" not in self.tables["frames"].column_names():
            return self._predicate(video_ids, layout)
        return f"{self._predicate(video_ids, layout)} AND (extracted_at IS NULL OR NOT ({kept}))"

    def _current(self, video_ids: Iterable[str]) -> dict[tuple[str, str], datetime]:
        """``extracted_at`` of every committed (video, layout) of ``video_ids``."""
        wanted = set(video_ids)
        found = {}
        if len(wanted) <= 8:  # a few videos: only the row groups that may hold them
            for video_id in wanted:
                for table in self._rows_of("videos", video_id, columns=["video_id", "layout", "extracted_at"]):
                    for row in table.to_pylist():
                        found[row["video_id"], row["layout"]] = row["extracted_at"]
            return found
        for bucket in sorted({self.bucket_of(video_id) for video_id in wanted}):
            for data_file in self.files("videos", bucket=bucket):
                table = read_data_file(self.location, data_file.path, columns=["video_id", "layout", "extracted_at"])
                for row in table.to_pylist():
                    if row["video_id"] in wanted:
                        found[row["video_id"], row["layout"]] = row["extracted_at"]
        return found

    @staticmethod
    def _fresh(group: Sequence, current: dict[tuple[str, str], datetime]) -> list:
        """Items of derived rows whose ``videos`` row exists and was not written again since."""
        return [item for item in group if (item.video_id, item.layout) in current
                and item.extracted_at in (None, current[item.video_id, item.layout])]

    def write_features(self, names: Sequence[str], items: Iterable[FeatureRows]) -> list[FeatureRows]:
        """Store (or replace) videos' per-frame features, one commit per layout.

        Args:
            names: the feature column names, in the order of every item's ``values`` columns.
            items: one :class:`FeatureRows` per (video, layout); a later one for the same video
                and layout replaces an earlier one.

        Returns:
            The items stored. Items whose ``videos`` row is gone, or was written again after
            the features were computed (``extracted_at`` differs), are left out and not stored.

        The videos' previous rows are replaced: writing the same items twice gives the same rows.
        Reads return exactly the columns ``names`` of the latest write (a column no longer
        computed is not shown).
        """
        if not len(names):
            raise ValueError("feature names must be unique, non-empty: write at least one feature column")
        schema = features_schema(names)
        stored = self._write_derived(
            items, key=lambda rows: (rows.video_id, rows.layout),
            check=lambda rows: _check_feature_rows(rows, len(schema) - len(FEATURE_KEYS)),
            table_name="features", table_of=lambda rows: features_table(rows, schema),
            predicate_of=lambda layout, layout_items: self._predicate((i.video_id for i in layout_items), layout))
        return stored

    def write_scores(self, items: Iterable[ScoreRows]) -> list[ScoreRows]:
        """Store (or replace) videos' form scores, one commit per layout.

        Args:
            items: one :class:`ScoreRows` per (video, layout, reference, method); a later one
                for the same key replaces an earlier one.

        Returns:
            The items stored. As for :meth:`write_features`, items whose ``videos`` row is gone
            or was written again after the scores were computed are left out. Rows of other
            references or methods of the same video are kept; writing the same items twice
            gives the same rows.
        """
        def predicate_of(layout: str, layout_items: list[ScoreRows]) -> str:
            keys = " OR ".join(
                f"(video_id = {sql_string(i.video_id)} AND reference = {sql_string(i.reference)} "
                f"AND method = {sql_string(i.method)})" for i in layout_items)
            return f"{self._predicate((i.video_id for i in layout_items), layout)} AND ({keys})"

        return self._write_derived(
            items, key=lambda rows: (rows.video_id, rows.layout, rows.reference, rows.method),
            check=_check_score_rows, table_name="scores",
            table_of=lambda rows: _variable_lists(scores_table(
                rows, scores_schema(rows.layout, get_layout(rows.layout).num_joints))),
            predicate_of=predicate_of)

    def write_repetitions(self, items: Iterable[RepetitionRows]) -> list[RepetitionRows]:
        """Store (or replace) the counted repetitions of videos, one row per repetition.

        As for :meth:`write_features`, only for the current ``videos`` row (``extracted_at``);
        a video with no repetition is stored as no rows (and replaces earlier ones).
        """
        def table_of(rows: RepetitionRows) -> pa.Table:
            count = len(rows.frame_indices)
            return pa.Table.from_arrays([
                pa.array([rows.video_id] * count, pa.string()), pa.array(np.arange(1, count + 1, dtype=np.int32)),
                pa.array(np.asarray(rows.frame_indices, dtype=np.int32)), pa.array(np.asarray(rows.times_s, dtype=np.float64)),
                pa.array([rows.method] * count, pa.string()),
                pa.array([rows.counted_at] * count, pa.timestamp("us", tz="UTC"))], schema=REPETITIONS_SCHEMA)

        def check(rows: RepetitionRows) -> None:
            if len(rows.frame_indices) != len(rows.times_s):
                raise ValueError(f"video {rows.video_id}: {len(rows.frame_indices)} frames but {len(rows.times_s)} times")

        return self._write_derived(
            items, key=lambda rows: (rows.video_id, rows.layout), check=check, table_name="repetitions",
            table_of=table_of,
            predicate_of=lambda layout, layout_items: self._predicate((i.video_id for i in layout_items), layout))

    def read_repetitions(self, video_id: str, layout: str | None = None) -> pa.Table:
        """One video's stored repetitions (``video_id, layout, repetition, frame_index, time_s, ...``)."""
        return self._read_derived(video_id, layout, "repetitions", REPETITION_KEY_COLUMNS)

    def update_metadata(self, changes: dict[tuple[str, str], dict[str, object]]) -> int:
        """Change ``videos`` rows' metadata (path, label, split, group, copies) without re-extraction.

        ``changes`` maps ``(video_id, layout)`` to ``{column: value}`` for columns in
        :data:`METADATA_COLUMNS`. The rows keep their ``extracted_at``, so their frames stay theirs.
        Returns the rows changed (keys not in the store are skipped).
        """
        for key, values in changes.items():
            unknown = sorted(set(values) - set(METADATA_COLUMNS))
            if unknown:
                raise ValueError(f"video {key[0]}: {', '.join(unknown)} cannot change without re-extraction "
                                 f"(metadata columns: {', '.join(METADATA_COLUMNS)})")
        if not changes:
            return 0
        with self._writing():
            rows = []
            for video_id in sorted({video_id for video_id, _ in changes}):
                for row in self.video_rows(video_id):
                    if (row["video_id"], row["layout"]) in changes:
                        known = {name: row.get(name) for name in VideoInfo.__dataclass_fields__}
                        rows.append(VideoInfo(**known).replace(**changes[row["video_id"], row["layout"]]))
            if not rows:
                return 0
            keys = " OR ".join(f"(video_id = {sql_string(info.video_id)} AND layout = {sql_string(info.layout)})"
                               for info in rows)
            table = pa.concat_tables([_with_partitions(videos_table([info]), bucket=self.bucket_of(info.video_id))
                                      for info in rows])
            buckets = sql_list(self.bucket_of(info.video_id) for info in rows)
            self.tables["videos"].replace(table, f"bucket IN {buckets} AND ({keys})",
                                          self._commit_info("update metadata", len(rows)))
        return len(rows)

    def write_phases(self, items: Iterable[PhaseRows]) -> list[PhaseRows]:
        """Store (or replace) videos' phase labels, per (video, scheme), in one commit.

        The videos must be in the store (a label for an unknown video is refused, naming it).
        """
        latest = {(rows.video_id, rows.scheme): rows for rows in items}
        for rows in latest.values():
            _check_phase_rows(rows)
        if not latest:
            return []
        with self._writing():
            known = {video for video, _ in self._current(rows.video_id for rows in latest.values())}
            unknown = sorted({rows.video_id for rows in latest.values()} - known)
            if unknown:
                raise VideoNotFoundError(f"phase labels for {len(unknown)} video(s) not in the store at {self.root}: "
                                         f"{', '.join(unknown[:5])}")
            tables = [_with_partitions(_phases_table(rows), bucket=self.bucket_of(rows.video_id))
                      for rows in latest.values()]
            keys = " OR ".join(f"(video_id = {sql_string(video)} AND scheme = {sql_string(scheme)})"
                               for video, scheme in sorted(latest))
            buckets = sql_list(self.bucket_of(video) for video, _ in latest)
            self.tables["phases"].replace(pa.concat_tables(tables), f"bucket IN {buckets} AND ({keys})",
                                          self._commit_info("write phases", len(latest)))
        return list(latest.values())

    def read_phases(self, video_id: str, scheme: str | None = None) -> pa.Table:
        """One video's phase labels (all schemes, or ``scheme``'s), ordered by scheme and first frame."""
        tables = self._rows_of("phases", video_id)
        table = _concat(tables, PHASES_SCHEMA).select(PHASES_SCHEMA.names) if tables else PHASES_SCHEMA.empty_table()
        if scheme is not None:
            table = table.filter(pc.equal(table["scheme"], scheme))
        return table.sort_by([("scheme", "ascending"), ("first_frame", "ascending")])

    def _write_derived(self, items: Iterable, key, check, table_name: str, table_of, predicate_of) -> list:
        """The one write of derived tables (features, scores): the last item per ``key`` wins,
        one commit per layout under the write lock, only items of the current ``videos`` row
        are stored (see :meth:`_fresh`)."""
        latest = {key(rows): rows for rows in items}
        for rows in latest.values():
            check(rows)
        if not latest:
            return []
        with self._writing():
            fresh = self._fresh(list(latest.values()), self._current(item.video_id for item in latest.values()))
            per_layout: dict[str, list] = defaultdict(list)
            for item in fresh:
                per_layout[item.layout].append(item)
            commit = self._commit_info(f"write {table_name}", len(fresh))
            if table_name == "features" and fresh and self._feature_columns_change(table_of(fresh[0])):
                self._rewrite_features(fresh, table_of, commit)
                return fresh
            for layout, layout_items in sorted(per_layout.items()):
                rows = pa.concat_tables([_with_partitions(table_of(item), layout=layout,
                                                          bucket=self.bucket_of(item.video_id))
                                         for item in layout_items])
                self.tables[table_name].replace(rows, predicate_of(layout, layout_items), commit)
        return fresh

    # -- reading -----------------------------------------------------------------------
    def videos(self) -> pa.Table:
        """The ``videos`` table (every file of the current version, schemas unified)."""
        tables = [read_data_file(self.location, f.path) for f in self.files("videos")]
        return _concat(tables, VIDEOS_SCHEMA).sort_by([("video_id", "ascending"), ("layout", "ascending")])

    def _rows_of(self, table: str, video_id: str, columns: list[str] | None = None, **partition: str) -> list[pa.Table]:
        """One video's rows of ``table`` from the files of its bucket that may hold it."""
        files = [f for f in self.files(table, bucket=self.bucket_of(video_id), **partition) if _may_hold(f, video_id)]
        return [read_data_file(self.location, f.path, video_id, columns=columns) for f in files]

    def video_rows(self, video_id: str) -> list[dict]:
        """The ``videos`` rows of one video (one per layout it was extracted into)."""
        return _concat(self._rows_of("videos", video_id), VIDEOS_SCHEMA).to_pylist()

    def read_video(self, video_id: str, person: int = 0, layout: str | None = None) -> VideoFrames:
        """One person's frames of one video: ``joints (T, V, 4)`` plus masks.

        Reads only the files of the video's bucket. With the video stored in several layouts, pass ``layout``.
        """
        rows = self.video_rows(video_id)
        if layout is not None:
            rows = [row for row in rows if row["layout"] == layout]
        if not rows:
            where = f" in layout {layout!r}" if layout else ""
            raise VideoNotFoundError(f"video {video_id!r} is not in the store at {self.root}{where}")
        if len(rows) > 1:
            raise ValueError(
                f"video {video_id!r} is stored in layouts {sorted(r['layout'] for r in rows)}; "
                f"pass layout= to pick one"
            )
        layout = rows[0]["layout"]
        spec = get_layout(layout)
        tables = self._rows_of("frames", video_id, layout=layout)
        table = pa.concat_tables(tables, promote_options="permissive") if tables \
            else frames_schema(layout, spec.num_joints).empty_table()
        if "extracted_at" in table.column_names:  # only the frames of the committed row
            table = table.filter(pc.equal(table["extracted_at"], pa.scalar(rows[0]["extracted_at"],
                                                                             table.schema.field("extracted_at").type)))
        return frames_from_table(video_id, layout, spec.num_joints, table, person)

    def read_features(self, video_id: str, layout: str | None = None) -> pa.Table:
        """One video's features rows: ``video_id, layout, frame_index`` then the feature columns.

        Only layouts with a ``videos`` row count (the commit record). No features built yet
        gives an empty table of the three key columns. Missing features are null.
        """
        return self._read_derived(video_id, layout, "features", FEATURE_KEY_COLUMNS)

    def read_scores(self, video_id: str, layout: str | None = None) -> pa.Table:
        """One video's scores rows (one per reference, method and frame), with ``layout`` second.

        Only layouts with a ``videos`` row count. Nothing scored gives an empty table of the
        key columns. ``joint_scores`` are fixed-size lists in the layout's joint order.
        """
        table = self._read_derived(video_id, layout, "scores", SCORE_KEY_COLUMNS)
        if table.num_rows == 0:
            return table
        joints = get_layout(table["layout"][0].as_py()).num_joints
        return _conform(table, pa.schema([f if f.name != "joint_scores" else
                                          pa.field("joint_scores", pa.list_(pa.float32(), joints))
                                          for f in table.schema]))

    def _read_derived(self, video_id: str, layout: str | None, table_name: str, empty: pa.Schema) -> pa.Table:
        """A derived table's rows of one video (features, scores), for its committed layouts."""
        rows = [row for row in self.video_rows(video_id) if layout in (None, row["layout"])]
        if not rows:
            where = f" in layout {layout!r}" if layout else ""
            raise VideoNotFoundError(f"video {video_id!r} is not in the store at {self.root}{where}")
        tables = []
        for found in sorted(row["layout"] for row in rows):
            for table in self._rows_of(table_name, video_id, layout=found):
                tables.append(with_layout(table, found))
        if not tables:
            return empty.empty_table()
        table = pa.concat_tables(tables, promote_options="permissive")
        return table.sort_by([(name, "ascending") for name in empty.names if name != "video_id"])

    def _feature_columns_change(self, example: pa.Table) -> bool:
        current = [name for name in self.tables["features"].column_names() if name not in PARTITIONS["features"]]
        return bool(current) and current != example.column_names

    def _rewrite_features(self, fresh: list[FeatureRows], table_of, commit: dict[str, str]) -> None:
        """A release computes other feature columns: every stored row gets exactly the new ones
        (missing ones null, dropped ones gone), in one commit that replaces the table."""
        schema = table_of(fresh[0]).schema
        replaced = {(item.video_id, item.layout) for item in fresh}
        tables = []
        for data_file in self.files("features"):
            table = _conform(read_data_file(self.location, data_file.path), schema)
            layout = data_file.partition["layout"]
            keep = pc.invert(pc.is_in(table["video_id"], pa.array(
                sorted(video for video, row_layout in replaced if row_layout == layout), type=pa.string())))
            tables.append(_with_partitions(table.filter(keep), layout=layout, bucket=data_file.partition["bucket"]))
        tables += [_with_partitions(table_of(item), layout=item.layout, bucket=self.bucket_of(item.video_id))
                   for item in fresh]
        self.tables["features"].overwrite(pa.concat_tables(tables), commit)


def _later_than(info: VideoInfo, committed: datetime | None) -> VideoInfo:
    """``info``, its ``extracted_at`` moved past the committed row's it replaces when not already
    later: frames are told apart from the version they replace by it."""
    if committed is None or as_utc(info.extracted_at) > as_utc(committed):
        return info
    return info.replace(extracted_at=max(datetime.now(timezone.utc), as_utc(committed) + timedelta(microseconds=1)))


def _fixed_lists(values: np.ndarray, size: int, value_type: pa.DataType) -> pa.Array:
    flat = pa.array(np.ascontiguousarray(values).reshape(-1), type=value_type)
    return pa.FixedSizeListArray.from_arrays(flat, size)


def frames_table(video_id: str, skeletons: Skeletons) -> pa.Table:
    """Rows of the ``frames`` table for one video: person 0 on every frame, others where seen."""
    people, frame_count, joint_count, _ = skeletons.joints.shape
    interpolated = (skeletons.interpolated if skeletons.interpolated is not None
                    else np.zeros((people, frame_count, joint_count), dtype=bool))
    present = np.zeros((people, frame_count), dtype=bool)
    present[0] = True
    if people > 1:
        present[1:] = skeletons.detected[1:] | np.isfinite(skeletons.joints[1:, :, :, 0]).any(-1)
    person_index, frame_position = np.nonzero(present)
    joints = skeletons.joints[person_index, frame_position]
    phase = (pa.array(np.asarray(skeletons.phase, dtype=object)[frame_position], type=pa.string())
             if skeletons.phase is not None else pa.nulls(len(frame_position), pa.string()))
    schema = frames_schema(skeletons.layout, joint_count)
    return pa.table(
        {
            "video_id": pa.array([video_id] * len(frame_position), type=pa.string()),
            "frame_index": pa.array(skeletons.frame_indices[frame_position].astype(np.int32)),
            "timestamp_s": pa.array(skeletons.timestamps[frame_position].astype(np.float64)),
            "person": pa.array(person_index.astype(np.int16)),
            "x": _fixed_lists(joints[..., 0], joint_count, pa.float32()),
            "y": _fixed_lists(joints[..., 1], joint_count, pa.float32()),
            "z": _fixed_lists(joints[..., 2], joint_count, pa.float32()),
            "visibility": _fixed_lists(joints[..., 3], joint_count, pa.float32()),
            "detected": pa.array(skeletons.detected[person_index, frame_position]),
            "interpolated": _fixed_lists(interpolated[person_index, frame_position], joint_count,
                                         pa.bool_()),
            "phase": phase,
        },
        schema=schema,
    )


def _check_feature_rows(rows: FeatureRows, feature_count: int) -> None:
    frames = len(rows.frame_indices)
    if np.shape(rows.values) != (frames, feature_count):
        raise ValueError(f"video {rows.video_id}: features must be (frames, features) = "
                         f"{(frames, feature_count)}, got {np.shape(rows.values)}")
    if len(np.unique(rows.frame_indices)) != frames:
        raise ValueError(f"video {rows.video_id}: frame indices repeat")


def features_table(rows: FeatureRows, schema: pa.Schema) -> pa.Table:
    """Rows of the ``features`` table for one video; NaN and inf become null."""
    values = np.asarray(rows.values, dtype=np.float32)
    missing = ~np.isfinite(values)
    frames = len(rows.frame_indices)
    columns = [pa.array([rows.video_id] * frames, type=pa.string()),
               pa.array(np.asarray(rows.frame_indices).astype(np.int32))]
    columns += [pa.array(values[:, index], mask=missing[:, index], type=pa.float32())
                for index in range(values.shape[1])]
    return pa.Table.from_arrays(columns, schema=schema)


def _check_score_rows(rows: ScoreRows) -> None:
    frames, joints = len(rows.frame_indices), get_layout(rows.layout).num_joints
    if not rows.reference or not rows.method:
        raise ValueError(f"video {rows.video_id}: scores need a reference name and a method")
    if np.shape(rows.joint_scores) != (frames, joints):
        raise ValueError(f"video {rows.video_id}: joint scores must be (frames, joints) = "
                         f"{(frames, joints)} for layout {rows.layout}, got {np.shape(rows.joint_scores)}")
    for name in ("frame_scores", "running_scores", "timestamps"):
        values = getattr(rows, name)
        if values is not None and np.shape(values) != (frames,):
            raise ValueError(f"video {rows.video_id}: {name} must be ({frames},), got {np.shape(values)}")
    if len(np.unique(rows.frame_indices)) != frames:
        raise ValueError(f"video {rows.video_id}: frame indices repeat")


def _nullable(values: np.ndarray, value_type: pa.DataType | None = None) -> pa.Array:
    """A float array (float32 unless told) with NaN and inf as null."""
    values = np.asarray(values, dtype=np.float64)
    return pa.array(values, mask=~np.isfinite(values), type=value_type or pa.float32())


def scores_table(rows: ScoreRows, schema: pa.Schema) -> pa.Table:
    """Rows of the ``scores`` table for one video and reference; NaN becomes null."""
    frames, joints = len(rows.frame_indices), np.shape(rows.joint_scores)[1]
    flat = np.asarray(rows.joint_scores, dtype=np.float64).reshape(-1)

    def repeat(value: str | None) -> pa.Array:
        return pa.array([value] * frames, type=pa.string())

    timestamps = (_nullable(rows.timestamps, pa.float64()) if rows.timestamps is not None
                  else pa.nulls(frames, pa.float64()))
    return pa.Table.from_arrays([
        repeat(rows.video_id), repeat(rows.reference), repeat(rows.method),
        pa.array(np.asarray(rows.frame_indices).astype(np.int32)), timestamps,
        repeat(rows.exercise), repeat(rows.reference_exercise), repeat(rows.reference_sha),
        _nullable(rows.frame_scores), _nullable(rows.running_scores),
        pa.FixedSizeListArray.from_arrays(_nullable(flat), joints),
        pa.array([rows.scored_at] * frames, type=pa.timestamp("us", tz="UTC")),
    ], schema=schema)


def videos_table(infos: Sequence[VideoInfo]) -> pa.Table:
    """Rows of the ``videos`` table."""
    records = [asdict(info) for info in infos]
    return pa.Table.from_pylist(records, schema=VIDEOS_SCHEMA)


def _joint_matrix(table: pa.Table, column: str, joint_count: int) -> np.ndarray:
    values = table[column].combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return values.reshape(-1, joint_count)


def frames_from_table(video_id: str, layout: str, joint_count: int, table: pa.Table,
                      person: int) -> VideoFrames:
    """Arrays of one person from a video's rows; frames where the person is absent are NaN."""
    frame_indices = np.unique(table["frame_index"].to_numpy()).astype(np.int32)
    position = {int(index): slot for slot, index in enumerate(frame_indices)}
    frame_count = len(frame_indices)
    timestamps = np.full(frame_count, np.nan)
    all_slots = np.array([position[int(i)] for i in table["frame_index"].to_numpy()], dtype=int)
    timestamps[all_slots] = table["timestamp_s"].to_numpy(zero_copy_only=False)
    phase = np.full(frame_count, None, dtype=object)
    phase[all_slots] = np.asarray(table["phase"].to_pylist(), dtype=object)

    mine = table.filter(pc.equal(table["person"], person))
    slots = np.array([position[int(i)] for i in mine["frame_index"].to_numpy()], dtype=int)
    joints = np.full((frame_count, joint_count, 4), np.nan, dtype=np.float32)
    for channel, column in enumerate(("x", "y", "z", "visibility")):
        joints[slots, :, channel] = _joint_matrix(mine, column, joint_count)
    detected = np.zeros(frame_count, dtype=bool)
    detected[slots] = mine["detected"].to_numpy(zero_copy_only=False)
    interpolated = np.zeros((frame_count, joint_count), dtype=bool)
    interpolated[slots] = _joint_matrix(mine, "interpolated", joint_count)
    return VideoFrames(video_id, layout, person, joints, detected, interpolated,
                       timestamps, frame_indices, phase)


def _check_phase_rows(rows: PhaseRows) -> None:
    if rows.scheme not in PHASE_SCHEMES:
        raise ValueError(f"video {rows.video_id}: unknown phase scheme {rows.scheme!r}; choose from "
                         f"{', '.join(PHASE_SCHEMES)}")
    for first, last, phase in rows.ranges:
        if not 0 <= first <= last:
            raise ValueError(f"video {rows.video_id}: frame range {first}-{last} is not a range of frames")
        if not phase:
            raise ValueError(f"video {rows.video_id}: frames {first}-{last} have no phase")


def _phases_table(rows: PhaseRows) -> pa.Table:
    count = len(rows.ranges)
    firsts, lasts, phases = zip(*rows.ranges) if count else ((), (), ())
    return pa.Table.from_arrays([
        pa.array([rows.video_id] * count, pa.string()), pa.array([rows.scheme] * count, pa.string()),
        pa.array(firsts, pa.int32()), pa.array(lasts, pa.int32()), pa.array(phases, pa.string()),
        pa.array([rows.source] * count, pa.string()),
        pa.array([rows.imported_at] * count, pa.timestamp("us", tz="UTC"))], schema=PHASES_SCHEMA)
