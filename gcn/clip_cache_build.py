"""Building the training cache (:mod:`.clip_cache`) from the store in one bulk pass.

The clips are split into parts by bucket (:func:`plan_parts`); each part is one scan of its
buckets' files (:func:`posegraph.data.frame_scan.scan_people`), each clip prepared exactly as the
per-video path prepares it, written into the part's own shards (:func:`build_part`); then one
manifest names every part's shards (:func:`finish_cache`). Parts are independent: ``build_cache``
runs them one after another or in a process pool, and a flow can map them over a Dask cluster
(``posegraph cache build --dask-address``). Files are written into a staging folder beside the
cache and the folder renamed into place when the manifest is written, so a reader never sees half
a cache, and a failed build leaves the previous cache (or none) as it was.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePath

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
from posegraph.data import SkeletonStore
from posegraph.data.frame_scan import scan_people
from posegraph.data.location import StoreLocation
from posegraph.skeleton import get_layout
from posegraph.skeleton.source import SkeletonSource

from .clip_cache import (
    CACHE_FORMAT,
    INDEX,
    MANIFEST,
    SHARD_BYTES,
    ClipCache,
    ClipSettings,
    ClipSource,
    cache_key,
    open_cache,
    sha256_of,
)
from .preprocess import prepare, to_channels


@dataclass(frozen=True)
class PartResult:
    """What one part wrote: its shards (manifest entries) and its clips' index rows."""

    shards: list[dict]
    index: dict[str, list] = field(default_factory=dict)
    rows: int = 0  # frame rows read from the store


def plan_parts(store: SkeletonStore, clips: list[ClipSource], parts: int) -> list[list[ClipSource]]:
    """``clips`` in up to ``parts`` groups of whole buckets, about equally many clips each."""
    by_bucket: dict[str, list[ClipSource]] = {}
    for clip in sorted(clips, key=lambda clip: clip.video_id):
        by_bucket.setdefault(store.bucket_of(clip.video_id), []).append(clip)
    count = max(1, min(parts, len(by_bucket)))
    groups: list[list[ClipSource]] = [[] for _ in range(count)]
    placed = 0
    for bucket in sorted(by_bucket):
        groups[min(count - 1, int(placed * count / max(len(clips), 1)))].extend(by_bucket[bucket])
        placed += len(by_bucket[bucket])
    return [g for g in groups if g]


def build_part(store_root: str | Path, clips: list[ClipSource], sizes: dict[str, tuple], settings: ClipSettings,
               staging: str, part: int, shard_bytes: int = SHARD_BYTES,
               on_clips: Callable[[int], None] | None = None) -> PartResult:
    """Scan ``clips``' frames (one pass over their buckets), prepare each, write shards
    ``shard-PPP-NNNNN.npy`` into ``staging``. ``sizes``: video id -> (width, height)."""
    store = SkeletonStore(store_root, create=False)
    location = StoreLocation.of(staging)
    writer = _ShardWriter(location, part, shard_bytes)
    index: dict[str, list] = {"video_id": [], "shard_name": [], "offset": [], "length": []}
    rows = 0
    for layout in sorted({clip.layout for clip in clips}):
        wanted = {clip.video_id: clip.extracted_at for clip in clips if clip.layout == layout}
        for scanned in scan_people(store, layout, wanted, settings.persons):
            width, height = sizes.get(scanned.video_id, (None, None))
            sequence = SkeletonSource.from_people(scanned.people, layout, scanned.timestamps, width, height)
            channels = to_channels(prepare(sequence, settings.layout, settings.frames_per_second,
                                           settings.confidence))
            name, offset = writer.add(np.ascontiguousarray(channels.transpose(1, 0, 2, 3)))
            for key, value in (("video_id", scanned.video_id), ("shard_name", name), ("offset", offset),
                               ("length", channels.shape[1])):
                index[key].append(value)
            rows += scanned.rows
            if on_clips is not None:
                on_clips(1)
    writer.close()
    return PartResult(writer.entries, index, rows)


