"""Repetition counting measured: real clips with hand-placed marks, and synthetic sets at several speeds.

Run:  .venv/bin/python benchmarks/counting.py [--cache DIR]

1. Real clips: every clip of ``../shared/testdata/reps/counts.csv`` (hand-marked repetitions),
   extracted with the product's BlazePose extraction at the clip's own frame rate (cached as
   ``.npz`` under ``--cache``, so a second run does not extract again), counted with
   :func:`posegraph.scoring.count_repetitions` and no exercise hint. Reports per clip and overall:
   mean absolute error (MAE, in repetitions), the share within one repetition (OBO), the share
   exactly right, and MAE relative to the true count (the measure of the RepCount benchmark).
2. Synthetic sets (``posegraph.data.synthetic``, which knows its counts): six exercises, 1 to 40
   repetitions, at 0.6x to 2x the usual speed, with a pause in the middle, with 20% of the frames
   missing (NaN rows), and the person standing still (true count 0).
3. Counting speed in frames per second.
4. ``--trained``: the trained phase counter (``posegraph train --set task=phases``, ST-GCN with the
   temporal head, the phase defaults) trained on a synthetic store (its phases are known), then
   counted on the same real clips and synthetic sets with ``count --checkpoint``'s code. ``--checkpoint``
   reuses a trained one; ``--set`` passes training settings (e.g. ``phase_scheme=halves``).
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
TESTDATA = REPOSITORY.parent / "shared" / "testdata"


def real_clips(cache: Path) -> list[dict]:
    """``counts.csv`` rows with the clip's BlazePose joints (extracted once, then cached)."""
    from posegraph.data.sources import file_source

    table = TESTDATA / "reps" / "counts.csv"
    if not table.exists():
        raise SystemExit(f"{table} is missing: the real-clip section needs ../shared/testdata/reps/")
    cache.mkdir(parents=True, exist_ok=True)
    clips = []
    with open(table, newline="") as handle:
        for row in csv.DictReader(handle):
            path = TESTDATA / row["video"]
            cached = cache / (path.stem + ".npz")
            if not cached.exists():
                source = file_source(path, target_fps=None)
                np.savez_compressed(cached, joints=source.joints, fps=source.fps)
            content = np.load(cached)
            clips.append({"name": path.stem, "exercise": row["exercise"], "true": int(row["count"]),
                          "marks": [int(m) for m in row["rep_frames"].split()], "joints": content["joints"],
                          "fps": float(content["fps"])})
    return clips


def summary(errors: list[int], truths: list[int]) -> str:
    errors_array = np.abs(np.asarray(errors))
    relative = errors_array / np.maximum(np.asarray(truths), 1)
    return (f"MAE {errors_array.mean():.2f}, OBO {np.mean(errors_array <= 1):.2f}, exact {np.mean(errors_array == 0):.2f}, "
            f"relative MAE {relative.mean():.2f} ({len(errors)} sets)")


def measure_real(cache: Path) -> None:
    from posegraph.scoring import count_repetitions

    clips = real_clips(cache)
    print(f"\n1. real clips ({TESTDATA / 'reps'}), BlazePose at each clip's frame rate, no exercise hint:")
    print(f"  {'clip':<16} {'exercise':<9} {'true':>4} {'counted':>7}  counted at frames (marked at)")
    errors, truths, by_exercise = [], [], {}
    for clip in clips:
        result = count_repetitions(clip["joints"], "blazepose33", clip["fps"])
        errors.append(result.count - clip["true"])
        truths.append(clip["true"])
        by_exercise.setdefault(clip["exercise"], []).append((result.count - clip["true"], clip["true"]))
        print(f"  {clip['name']:<16} {clip['exercise']:<9} {clip['true']:>4} {result.count:>7}  "
              f"{' '.join(map(str, result.frames))} ({' '.join(map(str, clip['marks']))})")
    print(f"  all: {summary(errors, truths)}")
    for exercise, pairs in sorted(by_exercise.items()):
        print(f"  {exercise}: {summary([e for e, _ in pairs], [t for _, t in pairs])}")


def synthetic_set(exercise: str, subject, repetitions: int, speed: float, pause: bool, missing: float,
                  seed: int) -> tuple[np.ndarray, float]:
    from posegraph.data.synthetic import generate_sequence

    fps = 30.0
    sequence = generate_sequence(exercise, subject, seed=seed, repetitions=repetitions, frames_per_second=fps / speed)
    joints = sequence.joints.copy()  # generated at fps/speed, played at fps: speed x faster
    random = np.random.default_rng(seed)
    if pause:
        middle = len(joints) // 2
        joints = np.concatenate([joints[:middle], np.repeat(joints[middle:middle + 1], int(3 * fps), 0)
                                 + random.normal(0, 0.003, (int(3 * fps), 33, 4)).astype(np.float32), joints[middle:]])
    if missing:
        joints[random.random(len(joints)) < missing] = np.nan
    return joints, fps


SYNTHETIC_CASES = [("1-12 reps, usual speed", dict(speed=1.0, pause=False, missing=0.0), (1, 5, 12)),
                   ("0.6x speed (slow)", dict(speed=0.6, pause=False, missing=0.0), (3, 8)),
                   ("2x speed (fast)", dict(speed=2.0, pause=False, missing=0.0), (3, 12)),
                   ("3 s pause mid-set", dict(speed=1.0, pause=True, missing=0.0), (4, 10)),
                   ("20% frames missing", dict(speed=1.0, pause=False, missing=0.2), (4, 10)),
                   ("long set", dict(speed=1.5, pause=False, missing=0.05), (40,))]


