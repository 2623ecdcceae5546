"""A torch ``Dataset`` over the skeleton store.

Reads only the videos it is given (one bucket file each), caches their prepared arrays (model
layout, model frame rate, one geometry: see :mod:`posegraph.gcn.preprocess`), and serves
``(C, T, V, M)`` tensors: training takes random 90-frame crops with simulated camera
movement; evaluation returns the whole sequence. Randomness comes from
``(seed, epoch, index)`` only, so a resumed run sees exactly the samples an uninterrupted one
would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from posegraph.data import SkeletonStore

from .augment import camera_motion, pad_or_loop, random_crop
from .preprocess import DEFAULT_FPS, PeopleSequence, prepare, to_channels


@dataclass(frozen=True)
class VideoItem:
    """One video of a dataset: its id, stored layout, class index and frame size."""

    video_id: str
    layout: str
    label: int
    width: int | None = None
    height: int | None = None


def load_sequence(store: SkeletonStore, video_id: str, layout: str | None = None, persons: int = 1) -> PeopleSequence:
    """The first ``persons`` people of a stored video (NaN where absent), with its clock and frame size."""
    row = store.video_rows(video_id)
    row = next((r for r in row if layout is None or r["layout"] == layout), None)
    if row is None:
        raise ValueError(f"video {video_id} is not in the store at {store.root}" + (f" in layout {layout}" if layout else ""))
    frames = [store.read_video(video_id, person=person, layout=row["layout"]) for person in range(persons)]
    return PeopleSequence(np.stack([f.joints for f in frames]), row["layout"], frames[0].timestamps,
                          row["width"], row["height"])


class SkeletonDataset(Dataset):
    """Skeleton sequences of one split, ready for a graph classifier.

    Args:
        store: the skeleton store.
        items: the videos (id, stored layout, class index).
        model_layout: layout the model expects (stored data is converted when it differs).
        num_persons: persons M per sample.
        train: random crops + camera motion when True, whole sequences otherwise.
        clip_frames: crop length for training (90 = ~5.6 s at 16 fps).
        frames_per_second: sequences are resampled to this rate by their timestamps.
    """

    def __init__(self, store: SkeletonStore, items: list[VideoItem], model_layout: str, num_persons: int = 1,
                 train: bool = False, clip_frames: int = 90, seed: int = 0, augment: bool = True,
                 frames_per_second: float = DEFAULT_FPS) -> None:
        self.store = store
        self.items = items
        self.model_layout = model_layout
        self.num_persons = num_persons
        self.train = train
        self.clip_frames = clip_frames
        self.seed = seed
        self.augment = augment
        self.frames_per_second = frames_per_second
        self.epoch = 0
        self._cache: dict[int, np.ndarray] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.items)

    def sequence(self, index: int) -> np.ndarray:
        """The normalised whole sequence ``(C, T, V, M)`` (cached)."""
        if index not in self._cache:
            item = self.items[index]
            sequence = load_sequence(self.store, item.video_id, item.layout, self.num_persons)
            self._cache[index] = to_channels(prepare(sequence, self.model_layout, self.frames_per_second))
        return self._cache[index]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        data = self.sequence(index)
        if self.train:
            random = np.random.default_rng([self.seed, self.epoch, index])
            data = random_crop(data, self.clip_frames, random)
            if self.augment:
                data = camera_motion(data, random)
        return torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32)), self.items[index].label


def collate_whole_sequences(batch: list[tuple[torch.Tensor, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Evaluation batches: every sequence looped to the longest one in the batch."""
    longest = max(sample.shape[1] for sample, _ in batch)
    data = [torch.from_numpy(pad_or_loop(sample.numpy(), longest)) for sample, _ in batch]
    return torch.stack(data), torch.tensor([label for _, label in batch])
