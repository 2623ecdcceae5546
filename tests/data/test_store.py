import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from posegraph.data import (NotAStoreError, SkeletonStore, StoreError, StoreVersionError, VideoInfo,
                            VideoNotFoundError)
from posegraph.data.migrate import migrate
from posegraph.data.query import describe_views, run_query
from posegraph.data.schema import VIDEOS_SCHEMA
from posegraph.data.arrow import frames_table, videos_table
from posegraph.data.upkeep import history, vacuum
from tests.conftest import make_video, uncommit, video_id


def frame_rows(store: SkeletonStore) -> int:
    return int(run_query(store, "SELECT count(*) AS n FROM _frames_raw")["n"][0].as_py())


def test_round_trip_keeps_every_value(store):
    info, skeletons = make_video(video_id("ab"), frames=30, people=2, seed=1)
    store.write_video(info, skeletons)
    for person in (0, 1):
        frames = store.read_video(info.video_id, person=person)
        assert frames.joints.shape == (30, 33, 4) and frames.layout == "blazepose33"
        np.testing.assert_array_equal(frames.joints, skeletons.joints[person])
        np.testing.assert_array_equal(frames.detected, skeletons.detected[person])
        present = skeletons.detected[person] | (person == 0)
        np.testing.assert_array_equal(frames.interpolated[present], skeletons.interpolated[person][present])
    np.testing.assert_allclose(frames.timestamps, skeletons.timestamps)
    row = store.videos().to_pylist()[0]
    assert row["frame_count"] == 30 and row["status"] == "ok" and row["label"] == "squat"
    assert row["detection_rate"] == pytest.approx(skeletons.detected[0].mean())


def test_rewriting_a_video_replaces_its_rows(store):
    first, skeletons = make_video(video_id("ab", 1), frames=25, seed=1)
    neighbour, neighbour_skeletons = make_video(video_id("ab", 2), frames=10, seed=2)
    store.write_videos([(first, skeletons), (neighbour, neighbour_skeletons)])
    rows_before = frame_rows(store)
    store.write_video(first, skeletons)
    store.write_video(first, skeletons)
    assert frame_rows(store) == rows_before == 35
    assert store.videos().num_rows == 2
    shorter = make_video(first.video_id, frames=5, seed=3)
    store.write_video(*shorter)
    assert frame_rows(store) == 15
    np.testing.assert_array_equal(store.read_video(first.video_id).joints, shorter[1].joints[0])
    np.testing.assert_array_equal(store.read_video(neighbour.video_id).joints, neighbour_skeletons.joints[0])


def test_a_failed_rewrite_drops_old_frames_but_keeps_the_row(store):
    info, skeletons = make_video(video_id("cd"), frames=12)
    store.write_video(info, skeletons)
    store.write_video(info.replace(status="failed", reason="truncated file"))
    row = store.videos().to_pylist()[0]
    assert (row["status"], row["reason"]) == ("failed", "truncated file")
    assert frame_rows(store) == 0


def test_frames_a_killed_writer_committed_without_their_row_are_never_read(store):
    first = make_video(video_id("ab"), frames=12, seed=1)
    store.write_video(*first)
    uncommit(store, video_id("ab"))  # the writer died between the frames commit and the row's
    second = make_video(video_id("ab"), frames=7, seed=2)
    store.write_video(*second)  # new to the videos table: a plain append
    np.testing.assert_array_equal(store.read_video(video_id("ab")).joints, second[1].joints[0])
    assert run_query(store, "SELECT count(*) AS n FROM frames")["n"].to_pylist() == [7]
    store.write_video(*second)  # now a replacement: every older row of the video goes
    assert frame_rows(store) == 7


def test_reading_one_video_opens_only_its_bucket(store):
    wanted, skeletons = make_video(video_id("01"), seed=4)
    store.write_videos([(wanted, skeletons)] + [make_video(video_id(f"{b:02x}"), seed=b) for b in range(2, 40)])
    for path in store.root.glob("frames/layout=*/bucket=*/*.parquet"):
        if "bucket=01" not in str(path):
            path.unlink()  # a reader that scanned other buckets would now fail or see nothing
    np.testing.assert_array_equal(store.read_video(wanted.video_id).joints, skeletons.joints[0])


