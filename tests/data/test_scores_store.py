"""The store's scores table: the one writer, keys (video, reference, method), nothing stale, SQL view."""

import numpy as np
import pytest

from posegraph.data.query import describe_views, run_query
from posegraph.data.records import ScoreRows
from tests.conftest import make_video, uncommit, video_id


def score_rows(store, video: str, reference: str = "squat", method: str = "phase", frames: int = 20,
               seed: int = 0, layout: str = "blazepose33", joints: int = 33, current: bool = True) -> ScoreRows:
    """Random scores for ``video`` (a few unseen joints and one empty frame), tied to its ``videos`` row."""
    scores = np.random.default_rng(seed).uniform(0, 100, (frames, joints))
    scores[::5, 3] = np.nan
    scores[1] = np.nan  # nobody in frame 1
    frame_scores = np.full(frames, np.nan)
    frame_scores[np.isfinite(scores).any(axis=1)] = np.nanmean(scores[np.isfinite(scores).any(axis=1)], axis=1)
    row = next(r for r in store.video_rows(video) if r["layout"] == layout) if current else None
    return ScoreRows(video, layout, reference, method, np.arange(frames, dtype=np.int32), scores,
                     frame_scores, frame_scores + 1, np.arange(frames) / 16.0, exercise="squat",
                     reference_exercise="squat", reference_sha="f" * 64,
                     extracted_at=row["extracted_at"] if row else None)


def test_round_trip_with_nulls_for_unscored_joints_and_frames(two_videos):
    rows = score_rows(two_videos, video_id("ab", 1))
    assert two_videos.write_scores([rows]) == [rows]
    table = two_videos.read_scores(video_id("ab", 1))
    assert table.column_names[:5] == ["video_id", "layout", "reference", "method", "frame_index"]
    assert table["frame_index"].to_pylist() == list(range(20))
    stored = np.array(table["joint_scores"].to_pylist(), dtype=np.float64)
    np.testing.assert_allclose(stored, rows.joint_scores, rtol=1e-6)  # null -> NaN where unscored
    assert np.isnan(stored[1]).all() and table["frame_score"][1].as_py() is None
    assert table["running_score"].to_pylist()[2] == pytest.approx(rows.running_scores[2], rel=1e-6)
    [data_file] = two_videos.files("scores")
    assert data_file.partition == {"layout": "blazepose33", "bucket": "ab"}
    assert data_file.path.parent.parent.name == "layout=blazepose33"


def test_references_and_methods_live_side_by_side_and_rewrites_are_idempotent(two_videos):
    first, neighbour = video_id("ab", 1), video_id("ab", 2)
    squat = score_rows(two_videos, first)
    two_videos.write_scores([squat, score_rows(two_videos, neighbour, frames=8),
                             score_rows(two_videos, first, method="joint"),
                             score_rows(two_videos, first, reference="squat-coach-b", frames=10)])
    content = two_videos.read_scores(first)
    two_videos.write_scores([squat])
    assert two_videos.read_scores(first).sort_by("frame_index").equals(content.sort_by("frame_index"))  # the same rows
    two_videos.write_scores([score_rows(two_videos, first, frames=5, seed=3)])  # rescored: replaced
    keys = two_videos.read_scores(first).select(["reference", "method"]).to_pylist()
    assert {(k["reference"], k["method"]): keys.count(k) for k in keys} == {
        ("squat", "phase"): 5, ("squat", "joint"): 20, ("squat-coach-b", "phase"): 10}
    assert two_videos.read_scores(neighbour).num_rows == 8


def test_writing_a_video_drops_its_scores_and_stale_scores_are_not_stored(two_videos):
    first, neighbour = video_id("ab", 1), video_id("ab", 2)
    two_videos.write_video(*make_video(first, layout="coco17", joints=17))
    two_videos.write_scores([score_rows(two_videos, first), score_rows(two_videos, neighbour, frames=8),
                             score_rows(two_videos, first, layout="coco17", joints=17)])
    stale = score_rows(two_videos, first)
    two_videos.write_video(*make_video(first, frames=12, seed=5))  # re-extracted: a new extracted_at
    assert two_videos.read_scores(first, layout="blazepose33").num_rows == 0
    assert two_videos.read_scores(first, layout="coco17").num_rows == 20  # another layout's source
    assert two_videos.read_scores(neighbour).num_rows == 8
    assert two_videos.write_scores([stale]) == []
    assert two_videos.read_scores(first, layout="blazepose33").num_rows == 0
    two_videos.write_video(make_video(neighbour)[0].replace(status="failed", reason="gone"))
    assert not two_videos.files("scores", layout="blazepose33")


def test_malformed_scores_are_refused(two_videos):
    rows = score_rows(two_videos, video_id("ab", 1))
    with pytest.raises(ValueError, match=r"joint scores must be \(frames, joints\)"):
        two_videos.write_scores([score_rows(two_videos, video_id("ab", 1), joints=17)])
    with pytest.raises(ValueError, match="frame indices repeat"):
        two_videos.write_scores([ScoreRows(rows.video_id, rows.layout, "squat", "phase", np.zeros(20),
                                           rows.joint_scores, rows.frame_scores, rows.running_scores)])
    assert not two_videos.files("scores", layout="blazepose33")


def test_scores_view_is_long_form_with_joint_names_for_committed_videos(two_videos):
    two_videos.write_video(*make_video(video_id("cd"), frames=6))
    rows = score_rows(two_videos, video_id("ab", 1))
    two_videos.write_scores([rows, score_rows(two_videos, video_id("cd"), frames=6)])
    counts = run_query(two_videos, "SELECT video_id, count(*) AS n, count(score) AS scored, "
                                   "count(DISTINCT frame_index) AS frames FROM scores GROUP BY 1 ORDER BY 1")
    assert counts.to_pylist() == [
        {"video_id": video_id("ab", 1), "n": 20 * 33, "scored": 20 * 33 - 33 - 4, "frames": 20},
        {"video_id": video_id("cd"), "n": 6 * 33, "scored": 6 * 33 - 33 - 2, "frames": 6}]
    knee = run_query(two_videos, f"SELECT joint, score, frame_score, running_score FROM scores "
                                 f"WHERE video_id = '{video_id('ab', 1)}' AND frame_index = 2 "
                                 f"AND joint_index = 25").to_pylist()[0]
    assert knee["joint"] == "left_knee"
    assert knee["score"] == pytest.approx(rows.joint_scores[2, 25], rel=1e-6)
    assert knee["running_score"] == pytest.approx(knee["frame_score"] + 1, rel=1e-6)
    uncommit(two_videos, video_id("cd"))  # as if that video's row had never been committed
    assert run_query(two_videos, "SELECT DISTINCT video_id FROM scores")["video_id"].to_pylist() == [
        video_id("ab", 1)]


def test_a_store_without_scores_has_an_empty_scores_view(store):
    store.write_video(*make_video(video_id("ab")))
    result = run_query(store, "SELECT * FROM scores")
    assert result.num_rows == 0
    assert result.column_names == [name for name, _ in describe_views(store)["scores"]]
    assert {"video_id", "layout", "reference", "method", "frame_index", "joint", "score",
            "running_score", "frame_score", "exercise", "reference_exercise"} <= set(result.column_names)
    assert store.read_scores(video_id("ab")).column_names == [
        "video_id", "layout", "reference", "method", "frame_index"]
