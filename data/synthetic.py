"""Labelled synthetic exercise sequences in the ``blazepose33`` layout, for demos and tests.

A stick-figure body (proportions from the subject's height) is posed frame by frame by
forward kinematics and two-bone IK (feet and hands stay planted where they should), viewed
from a per-video camera angle and projected like MediaPipe's output: x, y normalised to the
frame, z relative depth, visibility lower for joints hidden behind the body. Each sequence
knows its exercise, subject, repetition count and per-frame phase label:

- ``rest``   before the first and after the last repetition;
- ``away``   moving from the start posture to the turning point (down in a squat, up in a curl);
- ``return`` moving back to the start posture.

Subjects keep their body across exercises, so group-aware splits (by subject) are possible.

Faulty executions (``generate_sequence(..., fault=...)``, for form scoring) change one pose
parameter of an otherwise identical sequence (same seed: same subject, timing, camera, noise):

- ``shallow_squat``   the whole squat stops at ``SHALLOW_DEPTH`` (45%) of its depth: hips, trunk
  lean and arm raise all follow the smaller motion (every frame is a pose of a valid squat's
  descent; only the depth is missing);
- ``knees_caving``    squat knees pulled inwards (valgus), growing with depth: the knee's bend
  direction turns inwards by ``CAVING`` (0.25) x depth, so at the bottom the knees are half as
  far apart as in a valid squat (inside the ankles instead of outside);
- ``hips_sagging``    push-up hips ``SAG`` (0.3) x torso length below the shoulder-ankle line (knees
  follow halfway), in every frame;
- ``elbows_flaring``  push-up elbows bend straight out sideways (upper arms at ~90 degrees to the
  body seen from above) instead of back towards the feet (~60 degrees).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..skeleton import get_layout
from ..skeleton.vocabulary import DEFAULT_FPS

if TYPE_CHECKING:  # for the annotations only: records imports pyarrow
    from .records import Skeletons, VideoInfo

LAYOUT = "blazepose33"
EXERCISES = ("squat", "push_up", "biceps_curl", "lateral_raise", "lunge", "jumping_jack")
FAULTS = {"shallow_squat": "squat", "knees_caving": "squat", "hips_sagging": "push_up",
          "elbows_flaring": "push_up"}  # fault -> the exercise it belongs to
SHALLOW_DEPTH, CAVING, SAG = 0.45, 0.25, 0.3
PHASES = ("rest", "away", "return")
_X, _Y, _Z = np.eye(3)  # subject's left, up, forward (towards a camera at yaw 0)


@dataclass(frozen=True)
class Subject:
    """A synthetic person: a name, a height (m) and limb proportions."""

    name: str
    height: float
    proportions: np.ndarray  # (6,) multipliers: torso, upper arm, forearm, thigh, shin, width


@dataclass(frozen=True)
class SyntheticSequence:
    """One generated exercise video as skeletons.

    Shapes:
        joints: ``(T, 33, 4)`` float32 — x, y (0..1 of the frame), z, visibility; NaN when
        not detected. detected: ``(T,)`` bool. timestamps: ``(T,)`` s. phase: ``(T,)`` str.
        world: ``(T, 33, 3)`` the figure's 3-D joint positions in metres (for rendering).
    """

    exercise: str
    subject: str
    take: int
    repetitions: int
    frames_per_second: float
    camera_yaw_deg: float
    width: int
    height: int
    joints: np.ndarray
    detected: np.ndarray
    timestamps: np.ndarray
    phase: np.ndarray
    clean_joints: np.ndarray  # (T, 33, 4) before noise and dropouts: the ground truth
    fault: str | None = None  # one of FAULTS, or None for a valid execution

    @property
    def sequence_id(self) -> str:
        """Stable id: sha256 of the generated values (stands in for a file's content hash)."""
        digest = hashlib.sha256(self.joints.tobytes())
        digest.update(f"{self.exercise}/{self.subject}/{self.take}".encode())
        return digest.hexdigest()


def make_subjects(count: int, seed: int = 0) -> list[Subject]:
    """``count`` subjects of varied height (1.50-1.95 m) and proportions (±6%)."""
    random = np.random.default_rng(seed)
    return [
        Subject(f"s{number:02d}", float(random.uniform(1.50, 1.95)),
                random.uniform(0.94, 1.06, size=6))
        for number in range(1, count + 1)
    ]


# -- the body ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Body:
    torso: float
    upper_arm: float
    forearm: float
    thigh: float
    shin: float
    hip_half_width: float
    shoulder_half_width: float
    ankle_height: float

    @classmethod
    def of(cls, subject: Subject) -> "_Body":
        h, (torso, upper, fore, thigh, shin, width) = subject.height, subject.proportions
        return cls(0.29 * h * torso, 0.17 * h * upper, 0.15 * h * fore, 0.245 * h * thigh,
                   0.245 * h * shin, 0.08 * h * width, 0.11 * h * width, 0.04 * h)

    @property
    def leg(self) -> float:
        return self.thigh + self.shin


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def _bend(root: np.ndarray, end: np.ndarray, first: float, second: float,
          hint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-bone IK: middle joint (knee/elbow) towards ``hint``; the end is pulled in if out of reach."""
    span = end - root
    distance = float(np.clip(np.linalg.norm(span), abs(first - second) + 1e-4, first + second - 1e-4))
    axis = _unit(span)
    end = root + axis * distance
    along = (first**2 - second**2 + distance**2) / (2 * distance)
    across = np.sqrt(max(first**2 - along**2, 0.0))
    sideways = _unit(hint - np.dot(hint, axis) * axis)
    return root + axis * along + sideways * across, end


def _assemble(parts: dict[str, np.ndarray], size: float) -> np.ndarray:
    """The 33 BlazePose joints from the main body points (head axes, limbs, feet directions)."""
    layout = get_layout(LAYOUT)
    joints = np.zeros((layout.num_joints, 3))
    head, up = parts["head"], parts["up"]
    forward = _unit(np.cross(_X, up))
    face = {
        "nose": forward * 0.06,
        "left_eye_inner": forward * 0.05 + up * 0.02 + _X * 0.012,
        "left_eye": forward * 0.048 + up * 0.022 + _X * 0.025,
        "left_eye_outer": forward * 0.044 + up * 0.022 + _X * 0.038,
        "left_ear": up * 0.005 + _X * 0.062,
        "mouth_left": forward * 0.05 - up * 0.028 + _X * 0.018,
    }
    for name, offset in face.items():
        joints[layout.index(name)] = head + offset * size
        mirrored = offset - 2 * np.dot(offset, _X) * _X
        joints[layout.index(name.replace("left", "right"))] = head + mirrored * size
    for side, sign in (("left", 1.0), ("right", -1.0)):
        for joint in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
            joints[layout.index(f"{side}_{joint}")] = parts[f"{side}_{joint}"]
        wrist = parts[f"{side}_wrist"]
        hand = _unit(wrist - parts[f"{side}_elbow"])
        outward = _unit(_X * sign - np.dot(_X * sign, hand) * hand + 1e-9)
        joints[layout.index(f"{side}_pinky")] = wrist + (hand * 0.07 + outward * 0.02) * size
        joints[layout.index(f"{side}_index")] = wrist + (hand * 0.08 - outward * 0.01) * size
        joints[layout.index(f"{side}_thumb")] = wrist + (hand * 0.045 - outward * 0.03) * size
        ankle = parts[f"{side}_ankle"]
        joints[layout.index(f"{side}_heel")] = ankle + parts["heel"] * size
        joints[layout.index(f"{side}_foot_index")] = ankle + parts["toe"] * size
    return joints


def _standing(body: _Body, pelvis: np.ndarray, lean: float, feet: tuple[np.ndarray, np.ndarray],
              hands: Callable[[np.ndarray, float], tuple[np.ndarray, np.ndarray]],
              knee_hint: tuple[np.ndarray, np.ndarray] = (_Z, _Z)) -> dict[str, np.ndarray]:
    """An upright pose: pelvis, forward lean (rad), planted feet, arms from ``hands``."""
    up = np.array([0.0, np.cos(lean), np.sin(lean)])
    shoulder_center = pelvis + up * body.torso
    parts = {"up": up, "head": shoulder_center + up * body.torso * 0.45,
             "heel": np.array([0.0, -0.02, -0.05]), "toe": np.array([0.0, -0.03, 0.13])}
    for (side, sign), foot, hint in zip((("left", 1.0), ("right", -1.0)), feet, knee_hint):
        hip = pelvis + _X * sign * body.hip_half_width
        knee, ankle = _bend(hip, foot, body.thigh, body.shin, hint + _X * sign * 0.15)
        shoulder = shoulder_center + _X * sign * body.shoulder_half_width
        elbow, wrist = hands(shoulder, sign)
        parts |= {f"{side}_hip": hip, f"{side}_knee": knee, f"{side}_ankle": ankle,
                  f"{side}_shoulder": shoulder, f"{side}_elbow": elbow, f"{side}_wrist": wrist}
    return parts


def _arm(body: _Body, shoulder: np.ndarray, upper: np.ndarray, fore: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    elbow = shoulder + _unit(upper) * body.upper_arm
    return elbow, elbow + _unit(fore) * body.forearm


def _sideways_arms(body: _Body, angle: float, forward: float = 0.0):
    """Straight arms raised sideways by ``angle`` (rad) from hanging."""
    def arms(shoulder: np.ndarray, sign: float) -> tuple[np.ndarray, np.ndarray]:
        direction = np.array([sign * np.sin(angle), -np.cos(angle), forward])
        return _arm(body, shoulder, direction, direction)
    return arms


def _pose(exercise: str, body: _Body, motion: float, size: float, fault: str | None = None) -> np.ndarray:
    """3-D joints ``(33, 3)`` of ``exercise`` at ``motion`` (0 = start posture, 1 = turning point),
    with ``fault`` (see the module docstring) changing one pose parameter."""
    down = -_Y
    standing_height = body.ankle_height + body.leg * 0.985
    stance = (_X * body.hip_half_width * 1.2, -_X * body.hip_half_width * 1.2)
    hanging = lambda shoulder, sign: _arm(body, shoulder, down + _X * sign * 0.08, down + _Z * 0.1)
    floor = np.array([0.0, body.ankle_height, 0.0])
    planted = (floor + stance[0], floor + stance[1])
    upright = lambda arms: _standing(body, np.array([0.0, standing_height, 0.0]), 0.0, planted, arms)
    if exercise == "squat":
        motion *= SHALLOW_DEPTH if fault == "shallow_squat" else 1.0
        inwards = CAVING * motion if fault == "knees_caving" else 0.0
        pelvis = np.array([0.0, standing_height - 0.55 * body.leg * motion, -0.2 * body.leg * motion])
        raise_angle = np.radians(85) * motion
        arms = lambda shoulder, sign: _arm(body, shoulder, *(2 * [np.array(
            [0.0, -np.cos(raise_angle), np.sin(raise_angle)])]))
        parts = _standing(body, pelvis, np.radians(35) * motion, planted, arms,
                          (_Z - _X * inwards, _Z + _X * inwards))
    elif exercise == "lunge":
        step = 0.55 * body.leg
        pelvis = np.array([0.0, body.ankle_height + np.sqrt(body.leg**2 - step**2) * 0.98
                           - 0.45 * body.leg * motion, 0.0])
        feet = (floor + stance[0] * 0.6 + _Z * step, floor + stance[1] * 0.6 - _Z * step)
        parts = _standing(body, pelvis, np.radians(5), feet, hanging, (_Z, _Z - _Y))
    elif exercise == "biceps_curl":
        flexion = np.radians(10 + 135 * motion)
        parts = upright(lambda shoulder, sign: _arm(body, shoulder, down + _Z * 0.05,
                                                    np.array([0.0, -np.cos(flexion), np.sin(flexion)])))
    elif exercise == "lateral_raise":
        parts = upright(_sideways_arms(body, np.radians(8 + 80 * motion), forward=0.05))
    elif exercise == "jumping_jack":
        arms = _sideways_arms(body, np.radians(10 + 160 * motion))
        spread = body.hip_half_width + 0.45 * body.leg * motion
        feet = (floor + _X * spread, floor - _X * spread)
        height = body.ankle_height + np.sqrt(body.leg**2 - (spread - body.hip_half_width) ** 2) * 0.985
        parts = _standing(body, np.array([0.0, height, 0.0]), 0.0, feet, arms)
    elif exercise == "push_up":
        parts = _push_up(body, motion, fault)
    else:
        raise ValueError(f"unknown exercise {exercise!r}; known: {', '.join(EXERCISES)}")
    return _assemble(parts, size)


def _push_up(body: _Body, motion: float, fault: str | None = None) -> dict[str, np.ndarray]:
    """A plank, head towards +z, hands planted under the shoulders; the chest lowers."""
    arm = body.upper_arm + body.forearm
    shoulder_center = np.array([0.0, arm * (0.97 - 0.55 * motion), 0.0])
    body_length = body.torso + body.leg
    toes_height = body.ankle_height * 1.5
    slope = np.arcsin((shoulder_center[1] - toes_height) / body_length)
    ankle_center = shoulder_center + np.array([0.0, -np.sin(slope), -np.cos(slope)]) * body_length
    up = _unit(shoulder_center - ankle_center)
    pelvis = shoulder_center - up * body.torso - (_Y * SAG * body.torso if fault == "hips_sagging" else 0.0)
    elbow_hint = _Y * 0.3 if fault == "elbows_flaring" else _Y * 0.3 - _Z * 0.6
    parts = {"up": up, "head": shoulder_center + up * body.torso * 0.45,
             "heel": np.array([0.0, 0.04, -0.03]), "toe": np.array([0.0, -0.06, 0.06])}
    for side, sign in (("left", 1.0), ("right", -1.0)):
        shoulder = shoulder_center + _X * sign * body.shoulder_half_width
        hand = np.array([sign * body.shoulder_half_width * 1.15, 0.02, 0.0])
        elbow, wrist = _bend(shoulder, hand, body.upper_arm, body.forearm, _X * sign + elbow_hint)
        hip = pelvis + _X * sign * body.hip_half_width
        ankle = ankle_center + _X * sign * body.hip_half_width * 0.8
        parts |= {f"{side}_shoulder": shoulder, f"{side}_elbow": elbow, f"{side}_wrist": wrist,
                  f"{side}_hip": hip, f"{side}_knee": (hip + ankle) / 2, f"{side}_ankle": ankle}
    return parts


# -- timing, camera and noise -------------------------------------------------------------------
def _timeline(random: np.random.Generator, repetitions: int, frames_per_second: float,
              seconds_per_repetition: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame motion (0..1, varying amplitude per repetition) and phase labels."""
    lead_in, lead_out = random.uniform(0.4, 1.2, size=2)
    durations = seconds_per_repetition * random.uniform(0.9, 1.1, size=repetitions)
    amplitudes = random.uniform(0.85, 1.0, size=repetitions)
    total = lead_in + durations.sum() + lead_out
    times = np.arange(int(total * frames_per_second)) / frames_per_second
    motion = np.zeros(len(times))
    phase = np.full(len(times), "rest", dtype=object)
    start = lead_in
    for duration, amplitude in zip(durations, amplitudes):
        inside = (times >= start) & (times < start + duration)
        progress = (times[inside] - start) / duration
        motion[inside] = amplitude * (1 - np.cos(2 * np.pi * progress)) / 2
        phase[inside] = np.where(progress < 0.5, "away", "return")
        start += duration
    return motion, phase


def _rotation_y(angle: float) -> np.ndarray:
    cosine, sine = np.cos(angle), np.sin(angle)
    return np.array([[cosine, 0.0, sine], [0.0, 1.0, 0.0], [-sine, 0.0, cosine]])


def _rotation_x(angle: float) -> np.ndarray:
    cosine, sine = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, cosine, -sine], [0.0, sine, cosine]])


