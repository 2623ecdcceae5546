"""Extracting a corpus into the store, one video at a time: the plain functions the extraction
flow (:mod:`posegraph.flows.extraction`) wires into Prefect tasks.

- :class:`ExtractionOptions`: everything that decides what a video's stored skeleton looks like;
- :func:`extract_record` / :func:`extract_one`: one video, without or with writing it (permanent
  problems give a ``failed`` row; anything else is raised for the flow to retry);
- :func:`work_estimate` / :func:`longest_first`: the longest videos start first;
- :func:`copies_and_moves`, :func:`summarize`, :func:`summary_text`: the run's bookkeeping.

No Prefect here: tests and benchmarks call these directly.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from ..skeleton.cleaning import CleaningSettings, clean, status_of
from ..skeleton.extraction import build_extractor
from ..skeleton.video import VideoError, probe
from ..skeleton.vocabulary import DEFAULT_FPS
from .errors import DamagedFileError
from .ingest import (VideoJob, already_extracted, extraction_record, failure_info, metadata_changes, settings_json,
                     video_id_for)
from .records import Skeletons, VideoInfo
from .store import SkeletonStore


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
def extractor_for(options: ExtractionOptions):
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
    extractor = extractor_for(options)
    warm_up = getattr(extractor, "warm_up", None)
    if warm_up is not None:
        warm_up()
    _warmed.add(options)
    return True


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
    extractor = extractor_for(options)
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
        SkeletonStore(store_path).update_metadata({(outcome["video_id"], extractor_for(options).layout): outcome["metadata"]})
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
    extractor = extractor_for(options)
    video_id = video_id_for(job.path)
    reason = f"extraction crashed after retries: {type(error).__name__}: {error}"
    info = failure_info(job, video_id, extractor.layout, extractor.name, extractor.version,
                        settings_json(extractor.settings, options.cleaning), reason)
    return {"path": job.path, "video_id": video_id, "status": "failed", "reason": reason, "frames": 0,
            "seconds": 0.0}, info


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
