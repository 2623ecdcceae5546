"""The training cache: a split's clips prepared once, as memory-mappable arrays (issue 27).

What the graph datasets read per video (:func:`posegraph.data.sources.stored_source` then
:func:`.preprocess.prepare` and :func:`.preprocess.to_channels`) is done once, in one bulk pass over
the store (:mod:`.clip_cache_build`), and written as a folder:

- ``shard-00000.npy`` ...: float32 ``(frames, C=3, V, M)``, every clip's frames one after the other
  (a clip never spans two shards; a shard is about :data:`SHARD_BYTES`), memory-mapped by readers;
- ``clips.parquet``: one row per clip: ``video_id``, ``shard``, ``offset``, ``length`` (frames);
- ``manifest.json``, written last: the format, the key, the settings, and each file's size and
  SHA-256, so a truncated or corrupt file is found before it trains anything.

The key is a hash of the settings (model layout, frame rate, confidence, persons, the geometry's
method) and of the clips (each video id with its ``videos`` row's ``extracted_at``): a new or
re-extracted video, or a changed setting, gives another key and the cache is built again; a label
or split edited in the store does not (labels are not cached, the corpus gives them).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path, PurePath

import numpy as np
import pyarrow as pa
from posegraph.data.documents import check_format
from posegraph.data.location import StoreLocation
from posegraph.skeleton.geometry import METHOD

CACHE_FORMAT = "posegraph-clip-cache/1"
MANIFEST = "manifest.json"
INDEX = "clips.parquet"
SHARD_BYTES = 256 * 1024 * 1024  # "a few hundred MB": one object-storage read each when streaming
# A cache this small is hashed whole when it is opened (about 1 s per GB on this 2-core CPU);
# above it only sizes and headers are checked (`posegraph cache check` hashes everything).
HASH_ON_OPEN_BYTES = 1024 * 1024 * 1024


class CacheDamagedError(Exception):
    """A cache folder that cannot be used as it is (missing, truncated or corrupt file, other key)."""


@dataclass(frozen=True)
class ClipSettings:
    """What the cached arrays depend on besides the clips themselves."""

    layout: str  # the model's layout (stored data are converted to it)
    frames_per_second: float
    confidence: str  # presence | score (:data:`.preprocess.JOINT_CONFIDENCE`)
    persons: int

    def to_dict(self) -> dict:
        return {**asdict(self), "method": METHOD}


@dataclass(frozen=True)
class ClipSource:
    """One stored clip a cache holds: its id, stored layout and the ``extracted_at`` of its row."""

    video_id: str
    layout: str
    extracted_at: datetime | None


def cache_key(settings: ClipSettings, clips: list[ClipSource]) -> str:
    """SHA-256 of the format, the settings and the clips (ids, layouts, extraction times)."""
    text = json.dumps({"format": CACHE_FORMAT, "settings": settings.to_dict(),
                       "clips": sorted([clip.video_id, clip.layout, str(clip.extracted_at)] for clip in clips)},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def sha256_of(location: StoreLocation, path: PurePath, chunk: int = 16 * 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with _open(location, path) as stream:
        while block := stream.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _open(location: StoreLocation, path: PurePath):
    return open(path, "rb") if isinstance(path, Path) else location.filesystem.open_input_stream(str(path))


class ClipCache:
    """An opened cache folder. :meth:`sequence` gives a clip's ``(C, T, V, M)`` as a read-only view of
    the memory-mapped shard (local folders) or of the shard read whole (object storage).

    Pickled into DataLoader workers without its mappings: each worker maps the same files again, so
    the pages are the operating system's page cache, shared, and memory does not grow with workers.
    """

    def __init__(self, folder: str | Path, manifest: dict, index: pa.Table) -> None:
        self.folder = folder
        self.location = StoreLocation.of(folder)
        self.manifest = manifest
        self.key: str = manifest["key"]
        ids = index["video_id"].to_pylist()
        shards, offsets, lengths = (index[name].to_numpy() for name in ("shard", "offset", "length"))
        self.clips = {video_id: (int(s), int(o), int(n)) for video_id, s, o, n in zip(ids, shards, offsets, lengths)}
        self.order = ids  # the clips in shard order (how streaming reads them)
        self._shards: dict[int, np.ndarray] = {}

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_shards": {}}

    def __len__(self) -> int:
        return len(self.clips)

    @property
    def shard_names(self) -> list[str]:
        return [shard["name"] for shard in self.manifest["shards"]]

    def shard(self, number: int) -> np.ndarray:
        """Shard ``number`` as ``(frames, C, V, M)``: memory-mapped on local disk, else read whole."""
        if number not in self._shards:
            path = self.location.path(self.shard_names[number])
            if isinstance(path, Path):
                self._shards[number] = np.load(path, mmap_mode="r")
            else:
                import io

                with self.location.filesystem.open_input_stream(str(path)) as stream:
                    self._shards[number] = np.load(io.BytesIO(stream.read()))
        return self._shards[number]

    def drop_shard(self, number: int) -> None:
        """Forget shard ``number`` (streaming reads one shard after another)."""
        self._shards.pop(number, None)

    def sequence(self, video_id: str) -> np.ndarray:
        """The clip's whole prepared sequence. Shapes: ``(C, T, V, M)`` float32 (a view)."""
        if video_id not in self.clips:
            raise KeyError(f"video {video_id} is not in the training cache at {self.folder}; it was built for "
                           f"another set of clips (rebuild with `posegraph cache build`)")
        number, offset, length = self.clips[video_id]
        return self.shard(number)[offset:offset + length].transpose(1, 0, 2, 3)


