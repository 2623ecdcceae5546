"""Frames checked at the door: the frame-time rule and the page's frame messages, on any input
(Hypothesis): an answer (a frame, or one of the two refusals with a sentence) and never a hang
or another exception."""

import math
import struct
import threading

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posegraph.skeleton.frame_input import (MAX_AHEAD_S, FrameClock, FrameMessageError, FrameTimeError,
                                            decode_frame_message, image_size)

ANY_TIME = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**30, 10**30),
                     st.sampled_from([1e300, -1e300, float("nan"), 0.0, -0.0, 5e-324, MAX_AHEAD_S]))


def _jpeg(width: int = 64, height: int = 48) -> bytes:
    ok, data = cv2.imencode(".jpg", np.full((height, width, 3), 127, np.uint8))
    assert ok
    return data.tobytes()


def _within(seconds: float, function, *arguments):
    """``function(*arguments)``'s outcome, failing the test when it takes longer than ``seconds``."""
    outcome = {}

    def run():
        try:
            outcome["value"] = function(*arguments)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"no answer within {seconds} s"
    return outcome


@settings(max_examples=300, deadline=None)
@given(st.lists(ANY_TIME, max_size=30))
def test_the_clock_accepts_only_finite_times_that_neither_go_back_nor_jump_more_than_a_minute(times):
    clock = FrameClock()
    accepted = []
    for t_s in times:
        try:
            accepted.append(clock.accept(t_s))
        except FrameTimeError as error:
            assert "this frame is dropped" in str(error)
    previous = 0.0
    for t_s in accepted:
        assert math.isfinite(t_s) and previous <= t_s <= previous + MAX_AHEAD_S
        previous = t_s
    assert clock.refused == len(times) - len(accepted)


def test_a_bad_time_is_refused_in_words_and_the_next_good_one_goes_on():
    clock = FrameClock()
    clock.accept(1.0)
    for bad, words in ((1e300, "more than 60 s after the previous frame"), (float("nan"), "not a number"),
                       (0.5, "times must not go back"), (float("inf"), "not a number")):
        with pytest.raises(FrameTimeError, match=words):
            clock.accept(bad)
    assert clock.accept(1.0625) == 1.0625 and clock.refused == 4
    with pytest.raises(FrameTimeError, match="session's start"):
        FrameClock().accept(1e300)  # the first frame, too


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048), ANY_TIME)
def test_any_message_is_a_frame_or_a_refusal_in_words_within_a_second(body, t_s):
    try:
        head = struct.pack("<d", t_s)
    except (struct.error, OverflowError):
        head = b"\x00" * 8
    for payload in (body, head + body, head + _jpeg()[:len(body)], head + _jpeg() + body):
        outcome = _within(1.0, decode_frame_message, payload, 4096 * 4096, FrameClock())
        if "error" in outcome:
            assert isinstance(outcome["error"], (FrameTimeError, FrameMessageError)), repr(outcome["error"])
            assert str(outcome["error"])
        else:
            t_decoded, image = outcome["value"]
            assert math.isfinite(t_decoded) and image.ndim == 3 and image.shape[2] == 3


def test_a_header_claiming_20000_by_20000_pixels_is_refused_before_decoding():
    data = bytearray(_jpeg())
    at = data.find(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", 20000, 20000)
    assert image_size(bytes(data)) == (20000, 20000)
    with pytest.raises(FrameMessageError, match="20000 x 20000"):
        decode_frame_message(struct.pack("<d", 0.1) + bytes(data))


def test_a_good_frame_decodes_and_a_bad_image_does_not_move_the_clock():
    clock = FrameClock()
    with pytest.raises(FrameMessageError):
        decode_frame_message(struct.pack("<d", 50.0) + b"\xff\xd8garbage", clock=clock)
    t_s, image = decode_frame_message(struct.pack("<d", 0.25) + _jpeg(), clock=clock)
    assert t_s == 0.25 and image.shape == (48, 64, 3) and clock.previous_s == 0.25
    png = cv2.imencode(".png", np.zeros((10, 20, 3), np.uint8))[1].tobytes()
    assert image_size(png) == (20, 10)