def project(world: np.ndarray, yaw: float, pitch: float, width: int, height: int) -> np.ndarray:
    """World joints ``(T, V, 3)`` to MediaPipe-style ``(T, V, 3)``: x, y of the frame, z depth.

    The camera turns by ``yaw`` around the subject and looks down by ``pitch``; the whole
    sequence is scaled to fill ~80% of the frame.
    """
    rotated = world @ (_rotation_x(pitch) @ _rotation_y(yaw)).T
    horizontal, vertical, depth = rotated[..., 0], rotated[..., 1], rotated[..., 2]
    aspect = width / height
    extent = max(np.ptp(horizontal) / aspect, np.ptp(vertical))
    scale = 0.8 / extent
    x = 0.5 + (horizontal - (horizontal.max() + horizontal.min()) / 2) * scale / aspect
    y = 0.5 - (vertical - (vertical.max() + vertical.min()) / 2) * scale
    hips_depth = depth[:, [23, 24]].mean(axis=1, keepdims=True)
    z = -(depth - hips_depth) * scale / aspect
    return np.stack([x, y, z], axis=-1)


def _visibility(random: np.random.Generator, projected: np.ndarray) -> np.ndarray:
    """Lower visibility for joints further from the camera than the body's middle."""
    behind = projected[..., 2] - np.median(projected[..., 2], axis=1, keepdims=True)
    visibility = 0.985 - 3.0 * np.clip(behind, 0.0, None)
    return np.clip(visibility + random.normal(0, 0.01, visibility.shape), 0.3, 0.999)


