import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from posegraph.data import (NotAStoreError, SkeletonStore, StoreVersionError, VideoInfo,
                            VideoNotFoundError)
from posegraph.data.query import run_query
from tests.conftest import make_video, video_id


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
    with pytest.raises(StoreVersionError, match="schema version 99, but this posegraph reads version 1"):
        SkeletonStore(store.root)


def test_a_file_of_another_schema_version_is_named(store):
    store.write_video(*make_video(video_id("ab")))
    path = store.videos_file("ab")
    table = pq.read_table(path)
    pq.write_table(table.replace_schema_metadata({b"posegraph.schema_version": b"7"}), path)
    with pytest.raises(StoreVersionError, match=rf"{path}.*schema version 7"):
        store.videos()


def test_a_column_added_later_stays_visible(store):
    store.write_video(*make_video(video_id("ab")))
    newer = pa.Table.from_pylist([{**VideoInfo(video_id=video_id("cd"), layout="blazepose33").__dict__,
                                   "camera": "gopro"}])
    newer = newer.replace_schema_metadata({b"posegraph.schema_version": b"1"})
    path = store.videos_file("cd")
    path.parent.mkdir(parents=True)
    pq.write_table(newer, path)
    assert store.videos().column("camera").to_pylist() == [None, "gopro"]
    sql = run_query(store, "SELECT video_id[:2] AS b, camera FROM videos ORDER BY 1").to_pylist()
    assert sql == [{"b": "ab", "camera": None}, {"b": "cd", "camera": "gopro"}]
    store.write_video(*make_video(video_id("cd", 5)))  # rewriting the bucket keeps the column
    assert "camera" in pq.read_table(path).column_names


def test_staging_files_are_invisible_to_readers(store):
    store.write_video(*make_video(video_id("ab")))
    staging = store.root / "_staging"
    pq.write_table(pq.read_table(store.videos_file("ab")), staging / "999999-leftover.partial")
    dataset = ds.dataset(store.root / "videos", format="parquet", partitioning="hive")
    assert dataset.to_table().num_rows == 1
    everything = duckdb.sql(f"SELECT count(*) FROM read_parquet('{store.root}/**/*.parquet', "
                            f"union_by_name=true) WHERE status IS NOT NULL").fetchall()[0][0]
    assert everything == 1


def test_stale_staging_files_are_cleaned_on_the_next_write(store):
    staging = store.root / "_staging"
    staging.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    leftover = staging / f"{dead}-abc.partial"
    leftover.write_bytes(b"half a file")
    store.write_video(*make_video(video_id("ab")))
    assert not leftover.exists()


WRITER = """
import sys
import numpy as np
from posegraph.data import SkeletonStore
from tests.conftest import make_video, video_id
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
        kills_inside_a_write += bool(list((store.root / "_staging").glob("*.partial")))

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
        assert not list((store.root / "_staging").glob("*.partial"))  # and the debris is gone
        if kills_inside_a_write and trial >= 2:
            break
    assert kills_inside_a_write, "no kill landed inside a write; the test proved nothing"
