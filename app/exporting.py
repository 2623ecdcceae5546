"""``posegraph export``: a trained model, or a whole analysis bundle, as ONNX.

A run folder or a checkpoint goes to :func:`posegraph.gcn.onnx_export.export_onnx`; an analysis
bundle is copied whole with its classifier exported into its ``onnx/`` folder, which
``analyse --runtime onnx`` and ``live --runtime onnx`` read.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from posegraph.gcn.onnx_runtime import BUNDLE_SUBFOLDER

from .analysis_bundle import is_bundle, load_bundle


def export_model(target: str | Path, out: str | Path, check_on: str | Path | None = None, log=print) -> dict:
    """Export ``target`` (a run folder, a checkpoint, or an analysis bundle) into ``out``; returns the sidecar."""
    from posegraph.gcn.onnx_export import export_onnx

    target, out = Path(target), Path(out)
    if not is_bundle(target):
        return export_onnx(target, out, check_on, log)
    bundle = load_bundle(target)
    from posegraph.gcn.ensemble import is_ensemble_file

    if is_ensemble_file(bundle.classifier):
        raise ValueError(f"{target}: its classifier is an ensemble, which exports member by member "
                         f"(posegraph export MEMBER.pt --out DIR for each); the bundle itself runs with torch")
    if out.resolve() != target.resolve():
        shutil.copytree(target, out, dirs_exist_ok=True)
    return export_onnx(bundle.classifier, out / BUNDLE_SUBFOLDER, check_on, log)
