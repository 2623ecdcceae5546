"""Recognition across skeleton sources: train on Penn Action's hand-annotated joints, classify this
product's own BlazePose extraction of real videos (issue 23).

Run:  .venv/bin/python benchmarks/crosssource.py --run RUN_FOLDER [--run RUN_FOLDER ...]
      .venv/bin/python benchmarks/crosssource.py --train bilstm --train stgcn [--work DIR]
      .venv/bin/python benchmarks/crosssource.py --train bilstm --second-source [--work DIR]

- **Training** (``--train MODEL``): ``posegraph import penn-action ../shared/testdata/penn_action/train``
  into ``WORK/penn`` (once), then ``gcn.training.train`` with the defaults and no config file (what
  ``posegraph train --model MODEL --store WORK/penn`` runs), into ``WORK/MODEL``. ``--run`` takes
  run folders already trained that way instead.
- **In-domain**: the run's own validation figure (the import's validation split, ``history.json``:
  the best epoch's and the last epoch's top-1), and how many of those validation videos the
  calibrated rule answers.
- **Cross-source** (Penn's classes): the real clips of ``../shared/testdata/`` whose exercise is a
  Penn class, extracted by ``posegraph.data.sources.resolve_source`` exactly as ``posegraph
  classify VIDEO`` extracts them (BlazePose, blazepose33; cached as ``.npz`` under ``--cache``) and
  answered by ``answer_sequence`` (what ``classify`` calls): push-ups, pull-ups and squats of
  ``reps/workouttracker``, the two squats of ``reps/workoutdetector`` and the clean-and-jerk of
  ``videos/``. Per class: right (answered and correct), wrong, rejected, and the median calibrated
  confidence of the answers.
- **Outside Penn's classes**: tai chi (``videos/``), lying triceps extensions
  (``reps/workoutdetector/4-YmQKoHYmw.mp4``), two people walking and hugging (``videos/``):
  rejected ("none of these") or which class they were given.
- **Ensembles** (``--ensemble FILE``): a saved ensemble of such runs (``posegraph ensemble
  --checkpoints RUN_A RUN_B --store WORK/penn --split val --out FILE``: weights searched and "none of
  these" calibrated on the validation split), answered as ``classify FILE`` answers.
- **RepCount** (``--repcount``, a second source): the 75 videos of ``repcount/`` (MediaPipe
  BlazePose landmarks from another pipeline, min-max normalised per frame) whose exercise is a
  Penn class, and the rest as outside.
- **Trained on two sources** (``--train MODEL --second-source``): RepCount's 63 videos of Penn's
  classes are added to the training split (converted to ``penn13`` by joint name, labelled with
  the Penn class) of a copy of the Penn store, ``WORK/penn-repcount``; the validation split stays
  Penn's. It tests whether the cross-source gap is the training data (Penn's squats are barbell
  squats, the real ones body-weight). RepCount is then training data, so ``--repcount`` is refused.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
TESTDATA = REPOSITORY.parent / "shared" / "testdata"
INSIDE = [("reps/workoutdetector/example_videos/U7b4jSjtdFQ.mp4", "squat"),
          ("reps/workoutdetector/example_videos/upVOY01QDpI.mp4", "squat"),
          ("videos/kinetics_clean_and_jerk.mp4", "clean_and_jerk")]
OUTSIDE = [("videos/kinetics_tai_chi.mp4", "tai chi"),
           ("reps/workoutdetector/example_videos/4-YmQKoHYmw.mp4", "lying triceps extension"),
           ("videos/mmaction2_demo_skeleton_2persons.mp4", "walking and hugging")]
REPS_CLASSES = {"push-up": "pushup", "pull-up": "pullup", "squat": "squat"}
REPCOUNT_CLASSES = {"bench_pressing": "bench_press", "jump_jack": "jumping_jacks", "pull_up": "pullup",
                    "push_up": "pushup", "situp": "situp", "squat": "squat"}


def real_clips() -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
    """(video, Penn class) of the real clips of Penn's classes, and (video, what it shows) of the others."""
    table = TESTDATA / "reps" / "counts.csv"
    if not table.exists():
        raise SystemExit(f"{table} is missing: this benchmark needs ../shared/testdata/")
    with open(table, newline="") as handle:
        inside = [(TESTDATA / row["video"], REPS_CLASSES[row["exercise"]]) for row in csv.DictReader(handle)]
    inside += [(TESTDATA / path, label) for path, label in INSIDE]
    return inside, [(TESTDATA / path, what) for path, what in OUTSIDE]


def extracted(video: Path, cache: Path):
    """The video's :class:`SkeletonSource` as ``classify`` reads it (extracted once, then cached)."""
    from posegraph.data.sources import resolve_source
    from posegraph.skeleton.source import SkeletonSource

    cached = cache / (video.stem + ".source.npz")
    if not cached.exists():
        cache.mkdir(parents=True, exist_ok=True)
        source = resolve_source(video)
        np.savez_compressed(cached, joints=source.joints, timestamps=source.timestamps,
                            frame_indices=source.frame_indices, width=source.width or 0, height=source.height or 0,
                            fps=source.fps)
    content = np.load(cached)
    return SkeletonSource(content["joints"], "blazepose33", content["timestamps"], content["frame_indices"],
                          int(content["width"]) or None, int(content["height"]) or None, str(video),
                          float(content["fps"]), "file", "BlazePose")


