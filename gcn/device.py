"""The torch device a run or a prediction uses (shared by training and inference)."""

from __future__ import annotations

import torch


def pick_device(choice: str) -> torch.device:
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(choice)


def autocast_dtype(device: torch.device) -> torch.dtype:
    """bfloat16 where the device has it (no loss scaling needed), else float16 with a gradient scaler."""
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return torch.float16
    return torch.bfloat16
