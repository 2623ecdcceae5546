"""Arrow conversion for the skeleton store: rows in, tables out, and back, plus reading data files.

- ``*_table``: a video's rows (:mod:`.records`) as the Arrow table its Delta table stores
  (:mod:`.schema`), each checked first (``check_*``: shapes and values, with what was wrong);
- :func:`frames_from_table`: one person's frames back as numpy arrays;
- :func:`read_data_file`, :func:`may_hold`: read one Parquet data file, skipping row groups and
  files that cannot hold a video (their statistics);
- :func:`conform`, :func:`concat_tables`, :func:`with_partitions`, :func:`with_layout`,
  :func:`variable_lists`: the small table reshapes the store and the migration share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import PurePath

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..skeleton import get_layout
from .delta import DataFile, plain_types
from .errors import DamagedFileError
from .location import StoreLocation
from .records import AnalysisRows, FeatureRows, PhaseRows, RepetitionRows, ScoreRows, Skeletons, VideoFrames, VideoInfo
from .schema import (ANALYSES_SCHEMA, ANALYSIS_REPETITIONS_SCHEMA, PHASE_SCHEMES, PHASES_SCHEMA, REPETITIONS_SCHEMA,
                     VIDEOS_SCHEMA, frames_schema)


def _row_groups_that_may_hold(file: pq.ParquetFile, low: str, high: str) -> list[int]:
    """Row groups whose ``video_id`` statistics do not rule out the ids from ``low`` to ``high``
    (a file's rows are sorted)."""
    column = file.schema_arrow.get_field_index("video_id")
    groups = []
    for index in range(file.metadata.num_row_groups):
        statistics = file.metadata.row_group(index).column(column).statistics
        if statistics is None or not statistics.has_min_max or (statistics.min <= high and low <= statistics.max):
            groups.append(index)
    return groups


def read_data_file(location: StoreLocation, path: PurePath, video_id: str | None = None,
                   columns: list[str] | None = None, id_range: tuple[str, str] | None = None) -> pa.Table:
    """Read one data file of the store (only ``video_id``'s rows, or the rows of the ids from
    ``id_range[0]`` to ``id_range[1]``, when given), with plain Arrow types.

    A damaged file is a :class:`DamagedFileError` naming it and the repair command.
    """
    try:
        file = location.parquet_file(path)
        if video_id is None and id_range is None:
            return plain_types(file.read(columns=columns))
        low, high = (video_id, video_id) if video_id is not None else id_range
        groups = _row_groups_that_may_hold(file, low, high)
        names = None if columns is None else list(dict.fromkeys([*columns, "video_id"]))
        table = plain_types(file.read_row_groups(groups, columns=names)) if groups else \
            plain_types(file.schema_arrow.empty_table()).select(names or file.schema_arrow.names)
        ids = table["video_id"]
        table = table.filter(pc.equal(ids, video_id) if video_id is not None else
                             pc.and_(pc.greater_equal(ids, low), pc.less_equal(ids, high)))
        return table if columns is None else table.select(columns)
    except (OSError, pa.ArrowException, KeyError) as error:
        raise DamagedFileError(
            f"{path} is damaged or missing ({str(error).splitlines()[0][:160]}). Run "
            f"`posegraph store check {location.root()} --repair` to take it out of the store and list the "
            f"videos to extract again."
        ) from None


def concat_tables(tables: Sequence[pa.Table], empty_schema: pa.Schema) -> pa.Table:
    """Concatenate with unified schemas, so a column added later stays visible."""
    if not tables:
        return empty_schema.empty_table()
    return pa.concat_tables(tables, promote_options="permissive")


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns: missing ones null, others dropped."""
    columns = [table[field.name].cast(field.type) if field.name in table.column_names
               else pa.nulls(table.num_rows, field.type) for field in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def with_partitions(table: pa.Table, **values: str) -> pa.Table:
    """Rows with their partition columns appended (what ``write_deltalake`` takes the folders from)."""
    for name, value in values.items():
        table = table.append_column(name, pa.array([value] * table.num_rows, type=pa.string()))
    return table


def variable_lists(table: pa.Table) -> pa.Table:
    """Fixed-size list columns as plain lists (Delta has no fixed-size list type)."""
    fields = [pa.field(f.name, pa.list_(f.type.value_type), f.nullable) if pa.types.is_fixed_size_list(f.type)
              else f for f in table.schema]
    return table.cast(pa.schema(fields))


def may_hold(data_file: DataFile, video_id: str) -> bool:
    """False when the file's statistics rule the video out."""
    low, high = data_file.min_video_id, data_file.max_video_id
    return low is None or high is None or low <= video_id <= high


def with_layout(table: pa.Table, layout: str) -> pa.Table:
    """A features (or scores) file's rows with their partition column put back (after ``video_id``)."""
    return table.add_column(1, pa.field("layout", pa.string(), nullable=False),
                            pa.array([layout] * table.num_rows, type=pa.string()))


def _fixed_lists(values: np.ndarray, size: int, value_type: pa.DataType) -> pa.Array:
    flat = pa.array(np.ascontiguousarray(values).reshape(-1), type=value_type)
    return pa.FixedSizeListArray.from_arrays(flat, size)


def frames_table(video_id: str, skeletons: Skeletons) -> pa.Table:
    """Rows of the ``frames`` table for one video: person 0 on every frame, others where seen."""
    people, frame_count, joint_count, _ = skeletons.joints.shape
    interpolated = (skeletons.interpolated if skeletons.interpolated is not None
                    else np.zeros((people, frame_count, joint_count), dtype=bool))
    present = np.zeros((people, frame_count), dtype=bool)
    present[0] = True
    if people > 1:
        present[1:] = skeletons.detected[1:] | np.isfinite(skeletons.joints[1:, :, :, 0]).any(-1)
    person_index, frame_position = np.nonzero(present)
    joints = skeletons.joints[person_index, frame_position]
    phase = (pa.array(np.asarray(skeletons.phase, dtype=object)[frame_position], type=pa.string())
             if skeletons.phase is not None else pa.nulls(len(frame_position), pa.string()))
    schema = frames_schema(skeletons.layout, joint_count)
    return pa.table(
        {
            "video_id": pa.array([video_id] * len(frame_position), type=pa.string()),
            "frame_index": pa.array(skeletons.frame_indices[frame_position].astype(np.int32)),
            "timestamp_s": pa.array(skeletons.timestamps[frame_position].astype(np.float64)),
            "person": pa.array(person_index.astype(np.int16)),
            "x": _fixed_lists(joints[..., 0], joint_count, pa.float32()),
            "y": _fixed_lists(joints[..., 1], joint_count, pa.float32()),
            "z": _fixed_lists(joints[..., 2], joint_count, pa.float32()),
            "visibility": _fixed_lists(joints[..., 3], joint_count, pa.float32()),
            "detected": pa.array(skeletons.detected[person_index, frame_position]),
            "interpolated": _fixed_lists(interpolated[person_index, frame_position], joint_count,
                                         pa.bool_()),
            "phase": phase,
        },
        schema=schema,
    )


def check_feature_rows(rows: FeatureRows, feature_count: int) -> None:
    frames = len(rows.frame_indices)
    if np.shape(rows.values) != (frames, feature_count):
        raise ValueError(f"video {rows.video_id}: features must be (frames, features) = "
                         f"{(frames, feature_count)}, got {np.shape(rows.values)}")
    if len(np.unique(rows.frame_indices)) != frames:
        raise ValueError(f"video {rows.video_id}: frame indices repeat")


def features_table(rows: FeatureRows, schema: pa.Schema) -> pa.Table:
    """Rows of the ``features`` table for one video; NaN and inf become null."""
    values = np.asarray(rows.values, dtype=np.float32)
    missing = ~np.isfinite(values)
    frames = len(rows.frame_indices)
    columns = [pa.array([rows.video_id] * frames, type=pa.string()),
               pa.array(np.asarray(rows.frame_indices).astype(np.int32))]
    columns += [pa.array(values[:, index], mask=missing[:, index], type=pa.float32())
                for index in range(values.shape[1])]
    return pa.Table.from_arrays(columns, schema=schema)


def check_score_rows(rows: ScoreRows) -> None:
    frames, joints = len(rows.frame_indices), get_layout(rows.layout).num_joints
    if not rows.reference or not rows.method:
        raise ValueError(f"video {rows.video_id}: scores need a reference name and a method")
    if np.shape(rows.joint_scores) != (frames, joints):
        raise ValueError(f"video {rows.video_id}: joint scores must be (frames, joints) = "
                         f"{(frames, joints)} for layout {rows.layout}, got {np.shape(rows.joint_scores)}")
    for name in ("frame_scores", "running_scores", "timestamps"):
        values = getattr(rows, name)
        if values is not None and np.shape(values) != (frames,):
            raise ValueError(f"video {rows.video_id}: {name} must be ({frames},), got {np.shape(values)}")
    if len(np.unique(rows.frame_indices)) != frames:
        raise ValueError(f"video {rows.video_id}: frame indices repeat")


def _nullable(values: np.ndarray, value_type: pa.DataType | None = None) -> pa.Array:
    """A float array (float32 unless told) with NaN and inf as null."""
    values = np.asarray(values, dtype=np.float64)
    return pa.array(values, mask=~np.isfinite(values), type=value_type or pa.float32())


def scores_table(rows: ScoreRows, schema: pa.Schema) -> pa.Table:
    """Rows of the ``scores`` table for one video and reference; NaN becomes null."""
    frames, joints = len(rows.frame_indices), np.shape(rows.joint_scores)[1]
    flat = np.asarray(rows.joint_scores, dtype=np.float64).reshape(-1)

    def repeat(value: str | None) -> pa.Array:
        return pa.array([value] * frames, type=pa.string())

    timestamps = (_nullable(rows.timestamps, pa.float64()) if rows.timestamps is not None
                  else pa.nulls(frames, pa.float64()))
    return pa.Table.from_arrays([
        repeat(rows.video_id), repeat(rows.reference), repeat(rows.method),
        pa.array(np.asarray(rows.frame_indices).astype(np.int32)), timestamps,
        repeat(rows.exercise), repeat(rows.reference_exercise), repeat(rows.reference_sha),
        _nullable(rows.frame_scores), _nullable(rows.running_scores),
        pa.FixedSizeListArray.from_arrays(_nullable(flat), joints),
        pa.array([rows.scored_at] * frames, type=pa.timestamp("us", tz="UTC")),
    ], schema=schema)


def videos_table(infos: Sequence[VideoInfo]) -> pa.Table:
    """Rows of the ``videos`` table."""
    records = [asdict(info) for info in infos]
    return pa.Table.from_pylist(records, schema=VIDEOS_SCHEMA)


def _joint_matrix(table: pa.Table, column: str, joint_count: int) -> np.ndarray:
    values = table[column].combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return values.reshape(-1, joint_count)


def frames_from_table(video_id: str, layout: str, joint_count: int, table: pa.Table,
                      person: int) -> VideoFrames:
    """Arrays of one person from a video's rows; frames where the person is absent are NaN."""
    frame_indices = np.unique(table["frame_index"].to_numpy()).astype(np.int32)
    position = {int(index): slot for slot, index in enumerate(frame_indices)}
    frame_count = len(frame_indices)
    timestamps = np.full(frame_count, np.nan)
    all_slots = np.array([position[int(i)] for i in table["frame_index"].to_numpy()], dtype=int)
    timestamps[all_slots] = table["timestamp_s"].to_numpy(zero_copy_only=False)
    phase = np.full(frame_count, None, dtype=object)
    phase[all_slots] = np.asarray(table["phase"].to_pylist(), dtype=object)

    mine = table.filter(pc.equal(table["person"], person))
    slots = np.array([position[int(i)] for i in mine["frame_index"].to_numpy()], dtype=int)
    joints = np.full((frame_count, joint_count, 4), np.nan, dtype=np.float32)
    for channel, column in enumerate(("x", "y", "z", "visibility")):
        joints[slots, :, channel] = _joint_matrix(mine, column, joint_count)
    detected = np.zeros(frame_count, dtype=bool)
    detected[slots] = mine["detected"].to_numpy(zero_copy_only=False)
    interpolated = np.zeros((frame_count, joint_count), dtype=bool)
    interpolated[slots] = _joint_matrix(mine, "interpolated", joint_count)
    return VideoFrames(video_id, layout, person, joints, detected, interpolated,
                       timestamps, frame_indices, phase)


def check_phase_rows(rows: PhaseRows) -> None:
    if rows.scheme not in PHASE_SCHEMES:
        raise ValueError(f"video {rows.video_id}: unknown phase scheme {rows.scheme!r}; choose from "
                         f"{', '.join(PHASE_SCHEMES)}")
    for first, last, phase in rows.ranges:
        if not 0 <= first <= last:
            raise ValueError(f"video {rows.video_id}: frame range {first}-{last} is not a range of frames")
        if not phase:
            raise ValueError(f"video {rows.video_id}: frames {first}-{last} have no phase")


def phases_table(rows: PhaseRows) -> pa.Table:
    count = len(rows.ranges)
    firsts, lasts, phases = zip(*rows.ranges) if count else ((), (), ())
    return pa.Table.from_arrays([
        pa.array([rows.video_id] * count, pa.string()), pa.array([rows.scheme] * count, pa.string()),
        pa.array(firsts, pa.int32()), pa.array(lasts, pa.int32()), pa.array(phases, pa.string()),
        pa.array([rows.source] * count, pa.string()),
        pa.array([rows.imported_at] * count, pa.timestamp("us", tz="UTC"))], schema=PHASES_SCHEMA)


def check_repetition_rows(rows: RepetitionRows) -> None:
    if len(rows.frame_indices) != len(rows.times_s):
        raise ValueError(f"video {rows.video_id}: {len(rows.frame_indices)} frames but {len(rows.times_s)} times")


def repetitions_table(rows: RepetitionRows) -> pa.Table:
    """One video's counted repetitions, one row per repetition (numbered from 1)."""
    count = len(rows.frame_indices)
    return pa.Table.from_arrays([
        pa.array([rows.video_id] * count, pa.string()), pa.array(np.arange(1, count + 1, dtype=np.int32)),
        pa.array(np.asarray(rows.frame_indices, dtype=np.int32)), pa.array(np.asarray(rows.times_s, dtype=np.float64)),
        pa.array([rows.method] * count, pa.string()),
        pa.array([rows.counted_at] * count, pa.timestamp("us", tz="UTC"))], schema=REPETITIONS_SCHEMA)


def check_analysis_rows(rows: AnalysisRows) -> None:
    numbers = [item.get("repetition") for item in rows.repetitions]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"video {rows.video_id}: repetitions must be numbered 1, 2, ... in order, got {numbers}")
    if rows.count != len(rows.repetitions):
        raise ValueError(f"video {rows.video_id}: count {rows.count} but {len(rows.repetitions)} repetitions")


def analyses_table(rows: AnalysisRows) -> pa.Table:
    """One video's analysis, one row."""
    return pa.Table.from_pylist([{
        "video_id": rows.video_id, "bundle": rows.bundle, "exercise": rows.exercise, "rejected": rows.rejected,
        "confidence": rows.confidence, "repetition_count": rows.count, "mean_score": rows.mean_score,
        "cues": list(rows.cues), "document": rows.document, "analysed_at": rows.analysed_at}], schema=ANALYSES_SCHEMA)


def analysis_repetitions_table(rows: AnalysisRows) -> pa.Table:
    """One video's analysed repetitions, one row each."""
    columns = [field.name for field in ANALYSIS_REPETITIONS_SCHEMA
               if field.name not in ("video_id", "set_number", "analysed_at")]
    return pa.Table.from_pylist([{"video_id": rows.video_id, "set_number": item.get("set"),
                                  **{name: item.get(name) for name in columns}, "analysed_at": rows.analysed_at}
                                 for item in rows.repetitions], schema=ANALYSIS_REPETITIONS_SCHEMA)
