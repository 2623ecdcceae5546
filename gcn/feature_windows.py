"""A torch ``Dataset`` of feature windows for the sequence model (BiLSTM-attention).

Each video goes through the same preparation as the graph models (model layout, frame rate,
geometry: :func:`posegraph.gcn.preprocess.prepare`), then
:func:`posegraph.features.build_features` gives its ``(T, 83)`` features (NaN where missing),
cached. Windows of ``window_frames`` frames take every ``frame_step``-th frame and overlap by
``window_overlap`` (:mod:`posegraph.gcn.sequence`). Training windows are augmented (time
stretch, shift, noise; with ``vary`` the window's joints first go through
:func:`posegraph.gcn.source_variation.vary_source` and its features are built again) with
randomness from ``(seed, epoch, index)`` only, so a resumed run sees the same samples. A :class:`FeatureScaler` fitted on the training windows standardises every
window and fills missing values with 0.
"""

from __future__ import annotations

import numpy as np
import torch
from posegraph.data import SkeletonStore
from posegraph.data.sources import stored_source
from posegraph.features import build_features
from posegraph.skeleton import get_layout
from posegraph.skeleton.geometry import mirror_image
from torch.utils.data import Dataset

from .dataset import VideoItem
from .preprocess import prepare
from .sequence import (
    STRETCH,
    FeatureScaler,
    add_noise,
    cut_window,
    window_starts,
    windows,
)
from .source_variation import SourceVariation, vary_source


class FeatureWindows(Dataset):
    """Windows ``(window_frames, 83)`` of the videos of one split, with their class index.

    Args:
        store: the skeleton store. items: the videos. layout: the model's layout.
        window_frames, frame_step, window_overlap: the windowing (20, 2, 0.7 by default).
        train: augment windows (a fresh draw every epoch) when True.
        confidence: the joints' confidence as the model reads it (``presence`` or ``score``, :func:`.preprocess.prepare`).
        vary: with ``train`` and ``augment``, vary each training window's source (:mod:`.source_variation`).
        scaler: standardisation; ``None`` until :meth:`fit_scaler` (training split only).
    """

    def __init__(self, store: SkeletonStore, items: list[VideoItem], layout: str, frames_per_second: float,
                 window_frames: int = 20, frame_step: int = 2, window_overlap: float = 0.7,
                 train: bool = False, augment: bool = True, seed: int = 0,
                 scaler: FeatureScaler | None = None, confidence: str = "presence", vary: bool = False) -> None:
        self.store, self.items, self.layout = store, items, layout
        self.confidence, self.vary = confidence, vary
        self.mirror_index = get_layout(layout).mirror_index
        self.frames_per_second = frames_per_second
        self.window_frames, self.frame_step, self.window_overlap = window_frames, frame_step, window_overlap
        self.train, self.augment, self.seed, self.scaler = train, augment, seed, scaler
        self.epoch = 0
        self._features: dict[int, np.ndarray] = {}
        self._joints: dict[int, np.ndarray] = {}
        self.index: list[tuple[int, int]] = []  # (video position, window start)
        for position in range(len(items)):
            starts = window_starts(len(self.features(position)), window_frames, frame_step, window_overlap)
            self.index += [(position, int(start)) for start in starts]

    def joints(self, position: int) -> np.ndarray:
        """The main person's prepared joints ``(T, V, 4)`` (cached)."""
        if position not in self._joints:
            item = self.items[position]
            sequence = stored_source(self.store, item.video_id, item.layout)
            self._joints[position] = prepare(sequence, self.layout, self.frames_per_second, self.confidence)[0]
        return self._joints[position]

    def features(self, position: int) -> np.ndarray:
        if position not in self._features:
            self._features[position] = build_features(self.joints(position), self.layout, self.frames_per_second)[0]
        return self._features[position]

    def raw_windows(self) -> np.ndarray:
        """Every window, unaugmented and unscaled ``(N, window_frames, 83)`` (to fit the scaler)."""
        return np.stack([self._cut(position, start, None) for position, start in self.index])

    def fit_scaler(self) -> FeatureScaler:
        self.scaler = FeatureScaler.fit(self.raw_windows())
        return self.scaler

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def video_of_window(self) -> np.ndarray:
        """``(N,)`` the position of each window's video in ``items``."""
        return np.array([position for position, _ in self.index], dtype=int)

    def _cut(self, position: int, start: int, random: np.random.Generator | None) -> np.ndarray:
        features = self.features(position)  # a window past the end of a short clip loops back
        if random is None:
            return windows(features, np.array([start]), self.window_frames, self.frame_step)[0]
        if self.vary:  # the frames this window can reach (stretched and slowed down), varied, features again
            reach = int(np.ceil(self.window_frames * self.frame_step * STRETCH[1] * SourceVariation().speed[1])) + 8
            joints = self.joints(position)
            segment = vary_source(joints[(start + np.arange(reach)) % len(joints)], self.layout, random)
            if random.random() < 0.5:  # the other side: the graph models' flip, on joints
                segment = mirror_image(segment, self.mirror_index)
            return cut_window(build_features(segment, self.layout, self.frames_per_second)[0], 0,
                              self.window_frames, self.frame_step, random)
        return cut_window(features, start, self.window_frames, self.frame_step, random)

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        if self.scaler is None:
            raise RuntimeError("fit or set the feature scaler before reading windows")
        position, start = self.index[index]
        random = np.random.default_rng([self.seed, self.epoch, index]) if self.train and self.augment else None
        window = self._cut(position, start, random)
        scaled = self.scaler.transform(window)
        if random is not None:
            scaled = add_noise(scaled, random, missing=np.isnan(window))
        return torch.from_numpy(np.ascontiguousarray(scaled, dtype=np.float32)), self.items[position].label
