"""An exported model (:mod:`.onnx_export`) applied with onnxruntime, without torch.

:class:`OnnxClassifier` reads an export folder (``model.onnx`` and its sidecar ``model.json``), or
an analysis bundle exported whole (its ``onnx/`` folder), checks that they belong together, and
answers one video as the PyTorch path does: the same inputs (:mod:`.model_inputs`), the same
vote over windows or mean over crops, the same calibrated "none of these" (:mod:`.answers`). This
module and everything it imports leave torch alone (``classify --runtime onnx`` and ``analyse
--runtime onnx`` run where torch is not installed; a test checks ``torch`` is not in
``sys.modules``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from posegraph.skeleton.source import SkeletonSource

from .answers import Answer, answer_from_logits
from .config import TrainConfig, config_from_dict
from .heads import Heads
from .model_inputs import graph_crops, sequence_windows, vote
from .rejection import Rejection

SIDECAR_FORMAT = "posegraph-onnx/1"  # the same as onnx_export's (which imports torch)
MODEL_FILE, SIDECAR_FILE, BUNDLE_SUBFOLDER = "model.onnx", "model.json", "onnx"
HOW_TO_EXPORT = "export one with: posegraph export RUN_OR_BUNDLE --format onnx --out DIR"


class ExportFolderError(ValueError):
    """An export folder that cannot be used; the message says which file and what to do."""


def export_folder(path: str | Path) -> Path:
    """The folder holding ``model.json``: ``path`` itself, or an exported bundle's ``onnx/``."""
    path = Path(path)
    if not path.is_dir():
        raise ExportFolderError(f"{path}: no such folder; {HOW_TO_EXPORT}")
    for folder in (path, path / BUNDLE_SUBFOLDER):
        if (folder / SIDECAR_FILE).is_file():
            return folder
    raise ExportFolderError(f"{path}: no {SIDECAR_FILE} (the sidecar that says how to apply the model): not an ONNX "
                            f"export; {HOW_TO_EXPORT}")


@dataclass
class OnnxClassifier:
    """An exported classifier ready for many videos (a :class:`~.classifier.Classifier`)."""

    folder: Path
    sidecar: dict
    config: TrainConfig
    heads: Heads
    rejection: Rejection | None
    session: object

    @property
    def layout(self) -> str:
        return self.sidecar["layout"]

    @property
    def model(self) -> str:
        return self.sidecar["model"]

    @property
    def name(self) -> str:
        return self.sidecar["model"]

    @property
    def num_persons(self) -> int:
        return int(self.sidecar.get("num_persons", 1))

    @property
    def calibrated(self) -> bool:
        return self.rejection is not None

    def frames_that_mattered(self, sequence: SkeletonSource) -> None:
        return None  # the export carries logits and embeddings, not the BiLSTM's attention

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.sidecar["class_names"])

    @classmethod
    def load(cls, path: str | Path) -> "OnnxClassifier":
        """Read and check an export folder; every problem is one :class:`ExportFolderError`."""
        folder = export_folder(path)
        sidecar = _read_sidecar(folder / SIDECAR_FILE)
        _check_layout(folder, sidecar)
        model_file = folder / MODEL_FILE
        if not model_file.is_file():
            raise ExportFolderError(f"{model_file}: missing; the export is incomplete, export again ({HOW_TO_EXPORT})")
        if hashlib.sha256(model_file.read_bytes()).hexdigest() != sidecar.get("model_sha256"):
            raise ExportFolderError(f"{model_file}: damaged or replaced (its checksum is not the one {SIDECAR_FILE} "
                                    f"recorded); export again ({HOW_TO_EXPORT})")
        if sidecar["family"] == "phase":
            raise ExportFolderError(f"{folder}: a phase model (it counts repetitions); classify and analyse need an "
                                    f"exercise classifier's export")
        try:
            import onnxruntime
        except ImportError:
            raise ExportFolderError("onnxruntime is not installed: pip install 'posegraph[onnx]'") from None
        try:
            session = onnxruntime.InferenceSession(str(model_file), providers=["CPUExecutionProvider"])
        except Exception as error:  # noqa: BLE001  (onnxruntime raises its own types for a bad file)
            raise ExportFolderError(f"{model_file}: onnxruntime cannot load it ({str(error).splitlines()[0][:200]}); "
                                    f"export again") from None
        heads = _heads(sidecar)
        rejection = Rejection.from_dict(sidecar["rejection"]) if sidecar.get("rejection") else None
        return cls(folder, sidecar, config_from_dict(sidecar["config"]), heads, rejection, session)

    def outputs(self, sequence: SkeletonSource) -> tuple[np.ndarray, np.ndarray]:
        """One video's logits ``(outputs,)`` and head embedding ``(D,)`` (means over crops or windows)."""
        if self.sidecar["family"] == "sequence":
            inputs = sequence_windows(self.config, self.layout, self.sidecar["extra"], sequence)
            batch = max(int(self.config.eval_batch_size), 1)
            parts = [self.session.run(["logits", "embedding"], {"input": inputs[i:i + batch]})
                     for i in range(0, len(inputs), batch)]
            logits = np.concatenate([part[0] for part in parts])
            embeddings = np.concatenate([part[1] for part in parts])
            return vote(logits, self.heads.exercise_count, self.config.min_window_confidence), embeddings.mean(axis=0)
        logits, embeddings = self.session.run(["logits", "embedding"],
                                              {"input": graph_crops(self.config, self.layout, sequence)})
        return logits.mean(axis=0), embeddings.mean(axis=0)

    def answer(self, sequence: SkeletonSource, top_k: int = 5, reject: bool = True) -> Answer:
        """Classify one video; with ``reject`` and a calibrated export, "none of these" when far from every class."""
        logits, embedding = self.outputs(sequence)
        return answer_from_logits(self.heads, logits, top_k, self.rejection if reject else None, embedding[None])


def _read_sidecar(path: Path) -> dict:
    from posegraph.data.documents import read_document

    sidecar = read_document(path, SIDECAR_FORMAT, "an ONNX export's sidecar",
                            f"export again with this version ({HOW_TO_EXPORT})", ExportFolderError)
    missing = [key for key in ("model", "family", "layout", "joints", "class_names", "config", "model_sha256")
               if key not in sidecar]
    if missing:
        raise ExportFolderError(f"{path}: lacks {', '.join(missing)}; export again ({HOW_TO_EXPORT})")
    return sidecar


def _check_layout(folder: Path, sidecar: dict) -> None:
    from posegraph.skeleton import LAYOUTS, get_layout

    if sidecar["layout"] not in LAYOUTS:
        raise ExportFolderError(f"{folder}: layout {sidecar['layout']!r} is not one this posegraph knows "
                                f"({', '.join(LAYOUTS)})")
    if list(get_layout(sidecar["layout"]).joint_names) != list(sidecar["joints"]):
        raise ExportFolderError(f"{folder}: its joints are not layout {sidecar['layout']}'s in this posegraph's order; "
                                f"export the model again with this version")


def _heads(sidecar: dict) -> Heads:
    from posegraph.features.muscles import MuscleTable

    saved = sidecar.get("heads") or {}
    table = MuscleTable.from_dict(saved["table"]) if saved.get("table") else None
    return Heads(tuple(sidecar["class_names"]), saved.get("mode", "none"), table)
