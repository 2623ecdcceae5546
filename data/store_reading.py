"""Reading the skeleton store (:class:`StoreReading`, a part of :class:`.store.SkeletonStore`):
one video's rows of a table come from the files of its bucket that may hold it, and derived
rows only for layouts with a committed ``videos`` row (see :mod:`.store`)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..skeleton import get_layout
from .arrow import concat_tables, conform, frames_from_table, may_hold, read_data_file, with_layout
from .errors import VideoNotFoundError
from .location import StoreLocation
from .records import VideoFrames
from .schema import FEATURE_KEY_COLUMNS, PHASES_SCHEMA, REPETITION_KEY_COLUMNS, SCORE_KEY_COLUMNS, VIDEOS_SCHEMA, \
    frames_schema


class StoreReading:
    """The reads of :class:`.store.SkeletonStore`, which provides ``location``, ``root``,
    ``files(table, **partition)`` and ``bucket_of(video_id)``."""

    location: StoreLocation
    root: Path | str

    def videos(self) -> pa.Table:
        """The ``videos`` table (every file of the current version, schemas unified)."""
        tables = [read_data_file(self.location, f.path) for f in self.files("videos")]
        return concat_tables(tables, VIDEOS_SCHEMA).sort_by([("video_id", "ascending"), ("layout", "ascending")])

    def _rows_of(self, table: str, video_id: str, columns: list[str] | None = None, **partition: str) -> list[pa.Table]:
        """One video's rows of ``table`` from the files of its bucket that may hold it."""
        files = [f for f in self.files(table, bucket=self.bucket_of(video_id), **partition) if may_hold(f, video_id)]
        return [read_data_file(self.location, f.path, video_id, columns=columns) for f in files]

    def video_rows(self, video_id: str) -> list[dict]:
        """The ``videos`` rows of one video (one per layout it was extracted into)."""
        return concat_tables(self._rows_of("videos", video_id), VIDEOS_SCHEMA).to_pylist()

    def read_video(self, video_id: str, person: int = 0, layout: str | None = None) -> VideoFrames:
        """One person's frames of one video: ``joints (T, V, 4)`` plus masks.

        Reads only the files of the video's bucket. With the video stored in several layouts, pass ``layout``.
        """
        rows = self.video_rows(video_id)
        if layout is not None:
            rows = [row for row in rows if row["layout"] == layout]
        if not rows:
            where = f" in layout {layout!r}" if layout else ""
            raise VideoNotFoundError(f"video {video_id!r} is not in the store at {self.root}{where}")
        if len(rows) > 1:
            raise ValueError(
                f"video {video_id!r} is stored in layouts {sorted(r['layout'] for r in rows)}; "
                f"pass layout= to pick one"
            )
        layout = rows[0]["layout"]
        spec = get_layout(layout)
        tables = self._rows_of("frames", video_id, layout=layout)
        table = pa.concat_tables(tables, promote_options="permissive") if tables \
            else frames_schema(layout, spec.num_joints).empty_table()
        if "extracted_at" in table.column_names:  # only the frames of the committed row
            table = table.filter(pc.equal(table["extracted_at"], pa.scalar(rows[0]["extracted_at"],
                                                                             table.schema.field("extracted_at").type)))
        return frames_from_table(video_id, layout, spec.num_joints, table, person)

    def read_features(self, video_id: str, layout: str | None = None) -> pa.Table:
        """One video's features rows: ``video_id, layout, frame_index`` then the feature columns.

        Only layouts with a ``videos`` row count (the commit record). No features built yet
        gives an empty table of the three key columns. Missing features are null.
        """
        return self._read_derived(video_id, layout, "features", FEATURE_KEY_COLUMNS)

    def read_scores(self, video_id: str, layout: str | None = None) -> pa.Table:
        """One video's scores rows (one per reference, method and frame), with ``layout`` second.

        Only layouts with a ``videos`` row count. Nothing scored gives an empty table of the
        key columns. ``joint_scores`` are fixed-size lists in the layout's joint order.
        """
        table = self._read_derived(video_id, layout, "scores", SCORE_KEY_COLUMNS)
        if table.num_rows == 0:
            return table
        joints = get_layout(table["layout"][0].as_py()).num_joints
        return conform(table, pa.schema([f if f.name != "joint_scores" else
                                          pa.field("joint_scores", pa.list_(pa.float32(), joints))
                                          for f in table.schema]))

    def _read_derived(self, video_id: str, layout: str | None, table_name: str, empty: pa.Schema) -> pa.Table:
        """A derived table's rows of one video (features, scores), for its committed layouts."""
        rows = [row for row in self.video_rows(video_id) if layout in (None, row["layout"])]
        if not rows:
            where = f" in layout {layout!r}" if layout else ""
            raise VideoNotFoundError(f"video {video_id!r} is not in the store at {self.root}{where}")
        tables = []
        for found in sorted(row["layout"] for row in rows):
            for table in self._rows_of(table_name, video_id, layout=found):
                tables.append(with_layout(table, found))
        if not tables:
            return empty.empty_table()
        table = pa.concat_tables(tables, promote_options="permissive")
        return table.sort_by([(name, "ascending") for name in empty.names if name != "video_id"])

    def read_repetitions(self, video_id: str, layout: str | None = None) -> pa.Table:
        """One video's stored repetitions (``video_id, layout, repetition, frame_index, time_s, ...``)."""
        return self._read_derived(video_id, layout, "repetitions", REPETITION_KEY_COLUMNS)

    def read_phases(self, video_id: str, scheme: str | None = None) -> pa.Table:
        """One video's phase labels (all schemes, or ``scheme``'s), ordered by scheme and first frame."""
        tables = self._rows_of("phases", video_id)
        table = concat_tables(tables, PHASES_SCHEMA).select(PHASES_SCHEMA.names) if tables else PHASES_SCHEMA.empty_table()
        if scheme is not None:
            table = table.filter(pc.equal(table["scheme"], scheme))
        return table.sort_by([("scheme", "ascending"), ("first_frame", "ascending")])
