"""Query results out: an aligned text table for the terminal, or CSV / JSON / Parquet files."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TextIO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS = ("table", "csv", "json", "parquet")


def _cell(value: object, width: int = 40) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:.6g}"
    if isinstance(value, list):
        shown = ", ".join(_cell(item) for item in value[:3])
        return f"[{shown}, … {len(value)} values]" if len(value) > 3 else f"[{shown}]"
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def format_table(table: pa.Table, max_rows: int = 40) -> str:
    """An aligned plain-text table of at most ``max_rows`` rows (the rest counted)."""
    rows = table.slice(0, max_rows).to_pylist()
    header = table.column_names
    cells = [[_cell(row[name]) for name in header] for row in rows]
    widths = [max([len(name)] + [len(line[i]) for line in cells]) for i, name in enumerate(header)]
    lines = ["  ".join(name.ljust(width) for name, width in zip(header, widths)),
             "  ".join("-" * width for width in widths)]
    lines += ["  ".join(value.ljust(width) for value, width in zip(line, widths)) for line in cells]
    if table.num_rows > max_rows:
        lines.append(f"… {table.num_rows - max_rows} more rows (use --format csv --out FILE for all)")
    lines.append(f"({table.num_rows} row{'s' if table.num_rows != 1 else ''})")
    return "\n".join(lines)


def _json_safe(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    return value


def _lists_as_json(table: pa.Table) -> pa.Table:
    """CSV cannot hold lists: nested columns become JSON text."""
    for index, field in enumerate(table.schema):
        if pa.types.is_list(field.type) or pa.types.is_fixed_size_list(field.type) \
                or pa.types.is_large_list(field.type) or pa.types.is_struct(field.type):
            text = [None if value is None else json.dumps(_json_safe(value))
                    for value in table.column(index).to_pylist()]
            table = table.set_column(index, field.name, pa.array(text, type=pa.string()))
    return table


def check_output_path(out: Path, store) -> None:
    """Refuse an output file inside the store (it could overwrite the store's own files)."""
    location = getattr(store, "location", None)
    if location is None or not location.is_local:
        return
    root = Path(store.root).resolve()
    target = Path(out).resolve()
    if target == root or root in target.parents:
        raise ValueError(f"--out {out} is inside the store at {store.root}: write results outside it")


def write_result(table: pa.Table, output_format: str, out: Path | None = None,
                 stream: TextIO | None = None) -> None:
    """Write a query result as ``output_format`` to ``out`` (or ``stream`` for text formats)."""
    if output_format not in FORMATS:
        raise ValueError(f"unknown format {output_format!r}; choose from {', '.join(FORMATS)}")
    if output_format == "parquet":
        if out is None:
            raise ValueError("--format parquet needs --out FILE.parquet")
        pq.write_table(table, out)
        return
    if output_format == "table":
        text = format_table(table) + "\n"
    elif output_format == "json":
        rows = [_json_safe(row) for row in table.to_pylist()]
        text = json.dumps(rows, indent=1, default=str) + "\n"
    else:
        sink = pa.BufferOutputStream()
        pacsv.write_csv(_lists_as_json(table), sink)
        text = sink.getvalue().to_pybytes().decode()
    if out is None:
        (stream or sys.stdout).write(text)
    else:
        Path(out).write_text(text)
