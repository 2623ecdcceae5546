import pytest
import torch

from posegraph.skeleton import get_layout
from posegraph.skeleton.graph import (STRATEGIES, adjacency, edge_index, hop_distance,
                                      normalize_symmetric, partitions)

# Non-zeros per subset, counted from the official ST-GCN graph (shared/reference/NUMBERS.md).
REFERENCE_NONZEROS = {
    ("openpose18", "uniform"): [52], ("openpose18", "distance"): [18, 34],
    ("openpose18", "spatial"): [18, 25, 9],
    ("ntu25", "uniform"): [73], ("ntu25", "distance"): [25, 48], ("ntu25", "spatial"): [25, 40, 8],
}


@pytest.mark.parametrize("name", ["blazepose33", "coco17", "openpose18", "ntu25"])
def test_edge_index_holds_both_directions(name):
    layout = get_layout(name)
    index = edge_index(layout)
    assert index.dtype == torch.long and index.shape == (2, 2 * len(layout.edges))
    pairs = set(map(tuple, index.t().tolist()))
    assert all((second, first) in pairs for first, second in pairs)
    assert edge_index(layout, self_loops=True).shape[1] == 2 * len(layout.edges) + layout.num_joints


@pytest.mark.parametrize("name, strategy", sorted(REFERENCE_NONZEROS))
def test_partitions_match_the_reference_counts(name, strategy):
    subsets = partitions(name, strategy)
    assert [int((subset != 0).sum()) for subset in subsets] == REFERENCE_NONZEROS[(name, strategy)]


@pytest.mark.parametrize("name", ["blazepose33", "coco17", "openpose18", "ntu25"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_partitions_are_column_normalised_and_split_the_uniform_graph(name, strategy):
    subsets = partitions(name, strategy)
    summed = subsets.sum(dim=0)
    torch.testing.assert_close(summed.sum(dim=0), torch.ones(get_layout(name).num_joints))
    torch.testing.assert_close(summed, partitions(name, "uniform")[0])
    structure = (summed > 0).float()
    torch.testing.assert_close(structure, structure.t())  # the partitions cover a symmetric graph
    assert not ((subsets != 0).sum(dim=0) > 1).any()  # each entry in exactly one subset


def test_spatial_full_splits_every_bone_unlike_the_reference():
    reference, full = partitions("openpose18", "spatial"), partitions("openpose18", "spatial_full")
    assert reference.shape == full.shape == (3, 18, 18)
    assert int((full[1] != 0).sum()) == int((full[2] != 0).sum()) == 17  # one per bone each way
    assert not torch.equal(reference, full)


def test_hop_distance_limit():
    limited, full = hop_distance("openpose18", 1), hop_distance("openpose18", None)
    wrist, ankle = 4, 13
    assert torch.isinf(limited[wrist, ankle]) and full[wrist, ankle] == 7
    assert limited[4, 3] == full[4, 3] == 1


def test_symmetric_normalisation():
    matrix = adjacency("coco17")
    normalized = normalize_symmetric(matrix)
    torch.testing.assert_close(normalized, normalized.t())
    degree = matrix.sum(dim=1)
    expected = matrix / torch.sqrt(degree.unsqueeze(0) * degree.unsqueeze(1))
    torch.testing.assert_close(normalized, expected)


def test_unknown_strategy():
    with pytest.raises(ValueError, match="unknown partition strategy 'geodesic'"):
        partitions("coco17", "geodesic")
