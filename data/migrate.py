"""Copy a store of schema version 1 (one Parquet file per table and bucket) into the current format."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import NotAStoreError, StoreError
from .location import is_uri
from .arrow import variable_lists, with_partitions
from .marker import MARKER_NAME, STORE_FORMAT
from .store import SkeletonStore

V1_PART_NAME = "part-0.parquet"


def _v1_bucket_digits(old: Path) -> int:
    marker = old / MARKER_NAME
    try:
        content = json.loads(marker.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise NotAStoreError(f"{old} is not a posegraph skeleton store ({marker}: {error})") from None
    if content.get("format") != STORE_FORMAT or content.get("schema_version") != 1:
        raise StoreError(f"{old} is not a store of schema version 1 (its marker says "
                         f"{content.get('schema_version')!r}); nothing to migrate")
    return int(content["bucket_digits"])


def migrate(old: str | Path, new: str | Path, progress: Callable[[str], None] = print) -> dict[str, int]:
    """Copy every committed video of the version-1 store ``old`` into a new store at ``new``.

    ``old`` is only read. Returns the rows copied per table.
    """
    if is_uri(str(old)) or is_uri(str(new)):
        raise StoreError("`posegraph store migrate` reads and writes local folders; migrate on local disk, then "
                         "copy the new store's folder to object storage (e.g. `aws s3 sync NEW s3://…`).")
    old, new = Path(old), Path(new)
    digits = _v1_bucket_digits(old)
    if new.exists() and any(new.iterdir()):
        raise StoreError(f"{new} is not empty: migrate into a new folder")
    store = SkeletonStore(new, bucket_digits=digits)
    copied = {"videos": 0, "frames": 0, "features": 0, "scores": 0}
    writer = {"posegraph.operation": f"migrate from {old.resolve()}", "posegraph.writer": store.writer}
    buckets = sorted(path.name.split("=", 1)[1] for path in (old / "videos").glob("bucket=*")
                     if (path / V1_PART_NAME).exists())
    with store.lock():
        for number, bucket in enumerate(buckets, 1):
            # partitioning=None: the file's own columns only (pyarrow 24 adds the folders' hive keys by itself)
            videos = pq.read_table(old / "videos" / f"bucket={bucket}" / V1_PART_NAME, partitioning=None)
            for table_name in ("frames", "features", "scores"):
                for layout_folder in sorted((old / table_name).glob("layout=*")):
                    path = layout_folder / f"bucket={bucket}" / V1_PART_NAME
                    if not path.exists():
                        continue
                    layout = layout_folder.name.split("=", 1)[1]
                    committed = videos.filter(pc.equal(videos["layout"], layout))
                    rows = pq.read_table(path, partitioning=None)
                    rows = rows.filter(pc.is_in(rows["video_id"], committed["video_id"]))
                    if table_name == "frames":  # frames carry their videos row's extracted_at now
                        stamps = dict(zip(committed["video_id"].to_pylist(), committed["extracted_at"].to_pylist()))
                        rows = rows.append_column(pa.field("extracted_at", pa.timestamp("us", tz="UTC")), pa.array(
                            [stamps[video] for video in rows["video_id"].to_pylist()], pa.timestamp("us", tz="UTC")))
                    rows = with_partitions(variable_lists(rows.replace_schema_metadata(None)),
                                            layout=layout, bucket=bucket)
                    if rows.num_rows:
                        store.tables[table_name].replace(rows, None, writer)
                        copied[table_name] += rows.num_rows
            rows = with_partitions(videos.replace_schema_metadata(None), bucket=bucket)
            store.tables["videos"].replace(rows, None, writer | {"posegraph.videos": str(rows.num_rows)})
            copied["videos"] += rows.num_rows
            if number % 16 == 0 or number == len(buckets):
                progress(f"migrated {number}/{len(buckets)} buckets ({copied['videos']} videos)")
    return copied


def is_v1_store(path: str | Path) -> bool:
    try:
        return json.loads((Path(path) / MARKER_NAME).read_text()).get("schema_version") == 1
    except (OSError, json.JSONDecodeError):
        return False


__all__ = ["is_v1_store", "migrate"]
