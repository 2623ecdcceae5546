"""Extraction throughput: the Prefect flow on 1 and 2 workers against bare MediaPipe processes.

Run:  .venv/bin/python benchmarks/extraction.py [--repeats 2] [--copies 1]

Corpus: the 24 real videos of ../shared/testdata (the 3 in videos/ and the 21 clips in
reps/workouttracker/data/raw/), copied to a scratch folder; ``--copies N`` adds N-1 more copies
of each with one extra trailing byte (so every copy has its own content hash and is really
extracted). Sampled at 16 fps. Measures, in one run on this machine:
  1. bare loop: FrameSampler (16 fps) + mediapipe solutions.pose called directly, a fresh graph
     per video, in this process (imports already done);
  2. ceiling: two such bare loops in two processes side by side, their imports and a first
     frame done before the clock starts, taking the videos longest first from one queue; from
     the start signal to the last video done;
  3. the extract-corpus flow with 1 worker (in-process thread runner);
  4. the flow with 2 worker processes;
  5./6. the flow on a local Dask cluster (distributed.LocalCluster, single-threaded worker
     processes) of 1 and of 2 workers, the cluster started before the clock starts.
Flow seconds = wall time of the whole ``run_extraction`` call: the flow run's creation, starting and
warming up the worker processes (imports, MediaPipe, the Prefect client), the store writes, the
summary artifact. Outside it, printed separately: the temporary Prefect server's start-up (once,
shared by every run) and each Dask cluster's start-up.
Each is run ``--repeats`` times, interleaved, and the best (shortest) run of each counts: on a
shared 2-core machine the same work varies by tens of percent between runs, and interleaving
spreads that noise evenly. Prints frames per second of each and the ratios: flow(1)/bare
(target >= 0.9), ceiling/bare, flow 2 workers / 1 worker (target >= 1.8) beside it, Dask 2/1.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("GLOG_minloglevel", "2")

TESTDATA = Path(__file__).resolve().parents[1].parent / "shared" / "testdata"
SOURCES = (TESTDATA / "videos", TESTDATA / "reps" / "workouttracker" / "data" / "raw")


def _pose():
    import mediapipe as mp

    return mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1)


def bare_video(path: Path) -> int:
    import cv2
    from posegraph.skeleton.video import FrameSampler

    frames = 0
    with _pose() as pose:
        for frame in FrameSampler(path, 16):
            pose.process(cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB))
            frames += 1
    return frames


def bare_loop(paths: list[Path]) -> tuple[int, float]:
    started = time.perf_counter()
    frames = sum(bare_video(path) for path in paths)
    return frames, time.perf_counter() - started


def _bare_process(queue, barrier, results) -> None:
    import numpy as np

    with _pose() as pose:  # imports and MediaPipe's libraries loaded before the clock starts
        pose.process(np.zeros((64, 64, 3), dtype=np.uint8))
    barrier.wait()
    frames = 0
    while (path := queue.get()) is not None:
        frames += bare_video(path)
    results.put(frames)


def ceiling(paths: list[Path], processes: int = 2) -> tuple[int, float]:
    """Bare loops in ``processes`` processes side by side (videos longest first, one queue)."""
    from posegraph.data.ingest import VideoJob
    from posegraph.data.corpus_extraction import longest_first, work_estimate

    context = multiprocessing.get_context("spawn")
    queue, results, barrier = context.Queue(), context.Queue(), context.Barrier(processes + 1)
    for job in longest_first([VideoJob(str(p)) for p in paths], lambda job: work_estimate(job.path, 16.0)):
        queue.put(Path(job.path))
    for _ in range(processes):
        queue.put(None)
    workers = [context.Process(target=_bare_process, args=(queue, barrier, results)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    frames = sum(results.get() for _ in workers)
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return frames, seconds


def flow_run(folder: Path, store: Path, workers: int) -> tuple[int, float]:
    from posegraph.flows.extraction import run_extraction

    started = time.perf_counter()
    summary = run_extraction(str(folder), str(store), workers=workers, force=True)
    return summary["frames"], time.perf_counter() - started


def dask_run(folder: Path, store: Path, workers: int) -> tuple[int, float, float]:
    from posegraph.flows.dask_runner import local_cluster, local_cluster_kwargs
    from posegraph.flows.extraction import run_extraction

    started = time.perf_counter()
    with local_cluster(host="127.0.0.1", silence_logs=logging.ERROR, **local_cluster_kwargs(workers)) as cluster:
        logging.getLogger("distributed").setLevel(logging.ERROR)
        cluster_start = time.perf_counter() - started
        started = time.perf_counter()
        summary = run_extraction(str(folder), str(store), dask_address=cluster.scheduler_address, force=True)
        seconds = time.perf_counter() - started
    return summary["frames"], seconds, cluster_start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    arguments = parser.parse_args()
    sources = sorted(p for folder in SOURCES for p in folder.rglob("*.mp4"))
    if not sources:
        raise SystemExit(f"no test videos in {', '.join(map(str, SOURCES))}")
    from posegraph.flows.server import share_temporary_server

    started = time.perf_counter()
    share_temporary_server()  # once for every flow run below (and inherited by the Dask clusters)
    server_start = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "videos"
        folder.mkdir()
        for copy in range(arguments.copies):
            for source in sources:
                extra = bytes([copy]) if copy else b""
                (folder / f"{source.stem}_{copy}.mp4").write_bytes(source.read_bytes() + extra)
        paths = sorted(folder.glob("*.mp4"))
        runs: dict[str, list] = {name: [] for name in ("bare", "ceiling", "flow1", "flow2", "dask1", "dask2")}
        cluster_starts = []
        for repeat in range(arguments.repeats):
            runs["bare"].append(bare_loop(paths))
            runs["ceiling"].append(ceiling(paths))
            runs["flow1"].append(flow_run(folder, Path(scratch) / f"store-1-{repeat}", 1))
            runs["flow2"].append(flow_run(folder, Path(scratch) / f"store-2-{repeat}", 2))
            for workers in (1, 2):
                frames, seconds, cluster_start = dask_run(folder, Path(scratch) / f"store-d{workers}-{repeat}", workers)
                runs[f"dask{workers}"].append((frames, seconds))
                cluster_starts.append(cluster_start)
            print(f"repeat {repeat + 1}: " + ", ".join(f"{name} {runs[name][-1][1]:.1f} s" for name in runs), flush=True)
    best = {name: min(results, key=lambda run: run[1]) for name, results in runs.items()}
    fps = {name: frames / seconds for name, (frames, seconds) in best.items()}
    frames = best["bare"][0]
    print(f"\ncorpus: {len(paths)} videos, {frames} sampled frames (16 fps), {os.cpu_count()} cores, "
          f"best of {arguments.repeats}; temporary Prefect server start {server_start:.1f} s (outside), "
          f"Dask cluster start {min(cluster_starts):.1f}-{max(cluster_starts):.1f} s (outside)")
    labels = {"bare": "bare loop, 1 process", "ceiling": "ceiling: 2 bare processes",
              "flow1": "flow, 1 worker", "flow2": "flow, 2 worker processes",
              "dask1": "flow, local Dask, 1 worker", "dask2": "flow, local Dask, 2 workers"}
    for name, label in labels.items():
        print(f"{label:32s} {fps[name]:6.1f} frames/s  {best[name][1]:6.1f} s  ({fps[name] / fps['bare']:.2f}x bare)")
    print(f"ratio flow(1 worker) / bare loop:     {fps['flow1'] / fps['bare']:.2f}   (target >= 0.9)")
    print(f"ceiling: 2 bare processes / 1:        {fps['ceiling'] / fps['bare']:.2f}")
    print(f"speed-up flow 2 workers / 1 worker:   {fps['flow2'] / fps['flow1']:.2f}   (target >= 1.8)")
    print(f"speed-up Dask 2 workers / 1 worker:   {fps['dask2'] / fps['dask1']:.2f}")
    counts = {name: run[0] for name, run in best.items()}
    if len(set(counts.values())) != 1:
        print(f"warning: frame counts differ: {counts}")


if __name__ == "__main__":
    main()
