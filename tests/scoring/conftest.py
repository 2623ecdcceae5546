"""Shared data for the scoring tests: small synthetic corpora and fitted references."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from posegraph.data.synthetic import SyntheticSequence, generate_sequence, make_subjects
from posegraph.scoring import FormReference

SUBJECTS = make_subjects(8, seed=0)
REFERENCE_SUBJECTS, TEST_SUBJECTS = SUBJECTS[:5], SUBJECTS[5:]


def _sequences(exercise: str, reference: bool = False, fault: str | None = None,
               takes: tuple[int, ...] = (7,)) -> list[SyntheticSequence]:
    """Three-repetition sequences of the reference subjects (takes 0, 1) or the test subjects."""
    people, takes = (REFERENCE_SUBJECTS, (0, 1)) if reference else (TEST_SUBJECTS, takes)
    return [generate_sequence(exercise, person, take=take, seed=0, fault=fault, repetitions=3)
            for person in people for take in takes]


def _fit(exercise: str, **options: object) -> FormReference:
    """A reference from five subjects x two takes of ``exercise`` (about 1,300 frames)."""
    good = _sequences(exercise, reference=True)
    return FormReference.fit([s.joints for s in good], exercise=exercise,
                             frame_sizes=[(s.width, s.height) for s in good],
                             video_ids=[s.sequence_id for s in good], **options)


def _roc_auc(good: np.ndarray, bad: np.ndarray) -> float:
    """ROC-AUC of "a higher score means valid" (NaN scores left out)."""
    from sklearn.metrics import roc_auc_score

    good, bad = good[np.isfinite(good)], bad[np.isfinite(bad)]
    return float(roc_auc_score(np.r_[np.ones(len(good)), np.zeros(len(bad))], np.r_[good, bad]))


@pytest.fixture(scope="session")
def synthetic() -> Callable[..., list[SyntheticSequence]]:
    return _sequences


@pytest.fixture(scope="session")
def roc_auc() -> Callable[[np.ndarray, np.ndarray], float]:
    return _roc_auc


@pytest.fixture(scope="session")
def squat_reference() -> FormReference:
    return _fit("squat")


@pytest.fixture(scope="session")
def push_up_reference() -> FormReference:
    return _fit("push_up")
