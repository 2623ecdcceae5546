"""Arrow schemas of the skeleton store's tables, with the schema version in their metadata."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from ..skeleton.vocabulary import STORED_PHASE_SCHEMES

SCHEMA_VERSION = 2  # 1: one Parquet file per bucket; 2: Delta Lake tables
VERSION_KEY = b"posegraph.schema_version"
LAYOUT_KEY = b"posegraph.layout"
STATUSES = ("ok", "rejected", "failed")

VIDEOS_SCHEMA = pa.schema(
    [
        pa.field("video_id", pa.string(), nullable=False),  # sha256 of the source file's bytes
        pa.field("layout", pa.string(), nullable=False),
        pa.field("source_path", pa.string()),
        pa.field("label", pa.string()),
        pa.field("split", pa.string()),
        pa.field("group", pa.string()),  # subject / worker id, for group-aware splits
        pa.field("view", pa.string()),  # camera view, where the source says (Penn Action: front, ...)
        pa.field("source_fps", pa.float64()),
        pa.field("sampled_fps", pa.float64()),
        pa.field("width", pa.int32()),
        pa.field("height", pa.int32()),
        pa.field("frame_count", pa.int32()),
        pa.field("duration_s", pa.float64()),
        pa.field("extractor", pa.string()),
        pa.field("extractor_version", pa.string()),
        pa.field("extractor_settings", pa.string()),  # JSON, part of the re-run cache key
        pa.field("detection_rate", pa.float32()),
        pa.field("mean_visibility", pa.float32()),
        pa.field("status", pa.string(), nullable=False),
        pa.field("reason", pa.string()),
        pa.field("repetitions", pa.int32()),  # known repetition count (synthetic data)
        pa.field("extracted_at", pa.timestamp("us", tz="UTC")),
        pa.field("also_at", pa.list_(pa.string())),  # other paths with the same bytes, seen in one run
        pa.field("labels_seen", pa.list_(pa.string())),  # the labels of all those copies
    ],
    metadata={VERSION_KEY: str(SCHEMA_VERSION).encode()},
)
METADATA_COLUMNS = ("source_path", "label", "split", "group", "also_at", "labels_seen")  # changed without re-extraction


def frames_schema(layout_name: str, num_joints: int) -> pa.Schema:
    """Schema of the frames table for one layout: per-joint values as fixed-size lists."""
    joint_values = pa.list_(pa.float32(), num_joints)
    return pa.schema(
        [
            pa.field("video_id", pa.string(), nullable=False),
            pa.field("frame_index", pa.int32(), nullable=False),
            pa.field("timestamp_s", pa.float64()),
            pa.field("person", pa.int16(), nullable=False),
            pa.field("x", joint_values),
            pa.field("y", joint_values),
            pa.field("z", joint_values),
            pa.field("visibility", joint_values),
            pa.field("detected", pa.bool_()),
            pa.field("interpolated", pa.list_(pa.bool_(), num_joints)),
            pa.field("phase", pa.string()),  # per-frame phase label (synthetic data)
        ],
        metadata={VERSION_KEY: str(SCHEMA_VERSION).encode(), LAYOUT_KEY: layout_name.encode()},
    )


FEATURE_KEYS = ("video_id", "frame_index")  # the key columns in the features files
RESERVED_COLUMNS = FEATURE_KEYS + ("layout", "bucket")  # keys plus the hive partition columns


def features_schema(feature_names: Sequence[str]) -> pa.Schema:
    """Schema of the features table: one row per (video, frame), one float32 column per feature.

    The caller names the columns (``posegraph.features.FEATURE_NAMES``), so storage does not
    depend on the feature code; no names gives the keys alone (the empty view of a store without
    features, when the caller did not name them). Values are nullable: a missing feature is null, not NaN, so SQL
    aggregates skip it. The layout is the hive partition (``layout=...`` folder), as for frames.
    """
    names = list(feature_names)
    clashes = sorted(set(names) & set(RESERVED_COLUMNS))
    if len(set(names)) != len(names) or clashes:
        raise ValueError(f"feature names must be unique and not {RESERVED_COLUMNS}; "
                         f"got {len(names)} names, {len(names) - len(set(names))} repeated, "
                         f"clashing with {clashes}")
    return pa.schema(
        [pa.field("video_id", pa.string(), nullable=False),
         pa.field("frame_index", pa.int32(), nullable=False)]
        + [pa.field(name, pa.float32()) for name in names],
        metadata={VERSION_KEY: str(SCHEMA_VERSION).encode()},
    )


SCORE_KEYS = ("video_id", "reference", "method", "frame_index")  # the sort order of the scores files


def scores_schema(layout_name: str, num_joints: int) -> pa.Schema:
    """Schema of the scores table for one layout: one row per (video, reference, method, frame).

    ``joint_scores`` holds the frame's 0-100 score of every joint of the layout, in the layout's
    joint order, as a fixed-size list like the frames table (the SQL view ``scores`` unnests it
    into one row per joint, with the joint's name). Null means "no score": a joint not seen, or a
    frame without anybody (whose ``frame_score`` is null too). ``reference`` is the reference's
    name, ``method`` the clustering that scored it (``phase`` or ``joint``); together with the
    video they key the rows, so scores against two references, or by two methods, live side by
    side, and scoring a video again against the same reference name and method replaces them.
    """
    return pa.schema(
        [
            pa.field("video_id", pa.string(), nullable=False),
            pa.field("reference", pa.string(), nullable=False),  # the reference's name (file stem)
            pa.field("method", pa.string(), nullable=False),  # phase | joint
            pa.field("frame_index", pa.int32(), nullable=False),
            pa.field("timestamp_s", pa.float64()),
            pa.field("exercise", pa.string()),  # the video's exercise, as the scorer was told or found
            pa.field("reference_exercise", pa.string()),  # the exercise whose good form was the yardstick
            pa.field("reference_sha", pa.string()),  # sha256 of the reference file: exactly which one
            pa.field("frame_score", pa.float32()),
            pa.field("running_score", pa.float32()),
            pa.field("joint_scores", pa.list_(pa.float32(), num_joints)),
            pa.field("scored_at", pa.timestamp("us", tz="UTC")),
        ],
        metadata={VERSION_KEY: str(SCHEMA_VERSION).encode(), LAYOUT_KEY: layout_name.encode()},
    )


REPETITIONS_SCHEMA = pa.schema([
    pa.field("video_id", pa.string(), nullable=False),
    pa.field("repetition", pa.int32(), nullable=False),  # 1, 2, ... in order
    pa.field("frame_index", pa.int32()),  # the video's frame of the repetition's turning point
    pa.field("time_s", pa.float64()),
    pa.field("method", pa.string()),  # the counter, e.g. pca-hysteresis/1
    pa.field("counted_at", pa.timestamp("us", tz="UTC")),
])


ANALYSES_SCHEMA = pa.schema([  # one row per analysed video (posegraph analyse --store)
    pa.field("video_id", pa.string(), nullable=False),
    pa.field("bundle", pa.string()),  # the analysis bundle's folder
    pa.field("exercise", pa.string()),  # the answer: a class, or "none of these"
    pa.field("rejected", pa.bool_()),
    pa.field("confidence", pa.float32()),  # calibrated probability of the top class
    pa.field("repetition_count", pa.int32()),
    pa.field("mean_score", pa.float32()),  # form, 0-100 (null where not judged)
    pa.field("cues", pa.list_(pa.string())),
    pa.field("document", pa.string()),  # the whole analysis (JSON, schema posegraph-analysis/1)
    pa.field("analysed_at", pa.timestamp("us", tz="UTC")),
])


ANALYSIS_REPETITIONS_SCHEMA = pa.schema([  # one row per analysed repetition
    pa.field("video_id", pa.string(), nullable=False),
    pa.field("repetition", pa.int32(), nullable=False),
    pa.field("set_number", pa.int32()),  # 1, 2, ... ("set" is an SQL keyword)
    pa.field("start_s", pa.float64()),
    pa.field("turn_s", pa.float64()),
    pa.field("end_s", pa.float64()),
    pa.field("score", pa.float32()),  # form, 0-100
    pa.field("depth", pa.float32()),  # travel against good executions' (1.0 = as far)
    pa.field("there_s", pa.float32()),
    pa.field("back_s", pa.float32()),
    pa.field("worst_joint", pa.string()),
    pa.field("analysed_at", pa.timestamp("us", tz="UTC")),
])


# Hand-made phase labels (not derived: they name source frames, so they survive re-extraction).
PHASE_SCHEMES = STORED_PHASE_SCHEMES  # repetitions: phase "repetition" per range


PHASES_SCHEMA = pa.schema([
    pa.field("video_id", pa.string(), nullable=False),
    pa.field("scheme", pa.string(), nullable=False),
    pa.field("first_frame", pa.int32(), nullable=False),  # source frame_index, inclusive
    pa.field("last_frame", pa.int32(), nullable=False),
    pa.field("phase", pa.string(), nullable=False),
    pa.field("source", pa.string()),  # where the labels came from (a CSV file's name)
    pa.field("imported_at", pa.timestamp("us", tz="UTC")),
])


# What :meth:`SkeletonStore.read_features` returns for a video without features.
FEATURE_KEY_COLUMNS = pa.schema([pa.field("video_id", pa.string(), nullable=False),
                                 pa.field("layout", pa.string(), nullable=False),
                                 pa.field("frame_index", pa.int32(), nullable=False)])


# What :meth:`SkeletonStore.read_repetitions` returns for a video without counted repetitions.
REPETITION_KEY_COLUMNS = pa.schema([pa.field("video_id", pa.string(), nullable=False),
                                    pa.field("layout", pa.string(), nullable=False),
                                    pa.field("repetition", pa.int32(), nullable=False)])


# What :meth:`SkeletonStore.read_scores` returns for a video without scores.
SCORE_KEY_COLUMNS = pa.schema([pa.field("video_id", pa.string(), nullable=False),
                               pa.field("layout", pa.string(), nullable=False),
                               pa.field("reference", pa.string(), nullable=False),
                               pa.field("method", pa.string(), nullable=False),
                               pa.field("frame_index", pa.int32(), nullable=False)])

