"""The store's marker file (``_posegraph_store.json``): what makes a folder a skeleton store.

It records the format, the schema version and the bucket width; :func:`open_marker` reads it (or
writes it for a new store) and refuses, saying what to do, a folder that is not a store, a store
of another schema version, or a missing store when none may be created.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePath

from .documents import check_format
from .errors import NotAStoreError, StoreVersionError
from .location import StoreLocation
from .schema import SCHEMA_VERSION

MARKER_NAME = "_posegraph_store.json"
STORE_FORMAT = "posegraph-skeleton-store"


def open_marker(location: StoreLocation, root: Path | str, create: bool, bucket_digits: int) -> int:
    """The store's bucket width from its marker; a new store (missing or empty folder, when
    ``create``) gets a marker with ``bucket_digits``."""
    marker = location.path(MARKER_NAME)
    if isinstance(root, Path) and root.exists() and not root.is_dir():
        raise NotAStoreError(f"{root} is a file, not a skeleton store. Point --store at a folder.")
    if location.exists(marker):
        return read_marker(location, marker, root)
    if found := location.names():
        raise NotAStoreError(
            f"{root} is not a posegraph skeleton store (no {MARKER_NAME}; found: "
            f"{', '.join(found[:8])}). Point --store at an existing store, or at a new or empty folder "
            f"to create one."
        )
    if not create:
        raise NotAStoreError(
            f"no skeleton store at {root}. Create one with `posegraph extract`, "
            f"`posegraph import kinetics` or `posegraph synth`."
        )
    content = {"format": STORE_FORMAT, "schema_version": SCHEMA_VERSION, "table_format": "delta",
               "bucket_digits": bucket_digits}
    location.write_text(marker, json.dumps(content, indent=2) + "\n")
    return bucket_digits


def read_marker(location: StoreLocation, marker: PurePath, root: Path | str) -> int:
    """The bucket width of an existing store's marker (its format and schema version checked)."""
    try:
        content = json.loads(location.read_text(marker))
    except json.JSONDecodeError as error:
        raise NotAStoreError(f"{marker} is not valid JSON ({error}); the store is damaged.") from None
    check_format(content, marker, STORE_FORMAT, "a posegraph skeleton store's marker",
                 "point --store at a store's folder (posegraph extract creates one)", NotAStoreError)
    version = content.get("schema_version")
    if version == 1:
        raise StoreVersionError(
            f"the store at {root} has schema version 1 (one Parquet file per bucket), but this "
            f"posegraph reads version {SCHEMA_VERSION} (Delta Lake tables). Copy it into the new format "
            f"with `posegraph store migrate {root} NEW_STORE`, then use NEW_STORE."
        )
    if version != SCHEMA_VERSION:
        raise StoreVersionError(
            f"the store at {root} has schema version {version}, "
            f"but this posegraph reads version {SCHEMA_VERSION}. Use the posegraph release "
            f"that wrote it, or write to a new store (a new folder)."
        )
    return int(content["bucket_digits"])
