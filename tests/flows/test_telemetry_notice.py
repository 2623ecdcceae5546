"""Prefect's telemetry notice is never printed by posegraph, even in a terminal and a fresh Prefect home."""

import os
import pty
import subprocess
import sys

NOTICE = "Prefect collects anonymous usage data"


def _run_in_terminal(tmp_path, code: str, **environment: str) -> str:
    """Output of ``python -c code`` whose stdout and stderr are a pseudo-terminal (as an interactive user's)."""
    leader, follower = pty.openpty()
    from prefect._internal.analytics.ci_detection import CI_ENV_VARS  # Prefect says nothing under CI

    env = {key: value for key, value in os.environ.items()
           if key not in ("PREFECT_API_URL", "PREFECT_HOME", "DO_NOT_TRACK", *CI_ENV_VARS)}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), **environment)
    process = subprocess.Popen([sys.executable, "-c", code], stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


def test_importing_posegraph_flows_in_a_terminal_prints_no_telemetry_notice(tmp_path):
    code = "import posegraph.flows, prefect; import sys; print('imported', sys.stdout.isatty())"
    output = _run_in_terminal(tmp_path, code)
    assert "imported True" in output  # it really ran in a terminal
    assert NOTICE not in output


def test_prefect_alone_would_print_it_there(tmp_path):
    """The check above can fail: the same terminal and home, without posegraph's default, show the notice."""
    output = _run_in_terminal(tmp_path, "import prefect; print('imported')")
    assert "imported" in output
    assert NOTICE in output
