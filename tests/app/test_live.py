"""The live session: events as frames arrive, the same answer as ``analyse`` at the end, gaps
filled on the source's clock, and the exercise changing only once the new answer holds."""

import numpy as np
import pytest

from posegraph.data.sources import resolve_source
from posegraph.app.analysis import Analyser, analyse
from posegraph.app.live import EVENT_TYPES, LiveSession, LiveSettings, announcement_delays


@pytest.fixture(scope="module")
def analyser(analysis_bundle):
    return Analyser.load(analysis_bundle)


def stored(store, label: str, split: str = "test"):
    rows = [row for row in store.videos().to_pylist() if row["split"] == split and row["label"] == label]
    return resolve_source(rows[0]["video_id"], store)


def feed(session: LiveSession, source, start_s: float = 0.0, keep=None) -> list[dict]:
    events = []
    for index, (joints, t_s) in enumerate(zip(source.joints, source.timestamps)):
        if keep is not None and not keep(index):
            continue
        seen = np.isfinite(joints[:, :2]).all(axis=1).any()
        events += session.update(joints if seen else None, float(t_s) + start_s, index)
    return events


def test_a_session_announces_each_repetition_and_ends_with_the_analyse_answer(analyser, synthetic_store):
    source = stored(synthetic_store, "squat")
    session = LiveSession(analyser, "squat", LiveSettings(fps=source.fps), frame_size=source.frame_size)
    events = feed(session, source)
    assert {event["type"] for event in events} <= set(EVENT_TYPES)
    assert all("t_s" in event and "lag_ms" in event for event in events)
    repetitions = [event for event in events if event["type"] == "repetition"]
    assert repetitions and [event["repetition"] for event in repetitions] == list(range(1, len(repetitions) + 1))
    for event in repetitions:
        assert event["start_s"] <= event["turn_s"] <= event["end_s"] <= event["t_s"] + 1e-6
    statuses = [event for event in events if event["type"] == "status"]
    assert len(statuses) >= int(source.timestamps[-1]) and statuses[-1]["count"] == len(repetitions)
    assert [event["t_s"] for event in events] == sorted(event["t_s"] for event in events)

    result = session.finish("the test ended")
    offline = analyse(analyser, source, "squat")[0].to_json()
    document = result.report.to_json()
    assert document["count"] == offline["count"] and document["exercise"] == offline["exercise"]
    assert document["repetitions"] == offline["repetitions"]
    live = document["live"]
    assert live["ended"] == "the test ended" and live["announced_live"] == len(repetitions)
    assert len(live["repetitions"]) == document["count"]
    for row in live["repetitions"]:
        assert row["announced"] in ("live", "at the end")
        assert row["late_s"] == pytest.approx(row["announced_s"] - row["end_s"], abs=2e-3)


def test_dropped_frames_are_filled_on_the_source_clock(analyser, synthetic_store):
    source = stored(synthetic_store, "jumping_jack")
    session = LiveSession(analyser, "gappy", LiveSettings(fps=source.fps), frame_size=source.frame_size)
    feed(session, source, keep=lambda index: not 20 <= index < 26)  # six frames dropped
    assert len(session.raw) == len(source.joints)
    assert np.allclose(np.diff(session.timestamps), 1.0 / source.fps, atol=1e-3)
    assert session.found[20:26] == [False] * 6
    document = session.finish("done").report.to_json()
    seen = source.seen.copy()
    seen[20:26] = False
    assert document["count"] >= 2 and document["live"]["frames"] == seen.sum()


def test_the_exercise_changes_only_when_the_new_answer_holds(analyser, synthetic_store, monkeypatch):
    from posegraph.gcn.answers import Answer

    answers = iter(["squat", "squat", "lunge", "squat", "lunge", "lunge", "lunge"])

    def scripted(sequence, top_k=5, reject=True):
        label = next(answers, "lunge")
        return Answer(label, False, [(label, 0.9)], 0.5)

    monkeypatch.setattr(analyser, "answer", scripted)
    source = stored(synthetic_store, "squat")
    settings = LiveSettings(fps=source.fps, classify_every_s=1.0, classify_window_s=2.0)
    session = LiveSession(analyser, "switch", settings, frame_size=source.frame_size)
    events = feed(session, source) + feed(session, source, start_s=float(source.timestamps[-1]) + 1 / source.fps)
    changes = [(event["previous"], event["exercise"]) for event in events if event["type"] == "exercise"]
    assert changes == [(None, "squat"), ("squat", "lunge")]  # the lone "lunge" between squats said nothing


def test_a_session_that_never_saw_anyone_has_no_document_and_says_why(analyser):
    session = LiveSession(analyser, "empty")
    for index in range(40):
        session.update(None, index / 16)
    result = session.finish("the stream stopped")
    assert result.report is None and "no person seen in 40 frames" in result.error


def test_announcements_are_matched_to_the_final_repetitions_once_each():
    from types import SimpleNamespace

    repetitions = [SimpleNamespace(repetition=1, start_s=0.0, turn_s=1.0, end_s=2.0),
                   SimpleNamespace(repetition=2, start_s=2.0, turn_s=3.0, end_s=4.0)]
    rows = announcement_delays(repetitions, [(1.1, 2.3)], end_s=5.0)
    assert rows[0].announced == "live" and rows[0].late_s == pytest.approx(0.3)
    assert rows[1].announced == "at the end" and rows[1].late_s == pytest.approx(1.0)


def test_a_claimed_gap_costs_bounded_work_and_a_bad_time_is_refused_without_harm(analyser, synthetic_store):
    """A gap is filled on the source's clock up to ``max_gap_fill_s``: a session's state grows by a
    bounded number of frames whatever gap a source claims; a time that is not finite or goes back
    is refused in words and the session goes on."""
    from posegraph.skeleton.frame_input import FrameTimeError

    source = stored(synthetic_store, "squat")
    settings = LiveSettings(fps=source.fps, max_gap_fill_s=2.0)
    session = LiveSession(analyser, "gaps", settings, frame_size=source.frame_size)
    joints = source.joints[0]
    session.update(joints, 0.0, 0)
    session.update(joints, 50.0, 1)  # a 50 s gap: 2 s of unseen frames, not 50
    assert len(session.raw) <= 2 + int(settings.max_gap_fill_s * source.fps)
    for bad in (float("nan"), float("inf"), 10.0):
        with pytest.raises(FrameTimeError, match="dropped"):
            session.update(joints, bad, 2)
    frames = len(session.raw)
    session.update(joints, 50.0 + 1 / source.fps, 3)
    assert len(session.raw) == frames + 1 and session.timestamps[-1] == pytest.approx(50.0 + 1 / source.fps)
