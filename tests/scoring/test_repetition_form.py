"""Form per repetition (depth, tempo, worst joints) and the cues drawn from it."""

import numpy as np
import pytest

from posegraph.data.synthetic import generate_sequence, make_subjects
from posegraph.scoring.counting import count_repetitions
from posegraph.scoring.cues import cues_for
from posegraph.scoring.repetition_form import RangeOfMotion, RepetitionForm, fit_range_of_motion, repetition_forms, \
    travels


def squat(subject, fault=None, seed=3):
    sequence = generate_sequence("squat", subject, take=0, seed=seed, repetitions=5, fault=fault)
    count = count_repetitions(sequence.joints, "blazepose33", 16.0)
    return sequence, count


@pytest.fixture(scope="module")
def good_range():
    """The range of motion of four subjects' good squats."""
    squats = [squat(subject) for subject in make_subjects(4, seed=11)]
    return fit_range_of_motion([np.zeros((count.count, 8)) for _, count in squats],
                               [travels(count, sequence.joints, "blazepose33") for sequence, count in squats])


def test_a_shallow_squat_is_shallow_and_a_good_one_is_not(good_range):
    subject = make_subjects(3, seed=1234)[2]  # a subject the range was not fitted on
    for fault, low, high in ((None, 0.75, 1.3), ("shallow_squat", 0.2, 0.6)):
        sequence, count = squat(subject, fault)
        forms = repetition_forms(count, None, sequence.joints, "blazepose33", sequence.timestamps, good_range,
                                 (sequence.width, sequence.height))
        assert len(forms) == 5
        depths = [form.depth for form in forms]
        assert low <= np.median(depths) <= high, (fault, depths)


def test_repetitions_tile_the_set_and_tempo_adds_up(good_range):
    sequence, count = squat(make_subjects(1, seed=5)[0])
    forms = repetition_forms(count, None, sequence.joints, "blazepose33", sequence.timestamps, good_range)
    for before, after in zip(forms, forms[1:]):
        assert before.end_s == after.start_s  # consecutive repetitions share a boundary
    for form in forms:
        assert form.there_s + form.back_s == pytest.approx(form.end_s - form.start_s, abs=1e-6)
        assert form.there_s > 0 and form.back_s > 0 and form.set == 1 and form.score is None
        assert {"left_knee_angle", "right_knee_angle"} <= set(form.swing_deg)
    assert repetition_forms(count, None, sequence.joints, "blazepose33", sequence.timestamps)[0].depth is None


def rep(number, score=90.0, depth=1.0, duration=2.0, worst="left_knee", set_number=1):
    return RepetitionForm(number, set_number, 2.0 * number, 2.0 * number + duration / 2, 2.0 * number + duration,
                          score, [{"joint": worst, "score": score - 20, "time_s": 2.0 * number + 0.5}], depth, {},
                          duration / 2, duration / 2)


def test_cues_name_the_repetitions_and_joints_that_caused_them():
    forms = [rep(1), rep(2, depth=0.5), rep(3, depth=0.48), rep(4, score=40.0, worst="right_knee"),
             rep(5, duration=0.8), rep(6)]
    cues = {cue.kind: cue for cue in cues_for(forms, "squat")}
    assert cues["depth"].repetitions == [2, 3] and "reps 2-3: about half (49%)" in cues["depth"].text
    assert "a good squat" in cues["depth"].text
    assert cues["joint"].repetitions == [4] and cues["joint"].joints == ["right_knee"]
    assert "rep 4: right knee furthest from good form (score 20) at 8.50 s" in cues["joint"].text
    assert cues["tempo"].repetitions == [5] and "quicker" in cues["tempo"].text
    assert "fading" not in cues
    assert cues_for([rep(number) for number in range(1, 7)], "squat") == []


def test_form_that_fades_within_a_set_is_said_once_per_set():
    forms = [rep(number, score=score) for number, score in enumerate([92, 90, 88, 80, 70, 68], start=1)]
    fading = [cue for cue in cues_for(forms, "push_up") if cue.kind == "fading"]
    assert len(fading) == 1 and fading[0].repetitions == [5, 6] and "reps 5-6 score 22 points below reps 1-2" \
        in fading[0].text


def test_range_of_motion_round_trips_as_plain_data():
    rom = RangeOfMotion(2.5, {"left_knee_angle": 90.0}, 12)
    assert RangeOfMotion.from_dict(rom.to_dict()) == rom
    assert fit_range_of_motion([], []) == RangeOfMotion(None, {}, 0)


def test_the_joint_furthest_past_the_ramps_end_is_blamed_first():
    """Two joints score 0 in every frame, one 1.5 ramps out, the other 4: the capped scores tie,
    the uncapped ramp ranks the farther first (listed by score alone, the elbow came first)."""
    from posegraph.scoring.mapping import scores_from_ramp
    from posegraph.scoring.normalise import body_joints
    from posegraph.scoring.result import summarise
    from posegraph.skeleton import get_layout

    sequence, count = squat(make_subjects(1, seed=5)[0])
    layout = get_layout("blazepose33")
    ramps = np.zeros((len(sequence.joints), layout.num_joints))
    ramps[:, layout.index("right_elbow")] = 1.5
    ramps[:, layout.index("left_knee")] = 4.0
    form = summarise(scores_from_ramp(ramps), body_joints(layout), layout.joint_names, "phase",
                     np.zeros(len(ramps), np.int64), sequence.timestamps, ramps)
    assert [worst.joint for worst in form.worst_joints[:2]] == ["left_knee", "right_elbow"]
    for repetition in repetition_forms(count, form, sequence.joints, "blazepose33", sequence.timestamps):
        first, second = repetition.worst_joints[:2]
        assert (first["joint"], first["score"], first["ramp"]) == ("left_knee", 0.0, 4.0)
        assert (second["joint"], second["score"], second["ramp"]) == ("right_elbow", 0.0, 1.5)


def test_a_set_that_speeds_up_and_slows_down_travels_as_far():
    """The same squats with the tempo varying within the set (each repetition's poses unchanged):
    the travel, measured along a unit direction, stays within 5%; the counter's periodic signal,
    weighted by how regular each joint repeats, lost 11% of its swing here."""
    sequence = generate_sequence("squat", make_subjects(1, seed=5)[0], take=0, seed=3, repetitions=6)
    joints, frames = sequence.joints, np.arange(len(sequence.joints))
    warped_time = np.clip(frames + 0.3 * len(frames) / 6 / np.pi * np.sin(4 * np.pi * frames / len(frames)),
                          0, len(frames) - 1)
    warped = np.stack([[np.interp(warped_time, frames, joints[:, joint, channel])
                        for channel in range(joints.shape[2])] for joint in range(joints.shape[1])]).transpose(2, 0, 1)
    steady, varied = (np.median(travels(count_repetitions(values, "blazepose33", 16.0), values, "blazepose33"))
                      for values in (joints, warped))
    assert varied == pytest.approx(steady, rel=0.05)
