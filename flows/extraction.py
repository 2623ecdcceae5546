"""Flow: extract skeletons from a corpus of videos into the store, one task per video.

Plain functions do the work (:mod:`posegraph.data.corpus_extraction`; tests call them directly); the
flow wires them to Prefect with
retries, a task runner (processes on this machine, a local Dask cluster or an existing one) and
a summary artifact.

Scaling: every worker (process or Dask worker) is started and warmed up (imports, the extractor's
model, the Prefect client) once, while the flow discovers its videos, and the videos are
submitted longest first so that no long video starts last and leaves the other workers idle.
"""

from __future__ import annotations

import time
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.states import Failed

from posegraph.data import SkeletonStore, Skeletons, VideoInfo
from posegraph.data.corpus_extraction import (ExtractionOptions, copies_and_moves, crash_record, extract_record,
                                              extractor_for, longest_first, not_stored, summarize, summary_text,
                                              warm_up_worker, work_estimate)
from posegraph.data.group_commit import GroupCommitWriter
from posegraph.data.ingest import VideoJob, discover_videos
from posegraph.flows.lifeline import interruptible


def _warm_up_process_worker(options: ExtractionOptions) -> None:
    """Initializer of a worker process: the extractor, then the Prefect client it keeps.

    Never raises (an initializer that raises breaks the whole pool): whatever fails here fails
    again in the first task, where it is retried and recorded like any other error."""
    from posegraph.flows.lifeline import die_with_parent

    die_with_parent()  # a worker orphaned by kill -9 of the run must not go on extracting
    try:
        warm_up_worker(options)
        from posegraph.flows.workers import warm_client

        warm_client()
    except Exception:  # an optimisation only
        import logging

        logging.getLogger(__name__).debug("warm-up failed", exc_info=True)


@task(name="extract-video", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE,
      task_run_name="extract {job.path}")
def extract_video(job: VideoJob, store_path: str, options: ExtractionOptions, force: bool,
                  retry_failed: bool) -> tuple[dict, VideoInfo | None, Skeletons | None]:
    """Extract one video (the flow stores it); transient errors are retried twice."""
    return extract_record(job, store_path, options, force, retry_failed)


@flow(name="extract-corpus", log_prints=True)
def extract_corpus(source: str, store: str, options: ExtractionOptions = ExtractionOptions(),
                   force: bool = False, retry_failed: bool = False, progress: bool = False) -> dict:
    """Extract every video of ``source`` (folder, glob or manifest CSV) into ``store``."""
    started = time.perf_counter()
    _start_workers()  # their start-up runs while this process discovers and orders the videos
    jobs = discover_videos(source)
    SkeletonStore(store)  # create or check the store before the tasks race to it
    extractor_for(options)  # fail fast on bad options (e.g. hrnet without weights)
    jobs = longest_first(jobs, lambda job: work_estimate(job.path, options.target_fps))
    futures = {extract_video.submit(job, store, options, force, retry_failed): job for job in jobs}
    outcomes: list[dict] = []
    finished_jobs: list[VideoJob] = []
    bar = _progress_bar(len(jobs)) if progress else None
    writer = GroupCommitWriter(SkeletonStore(store))  # videos finishing together share a commit

    def stored_so_far() -> str:
        writer.close()  # the writes in flight finish: nothing extracted and handed over is lost
        return (f"{writer.stored} videos stored in this run, {len(jobs) - len(outcomes)} of {len(jobs)} not "
                f"finished; run the same command again to go on (stored videos are skipped)")

    with interruptible(stored_so_far), writer:
        for future in as_completed(list(futures)):
            job = futures[future]
            try:
                outcome, info, skeletons = future.result()
            except Exception as error:  # noqa: BLE001 - failed after retries: record it, go on
                (outcome, info), skeletons = crash_record(job, options, error), None
            if info is not None:
                writer.add(info, skeletons)
            outcomes.append(outcome)
            finished_jobs.append(job)
            if bar is not None:
                bar.update()
                bar.set_postfix_str(f"{outcome['status']}: {Path(job.path).name}")
    if bar is not None:
        bar.close()
    outcomes = [not_stored(o, writer.failures[o["video_id"]]) if o["video_id"] in writer.failures else o
                for o in outcomes]
    outcomes, changes = copies_and_moves(finished_jobs, outcomes, extractor_for(options).layout)
    if changes:
        SkeletonStore(store).update_metadata(changes)
    summary = summarize(outcomes, time.perf_counter() - started)
    create_table_artifact(
        key="extraction-summary",
        table=[{k: o[k] for k in ("path", "status", "reason", "frames")} for o in sorted(outcomes, key=lambda o: o["path"])],
        description=f"Extraction into {store}: {summary_text(summary)}")
    print(summary_text(summary))
    for outcome in outcomes:
        if outcome["status"] == "failed":
            get_run_logger().warning("failed: %s", outcome["reason"])
    result = {**summary, "outcomes": outcomes}
    if summary["failed"]:  # the run's state says what its exit code says (the summary is still its result)
        return Failed(message=f"{summary['failed']} of {summary['videos']} videos failed; every other video "
                              f"was stored", data=result)
    return result


def _start_workers() -> None:
    """Start and warm up the flow's workers now, if its task runner can."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    start = getattr(getattr(context, "task_runner", None), "start_workers", None)
    if start is not None:
        start()


def _progress_bar(total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit="video", desc="extract")


def task_runner(workers: int | None = None, dask_address: str | None = None,
                options: ExtractionOptions | None = None, dask_workers: int | None = None):
    """Where the tasks run: processes on this machine (one per core by default), a local Dask
    cluster of ``dask_workers`` processes started for the run, or the Dask cluster at
    ``dask_address``. Each worker warms up once for ``options`` (default: the defaults)."""
    options = options or ExtractionOptions()
    if dask_address or dask_workers:
        from posegraph.flows.dask_runner import dask_task_runner

        if not dask_address:
            from posegraph.flows.server import share_temporary_server

            share_temporary_server()  # the cluster's processes inherit the server's address
        return dask_task_runner(dask_address, dask_workers, initializer=warm_up_worker, initargs=(options,))
    import os

    from prefect.task_runners import ThreadPoolTaskRunner

    workers = workers or os.cpu_count() or 1
    if workers == 1:
        from posegraph.flows.server import share_temporary_server

        share_temporary_server()  # started here, so that a watchdog stops it if this process is killed
        return ThreadPoolTaskRunner(max_workers=1)  # no process start-up cost for one worker
    from posegraph.flows.server import share_temporary_server
    from posegraph.flows.workers import WarmProcessPoolTaskRunner

    share_temporary_server()  # workers report to this process's server instead of starting their own
    return WarmProcessPoolTaskRunner(max_workers=workers, initializer=_warm_up_process_worker,
                                     initargs=(options,))


def run_extraction(source: str, store: str, options: ExtractionOptions = ExtractionOptions(),
                   workers: int | None = None, dask_address: str | None = None, force: bool = False,
                   retry_failed: bool = False, progress: bool = False, dask_workers: int | None = None) -> dict:
    """Run :func:`extract_corpus` with the chosen task runner (see :func:`task_runner`)."""
    runner = task_runner(workers, dask_address, options, dask_workers)
    configured = extract_corpus.with_options(task_runner=runner)
    state = configured(source, store, options, force, retry_failed, progress, return_state=True)
    result = state.result(raise_on_failure=False)
    if isinstance(result, BaseException):  # the flow itself crashed (not a video): say it as it is
        raise result
    return {**result, "flow_state": state.name}


__all__ = ["ExtractionOptions", "extract_corpus", "run_extraction", "summary_text", "task_runner"]
