"""Label-free repetition counting from a skeleton alone: no training, no labels, any exercise.

Long, uncut videos hold more than a set: walking in, setting up, resting between sets. So the
counter first finds *where* the movement repeats and only counts there
(:mod:`.periodicity`: the period from the joints' velocity autocorrelation, a periodic signal
weighted towards the joints that recur, the frames whose signal recurs one period away). In
each set found:

- the signal's extremes on the far side of the movement (the depth of a squat, the top of a
  pull-up) are the repetitions: at least half a period apart, each standing out by at least
  :data:`PROMINENCE` of the signal's local range (3 periods), so uneven depths and speed
  changes count right and a wobble does not; the *rest side* is where the set starts, or the
  side the signal dwells on when the video begins mid-set (:func:`_rest_side_low`);
- each repetition runs from the rest-side extreme before its turning point to the one after it
  (the first starts at most a period before, the last ends at most a period after), the way
  RepCount's annotators mark them: consecutive repetitions share a boundary.

A set longer than three periods has its period measured again within it (a second set may be
faster). Where nothing repeats (a single repetition, two slow ones in a short clip) the counter
falls back to hysteresis on the first principal component of the whole sequence
(:func:`_hysteresis_repetitions`, the earlier method: an excursion across 70% of the local range
and back); excursions under :data:`~.periodicity.MIN_SWING` torso lengths are never counted, so a
still or fidgeting person counts 0.

The answer is the **median of 81 counters** (:data:`CONSENSUS`): every combination of three
plausible values of the three ratios that decide what repeats (the share of energy that must
recur, how far a turning point stands out, how close a shorter lag must come to be the period)
and of the three ways of finding the direction the body repeats in
(:data:`~.periodicity.SIGNAL_DIRECTIONS`). One combination tuned to labelled videos did well on
them and worse on new subjects (RepCount: MAE 0.205 in-sample, 0.238 when chosen on the other
subjects); the median over the ratios alone needs no tuning (0.210), and over the directions too,
0.188 (0.197 with the choice of consensus cross-validated). The counters share their periods and
signals (:class:`~.periodicity.SequencePeriodicity`). The live counter recounts with one counter.

``exercise`` is accepted for the API (a hint may pick the signal in future); today the same
signal serves every exercise.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.ndimage import median_filter, percentile_filter
from scipy.signal import find_peaks, peak_prominences

from ..skeleton import get_layout
from ..skeleton.vocabulary import DEFAULT_FPS
from .periodicity import (MAX_PERIOD_S, MIN_SWING, PERIOD_TOLERANCE, PERIODICITY_POWER, RECURRENCE,
                          SIGNAL_DIRECTIONS, RepeatingRun, SequencePeriodicity, first_direction,
                          pose_trajectories)

METHOD = "periodic-sets/4"
FALLBACK_METHOD = "pca-hysteresis/1"
MIN_AMPLITUDE = MIN_SWING  # torso lengths: the smallest peak-to-peak excursion that is a repetition
PROMINENCE = 0.35  # of the local range: how far a turning point must stand out (the hysteresis below uses 0.3/0.7)
HYSTERESIS = 0.3  # fallback: thresholds at 30% and 70% of the way between the local low and high
DRIFT_WINDOW_S = 12.0  # fallback: running median removed as drift (seconds): several repetitions long
AMPLITUDE_WINDOW_S = 6.0  # fallback: local low/high taken over this window (seconds)
MIN_REPETITION_S = 0.3  # a cycle shorter than this is jitter
MIN_REPEATING_COUNT = 2  # fewer turning points than this in all sets is no evidence of repetition: the fallback judges
MIN_PERIODS_COUNTED = 0.5  # a set must show a turning point for at least half of its periods
MIN_PERIODIC_SHARE = 0.03  # a set's periodic signal swings at least this share of the run's main movement
# below this agreement a count is said to be uncertain. RepCount: counts 80% or more of the
# counters agreed on were within one repetition 91% of the time, the others 60% (the cut was
# chosen looking at those videos with the 27 counters before; it changes no count, it says when
# to check one)
SURE_AGREEMENT = 0.8


@dataclass(frozen=True)
class CounterRatios:
    """The ratios that say what "repeating" means to one counter (module docstrings of this
    module and :mod:`.periodicity`): the share of a frame's energy that must recur a period away,
    how far a turning point must stand out, how close a shorter lag's peak must come to the best
    for it to be the period, the power that weighs joints and windows by their periodicity, and
    how the periodic signal's direction is found (one of :data:`~.periodicity.SIGNAL_DIRECTIONS`)."""

    recurrence: float = RECURRENCE
    prominence: float = PROMINENCE
    period_tolerance: float = PERIOD_TOLERANCE
    periodicity_power: float = PERIODICITY_POWER
    direction: str = "positions"


