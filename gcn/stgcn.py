"""ST-GCN (Yan et al., AAAI 2018), faithful to the reference (yysijie/st-gcn, net/st_gcn.py).

Ten spatial-temporal units (64, 64, 64, 64, 128, 128, 128, 256, 256, 256), temporal kernel 9,
temporal stride 2 entering 128 and 256 channels, residual connections (none on the first
unit), learnable edge-importance masks, input batch norm over joints x channels, global
average pooling and a 1x1 convolution classifier. The graph convolution is dense over the
``(K, V, V)`` partitions (an einsum); at 18-33 joints that is faster on CPU than sparse
message passing (see benchmarks/gcn.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from posegraph.skeleton import get_layout
from posegraph.skeleton.graph import partitions

CHANNELS = (64, 64, 64, 64, 128, 128, 128, 256, 256, 256)
STRIDES = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1)
TEMPORAL_KERNEL = 9


class GraphConv(nn.Module):
    """Spatial graph convolution: a 1x1 conv to K groups of channels, summed over partitions.

    The reference applies the 1x1 conv first, then sums ``K`` adjacency products over
    ``C_out`` channels each. The same sum is computed here with the adjacency product first, over
    the ``C_in <= C_out`` input channels, as one matrix product (no permuted copy), followed by one
    convolution that reads the ``K`` partitions as a kernel of width ``K`` (stride ``K``); the bias
    term becomes ``sum_k b_k * column sums of A_k``. Same parameters (``conv`` keeps the reference's
    shape, so checkpoints load either way), same result to float tolerance, less work
    (benchmarks/gcn.py).

    Shapes:
        x: ``(N, C_in, T, V)``, A: ``(K, V, V)`` -> ``(N, C_out, T, V)``.
    """

    def __init__(self, in_channels: int, out_channels: int, partitions_count: int) -> None:
        super().__init__()
        self.partitions_count = partitions_count
        self.out_channels = out_channels
        self.conv = nn.Conv2d(in_channels, out_channels * partitions_count, kernel_size=1)

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        batch, channels, frames, joints = x.shape
        partitions_count, out_channels = self.partitions_count, self.out_channels
        # (V, V*K): column w*K + k holds A_k[:, w], so the product lands as (..., W, K)
        spread = adjacency.permute(1, 2, 0).reshape(joints, joints * partitions_count)
        aggregated = torch.matmul(x.reshape(batch, channels, frames, joints), spread)
        weight = self.conv.weight.view(partitions_count, out_channels, channels).permute(1, 2, 0)
        out = F.conv2d(aggregated, weight.unsqueeze(2), stride=(1, partitions_count))
        bias = torch.einsum("ko,kw->ow", self.conv.bias.view(partitions_count, out_channels), adjacency.sum(dim=1))
        return out + bias[None, :, None, :]


def reference_graph_conv(conv: nn.Conv2d, x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
    """The reference's order (1x1 conv, then the per-partition sum): what :class:`GraphConv` must equal."""
    partitions_count = adjacency.shape[0]
    x = conv(x)
    batch, channels, frames, joints = x.shape
    x = x.view(batch, partitions_count, channels // partitions_count, frames, joints)
    return torch.einsum("nkctv,kvw->nctw", x, adjacency).contiguous()


class STGCNBlock(nn.Module):
    """Graph conv -> BN-ReLU-temporal conv (kernel 9)-BN-dropout, plus residual, ReLU.

    Shapes:
        x: ``(N, C_in, T, V)`` -> ``(N, C_out, T / stride, V)``.
    """

    def __init__(self, in_channels: int, out_channels: int, partitions_count: int, stride: int = 1,
                 dropout: float = 0.0, residual: bool = True) -> None:
        super().__init__()
        self.gcn = GraphConv(in_channels, out_channels, partitions_count)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, (TEMPORAL_KERNEL, 1), (stride, 1),
                      ((TEMPORAL_KERNEL - 1) // 2, 0)),
            nn.BatchNorm2d(out_channels), nn.Dropout(dropout, inplace=True))
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, (stride, 1)),
                                          nn.BatchNorm2d(out_channels))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        residual = 0 if self.residual is None else self.residual(x)
        return self.relu(self.tcn(self.gcn(x, adjacency)) + residual)


class STGCN(nn.Module):
    """ST-GCN classifier over a skeleton layout.

    Args:
        layout: layout name (its edges and centre build the partitions).
        num_classes: output classes.
        in_channels: channels per joint (3: x, y, confidence).
        partition: ``spatial`` (reference), ``spatial_full``, ``distance`` or ``uniform``.
        edge_importance: learnable per-unit masks on the adjacency (reference: on).
        dropout: dropout after each temporal conv (reference: off).

    Shapes:
        input: ``(N, C, T, V, M)`` with C = x, y, confidence -> output: ``(N, num_classes)``.
    """

    def __init__(self, layout: str, num_classes: int, in_channels: int = 3, num_persons: int = 1,
                 partition: str = "spatial", edge_importance: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        self.layout = get_layout(layout)
        self.num_persons = num_persons
        adjacency = partitions(self.layout, partition)
        self.register_buffer("A", adjacency)
        partitions_count, joints = adjacency.shape[0], adjacency.shape[1]
        self.data_bn = nn.BatchNorm1d(in_channels * joints)
        widths = (in_channels,) + CHANNELS
        self.st_gcn_networks = nn.ModuleList(
            STGCNBlock(widths[i], widths[i + 1], partitions_count, STRIDES[i],
                       dropout=0.0 if i == 0 else dropout, residual=i > 0)
            for i in range(len(CHANNELS)))
        self.edge_importance = nn.ParameterList(
            nn.Parameter(torch.ones_like(adjacency)) for _ in CHANNELS) if edge_importance else None
        self.fcn = nn.Conv2d(CHANNELS[-1], num_classes, kernel_size=1)

    feature_channels = CHANNELS[-1]

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """The last unit's output before pooling. Shapes: ``(N, C, T, V, M)`` -> ``(N * M, 256, T / 4, V)``."""
        batch, channels, frames, joints, persons = x.shape
        x = x.permute(0, 4, 3, 1, 2).reshape(batch * persons, joints * channels, frames)
        x = self.data_bn(x)
        x = x.view(batch, persons, joints, channels, frames).permute(0, 1, 3, 4, 2)
        x = x.reshape(batch * persons, channels, frames, joints)
        for index, block in enumerate(self.st_gcn_networks):
            weight = self.A if self.edge_importance is None else self.A * self.edge_importance[index]
            x = block(x, weight)
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Shapes: ``(N, C, T, V, M)`` -> pooled ``(N, 256)``."""
        batch, persons = x.shape[0], x.shape[4]
        x = self.feature_map(x)
        x = x.mean(dim=(2, 3), keepdim=True)  # the global average pool, in a form ONNX export keeps shape-free
        return x.view(batch, persons, -1).mean(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.features(x)
        return self.fcn(pooled[:, :, None, None]).flatten(1)

    def units(self) -> list[nn.Module]:
        """The ten units in order (for fine-tuning the last K)."""
        return list(self.st_gcn_networks)

    def head(self) -> nn.Module:
        return self.fcn
