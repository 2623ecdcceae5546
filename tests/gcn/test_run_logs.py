"""Every training run writes TensorBoard event files (epochs, learning rate, then the hyperparameters
with the final metrics and the confusion matrix); MLflow is skipped cleanly when it is not there."""

import json

import pytest

from posegraph.gcn.config import load_config
from posegraph.gcn.inference import evaluate_run
from posegraph.gcn.training import train

pytest.importorskip("tensorboard", reason="tensorboard is not installed")


def events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
    accumulator.Reload()
    return accumulator


def test_a_training_run_writes_tensorboard_events_and_its_evaluation_adds_hparams_and_the_confusion_matrix(
        synthetic_store, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"file:{tmp_path / 'mlruns'}")
    lines = []
    run = tmp_path / "run"
    train(load_config(None, ["epochs=2", "window_frames=20"], model="bilstm"), synthetic_store.root, run,
          progress=False, log=lines.append)
    import importlib.util

    if importlib.util.find_spec("mlflow") is None:  # with mlflow, the run went to tmp_path/mlruns
        assert any("mlflow is not installed" in line for line in lines)
    scalars = events(run / "tensorboard")
    tags = set(scalars.Tags()["scalars"])
    assert {"train/loss", "train/accuracy", "val/loss", "val/accuracy", "learning_rate"} <= tags
    assert [event.step for event in scalars.Scalars("val/accuracy")] == [1, 2]
    history = json.loads((run / "history.json").read_text())
    assert scalars.Scalars("val/loss")[-1].value == pytest.approx(history[-1]["val_loss"], rel=1e-5)
    assert "lr" not in tags
    evaluate_run(run, synthetic_store.root, split="test")
    folders = [path for path in (run / "tensorboard").rglob("*") if path.is_dir()] + [run / "tensorboard"]
    found = [events(folder) for folder in folders]
    assert any("confusion_matrix/test" in item.Tags()["images"] for item in found)
    assert any("test/top1_accuracy" in item.Tags()["scalars"] for item in found)  # the HParams run's metric
