"""Windows, augmentation, the feature scaler, video-level voting and the plateau schedule."""

import io

import numpy as np
import pytest
import torch

from posegraph.gcn.schedules import PlateauSchedule
from posegraph.gcn.evaluation import confidence_band_accuracy
from posegraph.gcn.sequence import (FeatureScaler, add_noise, cut_window,
                                    interpolate_frames, time_stretch, video_probabilities, window_starts,
                                    windows)


def ramp(frames: int, features: int = 3) -> np.ndarray:
    """Frame t, feature f holds 100 * t + f: a window's values name their source frames."""
    return (100.0 * np.arange(frames)[:, None] + np.arange(features)).astype(np.float32)


def test_window_starts_hop_and_count():
    # span 39 source frames, hop round(20 * 0.3) = 6 sampled = 12 source frames
    np.testing.assert_array_equal(window_starts(100), [0, 12, 24, 36, 48, 60])
    assert len(window_starts(39)) == 1 and len(window_starts(51)) == 2
    assert len(window_starts(100, window=20, step=1, overlap=0.7)) == (100 - 20) // 6 + 1
    assert len(window_starts(100, window=10, step=1, overlap=0.99)) == 91  # hop at least one frame
    np.testing.assert_array_equal(window_starts(5), [0])  # short clip: one window
    assert len(window_starts(0)) == 0


def test_window_content_indices_and_looping_short_clips():
    cut = windows(ramp(100), window_starts(100))
    assert cut.shape == (6, 20, 3)
    np.testing.assert_array_equal(cut[1, :, 0] / 100, 12 + 2 * np.arange(20))
    short = windows(ramp(7), window_starts(7), window=5, step=2)[0]
    np.testing.assert_array_equal(short[:, 0] / 100, [0, 2, 4, 6, 1])  # loops back to the start


def test_interpolation_and_stretch_keep_nan_local():
    data = ramp(6, 1)
    data[3] = np.nan
    values = interpolate_frames(data, np.array([0.5, 2.0, 2.5, 4.0, 4.25]))[:, 0]
    np.testing.assert_allclose(values[[0, 1, 3, 4]], [50, 200, 400, 425])
    assert np.isnan(values[2])  # draws on frame 3
    np.testing.assert_array_equal(time_stretch(ramp(6), 1.0), ramp(6))
    np.testing.assert_allclose(time_stretch(ramp(5, 1), 0.5)[:, 0], 50 * np.arange(9))
    assert len(time_stretch(ramp(13), 1.2)) == 11


def test_cut_window_identity_without_stretch_shift_or_noise():
    data, start = ramp(100), 24
    plain = cut_window(data, start)
    np.testing.assert_array_equal(plain, windows(data, np.array([start]))[0])
    still = cut_window(data, start, random=np.random.default_rng(5), stretch=(1.0, 1.0), shift_probability=0.0)
    np.testing.assert_array_equal(still, plain)
    noiseless = add_noise(plain, np.random.default_rng(5), probability=0.0)
    np.testing.assert_array_equal(noiseless, plain)


def test_augmentation_is_deterministic_per_seed_and_stays_in_range():
    data = ramp(100)

    def batch(seed: int) -> np.ndarray:
        random = np.random.default_rng(seed)
        cut = np.stack([cut_window(data, start, random=random) for start in window_starts(100)])
        return add_noise(cut, random)

    np.testing.assert_array_equal(batch(3), batch(3))
    assert not np.array_equal(batch(3), batch(4))
    random = np.random.default_rng(0)
    last = np.stack([cut_window(data, 60, random=random)[:, 0] for _ in range(50)]) / 100
    spacing = np.diff(last, axis=1)  # source frames between samples: no loop back, within 0.8-1.2 x 2
    assert spacing.min() > 2 * 0.8 - 1e-3 and spacing.max() < 2 * 1.2 + 1e-3 and last.max() <= 99 + 1e-3
    assert np.ptp(spacing.mean(axis=1)) > 0.5  # stretched
    firsts = np.array([cut_window(data, 24, random=random, stretch=(1.0, 1.0))[0, 0] / 100 for _ in range(400)])
    assert set(firsts) == {22, 23, 24, 25, 26} and 0.18 < np.mean(firsts != 24) < 0.30  # 0.3 x 4/5 shifted


def test_noise_hits_about_30_percent_and_spares_missing():
    x, missing = np.zeros((2000, 4, 2), np.float32), np.zeros((2000, 4, 2), bool)
    missing[:, 0, 0] = True
    noisy = add_noise(x, np.random.default_rng(0), missing)
    touched = (noisy != 0).any(axis=(1, 2))
    assert 0.27 < touched.mean() < 0.33 and np.all(noisy[:, 0, 0] == 0)
    assert noisy[touched].std() == pytest.approx(0.01 * np.sqrt(7 / 8), rel=0.05)


