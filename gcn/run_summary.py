"""Run folders read back for people (the corpus browser's runs page): what trained, how it went,
how it scored. Reads only the run folder's plain files (``config.yaml``, ``history.json``,
``metrics-<split>.json``); never loads a checkpoint, so it is quick and imports no torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass(frozen=True)
class RunSummary:
    """One run folder. ``metrics`` maps a split to its ``metrics-<split>.json`` document."""

    path: Path
    model: str | None
    layout: str | None
    epochs: int
    best_val_accuracy: float | None
    history: list[dict] = field(default_factory=list)
    metrics: dict[str, dict] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name


def read_run(folder: str | Path) -> RunSummary | None:
    """The run in ``folder``, or None when it holds no run (no ``config.yaml`` or ``history.json``)."""
    folder = Path(folder)
    config_file, history_file = folder / "config.yaml", folder / "history.json"
    if not (config_file.is_file() or history_file.is_file()):
        return None
    config = _read(config_file, yaml.safe_load) or {}
    history = _read(history_file, json.loads) or []
    accuracies = [record.get("val_accuracy") for record in history if record.get("val_accuracy") is not None]
    metrics = {path.stem.removeprefix("metrics-"): document for path in sorted(folder.glob("metrics-*.json"))
               if isinstance(document := _read(path, json.loads), dict)}
    return RunSummary(folder, config.get("model"), config.get("layout"), len(history),
                      max(accuracies) if accuracies else None, history, metrics)


def find_runs(folders: list[str | Path]) -> list[RunSummary]:
    """Every run in ``folders``: each a run folder, or a folder of run folders (one level down)."""
    runs = []
    for folder in map(Path, folders):
        run = read_run(folder)
        if run is not None:
            runs.append(run)
        elif folder.is_dir():
            runs += [found for child in sorted(folder.iterdir()) if child.is_dir()
                     and (found := read_run(child)) is not None]
    return runs


def _read(path: Path, parse):
    """A file's parsed content; None when missing or unreadable (a run still being written)."""
    try:
        return parse(path.read_text())
    except (OSError, ValueError, yaml.YAMLError):
        return None
