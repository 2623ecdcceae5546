"""Deviation -> 0-100 score, calibrated on the reference's own deviations, joint by joint.

A deviation means nothing on its own: a wrist moves further than a hip, and pose estimators are
noisier on wrists. So each joint's scale comes from how far the reference's own frames deviate
(measured exactly as a new frame will be, through the same clusters). For joint j, with
``D_j`` the deviations of that joint over the reference frames used for fitting:

    low_j  = median(D_j)                       as close as a typical good frame
    high_j = MARGIN * quantile(D_j, 0.99)      MARGIN (3) times further than all but 1% of them

    score  = 100 * clip((high_j - d) / (high_j - low_j), 0, 1)

A joint at least as close as the median reference frame scores 100; the score falls linearly
and reaches 0 at three times the reference's 99th percentile (a joint at that percentile scores
about 70). Every number comes from the reference, none is set per exercise. The margin is
there because the reference's own deviations are in-sample (its frames shaped the clusters):
new good executions deviate more.

How MARGIN was chosen: over the benchmark's 15 valid-against-faulty comparisons (real bicep,
lunge and plank errors under two splits, four synthetic faults and other exercises,
``benchmarks/scoring.py``), the margin giving the widest gap between the mean scores of valid
and of faulty executions, the issue's own yardstick. Margins 2 and 3 tied (44 points; 1.5: 41,
4: 42); 3 ranks frames better (mean ROC-AUC 0.938 against 0.928). Rules that squeeze valid
executions towards 50 did worse on both counts: the quantile of the reference itself as a score
(AUC 0.879) and a Gaussian falling to 50 at the median deviation (0.875).

A deviation of NaN (joint not seen, or never seen in the reference) gives a NaN score, never a
bad one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOW_QUANTILE = 0.5
HIGH_QUANTILE = 0.99
MARGIN = 3.0
MIN_SAMPLES = 5  # fewer reference deviations than this: the joint is not calibrated (no score)


@dataclass(frozen=True)
class Calibration:
    """Per-joint ends of the linear ramp from 100 to 0.

    Shapes: ``low (V,)``, ``high (V,)`` deviation units; NaN for joints without a scale.
    """

    low: np.ndarray
    high: np.ndarray

    def ramp(self, deviations: np.ndarray) -> np.ndarray:
        """How far along its ramp each deviation lies, not capped: 0 at ``low`` (score 100),
        1 at ``high`` (score 0), 3 three ramps out. Summaries over a repetition rank joints on
        this: the score's floor at 0 ties every joint past the ramp's end, however far past.

        Shapes: ``deviations (T, V)`` -> ``(T, V)`` float64, NaN where NaN."""
        with np.errstate(invalid="ignore"):
            return (deviations - self.low) / (self.high - self.low)

    def scores(self, deviations: np.ndarray) -> np.ndarray:
        """Shapes: ``deviations (T, V)`` -> ``(T, V)`` float64 in 0-100, NaN where NaN."""
        return scores_from_ramp(self.ramp(deviations))


def scores_from_ramp(ramp: np.ndarray) -> np.ndarray:
    """0-100 scores from :meth:`Calibration.ramp` positions: ``100 * clip(1 - ramp, 0, 1)``."""
    with np.errstate(invalid="ignore"):
        return 100.0 * np.clip(1.0 - ramp, 0.0, 1.0)


def calibrate(deviations: np.ndarray) -> Calibration:
    """The ramp of each joint from the reference's own deviations (module docstring).

    Shapes: ``deviations (N, V)`` of the reference frames, NaN where not seen ->
    :class:`Calibration` with ``(V,)`` arrays.
    """
    joints = deviations.shape[1]
    low, high = np.full(joints, np.nan), np.full(joints, np.nan)
    for joint in range(joints):
        values = deviations[:, joint]
        values = values[np.isfinite(values)]
        if values.size < MIN_SAMPLES:
            continue
        low[joint] = np.quantile(values, LOW_QUANTILE)
        high[joint] = max(MARGIN * np.quantile(values, HIGH_QUANTILE), low[joint] * (1 + 1e-6) + 1e-9)
    return Calibration(low, high)
