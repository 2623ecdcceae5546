"""HRNet-W32 for top-down pose estimation (Sun et al., CVPR 2019), in plain PyTorch.

Module and parameter names follow the reference implementation (``lib/models/pose_hrnet.py``
of leoxiaobin/deep-high-resolution-net.pytorch), so the official
``pose_hrnet_w32_256x192.pth`` state_dict loads with ``strict=True``.

Shapes:
    input: ``(N, 3, 256, 192)`` normalised RGB crops -> output: ``(N, 17, 64, 48)`` heatmaps.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

BN_MOMENTUM = 0.1
_STAGES = (  # (modules, branches, blocks per branch) of stages 2-4, as the W32 config
    (1, 2, 4),
    (4, 3, 4),
    (3, 4, 4),
)


def _conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = _conv3x3(channels, channels)
        self.bn1 = nn.BatchNorm2d(channels, momentum=BN_MOMENTUM)
        self.conv2 = _conv3x3(channels, channels)
        self.bn2 = nn.BatchNorm2d(channels, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + x)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_channels: int, channels: int) -> None:
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = nn.Conv2d(in_channels, channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels, momentum=BN_MOMENTUM)
        self.conv2 = _conv3x3(channels, channels)
        self.bn2 = nn.BatchNorm2d(channels, momentum=BN_MOMENTUM)
        self.conv3 = nn.Conv2d(channels, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, bias=False),
                nn.BatchNorm2d(out_channels, momentum=BN_MOMENTUM))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(out + residual)


def _fuse(channels: list[int], target: int, source: int) -> nn.Module | None:
    """How branch ``source`` reaches branch ``target``: 1x1 conv + upsample, or strided 3x3 convs."""
    if source == target:
        return None
    if source > target:
        return nn.Sequential(
            nn.Conv2d(channels[source], channels[target], 1, bias=False),
            nn.BatchNorm2d(channels[target]),
            nn.Upsample(scale_factor=2 ** (source - target), mode="nearest"))
    steps = []
    for step in range(target - source):
        last = step == target - source - 1
        out_channels = channels[target] if last else channels[source]
        layers = [_conv3x3(channels[source], out_channels, 2), nn.BatchNorm2d(out_channels)]
        steps.append(nn.Sequential(*layers) if last else nn.Sequential(*layers, nn.ReLU(inplace=True)))
    return nn.Sequential(*steps)


class HighResolutionModule(nn.Module):
    """Parallel branches of BasicBlocks, then every branch fused into every (kept) output.

    Shapes:
        input: list of ``(N, C_b, H / 2^b, W / 2^b)`` -> same list (or only branch 0).
    """

    def __init__(self, channels: list[int], blocks: int, multi_scale_output: bool = True) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(*(BasicBlock(width) for _ in range(blocks))) for width in channels)
        outputs = len(channels) if multi_scale_output else 1
        self.fuse_layers = nn.ModuleList(
            nn.ModuleList(_fuse(channels, target, source) for source in range(len(channels)))
            for target in range(outputs))
        self.relu = nn.ReLU(inplace=False)

    def forward(self, inputs: list[torch.Tensor]) -> list[torch.Tensor]:
        branches = [branch(x) for branch, x in zip(self.branches, inputs)]
        fused = []
        for target, layers in enumerate(self.fuse_layers):
            total = branches[target]
            for source, layer in enumerate(layers):
                if layer is not None:
                    total = total + layer(branches[source])
            fused.append(self.relu(total))
        return fused


def _transition(previous: list[int], current: list[int]) -> nn.ModuleList:
    layers = []
    for index, width in enumerate(current):
        if index < len(previous):
            layers.append(None if previous[index] == width else nn.Sequential(
                _conv3x3(previous[index], width), nn.BatchNorm2d(width), nn.ReLU(inplace=True)))
        else:
            layers.append(nn.Sequential(nn.Sequential(
                _conv3x3(previous[-1], width, 2), nn.BatchNorm2d(width), nn.ReLU(inplace=True))))
    return nn.ModuleList(layers)


class HRNet(nn.Module):
    """HRNet pose network: stem, four stages of parallel resolutions, 1x1 heatmap head.

    Args:
        width: channels of the highest-resolution branch (32 for HRNet-W32).
        num_joints: heatmaps produced (17 COCO keypoints).

    Shapes:
        input: ``(N, 3, H, W)`` -> output: ``(N, num_joints, H / 4, W / 4)``.

    Example:
        >>> net = HRNet(width=32, num_joints=17)
        >>> net.load_state_dict(load_checkpoint("pose_hrnet_w32_256x192.pth"), strict=True)
    """

    def __init__(self, width: int = 32, num_joints: int = 17) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64, momentum=BN_MOMENTUM)
        self.conv2 = nn.Conv2d(64, 64, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(64, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(Bottleneck(64, 64), *(Bottleneck(256, 64) for _ in range(3)))
        previous = [256]
        for number, (modules, branches, blocks) in enumerate(_STAGES, start=2):
            channels = [width * 2**branch for branch in range(branches)]
            setattr(self, f"transition{number - 1}", _transition(previous, channels))
            last_stage = number == 1 + len(_STAGES)
            setattr(self, f"stage{number}", nn.Sequential(*(
                HighResolutionModule(channels, blocks, multi_scale_output=not (last_stage and m == modules - 1))
                for m in range(modules))))
            previous = channels
        self.final_layer = nn.Conv2d(width, num_joints, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        branches = [self.layer1(x)]
        for number in range(2, 2 + len(_STAGES)):
            transition = getattr(self, f"transition{number - 1}")
            inputs = []
            for index, layer in enumerate(transition):
                source = branches[index] if index < len(branches) else branches[-1]
                inputs.append(source if layer is None else layer(source))
            branches = getattr(self, f"stage{number}")(inputs)
        return self.final_layer(branches[0])


def load_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """The state_dict of an HRNet checkpoint, loaded safely (``weights_only=True``).

    Accepts the official format (a bare state_dict) and wrappers with ``state_dict`` or
    ``model`` keys; a ``module.`` prefix left by DataParallel is removed.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"HRNet weights {path}: no such file. Pass the official "
                                f"pose_hrnet_w32_256x192.pth (state_dict format) with --weights.")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - unpickling errors come in many types
        raise ValueError(f"{path} is not a loadable PyTorch checkpoint: {error}") from None
    for key in ("state_dict", "model"):
        if isinstance(content, dict) and isinstance(content.get(key), dict):
            content = content[key]
    if not isinstance(content, dict):
        raise ValueError(f"{path} holds a {type(content).__name__}, not a state_dict")
    return {name.removeprefix("module."): tensor for name, tensor in content.items()}
