"""One set of Python types whatever the database behind Directus.

PostgreSQL sends bigint columns, numeric columns and most aggregates as JSON strings
(``{"count": "1"}``, ``"filesize": "24252243"``, ``{"avg": {"views": "1.5000"}}``)
where SQLite sends numbers, and SQLite sends a decimal column as a float. The rules,
the same on every database:

- ``count``, ``countDistinct`` and ``countAll`` are ``int`` (no schema needed);
- with the collection's field types known (``GET /fields/{collection}``, read once):
  integer and bigInteger fields, and their ``sum``/``min``/``max``, are ``int``;
  decimal fields and their aggregates are ``decimal.Decimal``; ``avg`` of any other
  number is ``float``; float fields are ``float``;
- everything else (strings, dates, JSON, booleans, related items' fields) is passed
  through as Directus sends it, and so is everything above where the token may not read
  the collection's fields.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from itertools import repeat
from operator import itemgetter
from typing import Any

__all__ = ["could_change", "needs_field_types", "typed_aggregate", "typed_items"]

INTEGER_TYPES = frozenset({"integer", "bigInteger"})
#: The field types whose values may need converting; every other type passes through.
NUMERIC_TYPES = frozenset({*INTEGER_TYPES, "decimal", "float"})
COUNTS = frozenset({"count", "countDistinct", "countAll"})
AVERAGES = frozenset({"avg", "avgDistinct"})
SAME_AS_FIELD = frozenset({"sum", "sumDistinct", "min", "max"})
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_INTEGER = re.compile(r"-?\d+")
# PostgreSQL's spelling of non-finite numerics: text that does not settle a numeric column.
_NON_FINITE = frozenset({"NaN", "Infinity", "-Infinity"})


def _numeric_text(value: Any) -> bool:
    return isinstance(value, str) and _NUMBER.fullmatch(value) is not None


def needs_field_types(rows: Any) -> bool:
    """Return whether some top-level value could change type once the field types are known."""
    if not isinstance(rows, list):
        rows = [rows]
    for row in rows:
        if not isinstance(row, dict):
            continue
        for key, value in row.items():
            if isinstance(value, dict):
                # An aggregate's {field: value}: strings from PostgreSQL, floats from SQLite,
                # and an average that came out whole (SQLite's 108 must read as 108.0).
                if any(_numeric_text(v) or isinstance(v, float)
                       or (key in AVERAGES and type(v) is int) for v in value.values()):
                    return True
            elif _numeric_text(value) or isinstance(value, float):
                return True
    return False


def _column(rows: list[dict[str, Any]], field: str) -> list[Any]:
    """Return a field's values down the rows (None where a row lacks it), at C speed."""
    try:
        return list(map(itemgetter(field), rows))
    except KeyError:
        if not any(map(dict.__contains__, rows, repeat(field))):
            return []
        return [row.get(field) for row in rows]


def _dicts(items: Any) -> list[dict[str, Any]]:
    return [item for item in (items if isinstance(items, list) else [items])
            if type(item) is dict]


def could_change(items: Any) -> bool:
    """Return whether some item's top-level value could change type once field types are known.

    Column by column: a float or numeric text means yes; other text, a boolean, an object
    or a list settles the column (a numeric column never sends one); integers and nulls
    leave it open. The first row settles most columns; the open ones are read down their
    column as the set of their types, not a regex per value.
    """
    rows = _dicts(items)
    if not rows:
        return False
    first = rows[0]
    open_fields = []
    for field, value in first.items():
        kind = type(value)
        if kind is str:
            if value in _NON_FINITE:
                open_fields.append(field)
            elif _NUMBER.fullmatch(value):
                return True
        elif kind is float:
            return True
        elif kind is int or value is None:
            open_fields.append(field)
    if any(len(row) != len(first) for row in rows):
        # Rows with other keys (Directus sends one shape; anything else is read whole).
        open_fields = list(dict.fromkeys(field for row in rows for field in row))
    for field in open_fields:
        values = _column(rows, field)
        seen = set(map(type, values))
        if float in seen:
            return True
        if str in seen and any(
                type(value) is str and value not in _NON_FINITE and _NUMBER.fullmatch(value)
                for value in values):
            return True
    return False


def typed_value(kind: str | None, value: Any) -> Any:
    """Return a field's value in the Python type its Directus type promises."""
    if value is None or isinstance(value, bool) or kind is None:
        return value
    if kind in INTEGER_TYPES:
        if isinstance(value, str) and _INTEGER.fullmatch(value):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value
    if kind == "decimal":
        if _numeric_text(value):
            return Decimal(value)
        # repr() is the shortest text that reads back as the same float: 15.6, not 15.59...
        return Decimal(repr(value)) if isinstance(value, (int, float)) else value
    if kind == "float":
        if _numeric_text(value):
            return float(value)
        if type(value) is int:
            # JavaScript writes a whole float (2.0) as 2: the field's type makes it a float.
            return float(value)
    return value


def _average(kind: str | None, value: Any) -> Any:
    if kind == "decimal":
        return typed_value(kind, value)
    if kind is not None and (_numeric_text(value) or isinstance(value, int)) \
            and not isinstance(value, bool):
        return float(value)
    return value


def _count(value: Any) -> Any:
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    return value


# A value already of its field type's promised type, or null, is left as it is.
_FINAL = {"integer": frozenset({int, type(None)}), "bigInteger": frozenset({int, type(None)}),
          "float": frozenset({float, type(None)})}
_NOTHING: frozenset[type] = frozenset({type(None)})


def typed_items(items: Any, types: Mapping[str, str]) -> Any:
    """Convert items' numeric top-level values by their field types, in place; return them.

    Column by column, and only the numeric columns: a column whose values are all of the
    promised type already (integers from SQLite, say) costs one set of types.
    """
    rows = _dicts(items)
    if not rows:
        return items
    for field, kind in types.items():
        if kind not in NUMERIC_TYPES:
            continue
        values = _column(rows, field)
        if set(map(type, values)) <= _FINAL.get(kind, _NOTHING):
            continue
        for row, value in zip(rows, values, strict=False):
            if value is not None:
                row[field] = typed_value(kind, value)
    return items


def typed_aggregate(row: Any, types: Mapping[str, str]) -> Any:
    """Convert one aggregate (or group) row in place: counts to int, the rest by field type."""
    if not isinstance(row, dict):
        return row
    for key, value in row.items():
        if key in COUNTS:
            row[key] = ({f: _count(v) for f, v in value.items()} if isinstance(value, dict)
                        else _count(value))
        elif key in AVERAGES and isinstance(value, dict):
            row[key] = {f: _average(types.get(f), v) for f, v in value.items()}
        elif key in SAME_AS_FIELD and isinstance(value, dict):
            row[key] = {f: typed_value(types.get(f), v) for f, v in value.items()}
        else:
            row[key] = typed_value(types.get(key), value)  # a group-by field
    return row
