"""The periodic signal's directions: what each follows when a one-off movement dwarfs the repetitions."""

import numpy as np
import pytest

from posegraph.scoring.counting import CONSENSUS, count_repetitions
from posegraph.scoring.periodicity import SIGNAL_DIRECTIONS, periodic_signal
from tests.scoring.test_counting import synthetic

PERIOD = 60  # frames


def repetitions_beside_a_one_off_move(frames: int = 900) -> tuple[np.ndarray, np.ndarray]:
    """Four channels (torso lengths): small repetitions (0.15, one per ``PERIOD`` frames) and a
    one-off move 20 times larger (3 torso lengths over about 2 s: getting onto a bench) in the
    middle. Shapes: ``(frames, 4)`` trajectories and ``(frames,)`` the repetitions alone."""
    steps = np.arange(frames)
    repetitions = 0.15 * np.sin(2 * np.pi * steps / PERIOD)
    move = 3 / (1 + np.exp(-(steps - frames / 2) / 15))
    noise = np.random.default_rng(0).normal(0, 0.005, (frames, 4))
    return np.stack([move, repetitions + 0.3 * move, 0.5 * move, 0.5 * repetitions], axis=1) + noise, repetitions


def test_the_velocities_direction_follows_the_repetitions_where_a_one_off_move_sets_the_positions_one():
    trajectories, repetitions = repetitions_beside_a_one_off_move()
    inside = slice(100, 800)  # away from the band-pass's edges
    # a direction's sign is arbitrary, so how closely the signal follows is the correlation's size
    follows = {direction: abs(np.corrcoef(periodic_signal(trajectories, PERIOD, direction)[inside],
                                          repetitions[inside])[0, 1]) for direction in SIGNAL_DIRECTIONS}
    # measured: positions 0.06, velocities 0.78, velocities-plain 0.76
    assert follows["positions"] < 0.3
    assert follows["velocities"] > 0.6 and follows["velocities-plain"] > 0.6


def test_the_consensus_spans_every_direction_and_a_single_repetition_still_counts_one():
    assert {member.direction for member in CONSENSUS} == set(SIGNAL_DIRECTIONS)
    assert len(CONSENSUS) == 27 * len(SIGNAL_DIRECTIONS)
    # within one slow repetition the period found is spurious; along the velocities' direction
    # its sub-movements recur (2 counted before the periodic share was taken along the positions)
    for exercise in ("squat", "jumping_jack"):
        assert count_repetitions(synthetic(exercise, 1), fps=30.0).count == 1
    with pytest.raises(ValueError, match="direction must be one of"):
        periodic_signal(np.zeros((100, 2)), 20, "sideways")
