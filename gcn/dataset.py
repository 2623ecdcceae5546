"""A torch ``Dataset`` over the skeleton store.

Reads only the videos it is given (one bucket file each), caches their normalised arrays,
and serves ``(C, T, V, M)`` tensors: training takes random 90-frame crops with simulated
camera movement; evaluation returns the whole sequence. Randomness comes from
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
from .preprocess import normalize, to_layout


@dataclass(frozen=True)
class VideoItem:
    """One video of a dataset: its id, stored layout and class index."""

    video_id: str
    layout: str
    label: int


def load_people(store: SkeletonStore, video_id: str, layout: str, persons: int) -> np.ndarray:
    """``(M, T, V, 4)`` for the first ``persons`` people of a video (NaN where absent)."""
    frames = [store.read_video(video_id, person=person, layout=layout).joints for person in range(persons)]
    return np.stack(frames)


class SkeletonDataset(Dataset):
    """Skeleton sequences of one split, ready for a graph classifier.

    Args:
        store: the skeleton store.
        items: the videos (id, stored layout, class index).
        model_layout: layout the model expects (stored data is converted when it differs).
        num_persons: persons M per sample.
        train: random crops + camera motion when True, whole sequences otherwise.
        clip_frames: crop length for training (90 = ~5.6 s at 16 fps).
    """

    def __init__(self, store: SkeletonStore, items: list[VideoItem], model_layout: str, num_persons: int = 1,
                 train: bool = False, clip_frames: int = 90, seed: int = 0, augment: bool = True) -> None:
        self.store = store
        self.items = items
        self.model_layout = model_layout
        self.num_persons = num_persons
        self.train = train
        self.clip_frames = clip_frames
        self.seed = seed
        self.augment = augment
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
            people = load_people(self.store, item.video_id, item.layout, self.num_persons)
            people = to_layout(people, item.layout, self.model_layout)
            self._cache[index] = normalize(people, self.model_layout)
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
