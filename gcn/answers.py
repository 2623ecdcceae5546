"""What a classifier's logits answer, in numpy only (no torch): the ranked classes, the muscle
groups worked, and "none of these" from a calibrated rejection. The PyTorch path
(:mod:`.inference`), ensembles and exported models (:mod:`.onnx_runtime`) all answer through
:func:`answer_from_logits`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .evaluation import MUSCLE_THRESHOLD, sigmoid, softmax
from .heads import Heads
from .rejection import NONE_OF_THESE, Rejection


def rank(class_names: tuple[str, ...] | list[str], probabilities: np.ndarray,
         top_k: int = 5) -> list[tuple[str, float]]:
    """The ``top_k`` ``(class, probability)`` pairs, most probable first. Shapes: ``probabilities (K,)``."""
    order = np.argsort(-probabilities)[:top_k]
    return [(class_names[i], float(probabilities[i])) for i in order]


@dataclass(frozen=True)
class Answer:
    """What ``classify`` answers: the class (or "none of these"), the ranked probabilities and,
    for models with muscle groups, each group's probability (highest first)."""

    answer: str  # "" for a muscles-only model
    rejected: bool
    ranking: list[tuple[str, float]]  # calibrated when the checkpoint has a rejection
    threshold: float | None  # top probability below which the answer is "none of these"; None = off
    muscles: list[tuple[str, float]] = field(default_factory=list)

    @property
    def muscles_worked(self) -> list[str]:
        """The groups predicted as worked (probability at least ``MUSCLE_THRESHOLD``), highest first."""
        return [group for group, probability in self.muscles if probability >= MUSCLE_THRESHOLD]


def muscle_ranking(heads: Heads, logits: np.ndarray) -> list[tuple[str, float]]:
    probabilities = sigmoid(heads.muscles(logits))
    return sorted(zip(heads.groups, map(float, probabilities)), key=lambda pair: -pair[1])


def answer_from_logits(heads: Heads, logits: np.ndarray, top_k: int = 5, rejection: Rejection | None = None,
                       embedding: np.ndarray | None = None) -> Answer:
    """The answer for one video's logits ``(outputs,)`` from a model (or ensemble) with ``heads``;
    with ``rejection`` (and the head's input ``embedding`` when it has a distance rule), "none of
    these" when far from every class."""
    muscles = muscle_ranking(heads, logits) if heads.groups else []
    if not heads.exercise_count:
        return Answer("", False, [], None, muscles)
    probabilities = softmax(heads.exercise(logits)[None])[0]
    if rejection is None:
        ranking = rank(heads.class_names, probabilities, top_k)
        return Answer(ranking[0][0], False, ranking, None, muscles)
    calibrated = rejection.probabilities(np.log(np.clip(probabilities, 1e-12, None)))[0]
    ranking = rank(heads.class_names, calibrated, top_k)
    rejected = bool(rejection.rejects(calibrated, embedding)[0])
    threshold = rejection.threshold if rejection.active else None
    return Answer(NONE_OF_THESE if rejected else ranking[0][0], rejected, ranking, threshold, muscles)
