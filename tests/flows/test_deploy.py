"""``posegraph deploy`` end to end on localhost: a Prefect server, a process work pool (created by
deploy, one run at a time), a worker, and a deployment run that trains a small model and leaves its
run folder."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def _run(arguments: list[str], environment: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(arguments, env=environment, capture_output=True, text=True, timeout=timeout)


@pytest.mark.integration
def test_a_training_deployment_runs_on_a_worker_of_its_pool(synthetic_store, tmp_path, prefect_server):
    _, client = prefect_server
    run_dir = tmp_path / "run"
    deployed = _run([str(BIN / "posegraph"), "deploy", "train", "--pool", "gpu-box", "--pool-concurrency", "1",
                     "--param", f"store={synthetic_store.root}", "--param", f"run_dir={run_dir}",
                     "--set", "epochs=1", "--set", "clip_frames=16"], client)
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    assert "created process work pool 'gpu-box' (1 run(s) at a time)" in deployed.stdout
    read_pool = ("from prefect.client.orchestration import get_client\n"
                 "with get_client(sync_client=True) as c:\n"
                 "    p = c.read_work_pool('gpu-box'); print(p.type, p.concurrency_limit)")
    assert _run([sys.executable, "-c", read_pool], client).stdout.split() == ["process", "1"]
    started = _run([str(BIN / "prefect"), "deployment", "run", "train/train-gpu-box"], client)
    assert started.returncode == 0, started.stderr[-2000:]
    worker = _run([str(BIN / "prefect"), "worker", "start", "--pool", "gpu-box", "--run-once"], client, timeout=600)
    assert worker.returncode == 0, worker.stdout[-3000:] + worker.stderr[-3000:]
    assert (run_dir / "best.pt").is_file() and (run_dir / "metrics-test.json").is_file()
    assert json.loads((run_dir / "history.json").read_text())[0]["epoch"] == 1
    runs = _run([str(BIN / "prefect"), "flow-run", "ls"], client)
    assert "train" in runs.stdout and "COMPLETED" in runs.stdout.upper()
