"""Training samples streamed from a cache's shards, for corpora larger than local disk or memory.

``cache=stream``: instead of mapping every shard and drawing clips anywhere (the default), each
DataLoader worker of each DDP rank reads its own shards whole, one after another (from local disk,
or from object storage when the cache lives there), and draws its samples through a shuffle buffer
of ``buffer_clips`` clips: memory is one shard plus the buffer, whatever the corpus size. The
shards are dealt to ranks and workers in an order drawn from ``(seed, epoch)``; every rank yields
the same number of samples per epoch (a rank whose shards run out reads its next ones again), so
DDP's ranks step together. The samples themselves are :func:`.dataset.training_samples`, drawn
from ``[seed, epoch, clip]`` like the map-style dataset's.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from .clip_cache import ClipCache
from .dataset import CropRecipe, VideoItem, training_samples

BUFFER_CLIPS = 2048  # the shuffle buffer: ~130 MB of T=300 two-person OpenPose-18 clips


class ClipStream(IterableDataset):
    """``(C, clip_frames, V, M)`` samples and labels from ``cache``, streamed shard by shard.

    Args:
        cache: the cache holding (at least) ``items``' clips.
        items: the training videos (labels; clips of the cache not among them are skipped).
        recipe: crop length and augmentation.
        rank, world_size: this process's DDP rank and the number of ranks.
    """

    def __init__(self, cache: ClipCache, items: list[VideoItem], recipe: CropRecipe, seed: int = 0,
                 buffer_clips: int = BUFFER_CLIPS, rank: int = 0, world_size: int = 1) -> None:
        self.cache, self.items, self.recipe, self.seed = cache, items, recipe, seed
        self.buffer_clips, self.rank, self.world_size = max(1, buffer_clips), rank, world_size
        self.epoch = 0
        position = {item.video_id: number for number, item in enumerate(items)}
        self.by_shard: list[list[tuple[int, int, int]]] = [[] for _ in cache.shard_names]
        for video_id in cache.order:
            if video_id in position:
                shard, offset, length = cache.clips[video_id]
                self.by_shard[shard].append((position[video_id], offset, length))
        missing = len(items) - sum(len(clips) for clips in self.by_shard)
        if missing:
            raise ValueError(f"{missing} of the {len(items)} training videos are not in the cache at "
                             f"{cache.folder}; build it for these videos (`posegraph cache build`)")

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        """Samples per epoch on this rank."""
        return len(self.items) // self.world_size

    def slot_shards(self, slot: int, slots: int) -> list[int]:
        """The shards read by reader ``slot`` of ``slots`` (ranks x workers) this epoch, in order."""
        order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.by_shard))
        order = [int(shard) for shard in order if self.by_shard[shard]]
        mine = order[slot::slots]
        return mine or ([order[slot % len(order)]] if order else [])

    def __iter__(self):
        worker = get_worker_info()
        workers, worker_id = (worker.num_workers, worker.id) if worker is not None else (1, 0)
        slots, slot = self.world_size * workers, self.rank * workers + worker_id
        quota = len(self) // workers + (worker_id < len(self) % workers)
        shards = self.slot_shards(slot, slots)
        draw = np.random.default_rng([self.seed, self.epoch, slot, 2])
        buffer: list[tuple[int, np.ndarray]] = []
        produced = 0
        turn = 0
        while produced < quota and shards:
            number = shards[turn % len(shards)]
            turn += 1
            array = self.cache.shard(number)
            for clip, offset, length in self.by_shard[number]:
                buffer.append((clip, array[offset:offset + length].transpose(1, 0, 2, 3)))
                if len(buffer) >= self.buffer_clips:
                    yield self._sample(buffer.pop(int(draw.integers(len(buffer)))))
                    produced += 1
                    if produced >= quota:
                        break
            self.cache.drop_shard(number)
        while buffer and produced < quota:
            yield self._sample(buffer.pop(int(draw.integers(len(buffer)))))
            produced += 1

    def _sample(self, entry: tuple[int, np.ndarray]) -> tuple[torch.Tensor, int]:
        clip, sequence = entry
        data = training_samples([sequence], [[self.seed, self.epoch, clip]], self.recipe)[0]
        return torch.from_numpy(data), self.items[clip].label
