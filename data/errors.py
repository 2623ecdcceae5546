"""Errors of the skeleton store, worded for the person who has to fix them."""


class StoreError(Exception):
    """Base class for skeleton-store problems."""


class NotAStoreError(StoreError):
    """The folder exists but is not a posegraph skeleton store."""


class StoreVersionError(StoreError):
    """The store (or one of its files) has another schema version than this posegraph reads."""


class DamagedFileError(StoreError):
    """A data file the store refers to cannot be read (truncated, overwritten, deleted)."""


class VideoNotFoundError(StoreError, KeyError):
    """The requested video is not in the store."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0])


class ReadOnlyQueryError(StoreError):
    """A query tried to write, attach or read outside the store."""
