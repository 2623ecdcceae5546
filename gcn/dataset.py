"""A torch ``Dataset`` over the skeleton store.

Reads only the videos it is given (one bucket file each), caches their prepared arrays (model
layout, model frame rate, one geometry: see :mod:`posegraph.gcn.preprocess`), and serves
``(C, T, V, M)`` tensors: training takes a random crop of ``clip_frames`` frames, mirrors it left-right
half of the time and adds simulated camera movement; evaluation returns ``(K, C, T, V, M)``, K
crops of the same length spread evenly over the video, whose scores are averaged (see
:func:`collate_crops`). Randomness comes from
``(seed, epoch, index)`` only, so a resumed run sees exactly the samples an uninterrupted one
would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from posegraph.data import SkeletonStore
from posegraph.data.sources import stored_source
from posegraph.skeleton import get_layout
from torch.utils.data import Dataset

from .augment import apply_camera, camera_path, evenly_spaced_crops, mirror, random_crop
from .model_inputs import input_stream
from .preprocess import DEFAULT_FPS, prepare, to_channels
from .source_variation import vary_channels

if TYPE_CHECKING:
    from .clip_cache import ClipCache


@dataclass(frozen=True)
class VideoItem:
    """One video of a dataset: its id, stored layout, class index and frame size."""

    video_id: str
    layout: str
    label: int
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class CropRecipe:
    """How a training sample is made from a whole prepared sequence (see :func:`training_samples`)."""

    layout: str  # the model's layout (mirror pairs, bone tree)
    clip_frames: int = 48
    augment: bool = True
    flip: bool = True
    vary: bool = False
    stream: str = "joint"


def training_samples(sequences: list[np.ndarray], seeds: list[list[int]], recipe: CropRecipe) -> np.ndarray:
    """A batch of training samples: per sequence a random crop, mirrored half of the time, moved by
    a camera path (and first varied as another source would record it, with ``recipe.vary``); the
    arithmetic runs on the whole batch at once. Each sample's randomness comes from its own seed
    (``[run seed, epoch, clip]``), so a sample is the same whatever batch it is drawn in.

    Shapes: ``N x (C, T_i, V, M)`` -> ``(N, C, clip_frames, V, M)`` float32.
    """
    mirror_index = get_layout(recipe.layout).mirror_index
    crops, paths, flips = [], [], []
    for data, seed in zip(sequences, seeds):
        random = np.random.default_rng(seed)
        if recipe.augment and recipe.vary:
            data = vary_channels(data, recipe.layout, np.random.default_rng([*seed, 1]))
        crops.append(random_crop(data, recipe.clip_frames, random))
        heads = random.random() < 0.5  # drawn whatever the settings: the other draws stay the same
        flips.append(recipe.augment and recipe.flip and heads)
        if recipe.augment:
            paths.append(camera_path(recipe.clip_frames, random))
    batch = np.stack(crops).astype(np.float32, copy=False)
    flipped = np.flatnonzero(flips)
    if len(flipped):
        batch[flipped] = mirror(batch[flipped], mirror_index)
    if recipe.augment:
        batch = apply_camera(batch, np.stack(paths))
    return np.ascontiguousarray(input_stream(batch, recipe.layout, recipe.stream), dtype=np.float32)


class SkeletonDataset(Dataset):
    """Skeleton sequences of one split, ready for a graph classifier.

    Args:
        store: the skeleton store.
        items: the videos (id, stored layout, class index).
        model_layout: layout the model expects (stored data is converted when it differs).
        num_persons: persons M per sample.
        train: random crops + augmentation when True, evenly spaced crops otherwise.
        clip_frames: crop length (48 = 3 s at 16 fps).
        frames_per_second: sequences are resampled to this rate by their timestamps.
        flip: mirror training crops left-right with probability 1/2 (when ``augment``).
        test_crops: crops per video for evaluation.
        confidence: the joints' confidence as the model reads it (``presence`` or ``score``, :func:`.preprocess.prepare`).
        vary: with ``train`` and ``augment``, vary each training sample's source first
            (:func:`.source_variation.vary_channels`, its own random draws).
        clips: the training cache of these videos (:mod:`.clip_cache`): sequences are read from its
            memory-mapped arrays instead of the store, and nothing is kept per process.
    """

    def __init__(self, store: SkeletonStore, items: list[VideoItem], model_layout: str, num_persons: int = 1,
                 train: bool = False, clip_frames: int = 48, seed: int = 0, augment: bool = True,
                 frames_per_second: float = DEFAULT_FPS, flip: bool = True, test_crops: int = 5,
                 confidence: str = "presence", vary: bool = False, stream: str = "joint",
                 clips: ClipCache | None = None) -> None:
        self.store = store
        self.stream = stream  # the input stream the model reads (model_inputs.input_stream)
        self.confidence, self.vary = confidence, vary
        self.items = items
        self.model_layout = model_layout
        self.num_persons = num_persons
        self.train = train
        self.clip_frames = clip_frames
        self.seed = seed
        self.augment = augment
        self.frames_per_second = frames_per_second
        self.flip = flip
        self.test_crops = test_crops
        self.recipe = CropRecipe(model_layout, clip_frames, augment, flip, vary, stream)
        self.clips = clips
        self.epoch = 0
        self._cache: dict[int, np.ndarray] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.items)

    def sequence(self, index: int) -> np.ndarray:
        """The normalised whole sequence ``(C, T, V, M)`` (from the training cache, else read once and kept)."""
        if self.clips is not None:
            return self.clips.sequence(self.items[index].video_id)
        if index not in self._cache:
            item = self.items[index]
            sequence = stored_source(self.store, item.video_id, item.layout, self.num_persons)
            self._cache[index] = to_channels(prepare(sequence, self.model_layout, self.frames_per_second,
                                                     self.confidence))
        return self._cache[index]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        if not self.train:
            crops = input_stream(evenly_spaced_crops(self.sequence(index), self.clip_frames, self.test_crops),
                                 self.model_layout, self.stream)
            return torch.from_numpy(crops), self.items[index].label
        return self.__getitems__([index])[0]

    def __getitems__(self, indices: list[int]) -> list[tuple[torch.Tensor, int]]:
        """A DataLoader batch at once (torch calls this when a dataset has it): training samples are
        made together by :func:`training_samples`, the same samples ``__getitem__`` makes one by one."""
        if not self.train:
            return [self[index] for index in indices]
        batch = torch.from_numpy(training_samples([self.sequence(index) for index in indices],
                                                  [[self.seed, self.epoch, index] for index in indices], self.recipe))
        return [(sample, self.items[index].label) for sample, index in zip(batch, indices)]


def collate_crops(batch: list[tuple[torch.Tensor, int]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Evaluation batches: every video's crops in one tensor, how many each video has, and the labels.

    Shapes: ``K_i x (C, T, V, M)`` per video -> ``(sum K_i, C, T, V, M)``, ``(N,)``, ``(N,)``.
    """
    return (torch.cat([crops for crops, _ in batch]), torch.tensor([len(crops) for crops, _ in batch]),
            torch.tensor([label for _, label in batch]))


def average_over_crops(crop_logits: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """``(sum K_i, classes)`` -> ``(N, classes)``: each video's mean logits over its crops."""
    return torch.stack([chunk.mean(dim=0) for chunk in torch.split(crop_logits, counts.tolist())])
