"""Training: deterministic seeds, a checkpoint every epoch, exact resume, early stopping on
validation accuracy, the best checkpoint kept, automatic device, optional mixed precision,
and DistributedDataParallel when started under ``torchrun``.

A resumed run repeats the uninterrupted one exactly when it uses the same number of CPU threads
(float sums are ordered differently with another count).

One loop for every model family: the family (:mod:`posegraph.gcn.families`) supplies the
model, the datasets and video-level evaluation; the loop, the loss (cross-entropy or focal, with
optional balanced class weights), the learning-rate schedule (warm-up + cosine, or halved on a
validation-loss plateau), early stopping and the run directory are shared.

Run directory::

    RUN/config.yaml      the resolved config        RUN/last.pt   every epoch (resume from it)
    RUN/history.json     loss / accuracy per epoch  RUN/best.pt   best validation accuracy
    RUN/tensorboard/     the same per epoch, the learning rate, then hparams and confusion (run_logs)
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, IterableDataset

from posegraph.data import SkeletonStore
from posegraph.data.atomic import replace_text

from .bundle import ModelBundle
from .calibration import calibrate_checkpoint, class_mean_videos
from .checkpoint import load_checkpoint, save_checkpoint, weights_checksum
from .config import TrainConfig, save_config
from .corpus import Corpus, select_corpus
from .device import autocast_dtype, pick_device
from .families import family_of
from .finetune import apply_finetune, freeze_frozen_batchnorm, load_initial_weights
from .heads import Heads, heads_for
from .preprocess import Normalization
from .schedules import EarlyStopping, PlateauSchedule


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass
class Distributed:
    rank: int = 0
    world_size: int = 1

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device: torch.device) -> Distributed:
    """Join the process group when started by ``torchrun`` (gloo on CPU, nccl on GPU)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Distributed(dist.get_rank(), world_size)


def _optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    parameters = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    if config.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=config.learning_rate, momentum=config.momentum, nesterov=True,
                               weight_decay=config.weight_decay)
    raise ValueError(f"optimizer must be sgd or adam, got {config.optimizer!r}")


def _learning_rate(config: TrainConfig, epoch: int, current: float | None = None) -> float:
    """Linear warm-up, then cosine decay to zero over the run; ``plateau`` keeps ``current``."""
    if config.lr_schedule not in ("cosine", "plateau"):
        raise ValueError(f"lr_schedule must be cosine or plateau, got {config.lr_schedule!r}")
    if epoch < config.warmup_epochs:
        return config.learning_rate * (epoch + 1) / config.warmup_epochs
    if config.lr_schedule == "plateau":
        return config.learning_rate if current is None or epoch == config.warmup_epochs else current
    progress = (epoch - config.warmup_epochs) / max(config.epochs - config.warmup_epochs, 1)
    return float(config.learning_rate * 0.5 * (1 + np.cos(np.pi * progress)))


def validate(family, model: nn.Module, val_set, config: TrainConfig, device: torch.device,
             loss_function: nn.Module, heads: Heads | None = None) -> tuple[float, float]:
    """Validation loss and accuracy over whole videos (what early stopping and the schedule follow):
    exercise accuracy, or with muscle groups :meth:`Heads.validation_score`."""
    logits, labels = family.video_logits(model, val_set, config, device, heads=heads)
    loss = float(loss_function(torch.from_numpy(logits).float().to(device), torch.from_numpy(labels).to(device)))
    accuracy = getattr(family, "accuracy", None)
    if accuracy:
        return loss, float(accuracy(logits, labels))
    heads = heads or Heads(tuple(range(logits.shape[1])))
    return loss, heads.validation_score(torch.from_numpy(logits), torch.from_numpy(labels))


@dataclass
class TrainResult:
    run_dir: Path
    best_epoch: int
    best_val_accuracy: float
    epochs_run: int
    stopped_early: bool


@dataclass
class _Run:
    """Everything one training run holds between its steps (see :func:`train`)."""

    config: TrainConfig
    run_dir: Path
    device: torch.device
    world: Distributed
    store: SkeletonStore
    corpus: Corpus
    layout: str
    family: object
    heads: Heads
    model: nn.Module
    wrapped: nn.Module
    runner: nn.Module
    optimizer: torch.optim.Optimizer
    train_set: object
    val_set: object
    metadata: dict
    autocast_type: torch.dtype
    scaler: torch.amp.GradScaler
    loss_function: nn.Module
    plateau: PlateauSchedule
    stopper: EarlyStopping
    history: list[dict]
    start_epoch: int


