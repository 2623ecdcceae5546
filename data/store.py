"""The partitioned Parquet skeleton store.

Layout on disk (hive-style folders, one Parquet file per table and bucket)::

    STORE/_posegraph_store.json                       marker: format, schema version, buckets
    STORE/videos/bucket=3f/part-0.parquet             one row per (video_id, layout)
    STORE/frames/layout=blazepose33/bucket=3f/part-0.parquet
    STORE/features/layout=blazepose33/bucket=3f/part-0.parquet   one row per (video_id, frame)
    STORE/scores/layout=blazepose33/bucket=3f/part-0.parquet     one row per (video_id, reference,
                                                                 method, frame)
    STORE/_staging/  STORE/_locks/                     invisible to pyarrow and DuckDB globs

A video's bucket is the first ``bucket_digits`` hex digits of its id (default 2: 256
buckets per table and layout). At 100,000 videos that is ~400 videos and tens of MB per file,
inside Arrow's guidance (files of 20 MB - 2 GB, well under 10,000 partitions), and reading
one video opens one file and skips to its row groups (rows are sorted by video id).

Writes take the bucket's lock, rewrite the bucket's file without the video's old rows plus
the new ones, and rename it into place: atomic (old or new file, never half) and idempotent
(writing a video again replaces its rows). Frames are written before the ``videos`` row, so
the ``videos`` row is the commit record: frames without one (a writer killed in between)
are ignored by :meth:`read_video` and the SQL views, and replaced on the next write.

``features`` holds data derived from a video's frames (``posegraph features build``), written
through the same bucket rewrite by :meth:`SkeletonStore.write_features`. Writing a video drops
its features rows first, so no features outlive the skeletons they came from; features are
only written for the ``videos`` row they were computed from (its ``extracted_at``).

``scores`` (form scores against a reference, ``posegraph score``) is derived data of the same
kind and goes the same way: :meth:`SkeletonStore.write_scores` rewrites the bucket under its lock
(rows of the same video, reference name and method replaced; other references' rows kept), only
for the ``videos`` row the scores were computed from, and writing a video drops its scores.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..skeleton import get_layout
from .atomic import bucket_lock, remove_file, remove_stale_staging, replace_parquet
from .errors import NotAStoreError, StoreVersionError, VideoNotFoundError
from .records import Skeletons, VideoFrames, VideoInfo
from .schema import (FEATURE_KEYS, SCHEMA_VERSION, SCORE_KEYS, STATUSES, VERSION_KEY, VIDEOS_SCHEMA,
                     features_schema, frames_schema, scores_schema)

MARKER_NAME = "_posegraph_store.json"
STORE_FORMAT = "posegraph-skeleton-store"
PART_NAME = "part-0.parquet"


def _check_file_version(path: Path, schema: pa.Schema) -> None:
    found = (schema.metadata or {}).get(VERSION_KEY)
    if found is not None and found != str(SCHEMA_VERSION).encode():
        raise StoreVersionError(
            f"{path} has skeleton-store schema version {found.decode()}, but this posegraph "
            f"reads version {SCHEMA_VERSION}. Use the posegraph release that wrote it, or "
            f"re-extract into a new store."
        )


def read_table_file(path: Path, filters: list | None = None,
                    columns: list[str] | None = None) -> pa.Table:
    """Read one store file, refusing files of another schema version."""
    table = pq.read_table(path, filters=filters, columns=columns)
    _check_file_version(path, table.schema)
    return table


def _concat(tables: Sequence[pa.Table], empty_schema: pa.Schema) -> pa.Table:
    """Concatenate with unified schemas, so a column added later stays visible."""
    if not tables:
        return empty_schema.empty_table()
    return pa.concat_tables(tables, promote_options="default")


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns: missing ones null, others dropped."""
    columns = [table[field.name].cast(field.type) if field.name in table.column_names
               else pa.nulls(table.num_rows, field.type) for field in schema]
    return pa.Table.from_arrays(columns, schema=schema)


