"""What scoring a video returns: per joint and frame, per frame, running, whole video, worst joints.

- **frame score**: the mean of the frame's scored body joints (``normalise.BODY_JOINTS``: one
  head point, shoulders, elbows, wrists, hips, knees, ankles); other joints (face, hands, feet)
  get joint scores but do not count, so ten face points cannot outvote the knees. A frame with no
  scored body joint (nobody seen) has no score (NaN).
- **mean score**: the mean of the frame scores over the frames that have one.
- **running score**: see :mod:`posegraph.scoring.running`.
- **worst joints**: the three body joints furthest from the reference over the frames where they
  were scored (the highest mean ramp position, :meth:`.mapping.Calibration.ramp`: the score's
  floor at 0 would tie every joint past the ramp's end), each with its mean score and the frame
  (and time, when known) where it was furthest off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .running import running_score

WORST_COUNT = 3


@dataclass(frozen=True)
class WorstJoint:
    """One of the worst joints: its name, mean score, and its worst moment."""

    joint: str
    mean_score: float
    frame_index: int
    time: float | None  # seconds, when the frame times or rate are known
    mean_ramp: float | None = None  # mean ramp position (0: typical good, 1: scores 0; not capped)

    def to_dict(self) -> dict[str, object]:
        return {"joint": self.joint, "mean_score": round(self.mean_score, 2),
                "frame_index": self.frame_index, "time": self.time,
                "mean_ramp": None if self.mean_ramp is None else round(self.mean_ramp, 3)}


@dataclass(frozen=True)
class FormScore:
    """Form scores of one video against a reference (0-100, higher is closer to good form).

    Shapes: ``frame_scores (T,)``, ``joint_scores (T, V)`` in ``joint_names`` order,
    ``running_score (T,)``, ``matched_phase (T,)`` the reference pose cluster each frame was
    compared with (-1: none, and always -1 for ``method="joint"``), ``joint_ramps (T, V)`` each
    joint's ramp position (:meth:`.mapping.Calibration.ramp`: ``joint_scores`` before the clip
    to 0-100, 0 typical good, 1 score 0; None where not kept). NaN = no score.
    """

    mean_score: float
    frame_scores: np.ndarray
    joint_scores: np.ndarray
    running_score: np.ndarray
    worst_joints: tuple[WorstJoint, ...]
    joint_names: tuple[str, ...]
    method: str
    matched_phase: np.ndarray
    joint_ramps: np.ndarray | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary with the issue's fields; NaN becomes None, scores rounded to 0.01."""
        return {
            "mean_score": _number(self.mean_score),
            "frame_scores": [_number(value) for value in self.frame_scores],
            "joint_scores": [[_number(value) for value in row] for row in self.joint_scores],
            "running_score": [_number(value) for value in self.running_score],
            "worst_joints": [worst.to_dict() for worst in self.worst_joints],
        }


def _number(value: float) -> float | None:
    return None if not math.isfinite(value) else round(float(value), 2)


def summarise(joint_scores: np.ndarray, body_joints: np.ndarray, joint_names: tuple[str, ...],
              method: str, matched_phase: np.ndarray, times: np.ndarray | None = None,
              joint_ramps: np.ndarray | None = None) -> FormScore:
    """Frame, running and mean scores and the worst joints from per-joint scores (module docstring).

    Shapes: ``joint_scores (T, V)``, ``body_joints (J,)`` indices that count in frame scores,
    ``matched_phase (T,)``, ``times (T,)`` seconds or None, ``joint_ramps (T, V)`` or None (the
    worst joints are then the lowest mean scores) -> :class:`FormScore`.
    """
    body = joint_scores[:, body_joints]
    scored = np.isfinite(body)
    counts = scored.sum(axis=1)
    frame_scores = np.where(scored, body, 0.0).sum(axis=1) / np.maximum(counts, 1)
    frame_scores[counts == 0] = np.nan
    mean_score = float(frame_scores[counts > 0].mean()) if (counts > 0).any() else float("nan")
    worst = furthest_joints(joint_scores, body_joints, joint_names, WORST_COUNT, times, joint_ramps)
    return FormScore(mean_score, frame_scores, joint_scores, running_score(frame_scores),
                     worst, joint_names, method, matched_phase, joint_ramps)


def furthest_joints(joint_scores: np.ndarray, columns: np.ndarray | list[int], joint_names: tuple[str, ...],
                    count: int, times: np.ndarray | None = None,
                    joint_ramps: np.ndarray | None = None) -> tuple[WorstJoint, ...]:
    """The ``count`` joints among ``columns`` furthest from the reference over these frames
    (module docstring: by mean ramp where ``joint_ramps`` are given, else by lowest mean score;
    joints never scored are left out), each with the frame where it was furthest off.

    Shapes: ``joint_scores (T, V)``, ``joint_ramps (T, V)`` or None, ``times (T,)`` seconds or
    None; frame indices count from this array's first row.
    """
    columns = np.asarray(columns, dtype=np.int64)
    scores = joint_scores[:, columns]
    scored = np.isfinite(scores)
    seen = scored.sum(axis=0)
    means = np.where(scored, scores, 0.0).sum(axis=0) / np.maximum(seen, 1)
    # furthest off first: the ramp, where kept, ranks joints the clipped score ties at 0
    off = -scores if joint_ramps is None else np.where(scored, joint_ramps[:, columns], np.nan)
    mean_off = np.where(scored, np.nan_to_num(off), 0.0).sum(axis=0) / np.maximum(seen, 1)
    worst = []
    for position in [p for p in np.argsort(-mean_off, kind="stable") if seen[p] > 0][:count]:
        frame = int(np.nanargmax(off[:, position]))
        worst.append(WorstJoint(joint_names[columns[position]], float(means[position]), frame,
                                None if times is None else float(times[frame]),
                                None if joint_ramps is None else float(mean_off[position])))
    return tuple(worst)
