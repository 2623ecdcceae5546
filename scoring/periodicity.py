"""Where a skeleton sequence repeats, and how fast: the period, the periodic signal and the sets.

Everything here is derived from the sequence itself; the only constants are physical bounds
(a repetition lasts 0.4 to 6 s) and ratios that say what "repeating" means. The steps:

1. **Trajectories** (:func:`pose_trajectories`): the body-frame x, y of every joint seen in at
   least half the frames where anybody was seen (torso lengths, :func:`.body_frame`), gaps filled
   by linear interpolation, lightly smoothed. Works the same on the product's extraction and on
   inputs normalised per frame (RepCount's landmarks are min-max scaled per frame per axis).
2. **Period** (:func:`dominant_period`): the normalised autocorrelation of each joint's
   *velocity*, averaged over joints and over 12 s windows. Velocity, because a walk-in or the
   camera settling adds slow drift that swamps the autocorrelation of positions (on RepCount's
   75 videos the positions' autocorrelation had no peak at all in 9 of them, the velocities' in
   none); windows, so a long video's lead-in does not decide. The average is weighted by how
   periodic each joint and each window is (the square of its highest autocorrelation peak, the
   share of its variance that recurs): in a bench press only the arms repeat and the other 25
   joints jitter, and in a long video most windows hold no set; an unweighted mean let that noise
   pick the period (RepCount: MAE 0.238 unweighted, 0.200 weighted). The period is the
   *shortest* lag whose autocorrelation peak is within :data:`PERIOD_TOLERANCE` of the highest:
   two repetitions also recur, and counting them as one halves the count (40%: a set paused for
   3 s mid-way recurs more strongly across the pause, at two repetitions plus the pause, than at
   one repetition; RepCount counts the same at 30% and 40%).
3. **Periodic signal** (:func:`periodic_signal`): the trajectories projected on the direction
   the body repeats in, band-passed around the period (Gaussian smoothing at period/8 minus
   smoothing at the period): one number per frame that goes up and down once per repetition.
   The direction is estimated one of three ways (:data:`SIGNAL_DIRECTIONS`): the first principal
   direction of the *positions*, each coordinate weighted by how strongly it recurs one period
   later (joints that only jitter weigh nothing); or that of the *velocities*, weighted by how
   the velocity recurs, the projection weighted (``velocities``) or not (``velocities-plain``).
   Positions let one large movement that is not a repetition (getting on and off a bench,
   standing up after the set) set the direction, as a slow movement recurs at any short lag;
   its velocity does not recur, so the velocities' direction follows the repetitions (RepCount:
   stu8_10's bench press 2 → 12 for 11), but it loses some sets that the positions' keeps
   (stu2_62's sit-ups 10 → 3 for 19). Neither is better everywhere, so the consensus counter
   takes its median over all three (``benchmarks/README.md``).
4. **Repeating frames** (:func:`recurrence`): a frame belongs to a set where at least
   :data:`RECURRENCE` (half) of the signal's local energy comes back one period later or earlier
   (lags 0.75 to 1.35 periods, so a set may slow down or speed up). Walking in, setting up and
   resting do not recur; a still person has no energy (:data:`MIN_SWING`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d, uniform_filter1d
from scipy.signal import find_peaks, hilbert

from ..skeleton.geometry import body_frame

MIN_PERIOD_S = 0.4  # seconds: faster than this is jitter, not a repetition
MAX_PERIOD_S = 6.0  # seconds: the slowest repetition looked for (a slow sit-up or squat)
PERIOD_WINDOW_S = 12.0  # autocorrelation windows: two of the slowest repetitions
PERIOD_STEP_S = 3.0
PERIODICITY_POWER = 2  # joints and windows weigh their highest autocorrelation peak to this power (2: r squared)
PERIOD_TOLERANCE = 0.4  # a shorter lag whose peak is within 40% of the best one is the period
SMOOTHING_S = 0.1  # Gaussian smoothing of the trajectories (seconds)
RECURRENCE = 0.5  # share of the local signal energy that must recur one period away
RECURRENCE_LAGS = (0.75, 1.35)  # periods: how much a set may speed up or slow down between repetitions
MIN_SWING = 0.12  # torso lengths: the smallest peak-to-peak swing that is a repetition
SWING_SHARE = 0.35  # a set's frames swing at least this share of its typical swing (a rest's wobble does not)
RUN_MARGIN = 0.25  # periods added at each end of a set: the recurrence window (a period wide) blurs its edges
SIGNAL_DIRECTIONS = ("positions", "velocities", "velocities-plain")  # how the periodic signal's direction is found


@dataclass(frozen=True)
class RepeatingRun:
    """Frames ``[start, end)`` of one set, with its period in frames."""

    start: int
    end: int
    period: int


def pose_trajectories(joints: np.ndarray, layout: str, fps: float) -> np.ndarray:
    """Body-frame x, y of the joints seen, gaps filled, smoothed (see the module docstring).

    Shapes: ``joints (T, V, C)`` (C >= 2; NaN rows where nobody was seen) -> ``(T, D)`` torso
    lengths, D = 2 x joints kept (0 when nobody was ever seen).
    """
    joints = np.asarray(joints, dtype=np.float32)
    if joints.shape[-1] < 4:
        joints = np.concatenate([joints, np.full(joints.shape[:-1] + (4 - joints.shape[-1],), np.nan, np.float32)], -1)
    normalised = body_frame(joints[..., :4], layout)
    trajectories = normalised[..., :2].reshape(len(normalised), -1)
    known = np.isfinite(trajectories)
    anybody = known.any(axis=1).mean() if len(trajectories) else 0.0
    kept = known.mean(axis=0) >= 0.5 * anybody if anybody > 0 else np.zeros(trajectories.shape[1], bool)
    if not kept.any():
        return np.zeros((len(trajectories), 0))
    filled = fill_gaps(trajectories[:, kept])
    return gaussian_filter1d(filled, sigma=max(SMOOTHING_S * fps, 0.5), axis=0, mode="nearest")


def fill_gaps(values: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN along time (axis 0), ends held; all-NaN columns stay NaN."""
    filled = np.array(values, dtype=np.float64, copy=True)
    steps = np.arange(len(filled))
    for column in range(filled.shape[1]):
        known = np.isfinite(filled[:, column])
        if known.sum() >= 2:
            filled[:, column] = np.interp(steps, steps[known], filled[known, column])
        elif known.any():
            filled[:, column] = filled[known, column][0]
    return filled


