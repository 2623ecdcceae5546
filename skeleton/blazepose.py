"""MediaPipe BlazePose (33 landmarks) over a video, in tracking mode.

By default the full model bundled in mediapipe 0.10.21 (``solutions.pose``,
``model_complexity=1``); nothing is downloaded. ``model_asset=FILE.task`` uses a Tasks-API
pose landmarker file that the user brings (e.g. ``pose_landmarker_heavy.task``) instead.
Stored values are exactly MediaPipe's landmarks (float32, as in its protobuf).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import cv2
import numpy as np

from .extractor import ExtractionResult
from .layouts import BLAZEPOSE33
from .native_logs import native_stderr_silenced, silenced_until, wait_for_models
from .video import DEFAULT_FPS, FrameSampler

os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ INFO/WARNING lines on every video


def landmarks_array(landmarks: object) -> np.ndarray:
    """MediaPipe landmarks (a list or a LandmarkList) as ``(33, 4)`` float32 x, y, z, visibility."""
    points = getattr(landmarks, "landmark", landmarks)
    return np.array([[point.x, point.y, point.z, point.visibility] for point in points], dtype=np.float32)


class BlazePoseExtractor:
    """BlazePose over sampled frames; one :class:`ExtractionResult` per video."""

    name = "blazepose"
    layout = BLAZEPOSE33.name

    def __init__(self, target_fps: float | None = DEFAULT_FPS, model_complexity: int = 1,
                 min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5,
                 model_asset: str | Path | None = None) -> None:
        import mediapipe

        self.target_fps = target_fps
        self.model_complexity = model_complexity
        self.min_detection_confidence = min_detection_confidence
        self.min_tracking_confidence = min_tracking_confidence
        self.model_asset = Path(model_asset) if model_asset else None
        if self.model_asset is not None and not self.model_asset.is_file():
            raise FileNotFoundError(
                f"--model-asset {self.model_asset}: no such file. Pass a MediaPipe pose landmarker "
                f"task file (e.g. pose_landmarker_heavy.task), or leave it out to use the bundled full model.")
        model = (f"task:{hashlib.sha256(self.model_asset.read_bytes()).hexdigest()[:16]}"
                 if self.model_asset else f"solutions.pose:complexity{model_complexity}")
        self.version = f"mediapipe-{mediapipe.__version__}/{model}"
        self.settings = {"target_fps": target_fps, "model": model,
                         "min_detection_confidence": min_detection_confidence,
                         "min_tracking_confidence": min_tracking_confidence}

    def extract(self, path: str | Path) -> ExtractionResult:
        sampler = FrameSampler(path, self.target_fps)
        rows, found, timestamps, indices = [], [], [], []
        with self.landmarker() as detect:
            for frame in sampler:
                landmarks = detect(cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB), frame.timestamp_s)
                found.append(landmarks is not None)
                rows.append(landmarks if landmarks is not None
                            else np.full((BLAZEPOSE33.num_joints, 4), np.nan, dtype=np.float32))
                timestamps.append(frame.timestamp_s)
                indices.append(frame.index)
        joints = np.stack(rows) if rows else np.zeros((0, BLAZEPOSE33.num_joints, 4), np.float32)
        return ExtractionResult(self.layout, joints, np.array(found, dtype=bool),
                                np.array(timestamps, dtype=np.float64), np.array(indices, dtype=np.int32),
                                sampler.properties, sampler.decoded_frames, self.name, self.version,
                                self.settings)

    def warm_up(self) -> None:
        """Load MediaPipe's libraries and model once (a blank frame through a throwaway graph),
        so that a worker process pays it at start-up rather than on its first video."""
        with self.landmarker() as detect:
            detect(np.zeros((64, 64, 3), dtype=np.uint8), 0.0)

    def landmarker(self) -> "_Landmarker":
        """A context manager giving ``detect(rgb, timestamp_s) -> (33, 4) | None`` over one video's
        frames in order (tracking: each frame starts from the last one's pose); live analysis
        feeds it frame by frame.

        Example:
            >>> with BlazePoseExtractor().landmarker() as detect:
            ...     landmarks = detect(rgb_frame, 0.0)
        """
        return _Landmarker(self)


class _Landmarker:
    """A fresh MediaPipe graph per video (tracking state must not leak between videos)."""

    def __init__(self, extractor: BlazePoseExtractor) -> None:
        self.extractor = extractor

    def __enter__(self):
        with native_stderr_silenced():
            detect = self._graph()
        return silenced_until(detect, lambda landmarks: landmarks is not None)

    def _graph(self):
        import mediapipe as mp

        extractor = self.extractor
        if extractor.model_asset is None:
            self.graph = mp.solutions.pose.Pose(
                static_image_mode=False, model_complexity=extractor.model_complexity,
                smooth_landmarks=True, enable_segmentation=False,
                min_detection_confidence=extractor.min_detection_confidence,
                min_tracking_confidence=extractor.min_tracking_confidence)
            wait_for_models(self.graph)  # _graph() runs silenced (__enter__)

            def detect(rgb: np.ndarray, timestamp_s: float) -> np.ndarray | None:
                result = self.graph.process(rgb)
                return None if result.pose_landmarks is None else landmarks_array(result.pose_landmarks)
        else:
            from mediapipe.tasks.python import BaseOptions, vision

            options = vision.PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(extractor.model_asset)),
                running_mode=vision.RunningMode.VIDEO, num_poses=1,
                min_pose_detection_confidence=extractor.min_detection_confidence,
                min_tracking_confidence=extractor.min_tracking_confidence)
            self.graph = vision.PoseLandmarker.create_from_options(options)
            last_ms = [-1]

            def detect(rgb: np.ndarray, timestamp_s: float) -> np.ndarray | None:
                timestamp_ms = max(int(round(timestamp_s * 1000)), last_ms[0] + 1)
                last_ms[0] = timestamp_ms
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
                result = self.graph.detect_for_video(image, timestamp_ms)
                return landmarks_array(result.pose_landmarks[0]) if result.pose_landmarks else None
        return detect

    def __exit__(self, *exc_info: object) -> None:
        self.graph.close()
