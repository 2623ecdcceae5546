"""Reading the plain-data YAML files people write and edit (muscle tables, ensembles), with errors
that name the file."""

from __future__ import annotations

from pathlib import Path

import yaml


def read_yaml(path: str | Path, what: str) -> object:
    """The content of the YAML file ``path``; ``what`` names it in errors ("muscle table ...")."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path}: no such file")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ValueError(f"{what} {path} is not readable YAML: {str(error).splitlines()[0]}") from None
