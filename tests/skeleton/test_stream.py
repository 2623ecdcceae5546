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


def _read_all(path: str, realtime: bool) -> dict:
    """Every frame of ``path`` as a stream, or the error it raised; within 20 s or the test fails."""
    import math
    import threading

    outcome: dict = {"times": []}

    def run() -> None:
        try:
            stream = FrameStream(path, target_fps=16, realtime=realtime, stall_s=2.0, open_s=2.0)
            for frame in stream:
                outcome["times"].append(frame.t_s)
            outcome["ended"] = stream.ended
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(20.0)
    assert not thread.is_alive(), f"{path}: the stream neither ended nor answered within 20 s"
    assert all(math.isfinite(t) for t in outcome["times"])
    return outcome


def test_any_bytes_as_a_stream_give_frames_with_good_times_or_a_clean_end(real_videos, tmp_path_factory):
    """Hypothesis: a real video with arbitrary bytes written over part of it, or cut and followed
    by them, read as a stream (as fast as taken, and at its own rate): frames with finite times
    and an ``ended`` reason, or a :class:`VideoError`; never a hang or another exception."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    head = (real_videos / "kinetics_clean_and_jerk.mp4").read_bytes()
    folder = tmp_path_factory.mktemp("garbage-streams")

    def check(garbage: bytes, at: int, overwrite: bool, realtime: bool) -> None:
        path = folder / "stream.mp4"
        path.write_bytes(head[:at] + garbage + (head[at + len(garbage):] if overwrite else b""))
        outcome = _read_all(str(path), realtime)
        if "error" in outcome:
            assert isinstance(outcome["error"], VideoError), repr(outcome["error"])
        else:
            assert outcome["ended"], "a stream that ends says why"

    damaged = (st.binary(min_size=1, max_size=4096), st.integers(0, len(head)), st.booleans())
    quiet = {"deadline": None, "suppress_health_check": list(HealthCheck)}

    @settings(max_examples=10, **quiet)
    @given(*damaged)
    def as_fast_as_taken(garbage: bytes, at: int, overwrite: bool) -> None:
        check(garbage, at, overwrite, realtime=False)

    @settings(max_examples=2, **quiet)  # at its own rate a read takes the clip's 2 s (or the 2 s stall)
    @given(*damaged)
    def at_its_own_rate(garbage: bytes, at: int, overwrite: bool) -> None:
        check(garbage, at, overwrite, realtime=True)

    as_fast_as_taken()
    at_its_own_rate()
