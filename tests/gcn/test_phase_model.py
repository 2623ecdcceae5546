import json

import numpy as np
import pytest
import torch
from posegraph.data import SkeletonStore
from posegraph.data.records import PhaseRows
from posegraph.data.synthetic import generate_corpus, store_records
from posegraph.gcn.config import load_config
from posegraph.gcn.phases import (
    PhaseDataset,
    PhaseFamily,
    PhaseNet,
    model_frame_sources,
    stored_phases,
)
from posegraph.gcn.registry import build_model
from posegraph.scoring.phase_labels import (
    count_from_phases,
    phases_from_repetitions,
    repetitions_from_phases,
)


@pytest.mark.parametrize("name", ["stgcn", "msg3d"])
def test_the_temporal_head_gives_one_phase_per_frame(name):
    torch.manual_seed(0)
    model = PhaseNet(build_model(name, "openpose18", 1, 3, 1), num_phases=3).eval()
    x = torch.randn(2, 3, 37, 18, 1)
    out = model(x)
    assert out.shape == (2 * 37, 3)
    with torch.no_grad():  # each sample's frames, in order: the first sample alone gives its rows
        assert torch.allclose(model(x[:1]), out[:37], atol=1e-5)


def test_a_batch_is_concatenated_along_time_not_padded():
    batch = [(torch.zeros(3, 5, 18, 1), torch.zeros(5, dtype=torch.long)),
             (torch.ones(3, 7, 18, 1), torch.ones(7, dtype=torch.long))]
    data, labels = PhaseDataset.collate(batch)
    assert data.shape == (1, 3, 12, 18, 1) and labels.tolist() == [0] * 5 + [1] * 7
    assert data[0, :, 5:].eq(1).all()


def test_the_background_phase_is_weighted_by_within_weight():
    config = load_config(None, ["task=phases"])
    family = PhaseFamily()
    names = family.class_names(None, config)
    assert names == ["end", "middle", "within"]
    assert family.loss(config, [], names).weight.tolist() == pytest.approx([1.0, 1.0, 0.2])
    halves = load_config(None, ["task=phases", "phase_scheme=halves", "within_weight=0.5"])
    assert family.loss(halves, [], family.class_names(None, halves)).weight.tolist() == pytest.approx([1.0, 0.5, 1.0])
    with pytest.raises(ValueError, match="task=phases needs a graph model"):
        load_config(None, ["task=phases", "model=bilstm"])
    assert family.accuracy(np.eye(3)[[2, 2, 2, 0]], np.array([2, 2, 2, 1])) == pytest.approx(0.5)


@pytest.fixture
def small_store(tmp_path) -> SkeletonStore:
    store = SkeletonStore(tmp_path / "store")
    store.write_videos(store_records(generate_corpus(subjects=3, takes=1, seed=4, repetitions=3,
                                                     exercises=("squat", "lunge"))))
    return store


def test_labels_come_from_the_phases_table_else_the_synthetic_phases(small_store):
    row = small_store.videos().to_pylist()[0]
    frames = small_store.read_video(row["video_id"])
    expected = phases_from_repetitions(len(frames.phase), repetitions_from_phases(frames.phase), "middle_end")
    assert list(stored_phases(small_store, row["video_id"], row["layout"], "middle_end")) == list(expected)
    first = int(frames.frame_indices[10])
    last = int(frames.frame_indices[29])
    small_store.write_phases([PhaseRows(row["video_id"], "repetitions", [(first, last, "repetition")])])
    labels = stored_phases(small_store, row["video_id"], row["layout"], "end")
    assert list(np.flatnonzero(labels == "end")) == [28, 29] and (labels[:28] == "within").all()
    small_store.write_phases([PhaseRows(row["video_id"], "halves", [(first, last, "first")])])
    halves = stored_phases(small_store, row["video_id"], row["layout"], "halves")
    assert (halves[10:30] == "first").all() and (halves[:10] == "none").all()


