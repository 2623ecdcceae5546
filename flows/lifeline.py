"""No process outlives the run that started it, and an interrupt ends a run within seconds.

- Worker processes call :func:`die_with_parent` as they start: the kernel kills them when the
  parent dies (``PR_SET_PDEATHSIG`` on Linux; elsewhere a thread polls the parent), so a worker
  orphaned by ``kill -9`` never goes on extracting.
- :func:`tie_children_to_this_process`, called by every command before it starts anything,
  marks this process's environment with a token that every process it starts inherits (workers,
  the temporary Prefect server, a browser, ffmpeg, and theirs), and starts a watchdog that, once
  this process has died however it died, stops every process still carrying the token. The tie
  is made before any child exists, so a ``kill -9`` at any moment of start-up leaves nothing: a
  child that was being started when the kill came carries the token all the same.
- :func:`watch_over` starts a watchdog that kills given processes when this process dies.
- :func:`interruptible` turns Ctrl-C and SIGTERM into: finish the writes in flight, say what
  was stored, stop every child process, exit 130 at once (Prefect's own clean-up would wait
  minutes on a temporary server that the terminal's Ctrl-C already stopped). The run resumes
  where it stopped: extraction skips what is stored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

INTERRUPTED_EXIT_CODE = 130


def die_with_parent() -> None:
    """End this process when its parent dies (call it first thing in a child process)."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
                if os.getppid() != parent:  # the parent died before the call
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="posegraph-parent-watch", daemon=True).start()


LIFELINE_ENV = "POSEGRAPH_LIFELINE"

# The watchdog: argv = parent pid, token ('' for none), pids. Plain Python with nothing imported
# beyond the standard library, so it is up in tens of milliseconds. Processes carrying the token are
# found in /proc (Linux) or through psutil; three rounds, for children started while the first ended.
_WATCHDOG = """
import os, signal, sys, time
parent, token, pids = int(sys.argv[1]), sys.argv[2], [int(p) for p in sys.argv[3:]]
entry = ("\\0POSEGRAPH_LIFELINE=" + token + "\\0").encode()
me = os.getpid()
while os.getppid() == parent:
    time.sleep(0.2)

def marked():
    if not token:
        return []
    found = []
    if os.path.isdir("/proc"):
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) != me:
                try:
                    with open("/proc/%s/environ" % name, "rb") as file:
                        if entry in b"\\0" + file.read():
                            found.append(int(name))
                except OSError:
                    pass
        return found
    import psutil
    for process in psutil.process_iter():
        try:
            if process.pid != me and process.environ().get("POSEGRAPH_LIFELINE") == token:
                found.append(process.pid)
        except psutil.Error:
            pass
    return found

for round in range(3):
    targets = set(pids if round == 0 else []) | set(marked())
    if not targets:
        break
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in targets:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        time.sleep(1.0 if sig == signal.SIGTERM else 0.2)
"""

_tied_token: str | None = None


def _start_watchdog(token: str, pids: tuple[int, ...]) -> subprocess.Popen:
    quick = ["-S"] if os.path.isdir("/proc") else []  # no site-packages needed where /proc is read (not psutil)
    return subprocess.Popen([sys.executable, *quick, "-c", _WATCHDOG, str(os.getpid()), token, *map(str, pids)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def tie_children_to_this_process() -> str:
    """Mark this process's environment with a lifeline token and start the watchdog (module
    docstring); once per process. Returns the token (``POSEGRAPH_LIFELINE`` in the children)."""
    global _tied_token
    if _tied_token is not None and os.environ.get(LIFELINE_ENV) == _tied_token:
        return _tied_token
    import secrets

    token = f"{os.getpid()}-{secrets.token_hex(6)}"
    os.environ[LIFELINE_ENV] = token  # before the watchdog: the watchdog itself excludes its own pid
    _start_watchdog(token, ())
    _tied_token = token
    return token


def watch_over(*pids: int) -> subprocess.Popen:
    """A watchdog process that kills ``pids`` once this process has died (``kill -9`` included)."""
    return _start_watchdog("", pids)


def stop_children(grace_s: float = 3.0) -> None:
    """Terminate every descendant process of this one (then kill those still there after ``grace_s``)."""
    import psutil

    try:
        children = psutil.Process().children(recursive=True)
    except psutil.Error:
        return
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=grace_s)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()


@contextlib.contextmanager
def interruptible(report: Callable[[], str]) -> Iterator[None]:
    """Inside the block, Ctrl-C or SIGTERM: ``report()`` (finish what is in flight and say what was
    stored), print it, stop every child process, exit 130. Outside the main thread: no change."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        for ignored in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the clean-up short
            signal.signal(ignored, signal.SIG_IGN)
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        try:
            message = report()
        except Exception as error:  # noqa: BLE001 - say it, still stop
            message = f"could not finish the writes in flight ({type(error).__name__}: {error})"
        sys.stderr.write(f"\ninterrupted ({name}): {message}\n")  # not print(): a log_prints flow would log it
        sys.stderr.flush()
        stop_children()
        sys.stdout.flush()
        os._exit(INTERRUPTED_EXIT_CODE)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


__all__ = ["INTERRUPTED_EXIT_CODE", "LIFELINE_ENV", "die_with_parent", "interruptible", "stop_children",
           "tie_children_to_this_process", "watch_over"]
