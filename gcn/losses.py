"""Losses for imbalanced exercise classes: focal loss and sklearn-style balanced class weights.

Background (mediapipe-biomech-bilstm-attention, 5.1): focal loss with gamma 2 and alpha 1, plus
balanced class weights, so rare exercises and hard windows are not drowned out by easy ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import TrainConfig
from .heads import Heads


class FocalLoss(nn.Module):
    """``FL = -alpha_t * w_t * (1 - p_t) ** gamma * log(p_t)`` for integer targets (Lin et al. 2017).

    ``p_t`` comes from ``log_softmax`` (stable for any logits; no epsilon clipping needed).
    Reduction ``mean`` is the plain mean over samples of the weighted terms, *not* divided by the
    sum of weights as ``nn.CrossEntropyLoss(weight=...)`` does: weights then change the size of
    the loss as well as the balance, exactly as Keras' ``class_weight`` does with a custom loss.
    With ``gamma=0`` and no alpha or weights it equals ``F.cross_entropy``.

    Args:
        gamma: focusing exponent; 0 turns focal loss into cross-entropy.
        alpha: ``None`` (1), one float for every class, or a tensor of one value per class.
        class_weights: ``None`` or one weight per class (e.g. :func:`balanced_class_weights`).
        reduction: ``mean`` | ``sum`` | ``none``.

    Shapes:
        logits ``(N, C)``, targets ``(N,)`` int -> scalar (``none``: ``(N,)``).
    """

    def __init__(self, gamma: float = 2.0, alpha: float | Sequence[float] | torch.Tensor | None = None,
                 class_weights: Sequence[float] | torch.Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"reduction {reduction!r}: use mean, sum or none")
        self.gamma, self.reduction = float(gamma), reduction
        self.alpha_scalar = float(alpha) if isinstance(alpha, (int, float)) else None
        per_class = None if alpha is None or self.alpha_scalar is not None else alpha
        # Buffers follow .to(device) and live in the state dict; None buffers are skipped there.
        self.register_buffer("alpha", _as_tensor(per_class))
        self.register_buffer("class_weights", _as_tensor(class_weights))

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        log_p = F.log_softmax(logits.float(), dim=1).gather(1, targets[:, None]).squeeze(1)
        loss = -(1.0 - log_p.exp()) ** self.gamma * log_p
        if self.alpha_scalar is not None:
            loss = loss * self.alpha_scalar
        if self.alpha is not None:
            loss = loss * self.alpha[targets]
        if self.class_weights is not None:
            loss = loss * self.class_weights[targets]
        if self.reduction == "none":
            return loss
        return loss.sum() if self.reduction == "sum" else loss.mean()


def balanced_class_weights(labels: Sequence[int] | np.ndarray, num_classes: int) -> torch.Tensor:
    """sklearn's ``"balanced"``: ``n_samples / (num_classes * count_c)`` per class, float32.

    A class with no samples gets weight 1 (neutral) rather than infinity or 0: it cannot be
    learned from this data, but its samples elsewhere (validation) still count at face value.

    Shapes:
        labels ``(n,)`` ints in ``[0, num_classes)`` -> ``(num_classes,)``.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got {labels.min()}..{labels.max()}")
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    weights = np.ones(num_classes)
    present = counts > 0
    weights[present] = labels.size / (num_classes * counts[present])
    return torch.from_numpy(weights.astype(np.float32))


def _as_tensor(values: Sequence[float] | torch.Tensor | None) -> torch.Tensor | None:
    return None if values is None else torch.as_tensor(values, dtype=torch.float32).clone()


def loss_for(config: TrainConfig, train_labels: list[int], class_count: int) -> nn.Module:
    """Cross-entropy or focal loss, with balanced class weights when the config asks."""
    weights = balanced_class_weights(train_labels, class_count) if config.class_weights == "balanced" else None
    if config.class_weights not in ("balanced", "none"):
        raise ValueError(f"class_weights must be balanced or none, got {config.class_weights!r}")
    if config.loss == "focal":
        if config.label_smoothing:
            raise ValueError("label_smoothing applies to loss=cross_entropy only; set label_smoothing=0 for focal loss")
        return FocalLoss(config.focal_gamma, config.focal_alpha, weights)
    if config.loss == "cross_entropy":
        return nn.CrossEntropyLoss(weight=weights, label_smoothing=config.label_smoothing or 0.0)
    raise ValueError(f"loss must be cross_entropy or focal, got {config.loss!r}")


class MuscleLoss(nn.Module):
    """The exercise loss on the exercise columns plus ``muscle_weight`` x binary cross-entropy
    (mean over videos and groups) on the muscle columns, targets from the exercise label.

    Shapes: logits ``(N, K + G)``, labels ``(N,)`` int -> scalar.
    """

    def __init__(self, heads: Heads, exercise_loss: nn.Module | None, muscle_weight: float = 1.0) -> None:
        super().__init__()
        self.heads, self.exercise_loss, self.muscle_weight = heads, exercise_loss, float(muscle_weight)
        self.register_buffer("targets", torch.tensor(heads.membership()))

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        muscle = F.binary_cross_entropy_with_logits(self.heads.muscles(logits).float(), self.targets[labels])
        if self.exercise_loss is None:
            return muscle
        return self.exercise_loss(self.heads.exercise(logits), labels) + self.muscle_weight * muscle
