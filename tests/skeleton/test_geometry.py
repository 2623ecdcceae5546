"""One geometry for every model: aspect-correct, centred, scaled; resampling by timestamps."""

import numpy as np
import pytest
from posegraph.features import build_features
from posegraph.gcn.preprocess import prepare, to_channels
from posegraph.skeleton.geometry import aspect_correct, body_frame, resample
from posegraph.skeleton.source import SkeletonSource


def project(points: np.ndarray, width: int, height: int, focal: float, shift: tuple[float, float]) -> np.ndarray:
    """A pinhole camera: 3-D points (T, V, 3) in metres -> x, y as fractions of width and height."""
    u = focal * points[..., 0] / points[..., 2] + width / 2 + shift[0]
    v = focal * points[..., 1] / points[..., 2] + height / 2 + shift[1]
    return np.stack([u / width, v / height], axis=-1)


@pytest.fixture
def squat_in_3d():
    from posegraph.data.synthetic import generate_corpus

    sequence = next(s for s in generate_corpus(subjects=1, takes=1, seed=3, repetitions=2) if s.exercise == "squat")
    clean = np.array(sequence.clean_joints, dtype=np.float64)  # a moving body, lifted into 3-D:
    world = np.stack([(clean[..., 0] - 0.5) * 2.0, (clean[..., 1] - 0.5) * 2.0, 4.0 + clean[..., 2]], axis=-1)
    return world, sequence.timestamps  # metres, about four in front of the camera


def as_joints(xy: np.ndarray) -> np.ndarray:
    joints = np.ones(xy.shape[:-1] + (4,), dtype=np.float32)
    joints[..., :2] = xy
    joints[..., 2] = np.nan
    return joints


def test_same_pose_in_a_landscape_and_a_portrait_frame_gives_the_same_model_input(squat_in_3d):
    world, timestamps = squat_in_3d
    landscape = as_joints(project(world, 1920, 1080, focal=1400.0, shift=(-300.0, 50.0)))
    portrait = as_joints(project(world, 368, 640, focal=500.0, shift=(20.0, -40.0)))
    assert not np.allclose(landscape[..., :2], portrait[..., :2], atol=0.05)  # stored values differ
    inputs = []
    for joints, (width, height) in ((landscape, (1920, 1080)), (portrait, (368, 640))):
        sequence = SkeletonSource.from_people(joints[None], "blazepose33", timestamps, width, height)
        inputs.append(prepare(sequence, "blazepose33", 16.0))
    np.testing.assert_allclose(to_channels(inputs[0]), to_channels(inputs[1]), atol=1e-4)
    features = [build_features(people[0], "blazepose33", 16.0)[0] for people in inputs]
    np.testing.assert_allclose(features[0], features[1], atol=1e-3, equal_nan=True)


def test_without_the_aspect_correction_the_inputs_would_differ(squat_in_3d):
    world, timestamps = squat_in_3d
    landscape = as_joints(project(world, 1920, 1080, 1400.0, (0.0, 0.0)))
    portrait = as_joints(project(world, 368, 640, 500.0, (0.0, 0.0)))
    ignored = [body_frame(joints, "blazepose33") for joints in (landscape, portrait)]  # size unknown
    assert np.nanmax(np.abs(ignored[0][..., :2] - ignored[1][..., :2])) > 0.1


def test_aspect_correction_measures_x_in_frame_heights():
    joints = np.array([[[0.5, 0.5, 0.0, 1.0]]], dtype=np.float32)
    np.testing.assert_allclose(aspect_correct(joints, 1920, 1080)[..., :2], [[[0.5 * 16 / 9, 0.5]]])
    np.testing.assert_allclose(aspect_correct(joints, None, None), joints)  # unknown size: square


def test_body_frame_centres_on_the_centre_joints_and_scales_by_the_torso():
    people = np.full((1, 3, 33, 4), np.nan, dtype=np.float32)
    people[0, :, :, 3] = 1.0
    people[0, :, 11, :2], people[0, :, 12, :2] = [0.4, 0.3], [0.6, 0.3]  # shoulders: the centre
    people[0, :, 23, :2], people[0, :, 24, :2] = [0.4, 0.5], [0.6, 0.5]  # hips: torso 0.2 high
    people[0, 1, 13, :2] = [0.7, 0.7]
    people[0, 1, 13, 3] = 0.0  # confidence 0: OpenPose's "missing"
    frame = body_frame(people, "blazepose33", width=200, height=100)  # x doubles
    np.testing.assert_allclose(frame[0, 0, 11, :2], [-1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(frame[0, 0, 24, :2], [1.0, 1.0], atol=1e-6)
    assert np.isnan(frame[0, 1, 13, :2]).all()


def test_resampling_a_30_fps_clip_to_16_fps_by_timestamps():
    timestamps = np.arange(60) / 30.0  # two seconds minus a frame
    joints = np.arange(60, dtype=np.float32)[:, None, None] * np.ones((1, 2, 4), np.float32)
    resampled, times = resample(joints, timestamps, 16.0)
    assert len(times) == 32 and len(resampled) == 32
    np.testing.assert_allclose(np.diff(times), 1 / 16)
    np.testing.assert_array_equal(resampled[:, 0, 0], np.ceil(times * 30 - 0.5))  # the nearest (ties: earlier)


def test_resampling_keeps_people_and_refuses_no_clock():
    people = np.zeros((2, 10, 3, 4), dtype=np.float32)
    resampled, _ = resample(people, np.arange(10) / 8.0, 16.0)
    assert resampled.shape == (2, 19, 3, 4)
    unchanged, _ = resample(people, np.full(10, np.nan), 16.0)
    assert unchanged is people
