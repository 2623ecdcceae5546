"""Many videos' frames in one pass over the ``frames`` table: the bulk read behind training caches.

:meth:`SkeletonStore.read_video` reads one video (its bucket's files, the row groups that may hold
it) and builds its arrays row by row: right for one video, 36 clips/s on the Penn Action store
(2-core CPU, 2026-12-03). :func:`scan_people` reads each bucket's files whole, once, in large
sorted batches, and cuts every wanted video's arrays out of them with array operations, so the
cost is the table's bytes, not a read per video. It yields exactly what :meth:`read_video` gives
(the frames of the committed ``videos`` row only, NaN where a person is absent), persons stacked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..skeleton import get_layout
from .arrow import plain_types, read_data_file
from .store import SkeletonStore

SCANNED_COLUMNS = ["video_id", "frame_index", "timestamp_s", "person", "x", "y", "z", "visibility"]
# Videos read together: a bucket holds ~1,000 videos of a 240,000-clip corpus (256 buckets), but a
# bigger corpus or fewer buckets puts more in one, and a bucket read whole then needs memory in
# proportion (a 100,000-video bucket of 320 frames ran a 24 GB machine out of memory). 1,000 videos
# of 300 frames of 18 joints are about 0.5 GB of rows; larger buckets are read in id ranges of this
# many videos, each range reading only the row groups that may hold it.
VIDEOS_PER_READ = 1000


@dataclass(frozen=True)
class ScannedVideo:
    """One video's people as the bulk scan read them.

    Shapes:
        people: ``(M, T, V, 4)`` x, y (fractions of the frame), z, visibility; NaN where a person is absent.
        timestamps: ``(T,)`` seconds.
    """

    video_id: str
    people: np.ndarray
    timestamps: np.ndarray
    rows: int  # frame rows read for it (all persons)


def scan_people(store: SkeletonStore, layout: str, wanted: Mapping[str, datetime | None], persons: int = 1,
                on_bucket: Callable[[int, int], None] | None = None) -> Iterator[ScannedVideo]:
    """Every video of ``wanted`` (video id -> its ``videos`` row's ``extracted_at``, or None for any
    frames) stored in ``layout``, bucket by bucket, in video-id order within a bucket.

    Memory holds one bucket's rows at a time. A video with no frames rows yields ``T = 0``.
    ``on_bucket(done, total)`` is called after each bucket (progress)."""
    joint_count = get_layout(layout).num_joints
    by_bucket: dict[str | None, list] = defaultdict(list)
    for data_file in store.files("frames", layout=layout):
        by_bucket[data_file.partition.get("bucket")].append(data_file)
    wanted_by_bucket: dict[str, list[str]] = defaultdict(list)
    for video_id in sorted(wanted):
        wanted_by_bucket[store.bucket_of(video_id)].append(video_id)
    buckets = sorted(wanted_by_bucket)
    for done, bucket in enumerate(buckets, start=1):
        ids = wanted_by_bucket[bucket]  # sorted
        whole = len(ids) <= VIDEOS_PER_READ
        for first in range(0, len(ids), VIDEOS_PER_READ):
            video_ids = ids[first:first + VIDEOS_PER_READ]
            table = _bucket_rows(store, by_bucket.get(bucket, []), video_ids,
                                 None if whole else (video_ids[0], video_ids[-1]))
            yield from _videos_of(table, video_ids, wanted, persons, joint_count)
        if on_bucket is not None:
            on_bucket(done, len(buckets))


def _bucket_rows(store: SkeletonStore, files: list, video_ids: list[str],
                 id_range: tuple[str, str] | None = None) -> pa.Table:
    """The bucket's rows of these videos (every person: a frame seen only with person 3 is still a
    frame, as :meth:`read_video` counts them), sorted by video, frame and person; ``id_range``:
    only the row groups that may hold ids in it are read."""
    tables = []
    for data_file in files:
        columns = SCANNED_COLUMNS + (["extracted_at"] if _has_column(store, data_file, "extracted_at") else [])
        table = read_data_file(store.location, data_file.path, columns=columns, id_range=id_range)
        if "extracted_at" not in table.column_names:
            table = table.append_column("extracted_at", pa.nulls(len(table), pa.timestamp("us", tz="UTC")))
        tables.append(table.filter(pc.is_in(table["video_id"], pa.array(video_ids, pa.string()))))
    if not tables:
        return pa.table({name: pa.array([], pa.string()) for name in ["video_id"]})
    table = pa.concat_tables([plain_types(t) for t in tables], promote_options="permissive")
    return table.sort_by([("video_id", "ascending"), ("frame_index", "ascending"), ("person", "ascending")])


def _has_column(store: SkeletonStore, data_file, name: str) -> bool:
    return name in store.location.parquet_file(data_file.path).schema_arrow.names


def _videos_of(table: pa.Table, video_ids: list[str], wanted: Mapping[str, datetime | None], persons: int,
               joint_count: int) -> Iterator[ScannedVideo]:
    """Cut each video's arrays out of one bucket's sorted rows."""
    if len(table) == 0:
        for video_id in video_ids:
            yield _empty(video_id, persons, joint_count)
        return
    ids = table["video_id"].to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    frame_index = table["frame_index"].to_numpy()
    person = table["person"].to_numpy().astype(np.int64)
    timestamps = table["timestamp_s"].to_numpy(zero_copy_only=False).astype(np.float64)
    values = np.stack([_matrix(table[name], joint_count) for name in ("x", "y", "z", "visibility")], axis=-1)
    stamps = table["extracted_at"]
    found = {}
    for start, end in zip(starts, ends):
        found[ids[start]] = (start, end)
    for video_id in video_ids:
        if video_id not in found:
            yield _empty(video_id, persons, joint_count)
            continue
        start, end = found[video_id]
        rows = np.arange(start, end)
        committed = wanted.get(video_id)
        if committed is not None:  # only the frames of the committed videos row (as read_video)
            own = stamps.slice(start, end - start)
            same = pc.fill_null(pc.equal(own, pa.scalar(committed, own.type)), False).to_numpy(zero_copy_only=False)
            rows = rows[same] if own.null_count < len(own) else rows
        frames, slot = np.unique(frame_index[rows], return_inverse=True)
        people = np.full((persons, len(frames), joint_count, 4), np.nan, dtype=np.float32)
        mine = person[rows] < persons
        people[person[rows][mine], slot[mine]] = values[rows[mine]]
        clock = np.full(len(frames), np.nan)
        clock[slot] = timestamps[rows]
        yield ScannedVideo(video_id, people, clock, len(rows))


def _matrix(column: pa.ChunkedArray, joint_count: int) -> np.ndarray:
    """A fixed-size-list column as ``(rows, V)`` float32 (null lists read as NaN)."""
    array = column.combine_chunks()
    if isinstance(array.type, pa.ListType):  # after a schema promotion
        array = array.cast(pa.list_(pa.float32(), joint_count))
    flat = array.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
    if array.null_count:
        matrix = np.full((len(array), joint_count), np.nan, dtype=np.float32)
        valid = array.is_valid().to_numpy(zero_copy_only=False)
        matrix[valid] = flat.reshape(-1, joint_count)
        return matrix
    return flat.reshape(len(array), joint_count)


def _empty(video_id: str, persons: int, joint_count: int) -> ScannedVideo:
    return ScannedVideo(video_id, np.full((persons, 0, joint_count, 4), np.nan, np.float32), np.zeros(0), 0)
