"""Checkpoints as plain data: weights plus the layout, class names, config, normalisation (method
and frame rate), what the model family needs beyond weights (``extra``: the BiLSTM's feature
scaler) and a checksum of the weights. Loaded with ``torch.load(weights_only=True)``."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch

FORMAT = "posegraph-gcn-checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used as asked."""


def weights_checksum(state_dict: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for key in sorted(state_dict):
        digest.update(key.encode())
        digest.update(state_dict[key].detach().cpu().contiguous().numpy().tobytes())
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
        "checksum": weights_checksum(model_state), "training_state": training_state or {},
        "extra": extra or {},  # what a model family needs beyond weights (the BiLSTM's feature scaler)
        "rejection": rejection or {},  # calibrated "none of these" (posegraph.gcn.rejection), once fitted
    }
    temporary = path.with_name(f".{path.name}.partial")
    torch.save(content, temporary)
    os.replace(temporary, path)


def load_checkpoint(path: str | Path, expected_layout: str | None = None) -> dict:
    """Read and verify a checkpoint; with ``expected_layout``, refuse one trained on another layout."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path}: no such file")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - many unpickling error types
        raise CheckpointError(f"{path} is not a posegraph checkpoint that loads safely: {error}") from None
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a posegraph checkpoint (format {FORMAT} expected)")
    if weights_checksum(content["state_dict"]) != content["checksum"]:
        raise CheckpointError(f"{path}: the weights do not match their checksum; the file is damaged")
    if expected_layout is not None and content["layout"] != expected_layout:
        raise CheckpointError(
            f"checkpoint {path} was trained on layout {content['layout']!r} but the model uses layout "
            f"{expected_layout!r}. Train on {content['layout']!r} (e.g. --set layout={content['layout']}, "
            f"which converts the stored skeletons) or start without --init.")
    return content
