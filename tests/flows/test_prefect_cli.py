"""Prefect's own CLI works against the server with the pinned versions (fastapi >= 0.151 answered
422 to `prefect flow-run ls`), both with a temporary server and with a persistent one."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def _environment(tmp_path: Path, **extra: str) -> dict:
    """A Prefect of its own (this test process may have exported its temporary server's URL), and a
    wide table so that flow names are not cut."""
    inherited = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    return {**inherited, "PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_LOGGING_LEVEL": "WARNING",
            "COLUMNS": "240", **extra}


def _run_a_flow(tmp_path: Path, environment: dict) -> None:
    done = subprocess.run([str(BIN / "posegraph"), "synth", "--store", str(tmp_path / "store"), "--subjects", "1",
                           "--takes", "1"], env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]  # why, when it fails


def _prefect(arguments: list[str], environment: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "prefect"), *arguments], env=environment, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.integration
def test_prefect_cli_lists_runs_artifacts_and_deployments_with_a_temporary_server(tmp_path):
    environment = _environment(tmp_path)
    _run_a_flow(tmp_path, environment)
    runs = _prefect(["flow-run", "ls"], environment)
    assert runs.returncode == 0 and "422" not in runs.stdout + runs.stderr, runs.stderr[-2000:]
    assert "synthesize" in runs.stdout
    for command in (["artifact", "ls"], ["deployment", "ls"]):
        listed = _prefect(command, environment)
        assert listed.returncode == 0 and "422" not in listed.stdout + listed.stderr, listed.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.integration
def test_a_persistent_server_sees_the_runs(tmp_path, prefect_server):
    _, client = prefect_server
    _run_a_flow(tmp_path, client)
    runs = _prefect(["flow-run", "ls"], client)
    assert runs.returncode == 0 and "synthesize" in runs.stdout, runs.stderr[-2000:]
