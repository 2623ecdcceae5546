"""Form scoring: how well valid and faulty executions separate, how fast scoring and fitting are.

Run:  OMP_NUM_THREADS=1 .venv/bin/python benchmarks/scoring.py [--skip-scaling] [--largest 1000000]

Both clusterings of ``posegraph.scoring`` are measured: ``phase`` (the default: whole-pose
clusters, deviation relative to the matched cluster's spread) and ``joint`` (the source's
baseline: one clustering per joint). Every figure is a mean score (0-100) or a ROC-AUC, the
chance that a valid frame (or video) scores above a faulty one.

1. **Real form labels** (``../shared/testdata/form/exercise-correction/core``, MediaPipe
   landmarks picked by a labeller): rows split into runs of consecutive frames
   (``posegraph.data.landmark_csv.consecutive_runs``), each run scored as a sequence. The
   reference is fitted on the first half of the correct rows (file order, whole runs); the other
   half is the held-out "correct" set, compared with each error label. A second split (every
   other run) is printed alongside: neighbouring runs often come from one video, so it is the
   easier one.
2. **Synthetic faults** (``posegraph.data.synthetic``, faults of this project): references of 16
   subjects x 5 takes; tested on 4 other subjects x 3 takes, valid and with each fault (the faulty
   twin has the valid sequence's timing, camera and noise). AUC over all frames, over the frames
   where the fault shows (the twins' noise-free joints differ by > 0.15 torso lengths somewhere:
   a knee caves only near the bottom), and over videos (mean scores).
3. **Other exercises as invalid squats**: the squat reference scoring the other five exercises.
4. **Speed**: frames scored per second by each method; fit time against the number of
   reference frames (synthetic squats tiled with jitter up to a million frames) with the default
   ``max_frames`` = 20,000 subsample, and without subsampling up to 40,000 frames.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from posegraph.data.landmark_csv import runs_by_label, split_in_file_order
from posegraph.data.synthetic import EXERCISES, FAULTS, generate_sequence, make_subjects
from posegraph.scoring import FormReference
from posegraph.scoring.normalise import differing_frames
from posegraph.skeleton import get_layout

FORM = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "form" / "exercise-correction" / "core"
REAL = (("bicep curl", "bicep_model/test.csv", ("L",)), ("lunge", "lunge_model/err.test.csv", ("L",)),
        ("plank", "plank_model/test.csv", ("L", "H")))
ERRORS = {"bicep curl": {"L": "leaning back"}, "lunge": {"L": "knee over toe"},
          "plank": {"L": "back too low", "H": "back too high"}}
METHODS = ("phase", "joint")
BLAZEPOSE = get_layout("blazepose33")


def roc_auc(good: np.ndarray, bad: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    good, bad = good[np.isfinite(good)], bad[np.isfinite(bad)]
    return float(roc_auc_score(np.r_[np.ones(len(good)), np.zeros(len(bad))], np.r_[good, bad]))


# -- 1. real form labels ---------------------------------------------------------------------------
def real_splits(path: Path) -> dict[str, tuple[list, list, dict[str, list]]]:
    by_label = runs_by_label(path)
    correct = by_label.pop("C")
    return {"first half": (*split_in_file_order(correct), by_label),
            "every other run": (correct[::2], correct[1::2], by_label)}


def real_form() -> None:
    print("1. real form labels: fit on part of the correct rows; mean score of held-out correct "
          "rows and of each error; ROC-AUC (frames)")
    if not FORM.is_dir():
        print(f"   skipped: {FORM} not found (see shared/testdata/SOURCES.md, 'form/')")
        return
    print(f"   {'exercise':<11} {'split':<16} {'fit rows':>8} {'method':<6} {'correct':>8}   errors")
    for exercise, path, errors in REAL:
        for split, (fit, held_out, by_label) in real_splits(FORM / path).items():
            reference = FormReference.fit(fit, exercise=exercise)
            for method in METHODS:
                good = np.concatenate([reference.score(run, method=method).frame_scores for run in held_out])
                parts = []
                for error in errors:
                    bad = np.concatenate([reference.score(run, method=method).frame_scores
                                          for run in by_label[error]])
                    parts.append(f"{ERRORS[exercise][error]} {np.nanmean(bad):5.1f} (AUC {roc_auc(good, bad):.3f})")
                print(f"   {exercise:<11} {split:<16} {sum(map(len, fit)):>8} {method:<6} "
                      f"{np.nanmean(good):8.1f}   " + "; ".join(parts))


# -- 2. and 3. synthetic -------------------------------------------------------------------------
def fault_masks(valid, faulty) -> list[np.ndarray]:
    return [differing_frames(good.clean_joints, bad.clean_joints, BLAZEPOSE, (good.width, good.height))
            for good, bad in zip(valid, faulty)]


def synthetic_faults() -> None:
    people = make_subjects(20, seed=0)
    reference_people, test_people = people[:16], people[16:]
    print("\n2. synthetic faults: valid vs faulty twins (4 test subjects x 3 takes each)")
    print(f"   {'fault':<15} {'method':<6} {'valid':>6} {'faulty':>7} {'where shown':>12} "
          f"{'AUC frames':>11} {'AUC shown':>10} {'AUC videos':>11}")
    references = {}
    for exercise in ("squat", "push_up"):
        good = [generate_sequence(exercise, person, take=take, seed=0)
                for person in reference_people for take in range(5)]
        started = time.perf_counter()
        references[exercise] = FormReference.fit([s.joints for s in good], exercise=exercise,
                                                 frame_sizes=[(s.width, s.height) for s in good])
        frames = references[exercise].info["frames"]
        print(f"   ({exercise} reference: {frames['given']} frames, {len(references[exercise].phases.sizes)} "
              f"phases, fitted in {time.perf_counter() - started:.1f} s)")
    valid = {exercise: [generate_sequence(exercise, person, take=take, seed=0)
                        for person in test_people for take in (7, 8, 9)] for exercise in EXERCISES}
    scored: dict[tuple[str, str], list] = {}
    for exercise in ("squat", "push_up"):
        for method in METHODS:
            scored[exercise, method] = [references[exercise].score(s.joints, (s.width, s.height), method=method)
                                        for s in valid[exercise]]
    for fault, exercise in FAULTS.items():
        faulty = [generate_sequence(exercise, make_subjects(20, seed=0)[int(s.subject[1:]) - 1], take=s.take,
                                    seed=0, fault=fault) for s in valid[exercise]]
        masks = fault_masks(valid[exercise], faulty)
        for method in METHODS:
            good = scored[exercise, method]
            bad = [references[exercise].score(s.joints, (s.width, s.height), method=method) for s in faulty]
            good_frames = np.concatenate([r.frame_scores for r in good])
            bad_frames = np.concatenate([r.frame_scores for r in bad])
            shown = np.concatenate([r.frame_scores[mask] for r, mask in zip(bad, masks)])
            print(f"   {fault:<15} {method:<6} {np.nanmean(good_frames):6.1f} {np.nanmean(bad_frames):7.1f} "
                  f"{np.nanmean(shown):12.1f} {roc_auc(good_frames, bad_frames):11.3f} "
                  f"{roc_auc(good_frames, shown):10.3f} "
                  f"{roc_auc(np.array([r.mean_score for r in good]), np.array([r.mean_score for r in bad])):11.3f}")
    print("\n3. other exercises scored against the squat reference (4 subjects x 3 takes each)")
    print(f"   {'exercise':<14} {'method':<6} {'squats':>7} {'other':>6} {'AUC frames':>11} {'AUC videos':>11}")
    for exercise in EXERCISES:
        if exercise == "squat":
            continue
        for method in METHODS:
            good = scored["squat", method]
            bad = [references["squat"].score(s.joints, (s.width, s.height), method=method) for s in valid[exercise]]
            good_frames = np.concatenate([r.frame_scores for r in good])
            bad_frames = np.concatenate([r.frame_scores for r in bad])
            print(f"   {exercise:<14} {method:<6} {np.nanmean(good_frames):7.1f} {np.nanmean(bad_frames):6.1f} "
                  f"{roc_auc(good_frames, bad_frames):11.3f} "
                  f"{roc_auc(np.array([r.mean_score for r in good]), np.array([r.mean_score for r in bad])):11.3f}")
    return references["squat"], valid["squat"]


# -- 4. speed -----------------------------------------------------------------------------------
def scoring_speed(reference: FormReference, sequences) -> None:
    joints = np.concatenate([s.joints for s in sequences] * 4)
    print(f"\n4. speed (one process, OMP_NUM_THREADS as set)\n   scoring {len(joints):,} frames "
          f"against a reference of {len(reference.phases.sizes)} phases:")
    for method in METHODS:
        best = min(_timed(lambda method=method: reference.score(joints, (640, 480), method=method))
                   for _ in range(3))
        print(f"     {method:<6} {len(joints) / best:10,.0f} frames/s")


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def tiled_squats(frames: int, base) -> list[np.ndarray]:
    """About ``frames`` frames: the base squats repeated, each copy jittered (landmark noise
    0.003 of the frame) and moved in the frame, so no two frames are the same."""
    random = np.random.default_rng(1)
    out, total = [], 0
    while total < frames:
        for sequence in base:
            copy = sequence.copy()
            copy[..., :2] += random.normal(0, 0.003, copy[..., :2].shape).astype(np.float32)
            copy[..., :2] += random.uniform(-0.05, 0.05, 2).astype(np.float32)
            take = min(len(copy), frames - total)
            out.append(copy[:take])
            total += take
            if total >= frames:
                break
    return out


def fit_scaling(largest: int) -> None:
    people = make_subjects(12, seed=3)
    base = [generate_sequence("squat", person, take=take, seed=3).joints for person in people for take in range(4)]
    print("   fit time against reference frames (squat; both clusterings; seconds):")
    print(f"     {'frames':>10} {'max_frames':>11} {'clustered':>10} {'phases':>7} {'fit s':>7}")
    runs = [(5_000, None), (10_000, None), (20_000, None), (40_000, None)]
    runs += [(size, 20_000) for size in (10_000, 100_000, 1_000_000) if size <= largest]
    for frames, max_frames in runs:
        sequences = tiled_squats(frames, base)
        options = {"max_frames": max_frames or frames}
        started = time.perf_counter()
        reference = FormReference.fit(sequences, **options)
        seconds = time.perf_counter() - started
        label = "all" if max_frames is None else f"{max_frames:,}"
        print(f"     {frames:>10,} {label:>11} {reference.info['frames']['sampled']:>10,} "
              f"{len(reference.phases.sizes):>7} {seconds:7.1f}", flush=True)
        del sequences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-scaling", action="store_true", help="leave out the fit-time runs")
    parser.add_argument("--largest", type=int, default=1_000_000, help="most reference frames to fit")
    arguments = parser.parse_args()
    real_form()
    squat_reference, squats = synthetic_faults()
    scoring_speed(squat_reference, squats)
    if not arguments.skip_scaling:
        fit_scaling(arguments.largest)


if __name__ == "__main__":
    main()
