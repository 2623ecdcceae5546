"""Skeleton store (Delta Lake tables) write, read and query times as the store grows, and concurrent writers.

Run:  .venv/bin/python benchmarks/store.py [--sizes 100 1000 10000] [--writers 2 4] [--writer-videos 50]

Synthetic videos: one person, ``--frames`` frames (default 160) of blazepose33 (33 joints),
random values (about 10% of frames undetected, NaN), ids the sha256 of a counter (so they
spread evenly over the buckets). Measures, in one run on this machine:
  1. growth: per-video write time when the store holds N videos, for each N of ``--sizes``:
     the median (and the slowest) of a window of ``--window`` single-video ``write_video`` calls,
     as an extraction worker writes. Between the measurement points the store is filled quickly
     with batched ``write_videos`` calls of ``--batch`` videos each (printed as fill throughput;
     not what the window measures). The store has ``--bucket-digits`` digits (default 1: 16
     buckets, so each bucket holds what a 256-bucket store holds at 16x the videos);
  2. at each N: ``read_video`` of one video (median of ``--reads`` random stored ids), a DuckDB
     aggregate over every frame (``SELECT count(*), avg(list_avg(x)) FROM frames`` through
     ``run_query``, median of ``--query-repeats``), the number of data files of the frames table
     and the store's size on disk;
  3. ``upkeep.compact`` of the full store, timed, then the reads and the aggregate again;
  4. for each K of ``--writers``: K spawned processes each write ``--writer-videos`` videos into
     one fresh store at the same time, one ``write_video`` per video; afterwards checks that the
     ``videos`` table has exactly K*M rows with unique ids (none lost, none duplicated), that the
     frames view has K*M*frames rows, and that ``read_video`` gives back a sample exactly.
Prints the ratio of the largest to the smallest median write time (goal: flat within 2x).
Random float32 skeletons hardly compress: a 160-frame video takes about 90 KB on disk, so
``--sizes ... 100000`` needs about 9 GB in the temporary folder (``--keep DIR`` to put it elsewhere).
No figure is checked against a target here: the script only reports.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import multiprocessing
import os
import platform
import statistics
import tempfile
import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

LAYOUT = "blazepose33"
JOINTS = 33
AGGREGATE = "SELECT count(*), avg(list_avg(x)) FROM frames"


def video_id(number: int, prefix: str = "video") -> str:
    return hashlib.sha256(f"{prefix}-{number}".encode()).hexdigest()


def make_video(identifier: str, frames: int, seed: int):
    """One synthetic video: ``(VideoInfo, Skeletons)``, one person, NaN on undetected frames."""
    from posegraph.data import Skeletons, VideoInfo

    random = np.random.default_rng(seed)
    values = random.random((1, frames, JOINTS, 4)).astype(np.float32)
    detected = random.random((1, frames)) > 0.1
    detected[:, 0] = True
    values[~detected] = np.nan
    interpolated = random.random((1, frames, JOINTS)) > 0.8
    skeletons = Skeletons(LAYOUT, values, detected, np.arange(frames) / 16.0, np.arange(frames, dtype=np.int32),
                          interpolated, np.array(["rest"] * frames, dtype=object))
    return VideoInfo(video_id=identifier, layout=LAYOUT, label="squat", group="s01", sampled_fps=16.0), skeletons


def disk_bytes(root: Path) -> int:
    total = 0
    for folder, _, names in os.walk(root):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(folder, name))
    return total


def fill(store, start: int, stop: int, frames: int, batch: int) -> float:
    """Write videos ``start..stop-1`` in batched ``write_videos`` calls; returns the seconds."""
    started = time.perf_counter()
    for first in range(start, stop, batch):
        store.write_videos([make_video(video_id(n), frames, n) for n in range(first, min(first + batch, stop))])
    return time.perf_counter() - started


def write_window(store, start: int, count: int, frames: int) -> list[float]:
    """Seconds of each of ``count`` single-video writes (the video built outside the clock)."""
    seconds = []
    for number in range(start, start + count):
        info, skeletons = make_video(video_id(number), frames, number)
        started = time.perf_counter()
        store.write_video(info, skeletons)
        seconds.append(time.perf_counter() - started)
    return seconds


def read_times(store, stored: int, reads: int, frames: int, random: np.random.Generator) -> list[float]:
    """Seconds of ``read_video`` of ``reads`` random stored videos (each checked for its frame count)."""
    seconds = []
    for number in random.choice(stored, size=min(reads, stored), replace=False):
        started = time.perf_counter()
        video = store.read_video(video_id(int(number)))
        seconds.append(time.perf_counter() - started)
        if video.joints.shape != (frames, JOINTS, 4):
            raise RuntimeError(f"read_video({video_id(int(number))}) gave joints {video.joints.shape}")
    return seconds


def aggregate(store, repeats: int) -> tuple[float, int]:
    """Median seconds of the aggregate over every frame, and the frame rows it counted."""
    from posegraph.data.query import run_query

    seconds, rows = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        result = run_query(store, AGGREGATE)
        seconds.append(time.perf_counter() - started)
        rows = int(result.column(0)[0].as_py())
    return statistics.median(seconds), rows


def read_figures(store, stored: int, arguments, random: np.random.Generator) -> dict:
    reads = read_times(store, stored, arguments.reads, arguments.frames, random)
    query_s, rows = aggregate(store, arguments.query_repeats)
    return {"read_ms": 1000 * statistics.median(reads), "query_s": query_s, "frame_rows": rows,
            "expected_rows": stored * arguments.frames, "frame_files": len(store.files("frames")),
            "video_files": len(store.files("videos")), "disk_mb": disk_bytes(store.root) / 1e6}


def growth(root: Path, arguments) -> tuple[list[dict], dict]:
    """Sections 1-3: write, read and query figures at each size, then after compaction."""
    from posegraph.data import SkeletonStore
    from posegraph.data.upkeep import compact

    store = SkeletonStore(root, create=True, bucket_digits=arguments.bucket_digits)
    random = np.random.default_rng(arguments.seed)
    rows, stored = [], 0
    for size in sorted(set(arguments.sizes)):
        fill_s = fill(store, stored, size, arguments.frames, arguments.batch) if size > stored else 0.0
        filled = max(size - stored, 0)
        stored = max(size, stored)
        held = stored
        window = write_window(store, stored, arguments.window, arguments.frames)
        stored += arguments.window
        row = {"size": held, "filled": filled, "fill_s": fill_s, "write_ms": 1000 * statistics.median(window),
               "write_mean_ms": 1000 * statistics.fmean(window), "write_max_ms": 1000 * max(window)}
        row |= read_figures(store, stored, arguments, random)
        rows.append(row)
        print_growth_row(row)
    files_before = len(store.files("frames"))
    started = time.perf_counter()
    compact(store)
    compact_s = time.perf_counter() - started
    after = {"size": stored, "compact_s": compact_s, "files_before": files_before}
    after |= read_figures(store, stored, arguments, random)
    return rows, after


def print_growth_header(arguments) -> None:
    buckets = 16 ** arguments.bucket_digits
    scale = (f": at N videos each bucket holds what a 256-bucket store holds at {256 // buckets}x N"
             if buckets < 256 else "")
    print(f"\n1-3. growth: {arguments.frames}-frame {LAYOUT} videos, one person; bucket_digits="
          f"{arguments.bucket_digits} ({buckets} buckets{scale})")
    print(f"     fill between points: batched write_videos of {arguments.batch} videos per call (not measured "
          f"as per-video writes);")
    print(f"     write = {arguments.window} single write_video calls once the store holds N videos (median, "
          f"slowest); then, at N + {arguments.window} videos: read = read_video, median of {arguments.reads} random "
          f"ids; aggregate = run_query "
          f"'{AGGREGATE}', median of {arguments.query_repeats}")
    print(f"  {'N videos':>9} {'fill videos/s':>13} {'write ms':>9} {'mean ms':>8} {'max ms':>8} {'read ms':>8} {'aggregate s':>11} "
          f"{'frame rows':>11} {'frames files':>12} {'videos files':>12} {'disk MB':>8}", flush=True)


def print_growth_row(row: dict) -> None:
    fill_rate = f"{row['filled'] / row['fill_s']:13.0f}" if row["fill_s"] else f"{'-':>13}"
    check = "" if row["frame_rows"] == row["expected_rows"] else f"  (expected {row['expected_rows']} rows!)"
    print(f"  {row['size']:9d} {fill_rate} {row['write_ms']:9.1f} {row['write_mean_ms']:8.1f} {row['write_max_ms']:8.1f} {row['read_ms']:8.1f} "
          f"{row['query_s']:11.2f} {row['frame_rows']:11d} {row['frame_files']:12d} {row['video_files']:12d} "
          f"{row['disk_mb']:8.0f}{check}", flush=True)


def print_growth_summary(rows: list[dict], after: dict) -> None:
    medians = [row["write_ms"] for row in rows]
    smallest, largest = rows[0], rows[-1]
    print(f"  per-video write, N={largest['size']} / N={smallest['size']}: {largest['write_ms'] / smallest['write_ms']:.2f}x;"
          f" largest / smallest median: {max(medians) / min(medians):.2f}x (goal: flat within 2x)")
    means = [row["write_mean_ms"] for row in rows]
    print(f"  mean per-video write (merges of small files included), largest / smallest: {max(means) / min(means):.2f}x")
    print(f"  read_video N={largest['size']} / N={smallest['size']}: {largest['read_ms'] / smallest['read_ms']:.2f}x")
    print(f"  compact at {after['size']} videos (N plus the measurement windows): {after['compact_s']:.2f} s, "
          f"frames files {after['files_before']} -> {after['frame_files']}")
    check = "" if after["frame_rows"] == after["expected_rows"] else f"  (expected {after['expected_rows']} rows!)"
    print(f"  after compaction: read {after['read_ms']:.1f} ms (was {largest['read_ms']:.1f}), aggregate "
          f"{after['query_s']:.2f} s (was {largest['query_s']:.2f}), {after['frame_rows']} frame rows, "
          f"{after['frame_files']} frames files, {after['video_files']} videos files, "
          f"{after['disk_mb']:.0f} MB on disk{check}", flush=True)


def _writer(root: str, worker: int, count: int, frames: int, barrier, results) -> None:
    """One writer process: builds its videos, waits for the others, writes them one call each."""
    try:
        from posegraph.data import SkeletonStore

        store = SkeletonStore(root, create=False)
        videos = [make_video(video_id(number, f"writer{worker}"), frames, 1000 * worker + number)
                  for number in range(count)]
        barrier.wait()
        started = time.perf_counter()
        for info, skeletons in videos:
            store.write_video(info, skeletons)
        results.put((worker, time.perf_counter() - started, None))
    except Exception:  # noqa: BLE001 - reported by the parent, with the traceback
        with contextlib.suppress(Exception):
            barrier.abort()
        results.put((worker, 0.0, traceback.format_exc()))


def concurrent_writers(root: Path, writers: int, count: int, frames: int, bucket_digits: int) -> dict:
    """Section 4: ``writers`` processes write ``count`` videos each into one fresh store at once."""
    from posegraph.data import SkeletonStore
    from posegraph.data.query import run_query

    SkeletonStore(root, create=True, bucket_digits=bucket_digits)  # created once, before the writers open it
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(writers + 1), context.Queue()
    processes = [context.Process(target=_writer, args=(str(root), worker, count, frames, barrier, results))
                 for worker in range(writers)]
    for process in processes:
        process.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a writer failed before the start: reported below
        barrier.wait(timeout=300)
    started = time.perf_counter()
    outcomes = [results.get() for _ in processes]
    wall_s = time.perf_counter() - started
    for process in processes:
        process.join()
    errors = [f"writer {worker}:\n{error}" for worker, _, error in outcomes if error]
    store = SkeletonStore(root, create=False)
    ids = store.videos()["video_id"].to_pylist()
    expected = {video_id(number, f"writer{worker}") for worker in range(writers) for number in range(count)}
    frame_rows = int(run_query(store, "SELECT count(*) FROM frames").column(0)[0].as_py())
    sample = {(worker, number) for worker in range(writers) for number in (0, count - 1)}
    read_ok = all(_same_as_written(store, worker, number, frames) for worker, number in sorted(sample))
    return {"writers": writers, "count": count, "wall_s": wall_s, "rows": len(ids), "unique": len(set(ids)),
            "lost": len(expected - set(ids)), "duplicated": len(ids) - len(set(ids)),
            "unexpected": len(set(ids) - expected), "frame_rows": frame_rows,
            "expected_frame_rows": writers * count * frames, "read_ok": read_ok, "errors": errors,
            "frames_files": len(store.files("frames"))}


def _same_as_written(store, worker: int, number: int, frames: int) -> bool:
    """``read_video`` gives back exactly the joints writer ``worker`` wrote as its video ``number``."""
    identifier = video_id(number, f"writer{worker}")
    _, skeletons = make_video(identifier, frames, 1000 * worker + number)
    return np.array_equal(store.read_video(identifier).joints, skeletons.joints[0], equal_nan=True)


def print_writers(result: dict) -> None:
    total = result["writers"] * result["count"]
    frames_ok = "yes" if result["frame_rows"] == result["expected_frame_rows"] else \
        f"NO ({result['frame_rows']} of {result['expected_frame_rows']})"
    print(f"  {result['writers']:7d} {result['count']:9d} {result['wall_s']:8.2f} {total / result['wall_s']:9.1f} "
          f"{result['rows']:6d}/{total:<6d} {result['lost']:5d} {result['duplicated']:10d} {result['unexpected']:10d} "
          f"{frames_ok:>10} {'yes' if result['read_ok'] else 'NO':>8} {result['frames_files']:12d}", flush=True)
    for error in result["errors"]:
        print("  " + error.replace("\n", "\n  "))


def v1_write(root: Path, video_ids: list[str], frames: list, bucket_digits: int) -> None:
    """The version-1 store's write, for comparison: per touched bucket, read its one file, drop the
    videos' old rows, add the new ones, sort and write the whole file again (what it did for every
    write; the version-2 store replaced it)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from posegraph.data.arrow import frames_table

    by_bucket: dict[str, list] = {}
    for identifier, skeletons in zip(video_ids, frames):
        by_bucket.setdefault(identifier[:bucket_digits], []).append(frames_table(identifier, skeletons))
    for bucket, tables in by_bucket.items():
        path = root / f"bucket={bucket}" / "part-0.parquet"
        parts = list(tables)
        if path.exists():
            existing = pq.read_table(path)
            dropped = pa.array([table["video_id"][0].as_py() for table in tables])
            parts.insert(0, existing.filter(pc.invert(pc.is_in(existing["video_id"], dropped))))
        merged = pa.concat_tables(parts).sort_by([("video_id", "ascending"), ("frame_index", "ascending")])
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        pq.write_table(merged, partial, row_group_size=8192, compression="zstd")
        os.replace(partial, path)


