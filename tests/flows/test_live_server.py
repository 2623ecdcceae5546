"""``posegraph live --serve`` against hostile clients: a real server on a loopback port, real
WebSocket clients (the ``websockets`` package, installed with Prefect). Every hostile message gets
an answer within a second and the same session then handles a good frame; clients beyond
``--max-sessions`` are refused with a reason; an idle session is closed and its report written;
SIGTERM ends the server within 5 s with every open session's report written."""

import functools
import json
import math
import os
import signal
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.flows.browser import free_port

websockets = pytest.importorskip("websockets.sync.client", reason="the websockets package (comes with Prefect)")
from websockets.exceptions import ConnectionClosed  # noqa: E402

MAX_SESSIONS, STALL_S = 2, 4.0
SQUAT = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "reps" / "workouttracker" / "data" / "raw" \
    / "squats" / "squat_17.mp4"
pytestmark = pytest.mark.skipif(not SQUAT.exists(), reason=f"{SQUAT} not found (../shared/testdata/reps): a "
                                                           f"session's report needs a person in its frames")


@functools.cache
def _jpegs() -> tuple[bytes, ...]:
    """Every 4th frame of a real squat clip (a person BlazePose finds), as the page sends them: JPEGs."""
    capture, frames = cv2.VideoCapture(str(SQUAT)), []
    while (read := capture.read())[0]:
        image = read[1]
        frames.append(cv2.imencode(".jpg", cv2.resize(image, (320, int(320 * image.shape[0] / image.shape[1]))))[1])
    capture.release()
    return tuple(frame.tobytes() for frame in frames[::4])


def _jpeg(number: int = 0) -> bytes:
    return _jpegs()[number % len(_jpegs())]


def _frame(t_s: float, image: bytes | None = None) -> bytes:
    return struct.pack("<d", t_s) + (image if image is not None else _jpeg(int(t_s * 8) if t_s < 100 else 0))


def _huge_header() -> bytes:
    data = bytearray(_jpeg())
    at = data.find(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", 20000, 20000)
    return bytes(data)


@pytest.fixture
def server(analysis_bundle, tmp_path):
    port, out, log = free_port(), tmp_path / "reports", tmp_path / "server.log"
    with open(log, "w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "posegraph.flows.cli", "live", "--serve", "--bundle",
                                    str(analysis_bundle), "--port", str(port), "--out", str(out),
                                    "--max-sessions", str(MAX_SESSIONS), "--stall-s", str(STALL_S)],
                                   stderr=stderr, start_new_session=True)
    url = f"ws://127.0.0.1:{port}/ws"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()  # the page, not a session
            break
        except OSError:
            assert time.monotonic() < deadline and process.poll() is None, log.read_text()
            time.sleep(0.3)
    yield url, process, out, log
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _answer(client, message, within_s: float = 1.0) -> dict:
    started = time.monotonic()
    client.send(message)
    reply = json.loads(client.recv(timeout=within_s))
    return {**reply, "answered_s": time.monotonic() - started}


def _hello(client) -> dict:
    hello = json.loads(client.recv(timeout=10))
    assert hello["type"] == "hello" and hello["limits"]["max_sessions"] == MAX_SESSIONS
    return hello


def _greeting(client) -> tuple:
    """``("hello", message)`` for a served client, ``("closed", code, reason)`` for a refused one."""
    try:
        return "hello", json.loads(client.recv(timeout=10))
    except ConnectionClosed as closed:
        return "closed", closed.rcvd.code, closed.rcvd.reason


def _closed(client, within_s: float) -> tuple[int, str, list[dict]]:
    """Wait for the server to close: its close code and reason, and the messages before it."""
    messages = []
    try:
        while True:
            messages.append(json.loads(client.recv(timeout=within_s)))
    except ConnectionClosed as closed:
        return closed.rcvd.code, closed.rcvd.reason, messages


