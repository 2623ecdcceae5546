"""Which stored videos a run trains, validates and tests on: the corpus a config selects.

Shared by training and inference (a checkpoint's test split is recomputed from its config), so
neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from posegraph.data import SkeletonStore

from .config import TrainConfig
from .dataset import VideoItem
from .splits import few_shot_subsets, group_split, stratified_split


@dataclass
class Corpus:
    """The videos of each split and the class names."""

    class_names: list[str]
    splits: dict[str, list[VideoItem]]
    stored_layout: str


def select_corpus(store: SkeletonStore, config: TrainConfig) -> Corpus:
    """Usable videos (status ok, labelled), split as the config says, few-shot applied."""
    rows = [row for row in store.videos().to_pylist() if row["status"] == "ok" and row["label"]]
    if config.labels:
        rows = [row for row in rows if row["label"] in config.labels]
    layouts = sorted({row["layout"] for row in rows})
    if not rows:
        raise ValueError(f"no labelled videos with status ok in the store at {store.root}")
    if len(layouts) > 1:
        raise ValueError(f"the store holds layouts {layouts}; keep one per training store")
    class_names = sorted({row["label"] for row in rows})
    labels = [row["label"] for row in rows]
    if config.split == "column" and all(row["split"] in ("train", "val", "test") for row in rows):
        names = [row["split"] for row in rows]
    elif config.split in ("column", "group") and all(row["group"] for row in rows):
        names = group_split(labels, [row["group"] for row in rows], seed=config.seed)
    else:
        names = stratified_split(labels, seed=config.seed)
    index = {name: i for i, name in enumerate(class_names)}
    splits = {name: [VideoItem(row["video_id"], row["layout"], index[row["label"]], row["width"], row["height"])
                     for row, split in zip(rows, names) if split == name] for name in ("train", "val", "test")}
    if config.few_shot:
        train_labels = [class_names[item.label] for item in splits["train"]]
        chosen = few_shot_subsets(train_labels, (config.few_shot,), seed=config.seed)[config.few_shot]
        splits["train"] = [splits["train"][i] for i in chosen]
    if not splits["train"]:
        raise ValueError("the training split is empty")
    if not splits["val"]:
        splits["val"] = splits["test"] or splits["train"]
    return Corpus(class_names, splits, layouts[0])