def test_several_layouts_of_one_video(store):
    blaze = make_video(video_id("ef"), layout="blazepose33", joints=33)
    coco = make_video(video_id("ef"), layout="coco17", joints=17)
    store.write_videos([blaze, coco])
    assert store.read_video(video_id("ef"), layout="coco17").joints.shape == (20, 17, 4)
    with pytest.raises(ValueError, match=r"layouts \['blazepose33', 'coco17'\]; pass layout="):
        store.read_video(video_id("ef"))


def test_missing_video_is_a_clear_error(store):
    with pytest.raises(VideoNotFoundError, match="video 'ffff' is not in the store"):
        store.read_video("ffff")


def test_mismatched_skeletons_are_refused(store):
    info, skeletons = make_video(video_id("aa"))
    with pytest.raises(ValueError, match="skeletons are blazepose33 with 33 joints, the row says coco17"):
        store.write_video(info.replace(layout="coco17"), skeletons)
    with pytest.raises(ValueError, match="status must be one of"):
        store.write_video(info.replace(status="great"), skeletons)


def test_a_folder_that_is_not_a_store(tmp_path):
    (tmp_path / "holiday.jpg").write_bytes(b"x")
    with pytest.raises(NotAStoreError, match=r"is not a posegraph skeleton store .*found: holiday.jpg"):
        SkeletonStore(tmp_path)
    with pytest.raises(NotAStoreError, match="no skeleton store at"):
        SkeletonStore(tmp_path / "missing", create=False)


def test_another_schema_version_is_refused(tmp_path):
    store = SkeletonStore(tmp_path / "store")
    marker = store.root / "_posegraph_store.json"
    content = json.loads(marker.read_text())
    marker.write_text(json.dumps(content | {"schema_version": 99}))
    with pytest.raises(StoreVersionError, match="schema version 99, but this posegraph reads version 2"):
        SkeletonStore(store.root)


def _version_1_store(root: Path, videos: list) -> None:
    """A store as posegraph wrote it before Delta Lake: one Parquet file per table and bucket."""
    root.mkdir(parents=True)
    (root / "_posegraph_store.json").write_text(json.dumps(
        {"format": "posegraph-skeleton-store", "schema_version": 1, "bucket_digits": 2}))
    infos = [info.replace(frame_count=len(skeletons.timestamps)) for info, skeletons in videos]
    for info, skeletons in zip(infos, [skeletons for _, skeletons in videos]):
        bucket = info.video_id[:2]
        (root / "videos" / f"bucket={bucket}").mkdir(parents=True, exist_ok=True)
        (root / "frames" / "layout=blazepose33" / f"bucket={bucket}").mkdir(parents=True, exist_ok=True)
        pq.write_table(frames_table(info.video_id, skeletons),
                       root / "frames" / "layout=blazepose33" / f"bucket={bucket}" / "part-0.parquet")
        pq.write_table(videos_table([info]), root / "videos" / f"bucket={bucket}" / "part-0.parquet")


def test_a_version_1_store_says_how_to_migrate_and_migrates_every_video(tmp_path):
    videos = [make_video(video_id("ab"), frames=30, seed=1), make_video(video_id("cd"), frames=12, seed=2)]
    _version_1_store(tmp_path / "old", videos)
    with pytest.raises(StoreVersionError, match=r"schema version 1 .*posegraph store migrate .*old NEW_STORE"):
        SkeletonStore(tmp_path / "old")
    copied = migrate(tmp_path / "old", tmp_path / "new", progress=lambda _: None)
    assert copied["videos"] == 2 and copied["frames"] == 42
    store = SkeletonStore(tmp_path / "new")
    for info, skeletons in videos:
        np.testing.assert_array_equal(store.read_video(info.video_id).joints, skeletons.joints[0])
    assert frame_rows(store) == 42
    assert any("migrate" in commit.operation for commit in history(store))
    with pytest.raises(StoreError, match="not empty"):
        migrate(tmp_path / "old", tmp_path / "new")


