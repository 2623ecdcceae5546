"""``build_features``: a skeleton sequence -> the 83 documented features, all frames at once.

Units and formulas are in ``specs.FEATURES``. Angles and distances use the image plane (x, y)
so 2-D and 3-D layouts agree; z feeds only the ``*_z`` coordinates. Everything is computed on
whole ``(T, ...)`` arrays: no loop over frames, only over joints and feature groups.
"""

from __future__ import annotations

import numpy as np

from posegraph.skeleton import Layout, get_layout

from .geometry import angle_at, angle_between, angle_from_vertical, distance, tilt_from_horizontal
from .joints import Body, body_scale
from .specs import DISTANCES, FEATURE_NAMES, FEATURES, SIDES, TRACKED_JOINTS, VELOCITY_JOINTS, VISIBILITY

MIN_TOTAL_BEND = 5.0  # degrees; below it knee_hip_bend_ratio is undefined (a straight body)

Columns = dict[str, np.ndarray]


def build_features(joints: np.ndarray, layout: str | Layout, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """The 83 features of every frame of one person's skeleton sequence.

    Args:
        joints: ``(T, V, 4)`` x, y, z, visibility in ``layout``; x and y in one unit (pixels,
            or frame heights after aspect correction, not fractions of width and height); NaN
            rows where nobody was seen. Joints are found by name, never by index.
        layout: a registered layout name (``"blazepose33"``, ``"coco17"``, ``"openpose18"``,
            ``"penn13"``, ...) or a ``Layout``.
        fps: frame rate of ``joints`` in frames per second (velocities are per second).

    Returns:
        ``features (T, 83) float32`` in ``FEATURE_NAMES`` order, and ``mask (T, 83) bool``,
        True where a feature is missing (numpy.ma convention); features are NaN exactly there.

    Example:
        >>> features, mask = build_features(joints_in_pixels, "blazepose33", fps=16)
        >>> np.ma.masked_array(features, mask).mean(axis=0)   # per-feature mean over seen frames
    """
    spec = layout if isinstance(layout, Layout) else get_layout(layout)
    joints = np.asarray(joints)
    if joints.ndim != 3 or joints.shape[1:] != (spec.num_joints, 4):
        raise ValueError(f"expected joints (T, {spec.num_joints}, 4) for layout {spec.name!r}, "
                         f"got shape {joints.shape}")
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number of frames per second, got {fps!r}")
    body = Body(joints, spec)
    scale = body_scale(body)
    columns = _coordinates(body, scale)
    columns |= _angles(body) | _distances(body, scale) | _velocities(columns, fps) | _visibility(body)
    features = np.array([columns[name] for name in FEATURE_NAMES], dtype=np.float32).T.copy()
    mask = ~np.isfinite(features)
    features[mask] = np.nan
    return features, mask


def _coordinates(body: Body, scale: float) -> Columns:
    hip_xy = body.centre("hip")
    hip_z = (body.z("left_hip") + body.z("right_hip")) / 2.0
    columns = {}
    for joint in TRACKED_JOINTS:
        x, y = ((body.xy(joint) - hip_xy) / scale).T
        columns |= {f"{joint}_x": x, f"{joint}_y": y, f"{joint}_z": (body.z(joint) - hip_z) / scale}
    return columns


def _angles(body: Body) -> Columns:
    xy, centre = body.xy, body.centre
    columns = {}
    for side in SIDES:
        shoulder, elbow, wrist = xy(f"{side}_shoulder"), xy(f"{side}_elbow"), xy(f"{side}_wrist")
        hip, knee, ankle = xy(f"{side}_hip"), xy(f"{side}_knee"), xy(f"{side}_ankle")
        columns |= {
            f"{side}_elbow_angle": angle_at(shoulder, elbow, wrist),
            f"{side}_knee_angle": angle_at(hip, knee, ankle),
            f"{side}_hip_angle": angle_at(shoulder, hip, knee),
            f"{side}_shoulder_elevation": angle_at(hip, shoulder, elbow),
            f"{side}_forearm_from_vertical": angle_from_vertical(elbow, wrist),
            f"{side}_upper_arm_from_vertical": angle_from_vertical(shoulder, elbow),
        }
    knee_bend = 180.0 - (columns["left_knee_angle"] + columns["right_knee_angle"]) / 2.0
    hip_bend = 180.0 - (columns["left_hip_angle"] + columns["right_hip_angle"]) / 2.0
    ratio = np.degrees(np.arctan2(knee_bend, hip_bend))
    forearm = {side: xy(f"{side}_wrist") - xy(f"{side}_elbow") for side in SIDES}
    upper_arm = {side: xy(f"{side}_elbow") - xy(f"{side}_shoulder") for side in SIDES}
    return columns | {
        "spine_inclination": angle_from_vertical(centre("hip"), centre("shoulder")),
        "forearm_convergence": angle_between(forearm["left"], forearm["right"]),
        "upper_arm_convergence": angle_between(upper_arm["left"], upper_arm["right"]),
        "knee_hip_bend_ratio": np.where(np.hypot(knee_bend, hip_bend) >= MIN_TOTAL_BEND, ratio, np.nan),
        "body_line_from_vertical": angle_from_vertical(centre("ankle"), centre("shoulder")),
        "hand_separation": angle_at(xy("left_wrist"), centre("shoulder"), xy("right_wrist")),
        "shoulder_line_tilt": tilt_from_horizontal(xy("left_shoulder"), xy("right_shoulder")),
        "ankle_stance": angle_at(xy("left_ankle"), centre("hip"), xy("right_ankle")),
        "hip_hinge": angle_at(centre("shoulder"), centre("hip"), centre("knee")),
    }


def _distances(body: Body, scale: float) -> Columns:
    return {spec.name: distance(body.xy(spec.joints[0]), body.xy(spec.joints[1])) / scale
            for spec in FEATURES if spec.group == DISTANCES}


def _velocities(coordinates: Columns, fps: float) -> Columns:
    columns = {}
    for joint in VELOCITY_JOINTS:
        for axis in "xy":
            position = coordinates[f"{joint}_{axis}"]
            if len(position) < 2:  # no neighbour: no velocity
                columns[f"{joint}_v{axis}"] = np.full(len(position), np.nan)
                continue
            velocity = np.gradient(position, 1.0 / fps)
            columns[f"{joint}_v{axis}"] = np.where(np.isnan(position), np.nan, velocity)
    return columns


def _visibility(body: Body) -> Columns:
    return {spec.name: np.mean([body.visibility(joint) for joint in spec.joints], axis=0)
            for spec in FEATURES if spec.group == VISIBILITY}
