"""`posegraph features build`: the store's features table, from the stored skeletons."""

import numpy as np
import pytest

from posegraph.data import SkeletonStore
from posegraph.data.query import run_query
from posegraph.data.synthetic import generate_corpus, store_records
from posegraph.features import FEATURE_NAMES, build_features
from posegraph.features.table import STALE, build_feature_table, frame_rate
from posegraph.flows.cli import main
from tests.conftest import damage
from posegraph.skeleton.geometry import body_frame


def small_store(path, subjects: int = 2) -> SkeletonStore:
    """Synthetic videos: one portrait at 30 fps, one at its native 25 fps, one rejected."""
    records = store_records(generate_corpus(subjects=subjects, takes=1, seed=5))
    (portrait, portrait_skeletons), (native, native_skeletons), (rejected, rejected_skeletons) = records[:3]
    records[:3] = [(portrait.replace(width=368, height=640, sampled_fps=30.0), portrait_skeletons),
                   (native.replace(sampled_fps=None, source_fps=25.0), native_skeletons),
                   (rejected.replace(status="rejected", reason="too few detections"), rejected_skeletons)]
    store = SkeletonStore(path)
    store.write_videos(records)
    return store


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    store = small_store(tmp_path_factory.mktemp("features") / "store")
    return store, build_feature_table(store)


def feature_count(store: SkeletonStore) -> int:
    return run_query(store, "SELECT count(*) AS n FROM features")["n"][0].as_py()


def ok_rows(store: SkeletonStore) -> list[dict]:
    return [row for row in store.videos().to_pylist() if row["status"] == "ok"]


def test_one_row_per_stored_frame_of_each_ok_video(built):
    store, report = built
    assert report.summary() == {"videos": 11, "frames": report.frames, "skipped": 1, "failed": 0}
    frames = run_query(store, "SELECT count(*) AS n FROM frames JOIN videos USING (video_id, layout) "
                              "WHERE person = 0 AND status = 'ok'")["n"][0].as_py()
    assert report.frames == frames > 1000
    assert feature_count(store) == frames
    rejected = next(row for row in store.videos().to_pylist() if row["status"] == "rejected")
    assert store.read_features(rejected["video_id"]).num_rows == 0


def test_values_are_the_features_of_the_aspect_correct_skeleton(built):
    store, _ = built
    rows = {row["sampled_fps"] or row["source_fps"]: row for row in ok_rows(store)}
    assert set(rows) == {30.0, 25.0, 16.0}  # portrait at 30 fps, native 25 fps, the others
    stored = {}
    for fps, row in rows.items():
        frames = store.read_video(row["video_id"])
        joints = body_frame(frames.joints, "blazepose33", row["width"], row["height"])
        expected, mask = build_features(joints, "blazepose33", fps)
        table = store.read_features(row["video_id"])
        assert table.column_names == ["video_id", "layout", "frame_index", *FEATURE_NAMES]
        np.testing.assert_array_equal(table["frame_index"].to_numpy(), frames.frame_indices)
        nulls = np.column_stack([table[name].is_null().to_numpy(zero_copy_only=False)
                                 for name in FEATURE_NAMES])
        np.testing.assert_array_equal(nulls, mask)
        assert 0 < mask.mean() < 0.5
        stored[fps] = np.column_stack([table[name].to_numpy(zero_copy_only=False)
                                       for name in FEATURE_NAMES])
        np.testing.assert_array_equal(stored[fps], expected)
    # the aspect matters: fractions of a portrait frame's width and height give other angles
    stretched, _ = build_features(store.read_video(rows[30.0]["video_id"]).joints, "blazepose33", 30.0)
    knee = FEATURE_NAMES.index("left_knee_angle")
    assert np.nanmax(np.abs(stretched[:, knee] - stored[30.0][:, knee])) > 5


def test_frame_rate_falls_back_to_the_native_rate_then_16():
    assert frame_rate({"sampled_fps": 12.0, "source_fps": 30.0}) == 12.0
    assert frame_rate({"sampled_fps": None, "source_fps": 30.0}) == 30.0
    assert frame_rate({"sampled_fps": float("nan"), "source_fps": None}) == 16.0


def test_a_second_build_gives_identical_rows(built):
    store, report = built
    before = run_query(store, "SELECT * FROM features ORDER BY video_id, frame_index")
    again = build_feature_table(store)
    assert again.summary() == report.summary()
    assert run_query(store, "SELECT * FROM features ORDER BY video_id, frame_index").equals(before)


