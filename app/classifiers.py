"""Open any classifier from a path, as one :class:`~posegraph.gcn.classifier.Classifier`.

``open_classifier(path, runtime)`` reads:

- an analysis bundle's folder: its classifier (with ``runtime="onnx"``, the bundle's ``onnx/`` export);
- an ONNX export folder (``model.json`` beside ``model.onnx``), through onnxruntime without torch;
- a saved ensemble (``posegraph ensemble --out FILE.yaml``);
- a checkpoint (``.pt``) or a run folder (its ``best.pt``).

``classify``, ``analyse``, ``live`` and ``evaluate`` open what they are given through it, so each
takes any of them, ensembles included.
"""

from __future__ import annotations

from pathlib import Path

from posegraph.gcn.classifier import Classifier

from .analysis_bundle import is_bundle, load_bundle

RUNTIMES = ("torch", "onnx")


def open_classifier(path: str | Path, runtime: str = "torch", device: str = "auto") -> Classifier:
    """The classifier at ``path`` (module docstring). ``runtime="onnx"`` needs an export (or an
    exported bundle); an export folder is read with onnxruntime whatever ``runtime`` says."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime {runtime!r}: choose {' or '.join(RUNTIMES)}")
    path = Path(path)
    from posegraph.gcn.onnx_runtime import SIDECAR_FILE, OnnxClassifier

    if is_bundle(path):
        if runtime == "onnx":
            return OnnxClassifier.load(path)
        return open_classifier(load_bundle(path).classifier, runtime, device)
    if runtime == "onnx" or (path.is_dir() and (path / SIDECAR_FILE).is_file()):
        return OnnxClassifier.load(path)
    from posegraph.gcn.ensemble import is_ensemble_file

    if is_ensemble_file(path):
        from posegraph.gcn.classifier import EnsembleClassifier

        return EnsembleClassifier.load(path)
    from posegraph.gcn.classifier import TorchClassifier

    return TorchClassifier.load(path, device)


__all__ = ["RUNTIMES", "open_classifier"]
