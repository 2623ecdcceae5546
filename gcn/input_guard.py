"""Inputs a model never saw vary are held at what it saw: the guard against another skeleton source.

A graph model's input batch norm (``data_bn``) learns each input channel's mean and variance. A
joint that is missing in every training sample (Penn Action has no eyes or ears, so as OpenPose-18
those four joints are 0 throughout) leaves a running variance of about 0; BlazePose does see eyes
and ears, and dividing by ``sqrt(0 + eps)`` multiplied them about 300 times: a Penn-trained ST-GCN
answered "situp" at 100% for every real push-up (issue 23). At inference such channels are set to
their training mean, so the model reads those joints as it was trained to: as not there.
"""

from __future__ import annotations

import torch
from torch import nn

CONSTANT_SHARE = 1e-4  # a channel whose running variance is below this share of the median one was constant


def constant_channels(batch_norm: nn.BatchNorm1d) -> torch.Tensor:
    """``(C,)`` bool: the channels whose training variance was (about) zero."""
    variance = batch_norm.running_var.detach()
    return variance <= CONSTANT_SHARE * variance.median().clamp_min(1e-12)


def guard_constant_inputs(model: nn.Module) -> int:
    """Hold every input channel the model saw constant in training at its training mean, from now
    on (a forward pre-hook on each ``data_bn``); returns how many channels are held.

    Shapes: ``data_bn`` reads ``(N, C, T)``; channels are replaced across all frames.
    """
    held = 0
    for name, module in model.named_modules():
        if not (name.split(".")[-1] == "data_bn" and isinstance(module, nn.BatchNorm1d)
                and module.running_var is not None):
            continue
        mask = constant_channels(module)
        if not mask.any():
            continue
        held += int(mask.sum())
        mean = module.running_mean.detach().clone()

        def hold(_, inputs, mask=mask, mean=mean):
            x = inputs[0].clone()
            where = mask.to(x.device)
            values = mean[mask].to(x.device, x.dtype)
            x[:, where] = values[None, :, None] if x.dim() == 3 else values[None, :]
            return (x,)

        module.register_forward_pre_hook(hold)
    return held