# The default counter is the median of 81 counters, every combination of three plausible values
# of each ratio and the three signal directions, rather than one combination fitted to labelled
# videos. On RepCount's 75 videos the single best combination reached MAE 0.205 in-sample, but
# choosing it on some subjects and counting the others gave 0.238 (a video near a ratio's edge
# flips from 10 to 3 repetitions); the median over the ratios gave 0.210, over the directions too
# 0.188, and 0.197 with the consensus itself chosen by leave-one-subject-out (benchmarks/repcount.py).
CONSENSUS = tuple(CounterRatios(recurrence, prominence, tolerance, direction=direction)
                  for direction in SIGNAL_DIRECTIONS
                  for recurrence in (0.4, 0.5, 0.6)
                  for prominence in (0.25, 0.35, 0.5)
                  for tolerance in (0.2, 0.3, 0.4))


@dataclass(frozen=True)
class RepetitionSet:
    """One set: frames ``[start, end]`` (inclusive), its repetitions and their typical period."""

    start: int
    end: int
    count: int
    period_s: float


@dataclass(frozen=True)
class RepetitionCount:
    """What :func:`count_repetitions` found.

    Shapes: ``frames (count,)`` the frame index of each repetition's turning point; ``starts``
    and ``ends (count,)`` the first and last frame of each repetition (a repetition's end is
    the next one's start within a set); ``signal (T,)`` the 1-D motion signal counted (torso
    lengths). ``sets`` lists each set found (one per run of repetitions). ``agreement`` is the
    share of the consensus counters that counted ``count`` (None where one counter counted): on
    RepCount, videos where at least 80% agreed were within one repetition 91% of the time, the
    others 60% (``benchmarks/README.md``).
    """

    count: int
    frames: np.ndarray
    signal: np.ndarray
    amplitude: float  # typical peak-to-peak of the signal, torso lengths
    fps: float
    method: str = METHOD
    thresholds: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    starts: np.ndarray | None = None
    ends: np.ndarray | None = None
    sets: tuple[RepetitionSet, ...] = ()
    agreement: float | None = None

    def times(self) -> np.ndarray:
        """Seconds from the start at which each repetition was completed."""
        return self.frames / self.fps

    def boundaries(self) -> tuple[np.ndarray, np.ndarray]:
        """``(starts, ends)`` frame indices, ``(count,)`` each (the turning points when unknown)."""
        starts = self.frames if self.starts is None else self.starts
        return np.asarray(starts, np.int64), np.asarray(self.frames if self.ends is None else self.ends, np.int64)

    def to_dict(self, frame_indices: np.ndarray | None = None, timestamps: np.ndarray | None = None) -> dict:
        """The count as plain data: each repetition (turning point, and start and end where the
        counter knows them) and each set. Positions become ``frame_indices[position]`` and
        ``timestamps[position]`` seconds when given (a stored video's frame numbers and times),
        else the position and position / fps."""
        def frame(position) -> int:
            return int(position if frame_indices is None else frame_indices[position])

        def seconds(position) -> float:
            return round(float(position) / self.fps if timestamps is None else float(timestamps[position]), 3)

        repetitions = []
        for index, turn in enumerate(self.frames):
            row = {"repetition": index + 1, "frame_index": frame(turn), "time_s": seconds(turn)}
            if self.starts is not None and self.ends is not None:
                start, end = self.starts[index], self.ends[index]
                row.update({"start_frame": frame(start), "end_frame": frame(end), "start_s": seconds(start),
                            "end_s": seconds(end)})
            repetitions.append(row)
        sets = [{"set": index + 1, "start_frame": frame(item.start), "end_frame": frame(item.end),
                 "start_s": seconds(item.start), "end_s": seconds(item.end), "count": item.count,
                 "period_s": round(item.period_s, 3)} for index, item in enumerate(self.sets)]
        agreement = None if self.agreement is None else round(self.agreement, 3)
        return {"count": self.count, "method": self.method, "fps": self.fps, "amplitude": round(self.amplitude, 4),
                "agreement": agreement, "repetitions": repetitions, "sets": sets}