def test_analyst_queries(built, capsys):
    store, _ = built
    by_label = run_query(store, "SELECT label, avg(left_knee_angle) AS knee, count(*) AS n FROM features "
                                "JOIN videos USING (video_id, layout) GROUP BY label ORDER BY knee")
    assert len(by_label) == 6
    knee = dict(zip(by_label["label"].to_pylist(), by_label["knee"].to_pylist()))
    assert knee["squat"] < knee["biceps_curl"] - 10 and 0 < min(knee.values()) and max(knee.values()) <= 180
    assert main(["query", "SELECT count(*) AS n FROM features", "--store", str(store.root),
                 "--format", "csv"]) == 0
    assert capsys.readouterr().out.split() == ['"n"', str(built[1].frames)]


def test_rewriting_a_video_drops_its_features_until_the_next_build(tmp_path):
    store = small_store(tmp_path / "store", subjects=1)
    build_feature_table(store)
    row = ok_rows(store)[0]
    frames = store.read_video(row["video_id"])
    total = feature_count(store)
    info = next(info for info, _ in store_records(generate_corpus(subjects=1, takes=1, seed=5))
                if info.video_id == row["video_id"])
    store.write_video(info, None)  # the row again, its frames dropped
    assert store.read_features(row["video_id"]).num_rows == 0
    assert feature_count(store) == total - len(frames.frame_indices)
    report = build_feature_table(store, video_ids=[row["video_id"], "f" * 64])
    assert sorted(report.failed) == [(f"{row['video_id']}/blazepose33", "ValueError: no frames stored"),
                                     (f"{'f' * 64}/*", "not in the store")]  # ids sort below f...f


def test_command_builds_reports_failures_and_exits_non_zero(tmp_path, capsys):
    store = small_store(tmp_path / "store", subjects=1)
    assert main(["features", "build", "--store", str(store.root), "--quiet"]) == 0
    assert capsys.readouterr().out.startswith("features: 5 videos, ")
    damaged = ok_rows(store)[0]["video_id"]
    bucket_mates = [row["video_id"] for row in ok_rows(store) if row["video_id"][:2] == damaged[:2]]
    assert damage(store, "frames", layout="blazepose33", bucket=damaged[:2])
    assert main(["features", "build", "--store", str(store.root), "--layout", "blazepose33"]) == 1
    captured = capsys.readouterr()
    assert f"failed {damaged}/blazepose33: " in captured.err and "features: 100%" in captured.err
    assert captured.out.startswith(f"features: {5 - len(bucket_mates)} videos, ")
    assert f"{len(bucket_mates)} failed" in captured.out
    assert main(["features", "build", "--store", str(store.root), "--layout", "coco"]) == 2
    assert "no videos in layout 'coco'" in capsys.readouterr().err


def test_each_bucket_is_written_once_and_a_damaged_one_fails_alone(tmp_path, monkeypatch):
    store = small_store(tmp_path / "store", subjects=1)
    build_feature_table(store)
    damaged = ok_rows(store)[0]["video_id"][:2]
    assert damage(store, "features", layout="blazepose33", bucket=damaged)
    writes = []
    write_features = store.write_features
    monkeypatch.setattr(store, "write_features", lambda names, items: writes.append(
        {rows.video_id[:2] for rows in items}) or write_features(names, items))
    report = build_feature_table(store)
    assert all(len(buckets) == 1 for buckets in writes)
    assert sorted(bucket for buckets in writes for bucket in buckets) == sorted(
        {row["video_id"][:2] for row in ok_rows(store)})
    failed = [row["video_id"] for row in ok_rows(store) if row["video_id"][:2] == damaged]
    assert sorted(key for key, _ in report.failed) == [f"{video}/blazepose33" for video in failed]
    assert all(reason.startswith("writing: ") for _, reason in report.failed)
    assert len(report.built) == 5 - len(failed)


def test_a_video_rewritten_during_the_build_gets_no_stale_features(tmp_path, monkeypatch):
    store = small_store(tmp_path / "store", subjects=1)
    info, skeletons = store_records(generate_corpus(subjects=1, takes=1, seed=5))[-1]
    write_features = store.write_features

    def extraction_in_between(names, items):
        if any(rows.video_id == info.video_id for rows in items):
            store.write_video(info, skeletons)  # a new extracted_at: the computed rows are stale
        return write_features(names, items)

    monkeypatch.setattr(store, "write_features", extraction_in_between)
    report = build_feature_table(store)
    assert report.failed == [(f"{info.video_id}/blazepose33", STALE)] and len(report.built) == 4
    assert store.read_features(info.video_id).num_rows == 0
