"""Cues in plain words from the per-repetition measures (:mod:`.repetition_form`), each tied to
the repetitions and joints that caused it.

The rules compare a repetition with good executions (its depth against the reference's range
of motion, its score) or with the person's own other repetitions (tempo, form fading), so they
need no per-exercise thresholds:

- **depth**: repetitions under :data:`SHALLOW` of the good executions' range of motion
  ("reps 6-8: about half (48%) of the range of motion of a good squat; go further");
- **joints**: a repetition whose weakest body joint scores under :data:`LOW_SCORE` (over the
  repetition) names it and its worst moment ("rep 4: right knee furthest from good form (score 31)
  at 3.20 s"): a fault sits in a few joints, and the repetition's mean over 13 joints dilutes it
  (synthetic caving knees, video ROC-AUC: 0.81 by the mean, 0.95 by the weakest joint);
- **tempo**: a repetition taking under :data:`RUSHED` or over :data:`DRAGGED` times the median
  duration ("rep 7: quicker than your others (0.8 s against 1.6 s)");
- **fading**: the last third of a set's repetitions scoring :data:`FADE_POINTS` or more below
  the first third.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .repetition_form import RepetitionForm

SHALLOW = 0.75  # of good executions' range of motion
LOW_SCORE = 60.0  # a repetition whose weakest joint scores under this names it
RUSHED, DRAGGED = 0.6, 1.7  # of the median repetition's duration
FADE_POINTS = 15.0  # score points lost from a set's first third to its last


@dataclass(frozen=True)
class Cue:
    """One piece of advice: the words, the kind of rule, the repetitions (1-based) and joints it is about."""

    text: str
    kind: str  # depth | joint | tempo | fading
    repetitions: list[int]
    joints: list[str]

    def to_dict(self) -> dict:
        return asdict(self)


def cues_for(forms: list[RepetitionForm], exercise: str | None) -> list[Cue]:
    """Every cue the repetitions call for, in the order a coach would say them (depth, joints,
    tempo, fading)."""
    return [*_depth(forms, exercise), *_joints(forms), *_tempo(forms), *_fading(forms)]


def _runs(numbers: list[int]) -> list[list[int]]:
    """Consecutive repetition numbers grouped: [1, 2, 3, 6] -> [[1, 2, 3], [6]]."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return runs


def _named(run: list[int]) -> str:
    return f"rep {run[0]}" if len(run) == 1 else f"reps {run[0]}-{run[-1]}"


def _depth(forms: list[RepetitionForm], exercise: str | None) -> list[Cue]:
    shallow = [form.repetition for form in forms if form.depth is not None and form.depth < SHALLOW]
    cues = []
    for run in _runs(shallow):
        depth = float(np.mean([forms[number - 1].depth for number in run]))
        words = f"about half ({depth:.0%})" if 0.4 <= depth <= 0.6 else f"{depth:.0%}"
        what = f"a good {exercise.replace('_', ' ')}" if exercise else "good executions"
        cues.append(Cue(f"{_named(run)}: {words} of the range of motion of {what}; go further",
                        "depth", run, []))
    return cues


def _joints(forms: list[RepetitionForm]) -> list[Cue]:
    cues = []
    for form in forms:
        if not form.worst_joints or form.worst_joints[0]["score"] >= LOW_SCORE:
            continue
        worst = form.worst_joints[0]
        name = worst["joint"].replace("_", " ")
        cues.append(Cue(f"rep {form.repetition}: {name} furthest from good form (score {worst['score']:.0f}) "
                        f"at {worst['time_s']:.2f} s", "joint", [form.repetition], [worst["joint"]]))
    return cues


def _tempo(forms: list[RepetitionForm]) -> list[Cue]:
    durations = np.array([form.there_s + form.back_s for form in forms])
    if len(durations) < 3:
        return []
    typical = float(np.median(durations))
    cues = []
    for form, duration in zip(forms, durations):
        if duration < RUSHED * typical:
            cues.append(Cue(f"rep {form.repetition}: quicker than your others ({duration:.1f} s against "
                            f"{typical:.1f} s); keep the pace even", "tempo", [form.repetition], []))
        elif duration > DRAGGED * typical:
            cues.append(Cue(f"rep {form.repetition}: slower than your others ({duration:.1f} s against "
                            f"{typical:.1f} s)", "tempo", [form.repetition], []))
    return cues


def _fading(forms: list[RepetitionForm]) -> list[Cue]:
    cues = []
    for number in sorted({form.set for form in forms}):
        scored = [form for form in forms if form.set == number and form.score is not None]
        if len(scored) < 6:
            continue
        third = len(scored) // 3
        first, last = scored[:third], scored[-third:]
        drop = np.mean([form.score for form in first]) - np.mean([form.score for form in last])
        if drop >= FADE_POINTS:
            cues.append(Cue(f"form fades: reps {last[0].repetition}-{last[-1].repetition} score {drop:.0f} points "
                            f"below reps {first[0].repetition}-{first[-1].repetition}; rest sooner or lighten "
                            "the load", "fading", [form.repetition for form in last], []))
    return cues
