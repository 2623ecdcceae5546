"""Import landmarks people already have (extracted elsewhere) into the store.

Formats, one video per file:

- NumPy ``.npy``: ``(T, V, C)`` or ``(T, V*C)`` with C = 2 (x, y), 3 (x, y, z) or 4 (x, y, z, visibility);
- JSON (MediaPipe style): a list of frames, each a list of ``V`` landmarks ``{"x", "y", "z", "visibility"}``
  (or an object ``{"landmarks": [...]}``; an empty list or ``null`` is a frame with nobody);
- CSV: one row per frame, ``V*C`` number columns (a header row of names is skipped).

Rows that are all zero (or empty) become "not detected" (NaN); missing channels are NaN for z and
1 for visibility. Every bad file is recorded as ``failed`` with its reason and the rest import.
The video id is the sha256 of the file's bytes; the label is ``label`` or the file's folder name.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..skeleton import get_layout
from ..skeleton.vocabulary import UNTIMED_FPS
from .batches import ImportReport, import_files
from .records import Skeletons, VideoInfo
from .source_file import read_source
from .store import SkeletonStore

SUFFIXES = (".npy", ".json", ".csv")
EXTRACTOR = "imported-landmarks"


class LandmarkFormatError(ValueError):
    """A file is not one of the landmark formats this importer reads."""


def _as_frames(values: np.ndarray, joints: int) -> np.ndarray:
    """``(T, V, C)`` or ``(T, V*C)`` numbers -> ``(T, V, 4)`` float32 (z NaN, visibility 1 where absent)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] in (2 * joints, 3 * joints, 4 * joints):
        values = values.reshape(len(values), joints, -1)
    if values.ndim != 3 or values.shape[1] != joints or values.shape[2] not in (2, 3, 4):
        raise LandmarkFormatError(f"expected (T, {joints}, C) or (T, {joints}*C) with C = 2, 3 or 4; got {values.shape}")
    if not len(values):
        raise LandmarkFormatError("no frames")
    frames = np.full((len(values), joints, 4), np.nan, dtype=np.float32)
    frames[..., 3] = 1.0
    frames[..., : values.shape[2]] = values
    nobody = (np.nan_to_num(values, nan=0.0) == 0).all(axis=(1, 2))  # all zero or empty: nobody seen
    frames[nobody] = np.nan
    return frames


def _json_frames(raw: bytes, joints: int) -> np.ndarray:
    content = json.loads(raw)
    if isinstance(content, dict):
        content = content.get("frames", content.get("landmarks"))
    if not isinstance(content, list):
        raise LandmarkFormatError('expected a list of frames (or {"frames": [...]})')
    rows = []
    for number, frame in enumerate(content):
        if isinstance(frame, dict):
            frame = frame.get("landmarks")
        if not frame:
            rows.append(np.zeros((joints, 4)))
            continue
        if not isinstance(frame, list) or len(frame) != joints:
            raise LandmarkFormatError(f"frame {number}: expected {joints} landmarks, got "
                                      f"{len(frame) if isinstance(frame, list) else type(frame).__name__}")
        try:
            rows.append([[float(point.get(key, np.nan) if key != "visibility" else point.get(key, 1.0))
                          for key in ("x", "y", "z", "visibility")] for point in frame])
        except (AttributeError, TypeError, ValueError):
            raise LandmarkFormatError(f"frame {number}: landmarks must be objects of numbers x, y, z, visibility") from None
    return _as_frames(np.asarray(rows, dtype=np.float64), joints)


def _csv_frames(raw: bytes, joints: int) -> np.ndarray:
    rows = [row for row in csv.reader(io.StringIO(raw.decode("utf-8"))) if row]
    if rows and not _numeric(rows[0]):
        rows = rows[1:]  # a header
    values = []
    for line, row in enumerate(rows, 2 if rows else 1):
        if not _numeric(row):
            raise LandmarkFormatError(f"line {line}: values that are not numbers")
        values.append([float(value) if value.strip() else np.nan for value in row])
    if len({len(row) for row in values}) > 1:
        raise LandmarkFormatError("rows have different numbers of columns")
    return _as_frames(np.asarray(values, dtype=np.float64), joints)


def _numeric(row: list[str]) -> bool:
    try:
        [float(value) for value in row if value.strip()]
    except ValueError:
        return False
    return True


def read_landmarks(path: Path, layout: str) -> tuple[bytes, str, np.ndarray | None, str | None]:
    """``(bytes, video_id, frames (T, V, 4) or None, problem)`` for one file."""
    raw, video_id, problem = read_source(path)
    if problem is not None:
        return raw, video_id, None, problem
    joints = get_layout(layout).num_joints
    try:
        if path.suffix.lower() == ".npy":
            frames = _as_frames(np.load(io.BytesIO(raw), allow_pickle=False), joints)
        elif path.suffix.lower() == ".json":
            frames = _json_frames(raw, joints)
        else:
            frames = _csv_frames(raw, joints)
    except (LandmarkFormatError, json.JSONDecodeError, UnicodeDecodeError, ValueError, OSError) as error:
        return raw, video_id, None, f"{path}: not a {layout} landmark file: {error}"
    return raw, video_id, frames, None


def landmark_files(source: Path) -> list[Path]:
    """The landmark files under ``source`` (a folder, searched recursively, or one file)."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is neither a folder nor a landmark file (.npy, .json, .csv)")
    return sorted(path for path in source.rglob("*") if path.suffix.lower() in SUFFIXES and path.is_file())


def import_landmarks(source: Path | str, store: SkeletonStore, layout: str = "blazepose33", fps: float = UNTIMED_FPS,
                     label: str | None = None, split: str | None = None,
                     on_file: Callable[[Path, str | None], None] | None = None) -> ImportReport:
    """Import every landmark file under ``source`` as ``layout``; ``on_file(path, problem)`` per file."""
    get_layout(layout)  # an unknown layout is an error before any file is read
    return import_files(store, landmark_files(Path(source)),
                        lambda path: landmark_record(path, layout, fps, label, split), on_file)


def landmark_record(path: Path, layout: str, fps: float, label: str | None,
                    split: str | None) -> tuple[VideoInfo, Skeletons | None, str | None]:
    """One file as a ``videos`` row plus skeletons; a bad file gives a failed row and the reason."""
    _, video_id, frames, problem = read_landmarks(path, layout)
    info = VideoInfo(video_id=video_id, layout=layout, source_path=str(path.resolve()),
                     label=label or path.parent.name, split=split, source_fps=fps, sampled_fps=fps,
                     extractor=EXTRACTOR, extractor_version=path.suffix.lower().lstrip("."))
    if problem is not None:
        return info.replace(status="failed", reason=problem), None, problem
    detected = np.isfinite(frames[..., :2]).all(axis=-1).any(axis=-1)
    skeletons = Skeletons(layout, frames[None], detected[None], np.arange(len(frames)) / fps,
                          np.arange(len(frames), dtype=np.int32))
    if not detected.any():
        info = info.replace(status="rejected", reason=f"{path}: no person in any frame")
    return info, skeletons, None
