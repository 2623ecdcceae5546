"""`posegraph train` / `evaluate` / `classify` through the CLI and a real Prefect flow."""

import json

import pytest

from posegraph.flows.cli import main

QUICK = {"stgcn": ["epochs=1", "clip_frames=16", "batch_size=8", "augment=false"],
         "bilstm": ["epochs=2", "batch_size=8", "augment=false"]}


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("model", ["stgcn", "bilstm"])
def test_train_evaluate_and_classify_commands(model, synthetic_store, tmp_path, capsys):
    run = tmp_path / "run"
    arguments = ["train", "--model", model, "--store", str(synthetic_store.root), "--run-dir", str(run), "--quiet"]
    assert main(arguments + [part for item in QUICK[model] for part in ("--set", item)]) == 0
    output = capsys.readouterr().out
    assert "top1_accuracy" in output and "confusion_matrix: " in output and "accuracy by confidence: " in output
    metrics = json.loads((run / "metrics-test.json").read_text())
    assert metrics["samples"] == 12 and len(metrics["confusion_matrix"]) == 6
    assert (run / "confusion-test.png").stat().st_size > 0 and (run / "best.pt").exists()

    row = next(r for r in synthetic_store.videos().to_pylist() if r["split"] == "test")
    assert main(["classify", row["video_id"][:16], "--store", str(synthetic_store.root),
                 "--checkpoint", str(run / "best.pt"), "--json", "--top-k", "3"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert len(answer["predictions"]) == 3
    assert sum(p["probability"] for p in answer["predictions"]) <= 1.0 + 1e-6
    assert {p["class"] for p in answer["predictions"]} <= set(metrics["class_names"])
    assert answer["model"] == model and ("frame_importance" in answer) == (model == "bilstm")
    assert answer["rejected"] is False and answer["threshold"] is None  # 12 validation videos: too few to reject
    assert answer["answer"] == ("none of these" if answer["rejected"] else answer["predictions"][0]["class"])
    from posegraph.gcn.checkpoint import load_checkpoint

    rejection = load_checkpoint(run / "best.pt").rejection
    assert rejection.temperature > 0 and rejection.validation_videos == 12 and rejection.threshold == 0.0
    assert main(["classify", row["video_id"][:16], "--store", str(synthetic_store.root),
                 "--checkpoint", str(run / "best.pt"), "--json", "--no-reject"]) == 0
    forced = json.loads(capsys.readouterr().out)
    assert forced["rejected"] is False and forced["threshold"] is None
    assert forced["answer"] == forced["predictions"][0]["class"]
    assert main(["classify", row["video_id"][:16], "--store", str(synthetic_store.root),
                 "--checkpoint", str(run), "--json", "--no-reject"]) == 0  # the run folder, as train --init takes
    assert json.loads(capsys.readouterr().out)["answer"] == forced["answer"]

    assert main(["evaluate", str(run), "--store", str(synthetic_store.root), "--split", "val"]) == 0
    assert (run / "metrics-val.json").exists()


def test_train_reports_config_mistakes(synthetic_store, tmp_path, capsys):
    assert main(["train", "--store", str(synthetic_store.root), "--set", "epoch=3"]) == 2
    assert "unknown config key(s) epoch" in capsys.readouterr().err
    assert main(["classify", "nothing-here", "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["train", "--model", "bilstm", "--store", str(synthetic_store.root), "--set", "partition=spatial"]) == 2
    assert "partition is for stgcn" in capsys.readouterr().err
