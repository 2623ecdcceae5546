"""Which parameters train: the classifier only, the last K units, or everything."""

from __future__ import annotations

import torch
from torch import nn


def parse_mode(mode: str) -> tuple[str, int]:
    """``head`` | ``last:K`` | ``all`` -> (kind, K)."""
    if mode in ("head", "all"):
        return mode, 0
    if mode.startswith("last:") and mode[5:].isdigit() and int(mode[5:]) > 0:
        return "last", int(mode[5:])
    raise ValueError(f"--finetune {mode!r}: use head, last:K (K >= 1) or all")


def apply_finetune(model: nn.Module, mode: str) -> list[str]:
    """Set ``requires_grad`` for ``mode``; returns the names of the trainable parameters.

    ``head``: the classifier. ``last:K``: the last K units (with their edge-importance
    masks) and the classifier. ``all``: everything.
    """
    kind, count = parse_mode(mode)
    units = model.units()
    if kind == "last" and count > len(units):
        raise ValueError(f"--finetune last:{count}: the model has only {len(units)} units")
    for parameter in model.parameters():
        parameter.requires_grad = kind == "all"
    if kind != "all":
        trainable: list[nn.Module | nn.Parameter] = [model.head()]
        if kind == "last":
            first = len(units) - count
            trainable += units[first:]
            importance = getattr(model, "edge_importance", None)
            if importance is not None:
                trainable += list(importance)[first:]
        for part in trainable:
            for parameter in ([part] if isinstance(part, nn.Parameter) else part.parameters()):
                parameter.requires_grad = True
    return [name for name, parameter in model.named_parameters() if parameter.requires_grad]


def freeze_frozen_batchnorm(model: nn.Module) -> None:
    """Keep running statistics of frozen batch norms fixed (call after ``model.train()``)."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            if not any(parameter.requires_grad for parameter in module.parameters()):
                module.eval()


def load_initial_weights(model: nn.Module, state_dict: dict[str, torch.Tensor]) -> list[str]:
    """Load everything that fits; a classifier of another size is left freshly initialised.

    Returns the names that were not loaded (the new head). Anything else that does not fit
    is an error.
    """
    own = model.state_dict()
    head_ids = {id(parameter) for parameter in model.head().parameters()}
    head_names = {name for name, parameter in model.named_parameters() if id(parameter) in head_ids}
    usable = {k: v for k, v in state_dict.items() if k in own and own[k].shape == v.shape}
    skipped = sorted(k for k in own if k not in usable)
    unexpected = sorted(set(skipped) - head_names)
    if unexpected:
        raise ValueError(f"the checkpoint does not fit this model: {', '.join(unexpected[:5])} "
                         f"{'...' if len(unexpected) > 5 else ''}")
    model.load_state_dict(usable, strict=False)
    return skipped
