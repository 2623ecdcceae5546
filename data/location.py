"""Where a store lives: a local folder, or an object-storage URI that Delta Lake and Arrow can both reach.

A local folder keeps ``Path`` objects (and the writers' ``flock``); a URI (``s3://bucket/prefix``,
``gs://…``, ``abfss://…``, or ``file:///…`` to take the same code path on local disk) is read through
Arrow's filesystem for that scheme and written through delta-rs, both of which take credentials
from the usual environment variables (``AWS_ACCESS_KEY_ID``, ``AWS_REGION``, ``AWS_ENDPOINT_URL``,
``GOOGLE_APPLICATION_CREDENTIALS``, ``AZURE_STORAGE_ACCOUNT_NAME``, …).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from .atomic import replace_text


def is_uri(path: str | Path) -> bool:
    return isinstance(path, str) and "://" in path


@dataclass(frozen=True)
class StoreLocation:
    """A store's root: what delta-rs is given (``uri``), and Arrow's view of it (``filesystem``, ``base``).

    Example:
        >>> location = StoreLocation.of("s3://corpora/gym")
        >>> location.child("frames")            # 's3://corpora/gym/frames' (for delta-rs)
        >>> location.path("frames", "x.parquet") # PurePosixPath('corpora/gym/frames/x.parquet')
    """

    uri: str
    filesystem: pafs.FileSystem
    base: PurePath

    @classmethod
    def of(cls, path: str | Path) -> StoreLocation:
        if not is_uri(path):
            return cls(str(path), pafs.LocalFileSystem(), Path(path))
        uri, _, query = str(path).partition("?")  # options such as ?region= are Arrow's, not delta-rs's
        uri = uri.rstrip("/")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if uri.startswith("s3://") and "region=" not in query and region:
            query = f"{query}&region={region}" if query else f"region={region}"  # else Arrow asks the bucket
        try:
            filesystem, base = pafs.FileSystem.from_uri(f"{uri}?{query}" if query else uri)
        except Exception as error:  # noqa: BLE001 - Arrow raises several types for a bad URI
            raise ValueError(f"cannot open the store location {uri}: {str(error).splitlines()[0][:200]}. Use a "
                             f"local folder or an s3://, gs:// or abfss:// URI, with credentials (and AWS_REGION "
                             f"on S3) in the usual environment variables.") from None
        return cls(uri, filesystem, PurePosixPath(base))

    @property
    def is_local(self) -> bool:
        """A folder given as a plain path (not a URI): the store uses ``Path`` objects and an ``flock``."""
        return not is_uri(self.uri)

    @property
    def scheme(self) -> str:
        return self.uri.split("://", 1)[0] if not self.is_local else "file"

    def root(self) -> Path | str:
        """What the store calls its root in messages and commands: the folder, or the URI."""
        return self.base if self.is_local else self.uri

    def child(self, *parts: str) -> str:
        """A location inside the store, as delta-rs and command lines take it."""
        return str(self.base.joinpath(*parts)) if self.is_local else "/".join([self.uri, *parts])

    def path(self, *parts: str) -> PurePath:
        """A path inside the store, as :attr:`filesystem` takes it (a ``Path`` on local disk)."""
        return self.base.joinpath(*parts)

    def at(self, path: str) -> PurePath:
        """A path string this store gave out (a :class:`DataFile`'s, as text) as a path again."""
        return Path(path) if self.is_local else PurePosixPath(path)

    def reader_path(self, path: PurePath) -> str:
        """``path`` as another engine (DuckDB) names it: a local path, or a URI of the store's scheme."""
        if self.is_local or self.scheme == "file":
            return str(path)
        return self.uri + str(path)[len(str(self.base)):]

    def exists(self, path: PurePath) -> bool:
        if isinstance(path, Path):
            return path.exists()
        return self.filesystem.get_file_info(str(path)).type != pafs.FileType.NotFound

    def names(self) -> list[str]:
        """The entries directly inside the store's root (none when it does not exist)."""
        if isinstance(self.base, Path):
            return sorted(entry.name for entry in self.base.iterdir()) if self.base.is_dir() else []
        selector = pafs.FileSelector(str(self.base), allow_not_found=True)
        return sorted(PurePosixPath(info.path).name for info in self.filesystem.get_file_info(selector))

    def read_text(self, path: PurePath) -> str:
        if isinstance(path, Path):
            return path.read_text()
        with self.filesystem.open_input_stream(str(path)) as stream:
            return stream.read().decode()

    def write_text(self, path: PurePath, text: str) -> None:
        """Write ``text`` whole or not at all (a renamed temporary file locally; one put on an object store)."""
        if isinstance(path, Path):
            replace_text(path, text)
            return
        self.filesystem.create_dir(str(path.parent), recursive=True)
        with self.filesystem.open_output_stream(str(path)) as stream:
            stream.write(text.encode())

    def size(self, path: PurePath) -> int:
        return path.stat().st_size if isinstance(path, Path) else self.filesystem.get_file_info(str(path)).size

    def parquet_file(self, path: PurePath) -> pq.ParquetFile:
        return pq.ParquetFile(path) if isinstance(path, Path) else \
            pq.ParquetFile(self.filesystem.open_input_file(str(path)))

    def read_parquet(self, path: PurePath, columns: list[str] | None = None):
        return self.parquet_file(path).read(columns=columns)

    def write_parquet(self, table, path: PurePath, **options) -> None:
        if isinstance(path, Path):
            pq.write_table(table, path, **options)
        else:
            pq.write_table(table, str(path), filesystem=self.filesystem, **options)

    def move(self, source: PurePath, destination: PurePath) -> None:
        if isinstance(source, Path):
            import shutil

            Path(destination).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(source, destination)
            return
        self.filesystem.create_dir(str(destination.parent), recursive=True)
        self.filesystem.copy_file(str(source), str(destination))  # object stores have no rename
        self.filesystem.delete_file(str(source))


__all__ = ["StoreLocation", "is_uri"]
