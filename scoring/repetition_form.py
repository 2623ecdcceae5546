"""Form per repetition: score, the joints to blame, range of motion and tempo (issue 24).

A video's form scores (:class:`.result.FormScore`, per joint and frame) and its counted
repetitions (:class:`.counting.RepetitionCount`, each with its start, turning point and end)
give, per repetition:

- **score**: the mean frame score over the repetition's frames (0-100);
- **worst joints**: the body joints furthest from the reference over those frames, ranked by
  their mean ramp position (``ramp``: 0 as close as a typical good frame, 1 far enough to score
  0, not capped; :meth:`.mapping.Calibration.ramp`), each with its mean score (0-100) and the
  moment it was furthest off. The cap matters: a joint twice as far past the ramp's end as
  another scores 0 as well, and a repetition whose worst joint is far past it would tie with
  one just past it;
- **depth**: the repetition's travel (:func:`travels`: the 95th minus 5th percentile of the
  body's position along the main direction of its movement, in torso lengths) against the good
  executions' typical travel (:class:`RangeOfMotion`, fitted from the reference's videos). A
  shallow squat passes through poses a good descent also holds, so its frame scores look good
  (ROC-AUC 0.44 against good squats on the synthetic set); its travel does not (good squats of
  12 new subjects 0.88-1.20 of the reference's, their shallow versions 0.37-0.53;
  ``benchmarks/analysis.py``'s subjects, measured 2026-12-07). The travel is measured along the body's
  own movement, so the camera's side matters little; joint angles do (the knee's 2-D swing of the
  same good squat read 0.46 to 1.23 of the reference's across the synthetic camera views), so
  each :data:`ROM_ANGLES` angle's swing (degrees) is reported beside it, not used for depth;
- **tempo**: seconds from the start to the turning point (the way there, e.g. down) and from
  the turning point to the end (the way back).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

from posegraph.features import FEATURE_NAMES, build_features
from posegraph.skeleton.geometry import aspect_correct

from .counting import RepetitionCount
from .normalise import BODY_JOINTS
from .periodicity import first_direction, pose_trajectories
from .result import FormScore, furthest_joints

ROM_ANGLES = tuple(f"{side}_{joint}" for joint in ("knee_angle", "hip_angle", "elbow_angle", "shoulder_elevation")
                   for side in ("left", "right"))
WORST_PER_REPETITION = 2
BODY_NAMES = frozenset(BODY_JOINTS) | {"head"}  # the joints a repetition's blame may fall on (penn13 has a head)


@dataclass(frozen=True)
class RangeOfMotion:
    """Good executions' typical travel (torso lengths) and swing per angle (degrees), medians over
    ``repetitions`` of their repetitions. Plain data, saved in analysis bundles."""

    travel: float | None
    swing_deg: dict[str, float]
    repetitions: int

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, content: dict) -> "RangeOfMotion":
        travel = content.get("travel")
        return cls(None if travel is None else float(travel),
                   {str(k): float(v) for k, v in content["swing_deg"].items()}, int(content["repetitions"]))


def travels(count: RepetitionCount, joints: np.ndarray, layout: str) -> np.ndarray:
    """Each counted repetition's travel (torso lengths): the 95th minus 5th percentile of the body's
    position along the main direction of its movement, the first principal component (a unit
    vector) of the body-frame trajectories over the counted repetitions.

    Along a unit direction the travel compares people: the counter's own signal is weighted by
    how periodic each joint is, and its swing varied twofold between good executions of one
    exercise (coefficient of variation 0.19-0.28 over the 9 subjects of ``make demo``'s rendered
    videos, per exercise; along the unit direction 0.03-0.08, push-ups 0.21).

    Shapes: ``joints (T, V, C)`` what was counted -> ``(R,)``, NaN where a repetition has no frame.
    """
    starts, ends = count.boundaries()
    if not len(starts):
        return np.zeros(0)
    trajectories = pose_trajectories(joints, layout, count.fps)
    inside = np.concatenate([np.arange(int(a), int(b) + 1) for a, b in zip(starts, ends)])
    inside = inside[inside < len(trajectories)]
    if trajectories.shape[1] == 0 or len(inside) < 2:
        return np.full(len(starts), np.nan)
    moving = trajectories[inside] - trajectories[inside].mean(axis=0)
    direction = first_direction(moving)
    position = trajectories @ direction
    return np.array([np.percentile(position[int(a):int(b) + 1], 95) - np.percentile(position[int(a):int(b) + 1], 5)
                     if b >= a and a < len(position) else np.nan for a, b in zip(starts, ends)])


def angle_swings(joints: np.ndarray, layout: str, fps: float, starts: np.ndarray, ends: np.ndarray,
                 frame_size: tuple[int, int] | None = None) -> np.ndarray:
    """Per repetition, each :data:`ROM_ANGLES` angle's swing in degrees (NaN where unseen).

    Shapes: ``joints (T, V, 4)`` x, y fractions of a ``frame_size`` (width, height) frame,
    ``starts``/``ends (R,)`` frame indices -> ``(R, len(ROM_ANGLES))``.
    """
    width, height = frame_size or (None, None)
    upright = aspect_correct(np.asarray(joints, dtype=np.float32)[None], width, height)[0]
    features = build_features(upright, layout, fps)[0]
    angles = features[:, [FEATURE_NAMES.index(name) for name in ROM_ANGLES]]
    swings = np.full((len(starts), len(ROM_ANGLES)), np.nan)
    with warnings.catch_warnings():  # an angle never seen in a repetition has no percentile: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        for index, (start, end) in enumerate(zip(starts, ends)):
            part = angles[int(start):int(end) + 1]
            if len(part):
                swings[index] = np.nanpercentile(part, 95, axis=0) - np.nanpercentile(part, 5, axis=0)
    return swings


def fit_range_of_motion(swings: list[np.ndarray], travel: list[np.ndarray]) -> RangeOfMotion:
    """Medians over the repetitions of good executions: each angle's swing (``(R, angles)`` per
    video) and the travel (``(R,)`` per video, :func:`travels`)."""
    stacked = np.concatenate([np.atleast_2d(part) for part in swings if len(part)]) if swings else np.zeros((0, 0))
    moved = np.concatenate([part for part in travel if len(part)]) if travel else np.zeros(0)
    moved = moved[np.isfinite(moved)]
    if not len(stacked):
        return RangeOfMotion(None, {}, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        medians = np.nanmedian(stacked, axis=0)
    return RangeOfMotion(round(float(np.median(moved)), 4) if len(moved) else None,
                         {name: round(float(value), 2) for name, value in zip(ROM_ANGLES, medians)
                          if np.isfinite(value)}, int(len(stacked)))


@dataclass(frozen=True)
class RepetitionForm:
    """One repetition: where it lies, how well it went, how deep and how fast."""

    repetition: int
    set: int
    start_s: float
    turn_s: float
    end_s: float
    score: float | None  # 0-100, None where no frame could be scored
    worst_joints: list[dict]  # {"joint", "score", "ramp", "time_s"}, furthest off first
    depth: float | None  # travel against good executions' (1.0 = as far; None without a reference)
    swing_deg: dict[str, float]  # each ROM angle's swing in this repetition
    there_s: float  # start -> turning point
    back_s: float  # turning point -> end

    def to_dict(self) -> dict:
        return asdict(self)


def repetition_forms(count: RepetitionCount, form: FormScore | None, joints: np.ndarray, layout: str,
                     timestamps: np.ndarray, rom: RangeOfMotion | None = None,
                     frame_size: tuple[int, int] | None = None) -> list[RepetitionForm]:
    """Every counted repetition's :class:`RepetitionForm` (module docstring).

    Shapes: ``joints (T, V, 4)`` the video's (what was counted and scored; x, y fractions of a
    ``frame_size`` frame), ``timestamps (T,)`` seconds.
    """
    starts, ends = count.boundaries()
    if not len(starts):
        return []
    swings = angle_swings(joints, layout, count.fps, starts, ends, frame_size)
    moved = travels(count, joints, layout)
    set_of = _set_numbers(count, starts)
    forms = []
    for index, (start, turn, end) in enumerate(zip(starts, count.frames, ends)):
        score, worst = _scores_between(form, int(start), int(end), timestamps) if form is not None else (None, [])
        depth = None
        if rom is not None and rom.travel and np.isfinite(moved[index]):
            depth = round(float(moved[index] / rom.travel), 3)
        forms.append(RepetitionForm(
            index + 1, set_of[index], _time(timestamps, start), _time(timestamps, turn), _time(timestamps, end),
            score, worst, depth,
            {name: round(float(value), 1) for name, value in zip(ROM_ANGLES, swings[index]) if np.isfinite(value)},
            round(_time(timestamps, turn) - _time(timestamps, start), 3),
            round(_time(timestamps, end) - _time(timestamps, turn), 3)))
    return forms


def _time(timestamps: np.ndarray, frame) -> float:
    return round(float(timestamps[min(int(frame), len(timestamps) - 1)]), 3)


def _set_numbers(count: RepetitionCount, starts: np.ndarray) -> list[int]:
    """The 1-based set each repetition belongs to (by the sets' frame spans; 1 without sets)."""
    numbers = []
    for start in starts:
        inside = [position + 1 for position, item in enumerate(count.sets) if item.start <= start <= item.end]
        numbers.append(inside[0] if inside else (numbers[-1] if numbers else 1))
    return numbers


def _scores_between(form: FormScore, start: int, end: int, timestamps: np.ndarray) -> tuple[float | None, list[dict]]:
    """The mean frame score over frames ``[start, end]`` and the worst body joints there."""
    frames = form.frame_scores[start:end + 1]
    if not np.isfinite(frames).any():
        return None, []
    body = [position for position, name in enumerate(form.joint_names) if name in BODY_NAMES]
    ramps = None if form.joint_ramps is None else form.joint_ramps[start:end + 1]
    worst = [{"joint": joint.joint, "score": round(joint.mean_score, 1),
              "ramp": None if joint.mean_ramp is None else round(joint.mean_ramp, 3),
              "time_s": _time(timestamps, start + joint.frame_index)}
             for joint in furthest_joints(form.joint_scores[start:end + 1], body, form.joint_names,
                                          WORST_PER_REPETITION, joint_ramps=ramps)]
    return round(float(np.nanmean(frames)), 1), worst
