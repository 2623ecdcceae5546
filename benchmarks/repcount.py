"""Counting on RepCount-A's long, uncut videos (``../shared/testdata/repcount/``): the label-free
counter, per exercise and count range, repetition boundaries, online lag, and a subject-grouped
cross-validation of its ratios.

Run:  .venv/bin/python benchmarks/repcount.py [--no-online] [--no-cv]

- **Counts**: :func:`posegraph.scoring.count_repetitions` with its defaults on every video (the
  landmarks as stored: min-max normalised per frame, all-zero rows = nobody seen). The RepCount
  measures: MAE = mean |counted - true| / true over videos with true > 0, OBO = share of videos
  with |counted - true| <= 1.
- **Boundaries**: for each true repetition (``boundaries`` in ``counts.csv``), the best temporal
  IoU with a counted repetition; the mean over all true repetitions (a missed one scores 0) and
  the share with IoU >= 0.5.
- **Online**: :class:`posegraph.scoring.OnlineRepetitionCounter` fed frame by frame (what
  ``count --live`` does); its final count against the offline one on every video, and the lag
  from each repetition's end to the first live report that falls inside it (negative: reported
  before the repetition's final end, at its turning point).
- **Cross-validation**: the defaults were chosen while looking at these videos, so they are
  in-sample. Leave-one-subject-out (videos without a ``stu<k>`` subject are their own group):
  on each fold the grid below is searched on the other subjects (lowest MAE, then highest OBO)
  and the chosen ratios count the held-out subject's videos.
- **Trained** (``--trained``): the phase counter (``task=phases``, ST-GCN with the temporal head)
  trained on the human boundaries (``posegraph import repcount``), subject-grouped K-fold CV: each
  fold's subjects are held out, the smallest training subjects (about 15%) choose the checkpoint,
  and the held-out videos are counted as ``count --checkpoint`` counts them, beside the label-free
  counter on the same videos.
"""

from __future__ import annotations

import argparse
import itertools
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
REPCOUNT = REPOSITORY.parent / "shared" / "testdata" / "repcount"
FPS = 30.0  # RepCount's videos are about 30 fps; the landmark files keep every frame
GRID = {"RECURRENCE": (0.4, 0.5, 0.6), "PROMINENCE": (0.25, 0.35, 0.5), "PERIOD_TOLERANCE": (0.2, 0.3, 0.4),
        "PERIODICITY_POWER": (1, 2)}
RANGES = ((0, 5), (6, 10), (11, 20), (21, 10_000))


def load_videos() -> list[dict]:
    """``counts.csv`` rows with their landmarks as ``(T, 33, 4)`` (NaN rows where nobody was seen)."""
    from posegraph.data.repcount import read_counts, read_poses

    if not (REPCOUNT / "counts.csv").exists():
        raise SystemExit(f"{REPCOUNT / 'counts.csv'} is missing: this benchmark needs ../shared/testdata/repcount/")
    videos, refused = read_counts(REPCOUNT)
    if refused:
        raise SystemExit(f"rows refused: {refused}")
    return [{"name": video.name, "exercise": video.exercise, "true": video.count, "group": video.group,
             "joints": read_poses(video.path), "bounds": video.boundaries} for video in videos]


def measures(counted: list[int], truths: list[int]) -> tuple[float, float]:
    counted_array, true_array = np.asarray(counted), np.asarray(truths)
    positive = true_array > 0
    mae = float(np.mean(np.abs(counted_array[positive] - true_array[positive]) / true_array[positive])) \
        if positive.any() else float("nan")
    return mae, float(np.mean(np.abs(counted_array - true_array) <= 1))


@contextmanager
def ratios(values: dict):
    """The counter's module ratios set to ``values`` for the duration (a benchmark-only knob)."""
    from posegraph.scoring import counting, periodicity

    modules = {"RECURRENCE": periodicity, "PERIOD_TOLERANCE": periodicity, "PERIODICITY_POWER": periodicity,
               "PROMINENCE": counting}
    saved = {name: getattr(modules[name], name) for name in values}
    try:
        for name, value in values.items():
            setattr(modules[name], name, value)
        yield
    finally:
        for name, value in saved.items():
            setattr(modules[name], name, value)


def count_all(videos: list[dict]) -> list:
    from posegraph.scoring import count_repetitions

    return [count_repetitions(video["joints"], "blazepose33", FPS) for video in videos]


def boundary_iou(video: dict, result) -> list[float]:
    """Best temporal IoU of each true repetition with a counted one (0 when none overlaps)."""
    starts, ends = result.boundaries()
    best = []
    for true_start, true_end in video["bounds"]:
        overlap = np.clip(np.minimum(ends, true_end) - np.maximum(starts, true_start), 0, None)
        union = np.maximum(ends, true_end) - np.minimum(starts, true_start)
        best.append(float((overlap / np.maximum(union, 1)).max()) if len(starts) else 0.0)
    return best


