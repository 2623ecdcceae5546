import numpy as np
import pytest

from posegraph.gcn.augment import camera_motion
from posegraph.gcn.dataset import SkeletonDataset, VideoItem
from posegraph.gcn.preprocess import normalize


def items(store, count=4):
    rows = store.videos().to_pylist()[:count]
    return [VideoItem(row["video_id"], row["layout"], i) for i, row in enumerate(rows)]


def test_reads_only_the_videos_it_needs_and_caches_them(synthetic_store, monkeypatch):
    calls = []
    original = synthetic_store.read_video
    monkeypatch.setattr(synthetic_store, "read_video", lambda vid, **kw: calls.append(vid) or original(vid, **kw))
    chosen = items(synthetic_store, 2)
    dataset = SkeletonDataset(synthetic_store, chosen, "blazepose33", train=True, clip_frames=90)
    dataset[0], dataset[0], dataset[1]
    assert calls == [chosen[0].video_id, chosen[1].video_id]


def test_training_crops_and_evaluation_sequences(synthetic_store):
    chosen = items(synthetic_store)
    train = SkeletonDataset(synthetic_store, chosen, "blazepose33", train=True, clip_frames=90, seed=1)
    sample, label = train[2]
    assert sample.shape == (3, 90, 33, 1) and label == 2
    evaluation = SkeletonDataset(synthetic_store, chosen, "blazepose33", clip_frames=40, test_crops=4)
    crops = evaluation[2][0]
    assert crops.shape == (4, 3, 40, 33, 1)  # four different windows over the video
    assert len({crop.numpy().tobytes() for crop in crops}) == 4
    train.set_epoch(0)
    first = train[2][0]
    train.set_epoch(1)
    assert not np.array_equal(first.numpy(), train[2][0].numpy())
    train.set_epoch(0)
    np.testing.assert_array_equal(first.numpy(), train[2][0].numpy())  # a function of (seed, epoch, index)


def test_training_crops_are_mirrored_half_of_the_time(synthetic_store):
    chosen = items(synthetic_store, 1)
    plain = SkeletonDataset(synthetic_store, chosen, "blazepose33", train=True, clip_frames=30, flip=False)
    flipping = SkeletonDataset(synthetic_store, chosen, "blazepose33", train=True, clip_frames=30, flip=True)
    mirrored = 0
    for epoch in range(40):
        plain.set_epoch(epoch), flipping.set_epoch(epoch)
        a, b = plain[0][0].numpy(), flipping[0][0].numpy()
        if not np.array_equal(a, b):
            mirrored += 1
    assert 10 <= mirrored <= 30


def test_openpose18_view_of_blazepose_data(synthetic_store):
    dataset = SkeletonDataset(synthetic_store, items(synthetic_store, 1), "openpose18")
    assert dataset[0][0].shape[-2] == 18


def test_normalisation_centres_and_scales():
    people = np.full((1, 4, 33, 4), np.nan, dtype=np.float32)
    people[0, :, :, :2] = 0.5
    people[0, :, :, 3] = 0.9
    people[0, :, 11, :2] = [0.4, 0.3]  # shoulders (the centre joints)
    people[0, :, 12, :2] = [0.6, 0.3]
    people[0, :, 23, :2] = [0.4, 0.5]  # hips: torso length 0.2
    people[0, :, 24, :2] = [0.6, 0.5]
    people[0, 2, 5] = np.nan  # a missing joint
    data = normalize(people, "blazepose33")
    assert data.shape == (3, 4, 33, 1)
    np.testing.assert_allclose(data[:2, 0, 11, 0], [-0.5, 0.0], atol=1e-6)
    np.testing.assert_allclose(data[:2, 0, 23, 0], [-0.5, 1.0], atol=1e-6)
    np.testing.assert_allclose(data[:, 2, 5, 0], [0, 0, 0])
    assert data[2, 0, 0, 0] == pytest.approx(0.9)


def test_camera_motion_is_smooth_over_time():
    data = np.zeros((3, 90, 5, 1), dtype=np.float32)
    data[0] = 1.0
    data[2] = 1.0
    moved = camera_motion(data, np.random.default_rng(4))
    step = np.abs(np.diff(moved[0, :, 0, 0]))
    assert step.max() < 0.05 and np.ptp(moved[0, :, 0, 0]) > 0  # moves, but gently
