"""Flow: the training cache built as its own step, its parts mapped over a Dask cluster.

The work is :mod:`posegraph.gcn.clip_cache_build`'s: a plan (the key, a staging folder, parts of
whole buckets), one ``build_part`` per part (each scans its buckets once and writes its own
shards), then ``finish_cache`` (index, manifest, the folder put in place). Here each part is a
Prefect task, so a cluster of machines that can all reach the store (and the cache folder: use an
object-storage URI for ``--out``) builds a very large cache together.
"""

from __future__ import annotations

import time

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from posegraph.data import SkeletonStore
from posegraph.gcn.clip_cache_build import PartResult, build_part, finish_cache, plan_cache, remove_staging
from posegraph.gcn.config import TrainConfig
from posegraph.gcn.training_cache import (built_line, cache_folder, clip_sources, split_clips)


@task(name="cache-part", cache_policy=NO_CACHE, retries=1)
def cache_part_task(arguments: tuple) -> PartResult:
    """One part: its buckets scanned once, its clips prepared and written as shards."""
    return build_part(*arguments)


def cache_flow(store: str, config: TrainConfig, split: str = "train", out: str | None = None,
               dask_address: str | None = None, dask_workers: int | None = None, rebuild: bool = False) -> str:
    """Build the cache of ``split`` with its parts on Dask (the cluster at ``dask_address``, or a
    local one of ``dask_workers`` processes); the build's one-line summary."""
    from posegraph.flows.dask_runner import dask_task_runner

    runner = dask_task_runner(dask_address, dask_workers or 2)
    return flow(name="cache-build", task_runner=runner)(_cache_flow)(store, config, split, out, dask_workers or 2,
                                                                      rebuild)


def _cache_flow(store: str, config: TrainConfig, split: str, out: str | None, parts: int, rebuild: bool) -> str:
    skeletons = SkeletonStore(store, create=False)
    items, settings = split_clips(skeletons, config, split)
    clips, sizes = clip_sources(skeletons, items)
    folder, existing = cache_folder(skeletons, clips, settings, split, out or config.cache_dir)
    if existing is not None and not rebuild:
        return f"training cache {folder}: {len(existing)} clips, already built for these clips and settings"
    start = time.perf_counter()
    plan = plan_cache(skeletons, clips, sizes, settings, folder, max(parts * 4, 1))
    try:
        futures = [cache_part_task.submit(plan.part_arguments(number)) for number in range(len(plan.parts))]
        results = [future.result() for future in futures]
        return built_line(finish_cache(plan, results, time.perf_counter() - start))
    except BaseException:
        remove_staging(plan.staging)
        raise