def test_a_column_added_later_stays_visible(store):
    store.write_video(*make_video(video_id("ab")))
    schema = VIDEOS_SCHEMA.append(pa.field("camera", pa.string())).append(pa.field("bucket", pa.string()))
    newer = pa.Table.from_pylist([{**VideoInfo(video_id=video_id("cd"), layout="blazepose33").__dict__,
                                   "camera": "gopro", "bucket": "cd"}], schema=schema)
    store.tables["videos"].replace(newer, None, {})  # a newer release's writer
    assert store.videos().column("camera").to_pylist() == [None, "gopro"]
    sql = run_query(store, "SELECT video_id[:2] AS b, camera FROM videos ORDER BY 1").to_pylist()
    assert sql == [{"b": "ab", "camera": None}, {"b": "cd", "camera": "gopro"}]
    store.write_video(*make_video(video_id("cd", 5)))  # later writes keep the column
    cameras = store.videos().column("camera").to_pylist()
    assert len(cameras) == 3 and cameras.count("gopro") == 1


def test_a_stray_file_in_the_folders_is_never_data(store):
    store.write_video(*make_video(video_id("ab")))
    [real] = store.files("videos")
    (store.root / "videos" / "bucket=zz").mkdir()
    shutil.copy(real.path, store.root / "videos" / "bucket=zz" / "part-0.parquet")
    (store.root / "frames" / "layout=evil" / "bucket=ab").mkdir(parents=True)
    (store.root / "frames" / "layout=evil" / "bucket=ab" / "part-0.parquet").write_bytes(b"not parquet")
    assert store.videos().num_rows == 1
    assert run_query(store, "SELECT count(*) AS n FROM videos")["n"].to_pylist() == [1]
    assert frame_rows(store) == 20 and store.layouts() == ["blazepose33"]
    assert "frames" in describe_views(store)


def test_files_a_killed_writer_left_are_invisible_and_vacuum_removes_them(store):
    store.write_video(*make_video(video_id("ab")))
    [real] = store.files("frames")
    orphan = real.path.parent / "part-00000-left-by-a-killed-writer.parquet"
    shutil.copy(real.path, orphan)
    assert frame_rows(store) == 20
    removed = vacuum(store, retention_hours=0)
    assert any("left-by-a-killed-writer" in path for path in removed["frames"]) and not orphan.exists()
    np.testing.assert_array_equal(store.read_video(video_id("ab")).joints, make_video(video_id("ab"))[1].joints[0])


def _orphans(store: SkeletonStore) -> list[Path]:
    """Data files on disk that no table version refers to (what a writer killed mid-commit leaves)."""
    referenced = {f.path.resolve() for f in store.files("frames")}
    return [path for path in (store.root / "frames").rglob("*.parquet") if path.resolve() not in referenced]


WRITER = """
import sys
import numpy as np
from posegraph.data import SkeletonStore
from tests.conftest import make_video, uncommit, video_id
store = SkeletonStore(sys.argv[1])
for round_number in range(1000):
    info, skeletons = make_video(video_id("ab", 1), frames=int(sys.argv[2]), seed=round_number)
    print(f"writing {round_number}", flush=True)
    store.write_video(info, skeletons)
"""


def _kill_writer_mid_run(store: SkeletonStore, delay: float) -> None:
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(store.root), "6000"],
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    for line in writer.stdout:
        if line.startswith("writing 2"):
            break
    time.sleep(delay)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()


