import json

import pyarrow.parquet as pq
import pytest

from posegraph.data import ReadOnlyQueryError
from posegraph.data.export import format_table, write_result
from posegraph.data.query import describe_views, run_query
from posegraph.skeleton import get_layout
from tests.conftest import make_video, uncommit, video_id


@pytest.fixture
def filled(store):
    store.write_videos([make_video(video_id("ab"), frames=10),
                        make_video(video_id("cd"), frames=6, layout="openpose18", joints=18,
                                   people=2, label="lunge")])
    return store


def test_views_and_their_columns(filled):
    views = describe_views(filled)
    assert set(views) == {"videos", "frames", "joints", "features", "scores", "repetitions", "phases", "analyses",
                          "analysis_repetitions", "analysis_sets"}
    assert {"exercise", "repetition_count", "document"} <= dict(views["analyses"]).keys()
    assert {"set_number", "depth", "worst_joint"} <= dict(views["analysis_repetitions"]).keys()
    frames = dict(views["frames"])
    assert frames["x"] == "FLOAT[]" and frames["layout"] == "VARCHAR"
    assert {"joint_name", "joint_index", "visibility"} <= dict(views["joints"]).keys()
    assert "bucket" not in dict(views["videos"])


def test_joints_is_the_long_form_of_frames(filled):
    counts = run_query(filled, "SELECT layout, count(*) AS n FROM joints GROUP BY 1 ORDER BY 1").to_pylist()
    frames = run_query(filled, "SELECT layout, count(*) AS n FROM frames GROUP BY 1 ORDER BY 1").to_pylist()
    assert [row["n"] for row in counts] == [frames[0]["n"] * 33, frames[1]["n"] * 18]
    row = run_query(filled, "SELECT j.joint_name, j.x, f.x[12] AS expected FROM joints j JOIN frames f "
                            "USING (video_id, frame_index, person, layout) "
                            "WHERE j.layout = 'blazepose33' AND j.joint_index = 11 AND f.detected LIMIT 1").to_pylist()[0]
    assert row["joint_name"] == get_layout("blazepose33").joint_names[11] == "left_shoulder"
    assert row["x"] == row["expected"]


def test_frames_without_a_videos_row_are_hidden(filled):
    uncommit(filled, video_id("cd"))  # as if the writer died before committing the row
    layouts = run_query(filled, "SELECT DISTINCT layout FROM frames").column("layout").to_pylist()
    assert layouts == ["blazepose33"]


@pytest.mark.parametrize("sql, kind", [
    ("COPY (SELECT * FROM videos) TO '{root}/stolen.csv'", "COPY"),
    ("ATTACH '{root}/other.duckdb' AS other", "ATTACH"),
    ("CREATE TABLE t AS SELECT 1", "CREATE"),
    ("INSTALL httpfs", "LOAD"),
    ("SET enable_external_access = true", "SET"),
    ("SELECT 1; DROP VIEW videos", "DROP"),
])
def test_writing_statements_are_refused(filled, sql, kind):
    with pytest.raises(ReadOnlyQueryError, match=f"statement of type {kind}"):
        run_query(filled, sql.format(root=filled.root))
    assert not (filled.root / "stolen.csv").exists() and not (filled.root / "other.duckdb").exists()


def test_reading_outside_the_store_is_refused(filled, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text("a\n1\n")
    with pytest.raises(ReadOnlyQueryError, match="may only read the store"):
        run_query(filled, f"SELECT * FROM read_csv('{outside}')")


def test_empty_store_has_the_views(store):
    assert run_query(store, "SELECT count(*) AS n FROM joints")["n"][0].as_py() == 0
    assert "video_id" in dict(describe_views(store)["videos"])


def test_result_formats(filled, tmp_path, capsys):
    result = run_query(filled, "SELECT video_id, layout, x FROM frames ORDER BY layout LIMIT 2")
    write_result(result, "csv", tmp_path / "out.csv")
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0] == '"video_id","layout","x"' and len(lines) == 3
    assert len(json.loads(json.loads(lines[1].split(",", 2)[2]))) == 33
    write_result(result, "json", tmp_path / "out.json")
    assert json.loads((tmp_path / "out.json").read_text())[0]["layout"] == "blazepose33"
    write_result(result, "parquet", tmp_path / "out.parquet")
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 2
    text = format_table(result)
    assert "… 33 values]" in text and text.endswith("(2 rows)")
    with pytest.raises(ValueError, match="needs --out"):
        write_result(result, "parquet")


