"""``posegraph count`` and ``posegraph score`` for one video: glue over the packages that do the work.

The video comes from :func:`posegraph.data.sources.resolve_source` (a file, a file already
extracted into ``--store``, a stored id or prefix, or a landmarks file); counting is
:mod:`posegraph.scoring.count_report` (label-free) or :mod:`posegraph.app.phase_counting` (a trained
phase model); scoring is :mod:`posegraph.scoring.score_report` against a saved reference, the
exercise taken from ``--exercise``, else a classifier checkpoint, else the store's label, else
assumed to be the reference's (the report says which). No Prefect: one video takes well under a
second once its skeleton is there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from posegraph.scoring import FormReference
from posegraph.scoring.count_report import (
    CountReport,
    count_source,
    plot_count,
    report_of,
    save_count,
)
from posegraph.scoring.score_report import (
    PICTURE_SUFFIXES,
    ScoreReport,
    load_reference,
    reference_name,
)
from posegraph.skeleton.vocabulary import UNTIMED_FPS


def count_video(target: str, store_path: str | Path | None = None, exercise: str | None = None,
                out: str | Path | None = None, live: bool = False, on_repetition=print,
                save: bool = False, checkpoint: str | Path | None = None,
                landmarks_fps: float = UNTIMED_FPS) -> CountReport:
    """Count one video's repetitions; ``live`` reports them as they settle; ``save`` writes them to
    the store's ``repetitions`` table (stored videos only); ``checkpoint`` counts with a trained
    phase model instead of the label-free counter; ``landmarks_fps``: a landmarks file's frame rate."""
    from posegraph.data import SkeletonStore
    from posegraph.data.sources import resolve_source

    if live and checkpoint:  # before the video is read: extracting it can take a while
        raise ValueError("--live uses the label-free counter; leave out --checkpoint (or --live)")
    store = SkeletonStore(store_path, create=False) if store_path else None
    source = resolve_source(target, store, landmarks_fps=landmarks_fps)
    name = _shown_name(source, target)
    exercise = exercise or source.label
    if checkpoint:
        from posegraph.app.phase_counting import count_with_checkpoint

        result = count_with_checkpoint(source, checkpoint)
    else:
        result = count_source(source, exercise, live, on_repetition)
    report = report_of(source, result, name, exercise)
    if out is not None:
        report.picture = plot_count(result, source.timestamps, Path(out), name)
    if save:
        report.saved = save_count(store_path, source, result)
    return report


def _shown_name(source, target: str | Path) -> str:
    """What the reports call the video: its id when it was given as one, else the path as given."""
    return source.video_id if source.how_read == "stored" else str(target)


def decide_exercise(source, reference: FormReference, exercise: str | None = None,
                    checkpoint: str | Path | None = None) -> tuple[str, str]:
    """``(exercise, where it came from)``: --exercise, a classifier checkpoint, the store's label,
    or else the reference's exercise (assumed)."""
    if exercise:
        return exercise, "from --exercise"
    if checkpoint:
        from posegraph.gcn.inference import classify_sequence, load_classifier

        model, bundle = load_classifier(checkpoint)
        sequence = source
        (name, probability), *_ = classify_sequence(model, bundle, sequence, top_k=1)
        return name, f"classified by {checkpoint}, {probability:.0%}"
    if source.label:
        return source.label, "the store's label"
    return reference.exercise, "assumed to be the reference's; pass --exercise or --checkpoint"


def score_video(target: str, reference_path: str | Path, store_path: str | Path | None = None,
                exercise: str | None = None, checkpoint: str | Path | None = None, method: str = "phase",
                out: str | Path | None = None, name: str | None = None,
                landmarks_fps: float = UNTIMED_FPS) -> ScoreReport:
    """Score one video (a file, or a stored id or prefix) against a saved reference (module docstring).

    Raises ``FileNotFoundError`` / ``ValueError`` / ``StoreError`` with a message for people:
    no reference file, a reference of another layout, no such video, nobody detected.
    """
    from posegraph.data import SkeletonStore
    from posegraph.data.sources import resolve_source
    from posegraph.scoring.sources import file_sha256, score_rows

    if out is not None and Path(out).suffix.lower() not in PICTURE_SUFFIXES:
        raise ValueError(f"--out {out}: choose a picture (.png) or a video (.mp4, .gif)")
    reference_path = Path(reference_path)
    reference = load_reference(reference_path)
    store = SkeletonStore(store_path, create=False) if store_path else None
    source = resolve_source(target, store, reference.layout, landmarks_fps=landmarks_fps)
    video, how_read = _shown_name(source, target), source.how_read
    if source.layout != reference.layout:
        raise ValueError(f"{reference_path} is a reference of layout {reference.layout}, but {video} is "
                         f"{source.layout}: fit a reference in {source.layout}")
    if not source.has_person:
        raise ValueError(f"{video}: no person detected in any frame; nothing to score")
    found, how = decide_exercise(source, reference, exercise, checkpoint)
    result = reference.score(source.joints, source.frame_size, method=method, timestamps=source.timestamps)
    if not np.isfinite(result.mean_score):
        raise ValueError(f"{video}: no frame shows enough of a body (both hips and a torso) to score")
    report = ScoreReport(video, source, how_read, found, how, reference_path, reference, result)
    if found != reference.exercise:
        report.warnings.append(
            f"warning: the video's exercise is {found!r} ({how}), but {reference_path} is a "
            f"{reference.exercise!r} reference: the scores say how close this is to good "
            f"{reference.exercise} form, not to good {found} form")
    if store is not None and source.video_id is not None:
        rows = score_rows(source, result, reference, name or reference_name(reference_path),
                          file_sha256(reference_path), found)
        report.stored_frames = len(rows.frame_indices) if store.write_scores([rows]) else 0
        if not report.stored_frames:
            report.store_note = "not stored: the video was written again while it was scored; score it again"
    elif store is not None:
        report.store_note = (f"not stored: {video} is not in the store at {store.root} (its content hash "
                             f"is not a stored video id); `posegraph extract` it first to keep its scores")
    if out is not None:
        from posegraph.scoring.score_render import render_scores

        report.picture = render_scores(source, result, out)
    return report