def count_synthetic_sets(count, titles: tuple[str, ...] | None = None) -> tuple[int, float]:
    """Print each case's errors for ``count(joints, fps) -> int`` over the synthetic sets (6 exercises x
    2 subjects); returns the frames counted and the seconds ``count`` took."""
    from posegraph.data.synthetic import EXERCISES, make_subjects

    subjects = make_subjects(2, seed=3)
    frames_counted, seconds = 0, 0.0
    for title, options, counts in SYNTHETIC_CASES:
        if titles is not None and title not in titles:
            continue
        errors, truths = [], []
        for exercise in EXERCISES:
            for index, subject in enumerate(subjects):
                for repetitions in counts:
                    joints, fps = synthetic_set(exercise, subject, repetitions, seed=index * 100 + repetitions, **options)
                    started = time.perf_counter()
                    errors.append(count(joints, fps) - repetitions)
                    seconds += time.perf_counter() - started
                    frames_counted += len(joints)
                    truths.append(repetitions)
        print(f"  {title:<24} {summary(errors, truths)}")
    return frames_counted, seconds


def measure_synthetic() -> None:
    from posegraph.data.synthetic import EXERCISES, make_subjects
    from posegraph.scoring import count_repetitions

    print("\n2. synthetic sets (6 exercises x 2 subjects each; 30 fps):")
    frames_counted, seconds = count_synthetic_sets(
        lambda joints, fps: count_repetitions(joints, "blazepose33", fps).count)
    subjects = make_subjects(2, seed=3)
    still_errors = []
    for exercise in EXERCISES:
        joints, fps = synthetic_set(exercise, subjects[0], 3, 1.0, False, 0.0, seed=5)
        still = np.repeat(joints[:1], 200, axis=0) + np.random.default_rng(1).normal(0, 0.004, (200, 33, 4)).astype(np.float32)
        still_errors.append(count_repetitions(still, "blazepose33", fps).count)
    print(f"  {'standing still (true 0)':<24} counted {still_errors}")
    print(f"\n3. speed: {frames_counted / seconds:,.0f} frames/s counted ({frames_counted} frames in {seconds:.2f} s)")


def train_phase_model(work: Path, settings: list[str]) -> Path:
    """A phase model trained on a fresh synthetic store (8 subjects x 2 takes x 6 exercises)."""
    from posegraph.data import SkeletonStore
    from posegraph.data.synthetic import generate_corpus, store_records
    from posegraph.gcn.config import load_config
    from posegraph.gcn.training import train

    store = SkeletonStore(work / "store")
    if not store.videos().num_rows:
        store.write_videos(store_records(generate_corpus(subjects=8, takes=2, seed=21)))
    config = load_config(None, ["task=phases", *settings])
    started = time.perf_counter()
    result = train(config, store.root, work / "run", progress=False)
    print(f"  trained {config.model} ({config.phase_scheme}) on {store.videos().num_rows} synthetic videos in "
          f"{time.perf_counter() - started:.0f} s: best balanced frame accuracy {result.best_val_accuracy:.3f} "
          f"(epoch {result.best_epoch})")
    return work / "run" / "best.pt"


def measure_trained(cache: Path, checkpoint: Path | None, work: Path, settings: list[str], real: bool) -> None:
    from posegraph.app.phase_counting import count_with_model, load_phase_model

    print("\n4. trained phase counter (count --checkpoint):")
    checkpoint = checkpoint or train_phase_model(work, settings)
    model, bundle = load_phase_model(checkpoint)

    def count(joints: np.ndarray, fps: float) -> int:
        return count_with_model(model, bundle, joints, "blazepose33", np.arange(len(joints)) / fps, fps).count

    if real:
        errors, truths = [], []
        for clip in real_clips(cache):
            counted = count(clip["joints"], clip["fps"])
            errors.append(counted - clip["true"])
            truths.append(clip["true"])
        print(f"  real clips: {summary(errors, truths)}; counted minus true per clip: {errors}")
    frames_counted, seconds = count_synthetic_sets(count, ("1-12 reps, usual speed", "2x speed (fast)",
                                                           "3 s pause mid-set", "20% frames missing"))
    print(f"  speed: {frames_counted / seconds:,.0f} frames/s ({frames_counted} frames in {seconds:.2f} s, CPU)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/posegraph-reps-cache"),
                        help="where extracted skeletons of the real clips are kept between runs")
    parser.add_argument("--no-real", dest="real", action="store_false", help="leave out the real clips")
    parser.add_argument("--trained", action="store_true", help="also the trained phase counter (trains one first)")
    parser.add_argument("--only-trained", action="store_true", help="only the trained phase counter")
    parser.add_argument("--checkpoint", type=Path, help="a phase checkpoint to use instead of training one")
    parser.add_argument("--work", type=Path, default=Path("/tmp/posegraph-phase-benchmark"),
                        help="where the synthetic training store and run go")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="training settings for the phase model")
    arguments = parser.parse_args()
    if not arguments.only_trained:
        if arguments.real:
            measure_real(arguments.cache)
        measure_synthetic()
    if arguments.trained or arguments.only_trained:
        measure_trained(arguments.cache, arguments.checkpoint, arguments.work, arguments.settings, arguments.real)


if __name__ == "__main__":
    main()
