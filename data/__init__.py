"""Storage: the skeleton store (Delta Lake tables), its schemas, imports and read-only SQL."""

from .errors import DamagedFileError, NotAStoreError, ReadOnlyQueryError, StoreError, StoreVersionError, VideoNotFoundError
from .records import Skeletons, VideoFrames, VideoInfo
from .schema import SCHEMA_VERSION
from .store import SkeletonStore

__all__ = [
    "DamagedFileError", "NotAStoreError", "ReadOnlyQueryError", "SCHEMA_VERSION", "SkeletonStore", "Skeletons",
    "StoreError", "StoreVersionError", "VideoFrames", "VideoInfo", "VideoNotFoundError",
]
