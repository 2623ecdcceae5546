"""Where the skeletons to fit and score come from: a skeleton store, or a video file.

- :func:`reference_videos` picks a reference's videos from a store: the ``ok`` videos with the
  given ids, or else those labelled with the exercise (or ``label``), in one layout;
- :func:`fit_from_store` fits a :class:`FormReference` on them (person 0, each video's frame
  size for aspect-correct units, the ids recorded in the reference);
- :func:`stored_input` / :func:`file_input` give one video to score, from the store or from a
  file through BlazePose (cleaned like the extraction flow's defaults);
- :func:`score_rows` turns a :class:`FormScore` into the store's ``scores`` rows.

Plain functions over the store and numpy; nothing here imports torch or Prefect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from posegraph.data import SkeletonStore, VideoNotFoundError
from posegraph.data.ingest import content_hash
from posegraph.data.records import DEFAULT_FPS, stored_frame_rate
from posegraph.data.store import ScoreRows

from .reference import FormReference
from .result import FormScore



@dataclass(frozen=True, repr=False)
class ScoringInput:
    """One person (person 0) of one video, with what scoring and drawing need.

    Shapes: ``joints (T, V, 4)`` x, y (fractions of the frame), z, visibility, NaN where not
    seen; ``timestamps (T,)`` seconds; ``frame_indices (T,)`` the video's frame numbers.
    ``video_id`` is set when the skeleton came from a store (its scores can be stored there).
    """

    joints: np.ndarray
    layout: str
    timestamps: np.ndarray
    frame_indices: np.ndarray
    width: int | None
    height: int | None
    source_path: str | None
    fps: float = DEFAULT_FPS
    video_id: str | None = None
    label: str | None = None
    extracted_at: datetime | None = None

    def __repr__(self) -> str:
        return (f"ScoringInput(video_id={self.video_id!r}, source_path={self.source_path!r}, "
                f"layout={self.layout!r}, frames={len(self.joints)})")

    @property
    def frame_size(self) -> tuple[int, int] | None:
        return (self.width, self.height) if self.width and self.height else None

    @property
    def has_person(self) -> bool:
        return bool(np.isfinite(self.joints[..., :2]).all(axis=-1).any())


def stored_input(store: SkeletonStore, video_id: str, layout: str | None = None) -> ScoringInput:
    """Person 0 of a stored video (full id), in ``layout`` (needed when it is stored in several).

    Raises ``VideoNotFoundError`` when the video is not stored (in that layout), naming the
    layouts it is stored in.
    """
    rows = store.video_rows(video_id)
    if not rows:
        raise VideoNotFoundError(f"video {video_id!r} is not in the store at {store.root}")
    matching = [row for row in rows if layout in (None, row["layout"])]
    if not matching:
        stored = ", ".join(sorted(row["layout"] for row in rows))
        raise ValueError(f"video {video_id[:12]} is stored in layout(s) {stored}, not in {layout}: "
                         f"score it with a reference fitted in one of those layouts")
    if len(matching) > 1:
        raise ValueError(f"video {video_id[:12]} is stored in layouts "
                         f"{sorted(row['layout'] for row in matching)}; pick one")
    row = matching[0]
    frames = store.read_video(video_id, person=0, layout=row["layout"])
    return ScoringInput(frames.joints, row["layout"], frames.timestamps, frames.frame_indices,
                        row["width"], row["height"], row["source_path"], stored_frame_rate(row),
                        video_id, row["label"], row["extracted_at"])


def file_input(path: str | Path, target_fps: float | None = DEFAULT_FPS) -> ScoringInput:
    """BlazePose skeleton of a video file (sampled at ``target_fps``), cleaned with the extraction
    defaults (visibility threshold, short gaps interpolated).

    Raises ``ValueError`` when nobody is detected in any frame.
    """
    from posegraph.skeleton.extraction import extract_cleaned

    result, joints = extract_cleaned(path, target_fps)
    rates = [rate for rate in (target_fps, result.properties.frames_per_second) if rate]
    fps = min(rates) if rates else DEFAULT_FPS  # sampling never adds frames
    return ScoringInput(joints, result.layout, result.timestamps, result.frame_indices,
                        result.properties.width, result.properties.height, str(path), float(fps))


file_sha256 = content_hash  # a video's id in a store (``posegraph extract``), a reference file's hash


def reference_videos(store: SkeletonStore, exercise: str, label: str | None = None,
                     video_ids: Sequence[str] | None = None, layout: str | None = None,
                     split: str | None = None) -> list[dict]:
    """The ``videos`` rows a reference is fitted on, sorted by id (see the module docstring).

    Raises ``ValueError`` (``VideoNotFoundError`` for an unknown id) with what the store has
    when the choice is empty, names a video that is not ``ok``, or spans several layouts
    without ``layout``.
    """
    rows = [row for row in store.videos().to_pylist() if layout in (None, row["layout"])]
    if video_ids:
        wanted = set(video_ids)
        missing = sorted(wanted - {row["video_id"] for row in rows})
        if missing:
            where = f" in layout {layout}" if layout else ""
            raise VideoNotFoundError(f"video(s) {', '.join(m[:12] for m in missing)} are not in the "
                                     f"store at {store.root}{where}")
        chosen = [row for row in rows if row["video_id"] in wanted]
        bad = [f"{row['video_id'][:12]} ({row['status']})" for row in chosen if row["status"] != "ok"]
        if bad:
            raise ValueError(f"only ok videos can be a reference; not ok: {', '.join(bad)}")
    else:
        label = label or exercise
        chosen = [row for row in rows if row["label"] == label and row["status"] == "ok"
                  and split in (None, row["split"])]
        if not chosen:
            labels = sorted({str(row["label"]) for row in rows if row["status"] == "ok"})
            where = (f" in layout {layout}" if layout else "") + (f" in split {split}" if split else "")
            raise ValueError(f"no ok videos labelled {label!r}{where} in the store at {store.root} "
                             f"(its labels: {', '.join(labels) or 'none'}); pass --label or --videos")
    layouts = sorted({row["layout"] for row in chosen})
    if len(layouts) > 1:
        raise ValueError(f"the chosen videos are stored in layouts {layouts}; pass --layout to pick one")
    return sorted(chosen, key=lambda row: row["video_id"])


def fit_from_store(store: SkeletonStore, exercise: str, label: str | None = None,
                   video_ids: Sequence[str] | None = None, layout: str | None = None,
                   split: str | None = None, **options: object) -> FormReference:
    """Fit a reference of ``exercise`` on stored videos (:func:`reference_videos` picks them).

    Example:
        >>> reference = fit_from_store(SkeletonStore("corpus"), "squat", split="train")
        >>> reference.save("squat.json")
    """
    rows = reference_videos(store, exercise, label, video_ids, layout, split)
    inputs = [stored_input(store, row["video_id"], row["layout"]) for row in rows]
    return FormReference.fit([source.joints for source in inputs], layout=rows[0]["layout"],
                             exercise=exercise, frame_sizes=[source.frame_size for source in inputs],
                             video_ids=[row["video_id"] for row in rows], **options)


def score_rows(source: ScoringInput, result: FormScore, reference: FormReference, reference_name: str,
               reference_sha: str | None = None, exercise: str | None = None) -> ScoreRows:
    """The ``scores`` rows of one stored video's :class:`FormScore` (``source.video_id`` is needed)."""
    if source.video_id is None:
        raise ValueError("only a stored video's scores go into the store")
    return ScoreRows(source.video_id, source.layout, reference_name, result.method,
                     source.frame_indices, result.joint_scores, result.frame_scores,
                     result.running_score, source.timestamps, exercise=exercise,
                     reference_exercise=reference.exercise, reference_sha=reference_sha,
                     extracted_at=source.extracted_at)
