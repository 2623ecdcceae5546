"""Per-frame repetition phases in the source study's three schemes, and counting from them.

One annotation (each repetition's start and end frame) gives all three schemes:

1. ``end``: ``within`` for every frame, ``end`` on the last frames of each repetition;
2. ``middle_end``: as 1, plus ``middle`` on the frames around each repetition's midpoint;
3. ``halves``: ``first`` for the first half of each repetition, ``second`` for the second half
   (``none`` outside repetitions).

:func:`decode_repetitions` turns a per-frame phase sequence (a classifier's output, say) into
repetitions with the study's rule: a repetition counts at an ``end`` event only when a ``middle``
event (or, in the halves scheme, a ``second``-half event) was seen since the last count, so that
jitter around an end, or an end with no repetition before it, counts nothing.
"""

from __future__ import annotations

import numpy as np

from ..skeleton.vocabulary import PHASE_SCHEMES

SCHEMES = PHASE_SCHEMES
EVENT_FRAMES = 0.1  # the share of a repetition's frames labelled end (and middle), at least one frame


def phases_from_repetitions(frame_count: int, repetitions: list[tuple[int, int]], scheme: str) -> np.ndarray:
    """Per-frame labels ``(T,)`` of ``scheme`` from repetitions given as ``(first, last)`` frames."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown phase scheme {scheme!r}; choose from {', '.join(SCHEMES)}")
    labels = np.full(frame_count, "none" if scheme == "halves" else "within", dtype=object)
    for first, last in repetitions:
        if not 0 <= first <= last < frame_count:
            raise ValueError(f"repetition ({first}, {last}) is outside the {frame_count} frames")
        width = max(int(round((last - first + 1) * EVENT_FRAMES)), 1)
        middle = (first + last) // 2
        if scheme == "halves":
            labels[first:middle + 1] = "first"
            labels[middle + 1:last + 1] = "second"
            continue
        if scheme == "middle_end":
            labels[max(first, middle - width // 2): middle - width // 2 + width] = "middle"
        labels[last - width + 1:last + 1] = "end"
    return labels


def repetitions_from_phases(phases: np.ndarray, start_phase: str = "away", end_phase: str = "return") -> list[tuple[int, int]]:
    """``(first, last)`` frames of each repetition in a synthetic phase track (``rest``/``away``/``return``)."""
    inside = np.isin(np.asarray(phases, dtype=object), [start_phase, end_phase])
    edges = np.flatnonzero(np.diff(np.concatenate([[0], inside.astype(np.int8), [0]])))
    runs = list(zip(edges[::2], edges[1::2] - 1))
    repetitions = []
    for first, last in runs:  # one run may hold several repetitions back to back: split at return -> away
        labels = np.asarray(phases[first:last + 1], dtype=object)
        starts = [0] + [i for i in range(1, len(labels)) if labels[i] == start_phase and labels[i - 1] == end_phase]
        bounds = starts + [len(labels)]
        repetitions += [(int(first + a), int(first + b - 1)) for a, b in zip(bounds[:-1], bounds[1:])]
    return repetitions


def decode_repetitions(phases: np.ndarray, scheme: str = "middle_end") -> list[int]:
    """Frames at which repetitions count under the study's rule (see the module docstring).

    ``end`` scheme: a count at each new run of ``end`` frames. ``middle_end``: at an ``end`` run
    only when a ``middle`` frame came since the last count. ``halves``: at the change from
    ``second`` back to ``first``/``none`` (the end of a second half), only when a ``first``
    frame came before it since the last count.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown phase scheme {scheme!r}; choose from {', '.join(SCHEMES)}")
    labels = np.asarray(phases, dtype=object)
    counted, armed, previous = [], scheme == "end", None
    for frame, label in enumerate(labels):
        if scheme == "halves":
            if label == "first":
                armed = True
            if previous == "second" and label != "second" and armed:
                counted.append(frame - 1)
                armed = False
        else:
            if label == "middle":
                armed = True
            if label == "end" and previous != "end" and armed:
                counted.append(frame)
                armed = scheme == "end"
        previous = label
    if scheme == "halves" and previous == "second" and armed:
        counted.append(len(labels) - 1)
    return counted


EVENT_PHASE = {"end": "end", "middle_end": "end", "halves": "second"}


def count_from_phases(phases: np.ndarray, probabilities: np.ndarray, class_names: list[str], sources: np.ndarray,
                      frame_count: int, fps: float, scheme: str, method: str):
    """A :class:`RepetitionCount` from a phase model's output on one video.

    ``phases (T',)`` names and ``probabilities (T', K)`` per model frame, ``sources (T',)`` the
    stored frame each model frame shows; repetitions are decoded with :func:`decode_repetitions`
    and placed on stored frames; the signal is the probability of the counting phase (``end``,
    or ``second`` for halves) on every stored frame.
    """
    from .counting import RepetitionCount

    counted = decode_repetitions(phases, scheme)
    frames = np.asarray(sources, dtype=np.int64)[counted] if counted else np.zeros(0, dtype=np.int64)
    event = probabilities[:, class_names.index(EVENT_PHASE[scheme])]
    signal = np.interp(np.arange(frame_count), sources, event) if len(sources) else np.zeros(frame_count)
    return RepetitionCount(len(frames), frames, signal.astype(np.float32), 1.0, fps, method)
