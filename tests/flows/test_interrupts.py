"""Nothing outlives a run, and an interrupt ends it within seconds, keeping what was stored."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from posegraph.data import SkeletonStore

COPIES = 12  # enough that a run is still busy when its first videos are stored


def _gone_within(pids: list[int], seconds: float) -> list[int]:
    """The pids still alive (zombies count as gone) after waiting up to ``seconds``."""
    deadline = time.time() + seconds
    alive = list(pids)
    while alive and time.time() < deadline:
        alive = [pid for pid in alive if psutil.pid_exists(pid)
                 and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.2)
    return alive


def test_a_child_that_calls_die_with_parent_ends_with_its_parent(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    parent_code = textwrap.dedent(f"""
        import subprocess, sys, time
        child = ("from posegraph.flows.lifeline import die_with_parent; import os, time; die_with_parent(); "
                 "open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(120)")
        subprocess.Popen([sys.executable, "-c", child])
        time.sleep(120)
    """)
    parent = subprocess.Popen([sys.executable, "-c", parent_code])
    deadline = time.time() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.time() < deadline, "the grandchild never started"
        time.sleep(0.2)
    grandchild = int(pid_file.read_text())
    parent.kill()
    parent.wait()
    assert _gone_within([grandchild], 10) == []


def test_a_watched_process_is_stopped_when_its_watcher_is_killed():
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    watcher = subprocess.Popen([sys.executable, "-c", "import sys, time; from posegraph.flows.lifeline import "
                                f"watch_over; watch_over({sleeper.pid}); print('ok', flush=True); time.sleep(120)"],
                               stdout=subprocess.PIPE, text=True)
    assert watcher.stdout.readline().strip() == "ok"
    watcher.kill()
    watcher.wait()
    try:
        assert _gone_within([sleeper.pid], 10) == []
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
        sleeper.wait()


@pytest.fixture
def clips(tmp_path, short_clips) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for copy in range(COPIES):  # different files (content differs by a trailing byte)
        (corpus / f"clip{copy}.mp4").write_bytes(short_clips["kinetics_tai_chi"].read_bytes() + bytes([copy]))
    return corpus


def _start(corpus: Path, store: Path, workers: int) -> subprocess.Popen:
    command = [str(Path(sys.executable).parent / "posegraph"), "extract", str(corpus), "--store", str(store),
               "--workers", str(workers), "--quiet"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _busy_run(clips: Path, store: Path) -> tuple[subprocess.Popen, list[int]]:
    """A two-worker extraction that has stored its first videos, and its descendants' pids."""
    run = _start(clips, store, workers=2)
    _wait_for_a_stored_video(store, run)
    return run, [child.pid for child in psutil.Process(run.pid).children(recursive=True)]


def _wait_for_a_stored_video(store: Path, run: subprocess.Popen) -> None:
    deadline = time.time() + 180
    while time.time() < deadline and run.poll() is None:
        if (store / "videos").exists() and SkeletonStore(store).videos().num_rows:
            return
        time.sleep(0.3)
    pytest.fail("no video was stored before the run ended or 180 s passed")


@pytest.mark.slow
@pytest.mark.integration
def test_ctrl_c_ends_within_seconds_says_what_was_stored_and_the_run_resumes(clips, tmp_path):
    store = tmp_path / "store"
    run, family = _busy_run(clips, store)
    interrupted_at = time.time()
    os.killpg(run.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    _, error = run.communicate(timeout=60)
    assert run.returncode == 130 and time.time() - interrupted_at < 20
    assert "interrupted (Ctrl-C):" in error and "videos stored in this run" in error, error[-2000:]
    assert _gone_within(family, 10) == []
    resumed = subprocess.run(run.args, capture_output=True, timeout=600)
    assert resumed.returncode == 0 and SkeletonStore(store).videos().num_rows == COPIES


@pytest.mark.slow
@pytest.mark.integration
def test_kill_9_of_the_run_leaves_no_worker_or_server_behind(clips, tmp_path):
    store = tmp_path / "store"
    run, family = _busy_run(clips, store)
    assert len(family) >= 3  # two workers and the temporary server (and the watchdog)
    run.kill()  # the parent only, as `kill -9 PID` does
    run.wait()
    assert _gone_within(family, 15) == []
    shutil.rmtree(tmp_path / "corpus")


def _carrying(marker: str) -> list[int]:
    """Processes whose environment holds ``marker`` (this test's own mark on everything a run starts)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("POSEGRAPH_TEST_MARK") == marker:
                found.append(process.pid)
        except psutil.Error:
            pass
    return found


@pytest.mark.slow
@pytest.mark.integration
def test_kill_9_at_random_moments_of_start_up_leaves_nothing_behind(clips, tmp_path):
    """The kill comes anywhere in start-up: imports, the temporary Prefect server starting (which
    can take longer than 12 s on a busy machine), the workers starting, the first videos."""
    import random

    seed = random.randrange(10**6)
    moments = sorted(random.Random(seed).uniform(0.2, 10.0) for _ in range(3))
    for trial, moment in enumerate(moments):
        marker = f"{os.getpid()}-{trial}"
        command = [str(Path(sys.executable).parent / "posegraph"), "extract", str(clips), "--store",
                   str(tmp_path / f"store{trial}"), "--workers", "2", "--quiet"]
        run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                               env={**os.environ, "POSEGRAPH_TEST_MARK": marker})
        time.sleep(moment)
        started = len(_carrying(marker))
        run.kill()  # the parent only, as `kill -9 PID` does
        run.wait()
        deadline = time.time() + 15
        while _carrying(marker) and time.time() < deadline:
            time.sleep(0.2)
        left = [" ".join(psutil.Process(pid).cmdline()[:4]) for pid in _carrying(marker) if psutil.pid_exists(pid)]
        assert not left, f"seed {seed}: killed at {moment:.1f} s with {started} processes running; left: {left}"