Keep = Callable[[pa.Table], pa.Array]


def _without_videos(video_ids: Iterable[str]) -> Keep:
    """A ``keep`` filter for :meth:`SkeletonStore._rewrite`: rows of other videos."""
    dropped = pa.array(sorted(set(video_ids)), type=pa.string())
    return lambda table: pc.invert(pc.is_in(table["video_id"], dropped))


def _without_scores(keys: Iterable[tuple[str, str, str]]) -> Keep:
    """A ``keep`` filter for the scores files: rows of other (video, reference, method) keys."""
    separator = "\x1f"  # a control character: in no id, reference name or method
    dropped = pa.array(sorted({separator.join(key) for key in keys}), type=pa.string())

    def keep(table: pa.Table) -> pa.Array:
        joined = pc.binary_join_element_wise(table["video_id"], table["reference"], table["method"],
                                             separator)
        return pc.invert(pc.is_in(joined, dropped))

    return keep


def with_layout(table: pa.Table, layout: str) -> pa.Table:
    """A features (or scores) file's rows with their partition column put back (after ``video_id``)."""
    return table.add_column(1, pa.field("layout", pa.string(), nullable=False),
                            pa.array([layout] * table.num_rows, type=pa.string()))


# What :meth:`SkeletonStore.read_features` returns for a video without features.
FEATURE_KEY_COLUMNS = pa.schema([pa.field("video_id", pa.string(), nullable=False),
                                 pa.field("layout", pa.string(), nullable=False),
                                 pa.field("frame_index", pa.int32(), nullable=False)])


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
    """A folder of Parquet tables holding skeletons extracted from videos.

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
        self.root = Path(path)
        marker = self.root / MARKER_NAME
        if marker.exists():
            self.bucket_digits = self._read_marker(marker)
        elif self.root.exists() and any(self.root.iterdir()):
            found = ", ".join(sorted(entry.name for entry in self.root.iterdir())[:8])
            raise NotAStoreError(
                f"{self.root} is not a posegraph skeleton store (no {MARKER_NAME}; found: "
                f"{found}). Point --store at an existing store, or at a new or empty folder "
                f"to create one."
            )
        elif not create:
            raise NotAStoreError(
                f"no skeleton store at {self.root}. Create one with `posegraph extract`, "
                f"`posegraph import kinetics` or `posegraph synth`."
            )
        else:
            self.bucket_digits = bucket_digits
            self.root.mkdir(parents=True, exist_ok=True)
            marker_content = {"format": STORE_FORMAT, "schema_version": SCHEMA_VERSION,
                              "bucket_digits": bucket_digits}
            temporary = self.root / f".{MARKER_NAME}.partial"
            temporary.write_text(json.dumps(marker_content, indent=2) + "\n")
            temporary.replace(marker)

    def _read_marker(self, marker: Path) -> int:
        try:
            content = json.loads(marker.read_text())
        except json.JSONDecodeError as error:
            raise NotAStoreError(f"{marker} is not valid JSON ({error}); the store is damaged.") from None
        if content.get("format") != STORE_FORMAT:
            raise NotAStoreError(f"{marker} does not describe a posegraph skeleton store.")
        if content.get("schema_version") != SCHEMA_VERSION:
            raise StoreVersionError(
                f"the store at {self.root} has schema version {content.get('schema_version')}, "
                f"but this posegraph reads version {SCHEMA_VERSION}. Use the posegraph release "
                f"that wrote it, or write to a new store (a new folder)."
            )
        return int(content["bucket_digits"])

    # -- where things live -------------------------------------------------------------
    def bucket_of(self, video_id: str) -> str:
        return video_id[: self.bucket_digits]

    def videos_file(self, bucket: str) -> Path:
        return self.root / "videos" / f"bucket={bucket}" / PART_NAME

    def frames_file(self, layout: str, bucket: str) -> Path:
        return self.root / "frames" / f"layout={layout}" / f"bucket={bucket}" / PART_NAME

    def features_file(self, layout: str, bucket: str) -> Path:
        return self.root / "features" / f"layout={layout}" / f"bucket={bucket}" / PART_NAME

    def scores_file(self, layout: str, bucket: str) -> Path:
        return self.root / "scores" / f"layout={layout}" / f"bucket={bucket}" / PART_NAME

    def layouts(self) -> list[str]:
        """Layouts that have a frames partition in this store."""
        return sorted(p.name.split("=", 1)[1] for p in (self.root / "frames").glob("layout=*"))

    # -- writing -----------------------------------------------------------------------
    def write_video(self, info: VideoInfo, skeletons: Skeletons | None = None) -> VideoInfo:
        """Store (or replace) one video; ``skeletons=None`` stores only its ``videos`` row."""
        return self.write_videos([(info, skeletons)])[0]

    def write_videos(self, items: Iterable[tuple[VideoInfo, Skeletons | None]]) -> list[VideoInfo]:
        """Store several videos, rewriting each touched bucket once. Returns the stored rows."""
        completed = [(self._complete_info(info, skeletons), skeletons) for info, skeletons in items]
        by_bucket: dict[str, list[tuple[VideoInfo, Skeletons | None]]] = defaultdict(list)
        for info, skeletons in completed:
            by_bucket[self.bucket_of(info.video_id)].append((info, skeletons))
        remove_stale_staging(self.root)
        for bucket, group in sorted(by_bucket.items()):
            with bucket_lock(self.root, bucket):
                self._write_bucket(bucket, group)
        return [info for info, _ in completed]

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

    def _write_bucket(self, bucket: str, group: list[tuple[VideoInfo, Skeletons | None]]) -> None:
        ids_per_layout: dict[str, set[str]] = defaultdict(set)
        new_frames: dict[str, list[pa.Table]] = defaultdict(list)
        for info, skeletons in group:
            ids_per_layout[info.layout].add(info.video_id)
            if skeletons is not None:
                new_frames[info.layout].append(frames_table(info.video_id, skeletons))
        for layout, video_ids in ids_per_layout.items():
            self._drop_derived(layout, bucket, video_ids)  # first: derived data never outlives its source
            layout_spec = get_layout(layout)
            self._rewrite(self.frames_file(layout, bucket),
                          frames_schema(layout, layout_spec.num_joints),
                          keep=_without_videos(video_ids),
                          additions=new_frames.get(layout, []),
                          sort_keys=["video_id", "person", "frame_index"])
        keys = {(info.video_id, info.layout) for info, _ in group}
        self._rewrite(self.videos_file(bucket), VIDEOS_SCHEMA,
                      keep=lambda table: pa.array([
                          (video_id, layout) not in keys
                          for video_id, layout in zip(table["video_id"].to_pylist(),
                                                      table["layout"].to_pylist())
                      ], type=pa.bool_()),
                      additions=[videos_table([info for info, _ in group])],
                      sort_keys=["video_id", "layout"])

    def _drop_derived(self, layout: str, bucket: str, video_ids: Iterable[str]) -> None:
        """Remove the features and scores rows of videos about to be rewritten (caller holds the lock)."""
        video_ids = set(video_ids)
        for path, keys in ((self.features_file(layout, bucket), FEATURE_KEYS),
                           (self.scores_file(layout, bucket), SCORE_KEYS)):
            if path.exists():
                self._rewrite(path, pq.read_schema(path), keep=_without_videos(video_ids),
                              additions=[], sort_keys=list(keys))

    def _current(self, bucket: str) -> dict[tuple[str, str], datetime]:
        """``extracted_at`` of every (video, layout) committed in ``bucket`` (caller holds the lock)."""
        path = self.videos_file(bucket)
        rows = (read_table_file(path, columns=["video_id", "layout", "extracted_at"]).to_pylist()
                if path.exists() else [])
        return {(row["video_id"], row["layout"]): row["extracted_at"] for row in rows}

    @staticmethod
    def _fresh(group: Sequence, current: dict[tuple[str, str], datetime]) -> list:
        """Items of derived rows whose ``videos`` row exists and was not written again since."""
        return [item for item in group if (item.video_id, item.layout) in current
                and item.extracted_at in (None, current[item.video_id, item.layout])]

    def write_features(self, names: Sequence[str], items: Iterable[FeatureRows]) -> list[FeatureRows]:
        """Store (or replace) videos' per-frame features, rewriting each touched bucket once.

        Args:
            names: the feature column names, in the order of every item's ``values`` columns.
            items: one :class:`FeatureRows` per (video, layout); a later one for the same video
                and layout replaces an earlier one.

        Returns:
            The items stored. Items whose ``videos`` row is gone, or was written again after
            the features were computed (``extracted_at`` differs), are left out and not stored.

        Each bucket file is rewritten under the bucket's lock with the files' exact columns
        (``names``), replacing the videos' previous rows: writing the same items twice gives
        the same files.
        """
        schema = features_schema(names)
        return self._write_derived(
            items, key=lambda rows: (rows.video_id, rows.layout),
            check=lambda rows: _check_feature_rows(rows, len(schema) - len(FEATURE_KEYS)),
            file_of=self.features_file, schema_of=lambda layout: schema,
            keep_of=lambda items: _without_videos(item.video_id for item in items),
            table_of=features_table, sort_keys=FEATURE_KEYS)

    def write_scores(self, items: Iterable[ScoreRows]) -> list[ScoreRows]:
        """Store (or replace) videos' form scores, rewriting each touched bucket once.

        Args:
            items: one :class:`ScoreRows` per (video, layout, reference, method); a later one
                for the same key replaces an earlier one.

        Returns:
            The items stored. As for :meth:`write_features`, items whose ``videos`` row is gone
            or was written again after the scores were computed are left out. Rows of other
            references or methods of the same video are kept; writing the same items twice
            gives the same files.
        """
        return self._write_derived(
            items, key=lambda rows: (rows.video_id, rows.layout, rows.reference, rows.method),
            check=_check_score_rows, file_of=self.scores_file,
            schema_of=lambda layout: scores_schema(layout, get_layout(layout).num_joints),
            keep_of=lambda items: _without_scores((item.video_id, item.reference, item.method) for item in items),
            table_of=scores_table, sort_keys=SCORE_KEYS)

    def _write_derived(self, items: Iterable, key, check, file_of, schema_of, keep_of, table_of,
                       sort_keys: Sequence[str]) -> list:
        """The one write of derived tables (features, scores): the last item per ``key`` wins,
        each touched bucket is rewritten once under its lock, only items of the current
        ``videos`` row are stored (see :meth:`_fresh`); files get exactly ``schema_of(layout)``."""
        latest = {key(rows): rows for rows in items}
        by_bucket: dict[str, list] = defaultdict(list)
        for rows in latest.values():
            check(rows)
            by_bucket[self.bucket_of(rows.video_id)].append(rows)
        remove_stale_staging(self.root)
        stored = []
        for bucket, group in sorted(by_bucket.items()):
            with bucket_lock(self.root, bucket):
                fresh = self._fresh(group, self._current(bucket))
                per_layout: dict[str, list] = defaultdict(list)
                for item in fresh:
                    per_layout[item.layout].append(item)
                for layout, layout_items in sorted(per_layout.items()):
                    schema = schema_of(layout)
                    self._rewrite(file_of(layout, bucket), schema, keep=keep_of(layout_items),
                                  additions=[table_of(item, schema) for item in layout_items],
                                  sort_keys=list(sort_keys), exact=True)
                stored += fresh
        return stored

    def _rewrite(self, path: Path, schema: pa.Schema, keep: Keep, additions: list[pa.Table],
                 sort_keys: list[str], exact: bool = False) -> None:
        """Replace ``path`` by its rows that ``keep`` selects plus ``additions`` (atomic).

        ``exact`` conforms the result to ``schema`` (derived tables: a column no longer
        computed is dropped); otherwise schemas are unified, so older files' rows survive.
        """
        kept = []
        if path.exists():
            existing = read_table_file(path)
            kept_rows = existing.filter(keep(existing))
            if not additions and kept_rows.num_rows == existing.num_rows:
                return  # nothing to remove or add: leave the file as it is
            kept = [_conform(kept_rows, schema) if exact else kept_rows]
        merged = _concat(kept + additions, schema)
        if merged.num_rows == 0:
            remove_file(path)
            return
        merged = merged.sort_by([(key, "ascending") for key in sort_keys])
        metadata = dict(merged.schema.metadata or {}) | dict(schema.metadata or {})
        replace_parquet(self.root, path, merged.replace_schema_metadata(metadata))

    # -- reading -----------------------------------------------------------------------
    def videos(self) -> pa.Table:
        """The ``videos`` table (all buckets, schemas unified)."""
        files = sorted(self.root.glob(f"videos/bucket=*/{PART_NAME}"))
        return _concat([read_table_file(path) for path in files], VIDEOS_SCHEMA)

    def video_rows(self, video_id: str) -> list[dict]:
        """The ``videos`` rows of one video (one per layout it was extracted into)."""
        path = self.videos_file(self.bucket_of(video_id))
        if not path.exists():
            return []
        return read_table_file(path, filters=[("video_id", "==", video_id)]).to_pylist()

    def read_video(self, video_id: str, person: int = 0, layout: str | None = None) -> VideoFrames:
        """One person's frames of one video: ``joints (T, V, 4)`` plus masks.

        Reads a single bucket file. With the video stored in several layouts, pass ``layout``.
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
        path = self.frames_file(layout, self.bucket_of(video_id))
        table = (read_table_file(path, filters=[("video_id", "==", video_id)])
                 if path.exists() else frames_schema(layout, spec.num_joints).empty_table())
        return frames_from_table(video_id, layout, spec.num_joints, table, person)

    def read_features(self, video_id: str, layout: str | None = None) -> pa.Table:
        """One video's features rows: ``video_id, layout, frame_index`` then the feature columns.

        Only layouts with a ``videos`` row count (the commit record). No features built yet
        gives an empty table of the three key columns. Missing features are null.
        """
        return self._read_derived(video_id, layout, self.features_file, FEATURE_KEY_COLUMNS)

    def read_scores(self, video_id: str, layout: str | None = None) -> pa.Table:
        """One video's scores rows (one per reference, method and frame), with ``layout`` second.

        Only layouts with a ``videos`` row count. Nothing scored gives an empty table of the
        key columns. ``joint_scores`` are fixed-size lists in the layout's joint order.
        """
        return self._read_derived(video_id, layout, self.scores_file, SCORE_KEY_COLUMNS)

    def _read_derived(self, video_id: str, layout: str | None, file_of, empty: pa.Schema) -> pa.Table:
        """A derived table's rows of one video (features, scores), for its committed layouts."""
        rows = [row for row in self.video_rows(video_id) if layout in (None, row["layout"])]
        if not rows:
            where = f" in layout {layout!r}" if layout else ""
            raise VideoNotFoundError(f"video {video_id!r} is not in the store at {self.root}{where}")
        tables = []
        for found in sorted(row["layout"] for row in rows):
            path = file_of(found, self.bucket_of(video_id))
            if path.exists():
                tables.append(with_layout(read_table_file(path, filters=[("video_id", "==", video_id)]), found))
        return _concat(tables, empty)


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