def test_scaler_fits_on_training_data_only():
    random = np.random.default_rng(0)
    train = random.normal([10.0, -5.0, 3.0], [2.0, 0.5, 0.0], (200, 20, 3))
    train[0, 0, 0] = np.nan
    scaler = FeatureScaler.fit(train)
    np.testing.assert_allclose(scaler.mean, np.nanmean(train.reshape(-1, 3), axis=0), rtol=1e-5)
    np.testing.assert_allclose(scaler.std[:2], np.nanstd(train.reshape(-1, 3), axis=0)[:2], rtol=1e-5)
    assert scaler.std[2] == 1.0  # constant feature
    val = random.normal([14.0, -5.0, 3.0], [2.0, 0.5, 0.0], (50, 20, 3))
    val[1, 2, 1] = np.nan
    scaled = scaler.transform(val)
    assert scaled.dtype == np.float32 and np.isfinite(scaled).all() and scaled[1, 2, 1] == 0.0
    assert scaled[..., 0].mean() == pytest.approx(2.0, abs=0.1)  # val's own mean is not removed
    restored = FeatureScaler.from_dict(scaler.to_dict())
    np.testing.assert_array_equal(restored.transform(val), scaled)
    assert all(isinstance(v, float) for v in scaler.to_dict()["mean"])
    assert FeatureScaler.fit(np.full((4, 2), np.nan)).to_dict() == {"mean": [0.0, 0.0], "std": [1.0, 1.0]}


def test_video_probabilities_weight_by_confidence():
    windows_ = np.array([[0.9, 0.1], [0.3, 0.7], [0.55, 0.45]])
    expected = (0.9 * windows_[0] + 0.7 * windows_[1] + 0.55 * windows_[2]) / (0.9 + 0.7 + 0.55)
    np.testing.assert_allclose(video_probabilities(windows_), expected)
    np.testing.assert_allclose(video_probabilities(windows_, min_confidence=0.6),
                               (0.9 * windows_[0] + 0.7 * windows_[1]) / 1.6)
    np.testing.assert_allclose(video_probabilities(windows_, min_confidence=0.95), expected)  # all below: all
    with pytest.raises(ValueError):
        video_probabilities(np.zeros((0, 2)))


def test_confidence_bands():
    probabilities = np.array([[0.9, 0.1], [0.85, 0.15], [0.2, 0.8], [0.35, 0.65], [0.55, 0.45]])
    bands = confidence_band_accuracy(probabilities, np.array([0, 1, 1, 0, 0]))
    assert bands == {"above_0.8": {"accuracy": 0.5, "count": 2},
                     "0.6_to_0.8": {"accuracy": 0.5, "count": 2},
                     "below_0.6": {"accuracy": 1.0, "count": 1}}
    assert confidence_band_accuracy(probabilities[:1], np.array([0]))["below_0.6"] == {"accuracy": None, "count": 0}


def test_plateau_schedule_halves_after_patience_and_floors():
    schedule, lr, rates = PlateauSchedule(), 1e-3, []
    for loss in [1.0, 0.9, 0.8] + [0.85] * 7 + [0.79] + [0.8] * 8:
        lr = schedule.step(loss, lr)
        rates.append(lr)
    assert rates[:10] == [1e-3] * 10  # 7 epochs without improvement: not yet
    assert rates[10] == 1e-3 and rates[-2] == 1e-3 and rates[-1] == 5e-4  # the 8th bad epoch halves
    for _ in range(8 * 12):
        lr = schedule.step(2.0, lr)
    assert lr == 1e-6 and schedule.step(2.0, 5e-7) == 5e-7  # floor, and never raised to it
    fresh = PlateauSchedule()
    fresh.step(1.0, 1e-3)
    assert fresh.step(float("nan"), 1e-3) == 1e-3 and fresh.wait == 1 and fresh.best == 1.0


def test_plateau_schedule_resumes_exactly():
    losses = [1.0, 0.95, 0.97] + [0.99] * 20 + [0.5] + [0.6] * 10
    straight, lr = PlateauSchedule(), 1e-3
    expected = [lr := straight.step(loss, lr) for loss in losses]
    first, lr = PlateauSchedule(), 1e-3
    resumed = [lr := first.step(loss, lr) for loss in losses[:12]]
    state = torch.load(_saved(first.state_dict()), weights_only=True)
    second = PlateauSchedule()
    second.load_state_dict(state)
    resumed += [lr := second.step(loss, lr) for loss in losses[12:]]
    assert resumed == expected and second.state_dict() == straight.state_dict()


def _saved(state: dict) -> io.BytesIO:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return buffer
