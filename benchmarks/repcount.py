"""Counting on RepCount-A's long, uncut videos (``../shared/testdata/repcount/``): the label-free
counter, per exercise and count range, repetition boundaries, online lag, and a subject-grouped
cross-validation of its ratios.

Run:  .venv/bin/python benchmarks/repcount.py [--no-online] [--no-cv] [--sensitivity]

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
- **Cross-validation**: leave-one-subject-out (videos without a ``stu<k>`` subject are their own
  group). (a) One counter: on each fold the grid below is searched on the other subjects (lowest
  MAE, then highest OBO) and the chosen ratios count the held-out subject's videos. (b) The
  default consensus (the median of 81 counters: the three ratios' grid at power 2 along each of
  the three signal directions) fits nothing per video or subject; which counters it takes the
  median over (every consensus tried: by power, by direction, the default) is chosen per fold the
  same way.
- **Sensitivity** (``--sensitivity``): the consensus recounted with other values of SWING_SHARE and
  RUN_MARGIN (chosen on this work's data, outside the grid), each value also chosen per fold.
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
from pathlib import Path

import numpy as np

from posegraph.scoring.periodicity import SIGNAL_DIRECTIONS

REPOSITORY = Path(__file__).resolve().parents[1]
REPCOUNT = REPOSITORY.parent / "shared" / "testdata" / "repcount"
FPS = 30.0  # RepCount's videos are about 30 fps; the landmark files keep every frame
GRID = {"RECURRENCE": (0.4, 0.5, 0.6), "PROMINENCE": (0.25, 0.35, 0.5), "PERIOD_TOLERANCE": (0.2, 0.3, 0.4),
        "PERIODICITY_POWER": (1, 2), "DIRECTION": SIGNAL_DIRECTIONS}
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


def grid_members() -> list:
    """Every single counter of :data:`GRID` as :class:`~posegraph.scoring.counting.CounterRatios`."""
    from posegraph.scoring.counting import CounterRatios

    return [CounterRatios(recurrence, prominence, tolerance, power, direction)
            for recurrence, prominence, tolerance, power, direction in itertools.product(*GRID.values())]


def count_all(videos: list[dict], ratios=None) -> list:
    """Every video counted (``ratios``: one counter or several, see ``count_repetitions``)."""
    from posegraph.scoring import count_repetitions

    return [count_repetitions(video["joints"], "blazepose33", FPS, ratios=ratios) for video in videos]


def held_out_counts(videos: list[dict], counted: dict) -> tuple[np.ndarray, list]:
    """Leave-one-subject-out: per group, the candidate with the lowest MAE (then highest OBO) on
    the other groups counts the group's videos. ``counted``: candidate -> counts of every video."""
    truths = np.asarray([v["true"] for v in videos])
    held_out, chosen = np.zeros(len(videos), dtype=np.int64), []
    for group in sorted({v["group"] for v in videos}):
        test = np.asarray([v["group"] == group for v in videos])

        def training_score(key):
            mae, obo = measures(np.asarray(counted[key])[~test], truths[~test])
            return mae, -obo

        best = min(counted, key=training_score)
        chosen.append(best)
        held_out[test] = np.asarray(counted[best])[test]
    return held_out, chosen


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
    from posegraph.scoring.counting import CounterRatios

    started = time.perf_counter()
    single = [r.count for r in count_all(videos, CounterRatios())]
    single_seconds = time.perf_counter() - started
    single_mae, single_obo = measures(single, truths)
    print(f"  one counter at the default ratios (what the live counter recounts with): MAE {single_mae:.3f}, "
          f"OBO {single_obo:.3f}; {frames / single_seconds:,.0f} frames/s")
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
    agreed = np.asarray([result.agreement for result in results]) >= 0.8
    for label, picked in (("agreement >= 0.8", np.flatnonzero(agreed)), ("agreement < 0.8", np.flatnonzero(~agreed))):
        part = measures([counted[i] for i in picked], [truths[i] for i in picked])
        print(f"  {label:<17} {len(picked):>4} videos: MAE {part[0]:.3f}, OBO {part[1]:.3f} "
              f"(the share of the consensus counters that counted the answer)")
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
    """(a) one counter whose ratios are chosen on the other subjects (the previous default's way);
    (b) the consensus (nothing is chosen per fold, so held out = in-sample), and which grid it
    takes its median over chosen per fold among every consensus tried."""
    from posegraph.scoring.counting import CONSENSUS

    truths = list(v["true"] for v in videos)
    names = list(GRID)
    members = grid_members()
    single = {tuple(vars(member).values()): [r.count for r in count_all(videos, member)] for member in members}
    held_out, chosen = held_out_counts(videos, single)
    best_in_sample = min(single, key=lambda key: measures(single[key], truths)[0])
    print(f"\n3a. one counter, its ratios chosen by leave-one-subject-out ({len(set(v['group'] for v in videos))} "
          f"groups) over {names} = {list(GRID.values())}: MAE {measures(list(held_out), truths)[0]:.3f}, OBO "
          f"{measures(list(held_out), truths)[1]:.3f} (cross-validated); the grid's best in-sample "
          f"{dict(zip(names, best_in_sample))}: MAE {measures(single[best_in_sample], truths)[0]:.3f}; "
          f"ratios chosen per fold: {sorted(set(chosen))}")

    def members_where(**wanted) -> tuple:
        return tuple(m for m in members if all(getattr(m, key) in values for key, values in wanted.items()))

    # every consensus tried on these videos, so choosing among them is cross-validated too: the
    # previous default (positions, power 2), its power 1 and both powers, each other direction
    # alone, positions with either, and the default (all three directions at power 2)
    grids = {"positions, power 1": members_where(direction={"positions"}, periodicity_power={1}),
             "positions, power 2 (previous default)": members_where(direction={"positions"}, periodicity_power={2}),
             "positions, both powers": members_where(direction={"positions"}),
             "velocities": members_where(direction={"velocities"}, periodicity_power={2}),
             "velocities-plain": members_where(direction={"velocities-plain"}, periodicity_power={2}),
             "positions and velocities": members_where(direction={"positions", "velocities"}, periodicity_power={2}),
             "positions and velocities-plain": members_where(direction={"positions", "velocities-plain"},
                                                             periodicity_power={2}),
             "three directions (default)": CONSENSUS,
             "three directions, both powers": tuple(members)}
    consensus = {name: [r.count for r in count_all(videos, grid)] for name, grid in grids.items()}
    for name, counts in consensus.items():
        print(f"  consensus over {name} ({len(grids[name])} counters): MAE {measures(counts, truths)[0]:.3f}, "
              f"OBO {measures(counts, truths)[1]:.3f} (nothing fitted per video or subject)")
    held_out, chosen = held_out_counts(videos, consensus)
    print(f"3b. consensus, its grid chosen per fold by the same leave-one-subject-out: MAE "
          f"{measures(list(held_out), truths)[0]:.3f}, OBO {measures(list(held_out), truths)[1]:.3f}; "
          f"grids chosen: {dict((name, chosen.count(name)) for name in grids)}")


