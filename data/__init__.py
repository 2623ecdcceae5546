"""Storage: the skeleton store (Delta Lake tables), its schemas, imports and read-only SQL.

``store`` holds :class:`SkeletonStore` (one write path per table); ``schema`` the Arrow schemas,
``records`` the row types, ``arrow`` the conversion between them, ``derived`` one spec per derived
table, ``marker`` the store's marker file. ``corpus_extraction`` extracts videos into a store (the
extraction flow wires it into Prefect); ``sources`` resolves a video file, a stored id or a
landmarks file into one :class:`~posegraph.skeleton.source.SkeletonSource`.
"""

from .errors import DamagedFileError, NotAStoreError, ReadOnlyQueryError, StoreError, StoreVersionError, VideoNotFoundError
from .records import Skeletons, VideoFrames, VideoInfo
from .schema import SCHEMA_VERSION
from .store import SkeletonStore

__all__ = [
    "DamagedFileError", "NotAStoreError", "ReadOnlyQueryError", "SCHEMA_VERSION", "SkeletonStore", "Skeletons",
    "StoreError", "StoreVersionError", "VideoFrames", "VideoInfo", "VideoNotFoundError",
]
