import numpy as np
import pytest

from posegraph.skeleton.cleaning import CleaningSettings, clean, status_of


def ramp(frames: int = 30, joints: int = 5) -> np.ndarray:
    values = np.zeros((frames, joints, 4), dtype=np.float32)
    values[..., 0] = np.arange(frames)[:, None] / frames
    values[..., 1] = 0.5
    values[..., 3] = 0.9
    return values


def test_low_visibility_frames_count_as_not_detected():
    joints = ramp()
    joints[4, :, 3] = 0.5
    cleaned = clean(joints, np.ones(30, bool), CleaningSettings(max_gap=0))
    assert not cleaned.detected[4] and cleaned.detected.sum() == 29
    assert np.isnan(cleaned.joints[4]).all()


def test_short_gaps_are_interpolated_and_marked():
    joints = ramp()
    found = np.ones(30, bool)
    found[10:18] = False  # 8 frames: the longest gap filled by default
    cleaned = clean(joints, found)
    np.testing.assert_allclose(cleaned.joints[10:18, :, 0], joints[10:18, :, 0], atol=1e-6)
    assert cleaned.interpolated[10:18].all() and not cleaned.interpolated[:10].any()
    assert cleaned.detection_rate == pytest.approx(22 / 30)


def test_long_and_edge_gaps_stay_empty():
    found = np.ones(30, bool)
    found[:2] = False
    found[10:19] = False  # 9 frames
    cleaned = clean(ramp(), found)
    assert np.isnan(cleaned.joints[10:19]).all() and np.isnan(cleaned.joints[:2]).all()
    assert not cleaned.interpolated.any()


def test_rejection_below_the_minimum_detection_rate():
    found = np.zeros(30, bool)
    found[:5] = True
    cleaned = clean(ramp(), found)
    status, reason = status_of(cleaned)
    assert status == "rejected" and "17% of frames, below the minimum of 30%" in reason
    assert status_of(clean(ramp(), np.ones(30, bool))) == ("ok", None)
    assert cleaned.mean_visibility == pytest.approx(0.9)
