"""Readers that stream rows out of JSONL, CSV and JSON-array files, one row at a time."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TextIO

from .common import fail

__all__ = ["CsvCaster", "Utf8Checked", "read_rows"]

READ_CHUNK = 1 << 16
NUMBERS = {"integer": int, "bigInteger": int, "float": float}
JSON_TYPES = frozenset({"json", "csv", "geometry", "alias"})


#: what errors="surrogateescape" makes of a byte that is not UTF-8
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


class Utf8Checked:
    """A text handle opened with ``errors="surrogateescape"``, read by line or by chunk: the
    first byte that is not UTF-8 stops the import, naming its line, column and value."""

    def __init__(self, handle: TextIO, path: str) -> None:
        self.handle = handle
        self.path = path
        self.lines = 0  # complete lines read so far

    def __iter__(self) -> Iterator[str]:
        for line in self.handle:
            self._check(line)
            yield line

    def read(self, size: int = -1) -> str:
        """Read like the handle, checking what was read."""
        chunk = self.handle.read(size)
        self._check(chunk)
        return chunk

    def _check(self, text: str) -> None:
        found = None if text.isascii() else _NOT_UTF8.search(text)
        if found is not None:
            line = self.lines + text.count("\n", 0, found.start()) + 1
            column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
            fail(f"{self.path}: line {line}, column {column}: byte "
                 f"0x{ord(found.group()) - 0xDC00:02x} is not UTF-8 text (save the file as "
                 "UTF-8)")
        self.lines += text.count("\n")


def read_rows(handle: TextIO, fmt: str, path: str,
              cast: Callable[[dict[str, str]], dict[str, Any]] | None = None,
              ) -> Iterator[dict[str, Any]]:
    """Yield the file's rows as dicts, in order; a malformed row stops with its number.

    Open the file with ``errors="surrogateescape"``: a byte that is not UTF-8 then stops
    the import naming its line (a strict handle would raise UnicodeDecodeError mid-read).
    """
    checked: Any = Utf8Checked(handle, path)
    handle = checked
    if fmt == "jsonl":
        yield from _jsonl(handle, path)
    elif fmt == "csv":
        for number, row in enumerate(csv.DictReader(handle), 1):
            if None in row:
                fail(f"{path}: row {number} has more cells than the header has columns")
            yield cast(row) if cast is not None else {k: (v if v != "" else None)
                                                         for k, v in row.items()}
    elif fmt == "json":
        yield from _json_array(handle, path)
    else:
        fail(f"--format: cannot read {fmt!r}")


def _object(value: Any, path: str, number: int) -> dict[str, Any]:
    if not isinstance(value, dict):
        fail(f"{path}: row {number} is not a JSON object")
    return value


def _jsonl(handle: TextIO, path: str) -> Iterator[dict[str, Any]]:
    number = 0
    for line in handle:
        if not line.strip():
            continue
        number += 1
        try:
            value = json.loads(line)
        except ValueError as exc:
            fail(f"{path}: row {number} is not JSON ({exc})")
        yield _object(value, path, number)


def _json_array(handle: TextIO, path: str) -> Iterator[dict[str, Any]]:
    # A JSON array read incrementally: memory holds one element and one read chunk.
    decoder = json.JSONDecoder()
    buffer, position, number, eof = "", 0, 0, False

    def fill() -> bool:
        nonlocal buffer, position, eof
        chunk = handle.read(READ_CHUNK)
        buffer, position = buffer[position:] + chunk, 0
        eof = not chunk
        return bool(chunk)

    def skip_space() -> str:
        nonlocal position
        while True:
            while position < len(buffer) and buffer[position].isspace():
                position += 1
            if position < len(buffer) or not fill():
                return buffer[position] if position < len(buffer) else ""

    if skip_space() != "[":
        fail(f"{path}: expected a JSON array of objects")
    position += 1
    expect_value = True
    while True:
        char = skip_space()
        if char == "]":
            if expect_value and number:
                fail(f"{path}: a ',' with no row after it, after row {number}")
            return
        if char == "":
            fail(f"{path}: the JSON array is not closed")
        if char == ",":
            if expect_value:
                fail(f"{path}: unexpected ',' after row {number}")
            position += 1
            expect_value = True
            continue
        if not expect_value:
            fail(f"{path}: expected ',' after row {number}")
        while True:
            try:
                value, end = decoder.raw_decode(buffer, position)
                break
            except ValueError as exc:
                if eof or not fill():
                    fail(f"{path}: row {number + 1} is not JSON ({exc})")
        position = end
        number += 1
        expect_value = False
        yield _object(value, path, number)


class CsvCaster:
    """Turn CSV cells back into values by each field's Directus type (when it may be read)."""

    def __init__(self, types: Mapping[str, str]) -> None:
        self.types = dict(types)

    def __call__(self, row: dict[str, str]) -> dict[str, Any]:
        """Return the row with typed values: empty cells are null; JSON where the type says."""
        return {key: self.value(key, text) for key, text in row.items()}

    def value(self, key: str, text: str) -> Any:
        """Return one cell as the field's type wants it."""
        if text == "":
            return None
        kind = self.types.get(key)
        try:
            if kind in NUMBERS:
                return NUMBERS[kind](text)
            if kind == "boolean":
                lowered = text.strip().lower()
                if lowered in ("true", "1", "yes"):
                    return True
                if lowered in ("false", "0", "no"):
                    return False
                return text
            if kind in JSON_TYPES:
                return json.loads(text)
        except ValueError:
            return text  # let Directus say what is wrong with it, for this row only
        return text
