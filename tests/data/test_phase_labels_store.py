import pytest

from posegraph.data import VideoNotFoundError
from posegraph.data.phase_csv import import_phases, scheme_of
from posegraph.data.query import run_query
from posegraph.data.records import PhaseRows
from posegraph.flows.cli import main
from tests.conftest import make_video, video_id


def test_phase_labels_round_trip_and_replace_per_scheme(store):
    store.write_video(*make_video(video_id("a")))
    store.write_phases([PhaseRows(video_id("a"), "repetitions", [(2, 9, "repetition"), (10, 18, "repetition")]),
                        PhaseRows(video_id("a"), "end", [(0, 7, "within"), (8, 9, "end")])])
    assert store.read_phases(video_id("a"), "repetitions").select(["first_frame", "last_frame"]).to_pylist() == [
        {"first_frame": 2, "last_frame": 9}, {"first_frame": 10, "last_frame": 18}]
    store.write_phases([PhaseRows(video_id("a"), "repetitions", [(3, 9, "repetition")])])
    table = store.read_phases(video_id("a"))
    assert sorted(zip(table["scheme"].to_pylist(), table["first_frame"].to_pylist())) == [
        ("end", 0), ("end", 8), ("repetitions", 3)]  # the other scheme is untouched
    store.write_video(*make_video(video_id("a"), seed=5))  # re-extraction keeps hand-made labels
    assert store.read_phases(video_id("a"), "repetitions").num_rows == 1
    assert run_query(store, "SELECT count(*) AS n FROM phases").column("n")[0].as_py() == 3


def test_labels_for_an_unknown_video_or_scheme_are_refused(store):
    with pytest.raises(VideoNotFoundError, match="not in the store"):
        store.write_phases([PhaseRows(video_id("b"), "end", [(0, 3, "end")])])
    store.write_video(*make_video(video_id("b")))
    with pytest.raises(ValueError, match="unknown phase scheme"):
        store.write_phases([PhaseRows(video_id("b"), "thirds", [(0, 3, "end")])])


def test_scheme_is_read_off_the_phases():
    assert scheme_of({"repetition"}) == "repetitions"
    assert scheme_of({"within", "end"}) == "end"
    assert scheme_of({"middle", "end"}) == "middle_end"
    assert scheme_of({"first", "second"}) == "halves"
    assert scheme_of({"first", "end"}) is None


def test_csv_import_reports_bad_rows_by_line_and_stores_the_rest(store, tmp_path):
    info, skeletons = make_video(video_id("c"))
    store.write_video(info.replace(source_path="/corpus/squat/set_01.mp4"), skeletons)
    store.write_video(*make_video(video_id("d")))
    labels = tmp_path / "phases.csv"
    labels.write_text(
        "video,first_frame,last_frame,phase\n"
        "set_01.mp4,0,9,repetition\n"          # by file name
        "set_01.mp4,10,19,repetition\n"
        f"{video_id('d')[:8]},0,5,within\n"     # by id prefix: scheme end read off the phases
        f"{video_id('d')[:8]},6,7,end\n"
        "nobody.mp4,0,3,repetition\n"          # line 6: unknown video
        "set_01.mp4,9,2,repetition\n"          # line 7: not a range
        "set_01.mp4,1\n")                      # line 8: too few fields
    report = import_phases(store, [labels])
    assert sorted(report.stored) == [(video_id("c"), "repetitions"), (video_id("d"), "end")]
    assert [problem.split(": ", 1)[0] for problem in report.problems] == [
        f"{labels}:6", f"{labels}:7", f"{labels}:8"]
    assert "no stored video is called 'nobody.mp4'" in report.problems[0]
    assert store.read_phases(video_id("c"), "repetitions").num_rows == 2
    assert store.read_phases(video_id("d"), "end")["phase"].to_pylist() == ["within", "end"]


def test_the_import_command(store, tmp_path, capsys):
    store.write_video(*make_video(video_id("e")))
    labels = tmp_path / "labels.csv"
    labels.write_text(f"video,first_frame,last_frame,phase,scheme\n{video_id('e')},0,9,first,halves\n"
                      f"{video_id('e')},10,19,second,halves\n{video_id('e')},0,1,middle,halves\n")
    assert main(["import", "phases", str(labels), "--store", str(store.root)]) == 1
    captured = capsys.readouterr()
    assert "stored phase labels of 1 videos (halves)" in captured.out
    assert f"{labels}:4: phase 'middle' is not one of scheme halves's" in captured.err
