"""Person boxes for top-down pose estimation, found without downloading anything.

Two detectors: ``mediapipe`` (default) takes the box around the visible landmarks of
MediaPipe's bundled BlazePose, ``hog`` uses OpenCV's built-in HOG people detector. A
:class:`BoxTracker` follows one person across frames: it prefers the detection that overlaps
the previous box most, smooths the box, and keeps the last box through short misses.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .native_logs import native_stderr_silenced, silenced_until, wait_for_models

HOLD_FRAMES = 5  # frames a box is kept when the detector misses the person
SMOOTHING = 0.5  # weight of the new detection in the tracked box
MODEL_ASPECT = 192 / 256  # HRNet input width / height (3:4)
PADDING = 1.25  # the reference enlarges person boxes by 25%


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels: centre and size."""

    center_x: float
    center_y: float
    width: float
    height: float

    @classmethod
    def from_corners(cls, left: float, top: float, right: float, bottom: float) -> "Box":
        return cls((left + right) / 2, (top + bottom) / 2, right - left, bottom - top)

    def corners(self) -> tuple[float, float, float, float]:
        return (self.center_x - self.width / 2, self.center_y - self.height / 2,
                self.center_x + self.width / 2, self.center_y + self.height / 2)

    def expanded_to_model_aspect(self, aspect: float = MODEL_ASPECT, padding: float = PADDING) -> "Box":
        """Grow the short side to the 3:4 input aspect, then pad by 25%."""
        width, height = self.width, self.height
        if width > aspect * height:
            height = width / aspect
        else:
            width = height * aspect
        return Box(self.center_x, self.center_y, width * padding, height * padding)

    def overlap(self, other: "Box") -> float:
        """Intersection over union."""
        a, b = self.corners(), other.corners()
        inter_w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        inter_h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = inter_w * inter_h
        union = self.width * self.height + other.width * other.height - inter
        return inter / union if union > 0 else 0.0


class HogDetector:
    """OpenCV's default HOG people detector (built in, no download)."""

    def __init__(self) -> None:
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def __call__(self, image: np.ndarray) -> list[Box]:
        rects, _ = self.hog.detectMultiScale(image, winStride=(8, 8), padding=(8, 8), scale=1.05)
        return [Box.from_corners(x, y, x + w, y + h) for x, y, w, h in rects]

    def close(self) -> None:
        pass


class MediaPipeBoxDetector:
    """The box around BlazePose's visible landmarks (MediaPipe's bundled model)."""

    def __init__(self, min_visibility: float = 0.5) -> None:
        import mediapipe as mp

        self.min_visibility = min_visibility
        with native_stderr_silenced():  # MediaPipe's and TFLite's start-up lines
            self.pose = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1,
                                               enable_segmentation=False)
            wait_for_models(self.pose)
        self.process = silenced_until(self.pose.process, lambda result: result.pose_landmarks is not None)

    def __call__(self, image: np.ndarray) -> list[Box]:
        result = self.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        if result.pose_landmarks is None:
            return []
        height, width = image.shape[:2]
        points = np.array([[p.x * width, p.y * height] for p in result.pose_landmarks.landmark
                           if p.visibility >= self.min_visibility])
        if len(points) < 2:
            return []
        (left, top), (right, bottom) = points.min(axis=0), points.max(axis=0)
        return [Box.from_corners(left, top, right, bottom)]

    def close(self) -> None:
        self.pose.close()


def build_detector(name: str):
    if name == "mediapipe":
        return MediaPipeBoxDetector()
    if name == "hog":
        return HogDetector()
    raise ValueError(f"unknown person detector {name!r}; choose mediapipe or hog")


class BoxTracker:
    """Follows one person: best-overlapping detection, smoothed, held through short misses."""

    def __init__(self, hold_frames: int = HOLD_FRAMES, smoothing: float = SMOOTHING) -> None:
        self.hold_frames = hold_frames
        self.smoothing = smoothing
        self.box: Box | None = None
        self.misses = 0

    def update(self, detections: list[Box]) -> Box | None:
        if not detections:
            self.misses += 1
            if self.misses > self.hold_frames:
                self.box = None
            return self.box
        if self.box is None:
            chosen = max(detections, key=lambda box: box.width * box.height)
            self.box = chosen
        else:
            chosen = max(detections, key=self.box.overlap)
            keep = 1 - self.smoothing
            self.box = Box(*(keep * old + self.smoothing * new for old, new in zip(
                (self.box.center_x, self.box.center_y, self.box.width, self.box.height),
                (chosen.center_x, chosen.center_y, chosen.width, chosen.height))))
        self.misses = 0
        return self.box
