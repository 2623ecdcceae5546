"""``posegraph live`` on a real clip (the same answer as ``analyse``), over a real UDP stream sent by
ffmpeg, and on sources that fail: one clear line, and the report of what was seen."""

import json
import shutil
import socket
import subprocess
import time

import pytest

from posegraph.flows.cli import main

from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared"

SQUAT = SHARED / "testdata" / "reps" / "workouttracker" / "data" / "raw" / "squats" / "squat_17.mp4"
FFMPEG = shutil.which("ffmpeg")
needs_clip = pytest.mark.skipif(not SQUAT.exists(), reason=f"{SQUAT} not found (../shared/testdata/reps)")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="no ffmpeg here (apt-get install ffmpeg)")


def events_of(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@needs_clip
def test_live_on_a_real_clip_prints_events_and_reports_what_analyse_reports(analysis_bundle, tmp_path, capsys):
    out = tmp_path / "live"
    assert main(["live", "--bundle", str(analysis_bundle), "--source", str(SQUAT), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    events = events_of(captured.out)
    assert {event["type"] for event in events[:-1]} <= {"exercise", "repetition", "cue", "status"}
    assert all(isinstance(event["t_s"], float) for event in events[:-1])
    end = events[-1]
    assert end["type"] == "end" and "the file ended" in end["ended"]
    document = json.loads((out / "squat_17" / "analysis.json").read_text())
    assert (out / "squat_17" / "report.html").is_file() and document["count"] == end["count"]
    assert main(["analyse", str(SQUAT), "--bundle", str(analysis_bundle), "--json"]) == 0
    offline = json.loads(capsys.readouterr().out)
    assert document["exercise"] == offline["exercise"] and document["count"] == offline["count"]
    assert document["repetitions"] == offline["repetitions"]
    assert len(document["live"]["repetitions"]) == document["count"]
    repetitions = [event for event in events if event["type"] == "repetition"]
    assert [event["count"] for event in repetitions] == list(range(1, len(repetitions) + 1))


@needs_clip
@needs_ffmpeg
def test_live_reads_a_udp_stream_that_ffmpeg_sends_and_ends_when_it_stops(analysis_bundle, tmp_path, capsys):
    port = free_udp_port()
    sender = subprocess.Popen([FFMPEG, "-loglevel", "error", "-re", "-i", str(SQUAT), "-an", "-c:v", "mpeg2video",
                               "-q:v", "4", "-f", "mpegts", f"udp://127.0.0.1:{port}?pkt_size=1316"])
    try:
        started = time.monotonic()
        code = main(["live", "--bundle", str(analysis_bundle), "--source", f"udp://127.0.0.1:{port}",
                     "--stall-s", "2", "--out", str(tmp_path / "out"), "--record", str(tmp_path / "annotated.mp4")])
        elapsed = time.monotonic() - started
    finally:
        sender.wait(timeout=30)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    events = events_of(captured.out)
    end = events[-1]
    assert end["type"] == "end" and ("stalled" in end["ended"] or "stopped" in end["ended"])
    assert any(event["type"] == "status" for event in events) and end["count"] >= 1
    assert elapsed >= 3.0  # the clip is 4.4 s, sent at its own rate
    assert "stream-127-0-0-1" in end["files"]["json"] and (tmp_path / "annotated.mp4").stat().st_size > 0
    assert "posegraph live:" in captured.err and "repetitions" in captured.err


@needs_ffmpeg
def test_a_stream_of_garbage_ends_with_one_clear_line(analysis_bundle, capsys):
    port = free_udp_port()
    noise = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send_noise():
        for _ in range(200):
            noise.sendto(bytes(range(256)) * 4, ("127.0.0.1", port))
            time.sleep(0.01)

    import threading

    thread = threading.Thread(target=send_noise, daemon=True)
    thread.start()
    code = main(["live", "--bundle", str(analysis_bundle), "--source", f"udp://127.0.0.1:{port}", "--stall-s", "2"])
    thread.join()
    noise.close()
    captured = capsys.readouterr()
    assert code == 1
    end = events_of(captured.out)[-1]
    assert end["type"] == "end" and end["ended"].startswith(f"udp://127.0.0.1:{port}")
    assert "nothing to report" in captured.err


def test_a_missing_file_or_no_source_is_one_line(analysis_bundle, tmp_path, capsys):
    assert main(["live", "--bundle", str(analysis_bundle), "--source", str(tmp_path / "gone.mp4")]) == 2
    assert "gone.mp4: no such file" in capsys.readouterr().err
    assert main(["live", "--bundle", str(analysis_bundle)]) == 2
    assert "--source" in capsys.readouterr().err