def repcount_sources():
    """(source, Penn class or None, exercise) of each RepCount video."""
    from posegraph.data.repcount import read_counts
    from posegraph.data.sources import landmarks_source

    videos, _ = read_counts(TESTDATA / "repcount")
    return [(landmarks_source(video.path, fps=30.0), REPCOUNT_CLASSES.get(video.exercise), video.exercise)
            for video in videos]


def in_domain(run: Path, store_path: Path, model, bundle) -> str:
    """The run's validation top-1 (best and last epoch) and how many validation videos are answered."""
    from posegraph.data import SkeletonStore
    from posegraph.data.sources import stored_source
    from posegraph.gcn.inference import answer_sequence

    history = json.loads((run / "history.json").read_text())
    best = max(row["val_accuracy"] for row in history)
    line = f"validation top-1 {best:.3f} (best epoch), {history[-1]['val_accuracy']:.3f} (epoch {len(history)})"
    if store_path.exists():
        store = SkeletonStore(store_path, create=False)
        rows = [row for row in store.videos().to_pylist() if row["split"] == "val" and row["status"] == "ok"]
        answered = right = 0
        for row in rows:
            source = stored_source(store, row["video_id"], bundle.layout)
            answer = answer_sequence(model, bundle, source)
            answered += not answer.rejected
            right += (not answer.rejected) and answer.answer == row["label"]
        line += f"; calibrated rule: {answered}/{len(rows)} answered, {right} of them right"
    return line


def classify_all(model, bundle, items) -> list[tuple[str, str, float, bool, str]]:
    """(expected, answer, confidence, rejected, top class) per ``(source, expected)`` item; ``model``
    may be a loaded ensemble's members (``bundle`` then the saved ensemble)."""
    from posegraph.gcn.inference import answer_sequence

    rows = []
    for source, expected in items:
        sequence = source
        answer = model.answer(sequence, bundle.weights, rejection=bundle.rejection) if hasattr(model, "answer") \
            else answer_sequence(model, bundle, sequence)
        top, confidence = answer.ranking[0]
        rows.append((expected, answer.answer, float(confidence), bool(answer.rejected), top))
    return rows


def per_class_table(rows) -> list[str]:
    """Markdown rows: class, clips, right, wrong (with the answers), rejected, median confidence."""
    by_class = defaultdict(list)
    for row in rows:
        by_class[row[0]].append(row)
    lines = ["| class | clips | right | wrong (answered as) | rejected | median confidence of answers |",
             "|---|---|---|---|---|---|"]
    for label in sorted(by_class):
        items = by_class[label]
        right = sum(1 for expected, answer, _, rejected, _ in items if not rejected and answer == expected)
        wrong = Counter(answer for expected, answer, _, rejected, _ in items if not rejected and answer != expected)
        rejected = sum(1 for item in items if item[3])
        confidences = [item[2] for item in items if not item[3]]
        lines.append(f"| {label} | {len(items)} | {right} | {sum(wrong.values())} {dict(wrong) or ''} | {rejected} | "
                     f"{np.median(confidences) if confidences else float('nan'):.2f} |")
    total = len(rows)
    right = sum(1 for expected, answer, _, rejected, _ in rows if not rejected and answer == expected)
    rejected = sum(1 for row in rows if row[3])
    top_right = sum(1 for expected, _, _, _, top in rows if top == expected)
    lines.append(f"| **all** | {total} | **{right} ({right / max(total, 1):.1%})** | {total - right - rejected} | "
                 f"{rejected} | top class right (no rejection): {top_right / max(total, 1):.1%} |")
    return lines


