import threading
import time

import pytest

from posegraph.data import SkeletonStore
from posegraph.data.group_commit import GroupCommitWriter
from tests.conftest import damage, make_video, video_id


def test_videos_arriving_together_share_one_commit(store):
    before = len(store.tables["videos"].history())
    with GroupCommitWriter(store, linger_seconds=60, max_videos=64) as writer:
        for number in range(10):
            writer.add(*make_video(video_id("a", number)))
    assert (writer.commits, writer.stored, writer.failures) == (1, 10, {})
    assert store.videos().num_rows == 10
    assert len(store.tables["videos"].history()) == before + 1
    assert all(store.read_video(video_id("a", number)).joints.shape[0] == 20 for number in range(10))


def test_a_group_never_exceeds_its_size(store):
    with GroupCommitWriter(store, linger_seconds=60, max_videos=4) as writer:
        for number in range(10):
            writer.add(*make_video(video_id("b", number)))
    assert writer.stored == 10 and writer.commits == 3  # 4 + 4 + the 2 left at close


def test_a_lone_video_is_committed_after_the_linger_delay_without_waiting_for_more(store):
    committed = threading.Event()
    with GroupCommitWriter(store, linger_seconds=0.2, on_commit=lambda infos: committed.set()) as writer:
        writer.add(*make_video(video_id("c")))
        assert committed.wait(30), "the pending video was never committed while the writer stayed open"
        assert SkeletonStore(store.root).videos().num_rows == 1
        time.sleep(0.3)
        assert writer.commits == 1


def test_a_failed_group_is_retried_video_by_video_and_the_good_ones_are_kept(store):
    store.write_video(*make_video(video_id("d")))  # bucket "d0..." will be damaged
    damage(store, "videos", bucket=video_id("d")[:2])
    with GroupCommitWriter(store, linger_seconds=60) as writer:
        writer.add(*make_video(video_id("d")))  # a replacement must read the damaged bucket
        writer.add(*make_video(video_id("e")))
    assert list(writer.failures) == [video_id("d")] and "is damaged" in writer.failures[video_id("d")]
    assert writer.stored == 1
    assert store.read_video(video_id("e")).joints.shape[0] == 20


def test_bad_settings_are_refused(store):
    with pytest.raises(ValueError):
        GroupCommitWriter(store, max_videos=0)
