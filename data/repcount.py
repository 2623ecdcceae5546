"""Import RepCount-A pose files with their human repetition boundaries (the phase counter's real labels).

The format (``RepCount_pose`` of joint-based PoseRAC, as in ``../shared/testdata/repcount/``):

- ``counts.csv``: ``name,exercise,count,subject,boundaries``; ``boundaries`` holds the first and
  last frame of every repetition (2 x count numbers, space-separated, indices into the pose rows);
- ``poses/<name>.npy``: float ``(T, 99 + k)``, the 33 BlazePose landmarks' x, y, z per frame
  (min-max normalised per frame by the source), then k derived columns (ignored); an all-zero
  row means nobody was seen.

Each video is stored with its exercise as the label and its subject (``stu<k>``, else its own
name) as the group, so ``--set split=group`` keeps a subject's videos together; its repetitions
go to the ``phases`` table (scheme ``repetitions``), from which every phase scheme is derived
when a phase counter trains. A bad row or file fails alone, named with its line or path.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..skeleton.vocabulary import UNTIMED_FPS
from .batches import ImportReport, import_files
from .landmarks import LandmarkFormatError, _as_frames
from .records import Skeletons, VideoInfo
from .source_file import read_source
from .records import PhaseRows
from .store import SkeletonStore

LANDMARK_COLUMNS = 99  # 33 landmarks x (x, y, z); the source's derived angles come after
EXTRACTOR = "repcount-pose"
COLUMNS = ("name", "exercise", "count", "subject", "boundaries")


@dataclass(frozen=True)
class RepCountVideo:
    """One row of ``counts.csv``. Shapes: ``boundaries (count, 2)`` first and last frame, inclusive."""

    name: str
    exercise: str
    count: int
    subject: str
    boundaries: np.ndarray
    path: Path

    @property
    def group(self) -> str:
        """The subject, or the video's own name where the source gives none."""
        return self.subject or self.name


def read_counts(folder: Path | str) -> tuple[list[RepCountVideo], list[tuple[str, str]]]:
    """The videos listed in ``folder/counts.csv`` and the rows refused, as ``(FILE:LINE, why)``."""
    table = Path(folder) / "counts.csv"
    if not table.is_file():
        raise FileNotFoundError(f"{table} is missing: a RepCount folder holds counts.csv and poses/<name>.npy")
    videos, refused = [], []
    with open(table, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{table}: columns {', '.join(missing)} are missing (expected {','.join(COLUMNS)})")
        for line, row in enumerate(reader, start=2):
            try:
                count = int(row["count"])
                values = [int(value) for value in (row["boundaries"] or "").split()]
                if len(values) != 2 * count:
                    raise ValueError(f"{len(values)} boundary numbers for a count of {count} (expected {2 * count})")
                bounds = np.asarray(values, dtype=np.int64).reshape(-1, 2)
                if len(bounds) and ((bounds[:, 0] > bounds[:, 1]).any() or (bounds < 0).any()):
                    raise ValueError("a repetition ends before it starts, or starts before frame 0")
            except ValueError as error:
                refused.append((f"{table}:{line}", str(error)))
                continue
            videos.append(RepCountVideo(row["name"], row["exercise"], count, row["subject"] or "", bounds,
                                        Path(folder) / "poses" / f"{row['name']}.npy"))
    return videos, refused


def read_poses(path: Path) -> np.ndarray:
    """``(T, 33, 4)`` float32 landmarks of one pose file (NaN rows where nobody was seen)."""
    values = np.load(path, allow_pickle=False)
    if values.ndim != 2 or values.shape[1] < LANDMARK_COLUMNS:
        raise LandmarkFormatError(f"expected (T, {LANDMARK_COLUMNS} or more) RepCount pose rows, got {values.shape}")
    return _as_frames(values[:, :LANDMARK_COLUMNS], 33)


def repcount_record(video: RepCountVideo, fps: float,
                    split: str | None) -> tuple[VideoInfo, Skeletons | None, str | None]:
    """One video as a ``videos`` row plus skeletons; a bad file gives a failed row and the reason."""
    _, video_id, problem = read_source(video.path)
    info = VideoInfo(video_id=video_id, layout="blazepose33", source_path=str(video.path.resolve()),
                     label=video.exercise, split=split, group=video.group, source_fps=fps, sampled_fps=fps,
                     extractor=EXTRACTOR, extractor_version="npy")
    frames = None
    if problem is None:
        try:
            frames = read_poses(video.path)
        except (LandmarkFormatError, ValueError, OSError) as error:
            problem = f"{video.path}: not a RepCount pose file: {error}"
    if problem is None and len(video.boundaries) and video.boundaries.max() >= len(frames):
        problem = f"{video.path}: repetitions reach frame {video.boundaries.max()} of a {len(frames)}-frame file"
    if problem is not None:
        return info.replace(status="failed", reason=problem), None, problem
    detected = np.isfinite(frames[..., :2]).all(axis=-1).any(axis=-1)
    skeletons = Skeletons("blazepose33", frames[None], detected[None], np.arange(len(frames)) / fps,
                          np.arange(len(frames), dtype=np.int32))
    return info, skeletons, None


def import_repcount(folder: Path | str, store: SkeletonStore, fps: float = UNTIMED_FPS,
                    splits: Callable[[RepCountVideo], str | None] | None = None,
                    on_file: Callable[[Path, str | None], None] | None = None) -> ImportReport:
    """Store every video of a RepCount folder and its repetitions (module docstring).

    ``splits(video)`` names each video's split (``train``/``val``/``test``; default none, so
    training splits by group); ``on_file(path, problem)`` is called per file.
    """
    videos, refused = read_counts(folder)
    by_path = {video.path: video for video in videos}
    ids: dict[str, RepCountVideo] = {}

    def record(path: Path):
        video = by_path[path]
        info, skeletons, problem = repcount_record(video, fps, splits(video) if splits else None)
        if problem is None:
            ids[info.video_id] = video
        return info, skeletons, problem

    report = import_files(store, list(by_path), record, on_file)
    report.failed.extend(refused)
    store.write_phases(PhaseRows(video_id, "repetitions", [(int(a), int(b), "repetition") for a, b in video.boundaries],
                                 source=str(Path(folder) / "counts.csv"))
                       for video_id, video in ids.items() if video_id in report.imported)
    return report
