"""``posegraph export`` (ML engineers): a trained model, or a whole analysis bundle, as ONNX with the
sidecar that says how to apply it, checked against PyTorch before it is called done."""

from __future__ import annotations

import argparse


def command_export(arguments: argparse.Namespace) -> int:
    from posegraph.app.exporting import export_model

    export_model(arguments.target, arguments.out, check_on=arguments.check_on)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export", help="a trained model or an analysis bundle as ONNX (runs with onnxruntime, without torch)",
        description="Writes model.onnx (batch and length dynamic) and model.json (layout and joint order, frame rate, "
                    "normalisation, class names, calibrated rejection, muscle table, format version), then checks "
                    "the export against PyTorch on real inputs (logits within 1e-4, or it names the operator that "
                    "differs). An analysis bundle is copied whole with its classifier in onnx/, for "
                    "`analyse --runtime onnx`. Use the export with `classify --runtime onnx --checkpoint DIR`.")
    export.add_argument("target", help="a run folder, a checkpoint (.pt) or an analysis bundle folder")
    export.add_argument("--format", default="onnx", choices=("onnx",), help="the export format (onnx)")
    export.add_argument("--out", required=True, help="the folder to write")
    export.add_argument("--check-on", metavar="VIDEO_OR_LANDMARKS",
                        help="check the export on this video or landmarks file (default: a generated squat)")
    export.set_defaults(run=command_export)
