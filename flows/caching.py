"""Flow: the training cache built as its own step, its parts mapped over a Dask cluster.

The work is the one build, :func:`posegraph.gcn.training_cache.ensure_cache` (reuse a sound
cache; else a plan of parts of whole buckets, one ``build_part`` per part, the index and manifest,
the folder put in place; then older caches and killed builds' staging folders cleared). Here each
part is a Prefect task, so a cluster of machines that can all reach the store (and the cache folder: use an
object-storage URI for ``--out``) builds a very large cache together.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from posegraph.data import SkeletonStore
from posegraph.gcn.clip_cache_build import PartResult, build_part
from posegraph.gcn.config import TrainConfig
from posegraph.gcn.training_cache import ensure_cache, split_clips


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
    """The one build (:func:`~posegraph.gcn.training_cache.ensure_cache`: reuse, build, clear what is
    stale), its parts run as tasks."""
    skeletons = SkeletonStore(store, create=False)
    items, settings = split_clips(skeletons, config, split)
    if not items:
        raise ValueError(f"the {split} split of the store at {skeletons.root} has no videos to cache")
    said: list[str] = []
    ensure_cache(skeletons, items, settings, split, out or config.cache_dir, log=said.append, rebuild=rebuild,
                 parts=max(parts * 4, 1), run_parts=_parts_as_tasks)
    return "\n".join(said)


def _parts_as_tasks(plan, shard_bytes: int) -> list[PartResult]:
    futures = [cache_part_task.submit(plan.part_arguments(number, shard_bytes)) for number in range(len(plan.parts))]
    return [future.result() for future in futures]
