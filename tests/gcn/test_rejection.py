import numpy as np
import pytest

from posegraph.gcn.rejection import Rejection, calibrated_probabilities, fit_rejection, fit_temperature


def overconfident_logits(count=600, classes=5, seed=0):
    """Logits whose softmax is far too sure: 70% right, but the top probability is ~0.99."""
    random = np.random.default_rng(seed)
    labels = random.integers(0, classes, count)
    predicted = np.where(random.random(count) < 0.7, labels, random.integers(0, classes, count))
    logits = random.normal(0, 1, (count, classes))
    logits[np.arange(count), predicted] += 8.0
    return logits, labels


def test_temperature_calibrates_an_overconfident_model():
    logits, labels = overconfident_logits()
    temperature = fit_temperature(logits, labels)
    assert temperature > 2.0
    confidence = calibrated_probabilities(logits, temperature).max(axis=1)
    accuracy = (logits.argmax(1) == labels).mean()
    assert abs(confidence.mean() - accuracy) < 0.05  # calibrated: mean confidence ~ accuracy
    assert abs(calibrated_probabilities(logits, 1.0).max(axis=1).mean() - accuracy) > 0.2


def test_a_calibrated_model_keeps_temperature_near_one():
    random = np.random.default_rng(1)
    logits = random.normal(0, 2, (2000, 4))
    probabilities = calibrated_probabilities(logits, 1.0)
    labels = np.array([random.choice(4, p=row) for row in probabilities])
    assert fit_temperature(logits, labels) == pytest.approx(1.0, abs=0.15)


def test_threshold_answers_the_chosen_share_of_known_videos_and_rejects_flat_scores():
    logits, labels = overconfident_logits(seed=2)
    rejection = fit_rejection(logits, labels, coverage=0.9)
    answered = ~rejection.rejects(rejection.probabilities(logits))
    assert answered.mean() == pytest.approx(0.9, abs=0.02)
    assert rejection.nll_after < rejection.nll_before
    flat = np.zeros((1, 5))  # a video no class claims
    assert rejection.rejects(rejection.probabilities(flat))[0]
    assert Rejection.from_dict(rejection.to_dict()) == rejection


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="coverage"):
        fit_rejection(np.zeros((3, 2)), np.zeros(3, dtype=int), coverage=0)
    with pytest.raises(ValueError, match="validation videos"):
        fit_rejection(np.zeros((0, 2)), np.zeros(0, dtype=int))


def test_distance_rule_rejects_what_is_far_from_every_class_even_when_confident():
    random = np.random.default_rng(3)
    centres = random.normal(0, 5, (4, 8))
    train_labels = np.repeat(np.arange(4), 50)
    train = centres[train_labels] + random.normal(0, 1, (200, 8))
    val_labels = np.repeat(np.arange(4), 25)
    val = centres[val_labels] + random.normal(0, 1, (100, 8))
    logits = np.eye(4)[val_labels] * 6 + random.normal(0, 1, (100, 4))
    rejection = fit_rejection(logits, val_labels, coverage=0.9, embeddings=val, train_embeddings=train,
                              train_labels=train_labels)
    assert rejection.distance_threshold is not None and 0.85 <= rejection.coverage <= 0.95
    confident = rejection.probabilities(np.array([[20.0, 0, 0, 0]]))
    far = centres[:1] + 30.0  # a confident softmax, an embedding unlike any class
    assert rejection.rejects(confident, far)[0]
    assert not rejection.rejects(confident, centres[:1])[0]
    assert not rejection.rejects(confident)[0]  # without an embedding only the probability rule applies
    restored = Rejection.from_dict(rejection.to_dict())
    assert restored.rejects(confident, far)[0] and restored.distance_threshold == rejection.distance_threshold


def test_too_few_validation_videos_fit_the_temperature_only():
    logits, labels = overconfident_logits(count=30)
    rejection = fit_rejection(logits, labels)
    assert not rejection.active and rejection.temperature > 1.0
    assert not rejection.rejects(rejection.probabilities(np.zeros((1, 5))))[0]
    assert fit_rejection(*overconfident_logits(count=40)).active
