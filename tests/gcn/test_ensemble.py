"""Ensembles: the weight search, combining by name, identical members, and the saved file."""

from pathlib import Path

import numpy as np
import pytest
from posegraph.gcn.config import load_config
from posegraph.gcn.ensemble import (
    EnsembleError,
    aligned,
    check_weights,
    combine,
    evaluate_ensemble,
    evaluate_saved,
    load_ensemble,
    load_members,
    save_ensemble,
    search_weights,
    weight_grid,
)
from posegraph.gcn.training import train

MORE = str(Path(__file__).resolve().parents[2] / "configs" / "muscle_groups_more.yaml")


def test_the_grid_holds_the_studys_weightings_and_sums_to_one():
    grid = weight_grid(2)
    assert len(grid) == 21 and all(abs(sum(point) - 1) < 1e-9 for point in grid)
    for point in ((0.25, 0.75), (0.5, 0.5), (0.75, 0.25)):
        assert any(np.allclose(point, candidate) for candidate in grid)
    assert len(weight_grid(3)) == 66  # step 0.1 over the simplex


def test_the_search_picks_the_best_grid_point_on_scripted_validation_logits():
    # Member A is right on videos 0-2 and confidently wrong on 3; member B right on 3 only.
    # Only weightings giving B more than 1/3 and less than 0.625 get all four right.
    labels = np.array([0, 0, 0, 1])
    member_a = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.5, 0.0]])
    member_b = np.array([[0.0, 0.6], [0.0, 0.6], [0.0, 0.6], [0.0, 3.0]])
    weights, scored = search_weights([member_a, member_b], [None, None], labels)
    brute = {}
    for b in np.round(np.arange(0, 1.0001, 0.05), 2):
        mixed = (1 - b) * member_a + b * member_b
        brute[b] = (mixed.argmax(1) == labels).mean()
    best_accuracy = max(brute.values())
    assert best_accuracy == 1.0
    assert brute[round(weights[1], 2)] == best_accuracy and 1 / 3 < weights[1] < 0.625
    assert brute[0.0] < 1 and brute[1.0] < 1 and brute[0.7] < 1  # neither member alone, nor too much B
    assert len(scored) == 21 and max(row["accuracy"] for row in scored) == best_accuracy
    # among the perfect points the lower log loss wins
    perfect = [row for row in scored if row["accuracy"] == 1.0]
    assert min(perfect, key=lambda row: row["loss"])["weights"] == list(weights)


def test_muscle_only_members_are_weighted_on_muscle_accuracy():
    targets = np.array([[1, 0], [0, 1]])
    good = np.array([[3.0, -3.0], [-3.0, 3.0]])
    bad = -good
    weights, _ = search_weights([None, None], [bad, good], np.array([0, 1]), targets)
    assert weights[1] > weights[0]


def test_combine_rescales_over_members_that_have_the_part_and_checks_weights():
    a, b = np.ones((2, 3)), 3 * np.ones((2, 3))
    assert np.allclose(combine([a, b], (0.25, 0.75)), 2.5)
    assert np.allclose(combine([a, None], (0.25, 0.75)), 1.0)
    assert check_weights([1, 3], 2) == (0.25, 0.75)
    with pytest.raises(EnsembleError, match="3 weights for 2 members"):
        check_weights([1, 1, 1], 2)
    with pytest.raises(EnsembleError, match="non-negative"):
        check_weights([-1, 2], 2)


def test_columns_are_matched_by_name():
    from posegraph.gcn.heads import Heads

    exercise, muscles = aligned(Heads(("b", "a")), np.array([[2.0, 1.0]]), ("a", "b"), ())
    assert exercise.tolist() == [[1.0, 2.0]] and muscles is None


@pytest.fixture(scope="module")
def checkpoints(synthetic_store, tmp_path_factory):
    """Two small models of different families with both heads, and one trained on other classes."""
    folder = tmp_path_factory.mktemp("members")
    muscles = ["muscles=joint", f"muscle_table={MORE}"]
    train(load_config(None, ["epochs=3", *muscles], model="bilstm"), synthetic_store.root, folder / "bilstm",
          progress=False, log=lambda _: None)
    train(load_config(None, ["epochs=1", "clip_frames=16", "batch_size=16", "test_crops=1", *muscles], model="stgcn"),
          synthetic_store.root, folder / "stgcn", progress=False, log=lambda _: None)
    train(load_config(None, ["epochs=1", "labels=[squat, lunge]"], model="bilstm"), synthetic_store.root,
          folder / "two", progress=False, log=lambda _: None)
    return {name: folder / name / "best.pt" for name in ("bilstm", "stgcn", "two")}


