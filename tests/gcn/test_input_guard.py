"""Joints a model never saw in training read as not there at inference (issue 23: a Penn-trained
ST-GCN answered "situp" for every BlazePose push-up, its eyes and ears multiplied ~300 times)."""

import pytest
import torch

from posegraph.gcn import build_model
from posegraph.gcn.input_guard import guard_constant_inputs

EYES_AND_EARS = slice(14, 18)  # OpenPose-18: reye, leye, rear, lear; Penn Action has none of them


@pytest.mark.parametrize("model_name", ["stgcn", "msg3d"])
def test_joints_missing_in_training_are_held_at_their_training_value(model_name):
    torch.manual_seed(0)
    model = build_model(model_name, "openpose18", 3)
    training = torch.rand(8, 3, 20, 18, 1)
    training[:, :, :, EYES_AND_EARS] = 0.0  # never seen: 0 in every sample
    model.data_bn.momentum = None  # running statistics = this batch's, exactly
    model.train()
    model(training)
    model.eval()
    another_source = torch.rand(2, 3, 20, 18, 1)  # BlazePose sees eyes and ears
    as_trained = another_source.clone()
    as_trained[:, :, :, EYES_AND_EARS] = 0.0
    with torch.no_grad():
        unguarded = model(another_source)
        assert guard_constant_inputs(model) == 3 * 4  # x, y, confidence of four joints
        guarded, expected = model(another_source), model(as_trained)
    torch.testing.assert_close(guarded, expected, atol=1e-5, rtol=1e-5)
    assert (unguarded - expected).abs().max() > 1e-3  # without the guard those joints changed the answer


def test_a_model_that_saw_every_joint_vary_is_left_alone():
    model = build_model("stgcn", "openpose18", 3)
    model.data_bn.momentum = None
    model.train()
    model(torch.rand(8, 3, 20, 18, 1))
    assert guard_constant_inputs(model.eval()) == 0
