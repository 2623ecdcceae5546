"""``posegraph export --format onnx`` (issue 26): a trained model as ONNX, with a sidecar JSON that
holds everything inference needs, checked against PyTorch before it is called done.

The folder holds ``model.onnx`` (inputs ``input``; outputs ``logits`` and ``embedding``, the
classifier head's input, which the calibrated "none of these" distance rule reads) and
``model.json`` (:data:`SIDECAR_FORMAT`): the model and family, the layout and its joint order,
the frame rate, the training config (normalisation, crops, windows), class names, muscle
table, the calibrated rejection (temperature and thresholds), the BiLSTM's feature scaler, the
input's axes (batch and frames dynamic: every family here is shape-free in both) and the check.
An analysis bundle is exported whole: the folder is a copy of the bundle with its classifier
also in ``onnx/``, so ``analyse --runtime onnx`` runs from it.

The check runs the export with onnxruntime on real inputs (``check_on``: a video, a landmarks
file, or by default a generated squat converted to the model's layout) at two batch sizes and two
lengths; logits and embeddings must equal PyTorch's within :data:`TOLERANCE`, else
:class:`ExportError` names the first operator whose onnxruntime output differs from ONNX's
reference evaluator.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import torch
from posegraph.skeleton.source import SkeletonSource
from torch import nn

SIDECAR_FORMAT = "posegraph-onnx/1"
MODEL_FILE, SIDECAR_FILE = "model.onnx", "model.json"
TOLERANCE = 1e-4
OPSET = 17


class ExportError(ValueError):
    """The export does not reproduce the PyTorch model, or cannot be written."""


class _WithEmbedding(nn.Module):
    """The model returning its logits and what its head reads (flattened per sample)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        captured: list[torch.Tensor] = []
        handle = self.model.head().register_forward_pre_hook(lambda module, inputs: captured.append(inputs[0]))
        try:
            logits = self.model(x)
        finally:
            handle.remove()
        return logits, captured[0].flatten(1)


def export_onnx(classifier: str | Path, onnx_dir: str | Path, check_on: str | Path | None = None,
                log=print) -> dict:
    """Export ``classifier`` (a run folder or a checkpoint) into ``onnx_dir``; returns the sidecar.
    An analysis bundle is exported whole by :func:`posegraph.app.exporting.export_model`."""
    from .inference import load_classifier

    onnx_dir = Path(onnx_dir)
    model, bundle = load_classifier(classifier, device="cpu")
    onnx_dir.mkdir(parents=True, exist_ok=True)
    sample = _check_inputs(bundle, check_on)
    frames_axis = 1 if bundle.family == "sequence" else 2
    wrapper = _WithEmbedding(model).eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's notes on traced shapes and constant folding
        torch.onnx.export(wrapper, (torch.from_numpy(sample),), str(onnx_dir / MODEL_FILE), dynamo=False,
                          input_names=["input"], output_names=["logits", "embedding"], opset_version=OPSET,
                          dynamic_axes={"input": {0: "batch", frames_axis: "frames"},
                                        "logits": {0: "batch"}, "embedding": {0: "batch"}})
    check = check_export(wrapper, onnx_dir / MODEL_FILE, sample, frames_axis)
    sidecar = _sidecar(bundle, onnx_dir / MODEL_FILE, frames_axis, check, check_on)
    (onnx_dir / SIDECAR_FILE).write_text(json.dumps(sidecar, indent=1))
    log(f"exported {bundle.model} ({bundle.family}, {len(bundle.class_names)} classes, layout {bundle.layout}) to "
        f"{onnx_dir / MODEL_FILE}; checked against PyTorch on {check['inputs']}: largest difference "
        f"{check['max_abs_diff']:.2e} (tolerance {TOLERANCE:g})")
    return sidecar


def _check_inputs(bundle, check_on: str | Path | None) -> np.ndarray:
    """The model's input for a real sequence: ``check_on``'s, or a generated squat's."""
    from .model_inputs import graph_crops, sequence_windows

    if check_on is not None:
        from posegraph.data.sources import resolve_source

        sequence = resolve_source(check_on)
    else:
        from posegraph.data.synthetic import LAYOUT, generate_sequence, make_subjects

        generated = generate_sequence("squat", make_subjects(1, seed=3)[0], repetitions=3, seed=3)
        sequence = SkeletonSource.from_people(generated.joints[None], LAYOUT, generated.timestamps, generated.width,
                                  generated.height)
    if bundle.family == "sequence":
        inputs = sequence_windows(bundle.config, bundle.layout, bundle.extra, sequence)
    else:
        config = bundle.config
        if bundle.family == "phase":  # the phase model reads whole sequences: three crops of its clip length
            from dataclasses import replace

            config = replace(config, test_crops=3)
        inputs = graph_crops(config, bundle.layout, sequence)
    if len(inputs) == 0:
        raise ExportError(f"{check_on or 'the generated squat'}: too short to make one input for this model")
    return inputs


