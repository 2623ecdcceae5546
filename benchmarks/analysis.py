"""``posegraph analyse``: does form per repetition (score plus range of motion) separate good from
faulty executions, and what does an analysis cost beside extraction? (issue 24)

Run:  .venv/bin/python benchmarks/analysis.py [--subjects 12] [--video VIDEO]

- **Separation**: a bundle is built (``build_bundle``) from a synthetic store of good executions
  (6 subjects x 2 takes, 6 exercises; a small BiLSTM as its classifier), then each of the
  synthetic fault sets (``data.synthetic.FAULTS``: shallow squat, knees caving, hips sagging,
  elbows flaring) is analysed for ``--subjects`` new subjects (seeds the bundle never saw), beside
  the same subjects' good executions. Per video, the measure ranked is the depth factor
  ``min(1, median depth / SHALLOW)`` (depth = travel against the bundle's good executions;
  ``SHALLOW`` = 0.75, the depth under which ``analyse`` gives a depth cue) minus the mean over its
  repetitions of the repetition's furthest-off body joint's ramp (``worst_joints[0].ramp``: 0 as
  close as a typical good frame, 1 where the score reaches 0, not capped; a fault sits in a few
  joints, and the mean over 13 joints dilutes it); for comparison, that joint's mean score
  (``worst_joints[0].score``, capped at 0-100) times the depth factor, the mean repetition score
  times the depth factor, and the mean repetition score alone. ROC-AUC (faulty lower = 1.0).
- **Blame** (``--blame``): which body joints lose most score between correct and faulty
  executions (the four largest mean drops; phase method): the synthetic fault sets (reference
  from 6 subjects x 2 good videos, 6 new subjects) and the real labelled errors of
  ``../shared/testdata/form/`` (fitted on the first half of the correct rows, as ``scoring.py``);
  and, on those labels, runs of consecutive rows of one label (correct or an error) ranked by
  their furthest-off body joint's mean ramp, that joint's mean score, and their mean frame
  score (the nearest to "videos" ``form/`` has).
- **Cost** (``--video``): wall time of ``resolve_source`` (BlazePose extraction) against the
  whole analysis of the extracted skeleton, on one real video.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]


def roc_auc(good: list[float], faulty: list[float]) -> float:
    """P(a good video's measure > a faulty one's), ties counted half."""
    good_array, faulty_array = np.asarray(good)[:, None], np.asarray(faulty)[None, :]
    return float(((good_array > faulty_array) + 0.5 * (good_array == faulty_array)).mean())


def video_measures(document: dict) -> tuple[float, float, float, float]:
    """(depth factor - weakest joint's ramp, weakest joint's score x depth factor, mean repetition
    score x depth factor, mean repetition score) of one analysis (module docstring); higher is better."""
    from posegraph.scoring.cues import SHALLOW

    repetitions = document["repetitions"]
    scores = [rep["score"] for rep in repetitions if rep["score"] is not None]
    weakest = [rep["worst_joints"][0] for rep in repetitions if rep["worst_joints"]]
    depths = [rep["depth"] for rep in repetitions if rep["depth"] is not None]
    score = float(np.mean(scores)) if scores else 0.0
    joint = float(np.mean([worst["score"] for worst in weakest])) if weakest else 0.0
    ramp = float(np.mean([worst["ramp"] for worst in weakest])) if weakest else np.inf
    depth = min(1.0, float(np.median(depths)) / SHALLOW) if depths else 1.0
    return depth - ramp, joint * depth, score * depth, score


def separation(subjects: int, work: Path) -> None:
    from posegraph.data import SkeletonStore
    from posegraph.data.synthetic import FAULTS, generate_corpus, generate_sequence, make_subjects, store_records
    from posegraph.app.analysis import Analyser, analyse_source
    from posegraph.app.analysis_bundle import build_bundle
    from posegraph.gcn.config import load_config
    from posegraph.gcn.training import train
    from posegraph.skeleton.source import SkeletonSource

    store = SkeletonStore(work / "store")
    store.write_videos(store_records(generate_corpus(subjects=6, takes=2, seed=11, repetitions=6)))
    train(load_config(None, ["epochs=8"], model="bilstm"), store.root, work / "run", progress=False, log=lambda _: None)
    build_bundle(work / "run", store.root, work / "bundle", split=None, log=lambda _: None)
    analyser = Analyser.load(work / "bundle")
    people = make_subjects(subjects, seed=1234)  # not the store's subjects (seed 11)
    print("| fault | videos good / faulty | AUC, depth - weakest joint's ramp | AUC, weakest joint's score x depth | "
          "AUC, score x depth | AUC, score alone | recognised as the exercise |")
    print("|---|---|---|---|---|---|---|")
    for fault, exercise in FAULTS.items():
        measures: dict[str, list] = {"good": [], "faulty": []}
        recognised = 0
        for index, person in enumerate(people):
            for kind, which in (("good", None), ("faulty", fault)):
                sequence = generate_sequence(exercise, person, take=0, seed=100 + index, repetitions=6, fault=which)
                frames = np.arange(len(sequence.joints))
                source = SkeletonSource(sequence.joints, "blazepose33", sequence.timestamps, frames,
                                        sequence.width, sequence.height, None, float(1 / np.median(
                                            np.diff(sequence.timestamps))), "file", "synthetic")
                document = analyse_source(analyser, source, f"{exercise}-{kind}-{index}", reject=False).to_json()
                recognised += document["exercise"]["answer"] == exercise
                measures[kind].append(video_measures(document))
        aucs = [roc_auc([m[k] for m in measures["good"]], [m[k] for m in measures["faulty"]]) for k in range(4)]
        print(f"| {fault} | {len(people)} / {len(people)} | {' | '.join(f'{auc:.3f}' for auc in aucs)} | "
              f"{recognised} of {2 * len(people)} |")


BODY = ("nose", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")


def _most_blamed(good: np.ndarray, bad: np.ndarray, names: tuple[str, ...]) -> list[str]:
    """The four body joints whose mean score drops most from ``good`` to ``bad`` frames ``(T, V)``."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        drop = np.nanmean(good, axis=0) - np.nanmean(bad, axis=0)
    body = [names.index(name) for name in BODY if name in names and np.isfinite(drop[names.index(name)])]
    return [f"{names[i]} {drop[i]:.0f}" for i in sorted(body, key=lambda i: -drop[i])[:4]]


