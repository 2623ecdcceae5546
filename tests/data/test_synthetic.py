import numpy as np
import pytest

from posegraph.data.synthetic import (EXERCISES, generate_corpus, generate_sequence, make_subjects,
                                      split_of, store_records)


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus(subjects=3, takes=1, seed=7)


def count_cycles(phase: np.ndarray) -> int:
    """Repetitions = number of away->return transitions."""
    labels = list(phase)
    return sum(1 for before, after in zip(labels, labels[1:]) if before == "away" and after == "return")


def test_six_exercises_by_every_subject(corpus):
    assert len(EXERCISES) >= 6
    assert {(s.exercise, s.subject) for s in corpus} == {(e, f"s0{n}") for e in EXERCISES for n in (1, 2, 3)}


def test_known_repetitions_match_the_phase_labels(corpus):
    for sequence in corpus:
        assert count_cycles(sequence.phase) == sequence.repetitions
        assert set(sequence.phase) == {"rest", "away", "return"}


def test_values_look_like_mediapipe_output(corpus):
    for sequence in corpus:
        detected = sequence.joints[sequence.detected]
        assert sequence.joints.shape[1:] == (33, 4)
        assert 0.0 <= np.nanmin(detected[..., :2]) and np.nanmax(detected[..., :2]) <= 1.0
        assert 0.0 < detected[..., 3].min() and detected[..., 3].max() < 1.0
        assert np.isnan(sequence.joints[~sequence.detected]).all()


def test_the_motion_is_the_exercise(corpus):
    """Wrists rise in a lateral raise, hips drop in a squat (image y grows downwards)."""
    by_name = {(s.exercise, s.subject): s for s in corpus}
    raise_ = by_name[("lateral_raise", "s01")].clean_joints
    assert np.ptp(raise_[:, 15, 1]) > 0.15 and np.ptp(raise_[:, 23, 1]) < 0.05
    squat = by_name[("squat", "s01")].clean_joints
    assert np.ptp(squat[:, 23, 1]) > 0.1


def test_variety_and_determinism():
    subject = make_subjects(1)[0]
    first = generate_sequence("squat", subject, take=0, seed=3)
    again = generate_sequence("squat", subject, take=0, seed=3)
    other = generate_sequence("squat", subject, take=1, seed=3)
    np.testing.assert_array_equal(first.joints, again.joints)
    assert first.sequence_id == again.sequence_id != other.sequence_id
    heights = [s.height for s in make_subjects(6)]
    assert max(heights) - min(heights) > 0.1


def test_records_are_split_by_subject(corpus):
    records = store_records(corpus)
    split_per_subject = {}
    for info, _ in records:
        split_per_subject.setdefault(info.group, set()).add(info.split)
    assert all(len(splits) == 1 for splits in split_per_subject.values())
    assert {split for splits in split_per_subject.values() for split in splits} == {"train", "val", "test"}
    assert split_of("s09", ["s01", "s09"]) == "train"
