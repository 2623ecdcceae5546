"""``posegraph cache build|check``: the training cache as a step of its own (ML engineers, data engineers)."""

from __future__ import annotations

import argparse
import os


def command_cache_build(arguments: argparse.Namespace) -> int:
    from posegraph.data import SkeletonStore
    from posegraph.gcn.config import load_config

    overrides = list(arguments.set) + ([f"layout={arguments.layout}"] if arguments.layout else [])
    config = load_config(arguments.config, overrides, model=arguments.model)
    store = SkeletonStore(arguments.store, create=False)
    if arguments.dask_address or arguments.dask_workers:
        from posegraph.flows.caching import cache_flow

        summary = cache_flow(str(arguments.store), config, arguments.split, arguments.out, arguments.dask_address,
                             arguments.dask_workers, arguments.rebuild)
    else:
        from posegraph.gcn.training_cache import build_split_cache

        summary = build_split_cache(store, config, arguments.split, arguments.out, arguments.workers,
                                    progress=not arguments.quiet, rebuild=arguments.rebuild)
    print(summary)
    return 0


def command_cache_check(arguments: argparse.Namespace) -> int:
    from posegraph.gcn.clip_cache import CacheDamagedError, open_cache

    failed = 0
    for folder in arguments.folder:
        try:
            cache = open_cache(folder, verify="full")
        except CacheDamagedError as error:
            print(f"damaged: {error}")
            failed += 1
            continue
        manifest = cache.manifest
        print(f"ok: {folder}: {manifest['clips']} clips, {manifest['frames']} frames in {len(manifest['shards'])} "
              f"shard(s), every file's SHA-256 as its manifest says")
    return 1 if failed else 0


def register(commands: argparse._SubParsersAction) -> None:
    cache = commands.add_parser("cache", help="the training cache: a split's clips prepared once as memory-mapped "
                                              "arrays (built by train when needed; here as a step of its own)")
    actions = cache.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="prepare a split's clips from the store in one bulk pass")
    build.add_argument("--store", required=True, help="skeleton store folder (or object-storage URI)")
    build.add_argument("--layout", help="the model's layout the clips are mapped to (default: the model's, else the "
                                        "store's)")
    build.add_argument("--split", default="train", choices=("train", "val", "test", "all"),
                       help="which split, as training selects it (default train)")
    build.add_argument("--out", help="where caches live (default STORE/_cache/clips; train reads it with --set "
                                     "cache_dir=OUT); a local folder or an object-storage URI")
    build.add_argument("--model", choices=("stgcn", "msg3d"), help="the model whose settings apply (default stgcn)")
    build.add_argument("--config", help="YAML config (the train run's, so its cache is the one built)")
    build.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    build.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                       help="processes, each scanning its own buckets (default: one per CPU)")
    build.add_argument("--dask-address", help="run the parts as a Prefect flow on the Dask cluster at this address")
    build.add_argument("--dask-workers", type=int, help="... or on a local Dask cluster of this many processes")
    build.add_argument("--rebuild", action="store_true", help="build even when a sound cache is there")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(run=command_cache_build)
    check = actions.add_parser("check", help="verify cache folders whole (every file's SHA-256)")
    check.add_argument("folder", nargs="+", help="cache folders (STORE/_cache/clips/SPLIT-LAYOUT-KEY)")
    check.set_defaults(run=command_cache_check)
