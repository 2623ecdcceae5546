"""How long `posegraph --help` takes, as a user types it (target: well under a second).

Run:  .venv/bin/python benchmarks/cli_startup.py [--runs 10]

Starts the console script ``--runs`` times after one warm-up run and prints the median and the
slowest wall time, beside a bare ``python -c pass`` for the interpreter's own start-up.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall_times(command: list[str], runs: int) -> list[float]:
    subprocess.run(command, capture_output=True, check=True)  # warm-up: .pyc files, disk cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    for label, command in (("python -c pass", [sys.executable, "-c", "pass"]),
                           ("posegraph --help", [str(Path(sys.executable).parent / "posegraph"), "--help"])):
        times = wall_times(command, runs)
        print(f"{label:<18} median {1000 * statistics.median(times):6.0f} ms   slowest {1000 * max(times):6.0f} ms")


if __name__ == "__main__":
    main()
