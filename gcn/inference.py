"""Using a trained checkpoint of any model family: evaluate a split, classify one video."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from posegraph.data import SkeletonStore
from posegraph.skeleton.source import SkeletonSource

from .answers import Answer, answer_from_logits, rank  # noqa: F401  (Answer re-exported)
from .bundle import ModelBundle
from .checkpoint import checkpoint_file, load_checkpoint
from .corpus import select_corpus
from .dataset import VideoItem
from .device import pick_device
from .evaluation import (
    classification_metrics,
    count_metrics,
    muscle_metrics,
    softmax,
    write_report,
)
from .families import family_of, head_inputs
from .heads import Heads
from .input_guard import guard_constant_inputs
from .rejection import Rejection
from .run_logs import log_evaluation


def load_classifier(path: str | Path, device: str = "auto") -> tuple[torch.nn.Module, ModelBundle]:
    """The model of a checkpoint (a file, or a run folder meaning its ``best.pt``), in eval mode,
    and its :class:`~.bundle.ModelBundle`.

    Every family (graph, sequence, phase) is built by its own ``build``, as training built it.
    """
    bundle = load_checkpoint(checkpoint_file(path))
    model = family_of(bundle.config).build(bundle.config, bundle.layout, bundle.heads.width, bundle.in_channels,
                                           bundle.num_persons)
    model.load_state_dict(bundle.state_dict, strict=True)
    guard_constant_inputs(model)  # joints never seen in training read as not there, whatever the source
    model.to(pick_device(device)).eval()
    return model, bundle


def evaluation_items(store: SkeletonStore, class_names: list[str], split: str, layout: str | None = None,
                     by_label: bool = True) -> tuple[list[VideoItem], str]:
    """The ok videos of ``split`` (all of them when the store records no splits), their labels
    matched to ``class_names`` by name, and a line saying what was used and what was left out.

    Works on any store: a test-only store, or one with a subset of the checkpoint's classes;
    videos whose label the checkpoint does not know are left out and named in the line.
    """
    rows = [row for row in store.videos().to_pylist() if row["status"] == "ok"
            and (layout is None or row["layout"] == layout)]
    if not rows:
        raise ValueError(f"no videos with status ok in the store at {store.root}")
    recorded = any(row["split"] for row in rows)
    chosen = [row for row in rows if row["split"] == split] if recorded else rows
    if not chosen:
        splits = sorted({row["split"] for row in rows if row["split"]})
        raise ValueError(f"no ok videos in split {split!r} in the store at {store.root} (its splits: "
                         f"{', '.join(splits)}); choose one with --split")
    index = {name: position for position, name in enumerate(class_names)}
    unknown = sorted({row["label"] or "(no label)" for row in chosen if by_label and row["label"] not in index})
    items = [VideoItem(row["video_id"], row["layout"], index[row["label"]] if by_label else 0, row["width"],
                       row["height"]) for row in chosen if not by_label or row["label"] in index]
    if not items:
        raise ValueError(f"none of the {len(chosen)} videos has a label the checkpoint knows "
                         f"(theirs: {', '.join(unknown)}; the checkpoint's: {', '.join(class_names)})")
    where = f"split {split}" if recorded else "every ok video (the store records no splits)"
    note = f"evaluated on {len(items)} videos of {where}"
    if unknown:
        left_out = len(chosen) - len(items)
        note += f"; left out {left_out} whose labels the checkpoint does not know: {', '.join(unknown)}"
    return items, note


def _training_split(store: SkeletonStore, config, family, bundle: ModelBundle, split: str) -> tuple[list | None, str]:
    """The split as training made it, when this is a store the checkpoint was trained on (same
    classes): a store without recorded splits is split the same way again, never evaluated whole."""
    try:
        corpus = select_corpus(store, config)
    except ValueError:
        return None, ""
    if family.class_names(corpus, config) != list(bundle.class_names):
        return None, ""
    items = corpus.splits[split] or corpus.splits["val"]
    used = split if corpus.splits[split] else "val"
    return items, f"evaluated on {len(items)} videos of the {used} split, as training made it"


def evaluate_run(run_dir: str | Path, store_path: str | Path, split: str = "test", checkpoint: str = "best.pt") -> tuple[dict, dict]:
    """Metrics of ``run_dir/checkpoint`` on ``split`` of any store, written as JSON and PNG into the run directory.

    Classes are matched by name (:func:`evaluation_items`); ``metrics["evaluated_on"]`` says what was used.
    """
    run_dir = Path(run_dir)
    model, bundle = load_classifier(run_dir / checkpoint)
    config = bundle.config
    store = SkeletonStore(store_path, create=False)
    family = family_of(config)
    items, note = _training_split(store, config, family, bundle, split)
    if items is None:  # another store, or other classes: videos of the split, classes matched by name
        items, note = evaluation_items(store, bundle.class_names, split, by_label=family.name != "phase")
    heads = bundle.heads
    device = next(model.parameters()).device
    dataset = family.eval_set(store, items, bundle.layout, config, bundle.extra)
    logits, labels = family.video_logits(model, dataset, config, device, heads=heads)
    metrics = classification_metrics(heads.exercise(logits), labels, bundle.class_names) \
        if heads.exercise_count else {"samples": int(len(labels))}
    metrics["evaluated_on"] = note
    if bundle.rejection is not None:  # how "none of these" was calibrated, for the run's report
        rule = bundle.rejection.to_dict()
        metrics["rejection"] = {key: rule[key] for key in ("temperature", "threshold", "distance_threshold",
                                                            "coverage", "validation_videos", "nll_before",
                                                            "nll_after")}
    if family.name == "phase":  # what a person checks first: how many, not which frames
        labels_of = {row["video_id"]: row["label"] for row in store.videos().to_pylist()}
        metrics["counting"] = count_metrics(family.video_counts(logits, labels, dataset, config), labels_of)
    if heads.groups:
        metrics["muscles"] = muscle_metrics(heads.muscles(logits), heads.membership()[labels], heads.groups)
        unseen = unseen_exercise_metrics(model, bundle, heads, store, family, config, device)
        if unseen is not None:
            metrics["muscles_unseen_exercises"] = unseen
    history_file = run_dir / "history.json"
    history = json.loads(history_file.read_text()) if history_file.exists() else []
    paths = write_report(metrics, history, run_dir, split)
    log_evaluation(run_dir, bundle.config.to_dict(), metrics, split, paths)
    return metrics, paths


def unseen_exercise_metrics(model: torch.nn.Module, bundle: ModelBundle, heads: Heads, store: SkeletonStore,
                            family, config, device: torch.device) -> dict | None:
    """Muscle metrics on the store's videos of exercises the model never trained on but its muscle
    table lists: all of their videos, whatever their split (no video of them was seen in training);
    ``None`` when there are none. This is what predicting muscles rather than exercises is for."""
    layout = _stored_layout(store, bundle)
    rows = [row for row in store.videos().to_pylist() if row["status"] == "ok" and row["label"]
            and row["label"] not in heads.class_names and row["layout"] == layout]
    names = sorted({row["label"] for row in rows if heads.table.groups_of(row["label"]) is not None})
    if not names:
        return None
    index = {name: position for position, name in enumerate(names)}
    items = [VideoItem(row["video_id"], row["layout"], index[row["label"]], row["width"], row["height"])
             for row in rows if row["label"] in index]
    dataset = family.eval_set(store, items, bundle.layout, config, bundle.extra)
    logits, labels = family.video_logits(model, dataset, config, device, heads=heads)
    metrics = muscle_metrics(heads.muscles(logits), heads.membership(names)[labels], heads.groups)
    metrics["exercises"] = names
    return metrics


def _stored_layout(store: SkeletonStore, bundle: ModelBundle) -> str:
    layouts = store.layouts()
    return bundle.layout if bundle.layout in layouts or not layouts else layouts[0]


def calibrate_run(run_dir: str | Path, store_path: str | Path, checkpoint: str = "best.pt") -> Rejection:
    """Fit (again) the calibrated rejection of ``run_dir/checkpoint`` on its validation split and store it there."""
    from .calibration import calibrate_checkpoint, class_mean_videos

    path = Path(run_dir) / checkpoint
    model, bundle = load_classifier(path)
    config = bundle.config
    if not family_of(config).calibrates:
        raise ValueError(f"{path} predicts repetition phases; only exercise classifiers are calibrated")
    store = SkeletonStore(store_path, create=False)
    corpus = select_corpus(store, config)
    if corpus.class_names != list(bundle.class_names):
        raise ValueError(f"the store's classes {corpus.class_names} differ from the checkpoint's {bundle.class_names}")
    family = family_of(config)
    extra = bundle.extra
    val_set = family.eval_set(store, corpus.splits["val"], bundle.layout, config, extra)
    train_videos = family.eval_set(store, class_mean_videos(corpus.splits["train"]), bundle.layout, config, extra,
                                   split="train", cached_from=corpus.splits["train"])
    return calibrate_checkpoint(path, model, family, val_set, train_videos, config, next(model.parameters()).device)


def video_logits(model: torch.nn.Module, bundle: ModelBundle, sequence: SkeletonSource) -> np.ndarray:
    """``(outputs,)`` logits of one video's people, whatever the model family (see :mod:`.heads`)."""
    config = bundle.config
    return family_of(config).classify(model, config, bundle.layout, bundle.extra, sequence,
                                      heads=bundle.heads)


