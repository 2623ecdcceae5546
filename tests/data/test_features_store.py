"""The store's features table: one writer, replaced rows, nothing stale, SQL view."""

import numpy as np
import pytest

from posegraph.data.query import describe_views, run_query
from posegraph.data.schema import features_schema
from posegraph.data.records import FeatureRows
from tests.conftest import make_video, uncommit, video_id

NAMES = ("knee_angle", "hand_speed", "visibility_body")


def feature_rows(store, video: str, layout: str = "blazepose33", frames: int = 20, seed: int = 0,
                 current: bool = True) -> FeatureRows:
    """Random features for ``video`` (NaN in a few places), tied to its current ``videos`` row."""
    values = np.random.default_rng(seed).random((frames, len(NAMES))).astype(np.float32)
    values[::4, 1] = np.nan
    row = next(r for r in store.video_rows(video) if r["layout"] == layout) if current else None
    return FeatureRows(video, layout, np.arange(frames, dtype=np.int32), values,
                       row["extracted_at"] if row else None)


def write_both(store) -> None:
    store.write_features(NAMES, [feature_rows(store, video_id("ab", 1)),
                                 feature_rows(store, video_id("ab", 2), frames=8)])


def test_round_trip_with_nulls_where_values_are_missing(two_videos):
    rows = feature_rows(two_videos, video_id("ab", 1))
    assert two_videos.write_features(NAMES, [rows]) == [rows]
    table = two_videos.read_features(video_id("ab", 1))
    assert table.column_names == ["video_id", "layout", "frame_index", *NAMES]
    assert table["layout"].to_pylist() == ["blazepose33"] * 20
    assert table["frame_index"].to_pylist() == list(range(20))
    assert table["hand_speed"].null_count == 5 and not np.isnan(table["hand_speed"].drop_null()).any()
    stored = np.column_stack([table[name].to_numpy(zero_copy_only=False) for name in NAMES])
    np.testing.assert_array_equal(stored, rows.values)  # nulls read back as NaN
    assert [f.partition for f in two_videos.files("features")] == [{"layout": "blazepose33", "bucket": "ab"}]


def test_writing_again_replaces_the_rows_and_is_idempotent(two_videos):
    first, neighbour = video_id("ab", 1), video_id("ab", 2)
    write_both(two_videos)
    content = two_videos.read_features(first)
    two_videos.write_features(NAMES, [feature_rows(two_videos, first)])
    assert two_videos.read_features(first).equals(content)
    assert run_query(two_videos, "SELECT count(*) AS n FROM features")["n"].to_pylist() == [28]
    two_videos.write_features(NAMES, [feature_rows(two_videos, first, frames=5, seed=3)])
    assert two_videos.read_features(first).num_rows == 5
    assert two_videos.read_features(neighbour).num_rows == 8


def test_writing_a_video_drops_its_stale_features(two_videos):
    first, neighbour = video_id("ab", 1), video_id("ab", 2)
    coco = make_video(first, layout="coco17", joints=17)
    two_videos.write_video(*coco)
    write_both(two_videos)
    two_videos.write_features(NAMES, [feature_rows(two_videos, first, layout="coco17")])
    assert two_videos.read_features(first).num_rows == 40  # both layouts
    two_videos.write_video(*make_video(first, frames=12, seed=5))
    assert two_videos.read_features(first, layout="blazepose33").num_rows == 0
    assert two_videos.read_features(first, layout="coco17").num_rows == 20  # another layout's source
    assert two_videos.read_features(neighbour).num_rows == 8
    two_videos.write_video(make_video(neighbour)[0].replace(status="failed", reason="gone"))
    assert not two_videos.files("features", layout="blazepose33")


def test_features_of_a_rewritten_or_unknown_video_are_not_stored(two_videos):
    stale = feature_rows(two_videos, video_id("ab", 1))
    two_videos.write_video(*make_video(video_id("ab", 1)))  # a new extracted_at
    unknown = FeatureRows(video_id("ab", 9), "blazepose33", np.arange(3), np.zeros((3, 3)))
    assert two_videos.write_features(NAMES, [stale, unknown]) == []
    assert not two_videos.files("features", layout="blazepose33")
    fresh = feature_rows(two_videos, video_id("ab", 1))
    assert two_videos.write_features(NAMES, [fresh]) == [fresh]


def test_files_keep_exactly_the_current_feature_columns(two_videos):
    first, neighbour = video_id("ab", 1), video_id("ab", 2)
    write_both(two_videos)
    renamed = ("knee_angle", "hand_speed", "visibility_all")
    two_videos.write_features(renamed, [feature_rows(two_videos, first)])
    table = two_videos.read_features(neighbour)
    assert table.column_names == ["video_id", "layout", "frame_index", *renamed]
    assert table["visibility_all"].null_count == 8  # not computed for it yet: null, never stale


def test_malformed_features_are_refused(two_videos):
    rows = feature_rows(two_videos, video_id("ab", 1))
    with pytest.raises(ValueError, match="features must be"):
        two_videos.write_features(NAMES[:2], [rows])
    with pytest.raises(ValueError, match="frame indices repeat"):
        two_videos.write_features(NAMES, [FeatureRows(rows.video_id, rows.layout, np.zeros(20), rows.values)])
    with pytest.raises(ValueError, match="must be unique"):
        features_schema(["frame_index", "a"])
    with pytest.raises(ValueError, match="unique, non-empty"):
        two_videos.write_features([], [rows])
    assert not two_videos.files("features", layout="blazepose33")


def test_features_view_shows_committed_videos_only(two_videos):
    two_videos.write_video(*make_video(video_id("cd"), frames=6))
    two_videos.write_features(NAMES, [feature_rows(two_videos, video_id("ab", 1)),
                                      feature_rows(two_videos, video_id("cd"), frames=6)])
    counts = run_query(two_videos, "SELECT video_id, count(*) AS n, count(hand_speed) AS seen "
                                   "FROM features GROUP BY 1 ORDER BY 1").to_pylist()
    assert counts == [{"video_id": video_id("ab", 1), "n": 20, "seen": 15},
                      {"video_id": video_id("cd"), "n": 6, "seen": 4}]
    columns = describe_views(two_videos)["features"]
    assert columns[:4] == [("video_id", "VARCHAR"), ("layout", "VARCHAR"), ("frame_index", "INTEGER"),
                           ("knee_angle", "FLOAT")]
    uncommit(two_videos, video_id("cd"))  # as if that video's row had never been committed
    assert run_query(two_videos, "SELECT DISTINCT video_id FROM features")["video_id"].to_pylist() == [
        video_id("ab", 1)]


def test_a_store_without_features_has_an_empty_features_view(store):
    from posegraph.features import FEATURE_NAMES

    store.write_video(*make_video(video_id("ab")))
    assert run_query(store, "SELECT count(*) AS n FROM features")["n"].to_pylist() == [0]
    result = run_query(store, "SELECT * FROM features", feature_columns=FEATURE_NAMES)  # as the CLI asks
    assert result.column_names == ["video_id", "layout", "frame_index", *FEATURE_NAMES]
    # storage does not know the features: unnamed, the empty view has its keys alone
    assert run_query(store, "SELECT * FROM features").column_names == ["video_id", "layout", "frame_index"]
    assert result.num_rows == 0 and len(FEATURE_NAMES) == 83
    assert store.read_features(video_id("ab")).column_names == ["video_id", "layout", "frame_index"]
