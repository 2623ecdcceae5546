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
    STORE/_cache/clips/              training caches (gcn.training_cache); not data, safe to delete

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

This module holds the writes; the reads are :class:`.store_reading.StoreReading`, which
:class:`SkeletonStore` extends.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from .atomic import store_lock
from .delta import DataFile, StoreTable, as_utc, sql_list, sql_string, sql_timestamp
from .errors import StoreVersionError, VideoNotFoundError
from .arrow import (check_phase_rows, conform, frames_table, phases_table, read_data_file, variable_lists, videos_table,
                    with_partitions)
from .derived import ANALYSES, ANALYSIS_REPETITIONS, REPETITIONS, SCORES, DerivedTable, features_table_spec
from .location import StoreLocation
from .marker import MARKER_NAME, open_marker
from .records import AnalysisRows, FeatureRows, PhaseRows, RepetitionRows, ScoreRows, Skeletons, VideoInfo, completed_info
from .schema import METADATA_COLUMNS
from .store_reading import StoreReading

TABLES = ("videos", "frames", "features", "scores", "repetitions", "phases", "analyses", "analysis_repetitions")
# computed from a video's frames: dropped when it is written again
DERIVED = ("features", "scores", "repetitions", "analyses", "analysis_repetitions")
PARTITIONS = {"videos": ("bucket",), "frames": ("layout", "bucket"), "phases": ("bucket",),
              **{name: ("layout", "bucket") for name in DERIVED}}


class SkeletonStore(StoreReading):
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
        self.bucket_digits = open_marker(self.location, self.root, create, bucket_digits)
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
            completed = completed_info(info, skeletons, self.bucket_digits)
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
                rows = variable_lists(frames_table(info.video_id, skeletons))
                rows = rows.append_column(pa.field("extracted_at", pa.timestamp("us", tz="UTC")),
                                          pa.array([info.extracted_at] * rows.num_rows, pa.timestamp("us", tz="UTC")))
                new_frames[info.layout].append(with_partitions(rows, layout=info.layout,
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
        return self._write_derived(items, features_table_spec(names))

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
        return self._write_derived(items, SCORES)

    def write_repetitions(self, items: Iterable[RepetitionRows]) -> list[RepetitionRows]:
        """Store (or replace) the counted repetitions of videos, one row per repetition.

        As for :meth:`write_features`, only for the current ``videos`` row (``extracted_at``);
        a video with no repetition is stored as no rows (and replaces earlier ones).
        """
        return self._write_derived(items, REPETITIONS)

    def write_analyses(self, items: Iterable[AnalysisRows]) -> list[AnalysisRows]:
        """Store (or replace) videos' analyses: one ``analyses`` row each and one
        ``analysis_repetitions`` row per repetition (as :meth:`write_repetitions`, current rows only)."""
        items = list(items)
        self._write_derived(items, ANALYSIS_REPETITIONS)  # first: a video's answer never lacks its repetitions
        return self._write_derived(items, ANALYSES)

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
            table = pa.concat_tables([with_partitions(videos_table([info]), bucket=self.bucket_of(info.video_id))
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
            check_phase_rows(rows)
        if not latest:
            return []
        with self._writing():
            known = {video for video, _ in self._current(rows.video_id for rows in latest.values())}
            unknown = sorted({rows.video_id for rows in latest.values()} - known)
            if unknown:
                raise VideoNotFoundError(f"phase labels for {len(unknown)} video(s) not in the store at {self.root}: "
                                         f"{', '.join(unknown[:5])}")
            tables = [with_partitions(phases_table(rows), bucket=self.bucket_of(rows.video_id))
                      for rows in latest.values()]
            keys = " OR ".join(f"(video_id = {sql_string(video)} AND scheme = {sql_string(scheme)})"
                               for video, scheme in sorted(latest))
            buckets = sql_list(self.bucket_of(video) for video, _ in latest)
            self.tables["phases"].replace(pa.concat_tables(tables), f"bucket IN {buckets} AND ({keys})",
                                          self._commit_info("write phases", len(latest)))
        return list(latest.values())

    def _write_derived(self, items: Iterable, table: DerivedTable) -> list:
        """The one write of derived tables (:mod:`.derived`: features, scores, repetitions): the
        last item per key wins, one commit per layout under the write lock, only items of the
        current ``videos`` row are stored (see :meth:`_fresh`)."""
        latest = {table.key_of(rows): rows for rows in items}
        for rows in latest.values():
            table.check(rows)
        if not latest:
            return []
        with self._writing():
            fresh = self._fresh(list(latest.values()), self._current(item.video_id for item in latest.values()))
            per_layout: dict[str, list] = defaultdict(list)
            for item in fresh:
                per_layout[item.layout].append(item)
            commit = self._commit_info(f"write {table.name}", len(fresh))
            if table.name == "features" and fresh and self._feature_columns_change(table.table_of(fresh[0])):
                self._rewrite_features(fresh, table.table_of, commit)
                return fresh
            for layout, layout_items in sorted(per_layout.items()):
                rows = pa.concat_tables([with_partitions(table.table_of(item), layout=layout,
                                                          bucket=self.bucket_of(item.video_id))
                                         for item in layout_items])
                self.tables[table.name].replace(rows, self._derived_predicate(table, layout, layout_items), commit)
        return fresh

    def _derived_predicate(self, table: DerivedTable, layout: str, items: list) -> str:
        """The stored rows a derived write replaces: the items' videos in ``layout``, narrowed to
        the items' ``replaces`` values (scores: the same reference and method)."""
        predicate = self._predicate((item.video_id for item in items), layout)
        keys = table.replaced_keys(items)
        if not keys:
            return predicate
        alternatives = " OR ".join("(" + " AND ".join(f"{column} = {sql_string(value)}" for column, value in key.items())
                                   + ")" for key in keys)
        return f"{predicate} AND ({alternatives})"

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
            table = conform(read_data_file(self.location, data_file.path), schema)
            layout = data_file.partition["layout"]
            keep = pc.invert(pc.is_in(table["video_id"], pa.array(
                sorted(video for video, row_layout in replaced if row_layout == layout), type=pa.string())))
            tables.append(with_partitions(table.filter(keep), layout=layout, bucket=data_file.partition["bucket"]))
        tables += [with_partitions(table_of(item), layout=item.layout, bucket=self.bucket_of(item.video_id))
                   for item in fresh]
        self.tables["features"].overwrite(pa.concat_tables(tables), commit)


def _later_than(info: VideoInfo, committed: datetime | None) -> VideoInfo:
    """``info``, its ``extracted_at`` moved past the committed row's it replaces when not already
    later: frames are told apart from the version they replace by it."""
    if committed is None or as_utc(info.extracted_at) > as_utc(committed):
        return info
    return info.replace(extracted_at=max(datetime.now(timezone.utc), as_utc(committed) + timedelta(microseconds=1)))


