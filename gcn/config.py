"""Training configuration: one typed dataclass and one ``--set`` vocabulary for every model family.

Read from YAML, overridden with ``--set key=value``, resolved and saved in the run directory.
Generic keys (``layout``, ``epochs``, ``batch_size``, ``learning_rate``, ``patience``,
``augment``, ``split``, ``few_shot``, ``labels``, ``seed``, ...) mean the same for every model;
their defaults come from the model's family (``None`` below = the family's default, see
:data:`FAMILY_DEFAULTS`). Keys that belong to one family (``partition`` for ST-GCN,
``window_frames`` for the BiLSTM, ...) are refused with a clear message for another.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, fields
from pathlib import Path

import yaml

from posegraph.skeleton.vocabulary import DEFAULT_FPS, PHASE_SCHEMES

from .model_table import FAMILY_DEFAULTS, MODEL_FAMILIES, MODEL_KEYS  # noqa: F401  (re-exported)
from .preprocess import JOINT_CONFIDENCE

STREAMS = ("joint", "bone", "joint_motion", "bone_motion")  # the graph models' input streams (model_inputs)
CACHE_MODES = ("auto", "on", "off", "stream")  # how a graph model's training reads clips (training_cache)

TASKS = ("classify", "phases")
MUSCLE_MODES = ("none", "joint", "only")

# The linear scaling rule: graph models default to 0.1 per 64 samples (the ST-GCN reference's rate).
GRAPH_LEARNING_RATE_PER_SAMPLE = 0.1 / 64


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on (``None`` = the model family's default)."""

    model: str = "stgcn"
    task: str = "classify"  # classify (one exercise per video) | phases (a repetition phase per frame)
    layout: str | None = None  # the model's layout; None = the store's (data are converted)
    frames_per_second: float = DEFAULT_FPS  # sequences are resampled to this rate by timestamps
    epochs: int | None = None
    steps_per_epoch: int | None = None  # end an epoch after this many steps (corpus-scale runs); None = the whole split
    batch_size: int | None = None
    eval_batch_size: int | None = None
    optimizer: str | None = None  # sgd | adam
    learning_rate: float | None = None
    momentum: float = 0.9
    weight_decay: float | None = None
    lr_schedule: str | None = None  # cosine (with warm-up) | plateau
    warmup_epochs: int | None = None  # linear warm-up from 1/warmup_epochs of the rate
    plateau_factor: float = 0.5  # plateau: multiply the rate by this ...
    plateau_patience: int = 8  # ... after this many epochs without a better validation loss
    min_learning_rate: float = 1e-6
    loss: str | None = None  # cross_entropy | focal
    label_smoothing: float | None = None  # share of the target spread over the other classes
    focal_gamma: float = 2.0
    focal_alpha: float | None = None  # focal loss alpha (one value for every class)
    class_weights: str | None = None  # none | balanced (inverse class frequency in the training split)
    augment: bool = True
    vary_source: bool = True  # with augment: bones, view, speed, missed frames, dropped joints, jitter (source_variation)
    joint_confidence: str = "presence"  # presence (1 for every joint with coordinates) | score (the source's visibility)
    patience: int | None = None  # early stopping: epochs without a better validation accuracy
    seed: int = 0
    device: str = "auto"  # auto picks CUDA when present
    amp: bool = False  # mixed precision: bfloat16 (float16 with loss scaling on GPUs without bfloat16)
    compile: bool = False  # torch.compile the model for training (falls back to eager if it fails)
    compile_mode: str = "default"  # default | reduce-overhead (CUDA graphs, the fastest on GPU) | max-autotune
    split: str = "column"  # column (the store's split) | group | stratified
    few_shot: int | None = None  # k training videos per class (nested subsets)
    labels: list[str] | None = None  # restrict to these classes
    init: str | None = None  # checkpoint to start from
    finetune: str = "all"  # head | last:K | all
    num_workers: int = 0
    # graph models (stgcn, msg3d)
    num_persons: int | None = None
    clip_frames: int | None = None  # crop length in frames (training and test crops)
    flip: bool | None = None  # mirror training crops left-right half of the time (when augment)
    test_crops: int | None = None  # evenly spaced crops averaged per video at evaluation
    stream: str = "joint"  # joint | bone | joint_motion | bone_motion: the input stream (model_inputs.input_stream)
    cache: str = "auto"  # auto | on | off | stream: clips read from the training cache (training_cache)
    cache_dir: str | None = None  # where caches live; None = STORE/_cache/clips (training_cache)
    dropout: float | None = None
    partition: str | None = None
    edge_importance: bool | None = None
    gcn_scales: int | None = None
    g3d_scales: int | None = None
    # sequence model (bilstm)
    window_frames: int | None = None  # frames per window
    frame_step: int | None = None  # take every n-th frame
    window_overlap: float | None = None  # share of a window's frames shared with the next
    min_window_confidence: float | None = None  # video prediction leaves out less confident windows
    # muscle groups (classifiers): none | joint (a muscle-group head beside the exercise head) | only
    muscles: str = "none"
    muscle_table: str | None = None  # YAML table of exercises and the groups they work; None = the built-in one
    muscle_weight: float = 1.0  # with muscles=joint: weight of the muscle loss beside the exercise loss
    # repetition phases (task=phases, graph models)
    phase_scheme: str = "middle_end"  # end | middle_end | halves (the source study's three)
    within_weight: float = 0.2  # loss weight of the over-represented background phase (within / none)

    @property
    def family(self) -> str:
        return "phase" if self.task == "phases" else MODEL_FAMILIES[self.model]

    def model_options(self) -> dict:
        if self.model == "stgcn":
            return {"partition": self.partition, "edge_importance": self.edge_importance, "dropout": self.dropout}
        if self.model == "bilstm":
            return {}
        options: dict = {"dropout": self.dropout}
        if self.gcn_scales:
            options["gcn_scales"] = self.gcn_scales
        if self.g3d_scales:
            options["g3d_scales"] = self.g3d_scales
        return options

    def to_dict(self) -> dict:
        """The keys that apply to this model (what ``config.yaml`` holds)."""
        return {field.name: getattr(self, field.name) for field in fields(self) if applies(field.name, self.model)}


COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")


def applies(key: str, model: str) -> bool:
    return model in MODEL_KEYS.get(key, (model,))


def _coerce(name: str, text: str) -> object:
    """A ``--set`` value as the field's type: strings stay strings, the rest is parsed as YAML."""
    hint = typing.get_type_hints(TrainConfig)[name]
    optional = type(None) in typing.get_args(hint)
    if optional and text.strip().lower() in ("none", "null", ""):
        return None
    if hint is str or (optional and str in typing.get_args(hint)):
        return text
    value = yaml.safe_load(text)
    if float in (hint, *typing.get_args(hint)) and isinstance(value, str):
        try:
            value = float(value)  # YAML reads 1e-3 (no dot) as text
        except ValueError:
            pass
    if float in (hint, *typing.get_args(hint)) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    return value


_TYPE_WORDS = {int: "a whole number", float: "a number", bool: "true or false", str: "text", list: "a list"}


def _check_type(key: str, value: object, given: object, path: str | Path | None) -> None:
    """One clear line when a value does not have its key's type (``epochs=abc``)."""
    hint = typing.get_type_hints(TrainConfig)[key]
    allowed = tuple(typing.get_origin(option) or option for option in (typing.get_args(hint) or (hint,)))
    if value is None and type(None) in allowed:
        return
    if isinstance(value, bool) and bool not in allowed:
        ok = False
    elif isinstance(value, int) and not isinstance(value, bool) and float in allowed:
        ok = True
    else:
        ok = isinstance(value, tuple(kind for kind in allowed if kind is not type(None)))
    if not ok:
        wanted = " or ".join(_TYPE_WORDS.get(kind, kind.__name__) for kind in allowed if kind is not type(None))
        where = f" in {path}" if path is not None else ""
        raise ValueError(f"{key}={given!r}{where}: expected {wanted}")


