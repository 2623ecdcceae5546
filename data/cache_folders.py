"""Where things made from a store for speed are kept (training caches, the corpus browser's
overlays): never data, safe to delete, rebuilt when missing.

``STORE/_cache/KIND/`` for a store on local disk this user can write to (beside the data it was
made from; ``store`` commands ignore the folder); ``~/.cache/posegraph/KIND/<store hash>/`` (or
under ``$XDG_CACHE_HOME``) for a store on object storage or one this user can only read.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .store import SkeletonStore


def store_cache_root(store: SkeletonStore, kind: str) -> Path:
    """The folder for ``kind`` (``clips``, ``overlays``) of ``store``'s caches (not created)."""
    if store.location.is_local and os.access(store.root, os.W_OK):
        return Path(store.root) / "_cache" / kind
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return home / "posegraph" / kind / hashlib.sha256(str(store.root).encode()).hexdigest()[:12]
