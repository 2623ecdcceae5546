"""ONNX Runtime against PyTorch eager on this CPU (issue 26): per family, batch 1 and batch 32,
the latency ratio measured in one run, whichever way it falls.

Run:  .venv/bin/python benchmarks/export.py RUN_OR_CHECKPOINT [...] [--repeats 20]

Each run is exported (``posegraph export``, which checks logits within 1e-4), then the same
random input of the model's own shape (the graph models' clip length, the BiLSTM's window, the
phase model's clip) goes through ``model(x)`` under ``torch.no_grad()`` and through an
onnxruntime session (CPU provider, default threads), alternating, after two warm-up calls each;
the median of ``--repeats`` calls is reported.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def median_ms(call, repeats: int) -> float:
    for _ in range(2):
        call()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return float(np.median(times) * 1000)


def measure(run: str, repeats: int) -> None:
    import onnxruntime
    import torch

    from posegraph.gcn.inference import load_classifier
    from posegraph.gcn.onnx_export import MODEL_FILE, export_onnx
    from posegraph.skeleton import get_layout

    model, bundle = load_classifier(run, device="cpu")
    with tempfile.TemporaryDirectory() as folder:
        export_onnx(run, folder, log=lambda _: None)
        session = onnxruntime.InferenceSession(str(Path(folder) / MODEL_FILE), providers=["CPUExecutionProvider"])
        config = bundle.config
        for batch in (1, 32):
            if bundle.family == "sequence":
                shape = (batch, config.window_frames, bundle.in_channels)
            else:
                shape = (batch, 3, config.clip_frames, get_layout(bundle.layout).num_joints, bundle.num_persons)
            inputs = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
            tensor = torch.from_numpy(inputs)

            def eager():
                with torch.no_grad():
                    model(tensor)

            torch_ms = median_ms(eager, repeats)
            onnx_ms = median_ms(lambda: session.run(["logits"], {"input": inputs}), repeats)
            print(f"{bundle.model:<7} {bundle.family:<9} batch {batch:>2} input {list(shape)}: PyTorch {torch_ms:8.2f} ms, "
                  f"ONNX Runtime {onnx_ms:8.2f} ms, PyTorch / ONNX Runtime {torch_ms / onnx_ms:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run folders or checkpoints")
    parser.add_argument("--repeats", type=int, default=20)
    arguments = parser.parse_args()
    import torch

    print(f"torch threads {torch.get_num_threads()}; medians of {arguments.repeats} calls")
    for run in arguments.runs:
        measure(run, arguments.repeats)


if __name__ == "__main__":
    main()