def resolve(config: TrainConfig) -> TrainConfig:
    """Fill the family's defaults into keys left ``None``."""
    defaults = dict(FAMILY_DEFAULTS[config.family])
    if config.family == "graph" and config.learning_rate is None:
        batch_size = config.batch_size or defaults["batch_size"]
        defaults["learning_rate"] = round(GRAPH_LEARNING_RATE_PER_SAMPLE * batch_size, 8)
    return dataclasses.replace(config, **{key: value for key, value in defaults.items()
                                          if getattr(config, key) is None and applies(key, config.model)})


def load_config(path: str | Path | None = None, overrides: list[str] | None = None, **values: object) -> TrainConfig:
    """A resolved config from an optional YAML file, then ``key=value`` overrides, then keyword values."""
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
    model = str(content.get("model", TrainConfig.model))
    if model not in MODEL_FAMILIES:
        raise ValueError(f"unknown model {model!r}; choose from {', '.join(MODEL_FAMILIES)}")
    foreign = sorted(key for key in content if not applies(key, model))
    if foreign:
        owners = "; ".join(f"{key} is for {', '.join(MODEL_KEYS[key])}" for key in foreign)
        where = f" (from {path})" if path is not None else ""
        raise ValueError(f"config key(s) {', '.join(foreign)} do not apply to model {model}{where}: {owners}. "
                         f"Remove them, or use a config file written for {model}.")
    resolved = {key: _coerce(key, value) if isinstance(value, str) else value for key, value in content.items()}
    for key, value in resolved.items():
        _check_type(key, value, content[key], path)
    if resolved.get("task", "classify") not in TASKS:
        raise ValueError(f"task={resolved['task']!r}: choose from {', '.join(TASKS)}")
    if resolved.get("task") == "phases" and MODEL_FAMILIES[model] != "graph":
        raise ValueError(f"task=phases needs a graph model (stgcn or msg3d), not {model}")
    if resolved.get("muscles", "none") not in MUSCLE_MODES:
        raise ValueError(f"muscles={resolved['muscles']!r}: choose from {', '.join(MUSCLE_MODES)}")
    if resolved.get("task") == "phases" and resolved.get("muscles", "none") != "none":
        raise ValueError("muscles applies to exercise classifiers, not to task=phases")
    if resolved.get("phase_scheme", "middle_end") not in PHASE_SCHEMES:
        raise ValueError(f"phase_scheme={resolved['phase_scheme']!r}: choose from {', '.join(PHASE_SCHEMES)}")
    if resolved.get("compile_mode", "default") not in COMPILE_MODES:
        raise ValueError(f"compile_mode={resolved['compile_mode']!r}: choose from {', '.join(COMPILE_MODES)}")
    if resolved.get("stream", "joint") not in STREAMS:
        raise ValueError(f"stream={resolved['stream']!r}: choose from {', '.join(STREAMS)}")
    if resolved.get("cache", "auto") not in CACHE_MODES:
        raise ValueError(f"cache={resolved['cache']!r}: choose from {', '.join(CACHE_MODES)}")
    if resolved.get("task") == "phases" and resolved.get("stream", "joint") != "joint":
        raise ValueError("stream applies to the graph classifiers; task=phases reads the joint stream")
    if resolved.get("joint_confidence", "presence") not in JOINT_CONFIDENCE:
        raise ValueError(f"joint_confidence={resolved['joint_confidence']!r}: choose from {', '.join(JOINT_CONFIDENCE)}")
    return resolve(TrainConfig(**resolved))


# What a run saved before a key existed did: its weights were trained (and are applied) that way.
BEFORE_KEY_EXISTED = {"joint_confidence": "score", "vary_source": False}


def config_from_dict(content: dict) -> TrainConfig:
    """A config as saved in a run directory or checkpoint (older ones may lack newer keys: they
    read as the runs before the key behaved, :data:`BEFORE_KEY_EXISTED`)."""
    known = {field.name for field in fields(TrainConfig)}
    content = {**BEFORE_KEY_EXISTED, **content}
    return resolve(TrainConfig(**{key: value for key, value in content.items() if key in known}))


def save_config(config: TrainConfig, path: Path) -> None:
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))


def replace(config: TrainConfig, **changes: object) -> TrainConfig:
    return dataclasses.replace(config, **changes)