def test_counting_from_phases_places_repetitions_on_stored_frames():
    phases = np.array(["within", "middle", "within", "end", "end", "within", "end", "middle", "end"], dtype=object)
    probabilities = np.eye(3)[[2, 1, 2, 0, 0, 2, 0, 1, 0]]
    sources = np.arange(9) * 2  # the model saw every other stored frame
    result = count_from_phases(phases, probabilities, ["end", "middle", "within"], sources, 18, 30.0,
                               "middle_end", "phases-test")
    assert result.count == 2 and result.frames.tolist() == [6, 16]  # the end after no middle is not counted
    assert result.signal.shape == (18,) and result.signal[6] == 1.0
    assert model_frame_sources(np.arange(10) / 30.0, 15.0).tolist() == [0, 2, 4, 6, 8]


def test_train_a_phase_model_then_count_with_it(small_store, tmp_path, capsys):
    from posegraph.flows.cli import main
    from posegraph.gcn.training import train

    config = load_config(None, ["task=phases", "epochs=1", "batch_size=4", "clip_frames=64"])
    result = train(config, small_store.root, tmp_path / "run", progress=False, log=lambda line: None)
    assert (tmp_path / "run" / "best.pt").exists() and result.epochs_run == 1
    video = small_store.videos().to_pylist()[0]["video_id"]
    assert main(["count", video[:12], "--store", str(small_store.root), "--checkpoint",
                 str(tmp_path / "run" / "best.pt"), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert answer["method"] == "phases-stgcn/middle_end" and answer["count"] == len(answer["repetitions"])


def test_a_phase_checkpoint_evaluates_by_frame_and_refuses_to_classify(small_store, tmp_path, capsys):
    from posegraph.app.phase_counting import load_phase_model
    from posegraph.gcn.inference import (
        calibrate_run,
        class_probabilities,
        evaluate_run,
        load_classifier,
    )
    from posegraph.gcn.training import train
    from posegraph.skeleton.source import SkeletonSource

    config = load_config(None, ["task=phases", "epochs=1", "batch_size=4", "clip_frames=64", "model=msg3d"])
    train(config, small_store.root, tmp_path / "run", progress=False, log=lambda line: None)
    metrics, _ = evaluate_run(tmp_path / "run", small_store.root, split="val")
    assert 0.0 <= metrics["balanced_accuracy"] <= 1.0 and metrics["class_names"] == ["end", "middle", "within"]
    assert metrics["samples"] > 100  # frames, not videos
    counting = metrics["counting"]  # counts decoded from predicted and from labelled phases, per video
    assert counting["videos"] == len(counting["per_video"]) > 0 and 0.0 <= counting["obo"] <= 1.0
    assert sum(item["videos"] for item in counting["per_exercise"].values()) == counting["videos"]
    assert all(row["true"] > 0 for row in counting["per_video"])  # synthetic videos all hold repetitions
    assert counting["mae"] == pytest.approx(np.mean([abs(r["counted"] - r["true"]) / r["true"]
                                                     for r in counting["per_video"]]))
    from posegraph.flows.cli.training import _print_counting

    _print_counting(counting)  # what `posegraph evaluate` prints for a phase run
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("counts: MAE ") and len(printed) == 1 + len(counting["per_exercise"])
    model, bundle = load_classifier(tmp_path / "run" / "best.pt")
    assert bundle.family == "phase" and bundle.class_names == ("end", "middle", "within")
    sequence = SkeletonSource.from_people(np.zeros((1, 20, 33, 4), np.float32), "blazepose33", np.arange(20) / 16.0)
    with pytest.raises(ValueError, match="predicts repetition phases"):
        class_probabilities(model, bundle, sequence)
    with pytest.raises(ValueError, match="only exercise classifiers are calibrated"):
        calibrate_run(tmp_path / "run", small_store.root)
    classifier = load_config(None, ["epochs=1", "batch_size=4"])
    train(classifier, small_store.root, tmp_path / "classifier", progress=False, log=lambda line: None)
    with pytest.raises(ValueError, match="is an exercise classifier"):
        load_phase_model(tmp_path / "classifier" / "best.pt")