def autocorrelation(values: np.ndarray, max_lag: int, window: int, step: int, shortest: int = 1,
                    power: float | None = None) -> np.ndarray:
    """Normalised autocorrelation at lags 0..max_lag, averaged over channels and windows, each
    weighted by its periodicity: its highest peak at a lag of ``shortest`` or more, to the power
    ``power`` (default :data:`PERIODICITY_POWER`; a channel or window with no positive peak weighs nothing; a plain
    mean where none has one).

    Shapes: ``values (T, D)`` -> ``(max_lag + 1,)``; 1 at lag 0.
    """
    power = PERIODICITY_POWER if power is None else power
    frames = len(values)
    window = min(window, frames)
    size = 1 << int(np.ceil(np.log2(2 * window)))
    overlap = np.arange(window, window - max_lag - 1, -1)[:, None]  # pairs at each lag (unbiased)
    profiles, weights = [], []
    for start in range(0, frames - window + 1, max(step, 1)):
        part = values[start:start + window]
        part = part - part.mean(axis=0)
        spectrum = np.fft.rfft(part, size, axis=0)
        covariance = np.fft.irfft(spectrum * np.conj(spectrum), size, axis=0)[:max_lag + 1] / overlap
        variance = covariance[0]
        moving = variance > 1e-12
        if moving.any():
            channels = covariance[:, moving] / variance[moving]
            profile = _weighted_mean(channels, _highest_peak(channels, shortest) ** power)
            profiles.append(profile)
            weights.append(_highest_peak(profile[:, None], shortest)[0] ** power)
    if not profiles:
        return np.zeros(max_lag + 1)
    return _weighted_mean(np.stack(profiles, axis=1), np.asarray(weights))


def _highest_peak(profiles: np.ndarray, shortest: int) -> np.ndarray:
    """Per column, the highest local maximum at a lag of ``shortest`` or more, clipped at 0.

    Shapes: ``profiles (L, D)`` -> ``(D,)``."""
    inner = profiles[1:-1]
    local_maximum = (inner > profiles[:-2]) & (inner >= profiles[2:])
    local_maximum[:max(shortest - 1, 0)] = False
    highest = np.where(local_maximum, inner, -np.inf).max(axis=0, initial=-np.inf)
    return np.clip(highest, 0.0, None)


