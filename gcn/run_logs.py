"""Runs you can watch in the tools you already use (issue 26): TensorBoard event files in every run
folder, and MLflow when you point at a tracking server.

Every training run writes ``RUN/tensorboard/`` (one event file per process start, so a resumed
run continues its curves): per epoch every number of the epoch's record (train and validation
loss and accuracy, muscle-head metrics when the model has them) and the learning rate; after
evaluation the hyperparameters with the final metrics (TensorBoard's HParams tab) and the
confusion matrix as an image. ``tensorboard --logdir runs/`` shows every run side by side;
``history.json``, ``curves.png`` and the Prefect artifacts stay.

MLflow: set ``MLFLOW_TRACKING_URI`` (e.g. ``http://127.0.0.1:5000`` or ``file:./mlruns``) and have
``mlflow`` installed; each run is then an MLflow run named after its folder with the same
numbers, the config as parameters and the run's reports as artifacts. Without either, nothing
is tried and nothing fails.
"""

from __future__ import annotations

import os
from numbers import Number
from pathlib import Path

TENSORBOARD_FOLDER = "tensorboard"


class RunLogs:
    """The run's TensorBoard writer and, when configured, its MLflow run (both optional)."""

    def __init__(self, run_dir: str | Path, log=print) -> None:
        self.run_dir = Path(run_dir)
        self.writer = None
        self.mlflow = None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard missing: the run goes on without event files
            log("tensorboard is not installed: no event files for this run (pip install tensorboard)")
        else:
            self.writer = SummaryWriter(str(self.run_dir / TENSORBOARD_FOLDER))
        if os.environ.get("MLFLOW_TRACKING_URI"):
            try:
                import mlflow
            except ImportError:
                log("MLFLOW_TRACKING_URI is set but mlflow is not installed: not logging to MLflow")
            else:
                self.mlflow = mlflow
                mlflow.start_run(run_name=self.run_dir.name)

    def epoch(self, epoch: int, record: dict, learning_rate: float) -> None:
        """One epoch's numbers (``record`` from the training loop) at step ``epoch + 1``."""
        scalars = {key.replace("_", "/", 1) if key.startswith(("train_", "val_")) else key: float(value)
                   for key, value in record.items() if isinstance(value, Number) and key not in ("epoch", "lr")}
        scalars["learning_rate"] = float(learning_rate)
        for name, value in scalars.items():
            if self.writer is not None:
                self.writer.add_scalar(name, value, epoch + 1)
        if self.mlflow is not None:
            self.mlflow.log_metrics({name.replace("/", "_"): value for name, value in scalars.items()}, step=epoch + 1)
        if self.writer is not None:
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.mlflow is not None:
            self.mlflow.end_run()


def log_evaluation(run_dir: str | Path, config: dict, metrics: dict, split: str, paths: dict) -> None:
    """The hyperparameters with the final ``split`` metrics, and the confusion matrix image, into
    the run's TensorBoard folder (and MLflow when configured)."""
    final = {f"{split}/{key}": float(value) for key, value in metrics.items()
             if isinstance(value, Number) and not isinstance(value, bool)}
    for group, values in metrics.items():  # muscle-head and counting metrics, one level down
        if isinstance(values, dict):
            final.update({f"{split}/{group}/{key}": float(value) for key, value in values.items()
                          if isinstance(value, Number) and not isinstance(value, bool)})
    hparams = {key: value if isinstance(value, (int, float, str, bool)) else str(value)
               for key, value in config.items() if value is not None}
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        SummaryWriter = None
    if SummaryWriter is not None:
        writer = SummaryWriter(str(Path(run_dir) / TENSORBOARD_FOLDER))
        writer.add_hparams(hparams, final, run_name=f"hparams-{split}")
        if paths.get("confusion_matrix"):
            import numpy as np
            from PIL import Image

            image = np.asarray(Image.open(paths["confusion_matrix"]).convert("RGB"))
            writer.add_image(f"confusion_matrix/{split}", image, dataformats="HWC")
        writer.close()
    if os.environ.get("MLFLOW_TRACKING_URI"):
        try:
            import mlflow
        except ImportError:
            return
        with mlflow.start_run(run_name=f"{Path(run_dir).name}-{split}"):
            mlflow.log_params({key: str(value)[:250] for key, value in hparams.items()})
            mlflow.log_metrics({key.replace("/", "_"): value for key, value in final.items()})
            for path in paths.values():
                mlflow.log_artifact(str(path))
