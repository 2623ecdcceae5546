"""The typed analysis report: its JSON is the documented schema, read back it is the same record,
and another schema is refused in words."""

import json

import pytest

from posegraph.scoring.analysis_report import AnalysisReport, Announcement, LiveSection
from tests.flows.test_report_browser import document


def test_the_json_reads_back_as_the_same_report_and_writes_the_same_json():
    content = document()
    content["count_agreement"] = 0.9
    report = AnalysisReport.from_json(content)
    assert report.to_json() == content
    assert AnalysisReport.from_json(json.loads(json.dumps(report.to_json()))) == report
    assert report.exercise.closest.name == "squat" and report.repetitions[1].start_s == 2.0
    assert report.sets[0].count == 3 and report.form.heatmap.scores[0][2] is None and report.mean_score == 95.0


def test_a_live_section_and_files_ride_along_and_read_back():
    live = LiveSection(90, 100, 10, "the file ended", 3, (Announcement(1, 2.0, 2.4, 0.4, "live"),),
                       {"frames": 90}, frames_refused=2, frames_abandoned=0)
    report = AnalysisReport.from_json(document()).with_live(live).with_files({"json": "a/analysis.json"})
    content = report.to_json()
    assert content["live"]["repetitions"] == [{"repetition": 1, "end_s": 2.0, "announced_s": 2.4, "late_s": 0.4,
                                               "announced": "live"}]
    assert content["live"]["frames_refused"] == 2 and content["files"] == {"json": "a/analysis.json"}
    assert AnalysisReport.from_json(content).live == live
    assert "frames_refused" not in LiveSection(1, None, 0, "x", 0).to_json()  # only the server's sessions say it


def test_another_schema_is_refused_in_words():
    with pytest.raises(ValueError, match="schema 'posegraph-analysis/9'; this posegraph reads posegraph-analysis/1"):
        AnalysisReport.from_json({**document(), "schema": "posegraph-analysis/9"})
