"""Flow: generate a labelled synthetic corpus into a skeleton store (the demo's data)."""

from __future__ import annotations


from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from posegraph.data import SkeletonStore
from posegraph.data.synthetic import EXERCISES, generate_corpus, store_records


@task(retries=1, cache_policy=NO_CACHE)
def synthesize_exercise(store_path: str, exercise: str, subjects: int, takes: int, seed: int) -> int:
    """Generate one exercise's sequences for every subject and store them; returns frames written."""
    sequences = generate_corpus(subjects, takes, (exercise,), seed)
    SkeletonStore(store_path).write_videos(store_records(sequences))
    return sum(len(sequence.joints) for sequence in sequences)


@flow(name="synthesize-corpus", log_prints=True)
def synthesize_corpus(store: str, subjects: int = 6, takes: int = 2, seed: int = 0) -> dict:
    """Every exercise x subject x take into ``store``; one task per exercise, in parallel."""
    SkeletonStore(store)  # create (or check) the store once, before the tasks race to it
    futures = [synthesize_exercise.submit(str(store), exercise, subjects, takes, seed)
               for exercise in EXERCISES]
    frames = sum(future.result() for future in futures)
    summary = {"videos": len(EXERCISES) * subjects * takes, "frames": frames, "store": store}
    print(f"synthetic corpus: {summary['videos']} videos, {frames} frames -> {store}")
    return summary