def report_counts(videos: list[dict]) -> None:
    started = time.perf_counter()
    results = count_all(videos)
    seconds = time.perf_counter() - started
    frames = sum(len(video["joints"]) for video in videos)
    counted, truths = [r.count for r in results], [v["true"] for v in videos]
    mae, obo = measures(counted, truths)
    print(f"\n1. default counter on {len(videos)} videos ({frames:,} frames): MAE {mae:.3f}, OBO {obo:.3f} "
          f"(in-sample); {frames / seconds:,.0f} frames/s on one core")
    print(f"  {'exercise':<15} {'videos':>6} {'MAE':>6} {'OBO':>6}")
    for exercise in sorted({v["exercise"] for v in videos}):
        picked = [i for i, v in enumerate(videos) if v["exercise"] == exercise]
        part = measures([counted[i] for i in picked], [truths[i] for i in picked])
        print(f"  {exercise:<15} {len(picked):>6} {part[0]:>6.3f} {part[1]:>6.3f}")
    print(f"  {'true count':<15} {'videos':>6} {'MAE':>6} {'OBO':>6}")
    for low, high in RANGES:
        picked = [i for i, t in enumerate(truths) if low <= t <= high]
        part = measures([counted[i] for i in picked], [truths[i] for i in picked])
        label = f"{low}-{high}" if high < 10_000 else f"more than {low - 1}"
        print(f"  {label:<15} {len(picked):>6} {part[0]:>6.3f} {part[1]:>6.3f}")
    ious = [iou for video, result in zip(videos, results) for iou in boundary_iou(video, result)]
    print(f"  boundaries: mean best IoU per true repetition {np.mean(ious):.3f} over {len(ious)} repetitions; "
          f"IoU >= 0.5 for {np.mean(np.asarray(ious) >= 0.5):.3f}")
    wrong = [f"{v['name']} ({v['exercise']}) {r.count} for {v['true']}" for v, r in zip(videos, results)
             if abs(r.count - v["true"]) > 1]
    print(f"  off by more than one ({len(wrong)}): {'; '.join(wrong)}")


def report_online(videos: list[dict]) -> None:
    from posegraph.scoring import OnlineRepetitionCounter, count_repetitions

    lags, same, reported_live, total = [], 0, 0, 0
    for video in videos:
        offline = count_repetitions(video["joints"], "blazepose33", FPS)
        online = OnlineRepetitionCounter("blazepose33", FPS)
        first_seen = {}
        for index, frame in enumerate(video["joints"]):
            for repetition in online.update(frame):
                first_seen[repetition] = index
        online.finish()
        same += online.count == offline.count
        starts, ends = offline.boundaries()
        live = np.asarray(sorted(first_seen), dtype=np.int64)
        for start, end in zip(starts, ends):
            total += 1
            inside = live[(live >= start) & (live <= end)]  # a live report of this repetition
            if len(inside):
                reported_live += 1
                lags.append((min(first_seen[int(frame)] for frame in inside) - int(end)) / FPS)
    lags_array = np.asarray(lags)
    print(f"\n2. online (count --live): final count equals the offline count on {same} of {len(videos)} videos; "
          f"{reported_live} of {total} repetitions reported while the video ran (a live report within the "
          f"repetition's final start and end; the rest at the end); lag from a repetition's end to its first report: median {np.median(lags_array):.2f} s, 90th percentile "
          f"{np.percentile(lags_array, 90):.2f} s, max {lags_array.max():.2f} s")


def report_cross_validation(videos: list[dict]) -> None:
    names = list(GRID)
    combinations = [dict(zip(names, values)) for values in itertools.product(*GRID.values())]
    counted = {}
    for combination in combinations:
        with ratios(combination):
            counted[tuple(combination.values())] = [r.count for r in count_all(videos)]
    truths = np.asarray([v["true"] for v in videos])
    groups = sorted({v["group"] for v in videos})
    held_out = np.zeros(len(videos), dtype=np.int64)
    chosen = []
    for group in groups:
        test = np.asarray([v["group"] == group for v in videos])

        def training_score(key):
            mae, obo = measures(np.asarray(counted[key])[~test], truths[~test])
            return mae, -obo

        best = min(counted, key=training_score)
        chosen.append(best)
        held_out[test] = np.asarray(counted[best])[test]
    mae, obo = measures(list(held_out), list(truths))
    best_in_sample = min(counted, key=lambda key: measures(counted[key], list(truths))[0])
    print(f"\n3. leave-one-subject-out ({len(groups)} groups) over {names} = {list(GRID.values())}: "
          f"MAE {mae:.3f}, OBO {obo:.3f} (cross-validated); the grid's best in-sample "
          f"{dict(zip(names, best_in_sample))}: MAE {measures(counted[best_in_sample], list(truths))[0]:.3f}; "
          f"ratios chosen per fold: {sorted(set(chosen))}")


