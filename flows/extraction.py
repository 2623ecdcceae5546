"""Flow: extract skeletons from a corpus of videos into the store, one task per video.

Plain functions do the work (tests call them directly); the flow wires them to Prefect with
retries, a task runner (processes on this machine, a local Dask cluster or an existing one) and
a summary artifact.

Scaling: every worker (process or Dask worker) is started and warmed up (imports, the extractor's
model, the Prefect client) once, while the flow discovers its videos, and the videos are
submitted longest first so that no long video starts last and leaves the other workers idle.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.states import Failed

from posegraph.data import DamagedFileError, SkeletonStore, Skeletons, VideoInfo
from posegraph.data.group_commit import GroupCommitWriter
from posegraph.flows.lifeline import interruptible
from posegraph.data.ingest import (VideoJob, already_extracted, discover_videos, extraction_record,
                                   failure_info, metadata_changes, settings_json, video_id_for)
from posegraph.skeleton.cleaning import CleaningSettings, clean, status_of
from posegraph.skeleton.extraction import build_extractor
from posegraph.skeleton.video import VideoError, probe
from posegraph.skeleton.vocabulary import DEFAULT_FPS


@dataclass(frozen=True)
class ExtractionOptions:
    """Everything that decides what a video's stored skeleton looks like."""

    extractor: str = "blazepose"
    target_fps: float | None = DEFAULT_FPS
    weights: str | None = None
    model_asset: str | None = None
    visibility_threshold: float = 0.6
    max_gap: int = 8
    min_detection_rate: float = 0.3

    @property
    def cleaning(self) -> CleaningSettings:
        return CleaningSettings(self.visibility_threshold, self.max_gap, self.min_detection_rate)

    def extractor_options(self) -> dict:
        options: dict = {"target_fps": self.target_fps}
        if self.extractor == "hrnet":
            options["weights"] = self.weights
        elif self.model_asset:
            options["model_asset"] = self.model_asset
        return options


@functools.lru_cache(maxsize=4)
def _extractor(options: ExtractionOptions):
    """One extractor per process and options (HRNet weights load once)."""
    return build_extractor(options.extractor, **options.extractor_options())


_warmed: set = set()  # the options this process has warmed up for


def warm_up_worker(options: ExtractionOptions) -> bool:
    """Pay a worker's start-up once per process: imports, the extractor and its model.

    Runs as the process-pool initializer and as a Dask worker plugin. Returns True when it did
    the work, False when this process was already warm for these options.
    """
    if options in _warmed:
        return False
    extractor = _extractor(options)
    warm_up = getattr(extractor, "warm_up", None)
    if warm_up is not None:
        warm_up()
    _warmed.add(options)
    return True


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


# Seconds per sampled frame (BlazePose) and per decoded megapixel (FFmpeg decoding), fitted on
# the per-video times of the 24 test videos (2 cores): a 1080p clip at 30 fps costs about 1.8x a
# 340x256 one per sampled frame. Only the order they give matters.
SECONDS_PER_SAMPLED_FRAME = 0.0195
SECONDS_PER_DECODED_MEGAPIXEL = 0.0040


def work_estimate(path: str, target_fps: float | None) -> float:
    """Expected extraction seconds of a video, from its container's metadata (0.0 if unreadable:
    such a file fails at once)."""
    try:
        properties = probe(path)
    except (VideoError, OSError):
        return 0.0
    frames = properties.frame_count
    fps = properties.frames_per_second
    sampled = frames if not (target_fps and fps) else frames * min(1.0, target_fps / fps)
    megapixels = frames * properties.width * properties.height / 1e6
    return sampled * SECONDS_PER_SAMPLED_FRAME + megapixels * SECONDS_PER_DECODED_MEGAPIXEL


