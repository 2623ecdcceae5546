"""Model families: what differs between graph models and the sequence model, behind one interface.

The training loop (:mod:`posegraph.gcn.training`), evaluation and ``classify`` are written once;
a family supplies the model, the datasets, video-level evaluation and what its checkpoints need
beyond the weights (the BiLSTM's feature scaler and windowing).

- ``graph`` (``stgcn``, ``msg3d``): skeleton sequences ``(C, T, V, M)``; training sees random
  crops, and a video's logits are the mean over ``test_crops`` crops spread evenly over it.
- ``sequence`` (``bilstm``): windows of 83 biomechanical features ``(T, 83)``; a video's
  probabilities are the confidence-weighted average of its windows' (windows below
  ``min_window_confidence`` left out), so its logits are their logarithm.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.distributed as dist
from posegraph.data import SkeletonStore
from posegraph.skeleton.source import SkeletonSource
from torch import nn
from torch.utils.data import DataLoader, Dataset

from .config import TrainConfig
from .dataset import (
    CropRecipe,
    SkeletonDataset,
    VideoItem,
    average_over_crops,
    collate_crops,
)
from .heads import Heads
from .losses import MuscleLoss
from .model_inputs import graph_crops, sequence_windows, vote
from .registry import build_model
from .training_cache import training_clips

if TYPE_CHECKING:
    from .bundle import ModelBundle

GRAPH_IN_CHANNELS = 3


@contextmanager
def head_inputs(model: nn.Module):
    """Collect what the classifier head reads (the video or window embeddings) during forward passes.

    Yields a list that fills with ``(N, D)`` CPU tensors, one per forward pass.
    """
    captured: list[torch.Tensor] = []
    handle = model.head().register_forward_pre_hook(
        lambda module, inputs: captured.append(inputs[0].detach().float().flatten(1).cpu()))
    try:
        yield captured
    finally:
        handle.remove()


class ClassifierFamily:
    """What the classifier families share: the corpus's labels as classes, the configured loss,
    and a calibrated "none of these" after training."""

    calibrates = True

    def class_names(self, corpus, config: TrainConfig) -> list[str]:
        return list(corpus.class_names)

    def loss(self, config: TrainConfig, train_labels: list[int], class_names: list[str],
             heads: Heads | None = None) -> nn.Module:
        from .losses import loss_for

        if heads is None or not heads.groups:
            return loss_for(config, train_labels, len(class_names))
        exercise = loss_for(config, train_labels, len(class_names)) if heads.exercise_count else None
        return MuscleLoss(heads, exercise, config.muscle_weight)


class GraphFamily(ClassifierFamily):
    """ST-GCN and MS-G3D over whole skeleton sequences."""

    name = "graph"

    def build(self, config: TrainConfig, layout: str, class_count: int, in_channels: int | None = None,
              num_persons: int | None = None) -> nn.Module:
        """The model; ``in_channels`` and ``num_persons`` as a checkpoint records them (else the config's)."""
        return build_model(config.model, layout, class_count, in_channels or GRAPH_IN_CHANNELS,
                           num_persons or config.num_persons, **config.model_options())

    def datasets(self, store: SkeletonStore, train_items: list[VideoItem], val_items: list[VideoItem],
                 layout: str, config: TrainConfig, log: Callable[[str], None] = print) -> tuple[Dataset, Dataset, dict]:
        clips = training_clips(store, train_items, layout, config, "train", log)
        if clips is not None and config.cache == "stream":
            from .clip_stream import ClipStream

            rank, world_size = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
            recipe = CropRecipe(layout, config.clip_frames, config.augment, config.flip, config.vary_source,
                                config.stream)
            train_set = ClipStream(clips, train_items, recipe, config.seed, rank=rank, world_size=world_size)
        else:
            train_set = SkeletonDataset(store, train_items, layout, config.num_persons, train=True,
                                        clip_frames=config.clip_frames, seed=config.seed, augment=config.augment,
                                        frames_per_second=config.frames_per_second, flip=config.flip,
                                        confidence=config.joint_confidence, vary=config.vary_source,
                                        stream=config.stream, clips=clips)
        val_set = self.eval_set(store, val_items, layout, config, {}, split="val", log=log)
        return train_set, val_set, {"in_channels": GRAPH_IN_CHANNELS}

    def eval_set(self, store: SkeletonStore, items: list[VideoItem], layout: str, config: TrainConfig,
                 extra: dict, split: str = "eval", log: Callable[[str], None] = print,
                 cached_from: list[VideoItem] | None = None) -> Dataset:
        """Evenly spaced crops of each video; read from the training cache when ``config.cache`` says
        (``split`` names its folder: ``train``, ``val``, ``test``). ``cached_from``: the whole split
        ``items`` are taken from, whose cache holds them (the class means' subset of the train split
        reads training's cache instead of building, and replacing it with, a cache of its own)."""
        return SkeletonDataset(store, items, layout, config.num_persons, clip_frames=config.clip_frames,
                               frames_per_second=config.frames_per_second, test_crops=config.test_crops,
                               confidence=config.joint_confidence, stream=config.stream,
                               clips=training_clips(store, cached_from or items, layout, config, split, log))

    def video_logits(self, model: nn.Module, dataset: SkeletonDataset, config: TrainConfig,
                     device: torch.device, heads: Heads | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Logits ``(N, outputs)`` (each the mean over the video's crops) and labels ``(N,)``."""
        return self.video_outputs(model, dataset, config, device)[:2]

    def video_outputs(self, model: nn.Module, dataset: SkeletonDataset, config: TrainConfig,
                      device: torch.device, heads: Heads | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Logits ``(N, outputs)``, labels ``(N,)`` and embeddings ``(N, D)``, each a mean over the video's crops
        (exercise and muscle logits alike: both are averaged before their softmax or sigmoid)."""
        loader = DataLoader(dataset, batch_size=max(config.eval_batch_size // max(config.test_crops, 1), 1),
                            shuffle=False, collate_fn=collate_crops)
        model.eval()
        logits, labels, embeddings = [], [], []
        with torch.no_grad(), head_inputs(model) as captured:
            for data, counts, target in loader:
                logits.append(average_over_crops(model(data.to(device)).float().cpu(), counts))
                embeddings.append(average_over_crops(captured.pop(), counts))
                labels.append(target)
        return torch.cat(logits).numpy(), torch.cat(labels).numpy(), torch.cat(embeddings).numpy()

    def classify(self, model: nn.Module, config: TrainConfig, layout: str, extra: dict,
                 sequence: SkeletonSource, heads: Heads | None = None) -> np.ndarray:
        """Video logits ``(outputs,)`` of one video: the mean over its crops."""
        crops = torch.from_numpy(graph_crops(config, layout, sequence))
        device = next(model.parameters()).device
        with torch.no_grad():
            return model(crops.to(device)).float().mean(dim=0).cpu().numpy()


class SequenceFamily(ClassifierFamily):
    """The BiLSTM-attention classifier over windows of biomechanical features."""

    name = "sequence"

    def build(self, config: TrainConfig, layout: str, class_count: int, in_channels: int | None = None,
              num_persons: int | None = None) -> nn.Module:
        """The BiLSTM over ``in_channels`` features per frame (a checkpoint's, else this release's 83)."""
        from posegraph.features import FEATURE_NAMES

        return build_model(config.model, layout, class_count, in_channels or len(FEATURE_NAMES))

    def datasets(self, store: SkeletonStore, train_items: list[VideoItem], val_items: list[VideoItem],
                 layout: str, config: TrainConfig, log: Callable[[str], None] = print) -> tuple[Dataset, Dataset, dict]:
        from posegraph.features import FEATURE_NAMES

        from .feature_windows import FeatureWindows

        train_set = FeatureWindows(store, train_items, layout, config.frames_per_second, config.window_frames,
                                   config.frame_step, config.window_overlap, train=True, augment=config.augment,
                                   seed=config.seed, confidence=config.joint_confidence, vary=config.vary_source)
        scaler = train_set.fit_scaler()  # training windows only
        extra = {"scaler": scaler.to_dict(), "feature_names": list(FEATURE_NAMES)}
        return train_set, self.eval_set(store, val_items, layout, config, extra), {**extra, "in_channels": len(FEATURE_NAMES)}

    def eval_set(self, store: SkeletonStore, items: list[VideoItem], layout: str, config: TrainConfig,
                 extra: dict, split: str = "eval", log: Callable[[str], None] = print,
                 cached_from: list[VideoItem] | None = None) -> Dataset:
        """Feature windows of each video (read per video: this family has no cache)."""
        from .feature_windows import FeatureWindows
        from .sequence import FeatureScaler

        return FeatureWindows(store, items, layout, config.frames_per_second, config.window_frames,
                              config.frame_step, config.window_overlap,
                              scaler=FeatureScaler.from_dict(extra["scaler"]), confidence=config.joint_confidence)

    def window_logits(self, model: nn.Module, windows: torch.Tensor, batch_size: int,
                      device: torch.device) -> np.ndarray:
        model.eval()
        with torch.no_grad():
            logits = [model(windows[i:i + batch_size].to(device)).float().cpu() for i in range(0, len(windows), batch_size)]
        return torch.cat(logits).numpy()

    @staticmethod
    def vote(window_logits: np.ndarray, heads: Heads | None, min_window_confidence: float) -> np.ndarray:
        """One video's logits ``(outputs,)`` from its windows' ``(W, outputs)``: the exercise columns
        are the log of the confidence-weighted vote of the windows' probabilities, the muscle
        columns the mean of the windows' muscle logits."""
        exercise_count = window_logits.shape[1] if heads is None else heads.exercise_count
        return vote(window_logits, exercise_count, min_window_confidence)

    def video_logits(self, model: nn.Module, dataset, config: TrainConfig,
                     device: torch.device, heads: Heads | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Video-level logits ``(N, outputs)`` (:meth:`vote`) and labels ``(N,)``."""
        return self.video_outputs(model, dataset, config, device, heads)[:2]

    def video_outputs(self, model: nn.Module, dataset, config: TrainConfig,
                      device: torch.device, heads: Heads | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Video logits and labels as :meth:`video_logits`, and embeddings ``(N, D)``: the mean over its windows."""
        windows = torch.stack([dataset[i][0] for i in range(len(dataset))])
        with head_inputs(model) as captured:
            logits = self.window_logits(model, windows, config.eval_batch_size, device)
        window_embeddings = torch.cat(captured).numpy()
        owners = dataset.video_of_window()
        videos = range(len(dataset.items))
        voted = np.stack([self.vote(logits[owners == position], heads, config.min_window_confidence)
                          for position in videos])
        embeddings = np.stack([window_embeddings[owners == position].mean(axis=0) for position in videos])
        return voted, np.array([item.label for item in dataset.items]), embeddings

    def classify(self, model: nn.Module, config: TrainConfig, layout: str, extra: dict,
                 sequence: SkeletonSource, heads: Heads | None = None) -> np.ndarray:
        """Video logits ``(outputs,)`` of one video (:meth:`vote` over its windows)."""
        scaled = sequence_windows(config, layout, extra, sequence)
        device = next(model.parameters()).device
        logits = self.window_logits(model, torch.from_numpy(scaled), config.eval_batch_size, device)
        return self.vote(logits, heads, config.min_window_confidence)


def frames_that_mattered(model: nn.Module, bundle: "ModelBundle",
                         sequence: SkeletonSource) -> tuple[np.ndarray, np.ndarray]:
    """The BiLSTM's attention spread over the video: ``(times_s (T,), importance (T,))`` at the
    model's frame rate, importance summing to 1.

    Each window's attention per frame (mean attention received, :func:`frame_importance`) is
    added to the frames it sampled, weighted by the window's confidence.
    """
    from .bilstm import frame_importance
    from .model_inputs import sequence_features
    from .sequence import FeatureScaler, window_starts, windows

    config = bundle.config
    if config.family != "sequence":
        raise ValueError(f"{config.model} has no attention over frames; only bilstm checkpoints do")
    features = sequence_features(sequence, bundle.layout, config.frames_per_second, config.joint_confidence)
    starts = window_starts(len(features), config.window_frames, config.frame_step, config.window_overlap)
    scaled = FeatureScaler.from_dict(bundle.extra["scaler"]).transform(
        windows(features, starts, config.window_frames, config.frame_step))
    with torch.no_grad():
        logits, attention = model(torch.from_numpy(scaled).to(next(model.parameters()).device), return_attention=True)
    confidence = torch.softmax(logits.float(), dim=1).amax(dim=1).cpu().numpy()
    per_window = frame_importance(attention.float()).cpu().numpy() * confidence[:, None]
    importance = np.zeros(len(features))
    frames = (starts[:, None] + np.arange(config.window_frames) * config.frame_step) % len(features)
    np.add.at(importance, frames, per_window)
    return np.arange(len(features)) / config.frames_per_second, importance / max(importance.sum(), 1e-12)


def _phase_family():
    from .phases import PhaseFamily

    return PhaseFamily()


FAMILIES = {"graph": GraphFamily(), "sequence": SequenceFamily(), "phase": _phase_family()}


def family_of(config: TrainConfig):
    """The family that trains, evaluates and applies models of ``config`` (see the module docstring)."""
    return FAMILIES[config.family]
