"""The source's running score: each frame's score averaged with the running score before it.

The source (Smart Fitness Trainer, keypoint scoring algorithm: "For further frames, the score is
the average of the current score and the score of previous frames") keeps one score for the
frames so far and averages it with each new frame's score:

    r_0 = s_0,        r_t = (s_t + r_{t-1}) / 2

an exponential average with weight 1/2 on the newest frame, so a bad moment shows at once and
fades within a few frames. A frame without a score (nobody seen) carries the previous running
score; frames before the first scored one have none (NaN).
"""

from __future__ import annotations

import math

import numpy as np


def running_score(frame_scores: np.ndarray) -> np.ndarray:
    """The rule above, frame by frame (a plain loop: a few million frames per second).

    Shapes: ``frame_scores (T,)`` with NaN for unscored frames -> ``(T,)``.
    """
    scores = np.asarray(frame_scores, dtype=np.float64).tolist()
    result = [float("nan")] * len(scores)
    running = float("nan")
    for index, score in enumerate(scores):
        if not math.isnan(score):
            running = score if math.isnan(running) else (score + running) / 2.0
        result[index] = running
    return np.array(result, dtype=np.float64)