def train(config: TrainConfig, store_path: str | Path, run_dir: str | Path, resume: bool = False,
          progress: bool = True, log: Callable[[str], None] = print) -> TrainResult:
    """Train (or resume training) a classifier of any family on the store; see the module docstring.

    Three steps: :func:`_set_up` (corpus, model, optimizer, datasets, a resumed run's state),
    then per epoch :func:`_train_epoch` and :func:`_end_epoch` (validate, checkpoint, stop early),
    and :func:`_finish` (calibrate the best checkpoint)."""
    from .run_logs import RunLogs

    run = _set_up(config, Path(run_dir), resume, store_path, log)
    stopped_early = False
    epoch = run.start_epoch - 1
    watched = RunLogs(run.run_dir, log) if run.world.main else None  # TensorBoard (and MLflow when set)
    try:
        for epoch in range(run.start_epoch, run.config.epochs):
            record = _train_epoch(run, epoch, progress)
            stop = _end_epoch(run, record, epoch, log)
            if watched is not None:
                watched.epoch(epoch, run.history[-1], run.optimizer.param_groups[0]["lr"])
            if stop:
                stopped_early = True
                if run.world.main:
                    log(f"early stop: no better validation accuracy for {run.config.patience} epochs")
                break
    finally:
        if watched is not None:
            watched.close()
    _finish(run, log)
    return TrainResult(run.run_dir, run.stopper.best_epoch, run.stopper.best_accuracy, epoch + 1, stopped_early)


def _set_up(config: TrainConfig, run_dir: Path, resume: bool, store_path: str | Path,
            log: Callable[[str], None]) -> _Run:
    """The run before its first epoch: device and processes, corpus, model (initialised, resumed),
    optimizer, datasets, loss, schedules; the run folder and its config written."""
    device = pick_device(config.device)
    world = init_distributed(device)
    if world.enabled and device.type == "cuda":
        device = torch.device("cuda", world.rank % torch.cuda.device_count())
    state = _load_resume_state(run_dir) if resume else None
    if state is not None:
        config = state.config
    seed_everything(config.seed)
    store = SkeletonStore(store_path, create=False)
    corpus = select_corpus(store, config)
    layout = config.layout or corpus.stored_layout
    family = family_of(config)
    class_names = family.class_names(corpus, config)
    heads = heads_for(config, class_names)
    model = family.build(config, layout, heads.width)
    if config.init and state is None:
        initial = load_checkpoint(config.init, expected_layout=layout)
        fresh = load_initial_weights(model, initial.state_dict)
        log(f"initialised from {config.init}" + (f" (new: {', '.join(fresh)})" if fresh else ""))
    trainable = apply_finetune(model, config.finetune)
    model.to(device)
    optimizer = _optimizer(config, model)
    history: list[dict] = []
    start_epoch, stopper = 0, EarlyStopping(config.patience)
    if state is not None:
        model.load_state_dict(state.state_dict)
        training = state.training_state
        optimizer.load_state_dict(training["optimizer"])
        history = training["history"]
        start_epoch = training["epoch"] + 1
        stopper = EarlyStopping(config.patience, training["best_accuracy"], training["best_epoch"], training["stale"])
        log(f"resuming {run_dir} at epoch {start_epoch + 1}")
    if world.main:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, run_dir / "config.yaml")
    wrapped = nn.parallel.DistributedDataParallel(model) if world.enabled else model
    runner = compiled_or_eager(wrapped, config.compile, log, config.compile_mode)
    train_set, val_set, extra = family.datasets(store, corpus.splits["train"], corpus.splits["val"], layout, config,
                                                log=log if world.main else (lambda _: None))
    if heads.groups:
        extra["heads"] = heads.to_dict()
    metadata = dict(model=config.model, layout=layout, class_names=class_names, config=config.to_dict(),
                    normalization=Normalization(frames_per_second=config.frames_per_second).to_dict(),
                    num_persons=config.num_persons or 1, in_channels=extra.pop("in_channels", 0), extra=extra)
    autocast_type = autocast_dtype(device)
    scaler = torch.amp.GradScaler("cuda", enabled=config.amp and autocast_type == torch.float16)
    loss_function = family.loss(config, [item.label for item in corpus.splits["train"]], class_names,
                                heads).to(device)
    plateau = PlateauSchedule(config.plateau_factor, config.plateau_patience, config.min_learning_rate)
    if state is not None and "plateau" in state.training_state:
        plateau.load_state_dict(state.training_state["plateau"])
    if world.main:
        log(f"training {config.model}{' phases' if family.name == 'phase' else ''} on {layout}: {len(class_names)} classes"
            + (f" and {len(heads.groups)} muscle groups ({heads.mode})" if heads.groups else "") + ", "
            f"{len(corpus.splits['train'])} train / {len(corpus.splits['val'])} val videos "
            f"({len(train_set)} training samples), {len(trainable)} trainable tensors, "
            f"device {device}{f', {world.world_size} processes' if world.enabled else ''}")
    return _Run(config, run_dir, device, world, store, corpus, layout, family, heads, model, wrapped, runner,
                optimizer, train_set, val_set, metadata, autocast_type, scaler, loss_function, plateau, stopper,
                history, start_epoch)


