"""Read-only SQL over the skeleton store with DuckDB, through ready views.

Views: ``videos`` (one row per video and layout), ``frames`` (one row per video, frame and
person; per-joint values as ``FLOAT[]`` lists, plus the ``layout``), ``joints`` (long form:
one row per video, frame, person and joint, with the joint's name) and ``features`` (one row
per video, layout and frame: the 83 biomechanical features of person 0, null where missing)
and ``scores`` (form scores, long form: one row per video, reference, method, frame and joint,
with the joint's name; ``score`` null where the joint was not seen). ``frames``, ``features``
and ``scores`` only show videos that have a ``videos`` row (the store's commit record);
``features`` and ``scores`` are empty, with their columns, until ``posegraph features build`` /
``posegraph score`` wrote some.

Read-only is enforced twice: only SELECT statements run, and DuckDB itself is locked to
reading files inside the store (``enable_external_access=false`` with the store as the only
allowed directory, configuration locked), so COPY, ATTACH, INSTALL, SET and reads of other
files fail with :class:`ReadOnlyQueryError`.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from ..skeleton import LAYOUTS
from .errors import DamagedFileError, ReadOnlyQueryError, StoreError
from .schema import (ANALYSES_SCHEMA, ANALYSIS_REPETITIONS_SCHEMA, PHASES_SCHEMA, REPETITIONS_SCHEMA, VIDEOS_SCHEMA,
                     features_schema)
from .delta import sql_string
from .arrow import with_layout
from .store import SkeletonStore

VIEWS = ("videos", "frames", "joints", "features", "scores", "repetitions", "phases", "analyses",
         "analysis_repetitions", "analysis_sets")
_LIST_COLUMNS = ("x", "y", "z", "visibility")
_EMPTY_FRAMES = """
    SELECT NULL::VARCHAR AS video_id, NULL::INTEGER AS frame_index, NULL::DOUBLE AS timestamp_s,
           NULL::SMALLINT AS person, NULL::FLOAT[] AS x, NULL::FLOAT[] AS y, NULL::FLOAT[] AS z,
           NULL::FLOAT[] AS visibility, NULL::BOOLEAN AS detected,
           NULL::BOOLEAN[] AS interpolated, NULL::VARCHAR AS phase, NULL::TIMESTAMPTZ AS extracted_at,
           NULL::VARCHAR AS layout
    WHERE false"""
_EMPTY_SCORES = """
    SELECT NULL::VARCHAR AS video_id, NULL::VARCHAR AS reference, NULL::VARCHAR AS method,
           NULL::INTEGER AS frame_index, NULL::DOUBLE AS timestamp_s, NULL::VARCHAR AS exercise,
           NULL::VARCHAR AS reference_exercise, NULL::VARCHAR AS reference_sha,
           NULL::FLOAT AS frame_score, NULL::FLOAT AS running_score, NULL::FLOAT[] AS joint_scores,
           NULL::TIMESTAMPTZ AS scored_at, NULL::VARCHAR AS layout
    WHERE false"""


def _joint_names_table() -> pa.Table:
    rows = [
        {"layout": layout.name, "joint_index": index, "joint_name": joint_name}
        for layout in LAYOUTS.values()
        for index, joint_name in enumerate(layout.joint_names)
    ]
    return pa.Table.from_pylist(rows)


def _files(store: SkeletonStore, table: str) -> list[str]:
    """The data files of ``table``'s current version, as DuckDB names them (paths, or object-store URIs)."""
    return [store.location.reader_path(data_file.path) for data_file in store.files(table)]


def _store_prefix(store: SkeletonStore) -> str:
    """What the name of every file of the store starts with, for DuckDB (its allowed directory)."""
    location = store.location
    if location.is_local or location.scheme == "file":
        return str(Path(str(location.base)).resolve())
    return location.uri