class _ShardWriter:
    """Collects ``(T, C, V, M)`` clips and writes them as ``.npy`` shards of about ``shard_bytes``."""

    def __init__(self, location: StoreLocation, part: int, shard_bytes: int) -> None:
        self.location, self.part, self.shard_bytes = location, part, shard_bytes
        self.pending: list[np.ndarray] = []
        self.pending_bytes = 0
        self.frames = 0
        self.entries: list[dict] = []

    @property
    def name(self) -> str:
        return f"shard-{self.part:03d}-{len(self.entries):05d}.npy"

    def add(self, clip: np.ndarray) -> tuple[str, int]:
        if self.pending and self.pending_bytes + clip.nbytes > self.shard_bytes:
            self.flush()
        name, offset = self.name, self.frames
        self.pending.append(clip)
        self.pending_bytes += clip.nbytes
        self.frames += len(clip)
        return name, offset

    def flush(self) -> None:
        if not self.pending:
            return
        array = np.concatenate(self.pending)
        path = self.location.path(self.name)
        sink = _Hashing(open(path, "wb") if isinstance(path, Path) else
                        self.location.filesystem.open_output_stream(str(path)))
        with sink:
            np.save(sink, array)
        self.entries.append({"name": self.name, "clips": len(self.pending), "frames": int(len(array)),
                             "bytes": sink.size, "sha256": sink.digest.hexdigest()})
        self.pending, self.pending_bytes, self.frames = [], 0, 0

    def close(self) -> None:
        self.flush()


class _Hashing:
    """A writable file that hashes and counts what goes through it."""

    def __init__(self, stream) -> None:
        self.stream, self.digest, self.size = stream, hashlib.sha256(), 0

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        self.digest.update(view)
        self.size += len(view)
        self.stream.write(view)
        return len(view)

    def __enter__(self) -> "_Hashing":
        return self

    def __exit__(self, *exc) -> None:
        self.stream.close()


def finish_cache(plan: CachePlan, results: list[PartResult], seconds: float) -> ClipCache:
    """Write the index and the manifest into the staging folder, then put it in place of the cache's."""
    staging, folder, key, settings = plan.staging, plan.folder, plan.key, plan.settings
    location = StoreLocation.of(staging)
    shards = [shard for result in results for shard in result.shards]
    number = {shard["name"]: position for position, shard in enumerate(shards)}
    index = {column: [value for result in results for value in result.index.get(column, [])]
             for column in ("video_id", "shard_name", "offset", "length")}
    table = pa.table({"video_id": pa.array(index["video_id"], pa.string()),
                      "shard": pa.array([number[name] for name in index["shard_name"]], pa.int32()),
                      "offset": pa.array(index["offset"], pa.int64()),
                      "length": pa.array(index["length"], pa.int64())})
    index_path = location.path(INDEX)
    location.write_parquet(table, index_path)
    rows = sum(result.rows for result in results)
    manifest = {"format": CACHE_FORMAT, "key": key, "settings": settings.to_dict(), "store": plan.store_root,
                "clips": len(table), "frames": int(sum(shard["frames"] for shard in shards)),
                "joints": get_layout(settings.layout).num_joints, "persons": settings.persons,
                "source_rows": rows, "build_seconds": round(seconds, 3),
                "rows_per_second": round(rows / max(seconds, 1e-9), 1),
                "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "index_bytes": location.size(index_path), "index_sha256": sha256_of(location, index_path),
                "shards": shards}
    location.write_text(location.path(MANIFEST), json.dumps(manifest, indent=1))
    _put_in_place(location, staging, folder)
    return open_cache(folder, key, verify="sizes")


def _put_in_place(location: StoreLocation, staging: str | Path, folder: str | Path) -> None:
    if location.is_local:
        target = Path(folder)
        staging = Path(staging)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
        return
    target = StoreLocation.of(folder)  # object stores have no rename: copy, manifest last
    target.filesystem.delete_dir_contents(str(target.base), missing_dir_ok=True)
    names = sorted(PurePath(info.path).name for info in location.filesystem.get_file_info(
        pafs.FileSelector(str(location.base))))
    for name in [n for n in names if n != MANIFEST] + [MANIFEST]:
        location.filesystem.copy_file(str(location.path(name)), str(target.path(name)))
    location.filesystem.delete_dir(str(location.base))


