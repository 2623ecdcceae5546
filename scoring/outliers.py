"""Which reference frames to leave out: too little of the body seen, or fitting no phase.

A reference should describe good form, not the pose estimator's failures: a frame where the
body was half lost, or where the skeleton flipped or jumped onto something else, would widen
the spread of a phase and make faulty frames near it look good. Two rules:

1. **too little seen** (before clustering): fewer than ``MIN_SEEN_SHARE`` (half) of the body
   joints (``normalise.BODY_JOINTS``) seen.
2. **fits no phase** (while the phases are measured, :mod:`.phases`): ``d`` = the frame's
   matching distance, the root of the mean squared Mahalanobis distance of its body joints to
   the nearest phase. A frame is an outlier when its robust z-score
   ``0.6745 * (d - median(d)) / MAD(d)`` over the reference frames exceeds ``ROBUST_Z``
   (3.5, Iglewicz and Hoaglin's cut-off). Only far frames go (one-sided); the median and MAD
   barely move with a few bad frames, unlike a mean and standard deviation. Outliers are left
   out of the phases' centroids and spreads, of the per-joint baseline and of the calibration.

Why not the distance to the reference's *median pose*: an exercise moves far from its median
pose in every repetition (the bottom of a squat, a curled arm), so that rule removed valid
turning points (a sixth of a biceps curl's moving frames on synthetic data). Measured from the
nearest phase, a turning point is close to its own phase and a glitch is far from all of them.
"""

from __future__ import annotations

import numpy as np

MIN_SEEN_SHARE = 0.5
ROBUST_Z = 3.5


def too_little_seen(poses: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """Rule 1. Shapes: ``poses (N, V, 2)``, ``joints (J,)`` body-joint indices -> ``(N,)`` bool."""
    if not len(joints):
        return np.ones(len(poses), dtype=bool)
    return np.isfinite(poses[:, joints]).all(axis=-1).mean(axis=1) < MIN_SEEN_SHARE


def far_frames(distances: np.ndarray) -> np.ndarray:
    """Rule 2: robust z-score above ``ROBUST_Z``; a NaN or infinite distance is far.

    Shapes: ``distances (N,)`` -> ``(N,)`` bool.
    """
    finite = np.isfinite(distances)
    far = ~finite
    if finite.sum() >= 2:
        centre = np.median(distances[finite])
        spread = np.median(np.abs(distances[finite] - centre))
        if spread > 0:
            far[finite] = 0.6745 * (distances[finite] - centre) / spread > ROBUST_Z
    return far
