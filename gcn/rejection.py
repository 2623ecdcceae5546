"""Calibrated "none of these": temperature scaling, a confidence threshold and a distance threshold.

A classifier's softmax always names one of its classes, however far the video is from all of them.
After training, from the model's own outputs:

1. a temperature ``T`` is fitted on the validation split by minimising the negative log-likelihood
   of ``softmax(logits / T)`` (Guo et al., 2017), so a probability of 0.8 means right about 80% of
   the time;
2. *ambiguous* videos: the calibrated top probability is low;
3. *unfamiliar* videos: the video's embedding (what the classifier head reads) is far, in
   Mahalanobis distance, from every class mean of the training videos (Lee et al., 2018), with a
   shared covariance shrunk by the Ledoit-Wolf estimate (data-derived, so small training sets
   work). A movement unlike anything trained on can still get a confident softmax (a plank held
   still looks like the top of a push-up); its embedding is far from all of them.

Both thresholds are quantiles over the validation videos (known classes the weights never trained
on): each keeps ``1 - (1 - coverage) / 2`` of them, so together they answer about ``coverage`` of
videos of known classes (0.95, the usual "TPR 95" operating point). Nothing is tuned to
particular videos. A 97.5% quantile cannot be estimated from fewer than 40 videos (the largest of
12 sits near the 92nd percentile; on the demo it rejected 8 of 18 correctly classified videos), so
with fewer validation videos only the temperature is fitted and nothing is rejected
(:attr:`Rejection.active` is False; the log says so). The result is plain data (:class:`Rejection`, stored in the checkpoint) and
can be switched off per call.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import minimize_scalar

NONE_OF_THESE = "none of these"
DEFAULT_COVERAGE = 0.95
TEMPERATURE_BOUNDS = (0.2, 20.0)  # a validation split the model gets all right would push T towards 0


def calibrated_probabilities(logits: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(logits / T)`` row by row. Shapes: ``(N, classes)`` -> ``(N, classes)``."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exponentials = np.exp(scaled)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def negative_log_likelihood(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    probabilities = calibrated_probabilities(logits, temperature)
    return float(-np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, None)).mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising validation NLL (searched on a log scale within ``TEMPERATURE_BOUNDS``)."""
    low, high = np.log(TEMPERATURE_BOUNDS[0]), np.log(TEMPERATURE_BOUNDS[1])
    result = minimize_scalar(lambda log_t: negative_log_likelihood(logits, labels, float(np.exp(log_t))),
                             bounds=(low, high), method="bounded", options={"xatol": 1e-4})
    return float(np.exp(result.x))


@dataclass(frozen=True)
class ClassDistance:
    """Mahalanobis distance of embeddings to the nearest class mean (shared, shrunk covariance).

    Shapes: ``means (classes, D)``, ``precision (D, D)``.
    """

    means: np.ndarray
    precision: np.ndarray

    @classmethod
    def fit(cls, embeddings: np.ndarray, labels: np.ndarray) -> "ClassDistance":
        from sklearn.covariance import LedoitWolf

        embeddings, labels = np.asarray(embeddings, dtype=np.float64), np.asarray(labels)
        classes = np.unique(labels)
        means = np.stack([embeddings[labels == label].mean(axis=0) for label in classes])
        centred = embeddings - means[np.searchsorted(classes, labels)]
        covariance = LedoitWolf(assume_centered=True).fit(centred).covariance_
        return cls(means, np.linalg.pinv(covariance, hermitian=True))

    def __call__(self, embeddings: np.ndarray) -> np.ndarray:
        """``(N, D)`` -> ``(N,)`` squared distance to the nearest class mean."""
        offsets = np.atleast_2d(embeddings)[:, None, :] - self.means[None]
        return np.einsum("nkd,de,nke->nk", offsets, self.precision, offsets).min(axis=1)


