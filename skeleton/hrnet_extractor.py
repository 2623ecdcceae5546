"""Top-down HRNet-W32: person box -> 256x192 crop -> 17 heatmaps -> COCO-17 keypoints.

Heatmaps are decoded as in the reference: the arg-max, shifted a quarter pixel towards the
higher neighbour in x and y; the confidence is the heatmap maximum. Keypoints come back in
the same contract as BlazePose: x, y normalised to the frame, z = NaN, visibility = confidence.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import torch

from .extractor import ExtractionResult
from .hrnet import HRNet, load_checkpoint
from .layouts import COCO17
from .person_boxes import Box, BoxTracker, build_detector
from .video import DEFAULT_FPS, FrameSampler

INPUT_SIZE = (192, 256)  # width, height
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
BATCH = 16


def crop(image: np.ndarray, box: Box) -> np.ndarray:
    """The box warped to the 192x256 network input (RGB, ImageNet-normalised, CHW)."""
    left, top, right, bottom = box.corners()
    source = np.float32([[left, top], [right, top], [left, bottom]])
    width, height = INPUT_SIZE
    target = np.float32([[0, 0], [width, 0], [0, height]])
    warped = cv2.warpAffine(image, cv2.getAffineTransform(source, target), (width, height),
                            flags=cv2.INTER_LINEAR)
    rgb = cv2.cvtColor(warped, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    return ((rgb - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)


def decode_heatmaps(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints in heatmap pixels and their confidences.

    Shapes:
        heatmaps: ``(N, J, H, W)`` -> coordinates ``(N, J, 2)`` (x, y), confidences ``(N, J)``.
    """
    count, joints, height, width = heatmaps.shape
    flat = heatmaps.reshape(count, joints, -1)
    index = flat.argmax(axis=2)
    confidence = flat.max(axis=2)
    x = (index % width).astype(np.float32)
    y = (index // width).astype(np.float32)
    for n in range(count):
        for j in range(joints):
            px, py = int(x[n, j]), int(y[n, j])
            heatmap = heatmaps[n, j]
            if 0 < px < width - 1:
                x[n, j] += 0.25 * np.sign(heatmap[py, px + 1] - heatmap[py, px - 1])
            if 0 < py < height - 1:
                y[n, j] += 0.25 * np.sign(heatmap[py + 1, px] - heatmap[py - 1, px])
    return np.stack([x, y], axis=-1), confidence


def to_frame(points: np.ndarray, box: Box, heatmap_size: tuple[int, int]) -> np.ndarray:
    """Heatmap pixel coordinates ``(J, 2)`` back to frame pixels."""
    left, top, _, _ = box.corners()
    width, height = heatmap_size
    return np.stack([left + points[:, 0] * box.width / width,
                     top + points[:, 1] * box.height / height], axis=-1)


class HRNetExtractor:
    """HRNet-W32 keypoints for the tracked person of every sampled frame."""

    name = "hrnet"
    layout = COCO17.name

    def __init__(self, weights: str | Path | None = None, target_fps: float | None = DEFAULT_FPS,
                 detector: str = "mediapipe", device: str | None = None,
                 state_dict: dict[str, torch.Tensor] | None = None) -> None:
        if weights is None and state_dict is None:
            raise ValueError("the hrnet extractor needs weights: --weights pose_hrnet_w32_256x192.pth "
                             "(official state_dict format); they cannot be downloaded here")
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.network = HRNet(width=32, num_joints=COCO17.num_joints)
        loaded = state_dict if state_dict is not None else load_checkpoint(weights)
        self.network.load_state_dict(loaded, strict=True)
        self.network.eval().to(self.device)
        self.target_fps = target_fps
        self.detector_name = detector
        fingerprint = hashlib.sha256()
        for key in sorted(loaded):
            fingerprint.update(key.encode())
            fingerprint.update(loaded[key].detach().cpu().numpy().tobytes())
        self.version = f"hrnet-w32-256x192/{fingerprint.hexdigest()[:16]}"
        self.settings = {"target_fps": target_fps, "detector": detector, "weights": self.version}

    @torch.no_grad()
    def heatmaps(self, crops: np.ndarray) -> np.ndarray:
        """Shapes: crops ``(N, 3, 256, 192)`` -> heatmaps ``(N, 17, 64, 48)``."""
        return self.network(torch.from_numpy(crops).to(self.device)).float().cpu().numpy()

    def extract(self, path: str | Path) -> ExtractionResult:
        sampler = FrameSampler(path, self.target_fps)
        detector, tracker = build_detector(self.detector_name), BoxTracker()
        pending: list[tuple[int, np.ndarray, Box]] = []
        joints, found, timestamps, indices = [], [], [], []
        width = height = 1
        try:
            for frame in sampler:
                height, width = frame.image.shape[:2]
                box = tracker.update(detector(frame.image))
                joints.append(np.full((COCO17.num_joints, 4), np.nan, dtype=np.float32))
                found.append(box is not None)
                timestamps.append(frame.timestamp_s)
                indices.append(frame.index)
                if box is not None:
                    model_box = box.expanded_to_model_aspect()
                    pending.append((len(joints) - 1, crop(frame.image, model_box), model_box))
                if len(pending) >= BATCH:
                    self._run(pending, joints, width, height)
                    pending = []
            self._run(pending, joints, width, height)
        finally:
            detector.close()
        stacked = np.stack(joints) if joints else np.zeros((0, COCO17.num_joints, 4), np.float32)
        return ExtractionResult(self.layout, stacked, np.array(found, dtype=bool),
                                np.array(timestamps, dtype=np.float64), np.array(indices, dtype=np.int32),
                                sampler.properties, sampler.decoded_frames, self.name, self.version,
                                self.settings)

    def _run(self, pending: list, joints: list, width: int, height: int) -> None:
        if not pending:
            return
        heatmaps = self.heatmaps(np.stack([item[1] for item in pending]))
        points, confidence = decode_heatmaps(heatmaps)
        heatmap_size = (heatmaps.shape[3], heatmaps.shape[2])
        for (slot, _, box), frame_points, frame_confidence in zip(pending, points, confidence):
            pixels = to_frame(frame_points, box, heatmap_size)
            joints[slot][:, 0] = pixels[:, 0] / width
            joints[slot][:, 1] = pixels[:, 1] / height
            joints[slot][:, 3] = frame_confidence
