"""`posegraph train --muscle-table`, `ensemble`, then `classify` and `evaluate` with the saved ensemble,
through the CLI and real Prefect flows."""

import json
from pathlib import Path

import pytest
import yaml

from posegraph.flows.cli import main

MORE = str(Path(__file__).resolve().parents[2] / "configs" / "muscle_groups_more.yaml")


@pytest.mark.integration
def test_muscle_groups_and_an_ensemble_from_the_command_line(synthetic_store, tmp_path, capsys):
    store = str(synthetic_store.root)
    runs = []
    for seed in (0, 1):
        run = tmp_path / f"bilstm-{seed}"
        assert main(["train", "--model", "bilstm", "--store", store, "--run-dir", str(run), "--quiet",
                     "--muscle-table", MORE, "--set", "epochs=3", "--set", f"seed={seed}"]) == 0
        runs.append(run)
    output = capsys.readouterr().out
    assert "muscle groups: label_wise_accuracy" in output and "per-group F1: " in output
    assert json.loads((runs[0] / "metrics-test.json").read_text())["muscles"]["samples"] == 12

    out = tmp_path / "ensembles" / "pair.yaml"
    assert main(["ensemble", "--checkpoints", str(runs[0]), str(runs[1]), "--store", store, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "ensemble " in printed and "muscle_label_wise_accuracy" in printed
    saved = yaml.safe_load(out.read_text())
    assert saved["format"] == "posegraph-ensemble/1" and len(saved["members"]) == 2
    assert saved["chosen_by"].startswith("searched on split val") and len(saved["muscle_groups"]) == 11
    report = json.loads((tmp_path / "ensembles" / "pair-metrics-test.json").read_text())
    assert set(report["members"]) == {str(run / "best.pt") for run in runs}

    row = next(r for r in synthetic_store.videos().to_pylist() if r["split"] == "test")
    assert main(["classify", row["video_id"][:16], "--store", store, "--checkpoint", str(out), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["model"] == "ensemble" and answer["answer"] == answer["predictions"][0]["class"]
    groups = answer["muscle_groups"]
    assert len(groups) == 11 and all(0 <= g["probability"] <= 1 and g["worked"] == (g["probability"] >= 0.5)
                                     for g in groups)

    assert main(["evaluate", str(out), "--store", store]) == 0
    assert "ensemble " in capsys.readouterr().out

    assert main(["ensemble", "--checkpoints", str(runs[0]), "--store", store]) == 2
    assert "at least two" in capsys.readouterr().err
