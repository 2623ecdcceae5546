"""Frames checked at the door, before any work is spent on them: their times and their images.

Every live source (the live page's WebSocket, a camera, a network stream, a file played live) hands
frames with a time in seconds. A time that is not a finite number, that goes back, or that jumps far
ahead is refused here with one plain sentence, and the frame is dropped; the session goes on with
the next good frame. Nothing downstream then has to survive a time of ``1e300`` (whose gap, filled
frame by frame, would never end) or ``NaN`` (which poisons every later comparison).

A frame from the page is a message: 8 bytes of little-endian float64 time, then a JPEG or PNG
image. :func:`decode_frame_message` reads the image's header before decoding it, so a header that
claims 20000 x 20000 pixels costs nothing.

Example:
    >>> clock = FrameClock()
    >>> clock.accept(0.5)
    0.5
    >>> try:
    ...     clock.accept(float("nan"))
    ... except FrameTimeError as error:
    ...     print(error)
    frame time nan is not a number of seconds; this frame is dropped
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np

MAX_AHEAD_S = 60.0  # a frame may come at most a minute after the previous one (a stalled source ends before)
MAX_FRAME_PIXELS = 4096 * 4096  # 16.8 megapixels: a 4K camera frame fits, a decompression bomb does not
TIME_BYTES = 8


class FrameTimeError(ValueError):
    """A frame's time breaks the rule (not finite, backwards, or too far ahead): the frame is dropped."""


class FrameMessageError(ValueError):
    """A frame message that cannot be a frame (too short, not an image, too large): it is dropped."""


@dataclass
class FrameClock:
    """The frame-time rule of one session: finite, never before the previous frame, at most
    ``max_ahead_s`` seconds after it (the first frame: after ``origin_s``, the session's start).
    :meth:`check` says whether a time may come next, :meth:`accept` also makes it the previous
    frame's (only once the frame itself proved good: a bad image must not move the clock).
    ``refused`` counts refusals."""

    max_ahead_s: float = MAX_AHEAD_S
    origin_s: float = 0.0
    previous_s: float | None = None
    refused: int = 0

    def check(self, t_s: float) -> float:
        """``t_s`` (seconds) as a float when it may be the next frame's time, else :class:`FrameTimeError`."""
        try:
            reason = self._broken(t_s)
        except (TypeError, ValueError, OverflowError):
            reason = f"frame time {t_s!r} is not a number of seconds; this frame is dropped"
        if reason is not None:
            self.refused += 1
            raise FrameTimeError(reason)
        return float(t_s)

    def accept(self, t_s: float) -> float:
        """:meth:`check`, then ``t_s`` is the previous frame's time."""
        self.previous_s = self.check(t_s)
        return self.previous_s

    def _broken(self, t_s: float) -> str | None:
        value = float(t_s)
        if not math.isfinite(value):
            return f"frame time {t_s} is not a number of seconds; this frame is dropped"
        previous = self.origin_s if self.previous_s is None else self.previous_s
        since = "the session's start" if self.previous_s is None else "the previous frame"
        if value < previous:
            return (f"frame time {value:g} s is before {since} ({previous:g} s): times must not go back; "
                    f"this frame is dropped")
        if value - previous > self.max_ahead_s:
            return (f"frame time {value:g} s is more than {self.max_ahead_s:g} s after {since} ({previous:g} s): "
                    f"times are seconds since the camera started; this frame is dropped")
        return None


def image_size(data: bytes) -> tuple[int, int]:
    """``(width, height)`` in pixels from a JPEG's or PNG's header, read without decoding the image
    (nothing else is read: a header is a few hundred bytes). Raises :class:`FrameMessageError`
    when the bytes are neither."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24 and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    if data[:2] != b"\xff\xd8":
        raise FrameMessageError("the frame is not a JPEG or PNG image")
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            break
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2:at + 4])
        if marker in _START_OF_FRAME and at + 9 <= len(data):
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            return width, height
        if length < 2 or marker in (0xD9, 0xDA):  # the image's end or its data, before any frame header
            break
        at += 2 + length
    raise FrameMessageError("the frame is not a whole JPEG image (no frame header before its data)")


_START_OF_FRAME = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # SOF0-SOF15 (C4, C8, CC are other markers)


def decode_frame_message(payload: bytes, max_pixels: int = MAX_FRAME_PIXELS,
                         clock: FrameClock | None = None) -> tuple[float, np.ndarray]:
    """``(time s, BGR image (H, W, 3) uint8)`` from a page's frame message; the time goes through
    ``clock`` first (a refused time costs no decoding) and moves it only once the image decoded. Raises :class:`FrameTimeError` or
    :class:`FrameMessageError`, each with a sentence for the person at the page."""
    import cv2

    if len(payload) <= TIME_BYTES:
        raise FrameMessageError(f"a frame message is {TIME_BYTES} bytes of time, then a JPEG; "
                                f"this one has {len(payload)} bytes")
    (t_s,) = struct.unpack("<d", payload[:TIME_BYTES])
    if clock is not None:
        clock.check(t_s)
    elif not math.isfinite(t_s):
        raise FrameTimeError(f"frame time {t_s} is not a number of seconds; this frame is dropped")
    data = payload[TIME_BYTES:]
    width, height = image_size(data)
    if width <= 0 or height <= 0 or width * height > max_pixels:
        raise FrameMessageError(f"the frame claims {width} x {height} pixels; at most {max_pixels:,} pixels "
                                f"are decoded: send a smaller frame (640 x 480 is plenty)")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.ndim != 3 or image.shape[2] != 3:
        raise FrameMessageError("the frame's image is damaged: its header reads but it does not decode")
    if clock is not None:
        clock.accept(t_s)
    return float(t_s), image


__all__ = ["MAX_AHEAD_S", "MAX_FRAME_PIXELS", "FrameClock", "FrameMessageError", "FrameTimeError",
           "decode_frame_message", "image_size"]
