"""Label-free repetition counting from a skeleton alone: no training, no labels, any exercise.

Steps, each derived from the sequence itself rather than tuned to examples:

1. **Body frame** (:func:`posegraph.skeleton.geometry.body_frame`): x, y in torso lengths around
   the body's mean centre, so the camera distance, frame size and where the person stands do
   not matter. Joints seen in under half the frames are left out; missing frames (NaN rows)
   are filled by linear interpolation, and the ends are held.
2. **Signal**: the first principal component of the joints' detrended, lightly smoothed
   trajectories (the direction in which the body moves most), so no joint or angle has to be
   chosen per exercise. A slow drift (walking in or out, the camera settling) is removed with a
   running median several repetitions long.
3. **Repetitions by hysteresis**: a repetition is counted each time the signal travels from the
   side where the set starts across a far threshold and turns, at its turning point (the depth
   of a squat, the top of a pull-up); thresholds sit at a fixed fraction of the local amplitude
   (so speed changes, pauses and uneven depths count right), and a clip that ends at the far side
   still counts its last repetition. Excursions smaller than :data:`MIN_AMPLITUDE` torso lengths
   are movement noise, not repetitions: a still or fidgeting person counts 0.

``exercise`` is accepted for the API (a hint may pick the signal in future); today the
principal component is used for every exercise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d, median_filter, percentile_filter

from ..skeleton import get_layout
from ..skeleton.geometry import body_frame

MIN_AMPLITUDE = 0.12  # torso lengths: the smallest peak-to-peak excursion that is a repetition
HYSTERESIS = 0.3  # thresholds at 30% and 70% of the way between the local low and high
SMOOTHING_S = 0.1  # Gaussian smoothing of the trajectories (seconds)
DRIFT_WINDOW_S = 12.0  # running median removed as drift (seconds): several repetitions long
AMPLITUDE_WINDOW_S = 6.0  # local low/high taken over this window (seconds)
MIN_REPETITION_S = 0.3  # a cycle shorter than this is jitter


@dataclass(frozen=True)
class RepetitionCount:
    """What :func:`count_repetitions` found.

    Shapes: ``frames (count,)`` the frame index of each repetition's turning point;
    ``signal (T,)`` the 1-D motion signal counted (torso lengths along its principal direction).
    """

    count: int
    frames: np.ndarray
    signal: np.ndarray
    amplitude: float  # typical peak-to-peak of the signal, torso lengths
    fps: float
    method: str = "pca-hysteresis/1"
    thresholds: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    def times(self) -> np.ndarray:
        """Seconds from the start at which each repetition was completed."""
        return self.frames / self.fps

    def to_dict(self) -> dict:
        return {"count": self.count, "method": self.method, "fps": self.fps, "amplitude": round(self.amplitude, 4),
                "repetitions": [{"repetition": index + 1, "frame_index": int(frame), "time_s": round(float(frame) / self.fps, 3)}
                                for index, frame in enumerate(self.frames)]}


def _filled(values: np.ndarray) -> np.ndarray:
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


def motion_signal(joints: np.ndarray, layout: str, fps: float) -> np.ndarray:
    """The 1-D signal counted: first principal component of the normalised joint trajectories.

    Shapes: ``joints (T, V, C)`` x, y[, z, visibility] -> ``(T,)`` torso lengths (NaN-free; zeros
    when nobody was seen).
    """
    frames = len(joints)
    normalised = body_frame(np.asarray(joints, dtype=np.float32)[..., :4] if joints.shape[-1] >= 4 else
                            np.concatenate([joints, np.full(joints.shape[:-1] + (4 - joints.shape[-1],), np.nan)], -1),
                            layout)
    trajectories = normalised[..., :2].reshape(frames, -1)
    seen = np.isfinite(trajectories).mean(axis=0) >= 0.5
    if frames < 3 or not seen.any():
        return np.zeros(frames)
    trajectories = _filled(trajectories[:, seen])
    trajectories = gaussian_filter1d(trajectories, sigma=max(SMOOTHING_S * fps, 0.5), axis=0, mode="nearest")
    drift_frames = int(DRIFT_WINDOW_S * fps) | 1
    if frames > drift_frames:
        trajectories = trajectories - median_filter(trajectories, size=(drift_frames, 1), mode="nearest")
    centred = trajectories - trajectories.mean(axis=0)
    _, _, directions = np.linalg.svd(centred, full_matrices=False)
    signal = centred @ directions[0]
    return signal


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


def count_repetitions(joints: np.ndarray, layout: str = "blazepose33", fps: float = 30.0,
                      exercise: str | None = None) -> RepetitionCount:
    """Count the repetitions in a skeleton sequence (see the module docstring for the method).

    Args:
        joints: ``(T, V, C)`` with C = 4 (x, y, z, visibility; C = 2 or 3 also taken), NaN rows
            where nobody was seen; any normalisation (it is redone here).
        layout: the skeleton layout's name (``blazepose33``, ``coco17``, ``openpose18``, ``penn13``).
        fps: frames per second of ``joints``.
        exercise: an optional hint (accepted; the principal-component signal serves every exercise).

    Returns:
        :class:`RepetitionCount` with ``count``, ``frames`` (frame index of each completed
        repetition) and the ``signal`` used.
    """
    joints = np.asarray(joints, dtype=np.float32)
    if joints.ndim != 3 or joints.shape[1] != get_layout(layout).num_joints or joints.shape[2] < 2:
        raise ValueError(f"joints must be (T, {get_layout(layout).num_joints}, C) for layout {layout} with C >= 2, "
                         f"got {joints.shape}")
    if not fps or fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    signal = motion_signal(joints, layout, fps)
    if not np.isfinite(signal).all() or np.ptp(signal) < MIN_AMPLITUDE:
        return RepetitionCount(0, np.zeros(0, dtype=np.int64), signal, float(np.ptp(signal)) if len(signal) else 0.0, fps)
    frames, near, far = _hysteresis_repetitions(signal, fps)
    amplitude = float(np.percentile(signal, 95) - np.percentile(signal, 5))
    return RepetitionCount(len(frames), np.asarray(frames, dtype=np.int64), signal, amplitude, fps,
                           thresholds=(near, far))


class OnlineRepetitionCounter:
    """The same counter, fed frame by frame, reporting each repetition once it is settled.

    After each frame (:meth:`update`) the counter recounts the recent frames (the last
    ``window_s`` seconds, every ``step_s`` seconds) and reports the repetitions whose turning
    point lies at least ``delay_s`` seconds back that it has not reported yet: a repetition is
    reported at most ``delay_s + step_s`` seconds after its turning point (the documented bound).
    :meth:`finish` counts the whole sequence as :func:`count_repetitions` does and reports what is
    still missing, so the final count always equals the offline one.
    """

    def __init__(self, layout: str = "blazepose33", fps: float = 30.0, exercise: str | None = None,
                 delay_s: float = 1.0, step_s: float = 0.25, window_s: float = 30.0) -> None:
        self.layout, self.fps, self.exercise = layout, fps, exercise
        self.delay, self.step = int(round(delay_s * fps)), max(int(round(step_s * fps)), 1)
        self.window = int(round(window_s * fps))
        self.frames: list[np.ndarray] = []
        self.reported: list[int] = []

    @property
    def count(self) -> int:
        return len(self.reported)

    def update(self, joints: np.ndarray) -> list[int]:
        """Add one frame ``(V, C)`` (NaN when nobody was seen); returns newly settled repetition frames."""
        self.frames.append(np.asarray(joints, dtype=np.float32))
        if len(self.frames) % self.step:
            return []
        start = max(0, len(self.frames) - self.window)
        recent = count_repetitions(np.stack(self.frames[start:]), self.layout, self.fps, self.exercise)
        settled = [start + int(frame) for frame in recent.frames if start + frame <= len(self.frames) - self.delay]
        return self._report(settled)

    def finish(self) -> list[int]:
        """Count everything seen (offline) and return the repetitions not reported yet."""
        if not self.frames:
            return []
        final = count_repetitions(np.stack(self.frames), self.layout, self.fps, self.exercise)
        new = self._report([int(frame) for frame in final.frames])
        if len(self.reported) != final.count:  # settled guesses the whole sequence did not confirm
            self.reported = [int(frame) for frame in final.frames]
        return new

    def _report(self, frames: list[int]) -> list[int]:
        tolerance = max(int(MIN_REPETITION_S * self.fps), 1)
        new = [frame for frame in frames if all(abs(frame - old) > tolerance for old in self.reported)
               and (not self.reported or frame > self.reported[-1])]
        self.reported.extend(new)
        return new
