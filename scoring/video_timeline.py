"""Everything the store knows about one video on one time axis (the corpus browser's video page).

:func:`video_timeline` gathers the per-frame features (computed from the stored skeleton, so a
store without a ``features`` table shows them too), the form scores (``scores``), the counted
repetitions (``repetitions``, and ``analysis_repetitions`` of ``posegraph analyse``) and the phase
labels (``phases``), every time in seconds on the stored frames' clock (``timestamp_s``).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field

import numpy as np

from posegraph.data import SkeletonStore
from posegraph.data.delta import sql_string
from posegraph.data.query import connect
from posegraph.features import FEATURE_NAMES
from posegraph.features.table import video_features


@dataclass(frozen=True)
class VideoTimeline:
    """One video's per-frame series and events.

    Shapes: ``times (T,)`` s; each ``features[name] (T,)`` (NaN where missing); each
    ``scores[reference/method]`` a pair ``(times (S,) s, frame_score (S,) 0-100)``.
    """

    video: dict  # its ``videos`` row
    times: np.ndarray
    features: dict[str, np.ndarray]
    scores: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    repetitions: list[dict] = field(default_factory=list)  # time_s (turning point), repetition, method
    analysed_repetitions: list[dict] = field(default_factory=list)  # start_s, turn_s, end_s, score, set_number
    phases: list[dict] = field(default_factory=list)  # start_s, end_s, phase, scheme


def video_timeline(store: SkeletonStore, video_id: str, layout: str | None = None) -> VideoTimeline:
    """The timeline of one stored video (``layout`` where it is stored in several)."""
    rows = [row for row in store.video_rows(video_id) if layout is None or row["layout"] == layout]
    if not rows:
        raise ValueError(f"video {video_id} is not in the store {store.root}"
                         + (f" in layout {layout}" if layout else ""))
    row = rows[0]
    frames = store.read_video(video_id, layout=row["layout"])
    times = np.asarray(frames.timestamps, dtype=np.float64)
    values = video_features(store, row).values if len(times) else np.zeros((0, len(FEATURE_NAMES)), np.float32)
    features = {name: values[:, index] for index, name in enumerate(FEATURE_NAMES)}
    where = f"video_id = {sql_string(video_id)} AND layout = {sql_string(row['layout'])}"
    temp = tempfile.mkdtemp(prefix="posegraph-duckdb-")
    connection = connect(store, temp_directory=temp, feature_columns=FEATURE_NAMES)
    try:
        def rows_of(sql: str) -> list[dict]:
            return connection.sql(sql).to_arrow_table().to_pylist()

        scores: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for item in rows_of(f"SELECT reference, method, list(timestamp_s ORDER BY frame_index) AS t, "
                            f"list(frame_score ORDER BY frame_index) AS s FROM scores WHERE {where} GROUP BY ALL"):
            scores[f"{item['reference']}/{item['method']}"] = (
                np.array(item["t"], dtype=np.float64), np.array([np.nan if v is None else v for v in item["s"]]))
        repetitions = rows_of(f"SELECT repetition, time_s, method FROM repetitions WHERE {where} ORDER BY repetition")
        analysed = rows_of(f"SELECT repetition, set_number, start_s, turn_s, end_s, score, worst_joint "
                           f"FROM analysis_repetitions WHERE {where} ORDER BY repetition")
        phase_rows = rows_of(f"SELECT scheme, first_frame, last_frame, phase FROM phases "  # phases: per video
                             f"WHERE video_id = {sql_string(video_id)} "
                             f"ORDER BY first_frame")
    finally:
        connection.close()
        shutil.rmtree(temp, ignore_errors=True)
    return VideoTimeline(row, times, features, scores, repetitions, analysed,
                         [_phase_times(item, frames.frame_indices, times) for item in phase_rows])


def _phase_times(item: dict, frame_indices: np.ndarray, times: np.ndarray) -> dict:
    """A phase label's frames as seconds on the stored clock (the nearest stored frames)."""
    if not len(times):
        return {"scheme": item["scheme"], "phase": item["phase"], "start_s": None, "end_s": None}
    first = int(np.clip(np.searchsorted(frame_indices, item["first_frame"]), 0, len(times) - 1))
    last = int(np.clip(np.searchsorted(frame_indices, item["last_frame"], side="right") - 1, 0, len(times) - 1))
    return {"scheme": item["scheme"], "phase": item["phase"], "start_s": float(times[first]),
            "end_s": float(times[max(last, first)])}
