"""Checkpoints as plain data: weights plus the layout, class names, config, normalisation (method
and frame rate), what the model family needs beyond weights (``extra``: the BiLSTM's feature
scaler) and a checksum over the weights and all of that metadata (a checkpoint whose class names
were reordered would otherwise load and answer wrong labels). Loaded with
``torch.load(weights_only=True)``."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
import torch

from .bundle import ModelBundle

FORMAT = "posegraph-gcn-checkpoint/2"  # /2: the checksum covers the metadata too
WEIGHTS_ONLY_FORMAT = "posegraph-gcn-checkpoint/1"  # still read: its checksum covers the weights only
METADATA_KEYS = ("model", "layout", "class_names", "config", "normalization", "num_persons", "in_channels",
                 "extra", "rejection")
REQUIRED_KEYS = ("format", "state_dict", "checksum", *METADATA_KEYS)


class CheckpointError(ValueError):
    """A checkpoint that cannot be used as asked."""


def weights_checksum(state_dict: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for key in sorted(state_dict):
        digest.update(key.encode())
        digest.update(state_dict[key].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def content_checksum(content: dict) -> str:
    """sha256 of the weights and of every metadata key (canonical JSON)."""
    digest = hashlib.sha256(weights_checksum(content["state_dict"]).encode())
    metadata = {key: content.get(key) for key in METADATA_KEYS}
    digest.update(json.dumps(metadata, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def save_checkpoint(path: Path, model_state: dict[str, torch.Tensor], *, model: str, layout: str,
                    class_names: list[str], config: dict, normalization: dict, num_persons: int,
                    in_channels: int, training_state: dict | None = None, extra: dict | None = None,
                    rejection: dict | None = None) -> None:
    """Write atomically (temporary file + rename), so a killed run never leaves half a checkpoint."""
    content = {
        "format": FORMAT, "model": model, "layout": layout, "class_names": list(class_names),
        "config": config, "normalization": normalization, "num_persons": num_persons,
        "in_channels": in_channels, "state_dict": {k: v.detach().cpu() for k, v in model_state.items()},
        "training_state": training_state or {},
        "extra": extra or {},  # what a model family needs beyond weights (the BiLSTM's feature scaler)
        "rejection": rejection or {},  # calibrated "none of these" (posegraph.gcn.rejection), once fitted
    }
    content["checksum"] = content_checksum(content)
    temporary = path.with_name(f".{path.name}.partial")
    torch.save(content, temporary)
    os.replace(temporary, path)


def checkpoint_file(path: str | Path) -> Path:
    """A checkpoint file, or a run folder meaning its ``best.pt``; :class:`CheckpointError` naming it when missing."""
    path = Path(path)
    found = path / "best.pt" if path.is_dir() else path
    if not found.is_file():
        raise CheckpointError(f"checkpoint {found}: no such file" + (
            " (the run folder has no best.pt yet: did its training finish?)" if path.is_dir() else ""))
    return found


def load_checkpoint(path: str | Path, expected_layout: str | None = None) -> ModelBundle:
    """Read and verify a checkpoint as a :class:`~.bundle.ModelBundle`; with ``expected_layout``,
    refuse one trained on another layout."""
    path = Path(path)
    return ModelBundle.from_content(read_checkpoint_content(path, expected_layout), path)


def read_checkpoint_content(path: str | Path, expected_layout: str | None = None) -> dict:
    """The verified raw dictionary of a checkpoint file (:func:`load_checkpoint` wraps it)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path}: no such file")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - many unpickling error types
        raise CheckpointError(f"{path} is not a posegraph checkpoint that loads safely: {error}") from None
    if not isinstance(content, dict) or content.get("format") not in (FORMAT, WEIGHTS_ONLY_FORMAT):
        raise CheckpointError(f"{path} is not a posegraph checkpoint (format {FORMAT} expected)")
    missing = [key for key in REQUIRED_KEYS if key not in content and not
               (content["format"] == WEIGHTS_ONLY_FORMAT and key in ("extra", "rejection"))]
    if missing:
        raise CheckpointError(f"{path} lacks {', '.join(missing)}: it is damaged or was not written by posegraph; "
                              f"train again or use another checkpoint")
    if not isinstance(content["state_dict"], dict):
        raise CheckpointError(f"{path}: state_dict is not a mapping of weights; the file is damaged")
    expected = weights_checksum(content["state_dict"]) if content["format"] == WEIGHTS_ONLY_FORMAT \
        else content_checksum(content)
    if expected != content["checksum"]:
        raise CheckpointError(f"{path}: the weights or their metadata (classes, layout, config) do not match the "
                              f"checksum; the file is damaged or was edited")
    if expected_layout is not None and content["layout"] != expected_layout:
        raise CheckpointError(
            f"checkpoint {path} was trained on layout {content['layout']!r} but the model uses layout "
            f"{expected_layout!r}. Train on {content['layout']!r} (e.g. --set layout={content['layout']}, "
            f"which converts the stored skeletons) or start without --init.")
    return content