def train_sampler(dataset, world: Distributed, seed: int, epoch: int) -> DistributedSampler:
    """This rank's share of the training clips in ``epoch``: one permutation drawn from ``(seed,
    epoch)``, dealt to the ranks in turn (its start repeated so every rank gets as many): disjoint
    across ranks, another each epoch, the same on every machine and after a resume."""
    sampler = DistributedSampler(dataset, world.world_size, world.rank, shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    return sampler


def _train_epoch(run: _Run, epoch: int, progress: bool) -> dict:
    """One pass over the training set; the epoch's record (train loss, accuracy, learning rate)."""
    config, world, device, optimizer = run.config, run.world, run.device, run.optimizer
    torch.manual_seed(config.seed * 100_003 + epoch)  # dropout etc.: a function of the epoch only
    run.train_set.set_epoch(epoch)
    for group in optimizer.param_groups:
        group["lr"] = _learning_rate(config, epoch, group["lr"])
    streamed = isinstance(run.train_set, IterableDataset)  # ClipStream deals its shards to ranks itself
    sampler = train_sampler(run.train_set, world, config.seed, epoch) if world.enabled and not streamed else None
    order = torch.Generator().manual_seed(config.seed * 7919 + epoch)
    loader = DataLoader(run.train_set, batch_size=config.batch_size, shuffle=sampler is None and not streamed,
                        sampler=sampler, generator=None if streamed else order, num_workers=config.num_workers,
                        drop_last=len(run.train_set) > config.batch_size, pin_memory=device.type == "cuda",
                        collate_fn=getattr(run.train_set, "collate", None))
    run.wrapped.train()
    freeze_frozen_batchnorm(run.model)
    total_loss, correct, seen = 0.0, 0, 0
    started = time.perf_counter()
    bar = _bar(loader, epoch, config.epochs, progress and world.main)
    batches = iter(bar)
    waited = 0.0  # seconds the step waited for the loader: the data path's cost the model cannot hide
    steps = 0
    while config.steps_per_epoch is None or steps < config.steps_per_epoch:
        asked = time.perf_counter()
        try:
            data, target = next(batches)
        except StopIteration:
            break
        data, target = data.to(device, non_blocking=True), target.to(device, non_blocking=True)
        waited += time.perf_counter() - asked
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=run.autocast_type, enabled=config.amp):
            logits = run.runner(data)
            loss = run.loss_function(logits.float(), target)
        run.scaler.scale(loss).backward()
        run.scaler.step(optimizer)
        run.scaler.update()
        total_loss += float(loss.detach()) * len(target)
        correct += run.heads.correct(logits.detach(), target)
        seen += len(target)
        steps += 1
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{total_loss / seen:.3f}", acc=f"{correct / seen:.3f}", data_wait=f"{waited:.1f}s")
    return {"epoch": epoch + 1, "train_loss": total_loss / max(seen, 1), "train_accuracy": correct / max(seen, 1),
            "lr": float(optimizer.param_groups[0]["lr"]), "steps": steps, "samples": seen,
            "data_wait_s": round(waited, 3),
            "epoch_s": round(time.perf_counter() - started, 3)}


