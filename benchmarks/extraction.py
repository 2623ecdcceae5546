"""Extraction throughput: the whole Prefect flow against a bare decode + MediaPipe loop.

Run:  .venv/bin/python benchmarks/extraction.py [--copies 2]

Corpus: the real videos in ../shared/testdata/videos, each copied ``--copies`` times with one
extra trailing byte (so every copy has its own content hash and is really extracted).
Measures, in one run on this machine:
  1. bare loop: FrameSampler (16 fps) + mediapipe solutions.pose directly, one process;
  2. the extract-corpus flow with one worker (frames / flow wall time, excluding the
     temporary Prefect server's start-up, which is printed separately);
  3. the flow with two worker processes.
Each is run ``--repeats`` times, interleaved, and the best (shortest) run of each counts: on a
shared 2-core machine the same work varies by tens of percent between runs, and interleaving
spreads that noise evenly. Prints frames per second of each and the ratios flow/bare
(target >= 0.9) and 2/1 workers.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

VIDEOS = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "videos"


def bare_loop(paths: list[Path]) -> tuple[int, float]:
    import cv2
    import mediapipe as mp

    from posegraph.skeleton.video import FrameSampler

    frames, started = 0, time.perf_counter()
    for path in paths:
        with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose:
            for frame in FrameSampler(path, 16):
                pose.process(cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB))
                frames += 1
    return frames, time.perf_counter() - started


def flow_run(folder: Path, store: Path, workers: int) -> tuple[int, float, float]:
    from posegraph.flows.extraction import run_extraction

    started = time.perf_counter()
    summary = run_extraction(str(folder), str(store), workers=workers, force=True)
    return summary["frames"], summary["seconds"], time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    arguments = parser.parse_args()
    sources = sorted(VIDEOS.glob("*.mp4"))
    if not sources:
        raise SystemExit(f"no test videos in {VIDEOS}")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "videos"
        folder.mkdir()
        for copy in range(arguments.copies):
            for source in sources:
                (folder / f"{source.stem}_{copy}.mp4").write_bytes(source.read_bytes() + bytes([copy]))
        paths = sorted(folder.glob("*.mp4"))
        bare_runs, one_runs, two_runs = [], [], []
        for _ in range(arguments.repeats):
            bare_runs.append(bare_loop(paths))
            one_runs.append(flow_run(folder, Path(scratch) / "store1", 1))
            two_runs.append(flow_run(folder, Path(scratch) / "store2", 2))
        bare_frames, bare_seconds = min(bare_runs, key=lambda run: run[1])
        one_frames, one_seconds, one_wall = min(one_runs, key=lambda run: run[1])
        two_frames, two_seconds, two_wall = min(two_runs, key=lambda run: run[1])
    bare_fps, one_fps, two_fps = bare_frames / bare_seconds, one_frames / one_seconds, two_frames / two_seconds
    print(f"corpus: {len(paths)} videos, {bare_frames} sampled frames (16 fps), {os.cpu_count()} cores, "
          f"best of {arguments.repeats}")
    print(f"bare loop (decode + MediaPipe):   {bare_fps:6.1f} frames/s  ({bare_seconds:.1f} s)")
    print(f"flow, 1 worker:                   {one_fps:6.1f} frames/s  ({one_seconds:.1f} s in the flow, "
          f"{one_wall:.1f} s with server start)")
    print(f"flow, 2 workers:                  {two_fps:6.1f} frames/s  ({two_seconds:.1f} s in the flow, "
          f"{two_wall:.1f} s with server start)")
    print(f"ratio flow(1 worker) / bare loop: {one_fps / bare_fps:.2f}   (target >= 0.9)")
    print(f"speed-up 2 workers / 1 worker:    {two_fps / one_fps:.2f}")
    if one_frames != bare_frames or two_frames != bare_frames:
        print(f"warning: frame counts differ (bare {bare_frames}, flow {one_frames} / {two_frames})")


if __name__ == "__main__":
    main()