def test_every_query_is_bounded_in_time_and_memory(filled):
    from posegraph.data import StoreError

    with pytest.raises(StoreError, match="ran past its time limit of 0.5 s"):
        run_query(filled, "SELECT count(*) FROM range(1000000000000) a, range(1000) b", timeout_s=0.5)
    with pytest.raises(StoreError, match="more than its memory limit of 50MB"):
        run_query(filled, "SELECT list(range) FROM range(100000000)", memory_limit="50MB")
    with pytest.raises(StoreError, match="--memory-limit 'lots'"):
        run_query(filled, "SELECT 1", memory_limit="lots")


def test_one_statement_and_no_duckdb_temporary_folder(filled, tmp_path, monkeypatch):
    with pytest.raises(ReadOnlyQueryError, match="one statement per query; this one has 2"):
        run_query(filled, "SELECT 1; SELECT 2")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".tmp").mkdir()
    (tmp_path / ".tmp" / "secret.csv").write_text("a\n1\n")
    with pytest.raises(ReadOnlyQueryError, match="may only read the store"):
        run_query(filled, "SELECT * FROM read_csv('.tmp/secret.csv')")


def test_undetected_values_are_null_so_aggregates_work(filled):
    rows = run_query(filled, "SELECT joint_name, avg(visibility) AS v FROM joints WHERE layout = 'blazepose33' "
                             "GROUP BY 1").to_pylist()
    assert len(rows) == 33 and all(row["v"] is not None and row["v"] == row["v"] for row in rows)
    nulls = run_query(filled, "SELECT count(*) AS n FROM joints WHERE visibility IS NULL").column("n")[0].as_py()
    assert nulls > 0  # the frames nobody was seen in


def test_joints_by_name_subject_and_column_notes(store):
    from posegraph.data.query import column_note

    store.write_video(*make_video(video_id("ef"), frames=8))
    by_name = run_query(store, "SELECT joint(y, 'left_knee') AS knee, y[26] AS by_position, joint_at(y, 25) AS at, "
                               "joint(y, layout, 'left_knee') AS knee3 FROM frames WHERE detected").to_pylist()
    assert get_layout("blazepose33").joint_names[25] == "left_knee"
    assert all(row["knee"] == row["by_position"] == row["knee3"] == row["at"] for row in by_name)
    # one convention: the joints view's joint_index reads the frames lists through joint_at
    mismatches = run_query(store, "SELECT count(*) AS n FROM joints AS j JOIN frames AS f USING (video_id, frame_index, person) "
                                  "WHERE j.y IS DISTINCT FROM joint_at(f.y, j.joint_index)").column("n")[0].as_py()
    assert mismatches == 0
    assert run_query(store, "SELECT subject FROM videos").column("subject").to_pylist() == ["s01"]
    assert "y points down" in column_note("frames", "y") and "source video" in column_note("frames", "frame_index")


def test_out_may_not_point_inside_the_store(filled, tmp_path, capsys):
    from posegraph.flows.cli import main

    target = filled.files("videos")[0].path
    assert main(["query", "SELECT 1 AS a", "--store", str(filled.root), "--format", "csv", "--out", str(target)]) == 2
    assert "is inside the store" in capsys.readouterr().err
    assert main(["query", "SELECT 1 AS a", "--store", str(filled.root), "--format", "csv",
                 "--out", str(tmp_path / "a.csv")]) == 0
