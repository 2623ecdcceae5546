"""The muscle-group head: its loss and metrics against hand computation, its config, and short
training runs on synthetic data that beat chance on both heads."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from posegraph.features.muscles import MuscleTable, UnknownExerciseError
from posegraph.gcn.config import load_config
from posegraph.gcn.evaluation import muscle_metrics
from posegraph.gcn.heads import Heads, heads_for
from posegraph.gcn.losses import MuscleLoss
from posegraph.gcn.inference import evaluate_run
from posegraph.gcn.training import train

MORE = str(Path(__file__).resolve().parents[2] / "configs" / "muscle_groups_more.yaml")
TINY = MuscleTable(("legs", "arms"), {"squat": ("legs",), "curl": ("arms",), "burpee": ("legs", "arms")})


def test_joint_loss_is_cross_entropy_plus_weighted_binary_cross_entropy_by_hand():
    heads = Heads(("squat", "curl"), "joint", TINY)
    logits = torch.tensor([[2.0, 0.0, 1.0, -1.0],   # squat: exercise logits (2, 0), muscle logits (1, -1)
                           [0.5, 1.5, 0.0, 3.0]])  # curl
    labels = torch.tensor([0, 1])
    loss = MuscleLoss(heads, torch.nn.CrossEntropyLoss(), muscle_weight=0.5)(logits, labels)

    def log_sigmoid(x):
        return -math.log(1 + math.exp(-x))

    cross_entropy = (-(2 - math.log(math.exp(2) + 1)) - (1.5 - math.log(math.exp(0.5) + math.exp(1.5)))) / 2
    # squat works legs (target 1, 0); curl works arms (target 0, 1)
    binary = -(log_sigmoid(1) + log_sigmoid(1) + log_sigmoid(-0.0) + log_sigmoid(3)) / 4
    assert float(loss) == pytest.approx(cross_entropy + 0.5 * binary, rel=1e-6)
    only = MuscleLoss(Heads(("squat", "curl"), "only", TINY), None)(logits[:, 2:], labels)
    assert float(only) == pytest.approx(binary, rel=1e-6)
    assert heads.width == 4 and Heads(("squat", "curl"), "only", TINY).width == 2


def test_muscle_metrics_by_hand():
    # 4 videos x 2 groups; predictions at logit > 0
    logits = np.array([[2.0, -1.0], [1.0, 1.0], [-1.0, 2.0], [-2.0, -3.0]])
    targets = np.array([[1, 0], [0, 1], [0, 1], [1, 0]])
    metrics = muscle_metrics(logits, targets, ["legs", "arms"])
    # decisions: (1,0) right right; (1,1) wrong right; (0,1) right right; (0,0) wrong right -> 6/8
    assert metrics["label_wise_accuracy"] == pytest.approx(6 / 8)
    assert metrics["exact_match"] == pytest.approx(2 / 4)
    legs = metrics["per_group"]["legs"]  # predicted on videos 0, 1; worked by 0, 3
    assert (legs["precision"], legs["recall"], legs["f1"]) == pytest.approx((0.5, 0.5, 0.5))
    assert legs["accuracy"] == pytest.approx(2 / 4) and metrics["per_group"]["arms"]["accuracy"] == 1.0
    arms = metrics["per_group"]["arms"]  # predicted on 1, 2; worked by 1, 2
    assert (arms["precision"], arms["recall"], arms["f1"]) == pytest.approx((1.0, 1.0, 1.0))
    # legs scores 2, 1, -1, -2 for truths 1, 0, 0, 1: of the 4 positive-negative pairs, 2 are ordered right
    assert legs["roc_auc"] == pytest.approx(0.5) and arms["roc_auc"] == pytest.approx(1.0)
    assert metrics["macro_f1"] == pytest.approx(0.75) and metrics["roc_auc_macro"] == pytest.approx(0.75)


def test_a_group_no_video_works_is_left_out_of_the_macro_values():
    metrics = muscle_metrics(np.array([[3.0, -3.0]]), np.array([[1, 0]]), ["legs", "arms"])
    assert metrics["groups_averaged"] == ["legs"] and metrics["macro_f1"] == 1.0
    assert metrics["per_group"]["arms"]["recall"] is None and metrics["per_group"]["arms"]["roc_auc"] is None


def test_config_keys_are_checked():
    with pytest.raises(ValueError, match="muscles='some'"):
        load_config(None, ["muscles=some"])
    with pytest.raises(ValueError, match="not to task=phases"):
        load_config(None, ["task=phases", "muscles=joint"])
    config = load_config(None, ["muscles=joint"])
    with pytest.raises(UnknownExerciseError, match="no row for lunge"):
        heads_for(config, ["squat", "lunge"])
    assert heads_for(load_config(None, ["muscles=joint", f"muscle_table={MORE}"]), ["squat", "lunge"]).width == 2 + 11


def _chance_muscle_accuracy(metrics: dict) -> float:
    """Label-wise accuracy of always answering each group's majority over the evaluated videos."""
    per_group = metrics["per_group"].values()
    return float(np.mean([max(v["videos_working_it"], metrics["samples"] - v["videos_working_it"]) / metrics["samples"]
                          for v in per_group]))


def test_a_short_joint_run_beats_chance_on_both_heads(synthetic_store, tmp_path):
    config = load_config(None, ["epochs=8", "muscles=joint", f"muscle_table={MORE}"], model="bilstm")
    train(config, synthetic_store.root, tmp_path / "run", progress=False, log=lambda _: None)
    metrics, paths = evaluate_run(tmp_path / "run", synthetic_store.root, "test")
    assert metrics["top1_accuracy"] >= 0.5 > 2 / 6  # six exercises
    muscles = metrics["muscles"]
    assert muscles["samples"] == 12
    assert muscles["label_wise_accuracy"] > _chance_muscle_accuracy(muscles) + 0.1
    assert muscles["roc_auc_macro"] >= 0.8 and muscles["macro_f1"] >= 0.5
    assert '"muscles"' in paths["metrics"].read_text()


def test_muscles_only_is_scored_on_exercises_it_never_saw(synthetic_store, tmp_path):
    seen = ["squat", "push_up", "biceps_curl", "lateral_raise", "jumping_jack"]
    config = load_config(None, ["epochs=6", "muscles=only", f"muscle_table={MORE}", f"labels={seen}"],
                         model="bilstm")
    train(config, synthetic_store.root, tmp_path / "run", progress=False, log=lambda _: None)
    metrics, paths = evaluate_run(tmp_path / "run", synthetic_store.root, "test")
    assert "top1_accuracy" not in metrics and "confusion_matrix" not in paths  # no exercise head
    assert metrics["muscles"]["samples"] == 10  # the test subject's videos of the five trained exercises
    unseen = metrics["muscles_unseen_exercises"]
    assert unseen["exercises"] == ["lunge"] and unseen["samples"] == 12  # every lunge: none was trained on
    assert 0.0 <= unseen["label_wise_accuracy"] <= 1.0
