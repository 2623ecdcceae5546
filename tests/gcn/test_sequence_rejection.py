"""The BiLSTM's calibrated "none of these": fitted after training like the graph models', kept in
the checkpoint, answering about 95% of known videos and rejecting a movement unlike any class."""

import numpy as np
import pytest
from posegraph.data import SkeletonStore
from posegraph.data.sources import stored_source
from posegraph.gcn.config import load_config
from posegraph.gcn.inference import answer_sequence, load_classifier
from posegraph.gcn.training import train
from posegraph.skeleton.source import SkeletonSource


@pytest.fixture(scope="module")
def bilstm_with_enough_validation(tmp_path_factory):
    """Three subjects x seven takes: 42 validation videos (the second subject), enough for the 97.5% quantiles."""
    from posegraph.data.synthetic import generate_corpus, store_records

    folder = tmp_path_factory.mktemp("bilstm-rejection")
    store = SkeletonStore(folder / "store")
    store.write_videos(store_records(generate_corpus(subjects=3, takes=7, seed=11, repetitions=2)))
    train(load_config(None, ["epochs=3"], model="bilstm"), store.root, folder / "run", progress=False,
          log=lambda _: None)
    return store, folder / "run"


def test_the_bilstm_is_calibrated_and_rejects_what_is_like_no_class(bilstm_with_enough_validation):
    store, run = bilstm_with_enough_validation
    model, bundle = load_classifier(run)
    rejection = bundle.rejection
    assert rejection is not None and rejection.active and rejection.validation_videos == 42
    assert rejection.threshold > 0 and rejection.distance is not None and 0.9 <= rejection.coverage <= 1.0
    val = [row for row in store.videos().to_pylist() if row["split"] == "val"]
    answers = [answer_sequence(model, bundle, stored_source(store, row["video_id"]))
               for row in val]
    assert np.mean([not answer.rejected for answer in answers]) >= 0.85  # about 95% by construction
    # a body that jumps to random places every frame is no exercise
    source = stored_source(store, val[0]["video_id"])
    noise = source.joints.copy()
    noise[..., :2] = np.random.default_rng(0).uniform(0.1, 0.9, noise[..., :2].shape)
    answer = answer_sequence(model, bundle, SkeletonSource.from_people(noise[None], source.layout, source.timestamps,
                                                           source.width, source.height))
    assert answer.rejected and answer.answer == "none of these"
    forced = answer_sequence(model, bundle, SkeletonSource.from_people(noise[None], source.layout, source.timestamps,
                                                           source.width, source.height), reject=False)
    assert not forced.rejected and forced.answer in bundle.class_names


def test_the_runs_report_says_how_none_of_these_was_calibrated(bilstm_with_enough_validation):
    import json

    from posegraph.gcn.inference import evaluate_run

    store, run = bilstm_with_enough_validation
    metrics, paths = evaluate_run(run, store.root, "test")
    rule = json.loads(paths["metrics"].read_text())["rejection"]
    assert rule == metrics["rejection"] and rule["validation_videos"] == 42
    assert rule["threshold"] > 0 and rule["distance_threshold"] > 0 and 0.9 <= rule["coverage"] <= 1.0
