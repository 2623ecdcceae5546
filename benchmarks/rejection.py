"""How often a calibrated checkpoint answers "none of these", on known and on unknown movements.

Run:  .venv/bin/python benchmarks/rejection.py RUN_DIR/best.pt STORE [--subjects 6]

Known: the store's ``val`` videos (classes the checkpoint knows, weights never trained on them):
how many are answered, and how many of those are right. Unknown: synthetic sequences
(``posegraph.data.synthetic``, blazepose33, converted to the checkpoint's layout) of each synthetic
exercise, and a "plank": a push-up's first frame held still with landmark jitter. Prints the
checkpoint's rejection settings, then answered/rejected counts and the top class of each input.
Uses ``answer_sequence``, what ``posegraph classify`` calls.
"""

from __future__ import annotations

import argparse

import numpy as np


def held_still(joints: np.ndarray, seed: int = 0) -> np.ndarray:
    """``(T, V, 4)`` -> the first detected frame repeated, with 0.3% landmark jitter on x and y."""
    first = joints[np.isfinite(joints[:, 0, 0])][0]
    jitter = np.random.default_rng(seed).normal(0, 0.003, joints.shape).astype(np.float32) * [1, 1, 0, 0]
    return (first + jitter).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("store")
    parser.add_argument("--subjects", type=int, default=6)
    arguments = parser.parse_args()

    from posegraph.data import SkeletonStore
    from posegraph.data.sources import stored_source
    from posegraph.data.synthetic import EXERCISES, generate_sequence, make_subjects
    from posegraph.gcn.inference import answer_sequence, load_classifier
    from posegraph.skeleton.source import SkeletonSource

    model, bundle = load_classifier(arguments.checkpoint)
    if bundle.rejection is None:
        raise SystemExit(f"{arguments.checkpoint} is not calibrated: run posegraph calibrate first")
    rejection = bundle.rejection.to_dict()
    print(f"temperature {rejection['temperature']:.2f}, probability threshold {rejection['threshold']:.2f}, "
          f"distance threshold {rejection['distance_threshold']:.1f}, validation coverage {rejection['coverage']:.3f}")
    store = SkeletonStore(arguments.store, create=False)
    val = [row for row in store.videos().to_pylist() if row["split"] == "val" and row["status"] == "ok"]
    answered = right = 0
    for row in val:
        answer = answer_sequence(model, bundle, stored_source(store, row["video_id"]))
        answered += not answer.rejected
        right += (not answer.rejected) and answer.answer == row["label"]
    print(f"known classes (val, {len(val)} videos): {answered} answered ({right} right), {len(val) - answered} rejected")
    subjects = make_subjects(arguments.subjects, seed=5)
    for exercise in (*EXERCISES, "plank"):
        rejected, tops = 0, []
        for subject in subjects:
            sequence = generate_sequence("push_up" if exercise == "plank" else exercise, subject, take=0, seed=11)
            joints = held_still(sequence.joints) if exercise == "plank" else sequence.joints
            people = SkeletonSource.from_people(joints[None], "blazepose33", sequence.timestamps, sequence.width, sequence.height)
            answer = answer_sequence(model, bundle, people)
            rejected += answer.rejected
            tops.append(f"{answer.ranking[0][0]} {answer.ranking[0][1]:.2f}")
        print(f"synthetic {exercise:<14} rejected {rejected}/{len(subjects)}   top class: {', '.join(tops)}")


if __name__ == "__main__":
    main()
