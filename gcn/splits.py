"""Train / validation / test splits: stratified by label, group-aware, and nested few-shot subsets."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

FEW_SHOT_SIZES = (5, 10, 20, 50, 100)


def stratified_split(labels: list[str], fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
                     seed: int = 0) -> list[str]:
    """A split name per video, stratified by label (each label's videos shuffled and cut)."""
    random = np.random.default_rng(seed)
    result = [""] * len(labels)
    by_label: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_label[label].append(index)
    for label in sorted(by_label):
        members = random.permutation(by_label[label])
        cut_train = int(round(fractions[0] * len(members)))
        cut_val = cut_train + int(round(fractions[1] * len(members)))
        for position, index in enumerate(members):
            result[index] = "train" if position < cut_train else "val" if position < cut_val else "test"
    return result


def group_split(labels: list[str], groups: list[str], fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
                seed: int = 0) -> list[str]:
    """A split name per video such that all videos of a group (subject) share one split.

    Groups are shuffled and assigned greedily to the split furthest below its target share
    of videos, which keeps label balance approximately when subjects perform every class.
    """
    random = np.random.default_rng(seed)
    members: dict[str, list[int]] = defaultdict(list)
    for index, group in enumerate(groups):
        members[group].append(index)
    names = ("train", "val", "test")
    targets = np.array(fractions) * len(labels)
    counts = np.zeros(3)
    assignment: dict[str, str] = {}
    for group in random.permutation(sorted(members)):
        deficit = targets - counts
        choice = int(np.argmax(deficit))
        assignment[group] = names[choice]
        counts[choice] += len(members[group])
    return [assignment[group] for group in groups]


def few_shot_subsets(labels: list[str], shots: tuple[int, ...] = FEW_SHOT_SIZES, seed: int = 0) -> dict[int, list[int]]:
    """Indices of k-shot subsets (k videos per label, fewer if a label has fewer), nested:
    one seeded order per label, and the k-shot subset is its first k entries."""
    random = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_label[label].append(index)
    orders = {label: list(random.permutation(indices)) for label, indices in sorted(by_label.items())}
    return {k: sorted(int(i) for order in orders.values() for i in order[:k]) for k in shots}
