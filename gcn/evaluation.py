"""Evaluation of a trained classifier: metrics as JSON, confusion matrix and curves as PNG."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn import metrics as skm


HEADLINE_METRICS = ("top1_accuracy", "top5_accuracy", "balanced_accuracy", "cohen_kappa", "macro_f1",
                    "roc_auc_macro_ovr")
SUMMARY_METRICS = HEADLINE_METRICS[:4] + ("macro_precision", "macro_recall") + HEADLINE_METRICS[4:]


def format_headline(metrics: dict) -> str:
    """One line of the headline metrics, for terminals."""
    return "  ".join(f"{key} {metrics[key]:.3f}" for key in HEADLINE_METRICS)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def confidence_band_accuracy(probabilities: np.ndarray, labels: np.ndarray) -> dict[str, dict]:
    """Accuracy and count per confidence band: ``above_0.8`` (> 0.8), ``0.6_to_0.8`` (0.6 to 0.8
    inclusive), ``below_0.6`` (< 0.6); accuracy ``None`` for an empty band. Shapes: ``(N, C)``, ``(N,)``."""
    probabilities = np.asarray(probabilities)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    inside = {"above_0.8": confidence > 0.8, "0.6_to_0.8": (confidence >= 0.6) & (confidence <= 0.8),
              "below_0.6": confidence < 0.6}
    return {name: {"accuracy": float(correct[mask].mean()) if mask.any() else None, "count": int(mask.sum())}
            for name, mask in inside.items()}


def classification_metrics(logits: np.ndarray, labels: np.ndarray, class_names: list[str]) -> dict:
    """Top-1/top-5, balanced accuracy, Cohen's kappa, macro P/R/F1, per-class F1, ROC-AUC, confusion
    matrix, and accuracy per confidence band (how far a confident answer can be trusted)."""
    probabilities = softmax(logits)
    predicted = probabilities.argmax(axis=1)
    classes = list(range(len(class_names)))
    top5 = np.argsort(-probabilities, axis=1)[:, :5]
    precision, recall, f1, _ = skm.precision_recall_fscore_support(labels, predicted, labels=classes,
                                                                   average="macro", zero_division=0)
    per_class = skm.f1_score(labels, predicted, labels=classes, average=None, zero_division=0)
    present = sorted(set(labels.tolist()))
    try:
        if len(present) < 2:
            raise ValueError("one class")
        auc = float(skm.roc_auc_score(labels, probabilities[:, present] / probabilities[:, present].sum(1, keepdims=True),
                                      multi_class="ovr", average="macro", labels=present)) \
            if len(present) > 2 else float(skm.roc_auc_score(labels == present[1], probabilities[:, present[1]]))
    except ValueError:
        auc = float("nan")
    return {
        "samples": int(len(labels)),
        "top1_accuracy": float((predicted == labels).mean()),
        "top5_accuracy": float(np.mean([label in row for label, row in zip(labels, top5)])),
        "balanced_accuracy": float(skm.balanced_accuracy_score(labels, predicted)),
        "cohen_kappa": float(skm.cohen_kappa_score(labels, predicted, labels=classes)),
        "macro_precision": float(precision), "macro_recall": float(recall), "macro_f1": float(f1),
        "per_class_f1": {name: float(score) for name, score in zip(class_names, per_class)},
        "roc_auc_macro_ovr": auc,
        "confusion_matrix": skm.confusion_matrix(labels, predicted, labels=classes).tolist(),
        "class_names": list(class_names),
        "confidence_bands": confidence_band_accuracy(probabilities, labels),
    }


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -60, 60)))


MUSCLE_THRESHOLD = 0.5  # a group is predicted "worked" at this sigmoid probability or above
MUSCLE_HEADLINE = ("label_wise_accuracy", "exact_match", "roc_auc_macro", "macro_precision", "macro_recall", "macro_f1")


def muscle_metrics(logits: np.ndarray, targets: np.ndarray, groups: list[str] | tuple[str, ...],
                   threshold: float = MUSCLE_THRESHOLD) -> dict:
    """Multi-label metrics of muscle-group predictions, as the source study reports them.

    ``label_wise_accuracy``: the share of (video, group) decisions that are right; ``exact_match``:
    the share of videos with every group right; per group accuracy, precision, recall, F1 and
    ROC-AUC (``None`` where the videos hold only one answer for it); the macro values average the
    groups that some evaluated video works (a group no video works has no recall to measure).

    Shapes: logits ``(N, G)`` (before the sigmoid), targets ``(N, G)`` 0/1.
    """
    probabilities = sigmoid(np.asarray(logits, dtype=np.float64))
    targets = np.asarray(targets).astype(bool)
    predicted = probabilities >= threshold
    per_group = {}
    for column, group in enumerate(groups):
        truth, guess = targets[:, column], predicted[:, column]
        true_positives = int((truth & guess).sum())
        precision = true_positives / guess.sum() if guess.sum() else 0.0
        recall = true_positives / truth.sum() if truth.sum() else None
        f1 = None if recall is None else (2 * precision * recall / (precision + recall) if precision + recall else 0.0)
        auc = float(skm.roc_auc_score(truth, probabilities[:, column])) if 0 < truth.sum() < len(truth) else None
        per_group[group] = {"accuracy": float((truth == guess).mean()), "precision": float(precision),
                            "recall": recall, "f1": f1, "roc_auc": auc, "videos_working_it": int(truth.sum())}
    worked = [values for values in per_group.values() if values["recall"] is not None]
    aucs = [values["roc_auc"] for values in per_group.values() if values["roc_auc"] is not None]

    def macro(key: str) -> float:
        return float(np.mean([values[key] for values in worked])) if worked else float("nan")

    return {
        "samples": int(len(targets)), "groups": list(groups), "threshold": threshold,
        "label_wise_accuracy": float((predicted == targets).mean()),
        "exact_match": float((predicted == targets).all(axis=1).mean()),
        "roc_auc_macro": float(np.mean(aucs)) if aucs else float("nan"),
        "macro_precision": macro("precision"), "macro_recall": macro("recall"), "macro_f1": macro("f1"),
        "groups_averaged": [group for group, values in per_group.items() if values["recall"] is not None],
        "per_group": per_group,
    }


def format_muscle_headline(metrics: dict) -> str:
    return "  ".join(f"{key} {metrics[key]:.3f}" for key in MUSCLE_HEADLINE)


def plot_confusion_matrix(matrix: list[list[int]], class_names: list[str], path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = np.array(matrix)
    size = max(4.0, 0.6 * len(class_names) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(values, cmap="Blues")
    axes.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    axes.set_yticks(range(len(class_names)), class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    for (row, column), count in np.ndenumerate(values):
        axes.text(column, row, str(count), ha="center", va="center",
                  color="white" if count > values.max() / 2 else "black")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_training_curves(history: list[dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [record["epoch"] for record in history]
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for key in ("train_loss", "val_loss"):
        loss_axes.plot(epochs, [record.get(key) for record in history], marker="o", label=key)
    for key in ("train_accuracy", "val_accuracy"):
        accuracy_axes.plot(epochs, [record.get(key) for record in history], marker="o", label=key)
    loss_axes.set_xlabel("epoch")
    accuracy_axes.set_xlabel("epoch")
    loss_axes.legend()
    accuracy_axes.legend()
    accuracy_axes.set_ylim(0, 1)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def count_metrics(counts: list[tuple[str, int, int]], exercises: dict[str, str | None]) -> dict:
    """Repetition-count measures of ``(video_id, counted, true)`` triples, overall and per exercise.

    ``mae``: RepCount's measure, mean |counted - true| / true over videos with true > 0;
    ``obo``: share of videos within one repetition; ``mae_repetitions``: mean |counted - true|.
    ``exercises`` maps a video id to its label (the per-exercise table; ``None`` is "unlabelled").
    """
    def measures(rows: list[tuple[str, int, int]]) -> dict:
        errors = np.asarray([abs(counted - true) for _, counted, true in rows], dtype=np.float64)
        relative = [abs(counted - true) / true for _, counted, true in rows if true > 0]
        return {"videos": len(rows), "mae": float(np.mean(relative)) if relative else None,
                "obo": float(np.mean(errors <= 1)) if len(rows) else None,
                "mae_repetitions": float(errors.mean()) if len(rows) else None}

    by_exercise: dict[str, list] = {}
    for row in counts:
        by_exercise.setdefault(exercises.get(row[0]) or "unlabelled", []).append(row)
    return {**measures(counts), "per_exercise": {name: measures(rows) for name, rows in sorted(by_exercise.items())},
            "per_video": [{"video_id": video, "counted": counted, "true": true} for video, counted, true in counts]}


def write_report(metrics: dict, history: list[dict], run_dir: Path, split: str) -> dict[str, Path]:
    """``metrics-<split>.json``, ``confusion-<split>.png`` and ``curves.png`` in the run directory
    (muscle-group metrics, when the model has them, are in the JSON under ``muscles``)."""
    paths = {"metrics": run_dir / f"metrics-{split}.json"}
    paths["metrics"].write_text(json.dumps(metrics, indent=1))
    if "confusion_matrix" in metrics:  # a muscles-only model has no exercise classes
        paths["confusion_matrix"] = plot_confusion_matrix(
            metrics["confusion_matrix"], metrics["class_names"], run_dir / f"confusion-{split}.png",
            f"{split}: top-1 {metrics['top1_accuracy']:.2f}")
    if history:
        paths["curves"] = plot_training_curves(history, run_dir / "curves.png")
    return paths
