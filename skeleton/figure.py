"""Drawing a person-like figure from BlazePose joints, so that synthetic skeletons become
videos a pose estimator can detect (the demo's input).

The figure is a cartoon person: skin-coloured head with hair, eyes and mouth, a shirt over
the torso, trousers, shoes, and limbs as thick rounded segments drawn far-to-near by depth,
over a floor-and-wall background.
"""

from __future__ import annotations

import cv2
import numpy as np

from .layouts import BLAZEPOSE33

_J = {name: index for index, name in enumerate(BLAZEPOSE33.joint_names)}
SKIN = (150, 185, 225)  # BGR
SHIRT = (170, 90, 40)
TROUSERS = (70, 60, 50)
SHOES = (30, 30, 30)
HAIR = (30, 40, 60)


def background(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A wall above a floor, with a little texture."""
    random = np.random.default_rng(seed)
    image = np.empty((height, width, 3), dtype=np.uint8)
    horizon = int(height * 0.72)
    image[:horizon] = (200, 205, 210)
    image[horizon:] = (120, 140, 160)
    noise = random.normal(0, 4, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def _segment(image: np.ndarray, start: np.ndarray, end: np.ndarray, thickness: float, color) -> None:
    cv2.line(image, tuple(int(v) for v in start), tuple(int(v) for v in end), color,
             max(int(thickness), 1), lineType=cv2.LINE_AA)


def draw_figure(image: np.ndarray, points: np.ndarray, depth: np.ndarray | None = None) -> np.ndarray:
    """Draw the figure in place and return the image.

    Shapes:
        points: ``(33, 2)`` pixel coordinates; depth: ``(33,)`` (smaller = nearer), optional.
    """
    depth = np.zeros(len(points)) if depth is None else depth
    hip_center = (points[_J["left_hip"]] + points[_J["right_hip"]]) / 2
    shoulder_center = (points[_J["left_shoulder"]] + points[_J["right_shoulder"]]) / 2
    torso_length = np.linalg.norm(shoulder_center - hip_center)
    limb = max(torso_length * 0.17, 3.0)
    limbs = []
    for side in ("left", "right"):
        chain = [(f"{side}_shoulder", f"{side}_elbow", SHIRT, 1.0), (f"{side}_elbow", f"{side}_wrist", SKIN, 0.8),
                 (f"{side}_hip", f"{side}_knee", TROUSERS, 1.3), (f"{side}_knee", f"{side}_ankle", TROUSERS, 1.1),
                 (f"{side}_heel", f"{side}_foot_index", SHOES, 0.8), (f"{side}_ankle", f"{side}_heel", SHOES, 0.8)]
        for start, end, color, scale in chain:
            limbs.append(((depth[_J[start]] + depth[_J[end]]) / 2, start, end, color, scale))
    torso_depth = depth[[_J["left_hip"], _J["right_hip"], _J["left_shoulder"], _J["right_shoulder"]]].mean()
    far = [entry for entry in limbs if entry[0] > torso_depth]
    near = [entry for entry in limbs if entry[0] <= torso_depth]
    for _, start, end, color, scale in sorted(far, key=lambda entry: -entry[0]):
        _segment(image, points[_J[start]], points[_J[end]], limb * scale, color)
    torso = np.array([points[_J["left_shoulder"]], points[_J["right_shoulder"]],
                      points[_J["right_hip"]], points[_J["left_hip"]]], dtype=np.int32)
    cv2.fillConvexPoly(image, torso, SHIRT, lineType=cv2.LINE_AA)
    _segment(image, shoulder_center, hip_center, limb * 2.4, SHIRT)  # body seen from the side
    _segment(image, points[_J["left_shoulder"]], points[_J["right_shoulder"]], limb, SHIRT)
    _segment(image, points[_J["left_hip"]], points[_J["right_hip"]], limb * 1.2, TROUSERS)
    _draw_head(image, points, limb, shoulder_center)
    for _, start, end, color, scale in sorted(near, key=lambda entry: -entry[0]):
        _segment(image, points[_J[start]], points[_J[end]], limb * scale, color)
    for side in ("left", "right"):
        hand = (points[_J[f"{side}_pinky"]] + points[_J[f"{side}_index"]] + points[_J[f"{side}_wrist"]]) / 3
        cv2.circle(image, tuple(int(v) for v in hand), max(int(limb * 0.6), 2), SKIN, -1, cv2.LINE_AA)
    return image


def _draw_head(image: np.ndarray, points: np.ndarray, limb: float, shoulder_center: np.ndarray) -> None:
    ears = (points[_J["left_ear"]] + points[_J["right_ear"]]) / 2
    nose = points[_J["nose"]]
    center = (ears * 0.6 + nose * 0.4)
    radius = max(np.linalg.norm(points[_J["left_ear"]] - points[_J["right_ear"]]) * 0.62, limb * 1.4, 4.0)
    _segment(image, shoulder_center, center, limb * 0.9, SKIN)  # neck
    cv2.circle(image, tuple(int(v) for v in center), int(radius), SKIN, -1, cv2.LINE_AA)
    up = center - (points[_J["mouth_left"]] + points[_J["mouth_right"]]) / 2
    up = up / (np.linalg.norm(up) + 1e-6)
    hair_center = center + up * radius * 0.45
    cv2.ellipse(image, (tuple(int(v) for v in hair_center)), (int(radius * 0.95), int(radius * 0.6)),
                float(np.degrees(np.arctan2(up[1], up[0])) + 90), 180, 360, HAIR, -1, cv2.LINE_AA)
    for eye in ("left_eye", "right_eye"):
        cv2.circle(image, tuple(int(v) for v in points[_J[eye]]), max(int(radius * 0.12), 1), (40, 30, 30), -1, cv2.LINE_AA)
    _segment(image, points[_J["mouth_left"]], points[_J["mouth_right"]], max(radius * 0.08, 1), (60, 60, 150))