def motion_signal(joints: np.ndarray, layout: str, fps: float) -> np.ndarray:
    """The fallback's 1-D signal: first principal component of the drift-free joint trajectories.

    Shapes: ``joints (T, V, C)`` x, y[, z, visibility] -> ``(T,)`` torso lengths (NaN-free; zeros
    when nobody was seen).
    """
    return _principal_signal(pose_trajectories(joints, layout, fps), fps)


def _principal_signal(trajectories: np.ndarray, fps: float) -> np.ndarray:
    """:func:`motion_signal` of trajectories already made. Shapes: ``(T, D)`` -> ``(T,)``."""
    frames = len(trajectories)
    if frames < 3 or trajectories.shape[1] == 0:
        return np.zeros(frames)
    drift_frames = int(DRIFT_WINDOW_S * fps) | 1
    if frames > drift_frames:
        trajectories = trajectories - median_filter(trajectories, size=(drift_frames, 1), mode="nearest")
    return _first_component(trajectories)


def _first_component(values: np.ndarray) -> np.ndarray:
    """The centred values projected on their first principal direction. Shapes: ``(T, D)`` -> ``(T,)``."""
    centred = values - values.mean(axis=0)
    return centred @ first_direction(centred)


def _swing(signal: np.ndarray) -> float:
    """Typical peak-to-peak of a signal: its 5th to 95th percentile (torso lengths)."""
    return float(np.percentile(signal, 95) - np.percentile(signal, 5))


