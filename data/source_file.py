"""Reading one imported file: its bytes, its content id, or why it could not be read."""

from __future__ import annotations

import hashlib
from pathlib import Path


def read_source(path: Path) -> tuple[bytes, str, str | None]:
    """``(bytes, video_id, problem)``: the id is the sha256 of the bytes (of the path when unreadable,
    so a failed row still has a stable key) and ``problem`` says why the file could not be read."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raw = str(path).encode()
        return raw, hashlib.sha256(raw).hexdigest(), f"cannot read the file: {error.strerror or error}"
    return raw, hashlib.sha256(raw).hexdigest(), None
