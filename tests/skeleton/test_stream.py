"""Live frame sources: a file as fast as it is taken or at its own rate, frames dropped (and
counted, never queued) when the consumer is slow, and sources that cannot be read, stall or are
unknown ending with a reason."""

import socket
import time

import pytest

from posegraph.skeleton.stream import FrameStream, check_live_source, source_kind
from posegraph.skeleton.video import FrameSampler, VideoError


def test_a_file_read_as_fast_as_possible_gives_every_sampled_frame_and_drops_none(short_clips):
    clip = short_clips["kinetics_tai_chi"]
    stream = FrameStream(clip, target_fps=16)
    frames = list(stream)
    expected = list(FrameSampler(clip, 16))
    assert [frame.index for frame in frames] == [frame.index for frame in expected]
    assert [frame.t_s for frame in frames] == [frame.timestamp_s for frame in expected]
    assert stream.dropped == 0 and "the file ended" in stream.ended


def test_a_slow_consumer_of_a_realtime_file_drops_frames_instead_of_queueing_them(short_clips):
    clip = short_clips["kinetics_clean_and_jerk"]  # 2 s
    stream = FrameStream(clip, target_fps=None, realtime=True)
    started, taken = time.monotonic(), []
    for frame in stream:
        taken.append(frame)
        time.sleep(0.2)  # far slower than the source's 25-30 frames a second
    elapsed = time.monotonic() - started
    assert stream.dropped > 0 and len(taken) + stream.dropped == stream.kept
    assert len(taken) <= elapsed / 0.2 + 1
    assert elapsed < 2.0 + 1.0  # read at the file's own pace, not waiting for the consumer
    assert all(later.t_s > earlier.t_s for earlier, later in zip(taken, taken[1:]))


def test_a_realtime_file_is_read_at_its_own_frame_rate(short_clips):
    stream = FrameStream(short_clips["kinetics_tai_chi"], target_fps=16, realtime=True)
    started = time.monotonic()
    frames = list(stream)
    assert time.monotonic() - started >= 0.8 * frames[-1].t_s > 1.0
    assert stream.dropped == 0


def test_a_file_that_is_not_a_video_ends_the_stream_with_the_reason(tmp_path):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x17garbage" * 500)
    stream = FrameStream(garbage, realtime=True)
    assert list(stream) == []
    assert "cannot open" in stream.ended and "garbage.mp4" in stream.ended


def test_a_stream_where_nothing_arrives_ends_after_the_open_timeout():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stream = FrameStream(f"udp://127.0.0.1:{port}", open_s=1.5, stall_s=1.0)
    started = time.monotonic()
    assert list(stream) == []
    assert time.monotonic() - started < 10
    assert stream.ended and ("no frame arrived" in stream.ended or "cannot open" in stream.ended)


def test_sources_are_told_apart_and_bad_ones_named(tmp_path):
    assert source_kind("0") == "camera" and source_kind("rtsp://camera.local/1") == "network"
    assert source_kind("udp://127.0.0.1:5000") == "network" and source_kind(str(tmp_path / "a.mp4")) == "file"
    with pytest.raises(VideoError, match="unknown scheme ftp://"):
        source_kind("ftp://host/video.mp4")
    with pytest.raises(VideoError, match="no such file"):
        check_live_source(str(tmp_path / "missing.mp4"))