def class_probabilities(model: torch.nn.Module, bundle: ModelBundle, sequence: SkeletonSource) -> np.ndarray:
    """``(classes,)`` exercise probabilities of one video's people, whatever the model family."""
    heads = bundle.heads
    if not heads.exercise_count:
        raise ValueError("this checkpoint predicts muscle groups only (muscles=only), not exercises")
    return softmax(heads.exercise(video_logits(model, bundle, sequence))[None])[0]


def classify_sequence(model: torch.nn.Module, bundle: ModelBundle, sequence: SkeletonSource,
                      top_k: int = 5) -> list[tuple[str, float]]:
    """Top-k ``(class, probability)`` for one video's people."""
    return rank(bundle.class_names, class_probabilities(model, bundle, sequence), top_k)


def answer_sequence(model: torch.nn.Module, bundle: ModelBundle, sequence: SkeletonSource, top_k: int = 5,
                    reject: bool = True) -> Answer:
    """Classify one video; with ``reject`` and a calibrated checkpoint, "none of these" when far from every class."""
    with head_inputs(model) as captured:
        logits = video_logits(model, bundle, sequence)
    rejection = bundle.rejection if reject else None
    embedding = torch.cat(captured).mean(dim=0, keepdim=True).numpy()  # the mean over crops or windows
    return answer_from_logits(bundle.heads, logits, top_k, rejection, embedding)