def _weighted_mean(columns: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mean of the columns weighted by ``weights``; a plain mean when they sum to 0.

    Shapes: ``columns (L, D)``, ``weights (D,)`` -> ``(L,)``."""
    total = weights.sum()
    return columns @ weights / total if total > 0 else columns.mean(axis=1)


def dominant_period(trajectories: np.ndarray, fps: float, tolerance: float | None = None,
                    power: float | None = None) -> int | None:
    """The repetition period in frames (module docstring, step 2), None when nothing repeats.
    ``tolerance`` and ``power`` default to :data:`PERIOD_TOLERANCE` and :data:`PERIODICITY_POWER`."""
    return period_from_profile(period_profile(trajectories, fps, power), fps, tolerance)


def period_profile(trajectories: np.ndarray, fps: float, power: float | None = None) -> np.ndarray | None:
    """The velocities' weighted autocorrelation over the lags a period may take (step 2), None
    where the sequence is too short or nothing moves. Shapes: ``(T, D)`` -> ``(lags,)``."""
    frames = len(trajectories)
    shortest = max(int(MIN_PERIOD_S * fps), 2)
    longest = min(int(MAX_PERIOD_S * fps), frames // 2)
    if trajectories.shape[1] == 0 or longest <= shortest:
        return None
    velocity = np.gradient(trajectories, axis=0)
    return autocorrelation(velocity, longest, int(PERIOD_WINDOW_S * fps), int(PERIOD_STEP_S * fps), shortest, power)


def period_from_profile(profile: np.ndarray | None, fps: float, tolerance: float | None = None) -> int | None:
    """The shortest lag whose autocorrelation peak is within ``tolerance`` of the highest (step 2)."""
    if profile is None:
        return None
    tolerance = PERIOD_TOLERANCE if tolerance is None else tolerance
    shortest = max(int(MIN_PERIOD_S * fps), 2)
    peaks, _ = find_peaks(profile)
    peaks = peaks[peaks >= shortest]
    if not len(peaks) or profile[peaks].max() <= 0:
        return None
    best = profile[peaks].max()
    return int(peaks[profile[peaks] >= (1 - tolerance) * best][0])


def periodic_signal(trajectories: np.ndarray, period: int, direction: str = "positions") -> np.ndarray:
    """One number per frame that rises and falls once per repetition (module docstring, step 3).
    ``direction``: one of :data:`SIGNAL_DIRECTIONS`, how the direction projected on is found.

    Shapes: ``trajectories (T, D)`` -> ``(T,)`` torso lengths.
    """
    if direction not in SIGNAL_DIRECTIONS:
        raise ValueError(f"direction must be one of {SIGNAL_DIRECTIONS}, got {direction!r}")
    centred = trajectories - trajectories.mean(axis=0)
    lag = min(period, len(centred) - 1)
    moving = (centred ** 2).mean(axis=0) > 1e-12
    if lag < 1 or not moving.any():
        return np.zeros(len(centred))
    centred = centred[:, moving]
    if direction == "positions":
        basis = centred
    else:
        velocity = np.gradient(centred, axis=0)
        basis = velocity - velocity.mean(axis=0)
    weights = np.clip(_recurring_share(basis, lag), 0.0, None)
    if not weights.any():
        weights = np.ones_like(weights)
    first = first_direction(basis * weights)
    projection = first if direction == "velocities-plain" else first * weights
    signal = centred @ projection
    return gaussian_filter1d(signal, period / 8) - gaussian_filter1d(signal, period)


def first_direction(values: np.ndarray) -> np.ndarray:
    """The unit first principal direction of (already centred) values: the top eigenvector of
    their D x D scatter, the same direction as the SVD's first right singular vector (up to sign)
    for a fraction of its cost on long sequences (the SVD of (T, D) was a quarter of the counter's
    time). Shapes: ``(T, D)`` -> ``(D,)``."""
    _, vectors = np.linalg.eigh(values.T @ values)
    return vectors[:, -1]


def _recurring_share(centred: np.ndarray, lag: int) -> np.ndarray:
    """Per column, the autocovariance at ``lag`` over the variance (0 where a column is still).

    Shapes: ``centred (T, D)`` -> ``(D,)``."""
    variance = (centred ** 2).mean(axis=0)
    covariance = (centred[lag:] * centred[:-lag]).mean(axis=0)
    return np.divide(covariance, variance, out=np.zeros_like(variance), where=variance > 1e-15)


def recurrence(signal: np.ndarray, period: int) -> np.ndarray:
    """Per frame, the best share of local energy that recurs one period away (step 4).

    Shapes: ``signal (T,)`` -> ``(T,)`` in (-inf, 1]; -1 where no lag fits in the sequence.
    """
    frames = len(signal)
    best = np.full(frames, -1.0)
    low, high = max(int(RECURRENCE_LAGS[0] * period), 1), int(RECURRENCE_LAGS[1] * period)
    for lag in range(low, min(high, frames - 1) + 1):
        difference = np.zeros(frames)
        energy = np.zeros(frames)
        difference[:frames - lag] = (signal[lag:] - signal[:-lag]) ** 2
        energy[:frames - lag] = signal[lag:] ** 2 + signal[:-lag] ** 2
        width = max(lag, 3)
        share = 1 - uniform_filter1d(difference, width, mode="constant") / np.maximum(
            uniform_filter1d(energy, width, mode="constant"), 1e-12)
        share[frames - lag:] = -1.0
        best = np.maximum(best, share)  # the frame recurs one period later ...
        best[lag:] = np.maximum(best[lag:], share[:frames - lag])  # ... or one period earlier
    return best


def repeating_runs(signal: np.ndarray, period: int, threshold: float | None = None,
                   shares: np.ndarray | None = None) -> list[RepeatingRun]:
    """The sets: runs of repeating frames (``shares``, :func:`recurrence` of the signal, at least
    ``threshold``, default :data:`RECURRENCE`) with enough swing, gaps under a period closed, runs
    shorter than a period dropped, each widened by :data:`RUN_MARGIN` periods."""
    envelope = np.abs(hilbert(signal)) if len(signal) > 1 else np.zeros(len(signal))
    shares = recurrence(signal, period) if shares is None else shares
    recurring = shares >= (RECURRENCE if threshold is None else threshold)
    typical = np.median(envelope[recurring]) if recurring.any() else 0.0
    repeating = recurring & (envelope >= max(MIN_SWING / 2, SWING_SHARE * typical))
    edges = np.diff(np.concatenate([[0], repeating.astype(np.int8), [0]]))
    runs: list[list[int]] = []
    for start, end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
        if runs and start - runs[-1][1] < period:
            runs[-1][1] = int(end)
        else:
            runs.append([int(start), int(end)])
    margin = int(RUN_MARGIN * period)
    return [RepeatingRun(max(start - margin, 0), min(end + margin, len(signal)), period)
            for start, end in runs if end - start >= period]


class SequencePeriodicity:
    """The per-sequence work of steps 2-4, each piece computed once however many counters ask:
    the consensus counter (:data:`~.counting.CONSENSUS`) asks for 81 combinations of
    tolerance, recurrence, prominence and signal direction, which share a handful of periods and
    signals.

    Shapes: ``trajectories (T, D)`` from :func:`pose_trajectories`."""

    def __init__(self, trajectories: np.ndarray, fps: float) -> None:
        self.trajectories, self.fps = trajectories, fps
        self._memo: dict[tuple, object] = {}

    def remember(self, key: tuple, compute):
        """A piece of per-sequence work, computed once per ``key`` (a tuple whose first item names
        the piece: ``profile``, ``period``, ``signal``, ``recurrence`` and ``runs`` are this class's)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def period(self, tolerance: float, power: float, start: int = 0, end: int | None = None) -> int | None:
        """The period of frames ``[start, end)`` (the whole sequence by default)."""
        end = len(self.trajectories) if end is None else end
        profile = self.remember(("profile", start, end, power),
                                 lambda: period_profile(self.trajectories[start:end], self.fps, power))
        return self.remember(("period", start, end, power, tolerance),
                              lambda: period_from_profile(profile, self.fps, tolerance))

    def signal(self, period: int, direction: str = "positions") -> np.ndarray:
        """:func:`periodic_signal` at ``period`` along ``direction``."""
        return self.remember(("signal", period, direction),
                              lambda: periodic_signal(self.trajectories, period, direction))

    def runs(self, period: int, threshold: float, direction: str = "positions") -> list[RepeatingRun]:
        """:func:`repeating_runs` of the signal at ``period`` (its recurrence computed once)."""
        signal = self.signal(period, direction)
        shares = self.remember(("recurrence", period, direction), lambda: recurrence(signal, period))
        return self.remember(("runs", period, threshold, direction),
                              lambda: repeating_runs(signal, period, threshold, shares))
