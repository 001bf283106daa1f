"""Writers for rows streamed from Directus: table, json, jsonl, csv. Memory stays bounded."""

from __future__ import annotations

import csv
import itertools
import json
import shutil
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, TextIO

from .common import bad_argument, fail

__all__ = ["FORMATS", "cell", "format_for_path", "to_json", "write_rows"]

FORMATS = ("table", "json", "jsonl", "csv")
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv",
              ".parquet": "parquet"}
# The table sizes its columns on the first rows only, so it can stream the rest.
TABLE_SAMPLE = 200
TABLE_MAX_COLUMN = 40
TABLE_MIN_COLUMN = 4


def format_for_path(path: str, given: str | None, allowed: Iterable[str]) -> str:
    """Return the format named by --format, else by the file's extension."""
    allowed = tuple(allowed)
    if given is not None:
        return given
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    found = EXTENSIONS.get(suffix)
    if found is None or found not in allowed:
        known = ", ".join(e for e, f in EXTENSIONS.items() if f in allowed)
        bad_argument(f"{path}: cannot tell the format from the extension; use one of "
                     f"{known}, or pass --format ({'|'.join(allowed)})")
    return found


def _plain_json(value: Any) -> str:
    # A Decimal goes out as its exact text (as Directus sends numeric columns on PostgreSQL).
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json(value: Any, *, compact: bool = False) -> str:
    """Return value as JSON (UTF-8 kept, Decimal as its text)."""
    return json.dumps(value, ensure_ascii=False, default=_plain_json,
                      separators=(",", ":") if compact else None)


def cell(value: Any) -> str:
    """Return a value as CSV/table text: null empty, JSON for lists and objects."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal):
        return str(value)
    return to_json(value, compact=True)


def write_rows(rows: Iterable[dict[str, Any]], out: TextIO, fmt: str,
               columns: list[str] | None = None,
               on_row: Callable[[], None] | None = None) -> int:
    """Write rows to out in a format as they arrive; return how many were written."""
    writer = {"jsonl": _jsonl, "json": _json, "csv": _csv, "table": _table}.get(fmt)
    if writer is None:
        bad_argument(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for row in rows:
            count += 1
            if on_row is not None:
                on_row()
            yield row

    writer(counted(), out, columns)
    return count


def _jsonl(rows: Iterator[dict[str, Any]], out: TextIO, columns: list[str] | None) -> None:
    for row in rows:
        out.write(to_json(row) + "\n")


def _json(rows: Iterator[dict[str, Any]], out: TextIO, columns: list[str] | None) -> None:
    out.write("[")
    for index, row in enumerate(rows):
        out.write(("\n" if index == 0 else ",\n") + to_json(row))
    out.write("\n]\n")


def _plain(columns: list[str] | None) -> list[str] | None:
    # Fields such as "*" or "author.name" do not name the columns Directus answers with.
    if not columns or any("*" in c or "." in c for c in columns):
        return None
    return columns


def _csv(rows: Iterator[dict[str, Any]], out: TextIO, columns: list[str] | None) -> None:
    header = _plain(columns)
    writer = csv.writer(out, lineterminator="\n")
    if header is not None:  # known up front: the header is there even with no rows
        writer.writerow(header)
    for number, row in enumerate(rows, 1):
        if header is None:
            header = list(row)
            writer.writerow(header)
        extra = [key for key in row if key not in header]
        if extra:
            fail(f"row {number} has fields the first row has not ({', '.join(extra)}); "
                 "pass --fields to fix the columns")
        writer.writerow([cell(row.get(key)) for key in header])


def _table(rows: Iterator[dict[str, Any]], out: TextIO, columns: list[str] | None) -> None:
    sample = list(itertools.islice(rows, TABLE_SAMPLE))
    header = _plain(columns) or list(dict.fromkeys(k for row in sample for k in row))
    if not header:
        return
    widths = _fit([
        min(TABLE_MAX_COLUMN, max([len(name)] + [len(_one_line(row.get(name)))
                                                 for row in sample]))
        for name in header
    ], shutil.get_terminal_size().columns)
    out.write(_line(header, widths) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in itertools.chain(sample, rows):
        out.write(_line([_one_line(row.get(name)) for name in header], widths) + "\n")


def _one_line(value: Any) -> str:
    return " ".join(cell(value).split()) if value is not None else ""


def _fit(widths: list[int], total: int) -> list[int]:
    # Narrow the widest column, one character at a time, until the row fits the terminal.
    widths = list(widths)
    while sum(widths) + 2 * (len(widths) - 1) > total:
        widest = max(range(len(widths)), key=lambda i: widths[i])
        if widths[widest] <= TABLE_MIN_COLUMN:
            break
        widths[widest] -= 1
    return widths


def _line(values: list[str], widths: list[int]) -> str:
    parts = []
    for value, width in zip(values, widths, strict=True):
        if len(value) > width:
            value = value[:width - 1] + "…"
        parts.append(value.ljust(width))
    return "  ".join(parts).rstrip()