def generate_sequence(exercise: str, subject: Subject, take: int = 0, seed: int = 0,
                      frames_per_second: float = DEFAULT_FPS, repetitions: int | None = None,
                      width: int = 640, height: int = 480, noise: float = 0.004,
                      dropout_rate: float = 0.015, occlusion_rate: float = 0.03,
                      fault: str | None = None) -> SyntheticSequence:
    """One sequence of ``exercise`` by ``subject``; everything random comes from ``seed``.

    Camera yaw varies by ±35° around the exercise's usual view (side view for push-ups),
    speed by a factor of ~2, repetitions 3-8 unless given. ``noise`` is the landmark jitter
    (fraction of the frame), ``dropout_rate`` the chance per frame that a short run of
    frames has no detection, ``occlusion_rate`` the chance per frame that some limb joints
    are missing (visibility near 0, position off). ``fault`` (one of ``FAULTS``, for
    ``exercise``) makes a faulty execution of the very same sequence.
    """
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}; known: {', '.join(EXERCISES)}")
    if fault is not None and FAULTS.get(fault) != exercise:
        known = ", ".join(f"{name} ({owner})" for name, owner in FAULTS.items())
        raise ValueError(f"no fault {fault!r} for {exercise!r}; known faults: {known}")
    key = int.from_bytes(hashlib.sha256(f"{seed}/{exercise}/{subject.name}/{take}".encode()).digest()[:8], "little")
    random = np.random.default_rng(key)
    repetitions = int(random.integers(3, 9)) if repetitions is None else repetitions
    seconds_per_repetition = random.uniform(1.4, 2.8)
    motion, phase = _timeline(random, repetitions, frames_per_second, seconds_per_repetition)
    body = _Body.of(subject)
    world = np.stack([_pose(exercise, body, value, subject.height, fault) for value in motion])
    base_yaw = 80.0 if exercise == "push_up" else 0.0
    yaw = base_yaw + random.uniform(-35, 35)
    projected = project(world, np.radians(yaw), np.radians(random.uniform(-5, 15)), width, height)
    clean = np.concatenate([projected, _visibility(random, projected)[..., None]], axis=-1)
    joints = clean.copy()
    joints[..., :2] += random.normal(0, noise, joints[..., :2].shape)
    frame_count = len(motion)
    for frame in np.nonzero(random.random(frame_count) < occlusion_rate)[0]:
        hidden = random.choice(np.arange(13, 33), size=random.integers(1, 4), replace=False)
        joints[frame, hidden, 3] = random.uniform(0.02, 0.3, len(hidden))
        joints[frame, hidden, :2] += random.normal(0, 0.03, (len(hidden), 2))
    detected = np.ones(frame_count, dtype=bool)
    for start in np.nonzero(random.random(frame_count) < dropout_rate)[0]:
        detected[start:start + random.integers(1, 7)] = False
    joints[~detected] = np.nan
    timestamps = np.arange(frame_count) / frames_per_second
    return SyntheticSequence(exercise, subject.name, take, repetitions, frames_per_second, yaw,
                             width, height, joints.astype(np.float32), detected, timestamps,
                             phase, clean.astype(np.float32), fault)


