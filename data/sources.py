"""The one resolver from "a video file, a stored video id or a landmarks file" to a
:class:`~posegraph.skeleton.source.SkeletonSource`.

- a **video file**: the store's copy when the file is stored there (its content hash is its id)
  in the layout asked for, else BlazePose through the extraction defaults (cleaned);
- a **stored video**: its full id or a unique prefix (8-12 hex digits are usually enough);
- a **landmarks file** (``.npy``, ``.json``, ``.csv``): what ``posegraph import landmarks`` reads
  (:mod:`.landmarks`), or RepCount's ``(T, 99 + k)`` BlazePose rows, at ``landmarks_fps``.

Classify, score, count, render and the analysis all read their input through :func:`resolve_source`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..skeleton.source import SkeletonSource
from ..skeleton.video import check_video_path
from ..skeleton.vocabulary import DEFAULT_FPS, UNTIMED_FPS
from .errors import VideoNotFoundError
from .ingest import content_hash
from .landmarks import SUFFIXES as LANDMARK_SUFFIXES
from .landmarks import LandmarkFormatError, read_landmarks
from .records import stored_frame_rate
from .repcount import read_poses
from .store import SkeletonStore

LANDMARKS_FPS = UNTIMED_FPS  # a landmarks file has no clock: frames per second unless told


def resolve_video_id(store: SkeletonStore, prefix: str) -> str:
    """A full video id from a unique prefix (ids are 64 hex digits; 8-12 are usually enough)."""
    if len(prefix) == 64:
        return prefix
    ids = sorted({vid for vid in store.videos().column("video_id").to_pylist() if vid.startswith(prefix)})
    if not ids:
        raise VideoNotFoundError(f"no video id starts with {prefix!r} in the store at {store.root}")
    if len(ids) > 1:
        raise ValueError(f"{prefix!r} matches {len(ids)} videos ({', '.join(i[:12] for i in ids[:5])}, ...); "
                         f"give more digits")
    return ids[0]


def stored_source(store: SkeletonStore, video_id: str, layout: str | None = None, persons: int = 1,
                  how_read: str = "stored") -> SkeletonSource:
    """A stored video (full id) in ``layout`` (needed when it is stored in several), its first
    ``persons`` people.

    Raises ``VideoNotFoundError`` when the video is not stored, ``ValueError`` naming the layouts
    it is stored in when it is not stored in ``layout``.
    """
    rows = store.video_rows(video_id)
    if not rows:
        raise VideoNotFoundError(f"video {video_id!r} is not in the store at {store.root}")
    matching = [row for row in rows if layout in (None, row["layout"])]
    if not matching:
        stored = ", ".join(sorted(row["layout"] for row in rows))
        raise ValueError(f"video {video_id[:12]} is stored in layout(s) {stored}, not in {layout}: "
                         f"use a model or reference of one of those layouts")
    if len(matching) > 1:
        raise ValueError(f"video {video_id[:12]} is stored in layouts "
                         f"{sorted(row['layout'] for row in matching)}; pick one")
    row = matching[0]
    frames = [store.read_video(video_id, person=person, layout=row["layout"]) for person in range(max(persons, 1))]
    others = np.stack([item.joints for item in frames[1:]]) if len(frames) > 1 else None
    return SkeletonSource(frames[0].joints, row["layout"], frames[0].timestamps, frames[0].frame_indices,
                          row["width"], row["height"], row["source_path"], stored_frame_rate(row), "store",
                          how_read, video_id, row["label"], row["extracted_at"], others)


def file_source(path: str | Path, target_fps: float | None = DEFAULT_FPS) -> SkeletonSource:
    """BlazePose skeleton of a video file (sampled at ``target_fps``), cleaned with the extraction
    defaults (visibility threshold, short gaps interpolated).

    Raises ``ValueError`` naming the file when nobody is detected in any frame.
    """
    from ..skeleton.extraction import extract_cleaned  # OpenCV and MediaPipe only when a file is read

    result, joints = extract_cleaned(path, target_fps)
    rates = [rate for rate in (target_fps, result.properties.frames_per_second) if rate]
    fps = min(rates) if rates else DEFAULT_FPS  # sampling never adds frames
    return SkeletonSource(joints, result.layout, result.timestamps, result.frame_indices,
                          result.properties.width, result.properties.height, str(path), float(fps), "file",
                          "BlazePose")


def landmarks_source(path: str | Path, layout: str = "blazepose33", fps: float = LANDMARKS_FPS) -> SkeletonSource:
    """A landmarks file in one of the formats ``posegraph import landmarks`` reads (``.npy``, ``.json``,
    ``.csv``; :func:`.landmarks.read_landmarks`), or RepCount's ``.npy`` rows; all-zero rows are
    frames where nobody was seen.

    Raises ``ValueError`` naming the file and the shapes it takes when it is neither.
    """
    path = Path(path)
    if not fps or fps <= 0:
        raise ValueError(f"{path}: frames per second must be positive, got {fps}")
    _, _, joints, problem = read_landmarks(path, layout)
    if joints is None and path.suffix.lower() == ".npy" and layout == "blazepose33":
        try:  # RepCount's rows: 99 landmark values, then derived angles
            joints = read_poses(path)
        except (LandmarkFormatError, ValueError, OSError):
            pass
    if joints is None:
        raise ValueError(f"{problem} (or RepCount's (T, 99 or more) BlazePose rows)")
    frames = np.arange(len(joints))
    return SkeletonSource(joints, layout, frames / float(fps), frames, None, None, str(path), float(fps),
                          "landmarks", "landmarks file")


def resolve_source(target: str | Path, store: SkeletonStore | None = None, layout: str | None = None,
                   persons: int = 1, landmarks_fps: float = LANDMARKS_FPS) -> SkeletonSource:
    """``target`` (a video file, a landmarks file, or a stored id or prefix with ``store``) as a
    :class:`SkeletonSource` in ``layout`` (None: any; a video file is extracted as blazepose33).

    Raises ``FileNotFoundError`` for a path that is not there, or an id without ``store``;
    :class:`~posegraph.skeleton.video.VideoError` for a path that is there but not a file.
    """
    target = str(target)
    path = Path(target)
    if os.path.lexists(path) and not path.is_file():  # a folder, a fifo, a device, a dangling link
        check_video_path(path)  # raises VideoError saying which; never opens it (a fifo would wait forever)
    if not path.is_file() and (path.suffix or "/" in target):  # ids are hex digits: this meant a file
        raise FileNotFoundError(f"{target}: no such file")
    if path.is_file() and path.suffix.lower() in LANDMARK_SUFFIXES:
        return landmarks_source(path, layout or "blazepose33", landmarks_fps)
    if path.is_file():
        if store is not None:
            digest = content_hash(path)
            if any(layout in (None, row["layout"]) for row in store.video_rows(digest)):
                return stored_source(store, digest, layout, persons, f"stored as {digest[:12]}")
        if layout not in (None, "blazepose33"):
            raise ValueError(f"{target}: a video file is extracted with BlazePose (blazepose33), but layout "
                             f"{layout} is needed here: use a blazepose33 model or reference, or extract the "
                             f"video into a store in {layout}")
        return file_source(path)
    if store is None:
        raise FileNotFoundError(f"{target}: no such file; to use a stored video id, pass --store STORE")
    return stored_source(store, resolve_video_id(store, target), layout, persons)
