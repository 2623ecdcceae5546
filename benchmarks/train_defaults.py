"""Train one model with the product's defaults on a store and print accuracy and time per epoch.

The same training code as ``posegraph train`` (``gcn.training.train``) without the Prefect flow around
it, so it runs where Prefect is not installed (a GPU machine with only torch, pyarrow and numpy)::

    PYTHONPATH=.. python benchmarks/train_defaults.py --model stgcn --store penn --run /tmp/run
    python benchmarks/train_defaults.py --model msg3d --store penn --run /tmp/run --set amp=true
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from posegraph.gcn.config import load_config
from posegraph.gcn.training import train


def device_name() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, choices=("stgcn", "msg3d", "bilstm"))
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--run", required=True, type=Path, help="run directory to write (resumed if it exists)")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE")
    arguments = parser.parse_args()
    config = load_config(None, arguments.settings, model=arguments.model)
    started = time.perf_counter()
    epoch_seconds: list[float] = []
    last = [started]

    def log(line: str) -> None:
        now = time.perf_counter()
        if line.startswith("epoch "):
            epoch_seconds.append(now - last[0])
        last[0] = now
        print(f"[{now - started:7.1f} s] {line}", flush=True)

    print(f"{arguments.model} with the defaults{' and ' + ' '.join(arguments.settings) if arguments.settings else ''}"
          f" on {device_name()}, torch {torch.__version__}", flush=True)
    resume = (arguments.run / "last.pt").exists()
    result = train(config, arguments.store, arguments.run, resume=resume, progress=False, log=log)
    history = json.loads((arguments.run / "history.json").read_text())
    summary = {"model": arguments.model, "device": device_name(), "settings": arguments.settings,
               "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
               "best_val_accuracy": round(result.best_val_accuracy, 4),
               "final_val_accuracy": round(history[-1]["val_accuracy"], 4),
               "median_epoch_seconds": round(sorted(epoch_seconds)[len(epoch_seconds) // 2], 2) if epoch_seconds else None,
               "wall_seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