def generate_corpus(subjects: int = 6, takes: int = 2, exercises: tuple[str, ...] = EXERCISES,
                    seed: int = 0, **options: object) -> list[SyntheticSequence]:
    """``takes`` sequences of every exercise by every one of ``subjects`` subjects."""
    people = make_subjects(subjects, seed)
    return [generate_sequence(exercise, person, take, seed, **options)
            for exercise in exercises for person in people for take in range(takes)]


def split_of(subject: str, subjects: list[str]) -> str:
    """Group-aware split by subject: the last subject is test, the one before it val."""
    ordered = sorted(subjects)
    if len(ordered) >= 3 and subject == ordered[-1]:
        return "test"
    if len(ordered) >= 3 and subject == ordered[-2]:
        return "val"
    return "train"


def store_records(sequences: list[SyntheticSequence]) -> list[tuple[VideoInfo, Skeletons]]:
    """``videos`` rows and skeletons for :meth:`SkeletonStore.write_videos`."""
    from .records import Skeletons, VideoInfo

    subjects = sorted({sequence.subject for sequence in sequences})
    records = []
    for sequence in sequences:
        info = VideoInfo(
            video_id=sequence.sequence_id, layout=LAYOUT,
            source_path=f"synthetic://{sequence.exercise}/{sequence.subject}/take{sequence.take}",
            label=sequence.exercise, split=split_of(sequence.subject, subjects),
            group=sequence.subject, source_fps=sequence.frames_per_second,
            sampled_fps=sequence.frames_per_second, width=sequence.width, height=sequence.height,
            extractor="synthetic", extractor_version="1", repetitions=sequence.repetitions,
        )
        skeletons = Skeletons.single(LAYOUT, sequence.joints, sequence.detected,
                                     sequence.timestamps, phase=sequence.phase)
        records.append((info, skeletons))
    return records


def render_corpus(sequences: list[SyntheticSequence], folder: str | Path) -> Path:
    """Render every sequence as an .mp4 of a drawn person (from the noise-free joints) under
    ``folder/<exercise>/``, plus ``folder/manifest.csv`` (path,label,split,group)."""
    import csv

    from ..skeleton.figure import background, draw_figure
    from ..skeleton.render import write_video

    folder = Path(folder)
    subjects = sorted({sequence.subject for sequence in sequences})
    rows = []
    for sequence in sequences:
        path = folder / sequence.exercise / f"{sequence.subject}_take{sequence.take}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        size = np.array([sequence.width, sequence.height])
        wall = background(sequence.width, sequence.height, seed=len(rows))
        images = (draw_figure(wall.copy(), joints[:, :2] * size, joints[:, 2])
                  for joints in sequence.clean_joints)
        write_video(images, path, sequence.frames_per_second)
        rows.append({"path": str(path.relative_to(folder)), "label": sequence.exercise,
                     "split": split_of(sequence.subject, subjects), "group": sequence.subject})
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["path", "label", "split", "group"])
        writer.writeheader()
        writer.writerows(rows)
    return manifest