def _local_range(signal: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Running low and high of the signal (robust: 5th and 95th percentiles over ``window`` frames)."""
    size = max(window | 1, 3)
    return (percentile_filter(signal, 5, size=size, mode="nearest"),
            percentile_filter(signal, 95, size=size, mode="nearest"))


def _hysteresis_repetitions(signal: np.ndarray, fps: float) -> tuple[list[int], np.ndarray, np.ndarray]:
    """The frame of each far-side turning point: the signal leaves the side where the set starts,
    crosses the far threshold, and turns (returns past the near threshold, or the video ends there)."""
    window = max(int(AMPLITUDE_WINDOW_S * fps), 3)
    low, high = _local_range(signal, window)
    span = np.maximum(high - low, 1e-9)
    near = low + HYSTERESIS * span  # back on the start side below this (start side low)
    far = high - HYSTERESIS * span
    start_low = np.median(signal[: max(int(0.5 * fps), 1)]) <= np.median(signal)
    if not start_low:  # mirror, so the start side is always the low side
        signal, near, far = -signal, -far, -near
    repetitions, state, extreme = [], "start", 0
    for index, value in enumerate(signal):
        if span[index] < MIN_AMPLITUDE:
            continue
        if state == "start" and value >= far[index]:
            state, extreme = "far", index
        elif state == "far":
            if value > signal[extreme]:
                extreme = index
            if value <= near[index]:
                state = "start"
                repetitions.append(extreme)
    if state == "far":  # the set ends at the far side: that repetition was done
        repetitions.append(extreme)
    kept = [frame for position, frame in enumerate(repetitions)
            if position == 0 or frame - repetitions[position - 1] >= MIN_REPETITION_S * fps]
    return kept, near if start_low else -near, far if start_low else -far


def _rest_boundaries(signal: np.ndarray, turns: np.ndarray, reach: int, low: int, high: int,
                     rest_low: bool) -> tuple[np.ndarray, np.ndarray]:
    """Each repetition's start and end: the rest-side extreme between neighbouring turning points
    (at most ``reach`` frames before the first and after the last), within ``[low, high)``."""
    rest = signal if rest_low else -signal
    if not len(turns):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    first, last = int(turns[0]), int(turns[-1])
    begin = max(low, first - reach)
    cuts = [begin + int(np.argmin(rest[begin:first + 1]))]
    cuts += [int(before) + int(np.argmin(rest[before:after + 1])) for before, after in zip(turns[:-1], turns[1:])]
    cuts.append(last + int(np.argmin(rest[last:min(last + reach + 1, high)])))
    cuts_array = np.asarray(cuts, dtype=np.int64)
    return cuts_array[:-1], cuts_array[1:]


def _rest_side_low(signal: np.ndarray, period: int, seen_starting: bool) -> bool:
    """Whether a set's rest position is the low side of its signal. Where the set is seen starting
    (it begins after the video's first frame) the rest is where it starts; a video that begins mid-set
    says nothing by its first frame, and the rest is the side the signal dwells on (its median on
    that side of its mean). On the 21 short reps clips, cut mid-set, the start side put 6 counts one
    off and the dwell side 3; on RepCount's long videos the start side is the better guess where the
    start is seen (MAE 0.229 with the dwell side everywhere, 0.207 this way)."""
    if seen_starting:
        return bool(signal[: max(period // 4, 1)].mean() <= np.median(signal))
    return bool(np.median(signal) <= signal.mean())


def _count_run(periodicity: SequencePeriodicity, signal: np.ndarray, run: RepeatingRun,
               ratios: CounterRatios) -> tuple[np.ndarray, np.ndarray, np.ndarray, RepetitionSet]:
    """Turning points, starts and ends (frames of the whole sequence) and the set, for one run."""
    period, part = run.period, signal
    if run.end - run.start >= 3 * period:  # a long set: its own period (a second set may be faster)
        own = periodicity.period(ratios.period_tolerance, ratios.periodicity_power, run.start, run.end)
        if own is not None and own != period:
            period, part = own, periodicity.signal(own, ratios.direction)
    # a period of context either side, so the set's first and last turns stand out as fully as the others
    begin, stop = max(run.start - period, 0), min(run.end + period, len(signal))
    part = part[begin:stop]
    low, high = periodicity.remember(("range", begin, stop, period, ratios.direction),
                                     lambda: _local_range(part, 3 * period))
    span = high - low
    inside = slice(run.start - begin, run.end - begin)
    rest_low = _rest_side_low(part[inside], period, seen_starting=run.start > 0)
    far = part if rest_low else -part
    turns, prominences = periodicity.remember(("turns", begin, stop, period, rest_low, ratios.direction),
                                              lambda: _turning_points(far, period))
    turns = turns[prominences >= ratios.prominence * span[turns]]
    turns = turns[(turns >= inside.start) & (turns < inside.stop)]
    starts, ends = _rest_boundaries(part, turns, period, inside.start, inside.stop, rest_low)
    repetition_set = RepetitionSet(int(begin + (starts[0] if len(starts) else inside.start)),
                                   int(begin + (ends[-1] if len(ends) else inside.stop - 1)), len(turns),
                                   period / periodicity.fps)
    return turns + begin, starts + begin, ends + begin, repetition_set


def _turning_points(far: np.ndarray, period: int) -> tuple[np.ndarray, np.ndarray]:
    """Local maxima at least half a period apart and their prominences. Shapes: ``(T,)`` -> ``(n,)`` each."""
    turns, _ = find_peaks(far, distance=max(period // 2, 1))
    return turns, (peak_prominences(far, turns)[0] if len(turns) else np.zeros(0))


def _consistent(repetition_set: RepetitionSet, fps: float) -> bool:
    """A set is believed when it holds a turning point for at least :data:`MIN_PERIODS_COUNTED`
    of the periods its length spans: a period measured inside one slow repetition (its two
    halves, or the wobble at its turn) makes a long run with far fewer turning points than periods
    (a single synthetic push-up: a 0.4 s "period", a 95-frame run and 2 turning points)."""
    periods = (repetition_set.end - repetition_set.start) / (repetition_set.period_s * fps)
    return repetition_set.count >= 1 and repetition_set.count >= MIN_PERIODS_COUNTED * periods


def _periodic_share(trajectories: np.ndarray, signal: np.ndarray, run: RepeatingRun) -> float:
    """The periodic signal's swing (along the ``positions`` direction) over the swing of the run's
    main movement (its first principal component): a bounce inside one large movement repeats but
    is not a set. A single synthetic jumping jack (the hips bounce twice while the arms sweep once)
    scores 0.01; RepCount's sets all 0.04 or more, and dropping runs under 0.05 changes none of
    its 75 counts."""
    part = trajectories[run.start:run.end]
    if len(part) < 2 or part.shape[1] == 0:
        return 0.0
    return _swing(signal[run.start:run.end]) / max(_swing(_first_component(part)), 1e-9)


def count_repetitions(joints: np.ndarray, layout: str = "blazepose33", fps: float = DEFAULT_FPS,
                      exercise: str | None = None,
                      ratios: CounterRatios | tuple[CounterRatios, ...] | None = None) -> RepetitionCount:
    """Count the repetitions in a skeleton sequence (see the module docstring for the method).

    Args:
        joints: ``(T, V, C)`` with C = 4 (x, y, z, visibility; C = 2 or 3 also taken), NaN rows
            where nobody was seen; any normalisation (it is redone here), including coordinates
            min-max scaled per frame.
        layout: the skeleton layout's name (``blazepose33``, ``coco17``, ``openpose18``, ``penn13``).
        fps: frames per second of ``joints``.
        exercise: an optional hint (accepted; one signal serves every exercise).
        ratios: one :class:`CounterRatios` (one counter: what the live counter recounts with,
            about twice as fast), or several whose median count is the answer; default
            :data:`CONSENSUS`. The repetitions returned are those of the counter nearest the
            default ratios among those that counted the median, and ``agreement`` the share
            of the counters that counted it.

    Returns:
        :class:`RepetitionCount` with ``count``, ``frames`` (turning point of each repetition),
        ``starts``/``ends`` (each repetition's first and last frame), ``sets`` and the ``signal``.
    """
    joints = np.asarray(joints, dtype=np.float32)
    if joints.ndim != 3 or joints.shape[1] != get_layout(layout).num_joints or joints.shape[2] < 2:
        raise ValueError(f"joints must be (T, {get_layout(layout).num_joints}, C) for layout {layout} with C >= 2, "
                         f"got {joints.shape}")
    if not fps or fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    members = CONSENSUS if ratios is None else (ratios,) if isinstance(ratios, CounterRatios) else tuple(ratios)
    if not members:
        raise ValueError("ratios must name at least one CounterRatios")
    trajectories = pose_trajectories(joints, layout, fps)
    periodicity = SequencePeriodicity(trajectories, fps)
    results = [_count_periodic(periodicity, member)
               or periodicity.remember(("fallback",), lambda: _fallback_count(trajectories, fps))
               for member in members]
    if len(results) == 1:
        return results[0]
    median = sorted(result.count for result in results)[len(results) // 2]
    default = CounterRatios()
    agreeing = [index for index, result in enumerate(results) if result.count == median]
    nearest = min(agreeing, key=lambda index: _distance(members[index], default))
    return replace(results[nearest], agreement=len(agreeing) / len(results))


def uncertainty_note(count: RepetitionCount) -> str | None:
    """A sentence for people where the consensus counters disagree (agreement under
    :data:`SURE_AGREEMENT`), None where they agree or one counter counted."""
    if count.agreement is None or count.agreement >= SURE_AGREEMENT:
        return None
    return (f"count uncertain: {count.agreement:.0%} of the counter's settings gave {count.count}; "
            f"such counts were off by more than one 40% of the time on the test videos, so check it")


def _distance(ratios: CounterRatios, other: CounterRatios) -> float:
    """How far apart two settings are (the ratios' absolute differences, summed)."""
    return (abs(ratios.recurrence - other.recurrence) + abs(ratios.prominence - other.prominence)
            + abs(ratios.period_tolerance - other.period_tolerance)
            + abs(ratios.periodicity_power - other.periodicity_power) + (ratios.direction != other.direction))


def _count_periodic(periodicity: SequencePeriodicity, ratios: CounterRatios) -> RepetitionCount | None:
    """The sets one counter finds, None where they hold too few repetitions (the fallback judges).

    Whatever direction the counter's signal takes, a run's periodic share is measured on the
    positions' signal: within one slow repetition the period found is spurious, and the
    velocities' weights pick the sub-movement that recurs at it (a single synthetic squat or
    jumping jack: two "repetitions", shares 0.04-0.24 along the velocities' directions), while
    the positions' direction, the movement itself, swings little at that period (0.02)."""
    trajectories, fps = periodicity.trajectories, periodicity.fps
    period = periodicity.period(ratios.period_tolerance, ratios.periodicity_power)
    if period is None:
        return None
    signal = periodicity.signal(period, ratios.direction)
    runs = periodicity.runs(period, ratios.recurrence, ratios.direction)
    counted = []
    for run in runs:
        item = _count_run(periodicity, signal, run, ratios)
        if _consistent(item[3], fps) and periodicity.remember(
                ("share", run, period),
                lambda: _periodic_share(trajectories, periodicity.signal(period), run)) >= MIN_PERIODIC_SHARE:
            counted.append(item)
    if sum(item[3].count for item in counted) < MIN_REPEATING_COUNT:
        return None
    frames, starts, ends = (np.concatenate([item[part] for item in counted]).astype(np.int64) for part in range(3))
    return RepetitionCount(len(frames), frames, signal, _swing(signal), fps, METHOD, starts=starts, ends=ends,
                           sets=tuple(item[3] for item in counted))


def _fallback_count(trajectories: np.ndarray, fps: float) -> RepetitionCount:
    """Hysteresis on the whole sequence's principal component, where no set repeats.

    Shapes: ``trajectories (T, D)`` from :func:`~.periodicity.pose_trajectories`."""
    signal = _principal_signal(trajectories, fps)
    if not np.isfinite(signal).all() or len(signal) == 0 or np.ptp(signal) < MIN_AMPLITUDE:
        return RepetitionCount(0, np.zeros(0, dtype=np.int64), signal, float(np.ptp(signal)) if len(signal) else 0.0,
                               fps, FALLBACK_METHOD, starts=np.zeros(0, np.int64), ends=np.zeros(0, np.int64))
    frames, near, far = _hysteresis_repetitions(signal, fps)
    turns = np.asarray(frames, dtype=np.int64)
    rest_low = np.median(signal[: max(int(0.5 * fps), 1)]) <= np.median(signal)
    reach = int(np.median(np.diff(turns))) if len(turns) > 1 else int(MAX_PERIOD_S * fps)
    starts, ends = _rest_boundaries(signal, turns, reach, 0, len(signal), rest_low)
    sets = (RepetitionSet(int(starts[0]), int(ends[-1]), len(turns),
                          float((ends[-1] - starts[0]) / len(turns) / fps)),) if len(turns) else ()
    return RepetitionCount(len(turns), turns, signal, _swing(signal), fps, FALLBACK_METHOD, thresholds=(near, far),
                           starts=starts, ends=ends, sets=sets)


class OnlineRepetitionCounter:
    """The same counter, fed frame by frame, reporting each repetition once it is settled.

    After each frame (:meth:`update`) the counter recounts the recent frames (the last
    ``window_s`` seconds, every ``step_s`` seconds) and reports the repetitions whose turning
    point lies at least ``delay_s`` seconds back that it has not reported yet: once the recent
    frames show it, a repetition is reported within ``delay_s + step_s`` seconds of its turning
    point; the first repetitions of a set wait until the movement has repeated (RepCount: a median
    0.5 s after a repetition's end, at most 4.8 s; ``benchmarks/repcount.py``).
    :meth:`finish` counts the whole sequence as :func:`count_repetitions` does and reports what is
    still missing, so the final count always equals the offline one.
    """

    def __init__(self, layout: str = "blazepose33", fps: float = DEFAULT_FPS, exercise: str | None = None,
                 delay_s: float = 1.0, step_s: float = 0.25, window_s: float = 30.0) -> None:
        self.layout, self.fps, self.exercise = layout, fps, exercise
        self.delay, self.step = int(round(delay_s * fps)), max(int(round(step_s * fps)), 1)
        self.window = int(round(window_s * fps))
        self.frames: list[np.ndarray] = []
        self.reported: list[int] = []
        self.recent: tuple[int, RepetitionCount] | None = None  # the last recount and its window's first frame

    @property
    def count(self) -> int:
        return len(self.reported)

    def update(self, joints: np.ndarray) -> list[int]:
        """Add one frame ``(V, C)`` (NaN when nobody was seen); returns newly settled repetition frames."""
        self.frames.append(np.asarray(joints, dtype=np.float32))
        if len(self.frames) % self.step:
            return []
        start = max(0, len(self.frames) - self.window)
        # one counter, not the consensus: a recount runs every step and must stay cheap beside the
        # pose model; finish() counts with the consensus, as the offline count does
        recent = count_repetitions(np.stack(self.frames[start:]), self.layout, self.fps, self.exercise,
                                   ratios=CounterRatios())
        self.recent = (start, recent)
        starts, ends = recent.boundaries()
        settled = [(start + int(first), start + int(turn), start + int(last))
                   for first, turn, last in zip(starts, recent.frames, ends)
                   if start + turn <= len(self.frames) - self.delay]
        return self._report(settled)

    def finish(self) -> list[int]:
        """Count everything seen (offline) and return the repetitions not reported yet."""
        if not self.frames:
            return []
        final = count_repetitions(np.stack(self.frames), self.layout, self.fps, self.exercise)
        starts, ends = final.boundaries()
        new = self._report([(int(first), int(turn), int(last))
                            for first, turn, last in zip(starts, final.frames, ends)])
        if len(self.reported) != final.count:  # settled guesses the whole sequence did not confirm
            self.reported = [int(frame) for frame in final.frames]
        return new

    def _report(self, repetitions: list[tuple[int, int, int]]) -> list[int]:
        """The turning points of ``(start, turn, end)`` repetitions not reported yet. A recount
        moves a repetition's turning point a little (its window has grown), so a repetition whose
        extent holds a reported turning point, or whose turning point comes less than half a
        repetition after the last one reported, is the same repetition again."""
        tolerance = max(int(MIN_REPETITION_S * self.fps), 1)
        new = []
        for first, turn, last in repetitions:
            if self.reported and (turn - self.reported[-1] < max(tolerance, (last - first) // 2)
                                  or any(first <= old <= last for old in self.reported[-3:])):
                continue
            self.reported.append(turn)
            new.append(turn)
        return new
