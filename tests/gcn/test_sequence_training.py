"""The BiLSTM through the one training loop: config vocabulary, learning, checkpoints, resume, classify."""

import json

import numpy as np
import pytest
import torch
from posegraph.data import SkeletonStore, VideoInfo
from posegraph.data.records import Skeletons
from posegraph.data.sources import stored_source
from posegraph.gcn.checkpoint import load_checkpoint
from posegraph.gcn.config import load_config
from posegraph.gcn.dataset import VideoItem
from posegraph.gcn.feature_windows import FeatureWindows
from posegraph.gcn.inference import classify_sequence, evaluate_run, load_classifier
from posegraph.gcn.training import train

QUICK = ["epochs=4", "patience=10"]


def test_defaults_come_from_the_family():
    bilstm = load_config(None, [], model="bilstm")
    assert (bilstm.optimizer, bilstm.learning_rate, bilstm.batch_size, bilstm.patience) == ("adam", 1e-3, 32, 15)
    assert (bilstm.loss, bilstm.class_weights, bilstm.lr_schedule) == ("focal", "balanced", "plateau")
    assert (bilstm.window_frames, bilstm.frame_step, bilstm.window_overlap) == (20, 2, 0.7)
    stgcn = load_config(None, [], model="stgcn")
    assert (stgcn.optimizer, stgcn.loss, stgcn.clip_frames, stgcn.warmup_epochs) == ("sgd", "cross_entropy", 48, 5)
    assert stgcn.learning_rate == pytest.approx(0.1 * stgcn.batch_size / 64)  # scaled to the batch
    assert load_config(None, ["batch_size=64"], model="msg3d").learning_rate == pytest.approx(0.1)
    assert load_config(None, ["batch_size=64", "learning_rate=0.3"]).learning_rate == 0.3
    assert (stgcn.label_smoothing, bilstm.label_smoothing) == (0.1, 0.0)
    assert stgcn.window_frames is None and bilstm.partition is None


def test_one_command_line_for_either_family_and_foreign_keys_refused():
    generic = ["epochs=7", "batch_size=8", "learning_rate=0.01", "patience=3", "augment=false", "seed=4"]
    for model in ("stgcn", "bilstm"):
        config = load_config(None, generic, model=model)
        assert (config.epochs, config.batch_size, config.learning_rate, config.patience, config.seed) == (7, 8, 0.01, 3, 4)
    with pytest.raises(ValueError, match="partition is for stgcn"):
        load_config(None, ["partition=spatial"], model="bilstm")
    with pytest.raises(ValueError, match="window_frames is for bilstm"):
        load_config(None, ["window_frames=30"], model="msg3d")
    assert "partition" not in load_config(None, [], model="bilstm").to_dict()  # config.yaml holds what applies


@pytest.fixture(scope="module")
def bilstm_run(synthetic_store, tmp_path_factory):
    run = tmp_path_factory.mktemp("bilstm") / "run"
    result = train(load_config(None, QUICK, model="bilstm"), synthetic_store.root, run, progress=False, log=lambda _: None)
    return run, result


def test_a_short_run_clearly_beats_chance_on_held_out_subjects(bilstm_run, synthetic_store):
    run, result = bilstm_run
    metrics, paths = evaluate_run(run, synthetic_store.root, "test")
    assert metrics["samples"] == 12  # the unseen test subject's videos, one prediction per video
    assert metrics["top1_accuracy"] >= 0.6 > 3 / 6
    bands = metrics["confidence_bands"]
    assert set(bands) == {"above_0.8", "0.6_to_0.8", "below_0.6"}
    assert sum(band["count"] for band in bands.values()) == 12
    assert json.loads(paths["metrics"].read_text())["confidence_bands"] == bands


def test_checkpoint_carries_the_scaler_fitted_on_training_windows_and_the_frame_rate(bilstm_run, synthetic_store):
    run, _ = bilstm_run
    bundle = load_checkpoint(run / "best.pt")
    assert bundle.model == "bilstm" and bundle.in_channels == 83 and bundle.family == "sequence"
    assert bundle.normalization["frames_per_second"] == 16.0
    rows = [r for r in synthetic_store.videos().to_pylist() if r["split"] == "train"]
    index = {name: i for i, name in enumerate(bundle.class_names)}
    items = [VideoItem(r["video_id"], r["layout"], index[r["label"]], r["width"], r["height"]) for r in rows]
    training = FeatureWindows(synthetic_store, items, "blazepose33", 16.0)
    np.testing.assert_allclose(bundle.extra["scaler"]["mean"], training.fit_scaler().mean, rtol=1e-5, atol=1e-6)
    assert "plateau" in load_checkpoint(run / "last.pt").training_state


