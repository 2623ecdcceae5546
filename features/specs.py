"""The 83 features as documented data: name, group, unit, formula and input joints of each.

Units: coordinates and distances in **body lengths** (the sequence's body scale, see
``joints.body_scale``); angles in **degrees** within [0, 180]; velocities in **body lengths per
second**; visibility in **0-1**. All geometry is measured in the image plane (x, y), so 2-D and
3-D layouts give the same angles and distances; z appears only in the 11 ``*_z`` coordinates.
Image y grows downwards, so "vertical up" is the direction (0, -1).

``nose`` means the layout's ``head`` joint where it has no ``nose`` (penn13, ntu25). A
``*_centre`` is the midpoint of the left and right joints. A feature is missing (NaN, mask True)
in a frame where any of its ``joints`` is not seen, and everywhere if the layout lacks one.
"""

from __future__ import annotations

from dataclasses import dataclass

COORDINATES, ANGLES, DISTANCES, VELOCITIES, VISIBILITY = (
    "coordinates", "angles", "distances", "velocities", "visibility")
GROUPS = (COORDINATES, ANGLES, DISTANCES, VELOCITIES, VISIBILITY)
SIDES = ("left", "right")
HIPS = ("left_hip", "right_hip")
SHOULDERS = ("left_shoulder", "right_shoulder")

# The 11 joints of the coordinate group; the first 7 are the velocity group's.
TRACKED_JOINTS = ("nose",) + tuple(
    f"{side}_{joint}" for joint in ("shoulder", "elbow", "wrist", "knee", "ankle") for side in SIDES)
VELOCITY_JOINTS = TRACKED_JOINTS[:7]


@dataclass(frozen=True)
class FeatureSpec:
    """One feature column.

    Attributes:
        name: snake_case column name.
        group: ``coordinates``, ``angles``, ``distances``, ``velocities`` or ``visibility``.
        unit: ``body lengths``, ``degrees``, ``body lengths per second`` or ``0-1``.
        formula: how it is computed.
        joints: the joints it reads in a frame (velocities: also in the neighbouring frames).
    """

    name: str
    group: str
    unit: str
    formula: str
    joints: tuple[str, ...]


def _angle(name: str, formula: str, *joints: str) -> FeatureSpec:
    return FeatureSpec(name, ANGLES, "degrees", formula, joints)


def _each_side(name: str, formula: str, *joints: str) -> tuple[FeatureSpec, ...]:
    return tuple(_angle(name.format(s=side), formula.format(s=side), *(j.format(s=side) for j in joints))
                 for side in SIDES)


_COORDINATES = tuple(
    FeatureSpec(f"{joint}_{axis}", COORDINATES, "body lengths",
                f"({joint}.{axis} - hip_centre.{axis}) / body_scale" if axis != "z" else
                f"({joint}.z - mean(left_hip.z, right_hip.z)) / body_scale; missing where z is NaN",
                (joint,) + HIPS)
    for joint in TRACKED_JOINTS for axis in "xyz")

_CORE_ANGLES = (
    *_each_side("{s}_elbow_angle", "angle at {s}_elbow between {s}_shoulder and {s}_wrist",
                "{s}_shoulder", "{s}_elbow", "{s}_wrist"),
    *_each_side("{s}_knee_angle", "angle at {s}_knee between {s}_hip and {s}_ankle",
                "{s}_hip", "{s}_knee", "{s}_ankle"),
    *_each_side("{s}_hip_angle", "angle at {s}_hip between {s}_shoulder and {s}_knee",
                "{s}_shoulder", "{s}_hip", "{s}_knee"),
    *_each_side("{s}_shoulder_elevation", "angle at {s}_shoulder between {s}_hip and {s}_elbow",
                "{s}_hip", "{s}_shoulder", "{s}_elbow"),
    _angle("spine_inclination", "angle of hip_centre->shoulder_centre from vertical up "
           "(0 upright, 90 horizontal, 180 inverted)", *SHOULDERS, *HIPS),
)