def folds_of(videos: list[dict], folds: int) -> list[set[str]]:
    """Groups dealt into ``folds`` folds of about equal video counts (largest group first)."""
    sizes: dict[str, int] = {}
    for video in videos:
        sizes[video["group"]] = sizes.get(video["group"], 0) + 1
    dealt: list[set[str]] = [set() for _ in range(folds)]
    counts = [0] * folds
    for group in sorted(sizes, key=lambda name: (-sizes[name], name)):
        smallest = counts.index(min(counts))
        dealt[smallest].add(group)
        counts[smallest] += sizes[group]
    return dealt


def report_trained(videos: list[dict], work: Path, folds: int, settings: list[str]) -> None:
    """The phase counter trained on RepCount's real boundaries, subject-grouped CV (module docstring)."""
    from posegraph.data import SkeletonStore
    from posegraph.data.repcount import import_repcount
    from posegraph.gcn.phase_counting import count_with_model, load_phase_model
    from posegraph.gcn.config import load_config
    from posegraph.gcn.training import train
    from posegraph.scoring import count_repetitions

    held_out = {}
    for index, test_groups in enumerate(folds_of(videos, folds)):
        training = sorted({v["group"] for v in videos} - test_groups)
        # the smallest training groups hold the validation videos (checkpoint choice), about 15%
        sizes = {group: sum(v["group"] == group for v in videos) for group in training}
        val_groups, total = set(), sum(sizes.values())
        for group in sorted(training, key=lambda name: (sizes[name], name)):
            if sum(sizes[g] for g in val_groups) >= 0.15 * total:
                break
            val_groups.add(group)
        store = SkeletonStore(work / f"fold{index}" / "store")
        if not store.videos().num_rows:
            import_repcount(REPCOUNT, store, fps=FPS, splits=lambda video: "test" if video.group in test_groups
                            else "val" if video.group in val_groups else "train")
        config = load_config(None, ["task=phases", *settings])
        started = time.perf_counter()
        result = train(config, store.root, work / f"fold{index}" / "run", progress=False, log=lambda line: None)
        model, bundle = load_phase_model(work / f"fold{index}" / "run" / "best.pt")
        for position, video in enumerate(videos):
            if video["group"] in test_groups:
                joints = video["joints"]
                trained = count_with_model(model, bundle, joints, "blazepose33", np.arange(len(joints)) / FPS, FPS)
                held_out[position] = (trained.count, count_repetitions(joints, "blazepose33", FPS).count)
        print(f"  fold {index + 1}: held out {sorted(test_groups)}; trained in {time.perf_counter() - started:.0f} s, "
              f"best balanced frame accuracy {result.best_val_accuracy:.3f} (epoch {result.best_epoch})", flush=True)
    order = sorted(held_out)
    truths = [videos[i]["true"] for i in order]
    trained_mae, trained_obo = measures([held_out[i][0] for i in order], truths)
    free_mae, free_obo = measures([held_out[i][1] for i in order], truths)
    print(f"\n4. phase counter trained on real boundaries ({' '.join(['task=phases', *settings])}), {folds}-fold "
          f"subject-grouped CV over {len(order)} held-out videos: MAE {trained_mae:.3f}, OBO {trained_obo:.3f}; "
          f"the label-free counter on the same videos: MAE {free_mae:.3f}, OBO {free_obo:.3f}")
    for exercise in sorted({videos[i]["exercise"] for i in order}):
        picked = [i for i in order if videos[i]["exercise"] == exercise]
        part = measures([held_out[i][0] for i in picked], [videos[i]["true"] for i in picked])
        print(f"  {exercise:<15} {len(picked):>3} videos: trained MAE {part[0]:.3f}, OBO {part[1]:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-online", dest="online", action="store_false", help="leave out the online counter")
    parser.add_argument("--no-cv", dest="cv", action="store_false", help="leave out the cross-validation")
    parser.add_argument("--trained", action="store_true",
                        help="also train the phase counter on the real boundaries, subject-grouped CV (slow on a CPU)")
    parser.add_argument("--only-trained", action="store_true", help="only the trained phase counter")
    parser.add_argument("--folds", type=int, default=3, help="folds of the trained counter's CV (default 3)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/posegraph-repcount-phases"),
                        help="where the fold stores and runs go (a rerun reuses the stores)")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="training settings for the phase counter, e.g. --set epochs=10")
    arguments = parser.parse_args()
    videos = load_videos()
    if arguments.only_trained:
        report_trained(videos, arguments.work, arguments.folds, arguments.settings)
        return
    report_counts(videos)
    if arguments.online:
        report_online(videos)
    if arguments.cv:
        report_cross_validation(videos)
    if arguments.trained:
        report_trained(videos, arguments.work, arguments.folds, arguments.settings)


if __name__ == "__main__":
    main()