def longest_first(jobs: list[VideoJob], estimate) -> list[VideoJob]:
    """``jobs`` ordered by ``estimate(job)`` descending (ties: in their given order), so that
    the longest videos start first and the short ones fill the gaps at the end."""
    estimates = [estimate(job) for job in jobs]
    order = sorted(range(len(jobs)), key=lambda index: -estimates[index])
    return [jobs[index] for index in order]


def extract_record(job: VideoJob, store_path: str, options: ExtractionOptions, force: bool = False,
                   retry_failed: bool = False) -> tuple[dict, VideoInfo | None, Skeletons | None]:
    """Extract one video without writing it: a small outcome record, and the row and skeletons
    to store (``None, None`` when it was skipped).

    Permanent problems (not a video, empty, truncated, nobody in frame) give a ``failed`` row;
    anything else is raised for Prefect to retry.
    """
    started = time.perf_counter()
    video_id = video_id_for(job.path)
    extractor = _extractor(options)
    key = settings_json(extractor.settings, options.cleaning)
    try:
        previous = None if force else already_extracted(SkeletonStore(store_path), video_id, extractor.layout,
                                                        extractor.name, key)
    except DamagedFileError as error:  # the store, not the video: say which file, go on with the others
        return not_stored(_outcome(job, video_id, "failed", None, 0, started), str(error)), None, None
    if previous is not None and not (retry_failed and previous["status"] == "failed"):
        outcome = _outcome(job, video_id, "skipped", None, 0, started)
        changes = metadata_changes(job, previous)  # moved or relabelled: update the row, no re-extraction
        return ({**outcome, "metadata": changes} if changes else outcome), None, None
    try:
        result = extractor.extract(job.path)
    except VideoError as error:
        info = failure_info(job, video_id, extractor.layout, extractor.name, extractor.version, key, str(error))
        return _outcome(job, video_id, "failed", str(error), 0, started), info, None
    cleaned = clean(result.joints, result.detected, options.cleaning)
    status, reason = status_of(cleaned, options.cleaning)
    info, skeletons = extraction_record(job, video_id, result, cleaned, status, reason, key)
    return _outcome(job, video_id, info.status, info.reason, len(result.joints), started), info, skeletons


def _outcome(job: VideoJob, video_id: str, status: str, reason: str | None, frames: int, started: float) -> dict:
    return {"path": job.path, "video_id": video_id, "status": status, "reason": reason, "frames": frames,
            "seconds": time.perf_counter() - started}


def extract_one(job: VideoJob, store_path: str, options: ExtractionOptions, force: bool = False,
                retry_failed: bool = False) -> dict:
    """Extract one video into the store (or skip it); returns its outcome record (see :func:`extract_record`)."""
    outcome, info, skeletons = extract_record(job, store_path, options, force, retry_failed)
    if outcome.get("metadata"):
        SkeletonStore(store_path).update_metadata({(outcome["video_id"], _extractor(options).layout): outcome["metadata"]})
    if info is not None:
        try:
            SkeletonStore(store_path).write_video(info, skeletons)
        except DamagedFileError as error:  # the store, not the video: say which file, go on with the others
            outcome = not_stored(outcome, str(error))
    return outcome


def not_stored(outcome: dict, error: str) -> dict:
    """The outcome of a video whose write failed."""
    return {**outcome, "status": "failed", "reason": f"{outcome['path']}: not stored: {error}", "frames": 0}


def crash_record(job: VideoJob, options: ExtractionOptions, error: BaseException) -> tuple[dict, VideoInfo]:
    """The outcome and ``failed`` row of a video whose task failed even after its retries."""
    extractor = _extractor(options)
    video_id = video_id_for(job.path)
    reason = f"extraction crashed after retries: {type(error).__name__}: {error}"
    info = failure_info(job, video_id, extractor.layout, extractor.name, extractor.version,
                        settings_json(extractor.settings, options.cleaning), reason)
    return {"path": job.path, "video_id": video_id, "status": "failed", "reason": reason, "frames": 0,
            "seconds": 0.0}, info


