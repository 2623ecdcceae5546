"""Training configuration: a typed dataclass, read from YAML, overridden with ``--set key=value``,
and saved (resolved) in the run directory."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import yaml


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on. Defaults follow the ST-GCN reference (SGD 0.1,
    momentum 0.9, weight decay 1e-4, 90-frame crops) scaled to small corpora."""

    model: str = "stgcn"
    layout: str | None = None  # the model's layout; None = the store's (data are converted)
    num_persons: int = 1
    partition: str = "spatial"
    edge_importance: bool = True
    dropout: float = 0.0
    gcn_scales: int | None = None
    g3d_scales: int | None = None
    epochs: int = 30
    batch_size: int = 16
    eval_batch_size: int = 16
    optimizer: str = "sgd"  # sgd | adam
    learning_rate: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    warmup_epochs: int = 0
    clip_frames: int = 90
    augment: bool = True
    patience: int = 10  # early stopping: epochs without a better validation accuracy
    seed: int = 0
    device: str = "auto"  # auto picks CUDA when present
    amp: bool = False  # mixed precision (bfloat16 on CPU, float16 on CUDA)
    split: str = "column"  # column (the store's split) | group | stratified
    few_shot: int | None = None  # k training videos per class (nested subsets)
    labels: list[str] | None = None  # restrict to these classes
    init: str | None = None  # checkpoint to start from
    finetune: str = "all"  # head | last:K | all
    num_workers: int = 0

    def model_options(self) -> dict:
        if self.model == "stgcn":
            return {"partition": self.partition, "edge_importance": self.edge_importance, "dropout": self.dropout}
        options: dict = {"dropout": self.dropout}
        if self.gcn_scales:
            options["gcn_scales"] = self.gcn_scales
        if self.g3d_scales:
            options["g3d_scales"] = self.g3d_scales
        return options

    def to_dict(self) -> dict:
        return asdict(self)


def _coerce(name: str, text: str) -> object:
    """A ``--set`` value as the field's type: strings stay strings, the rest is parsed as YAML."""
    hint = typing.get_type_hints(TrainConfig)[name]
    optional = type(None) in typing.get_args(hint)
    if optional and text.strip().lower() in ("none", "null", ""):
        return None
    if hint is str or (optional and str in typing.get_args(hint)):
        return text
    value = yaml.safe_load(text)
    if float in (hint, *typing.get_args(hint)) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    return value


def load_config(path: str | Path | None = None, overrides: list[str] | None = None, **values: object) -> TrainConfig:
    """A config from an optional YAML file, then ``key=value`` overrides, then keyword values."""
    content: dict = {}
    if path is not None:
        loaded = yaml.safe_load(Path(path).read_text()) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: expected a mapping of config keys, got {type(loaded).__name__}")
        content.update(loaded)
    for override in overrides or []:
        if "=" not in override:
            raise ValueError(f"--set {override!r}: expected key=value")
        key, text = override.split("=", 1)
        content[key.strip()] = text
    content.update({k: v for k, v in values.items() if v is not None})
    known = {field.name for field in fields(TrainConfig)}
    unknown = sorted(set(content) - known)
    if unknown:
        raise ValueError(f"unknown config key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(known))}")
    resolved = {key: _coerce(key, value) if isinstance(value, str) else value for key, value in content.items()}
    return TrainConfig(**resolved)


def save_config(config: TrainConfig, path: Path) -> None:
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))


def replace(config: TrainConfig, **changes: object) -> TrainConfig:
    return dataclasses.replace(config, **changes)