def _object_store_credentials(connection: duckdb.DuckDBPyConnection, store: SkeletonStore) -> None:
    """Give DuckDB the S3 credentials of the environment (its httpfs extension does not read them itself)."""
    if store.location.scheme not in ("s3", "s3a"):
        return
    import os

    settings = {"KEY_ID": "AWS_ACCESS_KEY_ID", "SECRET": "AWS_SECRET_ACCESS_KEY", "SESSION_TOKEN": "AWS_SESSION_TOKEN",
                "REGION": "AWS_REGION", "ENDPOINT": "AWS_ENDPOINT_URL"}
    given = {key: os.environ[name] for key, name in settings.items() if os.environ.get(name)}
    if "ENDPOINT" in given:  # DuckDB takes a host, not a URL
        endpoint = given["ENDPOINT"]
        given["USE_SSL"] = "false" if endpoint.startswith("http://") else "true"
        given["ENDPOINT"], given["URL_STYLE"] = endpoint.split("://", 1)[-1].rstrip("/"), "path"
    options = "".join(f", {key} {value if key == 'USE_SSL' else sql_string(value)}" for key, value in given.items())
    try:
        connection.execute(f"CREATE SECRET posegraph_store (TYPE s3{options})")
    except duckdb.Error as error:
        raise StoreError(f"SQL over {store.root} needs DuckDB's httpfs extension ({error}); install it with "
                         f"`python -c \"import duckdb; duckdb.install_extension('httpfs')\"` where the "
                         f"internet is reachable.") from None


def _read_files(files: list[str], replace: str = "", partitions: Sequence[str] = ("layout", "bucket")) -> str:
    """A SELECT over exactly these data files (the table's current version), partition columns
    taken from their ``name=value`` folders, ``bucket`` left out."""
    listed = ", ".join(sql_string(str(path)) for path in files)
    return (f"SELECT * EXCLUDE (bucket){f' REPLACE ({replace})' if replace else ''} FROM read_parquet([{listed}], "
            "hive_partitioning = true, hive_types = {"
            + ", ".join(f"'{name}': VARCHAR" for name in partitions) + "}, union_by_name = true)")


def _create_scores_view(connection: duckdb.DuckDBPyConnection, store: SkeletonStore) -> None:
    """``scores``: one row per video, reference, method, frame and joint, committed videos only.

    The files hold one row per frame with the joints' scores as a list; the view unnests them
    with the joints' names.
    """
    files = _files(store, "scores")
    raw = _read_files(files, "joint_scores::FLOAT[] AS joint_scores") if files else _EMPTY_SCORES
    connection.execute(f"CREATE VIEW _scores_raw AS {raw}")
    connection.execute(
        """CREATE VIEW scores AS
           SELECT s.video_id, s.layout, s.reference, s.method, s.frame_index, s.timestamp_s,
                  n.joint_index, n.joint_name AS joint, s.joint_scores[n.joint_index + 1] AS score,
                  s.frame_score, s.running_score, s.exercise, s.reference_exercise,
                  s.reference_sha, s.scored_at
           FROM (SELECT r.* FROM _scores_raw AS r SEMI JOIN videos AS v
                 ON r.video_id = v.video_id AND r.layout = v.layout) AS s
           JOIN joint_names AS n ON n.layout = s.layout"""
    )


def _create_derived_view(connection: duckdb.DuckDBPyConnection, store: SkeletonStore, name: str,
                         schema: pa.Schema) -> None:
    """``name``: a derived table's rows (``video_id, layout`` first) of committed videos only:
    ``repetitions`` (``posegraph count --save``), ``analyses`` and ``analysis_repetitions``
    (``posegraph analyse-store``)."""
    files = _files(store, name)
    if files:
        raw = f"SELECT video_id, layout, * EXCLUDE (video_id, layout) FROM ({_read_files(files)})"
    else:
        connection.register(f"_empty_{name}", with_layout(schema.empty_table(), ""))
        raw = f"SELECT * FROM _empty_{name}"
    connection.execute(f"CREATE VIEW _{name}_raw AS {raw}")
    connection.execute(
        f"CREATE VIEW {name} AS SELECT r.* FROM _{name}_raw AS r SEMI JOIN videos AS v "
        "ON r.video_id = v.video_id AND r.layout = v.layout")


