"""What a classifier's output columns mean: exercise logits, muscle-group logits, or both.

With ``muscles=joint`` one linear layer gives ``K + G`` columns (the exercise logits first, then
one sigmoid logit per muscle group); with ``muscles=only`` just the ``G`` muscle columns; with
``muscles=none`` (the default) the ``K`` exercise logits as before. Sharing the last layer's
input is what "a second head on the same embedding" means, so backbones stay unchanged.

Muscle targets come from the exercise label through the muscle table (``posegraph.features.muscles``),
kept whole in the checkpoint so a model can be scored on exercises it never saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from posegraph.features.muscles import MuscleTable, load_muscle_table

from .config import MUSCLE_MODES

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Heads:
    """The column layout of a classifier's output; ``table`` is ``None`` without muscle groups."""

    class_names: tuple[str, ...]
    mode: str = "none"
    table: MuscleTable | None = field(default=None, hash=False)

    @property
    def exercise_count(self) -> int:
        return 0 if self.mode == "only" else len(self.class_names)

    @property
    def groups(self) -> tuple[str, ...]:
        return () if self.table is None else self.table.groups

    @property
    def width(self) -> int:
        return self.exercise_count + len(self.groups)

    def exercise(self, logits):
        """The exercise columns ``(..., K)`` (empty with ``muscles=only``)."""
        return logits[..., :self.exercise_count]

    def muscles(self, logits):
        """The muscle-group columns ``(..., G)`` (empty with ``muscles=none``)."""
        return logits[..., self.exercise_count:]

    def membership(self, exercises: list[str] | tuple[str, ...] | None = None) -> np.ndarray:
        """``(len(exercises), G)`` 0/1 muscle targets of each exercise (default: the classes)."""
        return self.table.membership(list(exercises)) if exercises is not None else self._class_targets

    @cached_property
    def _class_targets(self) -> np.ndarray:
        """The classes' ``(K, G)`` targets, built once (training asks for them every batch); read-only, being shared."""
        targets = self.table.membership(list(self.class_names))
        targets.flags.writeable = False
        return targets

    # torch is imported inside the training-time methods only: exported models are applied
    # (onnx_runtime) with these heads and without torch
    def correct(self, logits: "torch.Tensor", labels: "torch.Tensor") -> float:
        """Summed over the batch: 1 per right exercise, or (``only``) the share of groups right per video."""
        if self.exercise_count:
            return float((self.exercise(logits).argmax(1) == labels).sum())
        return self.muscles_correct(logits, labels)

    def muscles_correct(self, logits: "torch.Tensor", labels: "torch.Tensor") -> float:
        """Summed over the batch: the share of muscle groups right per video (label-wise accuracy)."""
        import torch

        targets = torch.tensor(self.membership(), device=logits.device)[labels]
        return float(((self.muscles(logits) > 0).float() == targets).float().mean(1).sum())

    def validation_score(self, logits: "torch.Tensor", labels: "torch.Tensor") -> float:
        """What picks the best checkpoint: exercise accuracy; label-wise muscle accuracy with
        ``only``; their mean with ``joint`` (else an epoch that already names every exercise
        right would be kept before the muscle head had learned anything)."""
        count = max(len(labels), 1)
        if not self.groups:
            return self.correct(logits, labels) / count
        muscles = self.muscles_correct(logits, labels) / count
        return muscles if not self.exercise_count else (self.correct(logits, labels) / count + muscles) / 2

    def to_dict(self) -> dict:
        return {"mode": self.mode, "table": None if self.table is None else self.table.to_dict()}


def heads_for(config, class_names: list[str]) -> Heads:
    """The heads a training config asks for; every class must be in the muscle table when it has muscles."""
    mode = getattr(config, "muscles", "none") or "none"
    if mode not in MUSCLE_MODES:
        raise ValueError(f"muscles={mode!r}: choose from {', '.join(MUSCLE_MODES)}")
    if mode == "none":
        return Heads(tuple(class_names))
    table = load_muscle_table(config.muscle_table)
    table.membership(list(class_names))  # raises, naming each exercise the table lacks
    return Heads(tuple(class_names), mode, table)


def heads_of(content: dict) -> Heads:
    """The heads of a checkpoint (older ones have exercise logits only)."""
    saved = (content.get("extra") or {}).get("heads") or {}
    table = MuscleTable.from_dict(saved["table"]) if saved.get("table") else None
    return Heads(tuple(content["class_names"]), saved.get("mode", "none"), table)
