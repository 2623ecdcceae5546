import cv2
import numpy as np
import pytest

from posegraph.skeleton import video as video_module
from posegraph.skeleton.video import FrameSampler, VideoError, probe
from tests.conftest import write_clip


def synthetic_video(path, fps: float, seconds: float, size: tuple[int, int]) -> str:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for frame in range(int(round(fps * seconds))):
        image = np.full((size[1], size[0], 3), frame % 255, dtype=np.uint8)
        writer.write(image)
    writer.release()
    return str(path)


@pytest.mark.parametrize("fps, size, seconds", [
    (24, (320, 240), 1.5), (25, (1920, 1080), 0.5), (30, (480, 854), 1.5), (60, (640, 360), 1.5),
])
def test_resampling_to_16_fps_keeps_16_frames_per_second(tmp_path, fps, size, seconds):
    path = synthetic_video(tmp_path / "clip.mp4", fps, seconds, size)
    frames = list(FrameSampler(path, 16))
    assert len(frames) == pytest.approx(seconds * 16, abs=1)
    gaps = np.diff([frame.timestamp_s for frame in frames])
    assert gaps.min() >= 1 / 16 - 1 / fps - 1e-6  # each kept frame lies within half a frame of its sample time
    assert gaps.mean() == pytest.approx(1 / 16, rel=0.1)
    assert frames[0].image.shape == (size[1], size[0], 3)
    assert len(list(FrameSampler(path, None))) == int(round(fps * seconds))


def test_real_videos_resample_by_timestamp(real_videos):
    clean_and_jerk = FrameSampler(real_videos / "kinetics_clean_and_jerk.mp4", 16)
    assert len(list(clean_and_jerk)) == 160 and clean_and_jerk.decoded_frames == 300
    assert len(list(FrameSampler(real_videos / "kinetics_clean_and_jerk.mp4", None))) == 300
    assert len(list(FrameSampler(real_videos / "kinetics_clean_and_jerk.mp4", 25))) == 250
    # Variable frame rate: the container says 28.05 fps, timestamps say otherwise.
    hug = list(FrameSampler(real_videos / "mmaction2_demo_skeleton_2persons.mp4", 16))
    stamps = np.array([frame.timestamp_s for frame in hug])
    assert np.all(np.diff(stamps) >= 1 / 16 - 1 / 28) and len(hug) <= 2.54 * 16 + 1


def test_dropped_frames_are_grabbed_not_retrieved(real_videos, monkeypatch):
    calls = {"grab": 0, "retrieve": 0}
    original = cv2.VideoCapture

    class CountingCapture:
        def __init__(self, *args):
            self.inner = original(*args)

        def grab(self):
            calls["grab"] += 1
            return self.inner.grab()

        def retrieve(self, *args):
            calls["retrieve"] += 1
            return self.inner.retrieve(*args)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    monkeypatch.setattr(video_module.cv2, "VideoCapture", CountingCapture)
    kept = list(FrameSampler(real_videos / "kinetics_tai_chi.mp4", 8))
    assert calls["retrieve"] == len(kept) == 80
    assert calls["grab"] >= 300


def test_missing_fps_metadata_falls_back_to_timestamps(tmp_path, real_videos, monkeypatch):
    clip = write_clip(real_videos / "kinetics_tai_chi.mp4", tmp_path / "clip.mp4", 2.0)
    original = cv2.VideoCapture

    class NoFps:
        def __init__(self, *args):
            self.inner = original(*args)

        def get(self, prop):
            return 0.0 if prop == cv2.CAP_PROP_FPS else self.inner.get(prop)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    monkeypatch.setattr(video_module.cv2, "VideoCapture", NoFps)
    sampler = FrameSampler(clip, 16)
    assert sampler.properties.frames_per_second is None
    assert len(list(sampler)) == pytest.approx(32, abs=1)


@pytest.mark.parametrize("name, message", [
    ("empty", "empty file"), ("notes", "OpenCV cannot decode it"), ("truncated", "cannot decode"),
])
def test_broken_files_raise_video_errors_naming_the_file(broken_videos, name, message):
    with pytest.raises(VideoError, match=message) as caught:
        list(FrameSampler(broken_videos[name], 16))
    assert str(broken_videos[name]) in str(caught.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(VideoError, match="no such file"):
        probe(tmp_path / "nope.mp4")
    with pytest.raises(VideoError, match="is a folder"):
        probe(tmp_path)
