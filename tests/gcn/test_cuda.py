"""CUDA paths: training with AMP, evaluation and classify on the GPU (skipped without one)."""

import pytest
import torch
from posegraph.data.sources import stored_source
from posegraph.gcn.config import load_config
from posegraph.gcn.inference import answer_sequence, evaluate_run, load_classifier
from posegraph.gcn.training import train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="no CUDA device here: the GPU paths are tested on a GPU machine")


@pytest.mark.parametrize("model", ["stgcn", "msg3d", "bilstm"])
def test_train_with_amp_evaluate_and_classify_on_cuda(model, synthetic_store, tmp_path):
    settings = ["epochs=2", "batch_size=8", "device=cuda", "amp=true"]
    if model != "bilstm":
        settings.append("clip_frames=16")
    config = load_config(None, settings, model=model)
    run = tmp_path / "run"
    result = train(config, synthetic_store.root, run, progress=False, log=lambda _: None)
    assert result.epochs_run == 2 and (run / "best.pt").exists()
    metrics, _ = evaluate_run(run, synthetic_store.root, "test")
    assert metrics["samples"] == 12
    classifier, bundle = load_classifier(run / "best.pt", device="cuda")
    assert next(classifier.parameters()).is_cuda
    video = next(row for row in synthetic_store.videos().to_pylist() if row["split"] == "test")
    answer = answer_sequence(classifier, bundle, stored_source(synthetic_store, video["video_id"]))
    assert answer.ranking and 0.0 <= answer.ranking[0][1] <= 1.0


def test_compiled_training_with_cuda_graphs_and_bfloat16(synthetic_store, tmp_path):
    """The fastest GPU setting of benchmarks/gcn.py, through the training loop."""
    settings = ["epochs=2", "batch_size=8", "device=cuda", "amp=true", "compile=true",
                "compile_mode=reduce-overhead", "clip_frames=16"]
    messages = []
    result = train(load_config(None, settings, model="stgcn"), synthetic_store.root, tmp_path / "run",
                   progress=False, log=messages.append)
    assert result.epochs_run == 2 and (tmp_path / "run" / "best.pt").exists()
    assert not any("eager mode" in message for message in messages), messages
