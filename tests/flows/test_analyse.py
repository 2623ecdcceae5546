"""``posegraph bundle build`` and ``posegraph analyse``: the whole answer per video, its JSON, its
HTML report, and bad input as one line while the other videos go on."""

import json
import re

import numpy as np
import pytest

from posegraph.flows.cli import main


@pytest.fixture(scope="module")
def bundle(analysis_bundle):
    return analysis_bundle


def test_the_bundle_holds_the_classifier_and_one_reference_per_exercise(bundle):
    from posegraph.app.analysis_bundle import load_bundle

    loaded = load_bundle(bundle)
    assert loaded.classifier.name == "classifier.pt" and loaded.layout == "blazepose33"
    assert set(loaded.exercises) == {"biceps_curl", "jumping_jack", "lateral_raise", "lunge", "push_up", "squat"}
    squat = loaded.exercises["squat"]
    assert (bundle / squat.reference).is_file() and squat.range_of_motion.travel > 0
    assert loaded.reference("squat").exercise == "squat"


def test_analyse_prints_the_documented_json_and_writes_the_report(bundle, synthetic_store, tmp_path, capsys):
    rows = [row for row in synthetic_store.videos().to_pylist() if row["split"] == "test" and row["label"] == "squat"]
    video = rows[0]["video_id"]
    out = tmp_path / "out"
    assert main(["analyse", video[:12], "--store", str(synthetic_store.root), "--bundle", str(bundle), "--json",
                 "--out", str(out), "--video-format", "none"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["schema"] == "posegraph-analysis/1"
    assert {"exercise", "muscles", "sets", "repetitions", "cues"} <= set(document)
    assert document["exercise"]["top"][0]["class"] in {"squat", "lunge"} and document["count"] >= 2
    for repetition in document["repetitions"]:
        assert repetition["start_s"] < repetition["end_s"] and 0 <= repetition["score"] <= 100
    assert document["sets"] and document["form"]["heatmap"]["joints"]
    page = (out / video[:16] / "report.html").read_text()
    assert f'{document["count"]} repetitions' in page and 'id="timeline"' in page and 'id="heatmap"' in page
    assert "<script" not in page and not re.search(r"(src|href)=\"https?:", page)  # opens without network
    assert json.loads((out / video[:16] / "analysis.json").read_text())["count"] == document["count"]


def test_a_bad_video_is_one_line_and_the_others_are_still_analysed(bundle, synthetic_store, tmp_path, capsys):
    video = synthetic_store.videos().to_pylist()[0]["video_id"]
    nobody = tmp_path / "nobody.npy"
    np.save(nobody, np.zeros((40, 33, 4), np.float32))  # all-zero rows: nobody seen
    code = main(["analyse", str(tmp_path / "missing.mp4"), str(nobody), video[:12], "--store",
                 str(synthetic_store.root), "--bundle", str(bundle)])
    captured = capsys.readouterr()
    assert code == 1
    errors = captured.err.strip().splitlines()
    assert any("missing.mp4: no such file" in line for line in errors)
    assert any("nobody.npy" in line and "no person detected" in line for line in errors)
    assert "repetitions" in captured.out and video[:12] in captured.out


def test_a_folder_that_is_not_a_bundle_says_how_to_make_one(tmp_path, capsys):
    assert main(["analyse", "x.mp4", "--bundle", str(tmp_path)]) == 2
    assert "posegraph bundle build" in capsys.readouterr().err


def test_the_overlay_captions_count_the_repetitions_done_and_say_the_cue_under_way():
    from posegraph.scoring.analysis_html import frame_notes

    from types import SimpleNamespace

    from posegraph.scoring.cues import Cue

    report = SimpleNamespace(repetitions=[SimpleNamespace(repetition=1, start_s=0.0, end_s=2.0),
                                          SimpleNamespace(repetition=2, start_s=2.0, end_s=4.0)],
                             cues=[Cue("rep 2: left knee furthest from good form (score 31) at 3.00 s", "joint", [2],
                                       ["left_knee"])])
    notes = frame_notes(report, np.array([0.5, 2.5, 4.5]))
    assert notes[0] == "reps 0/2"
    assert notes[1].startswith("reps 1/2  rep 2: left knee furthest") and len(notes[1]) <= len("reps 1/2  ") + 48
    assert notes[2] == "reps 2/2"


def test_the_batch_flow_writes_sql_tables_and_goes_on_past_a_failing_video(bundle, synthetic_store, tmp_path,
                                                                          monkeypatch, capsys):
    import posegraph.app.analysis as analysis
    from posegraph.data import SkeletonStore
    from posegraph.data.query import run_query

    from posegraph.data.synthetic import generate_corpus, store_records

    store = tmp_path / "store"  # a small corpus of its own: three subjects, one take each
    SkeletonStore(store).write_videos(store_records(generate_corpus(subjects=3, takes=1, seed=5, repetitions=3)))
    rows = [row for row in SkeletonStore(store).videos().to_pylist() if row["split"] == "test"]
    broken = rows[0]["video_id"]
    real = analysis.analyse

    def analyse_or_fail(analyser, source, name, reject=True):
        if source.video_id == broken:
            raise ValueError("a damaged skeleton")
        return real(analyser, source, name, reject)

    monkeypatch.setattr(analysis, "analyse", analyse_or_fail)
    monkeypatch.setattr("posegraph.flows.analysing.WRITE_EVERY", 5)  # several commits
    assert main(["analyse-store", "--store", str(store), "--bundle", str(bundle), "--quiet"]) == 1
    assert f"failed: {rows[0]['source_path']}: ValueError: a damaged skeleton" in capsys.readouterr().out
    videos = run_query(SkeletonStore(store), "SELECT video_id, exercise, repetition_count FROM analyses").to_pylist()
    total = len(SkeletonStore(store).videos())
    assert len(videos) == total - 1 and broken not in {row["video_id"] for row in videos}
    reps = run_query(SkeletonStore(store), "SELECT count(*) AS n FROM analysis_repetitions").to_pylist()[0]["n"]
    assert reps == sum(row["repetition_count"] for row in videos) > 0
    sets = run_query(SkeletonStore(store), "SELECT sum(repetition_count) AS n FROM analysis_sets").to_pylist()[0]["n"]
    assert sets == reps
    # run again, skipping what is analysed: only the broken one is tried (and fails again)
    assert main(["analyse-store", "--store", str(store), "--bundle", str(bundle), "--quiet", "--skip-analysed"]) == 1
    assert "0 of 1 videos analysed, 1 failed" in capsys.readouterr().out


def test_a_count_the_counters_disagree_on_is_reported_with_a_note_to_check_it(bundle):
    from posegraph.app.analysis import Analyser, analyse_source
    from posegraph.skeleton.source import SkeletonSource
    from tests.scoring.test_counting import synthetic, two_sets_with_lead_in

    analyser = Analyser.load(bundle)

    def analysed(joints: np.ndarray) -> dict:
        times = np.arange(len(joints)) / 30.0
        source = SkeletonSource(joints, "blazepose33", times, np.arange(len(joints)), 640, 480, None, 30.0, "file",
                                "synthetic")
        return analyse_source(analyser, source, "clip", reject=False).to_json()

    disputed = analysed(two_sets_with_lead_in("biceps_curl")[0])  # the 81 counters count 7 to 11 here
    assert disputed["count_agreement"] < 0.8
    assert [note for note in disputed["notes"] if note.startswith("count uncertain: ") and f"gave {disputed['count']}" in note]
    agreed = analysed(synthetic("squat", 6))
    assert agreed["count_agreement"] >= 0.8 and not [note for note in agreed["notes"] if "count uncertain" in note]
