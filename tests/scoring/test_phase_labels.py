"""The three phase schemes from one annotation, and the decoding rule on scripted sequences."""

import numpy as np
import pytest

from posegraph.data.synthetic import generate_sequence, make_subjects
from posegraph.scoring.phase_labels import decode_repetitions, phases_from_repetitions, repetitions_from_phases

REPETITIONS = [(10, 29), (40, 59), (60, 79)]


@pytest.mark.parametrize("scheme", ["end", "middle_end", "halves"])
def test_each_scheme_from_one_annotation_decodes_to_the_annotated_count(scheme):
    labels = phases_from_repetitions(100, REPETITIONS, scheme)
    assert len(decode_repetitions(labels, scheme)) == 3
    if scheme == "halves":
        assert list(labels[10:30]) == ["first"] * 10 + ["second"] * 10 and labels[5] == "none"
    else:
        assert labels[29] == "end" and labels[30] == "within" and ("middle" in set(labels)) == (scheme == "middle_end")


def test_jitter_and_a_missing_middle_do_not_count():
    labels = phases_from_repetitions(100, REPETITIONS, "middle_end")
    jittery = labels.copy()
    jittery[[30, 32]] = "end"  # flicker right after an end: no middle since the last count
    assert len(decode_repetitions(jittery, "middle_end")) == 3
    no_middle = labels.copy()
    no_middle[(labels == "middle") & (np.arange(100) >= 40) & (np.arange(100) < 60)] = "within"
    assert decode_repetitions(no_middle, "middle_end") == [28, 78]  # the second repetition's end is not counted
    assert len(decode_repetitions(jittery, "end")) == 4  # the end-only scheme has no such guard: one extra


def test_synthetic_phase_tracks_give_their_repetitions():
    sequence = generate_sequence("squat", make_subjects(1)[0], repetitions=5, frames_per_second=30.0)
    repetitions = repetitions_from_phases(sequence.phase)
    assert len(repetitions) == 5
    for scheme in ("end", "middle_end", "halves"):
        assert len(decode_repetitions(phases_from_repetitions(len(sequence.phase), repetitions, scheme), scheme)) == 5
    with pytest.raises(ValueError, match="unknown phase scheme"):
        phases_from_repetitions(10, [], "thirds")