def report(run: Path, store: Path, cache: Path, with_repcount: bool) -> None:
    from posegraph.gcn.ensemble import is_ensemble_file, load_saved
    from posegraph.gcn.inference import load_classifier

    if is_ensemble_file(run):
        bundle, model = load_saved(run)
        print(f"\n## ensemble {run}: weights {bundle.weights}, "
              f"{'calibrated' if bundle.rejection else 'NOT calibrated'}")
    else:
        model, bundle = load_classifier(run)
        print(f"\n## {run} ({bundle.config.model}, layout {bundle.layout}, "
              f"{'calibrated' if bundle.rejection is not None and bundle.rejection.active else 'NOT calibrated'})")
        print(in_domain(run, store, model, bundle))
    inside, outside = real_clips()
    started = time.perf_counter()
    rows = classify_all(model, bundle, [(extracted(path, cache), label) for path, label in inside])
    print(f"\ncross-source, this product's extraction ({len(rows)} clips, {time.perf_counter() - started:.0f} s):")
    print("\n".join(per_class_table(rows)))
    print("\noutside Penn's classes:")
    for (path, what), (_, answer, confidence, rejected, top) in zip(
            outside, classify_all(model, bundle, [(extracted(path, cache), what) for path, what in outside])):
        print(f"- {what} ({path.name}): {'rejected' if rejected else 'answered'} — top class {top} "
              f"({confidence:.2f})")
    if with_repcount:
        sources = repcount_sources()
        rows = classify_all(model, bundle, [(source, label) for source, label, _ in sources if label])
        print(f"\nRepCount landmarks, Penn's classes ({len(rows)} videos):")
        print("\n".join(per_class_table(rows)))
        others = [(source, exercise) for source, label, exercise in sources if not label]
        outside_rows = classify_all(model, bundle, others)
        rejected = sum(1 for row in outside_rows if row[3])
        print(f"RepCount outside Penn's classes: {rejected}/{len(outside_rows)} rejected; answers "
              f"{dict(Counter((row[0], row[1]) for row in outside_rows))}")


def add_repcount_training(store_path: Path) -> None:
    """RepCount's videos of Penn's classes into the store's training split, as ``penn13`` joints
    labelled with the Penn class (through the store's one import path)."""
    from posegraph.data import SkeletonStore
    from posegraph.data.batches import import_files
    from posegraph.data.records import Skeletons
    from posegraph.data.repcount import read_counts, repcount_record
    from posegraph.skeleton import convert

    videos, _ = read_counts(TESTDATA / "repcount")
    by_path = {video.path: video for video in videos if video.exercise in REPCOUNT_CLASSES}

    def record(path: Path):
        video = by_path[path]
        info, skeletons, problem = repcount_record(video, 30.0, "train")
        if problem is not None:
            return info, skeletons, problem
        joints = convert(skeletons.joints, "blazepose33", "penn13").astype(np.float32)
        return (info.replace(layout="penn13", label=REPCOUNT_CLASSES[video.exercise], group=f"repcount-{video.group}"),
                Skeletons("penn13", joints, skeletons.detected, skeletons.timestamps, skeletons.frame_indices), None)

    report = import_files(SkeletonStore(store_path), list(by_path), record)
    print(f"second source: {len(report.imported)} RepCount videos added to the training split "
          f"({len(report.failed)} failed)", flush=True)


def training_store(work: Path, second_source: bool) -> Path:
    """Where the runs of ``work`` are trained: Penn alone, or Penn with RepCount's videos added."""
    return work / ("penn-repcount" if second_source else "penn")


def train_default(model: str, work: Path, second_source: bool = False) -> Path:
    """A run trained with the defaults on Penn Action's training clips (imported once into
    ``work/penn``), with RepCount's videos of Penn's classes added when ``second_source``."""
    from posegraph.gcn.config import load_config
    from posegraph.gcn.training import train

    store = training_store(work, second_source)
    if not store.exists():
        subprocess.run([str(Path(sys.executable).with_name("posegraph")), "import", "penn-action",
                        str(TESTDATA / "penn_action" / "train"), "--store", str(store), "--quiet"], check=True)
        if second_source:
            add_repcount_training(store)
    run = work / (f"{model}-penn-repcount" if second_source else model)
    started = time.perf_counter()
    train(load_config(None, [], model=model), store, run, resume=(run / "last.pt").exists(), progress=False,
          log=lambda line: print(f"[{time.perf_counter() - started:7.1f} s] {line}", flush=True))
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, action="append", default=[], help="a run folder trained on Penn Action")
    parser.add_argument("--ensemble", type=Path, action="append", default=[],
                        help="a saved ensemble (posegraph ensemble ... --out FILE) of runs trained on Penn Action")
    parser.add_argument("--train", action="append", default=[], choices=("bilstm", "stgcn", "msg3d"),
                        help="train this model with the defaults first (into --work)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/posegraph-crosssource"))
    parser.add_argument("--store", type=Path, help="the Penn Action store the runs were trained on (default WORK/penn)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/posegraph-crosssource-cache"),
                        help="where the extracted skeletons of the real clips are kept between runs")
    parser.add_argument("--repcount", action="store_true", help="also classify RepCount's 75 landmark files")
    parser.add_argument("--second-source", action="store_true",
                        help="train with RepCount's videos of Penn's classes added (store WORK/penn-repcount)")
    arguments = parser.parse_args()
    if arguments.second_source and arguments.repcount:
        parser.error("--second-source trains on RepCount's videos, so --repcount would classify its own training "
                     "data: leave one out")
    runs = list(arguments.run) + [train_default(model, arguments.work, arguments.second_source)
                                  for model in arguments.train] + list(arguments.ensemble)
    if not runs:
        parser.error("give --run RUN_FOLDER, --train MODEL or --ensemble FILE")
    for run in runs:
        report(run, arguments.store or training_store(arguments.work, arguments.second_source), arguments.cache,
               arguments.repcount)


if __name__ == "__main__":
    main()
