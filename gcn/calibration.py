"""Calibrating a trained checkpoint's rejection ("none of these") on its validation videos.

Used at the end of training and by the evaluation of older checkpoints; it writes the fitted
rejection into the checkpoint, keeping everything else.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from .checkpoint import load_checkpoint, save_checkpoint
from .config import TrainConfig
from .rejection import NONE_OF_THESE, Rejection, fit_rejection, minimum_videos


# The class means of the distance rule come from at most this many training videos per class: a
# mean's standard error falls as 1/sqrt(n), so 200 gives it to 7% of one video's spread, and a
# Kinetics-size split (240,000 videos, 400 classes) costs 80,000 videos' inference instead of all.
CLASS_MEAN_VIDEOS = 200


def class_mean_videos(items: list, per_class: int = CLASS_MEAN_VIDEOS) -> list:
    """The first ``per_class`` training videos of each class, in split order (deterministic)."""
    taken: dict[int, int] = {}
    chosen = []
    for item in items:
        if taken.get(item.label, 0) < per_class:
            taken[item.label] = taken.get(item.label, 0) + 1
            chosen.append(item)
    return chosen


def calibrate_checkpoint(path: Path, model: nn.Module, family, val_set, train_videos, config: TrainConfig,
                         device: torch.device, log: Callable[[str], None] = print) -> Rejection:
    """Fit the calibrated rejection of the checkpoint's weights and store it there.

    ``train_videos`` (the training split, evaluated without augmentation) gives the class means of
    the distance rule; ``val_set`` the temperature and both thresholds.
    """
    bundle = load_checkpoint(path)
    model = copy.deepcopy(model)  # the caller's model keeps its own (last) weights
    model.load_state_dict(bundle.state_dict)
    heads = bundle.heads
    logits, labels, embeddings = family.video_outputs(model, val_set, config, device, heads)
    _, train_labels, train_embeddings = family.video_outputs(model, train_videos, config, device, heads)
    rejection = fit_rejection(heads.exercise(logits), labels, embeddings=embeddings, train_embeddings=train_embeddings,
                              train_labels=train_labels)
    metadata = {**bundle.metadata(), "rejection": rejection.to_dict()}
    save_checkpoint(path, bundle.state_dict, **metadata)
    if not rejection.active:
        log(f"calibrated on {rejection.validation_videos} validation videos: temperature {rejection.temperature:.2f}; "
            f"'{NONE_OF_THESE}' is off for this checkpoint: its thresholds need at least {minimum_videos()} "
            "validation videos")
        return rejection
    distance = "" if rejection.distance_threshold is None else \
        f" or beyond a distance of {rejection.distance_threshold:.1f} from every class"
    log(f"calibrated on {rejection.validation_videos} validation videos: temperature {rejection.temperature:.2f}; "
        f"'{NONE_OF_THESE}' below a top probability of {rejection.threshold:.2f}{distance} "
        f"(answers {rejection.coverage:.0%} of them)")
    return rejection
