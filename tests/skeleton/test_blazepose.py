"""BlazePose on the real test videos: what we store is exactly what MediaPipe returns."""

import cv2
import numpy as np
import pytest

from posegraph.skeleton import build_extractor
from posegraph.skeleton.blazepose import landmarks_array
from posegraph.skeleton.video import FrameSampler


@pytest.fixture(scope="module")
def extracted(short_clips):
    return build_extractor("blazepose", target_fps=16).extract(short_clips["kinetics_clean_and_jerk"])


def test_detection_rate_and_frame_count(extracted):
    assert extracted.joints.shape == (32, 33, 4)
    assert extracted.detected.mean() > 0.9
    assert extracted.layout == "blazepose33" and extracted.extractor == "blazepose"
    assert extracted.extractor_version.startswith("mediapipe-0.10.21/solutions.pose:complexity1")
    np.testing.assert_allclose(np.diff(extracted.timestamps).mean(), 1 / 16, rtol=0.1)


def test_landmarks_are_identical_to_a_direct_mediapipe_call(extracted, short_clips):
    import mediapipe as mp

    direct = []
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1, smooth_landmarks=True,
                                enable_segmentation=False) as pose:
        for frame in FrameSampler(short_clips["kinetics_clean_and_jerk"], 16):
            result = pose.process(cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB))
            direct.append(landmarks_array(result.pose_landmarks) if result.pose_landmarks else None)
    assert len(direct) == len(extracted.joints)
    for stored, expected in zip(extracted.joints, direct):
        if expected is None:
            assert np.isnan(stored).all()
        else:
            np.testing.assert_array_equal(stored, expected)


def test_a_missing_task_file_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="pose_landmarker_heavy.task"):
        build_extractor("blazepose", model_asset=tmp_path / "pose_landmarker_heavy.task")


def test_unknown_extractor():
    with pytest.raises(ValueError, match="unknown extractor 'openpose'; choose from blazepose, hrnet"):
        build_extractor("openpose")


def test_mediapipe_native_warnings_are_silenced_and_python_stderr_still_works(real_videos):
    import subprocess
    import sys

    code = ("import sys; from posegraph.skeleton.extraction import build_extractor; "
            "e = build_extractor('blazepose', target_fps=4.0); "
            f"r = e.extract({str(real_videos / 'kinetics_tai_chi.mp4')!r}); e.extract({str(real_videos / 'kinetics_tai_chi.mp4')!r}); "
            "print('frames', len(r.joints)); print('python stderr', file=sys.stderr)")
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0 and "frames" in quiet.stdout
    assert "python stderr" in quiet.stderr
    for noise in ("W0000", "Feedback manager", "NORM_RECT", "absl::InitializeLog", "XNNPACK"):  # the lines per video
        assert noise not in quiet.stderr, quiet.stderr
    import os

    loud = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "POSEGRAPH_NATIVE_LOGS": "1"})
    assert "W0000" in loud.stderr  # the switch shows them again: the test would see a change in MediaPipe
