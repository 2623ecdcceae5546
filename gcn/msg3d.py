"""MS-G3D (Liu et al., CVPR 2020), faithful to the reference (kenziyuliu/MS-G3D, model/).

Three stages (96, 192, 384 channels). Each stage sums two pathways: a multi-scale
*disentangled* graph convolution (k-hop adjacencies with the lower hops removed, normalised,
plus a learned residual mask) followed by two multi-scale temporal convolutions, and G3D:
unified spatial-temporal graph convolutions over sliding temporal windows of 3 and 5 frames,
summed. A multi-scale temporal block follows each stage; global pooling over time, joints
and persons; a linear classifier.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from posegraph.skeleton import get_layout
from posegraph.skeleton.graph import adjacency, multiscale_adjacency

STAGE_CHANNELS = (96, 192, 384)
WINDOW_SIZES = (3, 5)
TEMPORAL_DILATIONS = (1, 2, 3, 4)


class MLP(nn.Module):
    """1x1 conv + BN + activation. Shapes: ``(N, C_in, T, V)`` -> ``(N, C_out, T, V)``."""

    def __init__(self, in_channels: int, out_channels: int, activation: bool = True) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels),
                                     nn.ReLU(inplace=True) if activation else nn.Identity()])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class TemporalConv(nn.Module):
    """Temporal conv (kernel along T) + BN. Shapes: ``(N, C, T, V)`` -> ``(N, C', T / stride, V)``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 dilation: int = 1) -> None:
        super().__init__()
        padding = (kernel_size + (kernel_size - 1) * (dilation - 1) - 1) // 2
        self.conv = nn.Conv2d(in_channels, out_channels, (kernel_size, 1), (stride, 1), (padding, 0), (dilation, 1))
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class MultiScaleTemporalConv(nn.Module):
    """Six branches — four dilated temporal convs (1-4), a max-pool, a 1x1 — concatenated, plus residual.

    Shapes:
        x: ``(N, C_in, T, V)`` -> ``(N, C_out, T / stride, V)``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, kernel_size: int = 3) -> None:
        super().__init__()
        branches = len(TEMPORAL_DILATIONS) + 2
        if out_channels % branches:
            raise ValueError(f"out_channels ({out_channels}) must be divisible by {branches}")
        width = out_channels // branches

        def entry() -> list[nn.Module]:
            return [nn.Conv2d(in_channels, width, 1), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]

        self.branches = nn.ModuleList(
            nn.Sequential(*entry(), TemporalConv(width, width, kernel_size, stride, dilation))
            for dilation in TEMPORAL_DILATIONS)
        self.branches.append(nn.Sequential(*entry(), nn.MaxPool2d((3, 1), (stride, 1), (1, 0)), nn.BatchNorm2d(width)))
        self.branches.append(nn.Sequential(nn.Conv2d(in_channels, width, 1, stride=(stride, 1)), nn.BatchNorm2d(width)))
        if in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = TemporalConv(in_channels, out_channels, 1, stride)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat([branch(x) for branch in self.branches], dim=1)
        return self.act(out + self.residual(x))


class MultiScaleGCN(nn.Module):
    """Disentangled multi-scale graph convolution with a learned residual mask ``A_res``.

    The reference aggregates each scale, lays the scales out as channels (a permuted copy of a
    tensor ``scales`` times the input) and applies the MLP's 1x1 conv (:meth:`reference_forward`).
    :meth:`forward` computes the same sum with the scales left on the last axis and read by one
    convolution with a kernel of width ``scales`` (stride ``scales``): same parameters, same result
    to float tolerance, no copy (benchmarks/gcn.py).

    Shapes:
        x: ``(N, C_in, T, V)`` -> ``(N, C_out, T, V)``; ``A_powers``: ``(scales * V, V)``.
    """

    def __init__(self, scales: int, in_channels: int, out_channels: int, binary: torch.Tensor,
                 activation: bool = True) -> None:
        super().__init__()
        self.scales = scales
        self.register_buffer("A_powers", multiscale_adjacency(binary, scales))
        self.A_res = nn.Parameter(torch.empty_like(self.A_powers).uniform_(-1e-6, 1e-6))
        self.mlp = MLP(in_channels * scales, out_channels, activation)

    def aggregate(self, x: torch.Tensor) -> torch.Tensor:
        """The reference's layout: ``(N, C, T, V)`` -> ``(N, scales * C, T, V)``, channel ``s * C + c``."""
        batch, channels, frames, joints = x.shape
        support = torch.einsum("vu,nctu->nctv", self.A_powers + self.A_res, x)
        support = support.view(batch, channels, frames, self.scales, joints).permute(0, 3, 1, 2, 4)
        return support.reshape(batch, self.scales * channels, frames, joints)

    def reference_forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.aggregate(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels, joints, scales = x.shape[1], x.shape[3], self.scales
        # (V, V * scales): column v * scales + s holds row s * V + v of the stacked adjacency
        spread = (self.A_powers + self.A_res).view(scales, joints, joints).permute(2, 1, 0).reshape(joints, -1)
        aggregated = torch.matmul(x, spread)  # (N, C, T, V * scales)
        conv = self.mlp.layers[0]
        weight = conv.weight.view(conv.out_channels, scales, channels).permute(0, 2, 1).unsqueeze(2)
        x = F.conv2d(aggregated, weight, conv.bias, stride=(1, scales))
        for layer in self.mlp.layers[1:]:
            x = layer(x)
        return x


class UnfoldTemporalWindows(nn.Module):
    """Sliding windows over time, laid side by side on the joint axis.

    Shapes:
        x: ``(N, C, T, V)`` -> ``(N, C, T / stride, window * V)``.
    """

    def __init__(self, window: int, stride: int) -> None:
        super().__init__()
        self.window = window
        self.unfold = nn.Unfold((window, 1), stride=(stride, 1), padding=((window - 1) // 2, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, _, joints = x.shape
        x = self.unfold(x).view(batch, channels, self.window, -1, joints).permute(0, 1, 3, 2, 4)
        return x.reshape(batch, channels, -1, self.window * joints)


class G3D(nn.Module):
    """One G3D pathway: windows -> multi-scale graph conv on the space-time graph -> collapse window.

    The space-time graph tiles (A + I) over the window, so every joint reaches its
    neighbours in every frame of the window.

    Shapes:
        x: ``(N, C_in, T, V)`` -> ``(N, C_out, T / stride, V)``.
    """

    def __init__(self, in_channels: int, out_channels: int, binary: torch.Tensor, scales: int, window: int,
                 stride: int, first: bool) -> None:
        super().__init__()
        self.window = window
        self.embed_channels = out_channels if first else in_channels
        joints = binary.shape[0]
        space_time = (binary + torch.eye(joints)).repeat(window, window)
        space_time.fill_diagonal_(0)  # k-hop adjacency adds the self-loops back
        self.unfold = UnfoldTemporalWindows(window, stride)
        self.gcn = MultiScaleGCN(scales, in_channels, self.embed_channels, space_time, activation=False)
        self.gcn_act = nn.ReLU(inplace=True)
        self.out_conv = nn.Conv3d(self.embed_channels, out_channels, kernel_size=(1, window, 1))
        self.out_bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, _, joints = x.shape
        x = self.gcn_act(self.gcn(self.unfold(x)))
        x = x.view(batch, self.embed_channels, -1, self.window, joints)
        return self.out_bn(self.out_conv(x).squeeze(dim=3))


class MultiWindowG3D(nn.Module):
    """G3D pathways with windows of 3 and 5 frames, summed.

    Shapes:
        x: ``(N, C_in, T, V)`` -> ``(N, C_out, T / stride, V)``.
    """

    def __init__(self, in_channels: int, out_channels: int, binary: torch.Tensor, scales: int, stride: int,
                 first: bool = False) -> None:
        super().__init__()
        self.gcn3d = nn.ModuleList(G3D(in_channels, out_channels, binary, scales, window, stride, first)
                                   for window in WINDOW_SIZES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return sum(pathway(x) for pathway in self.gcn3d)


class Stage(nn.Module):
    """One MS-G3D stage: relu(MS-GCN + 2 MS-TCN  +  multi-window G3D), then an MS-TCN.

    Shapes:
        x: ``(N, C_in, T, V)`` -> ``(N, C_out, T / stride, V)``.
    """

    def __init__(self, in_channels: int, out_channels: int, binary: torch.Tensor, gcn_scales: int,
                 g3d_scales: int, stride: int, first: bool) -> None:
        super().__init__()
        middle = out_channels if first else in_channels
        self.sgcn = nn.Sequential(
            MultiScaleGCN(gcn_scales, in_channels, middle, binary),
            MultiScaleTemporalConv(middle, out_channels, stride=stride),
            MultiScaleTemporalConv(out_channels, out_channels))
        self.sgcn[-1].act = nn.Identity()
        self.gcn3d = MultiWindowG3D(in_channels, out_channels, binary, g3d_scales, stride, first)
        self.tcn = MultiScaleTemporalConv(out_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tcn(F.relu(self.sgcn(x) + self.gcn3d(x), inplace=True))


class MSG3D(nn.Module):
    """MS-G3D classifier over a skeleton layout.

    Args:
        layout: layout name (its bones give the binary adjacency).
        num_classes: output classes.
        in_channels: channels per joint (3: x, y, confidence).
        num_persons: persons M in the input (the input batch norm covers M x C x V).
        gcn_scales / g3d_scales: hop scales (reference: 13 / 6 for ntu25, 8 / 8 for openpose18).

    Shapes:
        input: ``(N, C, T, V, M)`` with C = x, y, confidence -> output: ``(N, num_classes)``.
    """

    def __init__(self, layout: str, num_classes: int, in_channels: int = 3, num_persons: int = 1,
                 gcn_scales: int = 8, g3d_scales: int = 8, dropout: float = 0.0) -> None:
        super().__init__()
        self.layout = get_layout(layout)
        binary = adjacency(self.layout, self_loops=False)
        joints = self.layout.num_joints
        self.data_bn = nn.BatchNorm1d(num_persons * in_channels * joints)
        widths = (in_channels,) + STAGE_CHANNELS
        self.stages = nn.ModuleList(
            Stage(widths[i], widths[i + 1], binary, gcn_scales, g3d_scales, stride=1 if i == 0 else 2, first=i == 0)
            for i in range(len(STAGE_CHANNELS)))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(STAGE_CHANNELS[-1], num_classes)

    feature_channels = STAGE_CHANNELS[-1]

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """The last stage's output before pooling. Shapes: ``(N, C, T, V, M)`` -> ``(N * M, 384, T / 4, V)``."""
        batch, channels, frames, joints, persons = x.shape
        x = x.permute(0, 4, 3, 1, 2).reshape(batch, persons * joints * channels, frames)
        x = self.data_bn(x)
        x = x.view(batch * persons, joints, channels, frames).permute(0, 2, 3, 1).contiguous()
        for stage in self.stages:
            x = stage(x)
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Shapes: ``(N, C, T, V, M)`` -> pooled ``(N, 384)``."""
        batch, persons = x.shape[0], x.shape[4]
        x = self.feature_map(x)
        return x.view(batch, persons, x.shape[1], -1).mean(dim=3).mean(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.features(x)))

    def units(self) -> list[nn.Module]:
        return list(self.stages)

    def head(self) -> nn.Module:
        return self.fc
