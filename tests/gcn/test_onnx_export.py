"""``posegraph export --format onnx``: the export checks itself against PyTorch, answers as PyTorch
does without importing torch, and a broken or mismatched export folder is one clear line."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from posegraph.flows.cli import main
from posegraph.gcn.config import load_config
from posegraph.gcn.training import train

pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install -e '.[onnx]')")

REPCOUNT = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "repcount"


@pytest.fixture(scope="module")
def stgcn_run(synthetic_store, tmp_path_factory):
    run = tmp_path_factory.mktemp("onnx") / "stgcn"
    overrides = ["epochs=1", "clip_frames=16", "batch_size=8", "augment=false", "stream=bone"]
    train(load_config(None, overrides, model="stgcn"), synthetic_store.root, run, progress=False, log=lambda _: None)
    return run


@pytest.fixture(scope="module")
def exported_bundle(analysis_bundle, tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx") / "bundle"
    assert main(["export", str(analysis_bundle), "--format", "onnx", "--out", str(out)]) == 0
    return out


def real_landmarks() -> Path:
    files = sorted(REPCOUNT.glob("**/*.npy"))
    if not files:
        pytest.skip(f"no real landmarks in {REPCOUNT}")
    return files[0]


def test_a_graph_model_exports_with_its_sidecar_and_checks_itself_on_real_landmarks(stgcn_run, tmp_path, capsys):
    out = tmp_path / "export"
    assert main(["export", str(stgcn_run), "--format", "onnx", "--out", str(out),
                 "--check-on", str(real_landmarks())]) == 0
    assert "largest difference" in capsys.readouterr().out
    sidecar = json.loads((out / "model.json").read_text())
    assert sidecar["format"] == "posegraph-onnx/1" and sidecar["model"] == "stgcn" and sidecar["layout"] == "blazepose33"
    assert len(sidecar["joints"]) == 33 and sidecar["class_names"] and sidecar["frames_per_second"] > 0
    assert sidecar["check"]["max_abs_diff"] <= 1e-4 and sidecar["input"]["axes"][2] == "frames"
    assert sidecar["config"]["stream"] == "bone"  # the input stream travels with the model


def test_the_exported_answers_equal_pytorch_s_for_a_graph_and_a_sequence_model(stgcn_run, analysis_bundle,
                                                                               exported_bundle, synthetic_store, tmp_path):
    from posegraph.data.sources import resolve_source
    from posegraph.gcn.inference import answer_sequence, load_classifier
    from posegraph.gcn.onnx_export import export_onnx
    from posegraph.gcn.onnx_runtime import OnnxClassifier

    export_onnx(stgcn_run, tmp_path / "stgcn", log=lambda _: None)
    videos = [row["video_id"] for row in synthetic_store.videos().to_pylist() if row["split"] == "test"][:4]
    for torch_path, onnx_path in ((stgcn_run, tmp_path / "stgcn"), (analysis_bundle / "classifier.pt", exported_bundle)):
        model, bundle = load_classifier(torch_path)
        exported = OnnxClassifier.load(onnx_path)
        for video in videos:
            sequence = resolve_source(video, synthetic_store)
            want, got = answer_sequence(model, bundle, sequence, 3), exported.answer(sequence, 3)
            assert want.answer == got.answer and want.rejected == got.rejected
            assert np.allclose([p for _, p in want.ranking], [p for _, p in got.ranking], atol=1e-4)


def test_the_phase_model_exports_and_checks_itself(synthetic_store, tmp_path, capsys):
    run = tmp_path / "phases"
    train(load_config(None, ["epochs=1", "task=phases", "clip_frames=64"], model="stgcn"), synthetic_store.root, run,
          progress=False, log=lambda _: None)
    assert main(["export", str(run), "--format", "onnx", "--out", str(tmp_path / "export")]) == 0
    sidecar = json.loads((tmp_path / "export" / "model.json").read_text())
    assert sidecar["family"] == "phase" and sidecar["check"]["max_abs_diff"] <= 1e-4
    assert main(["classify", "x.npy", "--checkpoint", str(tmp_path / "export"), "--runtime", "onnx"]) == 2
    assert "phase model" in capsys.readouterr().err


def test_classify_and_analyse_with_the_onnx_runtime_never_import_torch(exported_bundle, synthetic_store, tmp_path):
    video = [row["video_id"] for row in synthetic_store.videos().to_pylist() if row["split"] == "test"][0]
    script = f"""
import json, sys
from posegraph.flows.cli import main
code = main(["analyse", "{video[:12]}", "--store", "{synthetic_store.root}", "--bundle", "{exported_bundle}",
             "--runtime", "onnx", "--json"])
code += main(["classify", "{video[:12]}", "--store", "{synthetic_store.root}", "--checkpoint", "{exported_bundle}",
              "--runtime", "onnx", "--json"])
print(json.dumps({{"code": code, "torch": "torch" in sys.modules}}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines[-1] == {"code": 0, "torch": False}, done.stderr[-2000:]
    analysis, classified = lines[0], lines[1]
    assert analysis["schema"] == "posegraph-analysis/1" and analysis["count"] >= 1
    assert classified["answer"] == analysis["exercise"]["answer"] or analysis["exercise"]["rejected"]


def test_an_export_folder_that_is_broken_or_mismatched_is_one_clear_line(exported_bundle, tmp_path, capsys):
    import shutil

    def classify(folder) -> str:
        assert main(["classify", "x.npy", "--checkpoint", str(folder), "--runtime", "onnx"]) == 2
        return capsys.readouterr().err

    assert "no model.json" in classify(tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(exported_bundle / "onnx", broken)
    model = broken / "model.onnx"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    assert "model.onnx: damaged or replaced" in classify(broken)
    other = tmp_path / "other"
    shutil.copytree(exported_bundle / "onnx", other)
    sidecar = json.loads((other / "model.json").read_text())
    (other / "model.json").write_text(json.dumps({**sidecar, "joints": sidecar["joints"][::-1]}))
    assert "not layout blazepose33's" in classify(other)
    (other / "model.json").write_text(json.dumps({**sidecar, "format": "posegraph-onnx/0"}))
    assert "this posegraph reads posegraph-onnx/1" in classify(other)
    (other / "model.json").unlink()
    error = classify(other)
    assert error.count("\n") == 1 and "posegraph export" in error


def test_an_export_that_does_not_reproduce_the_model_fails_and_says_how(analysis_bundle, exported_bundle):
    import torch
    from posegraph.gcn.inference import load_classifier
    from posegraph.gcn.onnx_export import (
        ExportError,
        _check_inputs,
        _WithEmbedding,
        check_export,
    )

    model, bundle = load_classifier(analysis_bundle / "classifier.pt", device="cpu")
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.05)  # the PyTorch model no longer is the exported one
    sample = _check_inputs(bundle, None)
    with pytest.raises(ExportError, match=r"logits of the batch differs from PyTorch's by .* \(tolerance 0.0001\); "):
        check_export(_WithEmbedding(model).eval(), exported_bundle / "onnx" / "model.onnx", sample, 1)
