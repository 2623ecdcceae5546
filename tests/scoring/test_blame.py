"""The joints blamed are the ones that are wrong: a fault that moves the hips (the poses' origin)
must not spread its deviation over every other joint."""

import numpy as np

from posegraph.data.synthetic import generate_corpus, generate_sequence, make_subjects
from posegraph.scoring import FormReference


def test_sagging_hips_are_blamed_on_the_hips_and_caving_knees_on_the_knees():
    for fault, exercise, blamed in (("hips_sagging", "push_up", {"left_hip", "right_hip"}),
                                    ("knees_caving", "squat", {"left_knee", "right_knee"})):
        good = generate_corpus(subjects=6, takes=2, seed=11, repetitions=6, exercises=(exercise,))
        reference = FormReference.fit([s.joints for s in good], layout="blazepose33", exercise=exercise,
                                      frame_sizes=[(s.width, s.height) for s in good])
        person = make_subjects(1, seed=1234)[0]
        valid = generate_sequence(exercise, person, take=0, seed=100, repetitions=6)
        faulty = generate_sequence(exercise, person, take=0, seed=100, repetitions=6, fault=fault)
        before = reference.score(valid.joints, (valid.width, valid.height))
        after = reference.score(faulty.joints, (faulty.width, faulty.height))
        drop = np.nanmean(before.joint_scores, axis=0) - np.nanmean(after.joint_scores, axis=0)
        body = [i for i, name in enumerate(before.joint_names) if name in
                {"nose", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
                 "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"}]
        worst = sorted(body, key=lambda i: -drop[i])[:2]
        assert {before.joint_names[i] for i in worst} == blamed, (fault, [(before.joint_names[i], drop[i])
                                                                          for i in worst])