def report_sensitivity(videos: list[dict]) -> None:
    """The two ratios outside the consensus's grid (chosen on this work's data): the consensus with
    each of three values, and the value chosen per fold by leave-one-subject-out."""
    from posegraph.scoring import periodicity

    truths = [v["true"] for v in videos]
    print()
    for name, values in (("SWING_SHARE", (0.25, 0.35, 0.45)), ("RUN_MARGIN", (0.15, 0.25, 0.35))):
        saved, counted = getattr(periodicity, name), {}
        try:
            for value in values:
                setattr(periodicity, name, value)
                counted[value] = [r.count for r in count_all(videos)]
        finally:
            setattr(periodicity, name, saved)
        held_out, chosen = held_out_counts(videos, counted)
        each = "; ".join(f"{value}: MAE {measures(counted[value], truths)[0]:.3f}" for value in values)
        print(f"5. {name} (default {saved}): consensus {each}; chosen per fold: MAE "
              f"{measures(list(held_out), truths)[0]:.3f}, OBO {measures(list(held_out), truths)[1]:.3f} "
              f"({dict((value, chosen.count(value)) for value in values)})")


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
    from posegraph.app.phase_counting import count_with_model, load_phase_model
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
    parser.add_argument("--sensitivity", action="store_true",
                        help="also the consensus with other values of the ratios outside its grid, cross-validated")
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
    if arguments.sensitivity:
        report_sensitivity(videos)
    if arguments.trained:
        report_trained(videos, arguments.work, arguments.folds, arguments.settings)


if __name__ == "__main__":
    main()
