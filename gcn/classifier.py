"""One shape for every exercise classifier: :class:`Classifier`.

Whatever answers "which exercise" (a PyTorch checkpoint of any family, an ONNX export, a weighted
ensemble of checkpoints) answers one video's people the same way: :meth:`Classifier.answer` gives an
:class:`~.answers.Answer` (classes ranked, probabilities, muscle groups, and "none of these" from its
calibration). Commands and services take a ``Classifier`` and never ask which kind it is; opening
one from a path is :func:`posegraph.app.classifiers.open_classifier`.

- :class:`TorchClassifier`: a checkpoint or run folder (``best.pt``), any family;
- :class:`~.onnx_runtime.OnnxClassifier`: an export folder, through onnxruntime without torch;
- :class:`EnsembleClassifier`: a saved ensemble (``posegraph ensemble --out FILE.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from posegraph.skeleton.source import SkeletonSource

from .answers import Answer
from .heads import Heads


@runtime_checkable
class Classifier(Protocol):
    """What every classifier offers (module docstring)."""

    @property
    def name(self) -> str:
        """For people: the model (``stgcn``, ``bilstm``, ``ensemble``...)."""

    @property
    def layout(self) -> str:
        """The skeleton layout it reads (a sequence in another is converted)."""

    @property
    def heads(self) -> Heads:
        """Its outputs: class names and, where it has one, the muscle head."""

    @property
    def num_persons(self) -> int:
        """How many people of a video it reads."""

    @property
    def calibrated(self) -> bool:
        """Whether it can answer "none of these"."""

    def answer(self, sequence: SkeletonSource, top_k: int = 5, reject: bool = True) -> Answer:
        """One video's answer; with ``reject`` and a calibration, "none of these" when far from every class."""

    def frames_that_mattered(self, sequence: SkeletonSource) -> tuple[np.ndarray, np.ndarray] | None:
        """``(times s (T,), weights (T,))`` where the model says which frames decided, else None."""


@dataclass
class TorchClassifier:
    """A PyTorch checkpoint of any family, loaded once for many videos."""

    model: object  # torch.nn.Module, in eval mode
    bundle: object  # its ModelBundle
    source: Path

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> "TorchClassifier":
        from .checkpoint import checkpoint_file
        from .inference import load_classifier

        model, bundle = load_classifier(path, device)
        return cls(model, bundle, checkpoint_file(path))

    @property
    def name(self) -> str:
        return self.bundle.model

    @property
    def layout(self) -> str:
        return self.bundle.layout

    @property
    def heads(self) -> Heads:
        return self.bundle.heads

    @property
    def num_persons(self) -> int:
        return int(self.bundle.num_persons or 1)

    @property
    def calibrated(self) -> bool:
        return self.bundle.rejection is not None

    def answer(self, sequence: SkeletonSource, top_k: int = 5, reject: bool = True) -> Answer:
        from .inference import answer_sequence

        return answer_sequence(self.model, self.bundle, sequence, top_k=top_k, reject=reject)

    def frames_that_mattered(self, sequence: SkeletonSource) -> tuple[np.ndarray, np.ndarray] | None:
        from .families import frames_that_mattered

        if self.bundle.family != "sequence":
            return None
        return frames_that_mattered(self.model, self.bundle, sequence)


@dataclass
class EnsembleClassifier:
    """A saved ensemble: its members' weighted average, with the ensemble's own calibration."""

    ensemble: object  # .ensemble.Ensemble
    members: object  # .ensemble.LoadedMembers
    source: Path

    @classmethod
    def load(cls, path: str | Path) -> "EnsembleClassifier":
        from .ensemble import load_saved

        ensemble, members = load_saved(path)
        return cls(ensemble, members, Path(path))

    @property
    def name(self) -> str:
        return "ensemble"

    @property
    def layout(self) -> str:
        return self.members.bundles[0].layout

    @property
    def heads(self) -> Heads:
        return self.members.heads

    @property
    def num_persons(self) -> int:
        return self.members.num_persons

    @property
    def calibrated(self) -> bool:
        return self.ensemble.rejection is not None

    def answer(self, sequence: SkeletonSource, top_k: int = 5, reject: bool = True) -> Answer:
        return self.members.answer(sequence, self.ensemble.weights, top_k,
                                   self.ensemble.rejection if reject else None)

    def frames_that_mattered(self, sequence: SkeletonSource) -> None:
        return None


__all__ = ["Classifier", "EnsembleClassifier", "TorchClassifier"]
