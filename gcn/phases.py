"""Repetition phases per frame: a temporal head on ST-GCN / MS-G3D, its data and its model family.

The source study counts repetitions by classifying every frame into a phase (three schemes, see
:mod:`posegraph.scoring.phase_labels`) and decoding the sequence. Here the graph backbone keeps
its time axis (:meth:`feature_map`), joints and people are averaged, and a small temporal
convolution predicts a phase per (4x subsampled) frame, interpolated back to every frame.

Training concatenates the videos of a batch along time instead of padding them (no padded frames
to mask, every frame a real one) and weights the background phase (``within``, or ``none`` in the
halves scheme), which holds most frames, by ``within_weight`` (0.2 in the study).

Labels come from the store: a video's ``phases`` rows in the scheme, or its ``repetitions`` rows
(from which every scheme is derived), else the per-frame phase of synthetic videos. Videos with
none of these are left out (and counted in the log).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from posegraph.data import SkeletonStore
from posegraph.data.sources import stored_source
from posegraph.scoring.phase_labels import (
    decode_repetitions,
    phases_from_repetitions,
    repetitions_from_phases,
)
from posegraph.skeleton import get_layout
from posegraph.skeleton.geometry import resample
from posegraph.skeleton.source import SkeletonSource
from posegraph.skeleton.vocabulary import PHASE_BACKGROUND, PHASE_NAMES
from torch import nn
from torch.utils.data import Dataset

from .augment import camera_motion, mirror
from .config import TrainConfig
from .dataset import VideoItem
from .preprocess import prepare, to_channels
from .registry import build_model

BACKGROUND = PHASE_BACKGROUND
HIDDEN_CHANNELS = 128
SPEED_RANGE = (0.6, 2.0)  # training plays each video this many times as fast (log-uniform)


class PhaseNet(nn.Module):
    """A graph backbone that keeps the time axis and a temporal head: one phase per frame.

    Shapes:
        input: ``(N, C, T, V, M)`` -> ``(N * T, phases)``, the frames of each sample in order
        (so a batch concatenated along time is ``N = 1``).
    """

    def __init__(self, backbone: nn.Module, num_phases: int, hidden: int = HIDDEN_CHANNELS) -> None:
        super().__init__()
        self.backbone = backbone
        self.temporal = nn.Sequential(
            nn.Conv1d(backbone.feature_channels, hidden, kernel_size=5, padding=2), nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True), nn.Conv1d(hidden, num_phases, kernel_size=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, frames, _, persons = x.shape
        features = self.backbone.feature_map(x)  # (N * M, C', T', V)
        pooled = features.mean(dim=3).view(batch, persons, features.shape[1], -1).mean(dim=1)  # (N, C', T')
        logits = F.interpolate(self.temporal(pooled), size=frames, mode="linear", align_corners=False)
        return logits.permute(0, 2, 1).reshape(batch * frames, -1)

    def units(self) -> list[nn.Module]:
        return self.backbone.units()

    def head(self) -> nn.Module:
        return self.temporal[-1]


def model_frame_sources(timestamps: np.ndarray, frames_per_second: float | None) -> np.ndarray:
    """For each frame the model sees, the position of the stored frame it shows (``(T',)`` int)."""
    positions = np.arange(len(timestamps))[:, None, None]
    if not frames_per_second:
        return positions[:, 0, 0]
    nearest, _ = resample(positions, timestamps, frames_per_second)
    return nearest[:, 0, 0]


def stored_phases(store: SkeletonStore, video_id: str, layout: str, scheme: str) -> np.ndarray | None:
    """Per stored frame phase labels ``(T,)`` of ``scheme`` (None when the video has no labels)."""
    frames = store.read_video(video_id, layout=layout)
    indices = np.asarray(frames.frame_indices)
    own = store.read_phases(video_id, scheme)
    if own.num_rows:
        labels = np.full(len(indices), BACKGROUND[scheme], dtype=object)
        for row in own.to_pylist():
            labels[(indices >= row["first_frame"]) & (indices <= row["last_frame"])] = row["phase"]
        return labels
    whole = store.read_phases(video_id, "repetitions")
    if whole.num_rows:
        repetitions = []
        for row in whole.to_pylist():
            inside = np.flatnonzero((indices >= row["first_frame"]) & (indices <= row["last_frame"]))
            if len(inside):
                repetitions.append((int(inside[0]), int(inside[-1])))
        return phases_from_repetitions(len(indices), repetitions, scheme)
    if frames.phase is not None and any(phase in ("away", "return") for phase in frames.phase):
        return phases_from_repetitions(len(indices), repetitions_from_phases(frames.phase), scheme)
    return None


class PhaseDataset(Dataset):
    """Whole videos with a phase per frame; :meth:`collate` concatenates a batch along time.

    Items: ``data (C, T, V, M)`` float32 and ``labels (T,)`` int64 at the model's frame rate.
    Training plays the video 0.6x to 2x as fast (frames dropped or repeated, labels alike), takes
    a random crop of at most ``clip_frames`` frames, mirrored left-right half of the time, with
    simulated camera motion; evaluation takes whole videos.
    """

    def __init__(self, store: SkeletonStore, items: list[VideoItem], model_layout: str, config: TrainConfig,
                 train: bool = False) -> None:
        self.store, self.model_layout, self.config, self.train = store, model_layout, config, train
        self.phase_names = PHASE_NAMES[config.phase_scheme]
        self.mirror_index = get_layout(model_layout).mirror_index
        self.epoch = 0
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.items: list[VideoItem] = []
        self.unlabelled = 0
        for item in items:
            labels = stored_phases(store, item.video_id, item.layout, config.phase_scheme)
            if labels is None:
                self.unlabelled += 1
                continue
            self._cache[len(self.items)] = self._prepared(item, labels)
            self.items.append(item)

    def _prepared(self, item: VideoItem, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sequence = stored_source(self.store, item.video_id, item.layout, self.config.num_persons)
        data = to_channels(prepare(sequence, self.model_layout, self.config.frames_per_second,
                                   self.config.joint_confidence))
        sources = model_frame_sources(sequence.timestamps, self.config.frames_per_second)
        index = {name: position for position, name in enumerate(self.phase_names)}
        return data, np.array([index[label] for label in labels[sources]], dtype=np.int64)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def frame_counts(self) -> list[int]:
        """Model frames of each video, in order (what an evaluation pass yields per video)."""
        return [len(self._cache[index][1]) for index in range(len(self.items))]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        data, labels = self._cache[index]
        if self.train:
            random = np.random.default_rng([self.config.seed, self.epoch, index])
            if self.config.augment:  # people repeat at any pace: play the video 0.6x to 2x as fast
                speed = float(np.exp(random.uniform(np.log(SPEED_RANGE[0]), np.log(SPEED_RANGE[1]))))
                picked = np.round(np.arange(0, data.shape[1], speed)).astype(np.int64)
                picked = picked[picked < data.shape[1]]
                data, labels = data[:, picked], labels[picked]
            if data.shape[1] > self.config.clip_frames:
                start = int(random.integers(0, data.shape[1] - self.config.clip_frames + 1))
                data = data[:, start:start + self.config.clip_frames]
                labels = labels[start:start + self.config.clip_frames]
            heads = random.random() < 0.5
            if self.config.augment and self.config.flip and heads:
                data = mirror(data, self.mirror_index)
            if self.config.augment:
                data = camera_motion(data, random)
        return torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32)), torch.from_numpy(labels)

    @staticmethod
    def collate(batch: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Videos one after another along time. Shapes: ``(C, T_i, V, M)`` -> ``(1, C, sum T_i, V, M)``, ``(sum T_i,)``."""
        return torch.cat([data for data, _ in batch], dim=1)[None], torch.cat([labels for _, labels in batch])


class PhaseFamily:
    """Graph models with the temporal head (``task=phases``), behind the families' interface."""

    name = "phase"
    calibrates = False  # no "none of these" for phases

    def class_names(self, corpus, config: TrainConfig) -> list[str]:
        return list(PHASE_NAMES[config.phase_scheme])

    def build(self, config: TrainConfig, layout: str, class_count: int, in_channels: int | None = None,
              num_persons: int | None = None) -> nn.Module:
        """A graph backbone (x, y, confidence channels) with the temporal head over ``class_count`` phases."""
        backbone = build_model(config.model, layout, 1, 3, num_persons or config.num_persons,
                               **config.model_options())
        return PhaseNet(backbone, class_count)

    @staticmethod
    def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
        """Balanced frame accuracy (mean recall over the phases present): the background phase holds
        most frames, so plain accuracy would reward predicting only it."""
        predicted = logits.argmax(axis=1)
        recalls = [float((predicted[labels == phase] == phase).mean()) for phase in np.unique(labels)]
        return float(np.mean(recalls)) if recalls else 0.0

    def loss(self, config: TrainConfig, train_labels: list[int], class_names: list[str], heads=None) -> nn.Module:
        weights = torch.ones(len(class_names))
        weights[class_names.index(BACKGROUND[config.phase_scheme])] = config.within_weight
        return nn.CrossEntropyLoss(weight=weights)

    def datasets(self, store: SkeletonStore, train_items: list[VideoItem], val_items: list[VideoItem],
                 layout: str, config: TrainConfig, log=print) -> tuple[Dataset, Dataset, dict]:
        train_set = PhaseDataset(store, train_items, layout, config, train=True)
        if not len(train_set):
            raise ValueError(f"none of the {len(train_items)} training videos has phase labels: import them with "
                             f"`posegraph import phases CSV --store S` (or train on synthetic videos)")
        return train_set, self.eval_set(store, val_items, layout, config, {}), {"in_channels": 3}

    def eval_set(self, store: SkeletonStore, items: list[VideoItem], layout: str, config: TrainConfig,
                 extra: dict, split: str = "eval", log=print, cached_from: list[VideoItem] | None = None) -> Dataset:
        """Whole videos with their phases (phase labels are per frame: read per video, never cached)."""
        return PhaseDataset(store, items, layout, config)

    def video_logits(self, model: nn.Module, dataset: PhaseDataset, config: TrainConfig,
                     device: torch.device, heads=None) -> tuple[np.ndarray, np.ndarray]:
        """Per-frame logits ``(F, phases)`` and labels ``(F,)`` over every frame of every video."""
        model.eval()
        logits, labels = [], []
        with torch.no_grad():
            for index in range(len(dataset)):
                data, target = dataset[index]
                logits.append(model(data[None].to(device)).float().cpu())
                labels.append(target)
        if not logits:
            return np.zeros((0, len(dataset.phase_names)), np.float32), np.zeros(0, np.int64)
        return torch.cat(logits).numpy(), torch.cat(labels).numpy()

    def video_counts(self, logits: np.ndarray, labels: np.ndarray, dataset: PhaseDataset,
                     config: TrainConfig) -> list[tuple[str, int, int]]:
        """``(video_id, counted, true)`` per video from :meth:`video_logits`' output (the videos in
        order): the predicted and the labelled phases decoded with the same rule
        (:func:`~posegraph.scoring.phase_labels.decode_repetitions`)."""
        names = np.asarray(dataset.phase_names, dtype=object)
        ends = np.cumsum(dataset.frame_counts())
        counts = []
        for item, stop, start in zip(dataset.items, ends, np.concatenate([[0], ends[:-1]])):
            predicted, labelled = names[logits[start:stop].argmax(axis=1)], names[labels[start:stop]]
            counts.append((item.video_id, len(decode_repetitions(predicted, config.phase_scheme)),
                           len(decode_repetitions(labelled, config.phase_scheme))))
        return counts

    def classify(self, model: nn.Module, config: TrainConfig, layout: str, extra: dict,
                 sequence: SkeletonSource, heads=None) -> np.ndarray:
        raise ValueError("this checkpoint predicts repetition phases, not exercises: count with it "
                         "(`posegraph count VIDEO --checkpoint FILE`)")

    def frame_phases(self, model: nn.Module, config: TrainConfig, layout: str, class_names: list[str],
                     sequence: SkeletonSource) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One video's phase per model frame ``(T',)`` (names), their probabilities ``(T', phases)``
        and the stored frame each model frame shows ``(T',)``."""
        people = sequence.people[:config.num_persons]
        if people.shape[0] < config.num_persons:
            padding = np.full((config.num_persons - people.shape[0],) + people.shape[1:], np.nan, people.dtype)
            people = np.concatenate([people, padding])
        sequence = SkeletonSource.from_people(people, sequence.layout, sequence.timestamps, sequence.width, sequence.height)
        data = torch.from_numpy(to_channels(prepare(sequence, layout, config.frames_per_second, config.joint_confidence)))
        model.eval()
        with torch.no_grad():
            probabilities = torch.softmax(model(data[None].to(next(model.parameters()).device)).float(), dim=1)
        probabilities = probabilities.cpu().numpy()
        names = np.asarray(class_names, dtype=object)[probabilities.argmax(axis=1)]
        return names, probabilities, model_frame_sources(sequence.timestamps, config.frames_per_second)


__all__ = ["BACKGROUND", "PHASE_NAMES", "PhaseDataset", "PhaseFamily", "PhaseNet", "model_frame_sources",
           "stored_phases"]