def test_classify_a_stored_video_with_attention(bilstm_run, synthetic_store):
    from posegraph.gcn.families import frames_that_mattered

    run, _ = bilstm_run
    model, bundle = load_classifier(run / "best.pt")
    assert load_classifier(run)[1].checksum == bundle.checksum  # a run folder means its best.pt
    row = next(r for r in synthetic_store.videos().to_pylist() if r["split"] == "test")
    sequence = stored_source(synthetic_store, row["video_id"])
    ranking = classify_sequence(model, bundle, sequence, top_k=6)
    assert len(ranking) == 6 and sum(p for _, p in ranking) == pytest.approx(1.0, abs=1e-5)
    times, weights = frames_that_mattered(model, bundle, sequence)
    assert len(times) == len(weights) and weights.sum() == pytest.approx(1.0) and (weights >= 0).all()


def test_resume_continues_exactly(synthetic_store, tmp_path):
    overrides = ["epochs=3", "patience=10"]
    straight = tmp_path / "straight"
    train(load_config(None, overrides, model="bilstm"), synthetic_store.root, straight, progress=False,
          log=lambda _: None)

    class Interrupted(Exception):
        pass

    def stop_after_two(line: str) -> None:
        if line.startswith("epoch 2/"):
            raise Interrupted

    resumed = tmp_path / "resumed"
    with pytest.raises(Interrupted):
        train(load_config(None, overrides, model="bilstm"), synthetic_store.root, resumed, progress=False,
              log=stop_after_two)
    train(load_config(None, overrides, model="bilstm"), synthetic_store.root, resumed, resume=True, progress=False,
          log=lambda _: None)
    first, second = (json.loads((run / "history.json").read_text()) for run in (straight, resumed))
    assert [r["epoch"] for r in second] == [1, 2, 3]
    for a, b in zip(first, second):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
    same, other = (load_checkpoint(run / "last.pt").state_dict for run in (straight, resumed))
    for key in same:
        torch.testing.assert_close(same[key], other[key])


def test_imported_30_fps_data_reaches_the_model_at_its_frame_rate(tmp_path):
    """A 4-second clip stored at 30 fps yields 16-fps features (64 frames), as the checkpoint says."""
    store = SkeletonStore(tmp_path / "store")
    joints = np.random.default_rng(0).random((120, 33, 4)).astype(np.float32)
    store.write_video(VideoInfo(video_id="ab" * 32, layout="blazepose33", label="x", width=640, height=480,
                                sampled_fps=30.0),
                      Skeletons.single("blazepose33", joints, np.ones(120, bool), np.arange(120) / 30.0))
    windows = FeatureWindows(store, [VideoItem("ab" * 32, "blazepose33", 0, 640, 480)], "blazepose33", 16.0)
    assert len(windows.features(0)) == 64


def test_early_stopping_on_a_scripted_validation_curve():
    from posegraph.gcn.schedules import EarlyStopping

    curve = [0.30, 0.50, 0.50, 0.62, 0.61, 0.60, 0.62, 0.55]  # best 0.62 at epoch 4, then 3 without
    stopper = EarlyStopping(patience=3)
    improved = [stopper.step(accuracy, epoch) for epoch, accuracy in enumerate(curve[:7], start=1)]
    assert improved == [True, True, False, True, False, False, False]
    assert stopper.should_stop and (stopper.best_epoch, stopper.best_accuracy) == (4, 0.62)
    assert not EarlyStopping(3, 0.62, 4, 2).should_stop  # the state a resumed run starts from


def test_the_loop_halves_the_rate_on_a_plateau_and_stops_early(synthetic_store, tmp_path, monkeypatch):
    """Validation results scripted into the real loop: the rate and the stop follow the curve."""
    from posegraph.gcn import training

    curve = iter([(1.0, 0.5), (0.9, 0.6), (0.95, 0.6), (0.97, 0.55), (0.99, 0.6), (0.8, 0.4), (0.7, 0.4)])
    monkeypatch.setattr(training, "validate", lambda *arguments: next(curve))
    config = load_config(None, ["epochs=20", "patience=4", "plateau_patience=2", "learning_rate=0.01"], model="bilstm")
    result = train(config, synthetic_store.root, tmp_path / "run", progress=False, log=lambda _: None)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert result.stopped_early and (result.best_epoch, result.best_val_accuracy) == (2, 0.6)
    assert len(history) == 6  # epochs 3-6 brought no better accuracy: patience 4
    rates = [record["lr"] for record in history]  # the rate each epoch trained with
    assert rates == pytest.approx([0.01, 0.01, 0.01, 0.01, 0.005, 0.005])  # losses of 3, 4 no lower than 0.9


@pytest.mark.parametrize("model", ["stgcn", "msg3d", "bilstm"])
def test_the_recipe_file_is_the_defaults(model):
    from pathlib import Path

    recipe = Path(__file__).resolve().parents[2] / "configs" / f"{model}_recipe.yaml"
    assert load_config(recipe) == load_config(None, [], model=model)
