import inspect

import pytest
import torch

from posegraph.gcn import build_model
from posegraph.gcn import msg3d as msg3d_module
from posegraph.gcn import stgcn as stgcn_module
from posegraph.skeleton import get_layout


def trainable(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@pytest.mark.parametrize("layout", ["blazepose33", "openpose18", "coco17", "ntu25"])
@pytest.mark.parametrize("name, persons", [("stgcn", 1), ("stgcn", 2), ("msg3d", 1)])
def test_shapes_for_every_model_and_layout(name, persons, layout):
    torch.manual_seed(0)
    model = build_model(name, layout, num_classes=7, num_persons=persons).eval()
    joints = get_layout(layout).num_joints
    with torch.no_grad():
        assert model(torch.randn(2, 3, 20, joints, persons)).shape == (2, 7)
        assert model(torch.randn(1, 3, 9, joints, persons)).shape == (1, 7)  # any length


# Counted from the official code (shared/reference/NUMBERS.md).
@pytest.mark.parametrize("layout, classes, options, expected", [
    ("openpose18", 400, {}, 3_177_140),
    ("openpose18", 400, {"edge_importance": False}, 3_167_420),
    ("openpose18", 400, {"partition": "distance"}, 2_955_212),
    ("openpose18", 400, {"partition": "uniform"}, 2_733_284),
    ("ntu25", 60, {}, 3_098_832),
    ("blazepose33", 22, {}, 3_103_034),
])
def test_stgcn_parameter_count_equals_the_reference(layout, classes, options, expected):
    assert trainable(build_model("stgcn", layout, classes, **options)) == expected


@pytest.mark.parametrize("layout, classes, expected", [
    ("openpose18", 400, 3_144_328),  # 8 GCN / 8 G3D scales, 2 persons
    ("ntu25", 60, 3_194_595),  # 13 / 6 scales, 2 persons
])
def test_msg3d_parameter_count_equals_the_reference(layout, classes, expected):
    assert trainable(build_model("msg3d", layout, classes, num_persons=2)) == expected


def test_stgcn_structure_follows_the_reference():
    model = build_model("stgcn", "openpose18", 10, dropout=0.5)
    strides = [block.tcn[2].stride[0] for block in model.st_gcn_networks]
    widths = [block.tcn[2].out_channels for block in model.st_gcn_networks]
    assert widths == [64, 64, 64, 64, 128, 128, 128, 256, 256, 256]
    assert strides == [1, 1, 1, 1, 2, 1, 1, 2, 1, 1]
    assert model.st_gcn_networks[0].residual is None
    assert model.st_gcn_networks[0].tcn[4].p == 0.0 and model.st_gcn_networks[1].tcn[4].p == 0.5
    assert build_model("stgcn", "openpose18", 10).st_gcn_networks[1].tcn[4].p == 0.0  # off by default
    assert "A" in dict(model.named_buffers()) and model.A.shape == (3, 18, 18)


def test_msg3d_uses_disentangled_multiscale_graphs():
    model = build_model("msg3d", "ntu25", 60, num_persons=2)
    gcn = model.stages[0].sgcn[0]
    powers = gcn.A_powers.view(13, 25, 25)
    assert torch.equal(powers[0], torch.eye(25))
    nonzero = (powers[1:] != 0) & ~torch.eye(25, dtype=torch.bool)
    assert not (nonzero.sum(0) > 1).any()  # each pair of joints lives at exactly one hop scale
    assert [p.window for p in model.stages[0].gcn3d.gcn3d] == [3, 5]


def test_every_model_class_documents_its_shapes():
    for module in (stgcn_module, msg3d_module):
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, torch.nn.Module) and cls.__module__ == module.__name__:
                assert "Shapes:" in (cls.__doc__ or ""), f"{module.__name__}.{name} lacks a Shapes: line"


def test_unknown_model():
    with pytest.raises(ValueError, match="unknown model 'resnet'; choose from stgcn, msg3d"):
        build_model("resnet", "coco17", 3)


@pytest.mark.parametrize("in_channels,out_channels", [(3, 64), (64, 64), (64, 128), (128, 256)])
def test_graph_conv_equals_the_reference_order_forward_and_backward(in_channels, out_channels):
    from posegraph.gcn.stgcn import GraphConv, reference_graph_conv

    torch.manual_seed(0)
    conv = GraphConv(in_channels, out_channels, 3)
    x = torch.randn(2, in_channels, 12, 18, requires_grad=True)
    adjacency = torch.rand(3, 18, 18, requires_grad=True)
    fused = conv(x, adjacency)
    fused_gradients = torch.autograd.grad(fused.square().sum(), (x, adjacency, conv.conv.weight, conv.conv.bias))
    reference = reference_graph_conv(conv.conv, x, adjacency)
    reference_gradients = torch.autograd.grad(reference.square().sum(), (x, adjacency, conv.conv.weight, conv.conv.bias))
    torch.testing.assert_close(fused, reference, rtol=1e-4, atol=1e-4)
    for ours, theirs in zip(fused_gradients, reference_gradients):
        torch.testing.assert_close(ours, theirs, rtol=1e-3, atol=1e-3)


def test_multiscale_gcn_equals_the_reference_layout_forward_and_backward():
    from posegraph.gcn.msg3d import MultiScaleGCN
    from posegraph.skeleton.graph import adjacency

    torch.manual_seed(0)
    gcn = MultiScaleGCN(4, 6, 24, adjacency(get_layout("openpose18"), self_loops=False))
    with torch.no_grad():
        gcn.A_res.normal_(0, 0.1)
    x = torch.randn(2, 6, 10, 18, requires_grad=True)
    parameters = (x, gcn.A_res, gcn.mlp.layers[0].weight, gcn.mlp.layers[0].bias)
    fused = gcn(x)
    fused_gradients = torch.autograd.grad(fused.square().sum(), parameters)
    reference = gcn.reference_forward(x)
    reference_gradients = torch.autograd.grad(reference.square().sum(), parameters)
    torch.testing.assert_close(fused, reference, rtol=1e-4, atol=1e-4)
    for ours, theirs in zip(fused_gradients, reference_gradients):
        torch.testing.assert_close(ours, theirs, rtol=1e-3, atol=1e-3)
