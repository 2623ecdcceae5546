"""One classifier shape: a run folder, a checkpoint, a saved ensemble and an analysis bundle open
through ``open_classifier`` as the same :class:`Classifier`, answer alike, and a bundle built on an
ensemble analyses a video as one built on a checkpoint."""

import json

import pytest
from posegraph.app.classifiers import open_classifier
from posegraph.flows.cli import main
from posegraph.gcn.classifier import Classifier, EnsembleClassifier, TorchClassifier
from posegraph.gcn.ensemble import Ensemble, save_ensemble


@pytest.fixture(scope="module")
def ensemble_file(analysis_bundle, tmp_path_factory):
    """The test bundle's BiLSTM twice, half and half: its answers must equal the BiLSTM's."""
    run = analysis_bundle.parent / "run"
    member = open_classifier(run)
    ensemble = Ensemble((str(run / "best.pt"), str(run / "best.pt")), (0.5, 0.5), tuple(member.heads.class_names),
                        rejection=member.bundle.rejection.to_dict() if member.bundle.rejection else None)
    return save_ensemble(ensemble, tmp_path_factory.mktemp("ensemble") / "twice.yaml")


def _sequence(synthetic_store, label="squat"):
    from posegraph.data.sources import resolve_source

    row = next(row for row in synthetic_store.videos().to_pylist() if row["label"] == label and row["split"] == "test")
    return resolve_source(row["video_id"], synthetic_store)


def test_every_kind_opens_as_one_classifier_and_answers_alike(analysis_bundle, ensemble_file, synthetic_store):
    sequence = _sequence(synthetic_store)
    opened = {"run folder": open_classifier(analysis_bundle.parent / "run"),
              "checkpoint": open_classifier(analysis_bundle.parent / "run" / "best.pt"),
              "bundle": open_classifier(analysis_bundle), "ensemble": open_classifier(ensemble_file)}
    assert isinstance(opened["ensemble"], EnsembleClassifier) and isinstance(opened["bundle"], TorchClassifier)
    answers = {}
    for kind, classifier in opened.items():
        assert isinstance(classifier, Classifier), kind
        assert classifier.layout == "blazepose33" and classifier.num_persons >= 1
        answers[kind] = classifier.answer(sequence, top_k=3, reject=False)
    reference = answers["run folder"]
    for kind, answer in answers.items():
        assert answer.answer == reference.answer, kind
        assert [name for name, _ in answer.ranking] == [name for name, _ in reference.ranking], kind
        assert [p for _, p in answer.ranking] == pytest.approx([p for _, p in reference.ranking], abs=1e-5), kind


def test_a_bad_runtime_is_refused_in_words(analysis_bundle):
    with pytest.raises(ValueError, match="choose torch or onnx"):
        open_classifier(analysis_bundle, "tensorflow")


def test_analyse_with_a_bundle_built_on_an_ensemble(analysis_bundle, ensemble_file, synthetic_store, tmp_path, capsys):
    out = tmp_path / "bundle"
    assert main(["bundle", "build", "--classifier", str(ensemble_file), "--store", str(synthetic_store.root),
                 "--out", str(out), "--split", "val"]) == 0
    assert (out / "classifier.yaml").is_file() and len(list((out / "members").iterdir())) == 2
    capsys.readouterr()
    video = next(row["video_id"] for row in synthetic_store.videos().to_pylist()
                 if row["label"] == "squat" and row["split"] == "test")
    assert main(["analyse", video, "--store", str(synthetic_store.root), "--bundle", str(out), "--json"]) == 0
    with_ensemble = json.loads(capsys.readouterr().out)
    assert main(["analyse", video, "--store", str(synthetic_store.root), "--bundle", str(analysis_bundle),
                 "--json"]) == 0
    with_member = json.loads(capsys.readouterr().out)
    assert with_ensemble["exercise"]["answer"] == with_member["exercise"]["answer"]
    assert with_ensemble["count"] == with_member["count"]
    assert main(["classify", video, "--store", str(synthetic_store.root), "--checkpoint", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "ensemble"