def blame() -> None:
    import sys

    from posegraph.data.synthetic import FAULTS, generate_corpus, generate_sequence, make_subjects
    from posegraph.scoring import FormReference

    print("| fault | the four body joints losing most score (points) |\n|---|---|")
    for fault, exercise in FAULTS.items():
        good = generate_corpus(subjects=6, takes=2, seed=11, repetitions=6, exercises=(exercise,))
        reference = FormReference.fit([s.joints for s in good], layout="blazepose33", exercise=exercise,
                                      frame_sizes=[(s.width, s.height) for s in good])
        before, after = [], []
        for index, person in enumerate(make_subjects(6, seed=1234)):
            for kind, which in ((before, None), (after, fault)):
                sequence = generate_sequence(exercise, person, take=0, seed=100 + index, repetitions=6, fault=which)
                result = reference.score(sequence.joints, (sequence.width, sequence.height))
                kind.append(result.joint_scores)
        print(f"| synthetic {fault} | {', '.join(_most_blamed(np.concatenate(before), np.concatenate(after), result.joint_names))} |")
    sys.path.insert(0, str(REPOSITORY / "benchmarks"))
    import scoring as form_benchmark

    if not form_benchmark.FORM.is_dir():
        print(f"(real labels skipped: {form_benchmark.FORM} not found)")
        return
    for exercise, path, errors in form_benchmark.REAL:
        fit, held_out, by_label = form_benchmark.real_splits(form_benchmark.FORM / path)["first half"]
        reference = FormReference.fit(fit, exercise=exercise)
        results = [reference.score(run) for run in held_out]
        good = np.concatenate([result.joint_scores for result in results])
        for error in errors:
            bad = np.concatenate([reference.score(run).joint_scores for run in by_label[error]])
            print(f"| real {exercise}, {form_benchmark.ERRORS[exercise][error]} | "
                  f"{', '.join(_most_blamed(good, bad, results[0].joint_names))} |")


def form_runs() -> None:
    """Real labels at the level of runs (consecutive rows of one label, ``scoring.py``'s split):
    ROC-AUC of each run's furthest-off body joint (its mean ramp over the run's frames, negated),
    of that joint's mean score and of the run's mean frame score."""
    import sys
    import warnings

    from posegraph.scoring import FormReference

    sys.path.insert(0, str(REPOSITORY / "benchmarks"))
    import scoring as form_benchmark

    if not form_benchmark.FORM.is_dir():
        print(f"(real labels skipped: {form_benchmark.FORM} not found)")
        return

    def measures(reference, run) -> tuple[float, float, float]:
        result = reference.score(run)
        body = [result.joint_names.index(name) for name in BODY if name in result.joint_names]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return -float(np.nanmax(np.nanmean(result.joint_ramps[:, body], axis=0))), \
                float(np.nanmin(np.nanmean(result.joint_scores[:, body], axis=0))), \
                float(np.nanmean(result.frame_scores))

    print("\n| split | exercise, error | runs correct / error | AUC, weakest joint's ramp | AUC, weakest joint's score "
          "| AUC, mean score |\n|---|---|---|---|---|---|")
    for split in ("first half", "every other run"):
        for exercise, path, errors in form_benchmark.REAL:
            fit, held_out, by_label = form_benchmark.real_splits(form_benchmark.FORM / path)[split]
            reference = FormReference.fit(fit, exercise=exercise)
            good = np.array([measures(reference, run) for run in held_out])
            for error in errors:
                bad = np.array([measures(reference, run) for run in by_label[error]])
                print(f"| {split} | {exercise}, {form_benchmark.ERRORS[exercise][error]} | {len(good)} / {len(bad)} | "
                      f"{' | '.join(f'{roc_auc(good[:, k], bad[:, k]):.3f}' for k in range(3))} |")


def cost(video: Path, work: Path) -> None:
    from posegraph.data.sources import resolve_source
    from posegraph.app.analysis import Analyser, analyse_source

    started = time.perf_counter()
    source = resolve_source(video)
    extraction = time.perf_counter() - started
    analyser = Analyser.load(work / "bundle")
    started = time.perf_counter()
    analyse_source(analyser, source, str(video))
    analysis = time.perf_counter() - started
    print(f"{video.name}: extraction {extraction:.2f} s, analysis after it {analysis:.2f} s: "
          f"whole / extraction = {(extraction + analysis) / extraction:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=12)
    parser.add_argument("--blame", action="store_true", help="only the blame tables and the real labels' runs")
    parser.add_argument("--video", type=Path, action="append", default=[],
                        help="a real video to time (extraction against the analysis after it)")
    arguments = parser.parse_args()
    if arguments.blame:
        blame()
        form_runs()
        return
    with tempfile.TemporaryDirectory() as folder:
        separation(arguments.subjects, Path(folder))
        for video in arguments.video:
            cost(video, Path(folder))


if __name__ == "__main__":
    main()