@task(name="extract-video", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE,
      task_run_name="extract {job.path}")
def extract_video(job: VideoJob, store_path: str, options: ExtractionOptions, force: bool,
                  retry_failed: bool) -> tuple[dict, VideoInfo | None, Skeletons | None]:
    """Extract one video (the flow stores it); transient errors are retried twice."""
    return extract_record(job, store_path, options, force, retry_failed)


def copies_and_moves(jobs: list[VideoJob], outcomes: list[dict], layout: str) -> tuple[list[dict], dict]:
    """Outcomes with every copy after the first of identical bytes marked ``duplicate``, and the
    ``videos`` metadata to change: a moved or relabelled file's new path and label, and for copies
    the first path (sorted) as the row's, the others in ``also_at``, every label in ``labels_seen``."""
    changes: dict[tuple[str, str], dict] = {}
    by_video: dict[str, list[int]] = {}
    for position, outcome in enumerate(outcomes):
        by_video.setdefault(outcome["video_id"], []).append(position)
        if outcome.get("metadata"):
            changes[outcome["video_id"], layout] = dict(outcome["metadata"])
    marked = list(outcomes)
    for video_id, positions in by_video.items():
        if len(positions) < 2:
            continue
        positions = sorted(positions, key=lambda position: jobs[position].path)
        first = jobs[positions[0]]
        if outcomes[positions[0]]["status"] not in ("ok", "rejected", "skipped"):
            continue
        for position in positions[1:]:
            marked[position] = {**outcomes[position], "status": "duplicate", "frames": 0,
                                "reason": f"{jobs[position].path}: same bytes as {first.path}"
                                          + (f" (labelled {first.label})" if first.label else "")}
        labels = sorted({jobs[position].label for position in positions if jobs[position].label})
        changes[video_id, layout] = {"source_path": first.path, "label": first.label, "split": first.split,
                                     "group": first.group, "also_at": [jobs[p].path for p in positions[1:]],
                                     "labels_seen": labels}
    return marked, changes


def summarize(outcomes: list[dict], seconds: float) -> dict:
    """Counts per status, frames written and frames per second achieved."""
    counts = {status: sum(o["status"] == status for o in outcomes)
              for status in ("ok", "rejected", "failed", "skipped", "duplicate")}
    frames = sum(o["frames"] for o in outcomes)
    return {**counts, "videos": len(outcomes), "frames": frames, "seconds": round(seconds, 2),
            "frames_per_second": round(frames / seconds, 2) if seconds > 0 else 0.0}


def summary_text(summary: dict) -> str:
    duplicates = f", {summary['duplicate']} duplicate (same bytes as another file)" if summary.get("duplicate") else ""
    return (f"videos: {summary['ok']} ok, {summary['rejected']} rejected, {summary['failed']} failed, "
            f"{summary['skipped']} skipped{duplicates} | frames written: {summary['frames']} | "
            f"{summary['frames_per_second']} frames/s over {summary['seconds']} s")


@flow(name="extract-corpus", log_prints=True)
def extract_corpus(source: str, store: str, options: ExtractionOptions = ExtractionOptions(),
                   force: bool = False, retry_failed: bool = False, progress: bool = False) -> dict:
    """Extract every video of ``source`` (folder, glob or manifest CSV) into ``store``."""
    started = time.perf_counter()
    _start_workers()  # their start-up runs while this process discovers and orders the videos
    jobs = discover_videos(source)
    SkeletonStore(store)  # create or check the store before the tasks race to it
    _extractor(options)  # fail fast on bad options (e.g. hrnet without weights)
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
    outcomes, changes = copies_and_moves(finished_jobs, outcomes, _extractor(options).layout)
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


__all__ = ["ExtractionOptions", "extract_corpus", "extract_one", "extract_record", "longest_first", "run_extraction", "task_runner",
           "warm_up_worker", "work_estimate"]
