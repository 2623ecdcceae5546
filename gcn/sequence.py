"""Windows of per-frame features, their augmentation, scaling and video-level voting (numpy).

Background (mediapipe-biomech-bilstm-attention, 4.4, 5.4, 6.2): windows of 20 frames taking
every 2nd frame, 70% overlap; time stretch, temporal shift and noise for training; a scaler
fitted on training data only; a video's class from its windows' confidence-weighted votes.

Training order for one window (all randomness from one explicit ``np.random.Generator``)::

    raw = cut_window(features, start, window, step, random)   # stretch + shift, NaN kept
    missing = np.isnan(raw)
    x = add_noise(scaler.transform(raw), random, missing)     # noise in standardised units

Noise comes after scaling so that sigma 0.01 means the same to every feature whatever its unit
(degrees, torso lengths, ratios). Evaluation uses ``windows(features, window_starts(...))`` and
``scaler.transform``, nothing random.

Short clips: a window that runs past the last frame loops back to the first (as
``gcn/augment.py`` loops short clips for ST-GCN); exercises are periodic, so a loop continues the
movement where repeating the edge frame would show a frozen pose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

STRETCH = (0.8, 1.2)
SHIFT_FRAMES, SHIFT_PROBABILITY = 2, 0.3
NOISE_SIGMA, NOISE_PROBABILITY = 0.01, 0.3


def window_starts(frame_count: int, window: int = 20, step: int = 2, overlap: float = 0.7) -> np.ndarray:
    """First source frame of each window, as int64.

    A window samples ``window`` frames ``step`` apart (it spans ``(window - 1) * step + 1`` source
    frames); consecutive windows share ``overlap`` of their frames, i.e. start
    ``max(1, round(window * (1 - overlap))) * step`` source frames apart. Frames after the last
    whole window are not used; a clip shorter than one window (but not empty) gives one window at 0.

    Example: 100 frames, 20 x step 2 (39 frames), hop 6 x 2 -> starts 0, 12, 24, 36, 48, 60.
    """
    span = (window - 1) * step + 1
    hop = max(1, round(window * (1 - overlap))) * step
    if frame_count <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, max(frame_count - span, 0) + 1, hop, dtype=np.int64)


def windows(features: np.ndarray, starts: np.ndarray, window: int = 20, step: int = 2) -> np.ndarray:
    """Cut the windows at ``starts`` (looping past the end). Shapes: ``(T, F)`` -> ``(N, window, F)``."""
    index = (np.asarray(starts)[:, None] + np.arange(window) * step) % len(features)
    return features[index]


def interpolate_frames(features: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linear interpolation at fractional frame ``positions`` (looping past the end).

    A value is NaN when a neighbour it actually draws on is NaN; at a whole position only that
    frame is used, so a NaN next door does not spread. Shapes: ``(T, F)``, ``(P,)`` -> ``(P, F)``.
    """
    positions = np.asarray(positions, dtype=np.float64) % len(features)
    lower = np.floor(positions).astype(np.int64)
    fraction = (positions - lower)[:, None]
    before, after = features[lower], features[(lower + 1) % len(features)]
    mixed = before + fraction * (after - before)
    return np.where(fraction == 0, before, mixed).astype(features.dtype, copy=False)


def time_stretch(features: np.ndarray, factor: float) -> np.ndarray:
    """The sequence played ``factor`` times as fast (1.2 -> fewer frames). Shapes: ``(T, F)`` -> ``(T', F)``.

    ``T' = floor((T - 1) / factor) + 1``; :func:`cut_window` samples the same positions for one
    window without resampling the whole clip.
    """
    return interpolate_frames(features, np.arange(int((len(features) - 1) / factor) + 1) * factor)


