"""Labelled MediaPipe landmark tables (CSV) as skeleton arrays.

A common way to publish pose data with form labels (e.g. NgoQuocBao1010/Exercise-Correction,
see ``shared/testdata/SOURCES.md``): one row per frame, a ``label`` column, then
``<landmark>_x, <landmark>_y, <landmark>_z, <landmark>_v`` for some of MediaPipe's landmarks.
:func:`read_landmark_csv` gives the labels and a ``(T, 33, 4)`` blazepose33 array with NaN for
landmarks the file lacks. Such rows are often frames a labeller picked, not every frame of a
video, and carry no video id: :func:`consecutive_runs` splits them where the pose jumps or the
label changes, so that runs of consecutive frames can be treated as short sequences.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..skeleton import get_layout

COMPONENTS = {"x": 0, "y": 1, "z": 2, "v": 3}
JUMP = 5.0  # a run ends where the pose moves more than JUMP x the median row-to-row movement


def read_landmark_csv(path: str | Path, layout: str = "blazepose33") -> tuple[np.ndarray, np.ndarray]:
    """Labels ``(T,)`` (str) and joints ``(T, V, 4)`` float32 of a landmark CSV.

    Columns other than ``label`` must be ``<joint>_<x|y|z|v>`` for joints of ``layout``; joints
    without columns are NaN.
    """
    spec = get_layout(layout)
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows or rows[0][:1] != ["label"]:
        raise ValueError(f"{path}: expected a header starting with 'label'")
    columns = []
    for name in rows[0][1:]:
        joint, _, component = name.rpartition("_")
        if component not in COMPONENTS or joint not in spec.joint_names:
            raise ValueError(f"{path}: column {name!r} is not <joint>_<x|y|z|v> of layout {layout!r}")
        columns.append((spec.index(joint), COMPONENTS[component]))
    body = [row for row in rows[1:] if row]
    labels = np.array([row[0] for row in body], dtype=object)
    values = np.array([[float(value) for value in row[1:]] for row in body], dtype=np.float32)
    joints = np.full((len(body), spec.num_joints, 4), np.nan, dtype=np.float32)
    for column, (joint, component) in enumerate(columns):
        joints[:, joint, component] = values[:, column]
    return labels, joints


def consecutive_runs(joints: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Run number ``(T,)`` of each row: a new run where the label changes or the pose jumps.

    A jump is a mean joint movement (x, y) from the previous row above ``JUMP`` times the
    median over all rows.
    """
    movement = np.nanmean(np.linalg.norm(np.diff(joints[..., :2], axis=0), axis=-1), axis=1)
    jumps = ~(movement <= JUMP * np.nanmedian(movement))  # NaN movement also starts a run
    changes = np.asarray(labels[1:] != labels[:-1], dtype=bool)
    return np.concatenate([[0], np.cumsum(jumps | changes)]).astype(np.int64)


def runs_by_label(path: str | Path, layout: str = "blazepose33") -> dict[str, list[np.ndarray]]:
    """Each label's runs of consecutive frames (:func:`consecutive_runs`) as ``(T, V, 4)``
    sequences, in file order."""
    labels, joints = read_landmark_csv(path, layout)
    runs = consecutive_runs(joints, labels)
    return {label: [joints[runs == run] for run in np.unique(runs[labels == label])]
            for label in np.unique(labels)}


def split_in_file_order(runs: list[np.ndarray], fraction: float = 0.5) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Whole runs ending within the first ``fraction`` of their frames (file order), and the rest:
    a split that keeps neighbouring runs, often of one video, on one side."""
    ends = np.cumsum([len(run) for run in runs])
    return ([run for run, end in zip(runs, ends) if end <= ends[-1] * fraction],
            [run for run, end in zip(runs, ends) if end > ends[-1] * fraction])
