"""The graph models' input streams on Penn Action (issue 26): each of joint, bone, joint motion and
bone motion alone, and their ensemble, against the joint stream alone.

Run:  .venv/bin/python benchmarks/streams.py [--model stgcn] [--work /tmp/posegraph-streams]

``posegraph import penn-action ../shared/testdata/penn_action/train`` into ``WORK/penn`` (once), then
per stream ``gcn.training.train`` with the defaults and ``stream=S`` (what ``posegraph train --model
MODEL --store WORK/penn --set stream=S`` runs; a finished run is reused), then
``gcn.ensemble.evaluate_ensemble`` of the four runs. Every figure is on the store's validation
split; the ensemble's weights are searched on that split too, so its figure is in-sample for the
weights (the equal-weight ensemble, printed beside it, fits nothing), and a 5-fold cross-validation
of the search (weights searched on four fifths of the validation videos, the fifth counted with
them; folds stratified by action) gives the figure to quote for searched weights. About 12 minutes
per ST-GCN run on a 2-core CPU (30 epochs); a GPU is the place for it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
PENN = REPOSITORY.parent / "shared" / "testdata" / "penn_action" / "train"
STREAMS = ("joint", "bone", "joint_motion", "bone_motion")


def main() -> None:
    from posegraph.gcn.config import load_config
    from posegraph.gcn.ensemble import evaluate_ensemble
    from posegraph.gcn.inference import evaluate_run
    from posegraph.gcn.training import train

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="stgcn", choices=("stgcn", "msg3d"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/posegraph-streams"))
    arguments = parser.parse_args()
    store = arguments.work / "penn"
    if not (store / "videos").exists():
        subprocess.run([str(Path(sys.executable).with_name("posegraph")), "import", "penn-action", str(PENN),
                        "--store", str(store), "--quiet"], check=True)
    runs = []
    for stream in STREAMS:
        run = arguments.work / f"{arguments.model}-{stream}"
        if not (run / "best.pt").exists():
            train(load_config(None, [f"stream={stream}"], model=arguments.model), store, run, progress=False)
        metrics, _ = evaluate_run(run, store, split="val")
        print(f"{arguments.model} {stream:<12} validation top-1 {metrics['top1_accuracy']:.3f}", flush=True)
        runs.append(run)
    for weights, how in ((None, "weights searched on the validation split"), ([0.25] * 4, "equal weights")):
        ensemble, report = evaluate_ensemble(runs, store, split="val", weights=weights, log=lambda _: None)
        print(f"{arguments.model} four-stream ensemble ({how}: {', '.join(f'{w:.2f}' for w in ensemble.weights)}): "
              f"validation top-1 {report['ensemble']['top1_accuracy']:.3f}")
    right, total, chosen = searched_weights_cv(runs, store)
    print(f"{arguments.model} four-stream ensemble, weights searched by 5-fold CV on the validation split: "
          f"top-1 {right / total:.3f} ({right} of {total}); the folds chose {chosen}")


def searched_weights_cv(runs: list[Path], store: Path, folds: int = 5) -> tuple[int, int, list]:
    """Videos right when each fold's weights are searched on the other folds (stratified by label)."""
    import numpy as np

    from posegraph.data import SkeletonStore
    from posegraph.gcn.ensemble import combine, load_members, member_outputs, search_weights

    parts, labels, targets, _ = member_outputs(load_members(runs), SkeletonStore(store, create=False), "val")
    exercise = [part[0] for part in parts]
    fold_of = np.empty(len(labels), int)
    for label in np.unique(labels):  # stratified: each action's videos dealt round the folds
        where = np.flatnonzero(labels == label)
        fold_of[where] = np.arange(len(where)) % folds
    right, chosen = 0, []
    for fold in range(folds):
        train, held = fold_of != fold, fold_of == fold
        weights, _ = search_weights([part[train] for part in exercise], [None] * len(exercise), labels[train],
                                    None if targets is None else targets[train])
        predicted = combine([part[held] for part in exercise], weights).argmax(1)
        right += int((predicted == labels[held]).sum())
        chosen.append(tuple(round(weight, 2) for weight in weights))
    return right, len(labels), chosen


if __name__ == "__main__":
    main()