def _create_analysis_views(connection: duckdb.DuckDBPyConnection, store: SkeletonStore) -> None:
    """``analyses`` (one row per video), ``analysis_repetitions`` (per repetition) and ``analysis_sets``
    (per set, from the repetitions)."""
    _create_derived_view(connection, store, "analyses", ANALYSES_SCHEMA)
    _create_derived_view(connection, store, "analysis_repetitions", ANALYSIS_REPETITIONS_SCHEMA)
    connection.execute(
        """CREATE VIEW analysis_sets AS
           SELECT video_id, layout, set_number, count(*) AS repetition_count, min(start_s) AS start_s,
                  max(end_s) AS end_s, avg(score) AS mean_score, avg(depth) AS mean_depth,
                  avg(there_s + back_s) AS mean_duration_s
           FROM analysis_repetitions GROUP BY video_id, layout, set_number""")


def _create_phases_view(connection: duckdb.DuckDBPyConnection, store: SkeletonStore) -> None:
    """``phases``: hand-made phase labels (``posegraph import phases``), one row per labelled frame range."""
    files = _files(store, "phases")
    if files:
        raw = _read_files(files, partitions=("bucket",))
    else:
        connection.register("_empty_phases", PHASES_SCHEMA.empty_table())
        raw = "SELECT * FROM _empty_phases"
    connection.execute(f"CREATE VIEW _phases_raw AS {raw}")
    connection.execute("CREATE VIEW phases AS SELECT p.* FROM _phases_raw AS p SEMI JOIN videos AS v "
                       "ON p.video_id = v.video_id")


def _create_joint_macros(connection: duckdb.DuckDBPyConnection, store: SkeletonStore) -> None:
    """``joint(values, layout, name)``: one joint's value from a per-joint list of ``frames``
    (``joint(f.y, f.layout, 'left_knee')``); when the store holds one layout, also ``joint(values, name)``;
    ``joint_at(values, joint_index)`` by the 0-based ``joint_index`` of the other views."""
    positions = ", ".join(f"{sql_string(layout.name + ':' + name)}: {index + 1}"
                          for layout in LAYOUTS.values() for index, name in enumerate(layout.joint_names))
    by_layout = (f"(joint_values, joint_layout, joint_name) AS "
                 f"joint_values[(MAP {{{positions}}})[joint_layout || ':' || joint_name]]")
    layouts = store.layouts()
    if len(layouts) == 1:
        single = ", ".join(f"{sql_string(name)}: {index + 1}"
                           for index, name in enumerate(LAYOUTS[layouts[0]].joint_names))
        by_layout += f", (joint_values, joint_name) AS joint_values[(MAP {{{single}}})[joint_name]]"
    connection.execute(f"CREATE MACRO joint{by_layout}")
    # Every number in the views counts from 0 (frame_index, joint_index, first_frame, person);
    # DuckDB's lists count from 1, so joint_at reads a list by the views' joint_index.
    connection.execute("CREATE MACRO joint_at(joint_values, joint_index) AS joint_values[joint_index + 1]")


def _create_features_view(connection: duckdb.DuckDBPyConnection, store: SkeletonStore,
                           feature_columns: Sequence[str]) -> None:
    """``features``: every layout's feature rows, keys first, for committed videos only; a store
    without feature rows shows the keys and ``feature_columns`` (storage does not know the features:
    the caller names them, the CLI this release's ``posegraph.features.FEATURE_NAMES``)."""
    files = _files(store, "features")
    if files:
        raw = ("SELECT video_id, layout, frame_index, * EXCLUDE (video_id, layout, frame_index) "
               f"FROM ({_read_files(files)})")
    else:
        empty = with_layout(features_schema(list(feature_columns)).empty_table(), "")
        connection.register("_empty_features", empty)
        raw = "SELECT * FROM _empty_features"
    connection.execute(f"CREATE VIEW _features_raw AS {raw}")
    connection.execute(
        "CREATE VIEW features AS SELECT f.* FROM _features_raw AS f SEMI JOIN videos AS v "
        "ON f.video_id = v.video_id AND f.layout = v.layout"
    )