def open_cache(folder: str | Path, key: str | None = None, verify: str = "auto") -> ClipCache:
    """Open a cache folder, checking it first; :class:`CacheDamagedError` saying what is wrong.

    ``verify``: ``sizes`` (files present, sizes and array headers as the manifest says), ``full``
    (also every file's SHA-256) or ``auto`` (``full`` up to :data:`HASH_ON_OPEN_BYTES`)."""
    location = StoreLocation.of(folder)
    manifest_path = location.path(MANIFEST)
    if not location.exists(manifest_path):
        raise CacheDamagedError(f"{folder} has no {MANIFEST} (not a training cache, or its build did not finish)")
    try:
        manifest = json.loads(location.read_text(manifest_path))
        shards, total_bytes = manifest["shards"], sum(shard["bytes"] for shard in manifest["shards"])
    except (ValueError, KeyError, TypeError) as error:
        raise CacheDamagedError(f"{folder}/{MANIFEST} is unreadable ({error})") from None
    check_format(manifest, f"{folder}/{MANIFEST}", CACHE_FORMAT, "a training cache of this release",
                 "build it again (posegraph cache build)", CacheDamagedError)
    if key is not None and manifest.get("key") != key:
        raise CacheDamagedError(f"{folder} was built for other clips or settings (key {manifest.get('key', '')[:12]}, "
                                f"wanted {key[:12]})")
    hashed = verify == "full" or (verify == "auto" and total_bytes <= HASH_ON_OPEN_BYTES)
    for entry in [{"name": INDEX, "bytes": manifest.get("index_bytes"), "sha256": manifest.get("index_sha256")},
                  *shards]:
        _check_file(location, folder, entry, hashed or entry["name"] == INDEX)
    try:
        index = location.read_parquet(location.path(INDEX))
    except (OSError, pa.ArrowException) as error:
        raise CacheDamagedError(f"{folder}/{INDEX} is unreadable ({str(error).splitlines()[0][:120]})") from None
    cache = ClipCache(folder, manifest, index)
    for number, shard in enumerate(shards):
        _check_header(cache, number, shard)
    return cache


def _check_file(location: StoreLocation, folder: str | Path, entry: dict, hashed: bool) -> None:
    path = location.path(entry["name"])
    if not location.exists(path):
        raise CacheDamagedError(f"{folder}/{entry['name']} is missing")
    size = location.size(path)
    if size != entry["bytes"]:
        raise CacheDamagedError(f"{folder}/{entry['name']} has {size} bytes, its manifest says {entry['bytes']} "
                                f"(truncated or overwritten)")
    if hashed and sha256_of(location, path) != entry["sha256"]:
        raise CacheDamagedError(f"{folder}/{entry['name']} does not match its SHA-256 in the manifest (corrupt)")


def _check_header(cache: ClipCache, number: int, entry: dict) -> None:
    try:
        shape = cache.shard(number).shape
    except (ValueError, OSError) as error:
        raise CacheDamagedError(f"{cache.folder}/{entry['name']} is not a readable array ({error})") from None
    wanted = (entry["frames"], 3, cache.manifest["joints"], cache.manifest["persons"])
    if tuple(shape) != wanted:
        raise CacheDamagedError(f"{cache.folder}/{entry['name']} holds {tuple(shape)}, the manifest says {wanted}")
    if not isinstance(cache.location.path(entry["name"]), Path):
        cache.drop_shard(number)  # read whole to check it: not kept (streaming reads it again in turn)