def _end_epoch(run: _Run, record: dict, epoch: int, log: Callable[[str], None]) -> bool:
    """Validate, step the schedules, write ``best.pt`` (when better), ``last.pt`` and the history;
    whether to stop early (every process gets the main one's answer)."""
    config, world, optimizer = run.config, run.world, run.optimizer
    if world.enabled:  # DDP syncs gradients; batch-norm statistics are made equal here
        for buffer in run.model.buffers():
            dist.broadcast(buffer, src=0)
    stop = torch.zeros(1)
    if world.main:
        record["val_loss"], record["val_accuracy"] = validate(run.family, run.model, run.val_set, config, run.device,
                                                              run.loss_function, run.heads)
        run.history.append(record)
        if config.lr_schedule == "plateau":
            for group in optimizer.param_groups:
                group["lr"] = run.plateau.step(record["val_loss"], group["lr"])
        improved = run.stopper.step(record["val_accuracy"], epoch + 1)
        if improved:
            save_checkpoint(run.run_dir / "best.pt", run.model.state_dict(), **run.metadata)
        training_state = {"optimizer": optimizer.state_dict(), "history": run.history, "epoch": epoch,
                          **run.stopper.state_dict(), "plateau": run.plateau.state_dict()}
        save_checkpoint(run.run_dir / "last.pt", run.model.state_dict(), training_state=training_state,
                        **run.metadata)
        replace_text(run.run_dir / "history.json", json.dumps(run.history, indent=1))  # read while training runs
        log(f"epoch {epoch + 1}/{config.epochs}: train loss {record['train_loss']:.3f} acc "
            f"{record['train_accuracy']:.3f} | val loss {record['val_loss']:.3f} acc {record['val_accuracy']:.3f}"
            + (" (best)" if improved else "")
            + f" | {record['epoch_s']:.0f} s, {record['data_wait_s']:.1f} s waiting for data")
        stop[0] = float(run.stopper.should_stop)
    if world.enabled:
        dist.broadcast(stop, src=0)
    return bool(stop.item())


def _finish(run: _Run, log: Callable[[str], None]) -> None:
    """After the last epoch: calibrate the best checkpoint's "none of these"; processes meet."""
    world, family = run.world, run.family
    if world.main and (run.run_dir / "best.pt").exists() and family.calibrates and run.heads.exercise_count:
        train_split = run.corpus.splits["train"]
        train_videos = family.eval_set(run.store, class_mean_videos(train_split), run.layout, run.config,
                                       run.metadata["extra"], split="train", log=log, cached_from=train_split)
        calibrate_checkpoint(run.run_dir / "best.pt", run.model, family, run.val_set, train_videos, run.config,
                             run.device, log)
    if world.enabled:
        _write_rank_fingerprint(run.model, run.run_dir, world.rank)
        dist.barrier()


def compiled_or_eager(model: nn.Module, enabled: bool, log: Callable[[str], None] = print,
                      mode: str = "default") -> nn.Module:
    """``torch.compile(model, mode=mode)`` when asked and it works on this machine, else the eager model.

    Compilation is lazy, so a backend that cannot build (no C++ compiler, an unsupported
    operator) fails at the first call: :class:`_EagerFallback` catches that and goes on eagerly.
    ``reduce-overhead`` replays CUDA graphs, so each call is marked as a new step (one per batch).
    """
    if not enabled:
        return model
    if not hasattr(torch, "compile"):
        log("compile=true ignored: this torch has no torch.compile")
        return model
    compiled = torch.compile(model, mode=None if mode == "default" else mode)
    return _EagerFallback(compiled, model, log, mark_steps=mode == "reduce-overhead")


class _EagerFallback(nn.Module):
    """Runs the compiled model; on its first failure says why and uses the eager one from then on."""

    def __init__(self, compiled: nn.Module, eager: nn.Module, log: Callable[[str], None],
                 mark_steps: bool = False) -> None:
        super().__init__()
        self.compiled, self.eager, self.log = compiled, eager, log
        self.failed = False
        self.mark_steps = mark_steps and hasattr(torch, "compiler") \
            and hasattr(torch.compiler, "cudagraph_mark_step_begin")

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        if not self.failed:
            try:
                if self.mark_steps:
                    torch.compiler.cudagraph_mark_step_begin()
                return self.compiled(*inputs)
            except Exception as error:  # noqa: BLE001 - any backend failure: fall back, say so
                self.failed = True
                self.log(f"torch.compile failed ({type(error).__name__}: {str(error).splitlines()[0][:160]}); "
                         "training continues in eager mode")
        return self.eager(*inputs)


def _write_rank_fingerprint(model: nn.Module, run_dir: Path, rank: int) -> None:
    """Each process records a checksum of its weights: equal files = processes stayed in step."""
    (run_dir / f"weights-rank{rank}.sha256").write_text(weights_checksum(model.state_dict()))


def _load_resume_state(run_dir: Path) -> ModelBundle:
    last = run_dir / "last.pt"
    if not last.exists():
        raise FileNotFoundError(f"cannot resume: {last} does not exist (was the run started in {run_dir}?)")
    return load_checkpoint(last)


def _bar(loader: DataLoader, epoch: int, epochs: int, enabled: bool):
    if not enabled:
        return loader
    from tqdm import tqdm

    return tqdm(loader, desc=f"epoch {epoch + 1}/{epochs}", unit="batch", leave=False)