def test_an_ensemble_of_two_identical_models_equals_each(checkpoints, synthetic_store):
    path = checkpoints["bilstm"]
    _, report = evaluate_ensemble([path, path], synthetic_store.root, "test", weights=[0.3, 0.7])
    member = report["members"][str(path)]
    assert report["ensemble"]["top1_accuracy"] == member["top1_accuracy"]
    assert report["ensemble"]["confusion_matrix"] == member["confusion_matrix"]
    assert report["ensemble"]["muscles"]["label_wise_accuracy"] == member["muscles"]["label_wise_accuracy"]
    assert report["ensemble"]["muscles"]["roc_auc_macro"] == pytest.approx(member["muscles"]["roc_auc_macro"])


def test_a_graph_model_and_the_bilstm_combine_and_the_saved_file_round_trips(checkpoints, synthetic_store, tmp_path):
    ensemble, report = evaluate_ensemble([checkpoints["stgcn"], checkpoints["bilstm"]], synthetic_store.root, "test",
                                         log=lambda _: None)
    assert ensemble.chosen_by.startswith("searched on split val") and len(report["weight_search"]) == 21
    assert abs(sum(ensemble.weights) - 1) < 1e-9 and len(ensemble.muscle_groups) == 11
    saved = save_ensemble(ensemble, tmp_path / "ens" / "pair.yaml")
    again = load_ensemble(saved)
    assert [Path(p).resolve() for p in again.members] == [Path(p).resolve() for p in ensemble.members]
    assert again.weights == pytest.approx(ensemble.weights) and again.class_names == ensemble.class_names
    assert evaluate_saved(saved, synthetic_store.root, "test")["ensemble"]["top1_accuracy"] == \
        report["ensemble"]["top1_accuracy"]


def test_members_with_other_classes_are_refused_naming_them(checkpoints):
    with pytest.raises(EnsembleError, match=r"disagree on their classes.*alone has .*biceps_curl"):
        load_members([checkpoints["bilstm"], checkpoints["two"]])
    with pytest.raises(EnsembleError, match="at least two"):
        load_members([checkpoints["bilstm"]])


def test_a_file_that_is_not_an_ensemble_is_refused(tmp_path):
    (tmp_path / "x.yaml").write_text("model: stgcn\n")
    with pytest.raises(EnsembleError, match="not a posegraph ensemble"):
        load_ensemble(tmp_path / "x.yaml")


def test_the_ensembles_rejection_is_calibrated_on_the_validation_logits_and_saved():
    from posegraph.gcn.ensemble import Ensemble, fit_ensemble_rejection

    random = np.random.default_rng(0)
    labels = random.integers(0, 4, 200)
    sharp = np.eye(4)[labels] * 6 + random.normal(0, 1, (200, 4))  # an over-confident member
    flat = random.normal(0, 0.3, (200, 4))
    rejection = fit_ensemble_rejection([sharp, flat, None], labels, (0.5, 0.5, 0.0))
    assert rejection["validation_videos"] == 200 and rejection["threshold"] > 0
    assert 0.9 <= rejection["coverage"] <= 0.97
    assert fit_ensemble_rejection([None, None], labels, (0.5, 0.5)) is None
    ensemble = Ensemble(("a.pt", "b.pt"), (0.5, 0.5), ("w", "x", "y", "z"), rejection=rejection)
    assert ensemble.to_dict()["rejection"] == rejection


def test_a_saved_ensemble_answers_none_of_these_below_its_threshold(checkpoints, synthetic_store, tmp_path):
    from posegraph.data.sources import stored_source

    ensemble, _ = evaluate_ensemble([checkpoints["stgcn"], checkpoints["bilstm"]], synthetic_store.root, "test",
                                    log=lambda _: None)
    assert ensemble.rejection["validation_videos"] == 12  # too few for thresholds: temperature only
    again = load_ensemble(save_ensemble(ensemble, tmp_path / "pair.yaml"))
    assert again.rejection == ensemble.rejection
    members = load_members(list(again.members))
    video = synthetic_store.videos().to_pylist()[0]["video_id"]
    sequence = stored_source(synthetic_store, video, persons=members.num_persons)
    assert not members.answer(sequence, again.weights, rejection=again.rejection).rejected
    strict = {**again.rejection, "threshold": 1.01}  # no probability reaches it
    answer = members.answer(sequence, again.weights, rejection=strict)
    assert answer.rejected and answer.answer == "none of these" and answer.ranking[0][1] < 1.01
