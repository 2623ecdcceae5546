"""Reading video with OpenCV, resampled to a target frame rate by timestamps.

Frames are chosen by their presentation timestamps (``CAP_PROP_POS_MSEC``), so variable frame
rate video samples evenly in time. Dropped frames are only ``grab()``-ed, never
``retrieve()``-d (no colour conversion or copy for frames we do not keep). When the container
has no usable timestamps, they come from the metadata frame rate, or from
:data:`FALLBACK_FPS` when that is missing or zero too.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .vocabulary import DEFAULT_FPS, UNTIMED_FPS  # noqa: F401  (DEFAULT_FPS re-exported: the extraction default)

FALLBACK_FPS = UNTIMED_FPS  # a container that states no usable frame rate


class VideoError(Exception):
    """The file cannot be read as a video (permanent: retrying will not help)."""


@dataclass(frozen=True)
class VideoProperties:
    """What the container says about a video (``frames_per_second`` None if it does not say)."""

    path: str
    frames_per_second: float | None
    frame_count: int
    width: int
    height: int


@dataclass(frozen=True)
class SampledFrame:
    """A kept frame: its index in the source, its timestamp and the BGR image ``(H, W, 3)``."""

    index: int
    timestamp_s: float
    image: np.ndarray


def check_video_path(path: str | Path) -> None:
    """Raise :class:`VideoError` unless ``path`` is a regular file this process may read.

    Never opens the file: opening a named pipe would wait forever for a writer.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise VideoError(f"{path}: a broken symbolic link" if os.path.islink(path) else f"{path}: no such file") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise VideoError(f"{path}: a symbolic link loop, not a video file") from None
        raise VideoError(f"{path}: cannot be read ({error.strerror or error})") from None
    if stat.S_ISDIR(mode):
        raise VideoError(f"{path}: is a folder, not a video file")
    if not stat.S_ISREG(mode):
        kind = ("a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        raise VideoError(f"{path}: {kind}, not a video file")
    if not os.access(path, os.R_OK):
        raise VideoError(f"{path}: permission denied; check the file's read permissions")


def _open(path: Path) -> cv2.VideoCapture:
    check_video_path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb"):
            pass
    except PermissionError:
        raise VideoError(f"{path}: permission denied; check the file's read permissions") from None
    if size == 0:
        raise VideoError(f"{path}: empty file (0 bytes)")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise VideoError(f"{path}: OpenCV cannot decode it (not a video, or a damaged or unsupported file)")
    return capture


def probe(path: str | Path) -> VideoProperties:
    """The container's frame rate, frame count and size."""
    capture = _open(Path(path))
    try:
        return _properties(Path(path), capture)
    finally:
        capture.release()


def _properties(path: Path, capture: cv2.VideoCapture) -> VideoProperties:
    fps = capture.get(cv2.CAP_PROP_FPS)
    return VideoProperties(
        path=str(path),
        frames_per_second=float(fps) if fps and np.isfinite(fps) and 0 < fps < 1000 else None,
        frame_count=max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0),
        width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
        height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
    )


class SamplingClock:
    """Which frames to keep at ``target_fps`` (``None``: every frame), judged by timestamp.

    A frame is kept when its timestamp reaches the next sampling time (``k / target_fps``, within
    ``tolerance_s``, half a source frame); at most one frame per sampling time, so a source slower
    than the target is never duplicated. One rule for files (:class:`FrameSampler`) and live
    sources (:mod:`.stream`).
    """

    def __init__(self, target_fps: float | None, tolerance_s: float) -> None:
        self.target_fps, self.tolerance = target_fps, tolerance_s
        self.next_sample = 0.0

    def keep(self, timestamp_s: float) -> bool:
        """Whether the frame at ``timestamp_s`` is kept (advances the clock when it is)."""
        if self.target_fps is None:
            return True
        if timestamp_s + self.tolerance < self.next_sample:
            return False
        while self.next_sample <= timestamp_s + self.tolerance:
            self.next_sample += 1.0 / self.target_fps
        return True


class FrameSampler:
    """Iterate the frames of ``path`` kept at ``target_fps`` (``None``: every frame).

    A frame is kept when its timestamp reaches the next sampling time (``k / target_fps``,
    within half a source frame); at most one frame per sampling time, so a source slower
    than the target is never duplicated. After iteration, :attr:`decoded_frames` holds how
    many frames were decoded.

    Example:
        >>> sampler = FrameSampler("squat.mp4", target_fps=16)
        >>> for frame in sampler: ...
    """

    def __init__(self, path: str | Path, target_fps: float | None = DEFAULT_FPS) -> None:
        if target_fps is not None and target_fps <= 0:
            raise ValueError(f"target fps must be positive or None, got {target_fps}")
        self.path = Path(path)
        self.target_fps = target_fps
        capture = _open(self.path)
        self.properties = _properties(self.path, capture)
        capture.release()
        self.decoded_frames = 0

    def __iter__(self) -> Iterator[SampledFrame]:
        capture = _open(self.path)
        native_fps = self.properties.frames_per_second or FALLBACK_FPS
        clock = SamplingClock(self.target_fps, 0.5 / native_fps)
        previous_timestamp = -1.0
        index = -1
        try:
            while capture.grab():
                index += 1
                timestamp = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
                if not np.isfinite(timestamp) or (index > 0 and timestamp <= previous_timestamp):
                    timestamp = index / native_fps  # no usable timestamps in this container
                previous_timestamp = timestamp
                if not clock.keep(timestamp):
                    continue
                ok, image = capture.retrieve()
                if not ok or image is None:
                    break
                yield SampledFrame(index, timestamp, image)
        finally:
            self.decoded_frames = index + 1
            capture.release()
