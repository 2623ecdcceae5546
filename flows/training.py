"""Flows: train a classifier of any family, evaluate it, publish the metrics as Prefect artifacts."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from posegraph.gcn.config import TrainConfig
from posegraph.gcn.evaluation import SUMMARY_METRICS
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
    """Metrics of the best checkpoint on ``split``, written into the run directory and published."""
    metrics, paths = evaluate_run(run_dir, store, split)
    publish_metrics(metrics, paths, split)
    return {"metrics": metrics, "paths": {key: str(value) for key, value in paths.items()}}


def publish_metrics(metrics: dict, paths: dict, split: str) -> None:
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


@flow(name="train-and-evaluate", log_prints=True)
def train_and_evaluate(config: TrainConfig, store: str, run_dir: str, resume: bool = False,
                       progress: bool = True, split: str = "test") -> dict:
    """Train, then evaluate the best checkpoint on held-out data."""
    trained = train_task(config, store, run_dir, resume, progress)
    evaluated = evaluate_task(trained["run_dir"], store, split)
    return {**trained, **evaluated}


@flow(name="evaluate", log_prints=True)
def evaluate_flow(run_dir: str, store: str, split: str = "test") -> dict:
    return evaluate_task(run_dir, store, split)


def default_run_dir(config: TrainConfig) -> str:
    from datetime import datetime

    return str(Path("runs") / f"{config.model}-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
