"""Graph views of a layout for the models: edge_index and ST-GCN adjacency partitions.

Partition strategies (Yan et al., AAAI 2018), each returned as ``(K, V, V)`` float tensors
where entry ``[k, j, i]`` weights neighbour ``j`` of joint ``i`` in subset ``k``:

- ``uniform``  (K=1): every neighbour (and the joint itself) in one subset.
- ``distance`` (K=max_hop+1): subsets by hop distance (self, 1 hop, ...).
- ``spatial``  (K=3 for max_hop=1): root, closer to the centre, further from the centre —
  built exactly as the reference (``net/utils/graph.py``): hop distances are computed with
  ``max_hop`` (1), so a joint two or more hops from the centre has distance *infinity* and the
  close/far split only happens next to the centre joint; elsewhere neighbours count as root
  or "close" (inf > finite). This is what pretrained Kinetics/NTU checkpoints expect.
- ``spatial_full``: the same three subsets, but distances to the centre are true graph
  (all-hop) distances, so every bone is split into centripetal/centrifugal as the paper
  describes. Same shapes and parameter count; not weight-compatible in meaning.

Normalisation: ``column`` (the reference's ``normalize_digraph``, A·D⁻¹: each column of the
summed adjacency sums to 1) for ST-GCN; :func:`normalize_symmetric` (D^-½ A D^-½, via
torch-geometric's ``gcn_norm``) for MS-G3D style models.
"""

from __future__ import annotations

import torch
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import add_self_loops, to_dense_adj, to_undirected

from .layout import Layout
from .layouts import get_layout

STRATEGIES = ("uniform", "distance", "spatial", "spatial_full")


def _as_layout(layout: Layout | str) -> Layout:
    return get_layout(layout) if isinstance(layout, str) else layout


def edge_index(layout: Layout | str, self_loops: bool = False) -> torch.Tensor:
    """Bones as a torch-geometric ``edge_index``.

    Shapes:
        output: ``(2, 2E)`` long (``(2, 2E + V)`` with ``self_loops``), both directions.
    """
    layout = _as_layout(layout)
    bones = torch.tensor(layout.edges, dtype=torch.long).t().reshape(2, -1)
    index = to_undirected(bones, num_nodes=layout.num_joints)
    if self_loops:
        index, _ = add_self_loops(index, num_nodes=layout.num_joints)
    return index


def adjacency(layout: Layout | str, self_loops: bool = True) -> torch.Tensor:
    """Dense 0/1 adjacency ``(V, V)``, symmetric."""
    layout = _as_layout(layout)
    index = edge_index(layout, self_loops=self_loops)
    return to_dense_adj(index, max_num_nodes=layout.num_joints)[0]


def hop_distance(layout: Layout | str, max_hop: int | None = 1) -> torch.Tensor:
    """Hop distances ``(V, V)``; ``inf`` beyond ``max_hop`` (``None`` = no limit)."""
    layout = _as_layout(layout)
    count = layout.num_joints
    reach = adjacency(layout, self_loops=True)
    limit = count if max_hop is None else max_hop
    distance = torch.full((count, count), float("inf"))
    power = torch.eye(count)
    for hop in range(limit + 1):
        newly_reached = (power > 0) & torch.isinf(distance)
        distance[newly_reached] = hop
        power = (power @ reach).clamp(max=1.0)
    return distance


def normalize_columns(matrix: torch.Tensor) -> torch.Tensor:
    """A·D⁻¹ with D the column sums (the ST-GCN reference's ``normalize_digraph``)."""
    column_sums = matrix.sum(dim=0)
    inverse = torch.where(column_sums > 0, 1.0 / column_sums, torch.zeros_like(column_sums))
    return matrix * inverse.unsqueeze(0)


def normalize_symmetric(matrix: torch.Tensor) -> torch.Tensor:
    """D^-½ A D^-½ of a dense adjacency (self-loops as given), through ``gcn_norm``."""
    sources, targets = matrix.nonzero(as_tuple=True)
    index = torch.stack([sources, targets])
    weights = matrix[sources, targets]
    index, weights = gcn_norm(index, weights, num_nodes=matrix.shape[0], add_self_loops=False)
    normalized = torch.zeros_like(matrix)
    normalized[index[0], index[1]] = weights
    return normalized


def partitions(
    layout: Layout | str, strategy: str = "spatial", max_hop: int = 1, dilation: int = 1
) -> torch.Tensor:
    """ST-GCN adjacency partitions, column-normalised as the reference.

    Shapes:
        output: ``(K, V, V)`` with K = 1 (uniform), max_hop + 1 (distance),
        1 + 2·max_hop (spatial, spatial_full).
    """
    layout = _as_layout(layout)
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown partition strategy {strategy!r}; choose from {STRATEGIES}")
    distance = hop_distance(layout, max_hop)
    valid_hops = range(0, max_hop + 1, dilation)
    reachable = torch.zeros_like(distance)
    for hop in valid_hops:
        reachable[distance == hop] = 1.0
    normalized = normalize_columns(reachable)
    if strategy == "uniform":
        return normalized.unsqueeze(0)
    if strategy == "distance":
        return torch.stack([normalized * (distance == hop) for hop in valid_hops])
    center_distance = hop_distance(layout, max_hop if strategy == "spatial" else None)
    to_center = center_distance[:, list(layout.center)].min(dim=1).values
    neighbour_to_center = to_center.unsqueeze(1)  # row j: the neighbour
    joint_to_center = to_center.unsqueeze(0)  # column i: the joint itself
    subsets = []
    for hop in valid_hops:
        at_hop = normalized * (distance == hop)
        root = at_hop * (neighbour_to_center == joint_to_center)
        closer = at_hop * (neighbour_to_center > joint_to_center)
        further = at_hop * (neighbour_to_center < joint_to_center)
        subsets.extend([root] if hop == 0 else [root + closer, further])
    return torch.stack(subsets)


def k_hop_adjacency(matrix: torch.Tensor, hops: int, with_self: bool = True) -> torch.Tensor:
    """Joints exactly ``hops`` apart (lower hops removed), MS-G3D's disentangled neighbourhood.

    ``matrix`` is a 0/1 adjacency without self-loops; hop 0 is the identity.
    """
    identity = torch.eye(matrix.shape[0], dtype=matrix.dtype)
    if hops == 0:
        return identity
    reach = matrix + identity
    exact = (torch.linalg.matrix_power(reach, hops).clamp(max=1)
             - torch.linalg.matrix_power(reach, hops - 1).clamp(max=1))
    return exact + identity if with_self else exact


def multiscale_adjacency(matrix: torch.Tensor, scales: int) -> torch.Tensor:
    """Symmetric-normalised k-hop adjacencies for k = 0..scales-1, stacked.

    Shapes:
        matrix: ``(V, V)`` 0/1 without self-loops -> output: ``(scales * V, V)``.
    """
    return torch.cat([normalize_symmetric(k_hop_adjacency(matrix, hops)) for hops in range(scales)])
