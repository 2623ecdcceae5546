"""Training: learns from synthetic data, resumes exactly, freezes what it says, refuses wrong layouts."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from posegraph.data import SkeletonStore
from posegraph.gcn import build_model
from posegraph.gcn.checkpoint import (CheckpointError, content_checksum, load_checkpoint, save_checkpoint,
                                     weights_checksum)
from posegraph.gcn.config import load_config
from posegraph.gcn.finetune import apply_finetune, freeze_frozen_batchnorm
from posegraph.gcn.inference import evaluate_run
from posegraph.gcn.training import train

QUICK = ["epochs=3", "clip_frames=16", "batch_size=8", "learning_rate=0.05", "augment=false"]


@pytest.mark.slow
def test_a_short_run_beats_chance_on_held_out_subjects(synthetic_store, tmp_path):
    config = load_config(None, ["epochs=8", "clip_frames=64", "batch_size=16", "optimizer=adam",
                                "learning_rate=0.002", "weight_decay=0", "augment=false", "patience=20"])
    result = train(config, synthetic_store.root, tmp_path / "run", progress=False, log=lambda _: None)
    metrics, paths = evaluate_run(tmp_path / "run", synthetic_store.root, "test")
    chance = 1 / 6
    assert metrics["samples"] == 12  # the test subject's twelve videos, never seen in training
    assert metrics["top1_accuracy"] >= 0.5 > 2 * chance
    assert result.best_val_accuracy >= 0.5
    assert paths["confusion_matrix"].exists() and paths["curves"].exists()
    for key in ("top5_accuracy", "balanced_accuracy", "cohen_kappa", "macro_f1", "roc_auc_macro_ovr"):
        assert key in metrics
    assert (tmp_path / "run" / "config.yaml").read_text().startswith("model: stgcn")


RESUMABLE = """
import sys
import torch
from posegraph.gcn.config import load_config
from posegraph.gcn.training import train
torch.set_num_threads(int(sys.argv[3]))
train(load_config(None, sys.argv[4:]), sys.argv[1], sys.argv[2], progress=False)
"""


@pytest.mark.slow
def test_resume_after_kill_continues_exactly(synthetic_store, tmp_path):
    overrides = QUICK + ["epochs=3", "augment=true"]
    uninterrupted = tmp_path / "straight"
    train(load_config(None, overrides), synthetic_store.root, uninterrupted, progress=False, log=lambda _: None)

    killed = tmp_path / "killed"
    # Same thread count as this process: float sums differ between 1 and 2 threads, and some
    # libraries (Dask) leave OMP_NUM_THREADS=1 / MKL_NUM_THREADS=1 in the environment.
    threads = str(torch.get_num_threads())
    process = subprocess.Popen([sys.executable, "-c", RESUMABLE, str(synthetic_store.root), str(killed), threads,
                                *overrides], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    history = killed / "history.json"
    deadline = time.time() + 120
    while time.time() < deadline and not (history.exists() and len(json.loads(history.read_text() or "[]")) >= 1):
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done = len(json.loads(history.read_text()))
    assert 1 <= done < 3  # killed mid-run, with epochs left to resume
    train(load_config(None, overrides), synthetic_store.root, killed, resume=True, progress=False, log=lambda _: None)

    straight_history = json.loads((uninterrupted / "history.json").read_text())
    resumed_history = json.loads(history.read_text())
    assert [r["epoch"] for r in resumed_history] == [1, 2, 3]
    for a, b in zip(straight_history, resumed_history):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
        assert a["val_accuracy"] == b["val_accuracy"]
    same = load_checkpoint(uninterrupted / "last.pt").state_dict
    resumed = load_checkpoint(killed / "last.pt").state_dict
    for key in same:
        torch.testing.assert_close(same[key], resumed[key], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode, trainable_prefixes", [
    ("head", ["fcn."]),
    ("last:2", ["fcn.", "st_gcn_networks.8.", "st_gcn_networks.9.", "edge_importance.8", "edge_importance.9"]),
    ("all", [""]),
])
def test_finetune_modes_freeze_exactly_what_they_say(mode, trainable_prefixes):
    torch.manual_seed(0)
    model = build_model("stgcn", "openpose18", 5)
    names = apply_finetune(model, mode)
    for name, parameter in model.named_parameters():
        expected = any(name.startswith(prefix) for prefix in trainable_prefixes)
        assert parameter.requires_grad == expected, name
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model.train()
    freeze_frozen_batchnorm(model)
    loss = model(torch.randn(4, 3, 16, 18, 1)).logsumexp(1).mean()
    loss.backward()
    optimizer.step()
    after = model.state_dict()
    for key in before:
        if key.endswith("num_batches_tracked"):
            continue
        owner = key.rsplit(".", 1)[0]
        trainable_owner = any(n.startswith(owner + ".") or n == key for n in names)
        if not trainable_owner:  # weights and batch-norm statistics of frozen parts stay as they were
            assert torch.equal(before[key], after[key]), f"{key} changed although frozen in mode {mode}"
    assert not torch.equal(before["fcn.weight"], after["fcn.weight"])  # the head always trains


def test_bad_finetune_mode():
    with pytest.raises(ValueError, match="use head, last:K"):
        apply_finetune(build_model("stgcn", "coco17", 3), "some")


def test_checkpoint_of_another_layout_is_refused_naming_both(tmp_path):
    model = build_model("stgcn", "openpose18", 4)
    path = tmp_path / "kinetics.pt"
    save_checkpoint(path, model.state_dict(), model="stgcn", layout="openpose18", class_names=list("abcd"),
                    config={}, normalization={}, num_persons=1, in_channels=3)
    with pytest.raises(CheckpointError, match="trained on layout 'openpose18' but the model uses layout 'blazepose33'"):
        load_checkpoint(path, expected_layout="blazepose33")
    bundle = load_checkpoint(path, expected_layout="openpose18")
    assert bundle.class_names == tuple("abcd") and bundle.layout == "openpose18"
    assert bundle.checksum == content_checksum(torch.load(path, weights_only=True))


def test_a_checkpoint_written_before_the_bundle_loads_as_one(tmp_path):
    # format /1 (checksum over the weights only, no extra or rejection keys), as earlier releases wrote it
    from posegraph.gcn.checkpoint import WEIGHTS_ONLY_FORMAT
    from posegraph.gcn.inference import load_classifier

    state = {key: value.detach().cpu() for key, value in build_model("stgcn", "coco17", 2).state_dict().items()}
    torch.save({"format": WEIGHTS_ONLY_FORMAT, "model": "stgcn", "layout": "coco17", "class_names": ["a", "b"],
                "config": {}, "normalization": {}, "num_persons": 1, "in_channels": 3, "state_dict": state,
                "checksum": weights_checksum(state), "training_state": {}}, tmp_path / "old.pt")
    model, bundle = load_classifier(tmp_path / "old.pt", device="cpu")
    assert bundle.class_names == ("a", "b") and bundle.family == "graph" and bundle.rejection is None
    assert bundle.extra == {} and bundle.heads.exercise_count == 2 and bundle.path == tmp_path / "old.pt"
    assert all(torch.equal(model.state_dict()[key], value) for key, value in state.items())


def test_damaged_and_unsafe_checkpoints_are_refused(tmp_path):
    model = build_model("stgcn", "coco17", 2)
    path = tmp_path / "model.pt"
    save_checkpoint(path, model.state_dict(), model="stgcn", layout="coco17", class_names=["a", "b"],
                    config={}, normalization={}, num_persons=1, in_channels=3)
    content = torch.load(path, weights_only=True)
    content["state_dict"]["fcn.bias"] += 1
    torch.save(content, path)
    with pytest.raises(CheckpointError, match="do not match the checksum"):
        load_checkpoint(path)

    save_checkpoint(path, model.state_dict(), model="stgcn", layout="coco17", class_names=["a", "b"],
                    config={}, normalization={}, num_persons=1, in_channels=3)
    content = torch.load(path, weights_only=True)
    content["class_names"] = ["b", "a"]  # reordered: would answer the wrong labels
    torch.save(content, path)
    with pytest.raises(CheckpointError, match="metadata .* do not match the checksum"):
        load_checkpoint(path)
    del content["layout"]
    torch.save(content, path)
    with pytest.raises(CheckpointError, match="lacks layout: it is damaged or was not written by posegraph"):
        load_checkpoint(path)

    class Payload:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"format": "x", "evil": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="loads safely"):
        load_checkpoint(tmp_path / "evil.pt")


@pytest.mark.slow
def test_finetune_from_an_openpose18_checkpoint(synthetic_store, tmp_path):
    pretrained = tmp_path / "pretrained"
    train(load_config(None, QUICK + ["epochs=1", "layout=openpose18"]), synthetic_store.root, pretrained,
          progress=False, log=lambda _: None)
    with pytest.raises(CheckpointError, match="'openpose18' but the model uses layout 'blazepose33'"):
        train(load_config(None, QUICK + ["epochs=1", f"init={pretrained / 'best.pt'}"]), synthetic_store.root,
              tmp_path / "wrong", progress=False, log=lambda _: None)
    tuned = tmp_path / "tuned"
    train(load_config(None, QUICK + ["epochs=1", "layout=openpose18", f"init={pretrained / 'best.pt'}",
                                     "finetune=head"]), synthetic_store.root, tuned, progress=False, log=lambda _: None)
    before = load_checkpoint(pretrained / "best.pt").state_dict
    after = load_checkpoint(tuned / "last.pt").state_dict
    assert torch.equal(before["st_gcn_networks.3.gcn.conv.weight"], after["st_gcn_networks.3.gcn.conv.weight"])
    assert not torch.equal(before["fcn.weight"], after["fcn.weight"])


@pytest.mark.slow
def test_two_process_ddp_training_stays_in_step(synthetic_store, tmp_path):
    import socket

    with socket.socket() as probe:  # a free port for the rendezvous
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    run = tmp_path / "ddp"
    command = [str(Path(sys.executable).parent / "torchrun"), "--nproc_per_node", "2", "--master_port", port,
               "-m", "posegraph.flows.cli", "train", "--store", str(synthetic_store.root), "--run-dir", str(run),
               "--quiet", *[part for override in QUICK + ["epochs=2"] for part in ("--set", override)]]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert completed.returncode == 0, completed.stderr[-2000:]
    rank0 = (run / "weights-rank0.sha256").read_text()
    assert rank0 == (run / "weights-rank1.sha256").read_text()
    assert len(json.loads((run / "history.json").read_text())) == 2
    assert weights_checksum(load_checkpoint(run / "last.pt").state_dict) == rank0


@pytest.mark.slow
def test_msg3d_trains_with_mixed_precision(synthetic_store, tmp_path):
    config = load_config(None, QUICK + ["epochs=1", "model=msg3d", "amp=true", "learning_rate=0.01"])
    train(config, synthetic_store.root, tmp_path / "amp", progress=False, log=lambda _: None)
    history = json.loads((tmp_path / "amp" / "history.json").read_text())
    assert np.isfinite(history[0]["train_loss"])
    bundle = load_checkpoint(tmp_path / "amp" / "best.pt", expected_layout="blazepose33")
    assert bundle.model == "msg3d" and bundle.config.amp is True


def test_compile_falls_back_to_eager_with_a_message(monkeypatch):
    from posegraph.gcn.training import compiled_or_eager

    class Broken(torch.nn.Module):
        def forward(self, x):
            raise RuntimeError("backend could not build\nmore detail")

    monkeypatch.setattr(torch, "compile", lambda model, **options: Broken())
    eager = torch.nn.Linear(3, 2)
    messages = []
    runner = compiled_or_eager(eager, True, messages.append)
    x = torch.randn(4, 3)
    torch.testing.assert_close(runner(x), eager(x))
    torch.testing.assert_close(runner(x), eager(x))
    assert len(messages) == 1 and "backend could not build" in messages[0] and "eager" in messages[0]
    assert compiled_or_eager(eager, False) is eager


def test_compile_mode_reaches_torch_compile_and_unknown_modes_are_refused(monkeypatch):
    from posegraph.gcn.config import load_config
    from posegraph.gcn.training import compiled_or_eager

    seen = []
    monkeypatch.setattr(torch, "compile", lambda model, **options: seen.append(options) or model)
    eager = torch.nn.Linear(3, 2)
    runner = compiled_or_eager(eager, True, print, "reduce-overhead")
    x = torch.randn(4, 3)
    torch.testing.assert_close(runner(x), eager(x))
    compiled_or_eager(eager, True, print, "default")
    assert seen == [{"mode": "reduce-overhead"}, {"mode": None}]
    assert load_config(None, ["compile_mode=reduce-overhead"], model="stgcn").compile_mode == "reduce-overhead"
    with pytest.raises(ValueError, match="compile_mode='fastest'.*reduce-overhead"):
        load_config(None, ["compile_mode=fastest"], model="stgcn")


def test_mixed_precision_uses_bfloat16_unless_the_gpu_lacks_it(monkeypatch):
    from posegraph.gcn.device import autocast_dtype

    assert autocast_dtype(torch.device("cpu")) == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    assert autocast_dtype(torch.device("cuda")) == torch.float16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    assert autocast_dtype(torch.device("cuda")) == torch.bfloat16


def test_evaluate_works_on_any_store_matching_classes_by_name(tmp_path):
    from posegraph.data.synthetic import generate_corpus, store_records

    training = SkeletonStore(tmp_path / "training")
    training.write_videos(store_records(generate_corpus(subjects=3, takes=1, seed=2, repetitions=2,
                                                        exercises=("squat", "lunge", "push_up"))))
    train(load_config(None, ["epochs=1", "clip_frames=16", "batch_size=8", "augment=false"]), training.root,
          tmp_path / "run", progress=False, log=lambda _: None)
    # a test-only store holding two of the three classes and one the checkpoint never saw
    other = SkeletonStore(tmp_path / "other")
    records = store_records(generate_corpus(subjects=2, takes=1, seed=9, repetitions=2,
                                            exercises=("squat", "lunge", "jumping_jack")))
    other.write_videos([(info.replace(split="test"), skeletons) for info, skeletons in records])
    metrics, _ = evaluate_run(tmp_path / "run", other.root, split="test")
    assert metrics["samples"] == 4
    assert "left out 2 whose labels the checkpoint does not know: jumping_jack" in metrics["evaluated_on"]
    assert metrics["class_names"] == ["lunge", "push_up", "squat"]
    with pytest.raises(ValueError, match="no ok videos in split 'val'.*its splits: test"):
        evaluate_run(tmp_path / "run", other.root, split="val")
    same, _ = evaluate_run(tmp_path / "run", training.root, split="test")
    assert "as training made it" in same["evaluated_on"]


def test_a_mistyped_setting_is_one_clear_line():
    with pytest.raises(ValueError, match=r"^epochs='abc': expected a whole number$"):
        load_config(None, ["epochs=abc"])
    with pytest.raises(ValueError, match="amp='maybe': expected true or false"):
        load_config(None, ["amp=maybe"])
    assert load_config(None, ["learning_rate=1e-3"]).learning_rate == 0.001