@dataclass(frozen=True)
class Rejection:
    """When to answer "none of these" (stored in checkpoints as a plain dict)."""

    temperature: float
    threshold: float  # calibrated maximum probability below which a video is rejected
    coverage: float  # share of the validation videos (known classes) answered by both rules
    validation_videos: int
    nll_before: float  # validation NLL at T = 1 and at the fitted T (shows what calibration did)
    nll_after: float
    distance: ClassDistance | None = None
    distance_threshold: float | None = None  # squared Mahalanobis distance above which a video is rejected

    def to_dict(self) -> dict:
        content = {key: value for key, value in asdict(self).items() if key != "distance"}
        if self.distance is not None:
            content["class_means"] = self.distance.means.tolist()
            content["precision"] = self.distance.precision.tolist()
        return content

    @classmethod
    def from_dict(cls, content: dict) -> "Rejection":
        distance = None
        if content.get("class_means") is not None:
            distance = ClassDistance(np.asarray(content["class_means"]), np.asarray(content["precision"]))
        scalars = {key: content.get(key) for key in cls.__dataclass_fields__ if key != "distance"}
        return cls(**scalars, distance=distance)

    @property
    def active(self) -> bool:
        """False when too few validation videos set the thresholds: calibrated probabilities only."""
        return self.threshold > 0.0 or self.distance is not None

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        return calibrated_probabilities(np.atleast_2d(logits), self.temperature)

    def rejects(self, probabilities: np.ndarray, embeddings: np.ndarray | None = None) -> np.ndarray:
        """``(N, classes)`` calibrated probabilities (and ``(N, D)`` embeddings) -> ``(N,)`` True = "none of these"."""
        rejected = np.atleast_2d(probabilities).max(axis=1) < self.threshold
        if embeddings is not None and self.distance is not None:
            rejected |= self.distance(embeddings) > self.distance_threshold
        return rejected


def fit_rejection(logits: np.ndarray, labels: np.ndarray, coverage: float = DEFAULT_COVERAGE,
                  embeddings: np.ndarray | None = None, train_embeddings: np.ndarray | None = None,
                  train_labels: np.ndarray | None = None) -> Rejection:
    """Temperature and thresholds from validation logits ``(N, classes)`` and labels ``(N,)``.

    With validation ``embeddings (N, D)`` and the training videos' ``train_embeddings (M, D)`` and
    ``train_labels (M,)``, the distance rule is fitted too (class means and covariance from the
    training videos, its threshold from the validation videos).
    """
    if not 0.0 < coverage <= 1.0:
        raise ValueError(f"coverage must be in (0, 1], got {coverage}")
    logits, labels = np.asarray(logits, dtype=np.float64), np.asarray(labels)
    if len(labels) == 0:
        raise ValueError("cannot calibrate rejection without validation videos")
    temperature = fit_temperature(logits, labels)
    nll = (negative_log_likelihood(logits, labels, 1.0), negative_log_likelihood(logits, labels, temperature))
    if len(labels) < minimum_videos(coverage):
        return Rejection(temperature, 0.0, 1.0, int(len(labels)), *nll)
    confidence = calibrated_probabilities(logits, temperature).max(axis=1)
    with_distance = embeddings is not None and train_embeddings is not None and len(train_embeddings) > 1
    each = 1.0 - (1.0 - coverage) / 2 if with_distance else coverage
    threshold = float(np.quantile(confidence, 1.0 - each, method="lower")) if each < 1.0 else 0.0
    answered = confidence >= threshold
    distance, distance_threshold = None, None
    if with_distance:
        distance = ClassDistance.fit(train_embeddings, train_labels)
        distances = distance(embeddings)
        distance_threshold = float(np.quantile(distances, each, method="higher")) if each < 1.0 else float("inf")
        answered &= distances <= distance_threshold
    return Rejection(temperature, threshold, float(answered.mean()), int(len(labels)), *nll,
                     distance, distance_threshold)


def minimum_videos(coverage: float = DEFAULT_COVERAGE) -> int:
    """Validation videos needed to estimate each rule's ``1 - (1 - coverage) / 2`` quantile at all."""
    return int(np.ceil(2.0 / (1.0 - coverage))) if coverage < 1.0 else 1
