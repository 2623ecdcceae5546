"""Frames as they arrive, for live analysis: a camera, a network stream or a video file.

:class:`FrameStream` reads ``0`` (a camera index), ``rtsp://``, ``udp://``, ``rtp://``, ``http://``
(any URL OpenCV's FFmpeg backend opens) or a file. A file is read as fast as the consumer takes
frames, or at its own frame rate with ``realtime=True``; cameras and network streams run at
theirs. Frames are sampled at ``target_fps`` by timestamp (:class:`~.video.SamplingClock`, the
rule the extraction uses).

When the consumer falls behind a source that keeps its own pace, a reader thread keeps only the
newest frame: an older unread one is dropped on purpose and counted (:attr:`FrameStream.dropped`),
so memory stays at one frame however slow the consumer is. The stream ends, with the reason in
:attr:`FrameStream.ended`, when the source ends, when nothing decodable arrives for ``stall_s``
seconds (``open_s`` for the first frame), or when the source cannot be opened.

Example:
    >>> stream = FrameStream("udp://127.0.0.1:5000", target_fps=16)
    >>> for frame in stream: ...
    >>> stream.ended, stream.dropped
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .video import FALLBACK_FPS, FrameSampler, SamplingClock, VideoError, check_video_path
from .vocabulary import DEFAULT_FPS

URL_SCHEMES = ("rtsp", "rtsps", "rtmp", "udp", "rtp", "srt", "tcp", "http", "https")


@dataclass(frozen=True)
class LiveFrame:
    """A kept frame: its number in the source, its source time (seconds from the first frame), the
    ``time.monotonic()`` at which it was read, and the BGR image ``(H, W, 3)``."""

    index: int
    t_s: float
    read_at: float
    image: np.ndarray


def source_kind(source: str) -> str:
    """``camera`` (a number), ``network`` (a URL) or ``file``."""
    if source.strip().isdigit():
        return "camera"
    scheme = source.split("://", 1)[0].lower() if "://" in source else ""
    if scheme in URL_SCHEMES:
        return "network"
    if scheme:
        raise VideoError(f"{source}: unknown scheme {scheme}://; use a camera number, a file, or one of "
                         f"{', '.join(s + '://' for s in URL_SCHEMES)}")
    return "file"


class FrameStream:
    """Iterate the frames of a live source (module docstring); counts in :attr:`read`,
    :attr:`kept`, :attr:`dropped`; :attr:`ended` says why it stopped."""

    def __init__(self, source: str | int, target_fps: float | None = DEFAULT_FPS, realtime: bool = False,
                 stall_s: float = 5.0, open_s: float = 20.0) -> None:
        if target_fps is not None and target_fps <= 0:
            raise ValueError(f"target fps must be positive or None, got {target_fps}")
        self.source = str(source)
        self.kind = source_kind(self.source)
        if self.kind == "file":
            check_video_path(self.source)
        self.target_fps, self.realtime = target_fps, realtime or self.kind != "file"
        self.stall_s, self.open_s = stall_s, open_s
        self.read = self.kept = self.dropped = 0
        self.ended: str | None = None
        self.frame_size: tuple[int, int] | None = None
        self.native_fps: float | None = None
        self._latest: LiveFrame | None = None
        self._done: str | None = None
        self._closed = False
        self._condition = threading.Condition()

    def __iter__(self) -> Iterator[LiveFrame]:
        if not self.realtime:
            yield from self._file_frames()
            return
        thread = threading.Thread(target=self._read, name=f"frames from {self.source}", daemon=True)
        thread.start()
        first = True
        try:
            while True:
                with self._condition:
                    self._condition.wait_for(lambda: self._latest is not None or self._done is not None,
                                             timeout=self.open_s if first else self.stall_s)
                    frame, self._latest = self._latest, None
                    done = self._done
                if frame is not None:
                    first = False
                    yield frame
                elif done is not None:
                    self.ended = done
                    return
                else:
                    self.ended = (f"{self.source}: no frame arrived within {self.open_s:.0f} s of opening" if first
                                  else f"{self.source}: stalled, no frame for {self.stall_s:.0f} s")
                    return
        finally:
            self.close()

    def close(self) -> None:
        """Stop reading (the reader thread lets the source go at its next frame)."""
        with self._condition:
            self._closed = True

    def _file_frames(self) -> Iterator[LiveFrame]:
        """A file as fast as the consumer takes it: every sampled frame, none dropped."""
        sampler = FrameSampler(self.source, self.target_fps)
        self.frame_size = (sampler.properties.width, sampler.properties.height)
        self.native_fps = sampler.properties.frames_per_second
        for frame in sampler:
            self.kept += 1
            yield LiveFrame(frame.index, frame.timestamp_s, time.monotonic(), frame.image)
        self.read = sampler.decoded_frames
        self.ended = f"{self.source}: the file ended"

    def _open(self) -> cv2.VideoCapture:
        if self.kind == "camera":
            return cv2.VideoCapture(int(self.source))
        if self.kind == "network":
            # OpenCV warns on stderr when a stream times out; the session's own line says it for people
            cv2.setLogLevel(2)  # errors only
            timeouts = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.open_s * 1000),
                        cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.stall_s * 1000)]
            return cv2.VideoCapture(self.source, cv2.CAP_FFMPEG, timeouts)
        return cv2.VideoCapture(self.source)

    def _read(self) -> None:
        """The reader thread: grab at the source's pace, keep the newest frame, count the dropped."""
        try:
            reason = self._read_frames()
        except Exception as error:  # noqa: BLE001  (a reader that dies must still end the session)
            reason = f"{self.source}: reading failed ({type(error).__name__}: {error})"
        with self._condition:
            self._done = reason
            self._condition.notify_all()

    def _read_frames(self) -> str:
        capture = self._open()
        if not capture.isOpened():
            capture.release()
            what = {"camera": "no camera with that number, or it is busy",
                    "network": "nothing decodable arrived (no stream there, or not video)",
                    "file": "OpenCV cannot decode it"}[self.kind]
            return f"{self.source}: cannot open ({what})"
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.native_fps = float(fps) if fps and np.isfinite(fps) and 0 < fps < 1000 else None
        self.frame_size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        clock = SamplingClock(self.target_fps, 0.5 / (self.native_fps or FALLBACK_FPS))
        started, previous = time.monotonic(), -1.0
        try:
            while not self._closed:
                if not capture.grab():
                    return (f"{self.source}: the file ended" if self.kind == "file"
                            else f"{self.source}: the stream stopped (or sent nothing decodable)")
                self.read += 1
                timestamp = self._timestamp(capture, started, previous)
                previous = timestamp
                if self.kind == "file":  # a file at its own frame rate: wait for the frame's time
                    time.sleep(max(0.0, started + timestamp - time.monotonic()))
                if not clock.keep(timestamp):
                    continue
                ok, image = capture.retrieve()
                if not ok or image is None:
                    return f"{self.source}: a frame could not be decoded; the source sends damaged video"
                frame = LiveFrame(self.read - 1, timestamp, time.monotonic(), image)
                with self._condition:
                    if self._latest is not None:
                        self.dropped += 1  # the consumer is behind: the older frame goes
                    self._latest = frame
                    self.kept += 1
                    self._condition.notify_all()
            return f"{self.source}: stopped"
        finally:
            capture.release()

    def _timestamp(self, capture: cv2.VideoCapture, started: float, previous: float) -> float:
        """A file's own timestamp (its frame number over its frame rate where it has none); for a
        camera or a stream, the time since opening: what a viewer of it sees."""
        if self.kind == "file":
            stamp = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if np.isfinite(stamp) and stamp > previous:
                return float(stamp)
            return (self.read - 1) / (self.native_fps or FALLBACK_FPS)
        return time.monotonic() - started


def check_live_source(source: str) -> None:
    """Raise :class:`~.video.VideoError` for a source that cannot be one (a missing file, an unknown
    scheme) before any model is loaded."""
    if source_kind(str(source)) == "file" and not Path(source).exists():
        raise VideoError(f"{source}: no such file (a live source is a camera number, a URL or a video file)")
