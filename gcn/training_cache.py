"""Which training cache a run reads, and making sure it is there (built, reused or rebuilt).

``cache`` in the run config: ``off`` (the per-video path: each clip read from the store by itself
and kept in the process), ``on`` (the memory-mapped cache), ``stream`` (the cache's shards read in
order through a shuffle buffer: :mod:`.clip_stream`), or ``auto``: the cache from
:data:`AUTO_MIN_CLIPS` clips in the split up. Below that the per-video path reads the split in under
30 s at the 36 clips/s measured on the Penn Action store (2-core CPU) and holds under 0.3 GB per
process, so a folder of arrays on disk buys little; above it the per-video read grows by a minute
per 2,000 clips for every worker, and its memory with every worker and every clip.

Caches live under ``STORE/_cache/clips/`` for a store on local disk (beside the data they were
made from; ``store`` commands ignore the folder), and under ``~/.cache/posegraph/clips/`` for a store
on object storage, or where ``cache_dir`` says; one folder per split, model layout and key
(``train-openpose18-3f2a9c1e04b7``). A new build removes the older folders of the same split and
layout.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from posegraph.data import SkeletonStore
from posegraph.data.cache_folders import store_cache_root

from .config import CACHE_MODES
from .clip_cache import SHARD_BYTES, CacheDamagedError, ClipCache, ClipSettings, ClipSource, cache_key, open_cache
from .clip_cache_build import build_cache
from .dataset import VideoItem

AUTO_MIN_CLIPS = 1000


def uses_cache(mode: str, clips: int) -> bool:
    """Whether a split of ``clips`` clips is read from the cache under ``mode``."""
    if mode not in CACHE_MODES:
        raise ValueError(f"cache={mode!r}: choose from {', '.join(CACHE_MODES)}")
    return mode in ("on", "stream") or (mode == "auto" and clips >= AUTO_MIN_CLIPS)


def default_cache_root(store: SkeletonStore) -> Path:
    """``STORE/_cache/clips`` on local disk; ``~/.cache/posegraph/clips/<store hash>`` for a URI or a
    store this user cannot write to."""
    return store_cache_root(store, "clips")


def clip_sources(store: SkeletonStore, items: list[VideoItem]) -> tuple[list[ClipSource], dict[str, tuple]]:
    """The items as cache sources (with their rows' ``extracted_at``) and their frame sizes."""
    stamps = {(row["video_id"], row["layout"]): row["extracted_at"]
              for row in store.videos().select(["video_id", "layout", "extracted_at"]).to_pylist()}
    clips = [ClipSource(item.video_id, item.layout, stamps.get((item.video_id, item.layout))) for item in items]
    return clips, {item.video_id: (item.width, item.height) for item in items}


def ensure_cache(store: SkeletonStore, items: list[VideoItem], settings: ClipSettings, name: str,
                 root: str | Path | None = None, workers: int = 1, log: Callable[[str], None] = print,
                 progress: Callable[[int, int], None] | None = None, rebuild: bool = False,
                 shard_bytes: int = SHARD_BYTES, parts: int | None = None, run_parts=None) -> ClipCache:
    """The cache of ``items`` under ``settings``: opened when it is there and sound, else built
    (a damaged one is built again, saying why in one line), and then older caches of the split and
    staging folders killed builds left are removed. ``name``: the split, in the folder name.
    ``parts`` and ``run_parts``: :func:`~.clip_cache_build.build_cache`'s (the Dask flow's tasks)."""
    clips, sizes = clip_sources(store, items)
    folder, cache = cache_folder(store, clips, settings, name, root, log)
    if cache is not None and not rebuild:
        log(f"training cache {folder}: {len(cache)} clips, reused")
        return cache
    root = Path(folder).parent if isinstance(folder, Path) else None
    cache = build_cache(store, clips, sizes, settings, folder, workers=workers, shard_bytes=shard_bytes,
                        progress=progress, parts=parts, run_parts=run_parts)
    if root is not None:
        _remove_older(root, f"{name}-{settings.layout}-", folder, log)
    log(built_line(cache))
    return cache


def built_line(cache: ClipCache) -> str:
    """The one line a build ends with: clips, frame rows, frame rows per second, where."""
    manifest = cache.manifest
    return (f"training cache {cache.folder}: {manifest['clips']} clips, {manifest['source_rows']} frame rows in "
            f"{manifest['build_seconds']:.1f} s ({manifest['rows_per_second']:,.0f} frame rows/s)")


def cache_folder(store: SkeletonStore, clips: list[ClipSource], settings: ClipSettings, name: str,
                 root: str | Path | None = None, log: Callable[[str], None] = print) -> tuple[str | Path, ClipCache | None]:
    """Where the cache of ``clips`` goes (``ROOT/NAME-LAYOUT-KEY``), and the cache there when it is
    sound (a damaged one is reported in one line and treated as absent: it will be built again)."""
    key = cache_key(settings, clips)
    if root is None:
        root = default_cache_root(store)
    folder = _join(Path(root) if "://" not in str(root) else str(root), f"{name}-{settings.layout}-{key[:12]}")
    try:
        return folder, open_cache(folder, key)
    except CacheDamagedError as why:
        if _exists(folder):
            log(f"training cache {why}; building it again from the store (the store is untouched)")
        return folder, None


def _join(root: str | Path, name: str) -> str | Path:
    return Path(root) / name if isinstance(root, Path) else f"{str(root).rstrip('/')}/{name}"


def _exists(folder: str | Path) -> bool:
    return Path(folder).exists() if isinstance(folder, Path) else True


STALE_STAGING_S = 6 * 3600  # a build's staging folder untouched this long was left by a killed build


def _untouched_s(folder: Path) -> float:
    """Seconds since the folder or a file in it last changed."""
    return time.time() - max([folder.stat().st_mtime] + [item.stat().st_mtime for item in folder.iterdir()])


def _remove_older(root: str | Path, prefix: str, keep: str | Path, log: Callable[[str], None]) -> None:
    """Other caches of the same split and layout, and staging folders that killed builds left (a
    build in progress elsewhere writes into its own, and keeps it fresh)."""
    if not isinstance(root, Path) or not root.is_dir():
        return
    for other in root.iterdir():
        if other.is_dir() and other.name.startswith(prefix) and other != Path(keep):
            shutil.rmtree(other, ignore_errors=True)
            log(f"training cache {other}: removed (built for clips or settings no longer asked for)")
        elif other.is_dir() and other.name.startswith("." + prefix) and ".building-" in other.name \
                and _untouched_s(other) > STALE_STAGING_S:
            shutil.rmtree(other, ignore_errors=True)
            log(f"training cache {other}: removed (left by a build that was killed)")


def training_clips(store: SkeletonStore, items: list[VideoItem], layout: str, config, split: str,
                   log: Callable[[str], None] = print) -> ClipCache | None:
    """The cache a graph model's ``split`` reads under ``config`` (a :class:`.config.TrainConfig`),
    or None for the per-video path. Under DDP the first rank builds it and the others wait, then open it."""
    if not items or not uses_cache(config.cache, len(items)):
        return None
    settings = ClipSettings(layout, config.frames_per_second, config.joint_confidence, config.num_persons or 1)
    import torch.distributed as dist

    if not dist.is_initialized():
        return ensure_cache(store, items, settings, split, config.cache_dir, log=log)
    if dist.get_rank() == 0:
        cache = ensure_cache(store, items, settings, split, config.cache_dir, log=log)
        dist.barrier()
        return cache
    dist.barrier()
    return ensure_cache(store, items, settings, split, config.cache_dir, log=lambda _: None)


SPLITS = ("train", "val", "test", "all")


def split_clips(store: SkeletonStore, config, split: str) -> tuple[list[VideoItem], ClipSettings]:
    """The videos of ``split`` (``all``: every split) as ``config`` selects the corpus, and the
    settings their cache is built with: what ``posegraph train`` with this config reads."""
    from .corpus import select_corpus

    if split not in SPLITS:
        raise ValueError(f"split {split!r}: choose from {', '.join(SPLITS)}")
    corpus = select_corpus(store, config)
    items = [item for name in ("train", "val", "test") for item in corpus.splits[name]] if split == "all" \
        else corpus.splits[split]
    if split == "all":
        items = list({item.video_id: item for item in items}.values())
    layout = config.layout or corpus.stored_layout
    return items, ClipSettings(layout, config.frames_per_second, config.joint_confidence, config.num_persons or 1)


def build_split_cache(store: SkeletonStore, config, split: str, root: str | Path | None = None, workers: int = 1,
                      progress: bool = False, rebuild: bool = False, log: Callable[[str], None] = print) -> str:
    """``posegraph cache build``: the cache of ``split`` built (or found sound and kept); its one-line
    summary (clips, frame rows, frame rows per second, where)."""
    items, settings = split_clips(store, config, split)
    if not items:
        raise ValueError(f"the {split} split of the store at {store.root} has no videos to cache")
    messages: list[str] = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(items), unit="clip", desc=f"caching {split}", leave=False)
    try:
        ensure_cache(store, items, settings, split, root or config.cache_dir, workers, log=messages.append,
                     progress=(lambda done, total: bar.update(done - bar.n)) if bar is not None else None,
                     rebuild=rebuild)
    finally:
        if bar is not None:
            bar.close()
    for message in messages[:-1]:
        log(message)
    return messages[-1]
