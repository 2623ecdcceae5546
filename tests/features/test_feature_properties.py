"""Properties over random bodies: invariance, ranges, frame rate, dependence on the joints only."""

import inspect

import numpy as np
import pytest

from posegraph.features import FEATURES, build_features
from posegraph.skeleton import get_layout

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed (pip install hypothesis)")
from hypothesis import given, settings, strategies as st

BLAZEPOSE = get_layout("blazepose33")
GROUP = np.array([spec.group for spec in FEATURES])
SETTINGS = settings(max_examples=30, deadline=None)


def random_body(seed: int, frames: int = 12, layout_joints: int = 33) -> np.ndarray:
    """Joints scattered over a 400 px square, z in +-50, visibility 0.1-1, a few frames and joints
    missing (NaN rows, zero visibility)."""
    random = np.random.default_rng(seed)
    joints = np.concatenate([random.uniform(0, 400, (frames, layout_joints, 2)),
                             random.uniform(-50, 50, (frames, layout_joints, 1)),
                             random.uniform(0.1, 1.0, (frames, layout_joints, 1))], axis=-1)
    joints[random.random(frames) < 0.15] = np.nan
    joints[random.random((frames, layout_joints)) < 0.05, 3] = 0.0
    return joints


def assert_same(first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray],
                columns: np.ndarray) -> None:
    assert (first[1][:, columns] == second[1][:, columns]).all()
    np.testing.assert_allclose(first[0][:, columns], second[0][:, columns], rtol=1e-4, atol=1e-4)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), shift=st.tuples(*3 * [st.floats(-5000, 5000)]),
       factor=st.floats(0.01, 100))
def test_invariant_to_translation_and_uniform_scale(seed, shift, factor):
    joints = random_body(seed)
    moved = joints.copy()
    moved[..., :3] = (joints[..., :3] + shift) * factor
    columns = GROUP != "visibility"
    assert_same(build_features(joints, "blazepose33", 30), build_features(moved, "blazepose33", 30), columns)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), layout=st.sampled_from(["blazepose33", "coco17", "penn13"]))
def test_angles_stay_within_0_and_180_and_masks_match_nan(seed, layout):
    joints = random_body(seed, layout_joints={"blazepose33": 33, "coco17": 17, "penn13": 13}[layout])
    features, mask = build_features(joints, layout, fps=25)
    angles = features[:, GROUP == "angles"]
    assert ((angles >= 0) & (angles <= 180))[~mask[:, GROUP == "angles"]].all()
    visibility = features[:, GROUP == "visibility"][~mask[:, GROUP == "visibility"]]
    assert ((visibility >= 0) & (visibility <= 1)).all()
    assert (np.isnan(features) == mask).all() and mask.dtype == bool and features.dtype == np.float32
    assert (~mask).any()


def swinging_body(fps: float, seconds: float, amplitude: float, frequency: float, phase: float) -> np.ndarray:
    """blazepose33 at ``fps``: a body drifting sideways whose arms and head swing smoothly and whose
    shoulder line rocks about its centre (torso length and shoulder width, the body scale, stay put)."""
    t = np.arange(round(seconds * fps)) / fps
    wave, other = np.sin(2 * np.pi * frequency * t + phase), np.cos(2 * np.pi * frequency * t + phase)
    joints = np.full((len(t), 33, 4), np.nan)
    joints[..., 2:] = (0.0, 1.0)
    base = {"nose": (120, 60), "left_shoulder": (140, 100), "right_shoulder": (100, 100),
            "left_elbow": (145, 150), "right_elbow": (95, 150), "left_wrist": (150, 200),
            "right_wrist": (90, 200), "left_hip": (135, 200), "right_hip": (105, 200),
            "left_knee": (135, 250), "right_knee": (105, 250), "left_ankle": (135, 300),
            "right_ankle": (105, 300)}
    for joint, point in base.items():
        joints[:, BLAZEPOSE.index(joint), :2] = point
    rock = 0.2 * amplitude * wave
    for joint, sign in (("left_shoulder", 1), ("right_shoulder", -1)):  # rotate about (120, 100)
        joints[:, BLAZEPOSE.index(joint), 0] = 120 + sign * 20 * np.cos(rock)
        joints[:, BLAZEPOSE.index(joint), 1] = 100 + sign * 20 * np.sin(rock)
    for joint, gain in (("nose", 0.3), ("left_elbow", 0.5), ("right_elbow", -0.5), ("left_wrist", 1.0),
                        ("right_wrist", -1.0)):
        joints[:, BLAZEPOSE.index(joint), 0] += 100 * amplitude * gain * wave
        joints[:, BLAZEPOSE.index(joint), 1] += 60 * amplitude * gain * other
    joints[..., 0] += 40 * t[:, None]  # the whole body drifts
    return joints


@SETTINGS
@given(amplitude=st.floats(0.1, 0.6), frequency=st.floats(0.2, 0.6), phase=st.floats(0, 2 * np.pi))
def test_velocities_do_not_depend_on_the_frame_rate(amplitude, frequency, phase):
    slow, slow_mask = build_features(swinging_body(15, 2.0, amplitude, frequency, phase), "blazepose33", 15)
    fast, fast_mask = build_features(swinging_body(30, 2.0, amplitude, frequency, phase), "blazepose33", 30)
    velocity = GROUP == "velocities"
    common_slow, common_fast = slow[1:-1, velocity], fast[2:-2:2, velocity]  # same times, interior
    assert not slow_mask[:, velocity].any() and not fast_mask[:, velocity].any()
    peak = np.abs(common_fast).max()
    assert peak > 0.1  # the body does move
    np.testing.assert_allclose(common_slow, common_fast, atol=0.03 * peak)
    np.testing.assert_allclose(slow[:, ~velocity], fast[::2, ~velocity], rtol=1e-4, atol=1e-4)


def test_signature_takes_no_label():
    parameters = list(inspect.signature(build_features).parameters)
    assert parameters == ["joints", "layout", "fps"]


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1))
def test_each_frame_depends_only_on_its_own_joints(seed):
    """Shuffling frames shuffles every feature but the velocities (the body scale, a median over
    frames, is unchanged): nothing outside the joints, no label, no position in the sequence."""
    joints = random_body(seed)
    order = np.random.default_rng(seed).permutation(len(joints))
    features, mask = build_features(joints, "blazepose33", 30)
    shuffled, shuffled_mask = build_features(joints[order], "blazepose33", 30)
    still = GROUP != "velocities"
    assert (shuffled_mask[:, still] == mask[order][:, still]).all()
    np.testing.assert_array_equal(shuffled[:, still], features[order][:, still])
