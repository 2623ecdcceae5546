"""The training data path at corpus scale (issue 27): cache build, loader rate, memory per worker,
and a few training steps through the cache, on a synthetic OpenPose-18 store of up to 100,000 clips.

Run:  .venv/bin/python benchmarks/loader.py [--clips 100000] [--frames 320] [--work /tmp/posegraph-loader]

1. A store of ``--clips`` clips of ``--frames`` frames (OpenPose-18, 16 fps as the model reads:
   no resampling, so a crop of 300 frames is 300 stored frames), written once and reused; plus a
   small Penn-sized check of today's per-video path on the same store for the ratio.
2. ``posegraph cache build`` of the train split (the bulk scan, two processes): frame rows/s.
3. The loader: training samples (T=300 crops, mirrored, camera motion; with and without the source
   variation of the default recipe) from the warm cache in one process, clips/s; the same through
   the per-video path for the ratio.
4. Memory per DataLoader worker (unique set size: what the worker adds, the mapped cache pages are
   the page cache's) after 40 batches, over a 10,000-clip and over the whole split.
5. A few training steps of ST-GCN through ``gcn.training.train`` with ``cache=on`` and
   ``steps_per_epoch`` (end to end: corpus, cache, loader, model, checkpoint).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]


def make_store(root: Path, clips: int, frames: int, batch: int = 10_000) -> None:
    """``clips`` synthetic OpenPose-18 clips: a body swinging its limbs at a random rate, noise added.

    Commits of 10,000 clips: with SHA-256 ids each commit writes a file per bucket (256), and
    commits of 1,000 slowed from 155,000 to 42,000 rows/s by the 36th (the log and file count grow)."""
    from posegraph.data import SkeletonStore, Skeletons, VideoInfo

    made = root / "benchmark.json"
    if made.exists() and json.loads(made.read_text()) == {"clips": clips, "frames": frames, "ids": "sha256"}:
        return
    import shutil

    shutil.rmtree(root, ignore_errors=True)
    store = SkeletonStore(root)
    random = np.random.default_rng(0)
    rest = random.uniform(0.3, 0.7, (18, 2)).astype(np.float32)
    clock = np.arange(frames) / 16.0
    start = time.perf_counter()
    for first in range(0, clips, batch):
        records = []
        for number in range(first, min(first + batch, clips)):
            rate, phase = random.uniform(0.3, 1.5), random.uniform(0, 2 * np.pi, 18)
            swing = 0.05 * np.sin(2 * np.pi * rate * clock[:, None] + phase)[..., None]
            joints = np.empty((1, frames, 18, 4), np.float32)
            joints[0, :, :, :2] = rest + swing + random.normal(0, 0.005, (frames, 18, 2))
            joints[0, :, :, 2] = 0.0
            joints[0, :, :, 3] = 1.0
            split = "val" if number % 500 == 0 else "test" if number % 500 == 1 else "train"
            # ids as extraction makes them (SHA-256), so the clips spread over the 256 buckets as real ones do
            video_id = hashlib.sha256(f"benchmark clip {number}".encode()).hexdigest()
            info = VideoInfo(video_id, "openpose18", label=f"class{number % 10}", split=split,
                             source_fps=16.0, sampled_fps=16.0, width=640, height=480, frame_count=frames,
                             duration_s=frames / 16.0)
            records.append((info, Skeletons("openpose18", joints, np.ones((1, frames), bool), clock,
                                            np.arange(frames))))
        store.write_videos(records)
        done = min(first + batch, clips)
        print(f"  store: {done}/{clips} clips ({done * frames / (time.perf_counter() - start):,.0f} rows/s written)",
              flush=True)
    made.write_text(json.dumps({"clips": clips, "frames": frames, "ids": "sha256"}))


def rate(function, seconds: float = 10.0) -> tuple[float, int]:
    """Calls per second of ``function`` over about ``seconds`` (after one warm-up call)."""
    function()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        function()
        count += 1
    return count / (time.perf_counter() - start), count


def loader_rate(dataset, batch: int = 64, seconds: float = 10.0) -> float:
    """Training samples per second that ``dataset`` makes in this process (batches of ``batch``)."""
    order = np.random.default_rng(1)
    per_second, _ = rate(lambda: dataset.__getitems__(order.integers(0, len(dataset), batch).tolist()), seconds)
    return per_second * batch


def worker_memory(dataset, workers: int = 2, batches: int = 40, batch: int = 64) -> list[float]:
    """Unique memory (MB) of each DataLoader worker after ``batches`` batches."""
    import psutil
    import torch
    from torch.utils.data import DataLoader

    loader = DataLoader(dataset, batch_size=batch, shuffle=True, num_workers=workers, persistent_workers=True,
                        generator=torch.Generator().manual_seed(0))
    iterator = iter(loader)
    for _ in range(batches):
        next(iterator)
    children = psutil.Process().children(recursive=True)
    memory = [child.memory_full_info().uss / 1e6 for child in children]
    del iterator, loader
    return memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=100_000)
    parser.add_argument("--frames", type=int, default=320)
    parser.add_argument("--work", type=Path, default=Path("/tmp/posegraph-loader"))
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each rate measurement")
    arguments = parser.parse_args()
    import torch

    from posegraph.data import SkeletonStore
    from posegraph.gcn.config import load_config
    from posegraph.gcn.dataset import SkeletonDataset
    from posegraph.gcn.training import train
    from posegraph.gcn.training_cache import build_split_cache, split_clips, training_clips

    torch.set_num_threads(1)
    print(f"posegraph loader benchmark: {arguments.clips} clips x {arguments.frames} frames, {os.cpu_count()} CPUs")
    root = arguments.work / "store"
    make_store(root, arguments.clips, arguments.frames)
    store = SkeletonStore(root, create=False)
    config = load_config(None, ["layout=openpose18", "cache=on", "clip_frames=300", "vary_source=false"],
                         model="stgcn")
    items, settings = split_clips(store, config, "train")
    print(f"train split: {len(items)} clips")

    # 1. today's per-video path, on a sample of the split
    sample = items[:: max(1, len(items) // 400)][:400]
    per_video = SkeletonDataset(store, sample, "openpose18", train=True, clip_frames=300, vary=False)
    start = time.perf_counter()
    for index in range(len(sample)):
        per_video.sequence(index)
    per_video_seconds = time.perf_counter() - start
    per_video_rows = len(sample) * arguments.frames / per_video_seconds
    print(f"per-video read (read_video + prepare, {len(sample)} clips): {len(sample) / per_video_seconds:.0f} clips/s, "
          f"{per_video_rows:,.0f} frame rows/s")

    # 2. the cache build
    line = build_split_cache(store, config, "train", workers=os.cpu_count() or 1, rebuild=True, log=print)
    print(line)
    built = float(line.rsplit("(", 1)[1].split(" frame rows/s")[0].replace(",", ""))
    print(f"cache build: {built:,.0f} frame rows/s = {built / per_video_rows:.1f}x the per-video read "
          f"(target >= 40,000)")
    cache = training_clips(store, items, "openpose18", config, "train", log=lambda _: None)

    # 3. the loader, warm cache, one process
    for vary in (False, True):
        cached = SkeletonDataset(store, items, "openpose18", train=True, clip_frames=300, vary=vary, clips=cache)
        direct = SkeletonDataset(store, sample, "openpose18", train=True, clip_frames=300, vary=vary)
        direct._cache = per_video._cache  # the per-video path with its sequences already in memory
        fast, slow = loader_rate(cached, seconds=arguments.seconds), loader_rate(direct, seconds=arguments.seconds)
        print(f"loader, T=300 crops{' + source variation' if vary else ''}: {fast:,.0f} clips/s from the cache "
              f"(per-sample path with every sequence already in memory: {slow:,.0f}; "
              f"target >= 3,000 without variation)")

    # 4. memory per worker, 10k clips against the whole split
    for count in sorted({min(10_000, len(items)), len(items)}):
        dataset = SkeletonDataset(store, items[:count], "openpose18", train=True, clip_frames=300, vary=False,
                                  clips=cache)
        memory = worker_memory(dataset)
        print(f"memory per worker over {count} clips: " + ", ".join(f"{value:.0f} MB" for value in memory)
              + " (unique set size after 40 batches of 64)")

    # 5. training steps end to end through the cache
    run = arguments.work / "run"
    import shutil

    shutil.rmtree(run, ignore_errors=True)
    start = time.perf_counter()
    steps = load_config(None, ["layout=openpose18", "cache=on", "clip_frames=300", "epochs=1", "steps_per_epoch=5",
                               "batch_size=16", "test_crops=1", "vary_source=false"], model="stgcn")
    lines: list[str] = []
    train(steps, root, run, progress=False, log=lambda text: (lines.append(text), print("  " + text)))
    print(f"training through the cache: 5 steps of 16 clips, one validation pass, in "
          f"{time.perf_counter() - start:.0f} s (run folder {run})")


if __name__ == "__main__":
    main()