def check_export(wrapper: nn.Module, model_file: Path, sample: np.ndarray, frames_axis: int) -> dict:
    """Logits and embeddings of onnxruntime against PyTorch on ``sample`` as a batch, its first
    input alone, and the batch a third shorter (dynamic length); raises :class:`ExportError`."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(model_file), providers=["CPUExecutionProvider"])
    shorter = np.take(sample, np.arange(max(sample.shape[frames_axis] * 2 // 3, 1)), axis=frames_axis)
    cases = {"the batch": sample, "one input": sample[:1], "a shorter batch": np.ascontiguousarray(shorter)}
    worst = 0.0
    for name, inputs in cases.items():
        with torch.no_grad():
            expected = [tensor.numpy() for tensor in wrapper(torch.from_numpy(inputs))]
        got = session.run(["logits", "embedding"], {"input": inputs})
        for output, want, have in zip(("logits", "embedding"), expected, got):
            if want.shape != have.shape:
                raise ExportError(f"{model_file}: {output} of {name} has shape {have.shape}, PyTorch's {want.shape}")
            difference = float(np.max(np.abs(want - have))) if want.size else 0.0
            worst = max(worst, difference)
            if not difference <= TOLERANCE:
                raise ExportError(f"{model_file}: {output} of {name} differs from PyTorch's by {difference:.2e} "
                                  f"(tolerance {TOLERANCE:g}); {differing_operator(model_file, inputs)}")
    return {"max_abs_diff": worst, "tolerance": TOLERANCE,
            "inputs": f"{len(sample)} real inputs of shape {list(sample.shape[1:])}, one alone, and a shorter batch"}


def differing_operator(model_file: Path, inputs: np.ndarray) -> str:
    """The first node whose onnxruntime output differs from ONNX's reference evaluator."""
    import onnx
    import onnxruntime
    from onnx.reference import ReferenceEvaluator

    model = onnx.load(str(model_file))
    names = [output for node in model.graph.node for output in node.output if output]
    known = {value.name for value in model.graph.output}
    for name in names:
        if name not in known:
            model.graph.output.append(onnx.ValueInfoProto(name=name))
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    runtime = dict(zip([output.name for output in session.get_outputs()], session.run(None, {"input": inputs})))
    try:
        expected = dict(zip([value.name for value in model.graph.output],
                            ReferenceEvaluator(model).run(None, {"input": inputs})))
    except Exception as error:  # noqa: BLE001  (the reference evaluator lacks some operators)
        kinds = sorted({node.op_type for node in model.graph.node})
        return (f"ONNX's reference evaluator cannot run this graph to find the operator ({type(error).__name__}: "
                f"{str(error)[:120]}); its operators: {', '.join(kinds)}")
    for node in model.graph.node:
        for output in node.output:
            want, have = expected.get(output), runtime.get(output)
            if want is None or have is None or np.shape(want) != np.shape(have):
                continue
            if np.issubdtype(np.asarray(want).dtype, np.floating) and np.max(np.abs(want - have), initial=0) > TOLERANCE:
                return f"the first operator that differs is {node.op_type} ({node.name or output})"
    return "no single operator differs beyond the tolerance: the differences add up along the graph"


def _sidecar(bundle, model_file: Path, frames_axis: int, check: dict, check_on) -> dict:
    from posegraph.skeleton import get_layout

    layout = get_layout(bundle.layout)
    return {
        "format": SIDECAR_FORMAT,
        "model": bundle.model, "family": bundle.family, "layout": bundle.layout,
        "joints": list(layout.joint_names),
        "frames_per_second": bundle.config.frames_per_second,
        "class_names": list(bundle.class_names),
        "heads": {"mode": bundle.heads.mode, "table": None if bundle.heads.table is None else bundle.heads.table.to_dict()},
        "rejection": bundle.rejection.to_dict() if bundle.rejection is not None else None,
        "config": bundle.config.to_dict(),
        "normalization": bundle.normalization,
        "num_persons": bundle.num_persons,
        "extra": {key: value for key, value in bundle.extra.items() if key != "heads"},
        "input": {"name": "input", "axes": ["batch", "frames", "features"] if frames_axis == 1
                  else ["batch", "channels", "frames", "joints", "persons"]},
        "outputs": ["logits", "embedding"],
        "opset": OPSET,
        "model_sha256": hashlib.sha256(model_file.read_bytes()).hexdigest(),
        "source_checksum": bundle.checksum,
        "check": {**check, "on": str(check_on) if check_on else "a generated squat"},
    }
