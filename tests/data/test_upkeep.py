"""Looking after a Delta store: compaction, vacuum, history, check/repair, concurrent writers, damage."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from posegraph.data import DamagedFileError, SkeletonStore
from posegraph.data.query import describe_views, run_query
from posegraph.data.upkeep import check, compact, history, vacuum
from posegraph.flows.cli import main
from tests.conftest import damage, make_video, video_id


def filled(store: SkeletonStore, count: int = 12) -> dict:
    videos = {}
    for number in range(count):
        info, skeletons = make_video(video_id("ab" if number % 2 else "cd", number), frames=10 + number, seed=number)
        store.write_video(info, skeletons)  # one commit per video, as extraction workers do
        videos[info.video_id] = skeletons
    return videos


def test_compaction_merges_small_files_and_keeps_every_value(store):
    videos = filled(store)
    assert len(store.files("frames")) == 12
    before = run_query(store, "SELECT video_id, count(*) AS n, sum(frame_index) AS s FROM frames GROUP BY 1 ORDER BY 1")
    metrics = compact(store)
    assert len(store.files("frames")) == 2 and metrics["frames"]["numFilesRemoved"] == 12  # one per bucket
    after = run_query(store, "SELECT video_id, count(*) AS n, sum(frame_index) AS s FROM frames GROUP BY 1 ORDER BY 1")
    assert after.equals(before)
    for video, skeletons in videos.items():
        np.testing.assert_array_equal(store.read_video(video).joints, skeletons.joints[0])
    assert vacuum(store, retention_hours=0)["frames"]  # the merged files are unreferenced now
    assert len(list((store.root / "frames").rglob("*.parquet"))) == 2


def test_history_says_which_writer_wrote_what(store, monkeypatch):
    monkeypatch.setenv("POSEGRAPH_WRITER", "flow run brave-otter")
    writer = SkeletonStore(store.root)
    writer.write_videos([make_video(video_id("ab", 1)), make_video(video_id("cd", 2))])
    compact(writer)
    commits = history(writer)
    writes = [c for c in commits if c.operation == "write videos"]
    assert {c.table for c in writes} == {"frames", "videos"}
    assert all(c.writer == "flow run brave-otter" and c.videos == 2 for c in writes)
    assert commits[0].operation.startswith("compact") and commits == sorted(commits, key=lambda c: c.time, reverse=True)
    assert main(["store", "history", str(store.root)]) == 0


def test_check_finds_a_truncated_file_and_repair_lists_the_videos_to_extract_again(store, capsys):
    videos = filled(store, 6)
    healthy = check(store)
    assert healthy.files_checked == 12 and not healthy.damaged
    [broken] = [path for path in store.files("frames", bucket="ab")][:1]
    content = broken.path.read_bytes()
    broken.path.write_bytes(content[: len(content) // 2])  # truncated
    lost = [v for v in videos if v.startswith("ab") and broken.min_video_id <= v <= broken.max_video_id]
    with pytest.raises(DamagedFileError, match=r"is damaged.*posegraph store check .* --repair"):
        run_query(store, "SELECT count(*) FROM frames")
    with pytest.raises(DamagedFileError, match="--repair"):
        store.read_video(lost[0])
    assert main(["store", "check", str(store.root)]) == 1
    out = capsys.readouterr().out
    assert "1 damaged" in out and str(broken.path) in out and "--repair" in out
    report = check(store, repair=True)
    assert report.repaired and [row["video_id"] for row in report.re_extract] == lost
    assert all(row["source_path"] is None or row["source_path"] for row in report.re_extract)
    assert not check(store).damaged and (store.root / "_damaged" / "frames").is_dir()
    remaining = {v for v in videos if v not in lost}
    assert set(store.videos()["video_id"].to_pylist()) == remaining  # so extract redoes the lost ones
    for video in remaining:
        np.testing.assert_array_equal(store.read_video(video).joints, videos[video].joints[0])
    assert "frames" in describe_views(store)
    info, skeletons = make_video(lost[0], frames=10)
    store.write_video(info, skeletons)  # extracting again works
    assert store.read_video(lost[0]).joints.shape[0] == len(skeletons.timestamps)


def test_a_damaged_videos_file_fails_queries_with_one_clear_line(store, capsys):
    filled(store, 4)
    damage(store, "videos", bucket="ab")
    assert main(["query", "SELECT count(*) FROM videos", "--store", str(store.root)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "is damaged" in error[0] and "store check" in error[0] and "Traceback" not in error[0]
    assert main(["store", "check", str(store.root), "--repair"]) == 0
    assert "videos to extract again" in capsys.readouterr().out
    assert run_query(store, "SELECT count(*) AS n FROM videos")["n"].to_pylist() == [2]


CONCURRENT_WRITER = """
import sys
from posegraph.data import SkeletonStore
from tests.conftest import make_video, video_id
store = SkeletonStore(sys.argv[1])
for number in range(int(sys.argv[3])):
    store.write_video(*make_video(video_id(f"{number % 4:02x}", int(sys.argv[2]) * 1000 + number), frames=30))
"""


@pytest.mark.parametrize("writers", [2, 4])
def test_concurrent_writers_lose_and_duplicate_nothing(tmp_path, writers):
    store = SkeletonStore(tmp_path / "store")
    processes = [subprocess.Popen([sys.executable, "-c", CONCURRENT_WRITER, str(store.root), str(index), "6"],
                                  cwd=Path(__file__).parents[2]) for index in range(writers)]
    assert [process.wait(timeout=120) for process in processes] == [0] * writers
    ids = store.videos()["video_id"].to_pylist()
    assert len(ids) == len(set(ids)) == writers * 6
    counts = run_query(store, "SELECT count(*) AS n, count(DISTINCT video_id) AS v FROM frames").to_pylist()[0]
    assert counts == {"n": writers * 6 * 30, "v": writers * 6}


def test_a_partition_never_holds_more_than_sixteen_small_files(store):
    videos = {}
    for number in range(20):
        info, skeletons = make_video(video_id("ab", 0x100 + number), frames=8, seed=number)
        store.write_video(info, skeletons)
        videos[info.video_id] = skeletons
        assert len(store.files("frames", layout="blazepose33", bucket="ab")) < 16
        assert len(store.files("videos", bucket="ab")) < 16
    merged = [f for f in store.files("frames") if "merged" in f.path.name]
    assert merged and merged[0].min_video_id <= merged[0].max_video_id
    ids = pq.read_table(merged[0].path, columns=["video_id"])["video_id"].to_pylist()
    assert ids == sorted(ids)  # sorted: a read skips to its row group
    for video, skeletons in videos.items():
        np.testing.assert_array_equal(store.read_video(video).joints, skeletons.joints[0])
    assert any(c.operation == "merge 16 small files" for c in history(store))
