"""Learning-rate schedules as plain logic: testable without an optimiser, resumable from a dict."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PlateauSchedule:
    """Keras' ``ReduceLROnPlateau`` on validation loss (background 5.3: factor 0.5, patience 8, 1e-6).

    Each epoch, :meth:`step` is given the validation loss and the current rate. A loss below
    ``best - min_delta`` is an improvement and resets the count; after ``patience`` epochs in a
    row without one the rate is multiplied by ``factor`` (never below ``min_lr``) and the count
    starts again. A NaN loss counts as no improvement. Only ``best`` and ``wait`` change, and
    :meth:`state_dict` holds them as plain Python values (checkpoint-safe, ``weights_only=True``).

    Example:
        >>> schedule = PlateauSchedule()
        >>> for group in optimizer.param_groups:
        ...     group["lr"] = schedule.step(val_loss, group["lr"])
    """

    factor: float = 0.5
    patience: int = 8
    min_lr: float = 1e-6
    min_delta: float = 0.0
    best: float | None = field(default=None, init=False)
    wait: int = field(default=0, init=False)

    def step(self, val_loss: float, lr: float) -> float:
        """Record one epoch's validation loss; returns the learning rate for the next epoch."""
        if not math.isnan(val_loss) and (self.best is None or val_loss < self.best - self.min_delta):
            self.best, self.wait = float(val_loss), 0
            return lr
        self.wait += 1
        if self.wait < self.patience:
            return lr
        self.wait = 0
        return max(lr * self.factor, self.min_lr) if lr > self.min_lr else lr  # never raised

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = None if state["best"] is None else float(state["best"])
        self.wait = int(state["wait"])


@dataclass
class EarlyStopping:
    """Stop when validation accuracy has not improved for ``patience`` epochs; remember the best.

    :meth:`step` returns True when the epoch is a new best (the caller keeps those weights as
    ``best.pt``, which evaluation and ``classify`` use: the best weights are what a run leaves).
    """

    patience: int
    best_accuracy: float = -1.0
    best_epoch: int = -1
    stale: int = 0

    def step(self, accuracy: float, epoch: int) -> bool:
        if accuracy > self.best_accuracy:
            self.best_accuracy, self.best_epoch, self.stale = float(accuracy), int(epoch), 0
            return True
        self.stale += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.stale >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {"best_accuracy": self.best_accuracy, "best_epoch": self.best_epoch, "stale": self.stale}
