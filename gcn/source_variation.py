"""Training augmentations that make one skeleton source look like another (issue 23).

A model trained on one source (Penn Action's hand annotations, another team's extraction) is used
on another (this product's BlazePose). What differs between sources, and what each function here
varies so the model does not learn it:

- :func:`vary_bones`: where the joints sit on the body (Penn's "head" is a hand-placed head point,
  BlazePose's the nose; hips and shoulders differ by a few centimetres between annotators and
  detectors) and the person's build: each bone of the layout's tree is scaled, left and right
  alike.
- :func:`vary_view`: the camera: a 2-D rotation, a shear, an aspect change (also what per-frame
  min-max normalisation does to an input) and a perspective tilt, fixed over the clip (the
  smooth camera motion over time is :func:`.augment.camera_motion`).
- :func:`jitter`: the detector's frame-to-frame noise.
- :func:`drop_joints` and :func:`miss_frames`: joints a source never gives, and the missed
  detections of real extraction, filled as extraction fills them (short gaps interpolated,
  :func:`posegraph.skeleton.cleaning.clean`).
- :func:`change_speed`: people move faster or slower than the training clips.

Left and right swapped by name is :func:`posegraph.skeleton.geometry.mirror_image` (on joints,
and through :func:`.augment.mirror` on model channels). :func:`vary_source` applies them all
with random strengths. Every function takes and returns ``joints (T, V, 4)``: x, y in body-frame
coordinates (torso lengths, centred; :func:`posegraph.skeleton.geometry.body_frame`), z and
visibility carried along (moved in time with x and y), NaN where a joint is missing; randomness
comes from an explicit generator (resumable runs draw the same samples).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from posegraph.skeleton import get_layout
from posegraph.skeleton.cleaning import CleaningSettings, clean
from posegraph.skeleton.layout import CENTRE

from .sequence import interpolate_frames


@dataclass(frozen=True)
class SourceVariation:
    """How strongly :func:`vary_source` varies a sample (the defaults are the training recipe's).

    Each range is symmetric around "no change"; each step is applied with probability
    ``probability``, so a share of samples stays close to the source as it is."""

    bone_spread: float = 0.15  # each bone scaled by 1 +- this (uniform)
    rotation_deg: float = 15.0  # in the image plane
    shear: float = 0.2  # x += shear * y and y += shear * x
    aspect: float = 0.15  # x and y scaled by 1 +- this, independently
    perspective: float = 0.06  # per torso length: the tilt of the image plane
    jitter: float = 0.02  # torso lengths, standard deviation per joint and frame
    joint_drop: float = 0.05  # chance that a joint is missing for the whole clip
    frame_miss: float = 0.1  # share of frames whose detection is missed (in runs of 1 to 12 frames)
    speed: tuple[float, float] = (0.7, 1.4)  # playback speed factor (log-uniform)
    probability: float = 0.5


def bone_tree(layout: str) -> list[tuple[int, int]]:
    """The layout's :attr:`~posegraph.skeleton.layout.Layout.bone_tree` (defined once, in the layout)."""
    return list(get_layout(layout).bone_tree)


def vary_bones(joints: np.ndarray, layout: str, scales: np.ndarray) -> np.ndarray:
    """Each bone of :func:`bone_tree` scaled by ``scales[child]`` (the centre joints' distance to
    their midpoint by ``scales[centre]``), children moving with their parents; a child whose
    parent is missing in a frame stays where it was.

    Shapes: ``joints (T, V, 4)``, ``scales (V,)`` -> ``(T, V, 4)``."""
    spec = get_layout(layout)
    xy = joints[..., :2]
    varied = np.array(xy, dtype=np.float32, copy=True)
    centre = list(spec.center)
    with warnings.catch_warnings():  # a frame without any centre joint has no midpoint: it stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        middle = np.nanmean(xy[:, centre], axis=1, keepdims=True)
    varied[:, centre] = middle + scales[centre, None] * (xy[:, centre] - middle)
    for parent, child in bone_tree(layout):
        before, after = (middle[:, 0], middle[:, 0]) if parent == CENTRE else (xy[:, parent], varied[:, parent])
        moved = after + scales[child] * (xy[:, child] - before)
        varied[:, child] = np.where(np.isfinite(before), moved, xy[:, child])
    return _with_xy(joints, varied)


def _with_xy(joints: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """``joints (T, V, 4)`` with x, y replaced by ``xy (T, V, 2)``."""
    return np.concatenate([xy, joints[..., 2:]], axis=-1).astype(np.float32)


def symmetric_scales(layout: str, spread: float, random: np.random.Generator) -> np.ndarray:
    """``(V,)`` bone scales in ``1 +- spread``, a left joint's equal to its right twin's."""
    spec = get_layout(layout)
    scales = random.uniform(1 - spread, 1 + spread, spec.num_joints).astype(np.float32)
    mirror = np.asarray(spec.mirror_index)
    return np.where(np.arange(spec.num_joints) <= mirror, scales, scales[mirror])


def vary_view(joints: np.ndarray, angle_deg: float = 0.0, shear: float = 0.0, aspect: tuple[float, float] = (1.0, 1.0),
              perspective: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """A fixed camera change: rotation, shear, aspect, then a perspective tilt
    (``p = (px, py)``: each point divided by ``1 + px x + py y``).

    Shapes: ``(T, V, 4)`` kept; NaN stays NaN."""
    angle = np.radians(angle_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = np.diag(aspect) @ np.array([[1.0, shear], [shear, 1.0]]) @ rotation
    moved = joints[..., :2] @ matrix.T.astype(np.float32)
    depth = 1.0 + perspective[0] * moved[..., :1] + perspective[1] * moved[..., 1:]
    return _with_xy(joints, moved / np.clip(depth, 0.5, None))


def jitter(joints: np.ndarray, sigma: float, random: np.random.Generator) -> np.ndarray:
    """Independent Gaussian noise of ``sigma`` torso lengths on every x and y. Shapes: kept."""
    return _with_xy(joints, joints[..., :2] + random.normal(0.0, sigma, joints[..., :2].shape))


def drop_joints(joints: np.ndarray, chance: float, random: np.random.Generator) -> np.ndarray:
    """Each joint missing (NaN in every channel) for the whole clip with probability ``chance``. Shapes: kept."""
    dropped = np.array(joints, dtype=np.float32, copy=True)
    dropped[:, random.random(joints.shape[1]) < chance] = np.nan
    return dropped


def miss_frames(joints: np.ndarray, share: float, random: np.random.Generator,
                settings: CleaningSettings = CleaningSettings()) -> np.ndarray:
    """About ``share`` of the frames missed (runs of 1-12 frames), then filled as extraction fills
    them: gaps of at most ``settings.max_gap`` frames interpolated, longer ones left missing.

    Shapes: kept."""
    frames = len(joints)
    found = np.ones(frames, dtype=bool)
    target, missed = int(round(share * frames)), 0
    while missed < target:
        length = int(random.integers(1, 13))
        start = int(random.integers(0, max(frames - length, 0) + 1))
        found[start:start + length] = False
        missed = int((~found).sum())
    # every frame the detector found counts as detected here: only the missed ones are emptied
    return clean(joints, found, CleaningSettings(visibility_threshold=-np.inf, max_gap=settings.max_gap)).joints


def vary_channels(data: np.ndarray, layout: str, random: np.random.Generator,
                  variation: SourceVariation = SourceVariation()) -> np.ndarray:
    """:func:`vary_source` on model channels, every person with the same draws.

    Shapes: ``(C=3, T, V, M)`` x, y, confidence (missing joints 0 in every channel) ->
    ``(3, T', V, M)``."""
    from .preprocess import to_channels

    people = np.transpose(data, (3, 1, 2, 0)).astype(np.float32)  # (M, T, V, 3)
    present = people[..., 2] > 0
    joints = np.stack([people[..., 0], people[..., 1], np.zeros_like(people[..., 0]), people[..., 2]], axis=-1)
    joints[~present] = np.nan
    seed = int(random.integers(2 ** 63))
    varied = np.stack([vary_source(person, layout, np.random.default_rng(seed), variation) for person in joints])
    return to_channels(varied)


def change_speed(joints: np.ndarray, factor: float) -> np.ndarray:
    """Played ``factor`` times as fast (fewer frames when > 1), first and last frames kept, every
    channel linearly interpolated in time (:func:`.sequence.interpolate_frames`: a joint missing at
    a neighbouring frame it draws on is missing). Shapes: ``(T, V, 4)`` -> ``(T', V, 4)``."""
    frames = len(joints)
    length = max(int(round(frames / factor)), 2)
    flat = np.asarray(joints, dtype=np.float32).reshape(frames, -1)
    return interpolate_frames(flat, np.linspace(0, frames - 1, length)).reshape(length, *joints.shape[1:])


def vary_source(joints: np.ndarray, layout: str, random: np.random.Generator,
                variation: SourceVariation = SourceVariation()) -> np.ndarray:
    """Every variation of the module, each with probability ``variation.probability`` and random
    strength. Shapes: ``(T, V, 4)`` -> ``(T', V, 4)`` (T' differs when the speed changed)."""
    def chance() -> bool:
        return bool(random.random() < variation.probability)

    # every draw is made whatever is applied, so one setting does not shift the others' samples
    scales = symmetric_scales(layout, variation.bone_spread, random)
    angle = random.uniform(-variation.rotation_deg, variation.rotation_deg)
    shear = random.uniform(-variation.shear, variation.shear)
    aspect = tuple(random.uniform(1 - variation.aspect, 1 + variation.aspect, 2))
    perspective = tuple(random.uniform(-variation.perspective, variation.perspective, 2))
    speed = float(np.exp(random.uniform(*np.log(variation.speed))))
    applied = [chance() for _ in range(6)]
    joints = np.asarray(joints, dtype=np.float32)
    if applied[0]:
        joints = vary_bones(joints, layout, scales)
    if applied[1]:
        joints = vary_view(joints, angle, shear, aspect, perspective)
    if applied[2]:
        joints = change_speed(joints, speed)
    if applied[3]:
        joints = miss_frames(joints, variation.frame_miss, random)
    if applied[4]:
        joints = drop_joints(joints, variation.joint_drop, random)
    if applied[5]:
        joints = jitter(joints, variation.jitter, random)
    return joints