DEFAULT_TIMEOUT_S = 120.0  # a query running longer is interrupted (--timeout)
DEFAULT_MEMORY_LIMIT = "4GB"  # DuckDB's memory limit per query (--memory-limit)


def connect(store: SkeletonStore, memory_limit: str = DEFAULT_MEMORY_LIMIT,
            temp_directory: str | None = None, feature_columns: Sequence[str] = ()) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the store's views, locked to reading the store.

    Each view reads exactly the data files of its table's current Delta version. DuckDB spills to
    ``temp_directory`` (give a private, empty one: DuckDB lets queries read its temporary folder,
    by default ``./.tmp`` wherever the command runs).
    """
    root = _store_prefix(store)
    connection = duckdb.connect(":memory:")
    connection.execute("SET threads TO 2")
    try:
        connection.execute(f"SET memory_limit = {sql_string(memory_limit)}")
    except duckdb.Error as error:
        connection.close()
        raise StoreError(f"--memory-limit {memory_limit!r}: {str(error).splitlines()[0]} (e.g. 2GB, 500MB)") from None
    connection.execute(f"SET temp_directory = {sql_string(temp_directory or tempfile.mkdtemp(prefix='posegraph-duckdb-'))}")
    _object_store_credentials(connection, store)
    video_files = _files(store, "videos")
    if video_files:
        connection.execute(f"CREATE VIEW _videos_raw AS {_read_files(video_files, partitions=('bucket',))}")
    else:
        connection.register("_empty_videos", VIDEOS_SCHEMA.empty_table())
        connection.execute("CREATE VIEW _videos_raw AS SELECT * FROM _empty_videos")
    # "group" is a reserved word in SQL: the same column as subject
    connection.execute('CREATE VIEW videos AS SELECT *, "group" AS subject FROM _videos_raw')
    frame_files = _files(store, "frames")
    # NaN (nobody seen) becomes NULL, so that avg() and friends skip it instead of returning NaN
    casts = ", ".join(f"list_transform({column}::FLOAT[], lambda value: CASE WHEN isnan(value) THEN NULL ELSE value END) "
                      f"AS {column}" for column in _LIST_COLUMNS)
    raw_frames = _read_files(frame_files, f"{casts}, interpolated::BOOLEAN[] AS interpolated") \
        if frame_files else _EMPTY_FRAMES
    connection.execute(f"CREATE VIEW _frames_raw AS {raw_frames}")
    connection.execute(  # frames of the committed videos row only (same extracted_at)
        "CREATE VIEW frames AS SELECT f.* EXCLUDE (extracted_at) FROM _frames_raw AS f SEMI JOIN videos AS v "
        "ON f.video_id = v.video_id AND f.layout = v.layout AND f.extracted_at = v.extracted_at"
    )
    connection.register("_joint_names_arrow", _joint_names_table())
    connection.execute("CREATE TABLE joint_names AS SELECT * FROM _joint_names_arrow")
    connection.unregister("_joint_names_arrow")
    _create_joint_macros(connection, store)
    connection.execute(
        """CREATE VIEW joints AS
           SELECT f.video_id, f.layout, f.frame_index, f.timestamp_s, f.person,
                  n.joint_index, n.joint_name,
                  f.x[n.joint_index + 1] AS x, f.y[n.joint_index + 1] AS y,
                  f.z[n.joint_index + 1] AS z, f.visibility[n.joint_index + 1] AS visibility,
                  f.interpolated[n.joint_index + 1] AS interpolated, f.detected
           FROM frames AS f JOIN joint_names AS n ON n.layout = f.layout"""
    )
    _create_features_view(connection, store, feature_columns)
    _create_scores_view(connection, store)
    _create_derived_view(connection, store, "repetitions", REPETITIONS_SCHEMA)
    _create_phases_view(connection, store)
    _create_analysis_views(connection, store)
    connection.execute(f"SET allowed_directories = [{sql_string(root + '/')}]")
    connection.execute("SET enable_external_access = false")
    connection.execute("SET lock_configuration = true")
    return connection


def _check_read_only(connection: duckdb.DuckDBPyConnection, sql: str) -> None:
    try:
        statements = connection.extract_statements(sql)
    except duckdb.Error as error:
        raise StoreError(f"the query does not parse: {error}") from None
    if not statements:
        raise StoreError("the query is empty")
    for statement in statements:
        if statement.type != duckdb.StatementType.SELECT:
            kind = str(statement.type).rsplit(".", 1)[-1]
            raise ReadOnlyQueryError(
                f"only read-only SELECT queries run over the store; this query contains a statement of type "
                f"{kind}. To save results use --format csv|json|parquet --out FILE."
            )
    if len(statements) > 1:
        raise ReadOnlyQueryError(f"one statement per query; this one has {len(statements)}")


def _connected(store: SkeletonStore, memory_limit: str = DEFAULT_MEMORY_LIMIT,
               temp_directory: str | None = None, feature_columns: Sequence[str] = ()) -> duckdb.DuckDBPyConnection:
    """:func:`connect`, with a damaged data file (DuckDB reads footers as views are made) said plainly."""
    try:
        return connect(store, memory_limit, temp_directory, feature_columns)
    except duckdb.Error as error:
        raise _store_error(error, store, "opening the store's views failed") from None


def _store_error(error: duckdb.Error, store: SkeletonStore, what: str) -> StoreError:
    """One line for a person: the damaged file and the repair command, or what failed."""
    damaged = _damaged_file(str(error), store)
    if damaged:
        return DamagedFileError(
            f"the store file {damaged} is damaged ({str(error).splitlines()[0][:160]}). Run "
            f"`posegraph store check {store.root} --repair` to take it out of the store and list the "
            f"videos to extract again.")
    return StoreError(f"{what}: {error}")


def run_query(store: SkeletonStore, sql: str, timeout_s: float | None = DEFAULT_TIMEOUT_S,
              memory_limit: str = DEFAULT_MEMORY_LIMIT, feature_columns: Sequence[str] = ()) -> pa.Table:
    """Run one read-only SELECT over the store's views and return the result.

    The query is interrupted after ``timeout_s`` seconds (None: no limit) and may use
    ``memory_limit`` of memory (DuckDB's syntax: 4GB, 500MB); either ends it with a clear error.
    ``feature_columns``: the empty ``features`` view's columns (see :func:`connect`).
    """
    temp_directory = tempfile.mkdtemp(prefix="posegraph-duckdb-")
    try:
        connection = _connected(store, memory_limit, temp_directory, feature_columns)
        timer = threading.Timer(timeout_s, connection.interrupt) if timeout_s else None
        try:
            _check_read_only(connection, sql)
            if timer is not None:
                timer.start()
            try:
                return connection.sql(sql).to_arrow_table()
            except duckdb.PermissionException as error:
                raise ReadOnlyQueryError(
                    f"the query may only read the store at {store.root}: {error}"
                ) from None
            except duckdb.InterruptException:
                raise StoreError(f"the query ran past its time limit of {timeout_s:g} s and was stopped; "
                                 f"narrow it down, or raise the limit with --timeout SECONDS") from None
            except duckdb.OutOfMemoryException as error:
                raise StoreError(f"the query needed more than its memory limit of {memory_limit} and was stopped "
                                 f"({str(error).splitlines()[0][:120]}); narrow it down, or raise the limit "
                                 f"with --memory-limit") from None
            except duckdb.Error as error:
                raise _store_error(error, store, "the query failed") from None
        finally:
            if timer is not None:
                timer.cancel()
            connection.close()
    finally:
        shutil.rmtree(temp_directory, ignore_errors=True)


def _damaged_file(message: str, store: SkeletonStore) -> str | None:
    """The store data file a DuckDB error names, if it names one (a truncated or overwritten file)."""
    root = _store_prefix(store)
    for word in message.replace('"', " ").replace("'", " ").split():
        if word.startswith(root) and word.endswith(".parquet"):
            return word
    return None


def describe_views(store: SkeletonStore, feature_columns: Sequence[str] = ()) -> dict[str, list[tuple[str, str]]]:
    """Each view's columns as ``(name, type)`` (``feature_columns``: see :func:`connect`)."""
    temp_directory = tempfile.mkdtemp(prefix="posegraph-duckdb-")
    connection = _connected(store, temp_directory=temp_directory, feature_columns=feature_columns)
    try:
        return {
            view: [(row[0], row[1]) for row in connection.execute(f"DESCRIBE {view}").fetchall()]
            for view in VIEWS
        }
    except duckdb.Error as error:
        raise _store_error(error, store, "describing the views failed") from None
    finally:
        connection.close()
        shutil.rmtree(temp_directory, ignore_errors=True)


# What the columns people ask about mean, and their units (``posegraph schema`` prints them).
_POSITION = ("per joint, in the layout's joint order: joint(list, 'left_knee') or joint_at(list, joint_index) "
             "reads one (SQL list positions count from 1, joint_index from 0 like every index here); NULL where not seen")
COLUMN_NOTES = {
    "video_id": "sha256 of the source file's bytes",
    "layout": "skeleton layout (joint set): blazepose33, coco17, openpose18, penn13",
    "source_path": "absolute path of the source video when it was extracted",
    "group": "subject or worker id (same as subject)",
    "subject": "subject or worker id (same as group, which is a reserved word in SQL)",
    "source_fps": "frames per second of the source video",
    "sampled_fps": "frames per second that were extracted (frames skipped in between)",
    "width": "source frame width, pixels", "height": "source frame height, pixels",
    "duration_s": "seconds", "detection_rate": "share of sampled frames with a person (0-1)",
    "mean_visibility": "mean joint visibility where a person was seen (0-1)",
    "status": "ok | rejected (too little of a person) | failed (see reason)",
    "also_at": "other paths with the same bytes, seen in one extraction run",
    "labels_seen": "labels of every copy of these bytes",
    "frame_index": "the frame's number in the source video (0-based)",
    "timestamp_s": "seconds from the start of the video",
    "person": "0 = the most visible person",
    "x": f"horizontal position as a fraction of the frame width (0 left, 1 right), {_POSITION}",
    "y": f"vertical position as a fraction of the frame height (0 top, 1 bottom: y points down), {_POSITION}",
    "z": f"depth relative to the hips, about the scale of x (smaller = nearer the camera), {_POSITION}",
    "visibility": f"the estimator's confidence that the joint is visible (0-1), {_POSITION}",
    "interpolated": "per joint: filled in from neighbouring frames (a short gap), not seen",
    "detected": "a person was found in this frame",
    "joint_index": "0-based joint number in the layout (posegraph layouts --joints); joint_at(list, joint_index) reads a frames list",
    "joint_name": "the joint's name, e.g. left_knee (joint(list, 'left_knee') picks it from a frames list)",
    "score": "0-100, how close the joint is to good form; NULL where not scored",
    "time_s": "seconds from the start of the video",
    "first_frame": "source frame_index where the labelled range starts (inclusive)",
    "exercise": "the analysis's answer: a class of the bundle's classifier, or 'none of these'",
    "confidence": "calibrated probability of the top class (0-1)",
    "repetition_count": "repetitions counted (in the video, or in the set)",
    "mean_score": "form, 0-100 against the recognised exercise's reference; NULL where not judged",
    "set_number": "the set (1, 2, ...) the repetition belongs to",
    "depth": "the repetition's travel against good executions' (1.0 = as far)",
    "there_s": "seconds from the repetition's start to its turning point",
    "back_s": "seconds from the turning point to the repetition's end",
    "document": "the whole analysis as JSON (schema posegraph-analysis/1; json_extract works on it)",
    "last_frame": "source frame_index where the labelled range ends (inclusive)",
}


def column_note(view: str, column: str) -> str:
    """What ``view.column`` holds and its unit ('' when there is nothing to add to the name)."""
    if view == "joints" and column in ("x", "y", "z", "visibility"):
        return COLUMN_NOTES[column].split(", per joint")[0]
    return COLUMN_NOTES.get(column, "")
