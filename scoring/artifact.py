"""The reference file: one JSON document, versioned, with what it was made from.

JSON because a reference is exchanged between people and tools: it is readable, diffable and
safe to load (no pickle: nothing in it runs code). Arrays are nested lists with ``null`` for NaN;
Python writes floats with enough digits to read back the same float64, so a loaded reference
scores exactly as the fitted one. The document:

    {"format": "posegraph-form-reference", "version": 1,
     "exercise", "layout", "joint_names", "created",
     "videos": [ids] or null, "frames": {given, outliers, kept, clustered},
     "parameters": {...fit options...}, "packages": {python, numpy, hdbscan, posegraph},
     "phase": {...}, "joint": {...}}

Reading checks the format name and version first, then (when the caller says what it expects)
the layout and the exercise, and names both sides when they differ. The file is written to a
temporary name and renamed, so a crash never leaves half a reference.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

FORMAT = "posegraph-form-reference"
VERSION = 1


class ReferenceFileError(ValueError):
    """A file that is not a reference this version can read, or not the one expected."""


def encode(array: np.ndarray) -> list:
    """Nested lists of floats (ints stay ints), NaN as None."""
    values = np.asarray(array)
    if values.dtype.kind in "iub":
        return values.tolist()
    return _nan_to_none(values.astype(np.float64).tolist())


def _nan_to_none(value):
    if isinstance(value, list):
        return [_nan_to_none(item) for item in value]
    return None if isinstance(value, float) and not math.isfinite(value) else value


def decode(value: list, dtype: type = np.float64, shape_tail: tuple[int, ...] = ()) -> np.ndarray:
    """Back to an array; None -> NaN. ``shape_tail`` gives empty lists their trailing shape."""
    if dtype is np.float64:
        array = np.array(_none_to_nan(value), dtype=np.float64)
    else:
        array = np.array(value, dtype=dtype)
    return array.reshape((0, *shape_tail)) if array.size == 0 and shape_tail else array


def _none_to_nan(value):
    if isinstance(value, list):
        return [_none_to_nan(item) for item in value]
    return float("nan") if value is None else value


def write_document(document: dict, path: str | Path) -> Path:
    """Write ``document`` (with format and version put first) atomically as JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    full = {"format": FORMAT, "version": VERSION, **document}
    temporary = path.with_name(f".{path.name}.partial")
    with open(temporary, "w") as handle:
        json.dump(full, handle, allow_nan=False, separators=(",", ":"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return path


def read_document(path: str | Path, layout: str | None = None, exercise: str | None = None) -> dict:
    """Read and check a reference file (module docstring); raise :class:`ReferenceFileError`."""
    from posegraph.data.documents import read_document

    path = Path(path)
    document = read_document(path, FORMAT, "a form reference", "fit one with posegraph scoring fit",
                             ReferenceFileError)
    if document.get("version") != VERSION:
        raise ReferenceFileError(
            f"{path}: form reference format version {document.get('version')!r}; this posegraph "
            f"reads version {VERSION}. Fit the reference again with this version.")
    for key, expected in (("layout", layout), ("exercise", exercise)):
        if expected is not None and document.get(key) != expected:
            raise ReferenceFileError(f"{path}: the reference is for {key} {document.get(key)!r}, "
                                     f"expected {key} {expected!r}")
    return document