def test_a_rewrite_that_dies_before_its_videos_row_keeps_the_old_version_readable(store, monkeypatch):
    """Killed between the frames commit and the videos commit, a rewrite must not cost the old frames."""
    first, first_skeletons = make_video(video_id("ab", 1), frames=30, seed=1)
    store.write_video(first, first_skeletons)
    second, second_skeletons = make_video(video_id("ab", 1), frames=12, seed=2)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed before the videos commit")
    monkeypatch.setattr(store.tables["videos"], "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        store.write_video(second, second_skeletons)
    monkeypatch.undo()

    reopened = SkeletonStore(store.root)
    assert reopened.video_rows(first.video_id)[0]["frame_count"] == 30
    np.testing.assert_array_equal(reopened.read_video(first.video_id).joints, first_skeletons.joints[0])
    assert run_query(reopened, "SELECT count(*) AS n FROM frames")["n"].to_pylist() == [30]
    reopened.write_video(second, second_skeletons)  # the next rewrite lands and clears the debris
    np.testing.assert_array_equal(reopened.read_video(first.video_id).joints, second_skeletons.joints[0])
    assert frame_rows(reopened) == 12


@pytest.mark.slow
def test_kill_9_during_writes_leaves_every_other_video_intact(tmp_path):
    """Kill a writer at varied moments; at least one kill must land inside a file write."""
    kills_inside_a_write = 0
    for trial, delay in enumerate([0.0, 0.02, 0.05, 0.1, 0.15, 0.25]):
        store = SkeletonStore(tmp_path / f"store{trial}")
        neighbour, neighbour_skeletons = make_video(video_id("ab", 2), frames=40, seed=99)
        elsewhere, elsewhere_skeletons = make_video(video_id("cd"), frames=40, seed=98)
        store.write_videos([(neighbour, neighbour_skeletons), (elsewhere, elsewhere_skeletons)])
        _kill_writer_mid_run(store, delay)
        kills_inside_a_write += bool(_orphans(store))

        reopened = SkeletonStore(store.root)
        rows = {row["video_id"]: row for row in reopened.videos().to_pylist()}
        np.testing.assert_array_equal(reopened.read_video(neighbour.video_id).joints,
                                      neighbour_skeletons.joints[0])
        np.testing.assert_array_equal(reopened.read_video(elsewhere.video_id).joints,
                                      elsewhere_skeletons.joints[0])
        interrupted = video_id("ab", 1)
        if interrupted in rows:  # whatever round last committed is complete
            assert len(reopened.read_video(interrupted).joints) == rows[interrupted]["frame_count"] == 6000
        counts = run_query(reopened, "SELECT video_id, count(*) AS n FROM frames GROUP BY 1").to_pylist()
        assert {row["video_id"]: row["n"] for row in counts}[neighbour.video_id] == 40
        reopened.write_video(neighbour, neighbour_skeletons)  # the store stays writable
        vacuum(reopened, retention_hours=0)
        assert not _orphans(reopened)  # and vacuum clears the debris
        if kills_inside_a_write and trial >= 2:
            break
    assert kills_inside_a_write, "no kill landed inside a write; the test proved nothing"


def test_metadata_changes_keep_the_frames_and_refuse_other_columns(store):
    info, skeletons = make_video(video_id("m"))
    store.write_video(info.replace(source_path="/old/squat/a.mp4", label="squat"), skeletons)
    before = store.read_video(video_id("m")).joints
    changed = store.update_metadata({(video_id("m"), "blazepose33"): {
        "source_path": "/new/lunge/a.mp4", "label": "lunge", "also_at": ["/new/squat/a.mp4"],
        "labels_seen": ["lunge", "squat"]}})
    assert changed == 1
    row = store.video_rows(video_id("m"))[0]
    assert (row["source_path"], row["label"], row["also_at"], row["labels_seen"]) == (
        "/new/lunge/a.mp4", "lunge", ["/new/squat/a.mp4"], ["lunge", "squat"])
    np.testing.assert_array_equal(store.read_video(video_id("m")).joints, before)
    assert run_query(store, "SELECT label FROM videos").column("label").to_pylist() == ["lunge"]
    with pytest.raises(ValueError, match="cannot change without re-extraction"):
        store.update_metadata({(video_id("m"), "blazepose33"): {"frame_count": 3}})
    assert store.update_metadata({(video_id("n"), "blazepose33"): {"label": "x"}}) == 0