def v1_growth(root: Path, arguments) -> list[dict]:
    """Section 0: the version-1 bucket rewrite at the same sizes (frames only, same videos)."""
    rows, stored = [], 0
    for size in arguments.sizes:
        for first in range(stored, size, arguments.batch):
            numbers = range(first, min(first + arguments.batch, size))
            v1_write(root, [video_id(n) for n in numbers], [make_video(video_id(n), arguments.frames, n)[1]
                                                           for n in numbers], arguments.bucket_digits)
        stored = size
        seconds = []
        for number in range(stored, stored + arguments.window):
            skeletons = make_video(video_id(number), arguments.frames, number)[1]
            started = time.perf_counter()
            v1_write(root, [video_id(number)], [skeletons], arguments.bucket_digits)
            seconds.append(time.perf_counter() - started)
        stored += arguments.window
        rows.append({"size": size, "write_ms": 1000 * statistics.median(seconds)})
        print(f"  {size:>9} {rows[-1]['write_ms']:>12.1f}", flush=True)
    return rows


def print_environment() -> None:
    import deltalake
    import duckdb
    import pyarrow

    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPU cores, {platform.platform()}, "
          f"Python {platform.python_version()}")
    print(f"deltalake {deltalake.__version__}, pyarrow {pyarrow.__version__}, duckdb {duckdb.__version__}, "
          f"numpy {np.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000],
                        help="store sizes (videos) at which to measure; 100000 works (about 9 GB)")
    parser.add_argument("--frames", type=int, default=160, help="frames per video")
    parser.add_argument("--bucket-digits", type=int, default=1, help="hex digits of the id that pick the bucket")
    parser.add_argument("--window", type=int, default=20, help="single-video writes measured at each size")
    parser.add_argument("--batch", type=int, default=500, help="videos per write_videos call when filling")
    parser.add_argument("--reads", type=int, default=10, help="read_video calls at each size")
    parser.add_argument("--query-repeats", type=int, default=3, help="runs of the aggregate at each size")
    parser.add_argument("--writers", type=int, nargs="*", default=[2, 4], help="concurrent writer processes (none: skip)")
    parser.add_argument("--writer-videos", type=int, default=50, help="videos each concurrent writer writes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-v1", dest="v1", action="store_false", help="leave out the version-1 baseline")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR (new or empty) and keep the stores there")
    arguments = parser.parse_args()
    print_environment()
    with contextlib.ExitStack() as stack:
        if arguments.keep:
            scratch = Path(arguments.keep)
            scratch.mkdir(parents=True, exist_ok=True)
            if any(scratch.iterdir()):
                raise SystemExit(f"--keep {scratch}: the folder is not empty")
        else:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="posegraph-store-bench-")))
        print(f"stores in {scratch}{' (kept)' if arguments.keep else ' (removed at the end)'}")
        if arguments.v1:
            print("\n0. the version-1 store's write (one Parquet file per bucket, rewritten whole) at the same sizes, "
                  "same videos and buckets, frames table only; single-video write, median of the window")
            print(f"  {'N videos':>9} {'v1 write ms':>12}")
            v1_rows = v1_growth(scratch / "v1", arguments)
            print(f"  v1 per-video write, largest / smallest: {v1_rows[-1]['write_ms'] / v1_rows[0]['write_ms']:.2f}x")
        print_growth_header(arguments)
        rows, after = growth(scratch / "growth", arguments)
        print_growth_summary(rows, after)
        if arguments.writers:
            print(f"\n4. concurrent writers: K spawned processes each write {arguments.writer_videos} "
                  f"{arguments.frames}-frame videos into one fresh store, one write_video per video, started "
                  f"together; videos/s = K*M / wall time from the start to the last writer done")
            print(f"  {'writers':>7} {'videos/w':>9} {'wall s':>8} {'videos/s':>9} {'rows':>13} {'lost':>5} "
                  f"{'duplicated':>10} {'unexpected':>10} {'frames ok':>10} {'reads ok':>8} {'frames files':>12}")
            for writers in arguments.writers:
                print_writers(concurrent_writers(scratch / f"writers-{writers}", writers, arguments.writer_videos,
                                                 arguments.frames, arguments.bucket_digits))


if __name__ == "__main__":
    main()
