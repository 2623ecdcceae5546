"""Where the skeletons to fit and score come from: a skeleton store, or a video file.

- :func:`reference_videos` picks a reference's videos from a store: the ``ok`` videos with the
  given ids, or else those labelled with the exercise (or ``label``), in one layout;
- :func:`fit_from_store` fits a :class:`FormReference` on them (person 0, each video's frame
  size for aspect-correct units, the ids recorded in the reference);
- the video to score comes from :func:`posegraph.data.sources.resolve_source` (a
  :class:`~posegraph.skeleton.source.SkeletonSource`, like every other command's input);
- :func:`score_rows` turns a :class:`FormScore` into the store's ``scores`` rows.

Plain functions over the store and numpy; nothing here imports torch or Prefect.
"""

from __future__ import annotations

from collections.abc import Sequence

from posegraph.data import SkeletonStore, VideoNotFoundError
from posegraph.data.ingest import content_hash
from posegraph.data.sources import stored_source
from posegraph.data.records import ScoreRows
from posegraph.skeleton.source import SkeletonSource

from .reference import FormReference
from .result import FormScore



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
    return fit_on_videos(store, reference_videos(store, exercise, label, video_ids, layout, split), exercise,
                         **options)[0]


def fit_on_videos(store: SkeletonStore, rows: list[dict], exercise: str,
                  **options: object) -> tuple[FormReference, list[SkeletonSource]]:
    """A reference of ``exercise`` fitted on the stored videos ``rows`` (from :func:`reference_videos`),
    and those videos' skeletons, read once, for whatever else is measured on them."""
    inputs = [stored_source(store, row["video_id"], row["layout"]) for row in rows]
    reference = FormReference.fit([source.joints for source in inputs], layout=rows[0]["layout"],
                                  exercise=exercise, frame_sizes=[source.frame_size for source in inputs],
                                  video_ids=[row["video_id"] for row in rows], **options)
    return reference, inputs


def score_rows(source: SkeletonSource, result: FormScore, reference: FormReference, reference_name: str,
               reference_sha: str | None = None, exercise: str | None = None) -> ScoreRows:
    """The ``scores`` rows of one stored video's :class:`FormScore` (``source.video_id`` is needed)."""
    if source.video_id is None:
        raise ValueError("only a stored video's scores go into the store")
    return ScoreRows(source.video_id, source.layout, reference_name, result.method,
                     source.frame_indices, result.joint_scores, result.frame_scores,
                     result.running_score, source.timestamps, exercise=exercise,
                     reference_exercise=reference.exercise, reference_sha=reference_sha,
                     extracted_at=source.extracted_at)
