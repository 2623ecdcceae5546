"""Flows: train a classifier of any family, evaluate it, publish the metrics as Prefect artifacts."""

from __future__ import annotations

import json
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from posegraph.gcn.config import TrainConfig
from posegraph.gcn.ensemble import evaluate_ensemble, evaluate_saved, is_ensemble_file, save_ensemble
from posegraph.gcn.evaluation import MUSCLE_HEADLINE, SUMMARY_METRICS
from posegraph.gcn.inference import evaluate_run
from posegraph.gcn.training import train


@task(name="train-model", cache_policy=NO_CACHE)
def train_task(config: TrainConfig, store: str, run_dir: str, resume: bool, progress: bool) -> dict:
    """Train (or resume); returns where the run is and how it ended."""
    result = train(config, store, run_dir, resume=resume, progress=progress)
    return {"run_dir": str(result.run_dir), "best_epoch": result.best_epoch,
            "best_val_accuracy": result.best_val_accuracy, "epochs_run": result.epochs_run,
            "stopped_early": result.stopped_early}


@task(name="evaluate-model", cache_policy=NO_CACHE)
def evaluate_task(run_dir: str, store: str, split: str) -> dict:
    """Metrics of the best checkpoint (or of a saved ensemble) on ``split``, written beside it and published."""
    if is_ensemble_file(run_dir):
        report = evaluate_saved(run_dir, store, split)
        paths = {"metrics": write_ensemble_report(report, run_dir, split)}
        publish_ensemble(report, split)
        return {"metrics": report["ensemble"], "report": report, "paths": {key: str(value) for key, value in paths.items()}}
    metrics, paths = evaluate_run(run_dir, store, split)
    publish_metrics(metrics, paths, split)
    return {"metrics": metrics, "paths": {key: str(value) for key, value in paths.items()}}


@task(name="ensemble-models", cache_policy=NO_CACHE)
def ensemble_task(checkpoints: list[str], store: str, split: str, weights: list[float] | None,
                  search_split: str, out: str | None) -> dict:
    """Weights given or searched on ``search_split``; the ensemble's metrics on ``split`` beside its members'."""
    ensemble, report = evaluate_ensemble(checkpoints, store, split, weights, search_split)
    paths = {}
    if out:
        paths["ensemble"] = save_ensemble(ensemble, out)
        paths["metrics"] = write_ensemble_report(report, out, split)
    publish_ensemble(report, split)
    return {"report": report, "paths": {key: str(value) for key, value in paths.items()}}


def write_ensemble_report(report: dict, ensemble_file: str | Path, split: str) -> Path:
    """``NAME-metrics-SPLIT.json`` beside the ensemble's YAML file."""
    path = Path(ensemble_file)
    target = path.with_name(f"{path.stem}-metrics-{split}.json")
    target.write_text(json.dumps(report, indent=1))
    return target


def publish_ensemble(report: dict, split: str) -> None:
    rows = [dict(member=name, **row) for name, row in report_rows(report)]
    create_table_artifact(key=f"ensemble-{split}", table=rows,
                          description=f"Ensemble beside its members on the {split} split; weights {report['chosen_by']}")


def report_rows(report: dict) -> list[tuple[str, dict]]:
    """(name, headline figures) of each member, then of the ensemble (named by its weights)."""
    rows = [(name, headline_row(metrics)) for name, metrics in report["members"].items()]
    rows.append(("ensemble " + "/".join(f"{weight:.2f}" for weight in report["weights"]), headline_row(report["ensemble"])))
    return rows


def headline_row(metrics: dict) -> dict:
    """The headline figures of one model (exercise and muscle metrics, where it has them), rounded."""
    row = {key: round(metrics[key], 4) for key in ("top1_accuracy", "balanced_accuracy", "macro_f1") if key in metrics}
    muscles = metrics.get("muscles")
    if muscles:
        row.update({f"muscle_{key}": round(muscles[key], 4) for key in ("label_wise_accuracy", "roc_auc_macro", "macro_f1")})
    return row


def publish_metrics(metrics: dict, paths: dict, split: str) -> None:
    if "top1_accuracy" in metrics:
        publish_exercise_metrics(metrics, paths, split)
    for key in ("muscles", "muscles_unseen_exercises"):
        if key in metrics:
            publish_muscle_metrics(metrics[key], split, unseen=key != "muscles")


