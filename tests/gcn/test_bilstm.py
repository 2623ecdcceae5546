"""BiLSTM + attention model and the focal loss."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from posegraph.gcn.bilstm import FEATURES, BiLSTMAttention, frame_importance
from posegraph.gcn.finetune import apply_finetune
from posegraph.gcn.losses import FocalLoss, balanced_class_weights

PARAMETERS_83_FEATURES_15_CLASSES = 162_511


@pytest.mark.parametrize("frames", [1, 7, 20, 45])
def test_output_and_attention_shapes(frames):
    torch.manual_seed(0)
    model = BiLSTMAttention(FEATURES, num_classes=15).eval()
    x = torch.randn(3, frames, FEATURES)
    with torch.no_grad():
        assert model(x).shape == (3, 15)
        logits, attention = model(x, return_attention=True)
    assert logits.shape == (3, 15) and attention.shape == (3, 4, frames, frames)
    torch.testing.assert_close(attention.sum(dim=-1), torch.ones(3, 4, frames))
    importance = frame_importance(attention)
    assert importance.shape == (3, frames)
    torch.testing.assert_close(importance.sum(dim=1), torch.ones(3))


def test_frame_importance_is_attention_received():
    attention = torch.zeros(1, 4, 5, 5)
    attention[..., 2] = 1.0  # every head and query frame looks at frame 2
    attention[0, 0] = torch.eye(5)  # but head 0 looks at itself
    torch.testing.assert_close(frame_importance(attention), torch.tensor([[0.05, 0.05, 0.8, 0.05, 0.05]]))


def test_attention_uses_key_dim_per_head_not_embed_over_heads():
    attention = BiLSTMAttention(FEATURES, 15).attention
    assert attention.query.weight.shape == (4 * 32, 64) and attention.output.weight.shape == (64, 4 * 32)


def test_parameter_count():
    model = BiLSTMAttention(FEATURES, 15)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == PARAMETERS_83_FEATURES_15_CLASSES


def test_units_and_head_drive_finetuning():
    model = BiLSTMAttention(FEATURES, 15)
    assert len(model.units()) == 5 and model.head() is model.classifier
    trainable = apply_finetune(model, "last:2")
    assert {name.split(".")[0] for name in trainable} == {"dense1", "dense2", "classifier"}
    assert apply_finetune(model, "head") == ["classifier.weight", "classifier.bias"]


def test_overfits_two_clearly_different_classes():
    torch.manual_seed(0)
    random = np.random.default_rng(0)
    time = np.arange(20)[None, :, None]
    phase = random.uniform(0, 2 * np.pi, (16, 1, 8))
    sine = np.sin(time * 0.5 + phase)
    noise = random.normal(0, 1, (16, 20, 8))
    x = torch.tensor(np.concatenate([sine, noise]), dtype=torch.float32)
    y = torch.tensor([0] * 16 + [1] * 16)
    model = BiLSTMAttention(8, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.003)
    for _ in range(60):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    with torch.no_grad():
        assert (model.eval()(x).argmax(dim=1) == y).float().mean().item() == 1.0


def test_focal_loss_matches_a_hand_computation():
    logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0], [1.0, 1.0, 1.0]])
    targets = np.array([0, 1, 2])
    alpha, weights, gamma = np.array([0.25, 0.5, 1.0]), np.array([1.0, 2.0, 0.5]), 2.0
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    p_t = probabilities[np.arange(3), targets]
    expected = np.mean(-alpha[targets] * weights[targets] * (1 - p_t) ** gamma * np.log(p_t))
    loss = FocalLoss(gamma, alpha=torch.tensor(alpha), class_weights=weights)(
        torch.tensor(logits, dtype=torch.float32), torch.tensor(targets))
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    scalar = FocalLoss(gamma, alpha=0.25)(torch.tensor(logits, dtype=torch.float32), torch.tensor(targets))
    assert scalar.item() == pytest.approx(np.mean(-0.25 * (1 - p_t) ** gamma * np.log(p_t)), rel=1e-5)


def test_focal_loss_without_focusing_is_cross_entropy_and_stable():
    torch.manual_seed(0)
    logits, targets = torch.randn(10, 5) * 3, torch.randint(0, 5, (10,))
    torch.testing.assert_close(FocalLoss(gamma=0.0)(logits, targets), F.cross_entropy(logits, targets))
    extreme = torch.tensor([[1000.0, -1000.0], [-1000.0, 1000.0]], requires_grad=True)
    loss = FocalLoss()(extreme, torch.tensor([1, 1]))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(extreme.grad).all() and loss.item() > 100


def test_focal_loss_down_weights_easy_examples():
    logits, targets = torch.tensor([[4.0, 0.0], [0.5, 0.0]]), torch.tensor([0, 0])
    focal, plain = FocalLoss(reduction="none")(logits, targets), F.cross_entropy(logits, targets, reduction="none")
    assert (focal / plain)[0] < (focal / plain)[1] < 1


def test_balanced_class_weights_follow_sklearn():
    weights = balanced_class_weights([0, 0, 0, 1, 2, 2], num_classes=4)  # 6 / (4 * count); class 3 absent
    torch.testing.assert_close(weights, torch.tensor([0.5, 1.5, 0.75, 1.0]))
    with pytest.raises(ValueError):
        balanced_class_weights([0, 4], num_classes=4)