def test_hostile_clients_get_answers_the_server_stays_bounded_and_stops_in_time(server):
    url, process, out, log = server
    first = websockets.connect(url)
    _hello(first)
    hostile = {"a time of 1e300": _frame(1e300), "a NaN time as the first frame": _frame(math.nan),
               "an infinite time": _frame(math.inf), "a short frame": b"\x01\x02\x03",
               "random bytes": bytes(np.random.default_rng(3).integers(0, 256, 500, dtype=np.uint8)),
               "a 20000 x 20000 header": _frame(0.05, _huge_header()), "a text message": "hello?",
               "a frame that is not an image": _frame(0.05, b"GIF89a" + b"\x00" * 40)}
    for what, message in hostile.items():
        reply = _answer(first, message)
        assert reply["type"] == "error" and reply["answered_s"] < 1.0, (what, reply)
        assert "Traceback" not in reply["error"] and "convert float" not in reply["error"], (what, reply)
    good = _answer(first, _frame(0.1), within_s=60)  # the first good frame starts BlazePose
    assert good["type"] == "frame" and good["frames"] == 1, good
    for what, message in {"a backwards time": _frame(0.05), "1e300 mid-session": _frame(1e300),
                          "NaN mid-session": _frame(math.nan)}.items():
        reply = _answer(first, message)
        assert reply["type"] == "error" and reply["answered_s"] < 1.0, (what, reply)
        assert "dropped" in reply["error"] and "convert" not in reply["error"], (what, reply)
    after = _answer(first, _frame(0.2), within_s=10)
    assert after["type"] == "frame" and after["frames"] == 2, after

    # 3 x --max-sessions clients at once: the first are served, the rest refused with a reason
    others = [websockets.connect(url) for _ in range(3 * MAX_SESSIONS - 1)]
    greetings = [_greeting(client) for client in others]
    served = [client for client, greeting in zip(others, greetings) if greeting[0] == "hello"]
    refusals = [greeting[1:] for greeting in greetings if greeting[0] == "closed"]
    assert len(served) == MAX_SESSIONS - 1 and len(refusals) == 2 * MAX_SESSIONS, greetings
    for code, reason in refusals:
        assert code == 1013 and "full" in reason and f"{MAX_SESSIONS} sessions" in reason, (code, reason)
    second = served[0]
    assert _answer(second, _frame(0.1), within_s=60)["type"] == "frame"
    assert _answer(first, _frame(0.3), within_s=10)["type"] == "frame"  # the running sessions are untouched

    # an idle session is closed after --stall-s, with its report; the busy one goes on
    t_s, idle_since = 0.3, time.monotonic()
    while True:
        t_s += 0.5
        assert _answer(first, _frame(t_s), within_s=10)["type"] == "frame"
        try:
            code, reason, messages = _closed(second, 0.5)
            break
        except TimeoutError:
            assert time.monotonic() - idle_since < STALL_S + 10, "the idle session was never closed"
    assert code == 1000 and f"no frame arrived for {STALL_S:g} s" in reason
    assert STALL_S - 0.5 <= time.monotonic() - idle_since
    assert messages and messages[-1]["type"] == "end" and messages[-1]["frames_refused"] == 0

    # SIGTERM while a session is open: out within 5 s, and that session's report written
    stopped_at = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    assert time.monotonic() - stopped_at < 5.0, log.read_text()
    code, reason, messages = _closed(first, 5)
    assert code in (1001, 1012) and messages and messages[-1]["type"] == "end", (code, reason, messages)
    end = messages[-1]
    assert end["frames_refused"] == 11 and end["frames_abandoned"] == 0
    reports = {path.parent.name: json.loads(path.read_text()) for path in Path(out).glob("*/analysis.json")}
    assert set(reports) == {"browser-1", "browser-2"}, (sorted(reports), log.read_text())
    assert reports["browser-1"]["live"]["frames_refused"] == 11
    assert reports["browser-1"]["live"]["processing"]["frames"] >= 4  # the frame loop's timings reach the report
    assert "the server is shutting down" in reports["browser-1"]["live"]["ended"]