def publish_exercise_metrics(metrics: dict, paths: dict, split: str) -> None:
    create_table_artifact(key=f"metrics-{split}", table=[{"metric": key, "value": round(metrics[key], 4)}
                                                         for key in SUMMARY_METRICS],
                          description=f"Evaluation on the {split} split ({metrics['samples']} videos)")
    per_class = "\n".join(f"| {name} | {score:.3f} |" for name, score in metrics["per_class_f1"].items())
    bands = "\n".join(f"| {band} | {values['count']} | "
                      f"{'-' if values['accuracy'] is None else format(values['accuracy'], '.3f')} |"
                      for band, values in metrics.get("confidence_bands", {}).items())
    create_markdown_artifact(key=f"per-class-{split}", markdown=(
        f"## Per-class F1 ({split})\n\n| class | F1 |\n|---|---|\n{per_class}\n\n"
        f"## Accuracy per confidence band\n\n| confidence | videos | accuracy |\n|---|---|---|\n{bands}\n\n"
        f"Confusion matrix: `{paths['confusion_matrix']}`"))


def publish_muscle_metrics(muscles: dict, split: str, unseen: bool = False) -> None:
    """The muscle-group metrics: headline table and one row per group."""
    key = f"muscles-{'unseen-' if unseen else ''}{split}"
    about = f"exercises never trained on ({', '.join(muscles.get('exercises', []))})" if unseen else "its videos"
    create_table_artifact(key=key, table=[{"metric": name, "value": round(muscles[name], 4)} for name in MUSCLE_HEADLINE],
                          description=f"Muscle groups on the {split} split, {about} ({muscles['samples']} videos)")

    def shown(value):
        return "-" if value is None else f"{value:.3f}"

    rows = "\n".join(f"| {group} | {values['videos_working_it']} | {shown(values['accuracy'])} | "
                     f"{shown(values['precision'])} | {shown(values['recall'])} | {shown(values['f1'])} | "
                     f"{shown(values['roc_auc'])} |" for group, values in muscles["per_group"].items())
    create_markdown_artifact(key=f"{key}-per-group", markdown=(
        f"## Muscle groups ({split}, {about})\n\n| group | videos working it | accuracy | precision | recall | F1 | "
        f"ROC-AUC |\n|---|---|---|---|---|---|---|\n{rows}"))


@flow(name="train-and-evaluate", log_prints=True)
def train_and_evaluate(config: TrainConfig, store: str, run_dir: str, resume: bool = False,
                       progress: bool = True, split: str = "test") -> dict:
    """Train, then evaluate the best checkpoint on held-out data."""
    trained = train_task(config, store, run_dir, resume, progress)
    evaluated = evaluate_task(trained["run_dir"], store, split)
    return {**trained, **evaluated}


@flow(name="train", log_prints=True)
def train_flow(store: str, run_dir: str, model: str = "stgcn", config_file: str | None = None,
               settings: list[str] | None = None, split: str = "test") -> dict:
    """Train and evaluate from plain parameters (a deployment's: ``settings`` are ``--set`` pairs)."""
    from posegraph.gcn.config import load_config

    config = load_config(config_file, list(settings or []), model=model)
    return train_and_evaluate(config, store, run_dir, progress=False, split=split)


@flow(name="evaluate", log_prints=True)
def evaluate_flow(run_dir: str, store: str, split: str = "test") -> dict:
    return evaluate_task(run_dir, store, split)


@flow(name="ensemble", log_prints=True)
def ensemble_flow(checkpoints: list[str], store: str, split: str = "test", weights: list[float] | None = None,
                  search_split: str = "val", out: str | None = None) -> dict:
    return ensemble_task(checkpoints, store, split, weights, search_split, out)


def default_run_dir(config: TrainConfig) -> str:
    from datetime import datetime

    return str(Path("runs") / f"{config.model}-{datetime.now().strftime('%Y%m%d-%H%M%S')}")


def print_report(report: dict, paths: dict | None = None) -> None:
    """One line per member and one for the ensemble: exercise and muscle-group headline figures."""
    print(report["evaluated_on"])
    rows = report_rows(report)
    columns = [key for key in rows[-1][1]]
    width = max(len(name) for name, _ in rows)
    print(f"{'model':<{width}}  " + "  ".join(f"{key:>{len(key)}}" for key in columns))
    for name, row in rows:
        print(f"{name:<{width}}  " + "  ".join(
            f"{row[key]:>{len(key)}.3f}" if key in row else f"{'-':>{len(key)}}" for key in columns))
    print(f"weights: {report['chosen_by']}")
    for name, path in (paths or {}).items():
        print(f"{name}: {path}")