@dataclass(frozen=True)
class CachePlan:
    """A build laid out: the key, where it goes, and its parts (each one ``build_part`` call)."""

    store_root: str
    key: str
    folder: str
    staging: str
    settings: ClipSettings
    parts: list[list[ClipSource]]
    sizes: dict[str, tuple]
    clips: int

    def part_arguments(self, number: int, shard_bytes: int = SHARD_BYTES) -> tuple:
        """``build_part``'s arguments for part ``number`` (plain, picklable values)."""
        return (self.store_root, self.parts[number], {clip.video_id: self.sizes.get(clip.video_id, (None, None))
                                                      for clip in self.parts[number]},
                self.settings, self.staging, number, shard_bytes)


def plan_cache(store: SkeletonStore, clips: list[ClipSource], sizes: dict[str, tuple], settings: ClipSettings,
               folder: str | Path, parts: int = 1) -> CachePlan:
    """Lay a build out (and make its staging folder); run its parts, then :func:`finish_cache`."""
    return CachePlan(str(store.root), cache_key(settings, clips), str(folder), str(_staging_for(folder)), settings,
                     plan_parts(store, clips, parts), sizes, len(clips))


def build_cache(store: SkeletonStore, clips: list[ClipSource], sizes: dict[str, tuple], settings: ClipSettings,
                folder: str | Path, workers: int = 1, shard_bytes: int = SHARD_BYTES,
                progress: Callable[[int, int], None] | None = None, parts: int | None = None,
                run_parts: Callable[["CachePlan", int], list[PartResult]] | None = None) -> ClipCache:
    """Build the cache of ``clips`` into ``folder`` (replacing what is there) and open it; a build
    that fails takes its staging folder away.

    ``workers`` > 1 runs the parts in that many processes; ``run_parts(plan, shard_bytes)`` runs
    them elsewhere instead (the Dask flow: one task per part), returning their results in order.
    ``parts`` (default ``workers``) is how many parts the clips are laid out in.
    ``progress(done, total)`` counts clips."""
    start = time.perf_counter()
    plan = plan_cache(store, clips, sizes, settings, folder, parts or workers)
    done = [0]

    def counted(count: int) -> None:
        done[0] += count
        if progress is not None:
            progress(done[0], plan.clips)

    try:
        if run_parts is not None:
            results = run_parts(plan, shard_bytes)
        elif workers > 1 and len(plan.parts) > 1:
            # spawned, not forked: delta-rs's runtime does not survive a fork
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(min(workers, len(plan.parts)), mp_context=context) as pool:
                futures = [pool.submit(build_part, *plan.part_arguments(n, shard_bytes)) for n in range(len(plan.parts))]
                results = []
                for future, part in zip(futures, plan.parts):
                    results.append(future.result())
                    counted(len(part))
        else:
            results = [build_part(*plan.part_arguments(n, shard_bytes), on_clips=counted)
                       for n in range(len(plan.parts))]
        return finish_cache(plan, results, time.perf_counter() - start)
    except BaseException:
        remove_staging(plan.staging)
        raise


def _staging_for(folder: str | Path) -> str | Path:
    location = StoreLocation.of(folder)
    tag = f".building-{uuid.uuid4().hex[:8]}"
    if location.is_local:
        staging = Path(folder).parent / f".{Path(folder).name}{tag}"
        staging.mkdir(parents=True)
        return staging
    staging = f"{location.uri}{tag}"
    StoreLocation.of(staging).filesystem.create_dir(str(StoreLocation.of(staging).base), recursive=True)
    return staging


def remove_staging(staging: str | Path) -> None:
    """Take a failed build's staging folder away (the cache in place, if any, is untouched)."""
    location = StoreLocation.of(staging)
    if location.is_local:
        shutil.rmtree(staging, ignore_errors=True)
    else:
        location.filesystem.delete_dir(str(location.base))
