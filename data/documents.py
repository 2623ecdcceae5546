"""The one reader of posegraph's versioned plain-data files: JSON or YAML documents that name their
format in a field (``format: posegraph-ensemble/1``), checked before anything else is read.

Form references, ONNX sidecars, ensembles, analysis bundles, the store's marker and the training
cache's manifest all go through :func:`read_document` (or :func:`check_format` for text read from
object storage), so every one says the same things the same way: which file, what it should be,
what it is, and what to do.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml


def check_format(content: object, source: str | Path, formats: str | tuple[str, ...], what: str, remedy: str,
                 error: type[Exception] = ValueError, field: str = "format") -> dict:
    """``content`` when it is a mapping whose ``field`` is one of ``formats``; else ``error`` saying
    ``source`` is not ``what`` (found what it is instead) and ``remedy``."""
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    if isinstance(content, dict) and content.get(field) in formats:
        return content
    found = content.get(field) if isinstance(content, dict) else type(content).__name__
    raise error(f"{source}: not {what} ({field} {found!r}; this posegraph reads {' or '.join(formats)}); {remedy}")


def parse_document(text: str, source: str | Path) -> object:
    """The content of a JSON or YAML text (by ``source``'s suffix; YAML reads JSON too)."""
    if str(source).lower().endswith(".json"):
        return json.loads(text)
    return yaml.safe_load(text)


def read_document(path: str | Path, formats: str | tuple[str, ...], what: str, remedy: str,
                  error: type[Exception] = ValueError, field: str = "format") -> dict:
    """Read the JSON or YAML file ``path`` and check its format (:func:`check_format`); a missing
    or unreadable file is ``error`` too, naming the file."""
    path = Path(path)
    try:
        content = parse_document(path.read_text(encoding="utf-8"), path)
    except FileNotFoundError:
        raise error(f"{path}: no such file; {remedy}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as problem:
        first = str(problem).splitlines()[0] if str(problem) else type(problem).__name__
        raise error(f"{path}: not readable as {what} ({first}); {remedy}") from None
    return check_format(content, path, formats, what, remedy, error, field)


__all__ = ["check_format", "parse_document", "read_document"]
