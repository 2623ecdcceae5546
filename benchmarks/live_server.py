"""``posegraph live --serve`` under hostile clients (issue 40): answer times, memory, stopping time.

Starts a real server on a loopback port (with a bundle: ``--bundle``, or a one-epoch BiLSTM bundle
built here on the synthetic corpus) and measures, over real WebSockets:

- **hostile answers**: each hostile message (a time of 1e300, NaN, +inf, backwards; a short frame,
  random bytes, a 20000 x 20000 header, a text message) answered within how long, and whether the
  same session then handles a good frame;
- **one session's size**: the server's resident memory (RSS, with its children) before and after
  one session has analysed ``--frames`` real frames;
- **3 x --max-sessions clients at once**, each sending frames: how many are served and refused, and
  the server's memory against ``max_sessions x one session + 300 MB`` (the issue's bound);
- **SIGTERM to exit**, with every served session open and busy, and whether their reports were written.

Usage: ``python benchmarks/live_server.py [--bundle B] [--max-sessions 4] [--frames 40]``
(about a minute on 2 cores). Needs ``../shared/testdata/reps`` for the real frames.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import psutil

SQUAT = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "reps" / "workouttracker" / "data" / "raw" \
    / "squats" / "squat_17.mp4"


def real_jpegs() -> list[bytes]:
    capture, frames = cv2.VideoCapture(str(SQUAT)), []
    while (read := capture.read())[0]:
        image = read[1]
        frames.append(cv2.imencode(".jpg", cv2.resize(image, (320, int(320 * image.shape[0] / image.shape[1]))))[1]
                      .tobytes())
    capture.release()
    if not frames:
        raise SystemExit(f"{SQUAT}: no frames (../shared/testdata/reps is needed)")
    return frames


def frame(t_s: float, jpeg: bytes) -> bytes:
    return struct.pack("<d", t_s) + jpeg


def rss_mb(pid: int) -> float:
    process = psutil.Process(pid)
    return (process.memory_info().rss + sum(child.memory_info().rss for child in process.children(True))) / 2**20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def build_bundle(folder: Path) -> Path:
    from posegraph.data import SkeletonStore
    from posegraph.data.synthetic import generate_corpus, store_records
    from posegraph.flows.cli import main
    from posegraph.gcn.config import load_config
    from posegraph.gcn.training import train

    store = SkeletonStore(folder / "store")
    store.write_videos(store_records(generate_corpus(subjects=6, takes=2, seed=11, repetitions=3)))
    train(load_config(None, ["epochs=1"], model="bilstm"), store.root, folder / "run", progress=False,
          log=lambda _: None)
    main(["bundle", "build", "--classifier", str(folder / "run"), "--store", str(store.root), "--out",
          str(folder / "bundle"), "--split", "val"])
    return folder / "bundle"


def start_server(bundle: Path, out: Path, max_sessions: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "posegraph.flows.cli", "live", "--serve", "--bundle", str(bundle),
                                "--port", str(port), "--out", str(out), "--max-sessions", str(max_sessions),
                                "--stall-s", "30"], stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
            return process, f"ws://127.0.0.1:{port}/ws"
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("the live server did not start")
            time.sleep(0.3)


def hostile_answers(url: str, jpegs: list[bytes]) -> dict:
    from websockets.sync.client import connect

    huge = bytearray(jpegs[0])
    at = huge.find(b"\xff\xc0")
    huge[at + 5:at + 9] = struct.pack(">HH", 20000, 20000)
    messages = {"time 1e300": frame(1e300, jpegs[0]), "time NaN (first frame)": frame(math.nan, jpegs[0]),
                "time +inf": frame(math.inf, jpegs[0]), "short frame": b"\x00\x01",
                "random bytes": bytes(np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8)),
                "20000 x 20000 header": frame(0.05, bytes(huge)), "text message": "hello"}
    rows = {}
    with connect(url) as client:
        client.recv(timeout=10)
        for name, message in messages.items():
            started = time.monotonic()
            client.send(message)
            reply = json.loads(client.recv(timeout=10))
            rows[name] = {"answered_ms": round((time.monotonic() - started) * 1000, 1), "type": reply["type"]}
        started = time.monotonic()
        client.send(frame(0.1, jpegs[0]))
        reply = json.loads(client.recv(timeout=60))
        rows["then a good frame (first: BlazePose starts)"] = {
            "answered_ms": round((time.monotonic() - started) * 1000, 1), "type": reply["type"]}
        for name, t_s in (("backwards mid-session", 0.05), ("1e300 mid-session", 1e300)):
            started = time.monotonic()
            client.send(frame(t_s, jpegs[1]))
            reply = json.loads(client.recv(timeout=10))
            rows[name] = {"answered_ms": round((time.monotonic() - started) * 1000, 1), "type": reply["type"]}
        started = time.monotonic()
        client.send(frame(0.2, jpegs[1]))
        reply = json.loads(client.recv(timeout=60))
        rows["then a good frame"] = {"answered_ms": round((time.monotonic() - started) * 1000, 1),
                                     "type": reply["type"]}
        client.send("stop")
    return rows


def play(client, jpegs: list[bytes], frames: int, offset: int = 0) -> int:
    """Send ``frames`` real frames at 16 fps of source time, each after the last answer; frames answered."""
    answered = 0
    for number in range(frames):
        client.send(frame(number / 16, jpegs[(offset + number * 2) % len(jpegs)]))
        answered += json.loads(client.recv(timeout=60))["type"] == "frame"
    return answered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path)
    parser.add_argument("--max-sessions", type=int, default=4)
    parser.add_argument("--frames", type=int, default=40, help="frames each session analyses")
    arguments = parser.parse_args()
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    jpegs = real_jpegs()
    work = Path(tempfile.mkdtemp(prefix="live-server-bench-"))
    bundle = arguments.bundle or build_bundle(work)
    results: dict = {"max_sessions": arguments.max_sessions, "cpu": os.cpu_count()}

    process, url = start_server(bundle, work / "reports", arguments.max_sessions)
    results["hostile"] = hostile_answers(url, jpegs)
    time.sleep(1.0)
    idle_mb = rss_mb(process.pid)
    with connect(url) as client:
        client.recv(timeout=10)
        play(client, jpegs, arguments.frames)
        one_mb = rss_mb(process.pid)
        client.send("stop")
        client.recv(timeout=30)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    session_mb = one_mb - idle_mb
    results.update(server_idle_mb=round(idle_mb), one_session_mb=round(session_mb))

    # a fresh server: 3 x max sessions at once, all sending frames
    process, url = start_server(bundle, work / "reports-crowd", arguments.max_sessions)
    base_mb = rss_mb(process.pid)
    clients = [connect(url) for _ in range(3 * arguments.max_sessions)]
    served, refused, reasons = [], 0, set()
    for client in clients:
        try:
            client.recv(timeout=10)
            served.append(client)
        except ConnectionClosed as closed:
            refused += 1
            reasons.add(f"{closed.rcvd.code}: {closed.rcvd.reason}")
    peak = [base_mb]
    threads = [threading.Thread(target=play, args=(client, jpegs, arguments.frames, 7 * number))
               for number, client in enumerate(served)]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            peak.append(rss_mb(process.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sampling.set()
    sampler.join()
    for client in served:  # busy: each sends one more frame while SIGTERM comes
        client.send(frame(arguments.frames / 16, jpegs[0]))
    stopped_at = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    exit_s = time.monotonic() - stopped_at
    reports = len(list((work / "reports-crowd").glob("*/analysis.json")))
    bound = arguments.max_sessions * session_mb + 300
    results.update(clients=len(clients), served=len(served), refused=refused, refusal=sorted(reasons),
                   server_start_mb=round(base_mb), peak_mb=round(max(peak)),
                   peak_over_start_mb=round(max(peak) - base_mb),
                   bound_mb=round(bound), within_bound=max(peak) - base_mb <= bound,
                   sigterm_to_exit_s=round(exit_s, 2), reports_written=reports)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
