"""The corpus browser's logic through Streamlit's own testing API (AppTest): the videos table and
its filters, one video's page, the SQL box (its refusals, through ``posegraph query``'s path), and
the runs and analyses page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from posegraph.data import SkeletonStore
from posegraph.data.browse import VideoFilter, filter_videos, overlay_video, video_table

APP = Path(__file__).resolve().parents[2] / "flows" / "ui_app.py"


@pytest.fixture(scope="module")
def ui_store(tmp_path_factory) -> SkeletonStore:
    """Two subjects x six exercises of the synthetic corpus, one failed video, counted repetitions."""
    from posegraph.data.synthetic import generate_corpus, store_records

    store = SkeletonStore(tmp_path_factory.mktemp("ui") / "store")
    records = store_records(generate_corpus(subjects=2, takes=1, seed=5, repetitions=2))
    failed = records[0][0].replace(video_id="f" * 64, status="failed", source_path="/corpus/broken.mp4",
                                   reason="/corpus/broken.mp4: no frame could be decoded")
    store.write_videos(records + [(failed, None)])
    return store


@pytest.fixture
def app(ui_store, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    run = tmp_path / "runs" / "stgcn-test"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text(yaml.safe_dump({"model": "stgcn", "layout": "blazepose33"}))
    (run / "history.json").write_text(json.dumps([{"epoch": 1, "train_accuracy": 0.5, "val_accuracy": 0.6},
                                                  {"epoch": 2, "train_accuracy": 0.7, "val_accuracy": 0.8}]))
    (run / "metrics-test.json").write_text(json.dumps({"top1_accuracy": 0.75, "macro_f1": 0.7, "samples": 4,
                                                       "class_names": ["squat", "lunge"],
                                                       "confusion_matrix": [[2, 0], [1, 1]]}))
    monkeypatch.setenv("POSEGRAPH_UI_STORE", str(ui_store.root))
    monkeypatch.setenv("POSEGRAPH_UI_RUNS", str(tmp_path / "runs"))
    test = AppTest.from_file(str(APP), default_timeout=120)
    test.run()
    assert not test.exception, test.exception
    return test


def _page(app, name: str):
    app.sidebar.radio(key="page").set_value(name).run()
    assert not app.exception, app.exception
    return app


def test_videos_table_and_filters(app, ui_store):
    everything = video_table(ui_store).num_rows
    table = app.dataframe[0].value
    assert len(table) == everything == 13
    charts = [str(item.proto) for item in app.get("vega_lite_chart")]
    assert any("videos per label" in chart for chart in charts) and any("detection rate" in chart for chart in charts)
    app.multiselect(key="f_label").set_value(["squat"]).run()
    squats = app.dataframe[0].value
    assert 0 < len(squats) < everything and set(squats["label"]) == {"squat"}
    app.multiselect(key="f_status").set_value(["failed"]).run()
    failed = app.dataframe[0].value
    assert list(failed["reason"]) == ["/corpus/broken.mp4: no frame could be decoded"]
    assert app.dataframe[1].value.iloc[0]["reason"] == "failed: no frame could be decoded"
    app.multiselect(key="f_label").set_value([]).run()
    app.multiselect(key="f_status").set_value([]).run()
    app.slider(key="f_detection").set_value((0.5, 1.0)).run()
    assert len(app.dataframe[0].value) == everything - 1  # the failed one has rate 0


def test_filter_function_ranges_and_text(ui_store):
    table = video_table(ui_store)
    first = table["video_id"][0].as_py()
    assert filter_videos(table, VideoFilter(text=first[:10].upper()))["video_id"].to_pylist() == [first]
    assert filter_videos(table, VideoFilter(duration_s=(1e9, None))).num_rows == 0
    assert filter_videos(table, VideoFilter(subjects=("nobody",))).num_rows == 0


def test_open_one_video_from_the_table(app, ui_store):
    choice = app.selectbox(key="open_video").value
    app.button(key="open_button").click().run()
    assert not app.exception, app.exception
    assert app.sidebar.radio(key="page").value == "Video"
    assert app.selectbox(key="video").value == choice
    assert len(app.get("video")) == 1  # the overlay, played in the page
    assert app.multiselect(key="features").value  # the default features drawn
    assert any("features" in str(item.proto) and "time_s" in str(item.proto) for item in app.get("vega_lite_chart"))
    app.slider(key="t").set_value(1.0).run()
    assert not app.exception
    row = next(item for item in ui_store.video_rows(choice))
    cached = overlay_video(ui_store, choice, row["layout"])
    assert cached.suffix == ".webm" and cached.parent == ui_store.root / "_cache" / "overlays"


@pytest.mark.parametrize("sql, message", [
    ("DELETE FROM videos", "SELECT"),
    ("SELECT * FROM read_csv('/etc/passwd')", "may only read the store"),
    ("SELECT nothing FROM videos", "nothing"),
])
def test_sql_box_refuses_what_posegraph_query_refuses(app, sql, message):
    _page(app, "SQL")
    app.text_area(key="sql").input(sql)
    app.button(key="run_sql").click().run()
    assert not app.exception, app.exception
    assert app.error and message in app.error[0].value


def test_sql_box_result_chart_and_download(app):
    _page(app, "SQL")
    app.text_area(key="sql").input("SELECT label, count(*) AS videos FROM videos GROUP BY label ORDER BY label")
    app.button(key="run_sql").click().run()
    assert not app.error
    result = app.dataframe[0].value
    assert len(result) == 6 and list(result.columns) == ["label", "videos"]
    assert any("videos" in str(item.proto) for item in app.get("vega_lite_chart"))  # the chart of it
    assert app.get("download_button")


def test_runs_and_analyses_page(app):
    _page(app, "Runs & analyses")
    runs = app.dataframe[-1].value
    assert list(runs["run"]) == ["stgcn-test"] and runs.iloc[0]["test top-1"] == 0.75
    assert runs.iloc[0]["best val accuracy"] == 0.8
    charts = [str(item.proto) for item in app.get("vega_lite_chart")]
    assert any("confusion (test)" in chart and "rect" in chart for chart in charts)  # the confusion matrix
    assert any("val_accuracy" in chart for chart in charts)  # the history


def test_data_quality_page(app):
    _page(app, "Data quality")
    app.button(key="profile").click().run()
    assert any("Data quality" in item.value for item in app.markdown)


def test_ui_command_refuses_a_missing_store(tmp_path, capsys):
    from posegraph.flows.cli import main

    assert main(["ui", "--store", str(tmp_path / "nothing")]) == 2
    assert "no skeleton store" in capsys.readouterr().err
