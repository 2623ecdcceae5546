"""A trained model as one typed, frozen piece of data: what ``load_checkpoint`` returns.

Everything that uses a trained model (evaluate, classify, count, score, ensembles, and the coming
analysis and export) reads these fields instead of a checkpoint's raw dictionary. The file format
is unchanged (:mod:`.checkpoint`: ``posegraph-gcn-checkpoint/2``, and /1 still read), so
checkpoints written before the bundle existed load as bundles too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from .config import TrainConfig, config_from_dict
from .heads import Heads, heads_of
from .rejection import Rejection


@dataclass(frozen=True)
class ModelBundle:
    """One checkpoint: the weights and all that is needed to use them.

    ``model`` is the architecture's name (``stgcn``, ``msg3d``, ``bilstm``); ``family`` (from the
    config) the way it is trained and applied (``graph``, ``sequence``, ``phase``). ``class_names``
    are the exercise classes (or the phases of a phase model) in output order; ``heads`` adds the
    muscle groups. ``extra`` is what a family needs beyond weights (the BiLSTM's feature scaler).
    ``rejection`` is the calibrated "none of these" (None until calibrated).
    """

    format: str
    model: str
    layout: str
    class_names: tuple[str, ...]
    config: TrainConfig
    normalization: dict
    num_persons: int
    in_channels: int
    extra: dict
    rejection: Rejection | None
    heads: Heads
    checksum: str
    state_dict: dict[str, torch.Tensor] = field(repr=False)
    training_state: dict = field(default_factory=dict, repr=False)
    path: Path | None = None

    @property
    def family(self) -> str:
        return self.config.family

    @classmethod
    def from_content(cls, content: dict, path: Path | None = None) -> "ModelBundle":
        """The bundle of a verified checkpoint dictionary (:func:`.checkpoint.load_checkpoint`)."""
        rejection = content.get("rejection") or {}
        return cls(format=content["format"], model=content["model"], layout=content["layout"],
                   class_names=tuple(content["class_names"]), config=config_from_dict(content["config"]),
                   normalization=dict(content["normalization"]), num_persons=int(content["num_persons"]),
                   in_channels=int(content["in_channels"]), extra=dict(content.get("extra") or {}),
                   rejection=Rejection.from_dict(rejection) if rejection else None, heads=heads_of(content),
                   checksum=content["checksum"], state_dict=content["state_dict"],
                   training_state=dict(content.get("training_state") or {}), path=path)

    def metadata(self) -> dict:
        """The keyword arguments :func:`.checkpoint.save_checkpoint` takes besides the weights."""
        return {"model": self.model, "layout": self.layout, "class_names": list(self.class_names),
                "config": self.config.to_dict(), "normalization": self.normalization,
                "num_persons": self.num_persons, "in_channels": self.in_channels,
                "training_state": self.training_state, "extra": self.extra,
                "rejection": self.rejection.to_dict() if self.rejection is not None else {}}