def cut_window(features: np.ndarray, start: int, window: int = 20, step: int = 2,
               random: np.random.Generator | None = None, stretch: tuple[float, float] = STRETCH,
               shift_frames: int = SHIFT_FRAMES, shift_probability: float = SHIFT_PROBABILITY) -> np.ndarray:
    """One window from the full sequence, augmented when ``random`` is given.

    Augmentation: speed factor uniform in ``stretch`` (0.8-1.2; the window samples every
    ``step * factor`` source frames, by linear interpolation), then with ``shift_probability``
    (0.3) a start shifted by ``-shift_frames..shift_frames`` (2) source frames. The start is then
    kept inside the clip where the stretched window fits (a stretched last window moves back
    rather than loop). Without ``random`` this is exactly
    ``windows(features, [start], window, step)[0]``.

    Shapes:
        features ``(T, F)`` -> ``(window, F)``, NaN where missing (see :func:`interpolate_frames`).
    """
    if random is None:
        return windows(features, np.array([start]), window, step)[0]
    factor = random.uniform(*stretch)
    shifted = random.random() < shift_probability
    shift = int(random.integers(-shift_frames, shift_frames + 1)) if shifted else 0
    spacing = step * factor
    latest = max(len(features) - 1 - (window - 1) * spacing, 0.0)
    first = min(max(start + shift, 0), latest)
    return interpolate_frames(features, first + np.arange(window) * spacing)


def add_noise(windows_: np.ndarray, random: np.random.Generator, missing: np.ndarray | None = None,
              sigma: float = NOISE_SIGMA, probability: float = NOISE_PROBABILITY) -> np.ndarray:
    """Gaussian noise (sigma in standardised units) on each window with ``probability``.

    Missing values (``missing`` True) stay exactly 0, the training mean. Shapes: ``(N, T, F)`` or
    ``(T, F)`` kept; float32.
    """
    x = np.array(windows_, dtype=np.float32)
    batch = x[None] if x.ndim == 2 else x
    chosen = random.random(len(batch)) < probability
    noise = random.normal(0.0, sigma, batch.shape).astype(np.float32)
    batch += np.where(chosen[:, None, None], noise, np.float32(0))
    if missing is not None:
        x[np.asarray(missing, dtype=bool)] = 0.0
    return x


@dataclass(frozen=True, eq=False)
class FeatureScaler:
    """Per-feature standardisation fitted on training data only (sklearn's ``StandardScaler``).

    :meth:`transform` is *the* one place missing features enter the model: standardise, then
    NaN -> 0, i.e. the training mean. Shapes: ``mean``, ``std`` ``(F,)``.
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, data: np.ndarray) -> FeatureScaler:
        """From training frames or windows ``(..., F)``, ignoring NaN; a constant or all-NaN
        feature gets std 1 (and mean 0 when all NaN)."""
        flat = np.asarray(data, dtype=np.float64).reshape(-1, np.shape(data)[-1])
        seen = (~np.isnan(flat)).any(axis=0)
        mean = np.zeros(flat.shape[1])
        std = np.ones(flat.shape[1])
        mean[seen] = np.nanmean(flat[:, seen], axis=0)
        spread = np.nanstd(flat[:, seen], axis=0)
        std[seen] = np.where(spread > 0, spread, 1.0)
        return cls(mean.astype(np.float32), std.astype(np.float32))

    def transform(self, data: np.ndarray) -> np.ndarray:
        """Standardise and fill missing with 0. Shapes: ``(..., F)`` kept; float32, finite."""
        scaled = (np.asarray(data, dtype=np.float32) - self.mean) / self.std
        return np.nan_to_num(scaled, nan=0.0, posinf=0.0, neginf=0.0)

    def to_dict(self) -> dict[str, list[float]]:
        """Plain lists: fits a checkpoint loaded with ``torch.load(weights_only=True)``."""
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> FeatureScaler:
        return cls(np.asarray(state["mean"], dtype=np.float32), np.asarray(state["std"], dtype=np.float32))


def video_probabilities(window_probabilities: np.ndarray, min_confidence: float = 0.0) -> np.ndarray:
    """A video's class probabilities: its windows' average weighted by confidence (max probability).

    Windows below ``min_confidence`` are left out; if every window is, all are used (a video
    always gets an answer; its low confidence shows). Shapes: ``(N, C)`` -> ``(C,)``.
    """
    probabilities = np.asarray(window_probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or len(probabilities) == 0:
        raise ValueError(f"expected window probabilities (N >= 1, C), got shape {probabilities.shape}")
    confidence = probabilities.max(axis=1)
    kept = confidence >= min_confidence
    if not kept.any():
        kept[:] = True
    weights = confidence[kept]
    return weights @ probabilities[kept] / weights.sum()