_ARMS = ("left_elbow", "left_wrist", "right_elbow", "right_wrist")
_LEGS = tuple(f"{side}_{joint}" for side in SIDES for joint in ("hip", "knee", "ankle"))
_DISCRIMINATING_ANGLES = (
    _angle("forearm_convergence", "angle between left_elbow->left_wrist and right_elbow->right_wrist",
           *_ARMS),
    _angle("upper_arm_convergence", "angle between left_shoulder->left_elbow and "
           "right_shoulder->right_elbow", *SHOULDERS, "left_elbow", "right_elbow"),
    _angle("knee_hip_bend_ratio", "atan2(knee_bend, hip_bend), bend = 180 - mean of the left and "
           "right angle; in [0, 90]: 0 pure hip hinge, 90 pure knee bend; missing where "
           "hypot(knee_bend, hip_bend) < 5 (a straight body has no ratio)", *SHOULDERS, *_LEGS),
    _angle("body_line_from_vertical", "angle of ankle_centre->shoulder_centre from vertical up "
           "(0 standing, 90 lying, 180 inverted)", *SHOULDERS, "left_ankle", "right_ankle"),
    *_each_side("{s}_forearm_from_vertical", "angle of {s}_elbow->{s}_wrist from vertical up",
                "{s}_elbow", "{s}_wrist"),
    _angle("hand_separation", "angle at shoulder_centre between left_wrist and right_wrist",
           *SHOULDERS, "left_wrist", "right_wrist"),
    _angle("shoulder_line_tilt", "angle of the line left_shoulder-right_shoulder from horizontal, "
           "in [0, 90]", *SHOULDERS),
    _angle("ankle_stance", "angle at hip_centre between left_ankle and right_ankle",
           *HIPS, "left_ankle", "right_ankle"),
    _angle("hip_hinge", "angle at hip_centre between shoulder_centre and knee_centre",
           *SHOULDERS, *HIPS, "left_knee", "right_knee"),
    *_each_side("{s}_upper_arm_from_vertical", "angle of {s}_shoulder->{s}_elbow from vertical up",
                "{s}_shoulder", "{s}_elbow"),
)

_DISTANCE_PAIRS = (("hand_distance", "left_wrist", "right_wrist"),
                   ("foot_distance", "left_ankle", "right_ankle"),
                   ("shoulder_width", *SHOULDERS),
                   *((f"{s}_shoulder_wrist_distance", f"{s}_shoulder", f"{s}_wrist") for s in SIDES),
                   *((f"{s}_hip_ankle_distance", f"{s}_hip", f"{s}_ankle") for s in SIDES))
_DISTANCES = tuple(FeatureSpec(name, DISTANCES, "body lengths", f"|{a} - {b}| / body_scale", (a, b))
                   for name, a, b in _DISTANCE_PAIRS)

_VELOCITIES = tuple(
    FeatureSpec(f"{joint}_v{axis}", VELOCITIES, "body lengths per second",
                f"d({joint}_{axis})/dt by central differences with spacing 1/fps (one-sided at "
                "the ends); missing where the frame or a neighbour it uses is", (joint,) + HIPS)
    for joint in VELOCITY_JOINTS for axis in "xy")

_VISIBILITY_GROUPS = (
    ("visibility_nose", ("nose",)),
    ("visibility_shoulders", SHOULDERS),
    ("visibility_hips", HIPS),
    ("visibility_left_arm", ("left_elbow", "left_wrist")),
    ("visibility_right_arm", ("right_elbow", "right_wrist")),
    ("visibility_left_leg", ("left_knee", "left_ankle")),
    ("visibility_right_leg", ("right_knee", "right_ankle")),
    ("visibility_body", TRACKED_JOINTS + HIPS),
)
_VISIBILITY = tuple(
    FeatureSpec(name, VISIBILITY, "0-1", f"mean visibility of {', '.join(joints)}, each clipped to "
                "[0, 1]; a joint reported with visibility 0 counts as 0; missing where a joint has "
                "no visibility (2-D layout, joint absent, or no position)", joints)
    for name, joints in _VISIBILITY_GROUPS)

FEATURES: tuple[FeatureSpec, ...] = (
    _COORDINATES + _CORE_ANGLES + _DISCRIMINATING_ANGLES + _DISTANCES + _VELOCITIES + _VISIBILITY)
FEATURE_NAMES: tuple[str, ...] = tuple(spec.name for spec in FEATURES)
