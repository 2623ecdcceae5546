"""Every model and model family, described once: adding a model is one :class:`ModelSpec` row.

- :data:`MODEL_TABLE`: each model's name, family, the config keys only it reads (any other model
  refuses them with a clear message) and its builder;
- :data:`FAMILY_TABLE`: each family's training defaults (what ``None`` in a config means).

:mod:`.config` (keys, defaults), :mod:`.registry` (``build_model``) and :mod:`.families` (how
a family trains, evaluates and applies its models) read these tables. Importing this module does
not import torch: the builders import their model when called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModelSpec:
    """One model: its ``family`` (``graph``, ``sequence``), the config ``keys`` only it reads among
    the models, and ``build(layout, num_classes, in_channels, num_persons, **options)``."""

    name: str
    family: str
    keys: tuple[str, ...]
    build: Callable[..., Any]


@dataclass(frozen=True)
class FamilySpec:
    """One family's training defaults (a config key left ``None`` takes the family's value)."""

    name: str
    defaults: dict[str, object] = field(default_factory=dict)


# Reference scale counts per layout (MS-G3D configs); other layouts use the openpose ones.
MSG3D_SCALES = {"ntu25": (13, 6), "openpose18": (8, 8)}


def _stgcn(layout: str, num_classes: int, in_channels: int, num_persons: int, **options: object):
    from .stgcn import STGCN

    return STGCN(layout, num_classes, in_channels, num_persons, **options)


def _msg3d(layout: str, num_classes: int, in_channels: int, num_persons: int, **options: object):
    from .msg3d import MSG3D

    gcn_scales, g3d_scales = MSG3D_SCALES.get(layout, (8, 8))
    return MSG3D(layout, num_classes, in_channels, num_persons,
                 **{"gcn_scales": gcn_scales, "g3d_scales": g3d_scales, **options})


def _bilstm(layout: str, num_classes: int, in_channels: int, num_persons: int, **options: object):
    from .bilstm import BiLSTMAttention

    return BiLSTMAttention(in_channels, num_classes, **options)


# Keys every graph model reads (the phase model is a graph model with a temporal head).
GRAPH_KEYS = ("num_persons", "clip_frames", "dropout", "flip", "test_crops", "stream", "phase_scheme",
              "within_weight", "cache", "cache_dir")

MODEL_TABLE = (
    ModelSpec("stgcn", "graph", GRAPH_KEYS + ("partition", "edge_importance"), _stgcn),
    ModelSpec("msg3d", "graph", GRAPH_KEYS + ("gcn_scales", "g3d_scales"), _msg3d),
    ModelSpec("bilstm", "sequence", ("window_frames", "frame_step", "window_overlap", "min_window_confidence"),
              _bilstm),
)

# Defaults that differ by family. Graph models: the recipe measured on Penn Action (real,
# human-annotated poses; benchmarks/README.md): SGD with Nesterov momentum, a learning rate of 0.1
# per 64 samples scaled to the batch (:data:`GRAPH_LEARNING_RATE_PER_SAMPLE`), 5 warm-up epochs then
# cosine decay, weight decay 5e-4, label smoothing 0.1, 3-second crops (48 frames at 16 fps) mirrored
# left-right half of the time, and 5 evenly spaced crops averaged at test time (pyskl's recipe, with
# crops suited to short clips). The BiLSTM follows its source study (Adam 1e-3, batch 32, focal loss
# with balanced class weights, learning rate halved after 8 epochs without a better validation loss,
# patience 15).
_DEFAULTS: dict[str, dict[str, object]] = {
    "graph": dict(epochs=30, batch_size=16, eval_batch_size=80, optimizer="sgd", weight_decay=5e-4,
                  patience=15, lr_schedule="cosine", warmup_epochs=5, loss="cross_entropy",
                  label_smoothing=0.1, class_weights="none", num_persons=1, clip_frames=48, flip=True,
                  test_crops=5, dropout=0.0, partition="spatial", edge_importance=True),
    "sequence": dict(epochs=100, batch_size=32, eval_batch_size=64, optimizer="adam", learning_rate=1e-3,
                     weight_decay=0.0, patience=15, lr_schedule="plateau", warmup_epochs=0, loss="focal",
                     label_smoothing=0.0, class_weights="balanced", window_frames=20, frame_step=2,
                     window_overlap=0.7, min_window_confidence=0.3),
    # Graph models with the temporal head (task=phases): whole videos (crops of up to 20 s)
    # concatenated along time, Adam, the background phase weighted by within_weight.
    "phase": dict(epochs=30, batch_size=8, eval_batch_size=8, optimizer="adam", learning_rate=1e-3,
                  weight_decay=1e-4, patience=10, lr_schedule="cosine", warmup_epochs=2, loss="cross_entropy",
                  label_smoothing=0.0, class_weights="none", num_persons=1, clip_frames=320, flip=True,
                  test_crops=1, dropout=0.0, partition="spatial", edge_importance=True),
}
FAMILY_TABLE = tuple(FamilySpec(name, defaults) for name, defaults in _DEFAULTS.items())

# The views the rest of the package reads.
MODELS = tuple(spec.name for spec in MODEL_TABLE)
MODEL_FAMILIES = {spec.name: spec.family for spec in MODEL_TABLE}
MODEL_KEYS: dict[str, tuple[str, ...]] = {
    key: tuple(spec.name for spec in MODEL_TABLE if key in spec.keys)
    for key in dict.fromkeys(key for spec in MODEL_TABLE for key in spec.keys)}
FAMILY_DEFAULTS: dict[str, dict[str, object]] = {spec.name: dict(spec.defaults) for spec in FAMILY_TABLE}


def model_spec(name: str) -> ModelSpec:
    """The row of model ``name``; ``ValueError`` naming the models there are."""
    for spec in MODEL_TABLE:
        if spec.name == name:
            return spec
    raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
