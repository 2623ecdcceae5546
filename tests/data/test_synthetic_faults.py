"""Faulty executions: each fault moves only the joints it is about, in the same sequence."""

import numpy as np
import pytest

from posegraph.data import synthetic
from posegraph.data.synthetic import FAULTS, SHALLOW_DEPTH, generate_sequence, make_subjects
from posegraph.skeleton import get_layout

NAMES = get_layout("blazepose33").joint_names
SUBJECT = make_subjects(1)[0]
BODY = synthetic._Body.of(SUBJECT)


def moved_joints(exercise: str, fault: str, motion: float) -> set[str]:
    """Joints whose 3-D position the fault changes at ``motion`` (more than 1 cm)."""
    valid = synthetic._pose(exercise, BODY, motion, SUBJECT.height)
    faulty = synthetic._pose(exercise, BODY, motion, SUBJECT.height, fault)
    return {NAMES[index] for index in np.flatnonzero(np.linalg.norm(valid - faulty, axis=-1) > 0.01)}


def test_each_fault_moves_only_its_joints():
    assert moved_joints("squat", "knees_caving", 1.0) == {"left_knee", "right_knee"}
    assert moved_joints("squat", "knees_caving", 0.0) == set()        # grows with depth
    assert moved_joints("push_up", "hips_sagging", 0.0) == {"left_hip", "right_hip", "left_knee", "right_knee"}
    flaring = moved_joints("push_up", "elbows_flaring", 1.0)
    assert {"left_elbow", "right_elbow"} <= flaring
    assert flaring <= {f"{side}_{joint}" for side in ("left", "right")
                       for joint in ("elbow", "pinky", "index", "thumb")}


def test_knees_cave_inside_the_ankles_at_the_bottom():
    pose = synthetic._pose("squat", BODY, 1.0, SUBJECT.height, "knees_caving")
    knees = pose[NAMES.index("left_knee"), 0] - pose[NAMES.index("right_knee"), 0]
    ankles = pose[NAMES.index("left_ankle"), 0] - pose[NAMES.index("right_ankle"), 0]
    valid = synthetic._pose("squat", BODY, 1.0, SUBJECT.height)
    assert 0 < knees < ankles < valid[NAMES.index("left_knee"), 0] - valid[NAMES.index("right_knee"), 0]


def test_a_shallow_squat_stops_part_way_down():
    np.testing.assert_allclose(synthetic._pose("squat", BODY, 1.0, SUBJECT.height, "shallow_squat"),
                               synthetic._pose("squat", BODY, SHALLOW_DEPTH, SUBJECT.height))


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_faulty_sequence_is_its_valid_twin_but_for_the_fault(fault):
    exercise = FAULTS[fault]
    valid = generate_sequence(exercise, SUBJECT, take=2, seed=5, repetitions=2)
    faulty = generate_sequence(exercise, SUBJECT, take=2, seed=5, repetitions=2, fault=fault)
    assert (faulty.fault, valid.fault) == (fault, None)
    assert (faulty.phase == valid.phase).all() and faulty.camera_yaw_deg == valid.camera_yaw_deg
    np.testing.assert_array_equal(faulty.detected, valid.detected)
    assert not np.allclose(faulty.clean_joints, valid.clean_joints)
    assert faulty.sequence_id != valid.sequence_id


def test_a_fault_of_another_exercise_is_refused():
    with pytest.raises(ValueError, match="no fault 'hips_sagging' for 'squat'"):
        generate_sequence("squat", SUBJECT, fault="hips_sagging")
