"""One resolver from a video file, a stored id or a landmarks file to one SkeletonSource."""

import numpy as np
import pytest

from posegraph.data import VideoNotFoundError
from posegraph.data.sources import resolve_source
from posegraph.skeleton.source import SkeletonSource
from tests.conftest import make_video, video_id


def test_a_stored_video_by_id_prefix_with_its_people(store):
    info, skeletons = make_video(video_id("cd", 1), frames=12, people=2)
    store.write_video(info, skeletons)
    source = resolve_source(video_id("cd", 1)[:10], store, persons=2)
    assert isinstance(source, SkeletonSource) and source.origin == "store" and source.how_read == "stored"
    assert source.video_id == video_id("cd", 1) and source.label == "squat" and source.layout == "blazepose33"
    assert source.people.shape == (2, 12, 33, 4) and source.joints.shape == (12, 33, 4)
    np.testing.assert_array_equal(source.frame_indices, np.arange(12))
    assert resolve_source(video_id("cd", 1), store).others is None  # person 0 unless asked
    with pytest.raises(ValueError, match="stored in layout.*not in coco17"):
        resolve_source(video_id("cd", 1), store, layout="coco17")
    with pytest.raises(VideoNotFoundError, match="no video id starts with 'ef'"):
        resolve_source("ef", store)


def test_landmarks_files_in_either_shape(tmp_path):
    joints = np.random.default_rng(0).random((40, 33, 3)).astype(np.float32)
    joints[5] = 0.0  # all zero: nobody seen
    np.save(tmp_path / "person.npy", joints)
    source = resolve_source(tmp_path / "person.npy", landmarks_fps=25.0)
    assert source.origin == "landmarks" and source.fps == 25.0 and source.timestamps[4] == pytest.approx(4 / 25)
    assert source.joints.shape == (40, 33, 4) and not source.seen[5] and source.seen[4]
    rows = np.concatenate([joints.reshape(40, 99), np.zeros((40, 6), np.float32)], axis=1)  # RepCount's rows
    np.save(tmp_path / "repcount.npy", rows)
    np.testing.assert_allclose(resolve_source(tmp_path / "repcount.npy").joints[:, :, :3][source.seen],
                               source.joints[:, :, :3][source.seen])
    np.save(tmp_path / "bad.npy", np.zeros((10, 7)))
    with pytest.raises(ValueError, match=r"bad.npy: not a blazepose33 landmark file"):
        resolve_source(tmp_path / "bad.npy")


def test_what_cannot_be_resolved_is_said_plainly(tmp_path):
    with pytest.raises(FileNotFoundError, match="gone.mp4: no such file"):
        resolve_source(tmp_path / "gone.mp4")
    with pytest.raises(FileNotFoundError, match="pass --store"):
        resolve_source("3fa2c1")
