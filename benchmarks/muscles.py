"""Muscle groups and ensembles on real, human-annotated poses: Penn Action's seven exercises.

Three measurements, all with the product's own code (``gcn.training.train``, ``gcn.inference``,
``gcn.ensemble``) and the BiLSTM-attention classifier with its defaults:

1. ``joint``: exercise and muscle heads trained together (``muscles=joint``) on the seven
   exercises, split 70/15/15 by action (``split=stratified``); metrics on the held-out 15%.
2. ``ensemble``: two such models on the same split (the defaults; 32-frame windows with plain
   cross-entropy) combined, weights searched on the validation 15%, scored on the test 15% beside
   each member and beside 50/50.
3. ``leave-out``: for each exercise (and one pair), a muscles-only model trained on the others,
   scored on every clip of the exercise it never saw, beside the "training prior" (each group
   answered by whether most training clips work it).

Muscle labels come from ``configs/muscle_groups_more.yaml`` (the source study's table plus
posegraph's rows for pull-ups, sit-ups, jumping jacks and clean-and-jerk)::

    .venv/bin/posegraph import penn-action ../shared/testdata/penn_action/train --store /tmp/penn
    .venv/bin/python benchmarks/muscles.py --store /tmp/penn --runs /tmp/muscle-runs
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from posegraph.data import SkeletonStore
from posegraph.features.muscles import load_muscle_table
from posegraph.gcn.config import load_config
from posegraph.gcn.ensemble import combine, items_outputs, load_members, outputs_metrics, search_weights
from posegraph.gcn.evaluation import muscle_metrics
from posegraph.gcn.inference import evaluate_run
from posegraph.gcn.corpus import select_corpus
from posegraph.gcn.training import train

TABLE = Path(__file__).resolve().parents[1] / "configs" / "muscle_groups_more.yaml"
EXERCISES = ("bench_press", "clean_and_jerk", "jumping_jacks", "pullup", "pushup", "situp", "squat")
HELD_OUT = [(name,) for name in EXERCISES] + [("pushup", "squat")]


def quiet(_: str) -> None:
    pass


def trained(run: Path, store: Path, settings: list[str]) -> Path:
    """Train unless the run already finished (its best.pt and config exist); returns best.pt."""
    if not (run / "best.pt").exists():
        started = time.perf_counter()
        train(load_config(None, settings, model="bilstm"), store, run, progress=False, log=quiet)
        print(f"  trained {run.name} in {time.perf_counter() - started:.0f} s")
    return run / "best.pt"


# Two members on the same split (seed 0): the defaults, and 32-frame windows with plain cross-entropy.
MEMBERS = {"BiLSTM defaults": [], "BiLSTM 32-frame windows, cross-entropy": ["window_frames=32", "loss=cross_entropy",
                                                                             "class_weights=none"]}


def joint_and_ensemble(store_path: Path, runs: Path) -> dict:
    settings = ["muscles=joint", f"muscle_table={TABLE}", f"labels={list(EXERCISES)}", "split=stratified", "seed=0"]
    checkpoints = [trained(runs / f"joint-{index}", store_path, settings + extra)
                   for index, extra in enumerate(MEMBERS.values())]
    store = SkeletonStore(store_path, create=False)
    members = load_members(checkpoints)
    heads = members.bundles[0].heads
    corpus = select_corpus(store, load_config(None, settings, model="bilstm"))  # the members' common split
    val_outputs, val_labels, val_targets = items_outputs(members, store, corpus.splits["val"])
    test_outputs, test_labels, test_targets = items_outputs(members, store, corpus.splits["test"])
    results = {name: outputs_metrics(exercise, muscles, test_labels, test_targets, heads.class_names, heads.groups)
               for name, (exercise, muscles) in zip(MEMBERS, test_outputs)}
    weights, _ = search_weights([p[0] for p in val_outputs], [p[1] for p in val_outputs], val_labels, val_targets)
    for chosen in (weights, (0.5, 0.5)):
        results[f"ensemble {chosen[0]:.2f}/{chosen[1]:.2f}" + (" (searched on val)" if chosen is weights else "")] = \
            outputs_metrics(combine([p[0] for p in test_outputs], chosen), combine([p[1] for p in test_outputs], chosen),
                            test_labels, test_targets, heads.class_names, heads.groups)
    print(f"  {len(val_labels)} validation clips chose the weights; {len(test_labels)} test clips scored them")
    return results


def leave_out(store_path: Path, runs: Path) -> dict:
    table = load_muscle_table(TABLE)
    store = SkeletonStore(store_path, create=False)
    results = {}
    for held_out in HELD_OUT:
        kept = [name for name in EXERCISES if name not in held_out]
        run = runs / f"without-{'-'.join(held_out)}"
        trained(run, store_path, ["muscles=only", f"muscle_table={TABLE}", f"labels={kept}"])
        metrics, _ = evaluate_run(run, store_path, "val")
        unseen = metrics["muscles_unseen_exercises"]
        seen_groups = {group for name in kept for group in table.groups_of(name)}
        # the training prior: a group is answered "worked" when most training clips work it
        train_rows = [row for row in store.videos().to_pylist() if row["status"] == "ok" and row["label"] in kept
                      and row["split"] == "train"]
        train_targets = table.membership([row["label"] for row in train_rows])
        prior = (train_targets.mean(axis=0) > 0.5).astype(float)
        unseen_names = [name for name in unseen["exercises"] if name in held_out]
        rows = [row for row in store.videos().to_pylist() if row["status"] == "ok" and row["label"] in unseen_names]
        targets = table.membership([row["label"] for row in rows])
        prior_logits = np.where(prior > 0, 5.0, -5.0)[None].repeat(len(rows), axis=0)
        baseline = muscle_metrics(prior_logits, targets, table.groups)
        groups = sorted({group for name in held_out for group in table.groups_of(name)})
        results["+".join(held_out)] = {
            "clips": unseen["samples"], "groups": groups,
            "groups_seen_in_training": [group for group in groups if group in seen_groups],
            "label_wise_accuracy": unseen["label_wise_accuracy"], "exact_match": unseen["exact_match"],
            "roc_auc_macro": unseen["roc_auc_macro"], "macro_f1": unseen["macro_f1"],
            "recall_of_its_groups": {group: unseen["per_group"][group]["recall"] for group in groups},
            "prior_label_wise_accuracy": baseline["label_wise_accuracy"],
            "seen_exercises_label_wise_accuracy": metrics["muscles"]["label_wise_accuracy"],
        }
    return results


def print_joint(results: dict) -> None:
    print("\n| model | exercise top-1 | macro F1 | muscle label-wise acc. | exact match | ROC-AUC | P | R | F1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, metrics in results.items():
        muscles = metrics["muscles"]
        print(f"| {name} | {metrics['top1_accuracy']:.3f} | {metrics['macro_f1']:.3f} | "
              f"{muscles['label_wise_accuracy']:.3f} | {muscles['exact_match']:.3f} | {muscles['roc_auc_macro']:.3f} | "
              f"{muscles['macro_precision']:.3f} | {muscles['macro_recall']:.3f} | {muscles['macro_f1']:.3f} |")


def print_leave_out(results: dict) -> None:
    print("\n| left out | clips | its groups (seen in training) | label-wise acc. | prior | exact match | "
          "recall of its groups |")
    print("|---|---|---|---|---|---|---|")
    for name, row in results.items():
        seen = ", ".join(f"{g}{'' if g in row['groups_seen_in_training'] else ' (unseen)'}" for g in row["groups"])
        recalls = ", ".join(f"{g} {'-' if r is None else format(r, '.2f')}" for g, r in row["recall_of_its_groups"].items())
        print(f"| {name} | {row['clips']} | {seen} | {row['label_wise_accuracy']:.3f} | "
              f"{row['prior_label_wise_accuracy']:.3f} | {row['exact_match']:.3f} | {recalls} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, type=Path, help="Penn Action store (posegraph import penn-action)")
    parser.add_argument("--runs", required=True, type=Path, help="folder for the runs (reused when they exist)")
    parser.add_argument("--only", choices=("joint", "leave-out"), help="one of the measurements")
    arguments = parser.parse_args()
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    report = {}
    if arguments.only in (None, "joint"):
        report["joint"] = joint_and_ensemble(arguments.store, arguments.runs)
        print_joint(report["joint"])
    if arguments.only in (None, "leave-out"):
        report["leave_out"] = leave_out(arguments.store, arguments.runs)
        print_leave_out(report["leave_out"])
    (arguments.runs / "muscles-report.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
