"""A reference evaluator: which rows a Directus filter object selects, in memory.

``evaluate(filter_json, row)`` follows Directus 12.4's query runner
(``api/src/database/run-ast/lib/apply-query``, and ``parseFilter`` in ``@directus/utils``),
SQL semantics included, so the query builder's property tests and the differential tests
against a real Directus (``tests/integration/test_query_differential.py``) share one model
of the server. The relational rules below were read from that source and confirmed
against a running 12.4.0 on SQLite.

Rows are plain dicts:

- a scalar field holds str / int / float / bool / None (dates as ISO strings);
- a many-to-one field holds the related row (a dict) or None;
- a one-to-many field holds a list of related rows.

Semantics modelled:

- SQL three-valued logic: a comparison with NULL is not true, and negative operators
  (``_neq``, ``_nin``, ``_ncontains``, ``_nbetween``, ...) are ``NOT <positive>``, so they
  skip NULL too. Filters have no NOT above operators, so "not true" can be folded to
  False at every atom;
- ``_null``/``_nnull``/``_empty``/``_nempty`` with ``false`` mean their opposite;
  ``_empty`` is ``IS NULL OR = ''``; ``_eq: null`` is ``IS NULL``, ``_neq: null`` ``IS NOT NULL``;
- LIKE operators build ``%value%``-style patterns without escaping, so ``%`` and ``_`` in
  values are wildcards. ``dialect="sqlite"`` (the default; the local test server runs
  on SQLite): LIKE ignores case for ASCII letters only (so ``_contains`` and friends are
  case-insensitive for ASCII on SQLite, unlike on PostgreSQL) and ``LOWER()`` lowers
  ASCII only. ``dialect="postgres"``: LIKE is case-sensitive and ``LOWER()`` lowers
  everything. ``dialect="mariadb"`` (utf8mb4_general_ci, the collation Debian's server
  and the local test server use): every string comparison (``=``, ``IN``, LIKE, also
  after ``LOWER()``) ignores case and accents, one character at a time;
- **plain relational paths are joins**: in one scope (the filter, or the filter of one
  ``_some``/``_none``, which runs as its own subquery) Directus LEFT JOINs each distinct
  path once (``add-join.ts``, keyed by the path) and keeps a row when *some* combination
  of joined rows passes the whole WHERE clause. So every plain condition through the same
  one-to-many path, wherever it sits in the filter (across ``_or`` branches and separate
  ``_and`` items too), reads the same related row; and a row with no related items (or a
  missing many-to-one item) joins one row of NULLs, on which ``_null``/``_empty`` hold;
- ``_some``/``_none`` on a one-to-many field of the scope's collection are ``pk IN`` /
  ``NOT IN`` a subquery over the real related items. Directus 12.4 *ignores* one (it
  matches every row) when its filter is empty, holds several keys or starts with
  ``_and``/``_or``: ``getOperation`` follows first keys only and finds no operator;
- ``count(field)`` of a one-to-many field is a COUNT subquery: the list's length, and 0
  behind a missing (NULL) related row; of a NULL non-relational field it is NULL;
- a multi-key object is the AND of its keys (``parseFilter`` turns it into ``_and``);
- ``_or`` holding ``{}`` (or empty) matches every row;
- functions: ``year`` ... ``second`` of an ISO date/time string (``weekday``: 0 = Sunday,
  ``week``: SQLite's ``%W``, PostgreSQL's ISO week, MariaDB's ``WEEK()``: ``%U``;
  MariaDB's ``weekday`` is ``DAYOFWEEK()``: 1 = Sunday), ``count`` as above.

Not modelled (raise NotImplementedError): geometry operators, dynamic variables
(``$NOW``, ``$CURRENT_USER``), operators applied to a one-to-many field itself. Date
values compare as strings, so write them in the form the server returns
(``YYYY-MM-DDTHH:MM:SS`` for dateTime): Directus compares instants, and ``"2024-01-01"``
equals ``"2024-01-01T00:00:00"`` on the server but not here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pydirectus.testing.dialects import general_ci as _general_ci

__all__ = ["DIALECTS", "NULL_ROW", "evaluate", "honoured"]

#: The SQL dialects modelled, by the name ``evaluate(dialect=...)`` takes.
DIALECTS = ("sqlite", "postgres", "mariadb")

_FUNCTION_KEY = re.compile(r"^(\w+)\((.*)\)$", re.DOTALL)
_QUANTIFIERS = ("_some", "_none")

Path = tuple[str, ...]


class _NullRow(dict[str, Any]):
    """The all-NULL row a LEFT JOIN yields when nothing is related."""

    def __repr__(self) -> str:
        return "NULL_ROW"


#: The row a condition behind a missing related item reads: every column NULL.
NULL_ROW: Mapping[str, Any] = _NullRow()


def evaluate(
    filter_json: Mapping[str, Any], row: Mapping[str, Any], *, dialect: str = "sqlite"
) -> bool:
    """Return whether Directus would select ``row`` with this filter object."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    return _Evaluator(dialect).scope(filter_json, row)


def honoured(quantified: Any) -> bool:
    """Return whether Directus 12.4 applies ``_some``/``_none`` holding this filter.

    Its ``getOperation`` follows the first key of each object down to an operator; when
    there is none (an empty object, ``_and``/``_or``, several keys), the whole
    ``{field: {_some: ...}}`` condition is skipped.
    """
    if not isinstance(quantified, Mapping) or len(quantified) != 1:
        return False
    ((key, value),) = quantified.items()
    if key in ("_and", "_or"):
        return False
    if key in _QUANTIFIERS:
        return honoured(value)
    if key.startswith("_") or not isinstance(value, Mapping):
        return True
    return honoured(value)


class _Evaluator:
    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.sqlite = dialect == "sqlite"
        # MariaDB compares strings by collation weights: no case, no accents.
        self.folds = dialect == "mariadb"

    # ---------------------------------------------------------------- structure

    def scope(self, flt: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
        """Evaluate a filter as one query: join each plain path once, keep the row if any
        combination of joined rows passes."""
        if not isinstance(flt, Mapping):
            raise TypeError(f"expected a filter object, got {flt!r}")
        paths: set[Path] = set()
        self.collect(flt, (), paths)
        return any(self.group(flt, (), row, joined) for joined in _joins(row, paths))

    def collect(self, flt: Mapping[str, Any], prefix: Path, paths: set[Path]) -> None:
        """Add the relational paths a filter object joins (not those inside _some/_none)."""
        for key, spec in flt.items():
            if key in ("_and", "_or"):
                for sub in spec:
                    self.collect(sub, prefix, paths)
            elif not key.startswith("_") and isinstance(spec, Mapping):
                if _FUNCTION_KEY.match(key):
                    continue
                for k, v in spec.items():
                    if not k.startswith("_"):
                        paths.add((*prefix, key))
                        self.collect({k: v}, (*prefix, key), paths)

    def group(
        self,
        flt: Mapping[str, Any],
        prefix: Path,
        here: Mapping[str, Any],
        joined: Mapping[Path, Mapping[str, Any]],
    ) -> bool:
        """Evaluate a filter object at ``prefix`` (row ``here``) for one combination of joins."""
        if not isinstance(flt, Mapping):
            raise TypeError(f"expected a filter object, got {flt!r}")
        for key, spec in flt.items():
            if key == "_and":
                ok = all(self.group(sub, prefix, here, joined) for sub in spec)
            elif key == "_or":
                ok = (
                    not spec
                    or any(sub == {} for sub in spec)
                    or any(self.group(sub, prefix, here, joined) for sub in spec)
                )
            elif key.startswith("_"):
                raise ValueError(f"operator {key!r} without a field")
            else:
                ok = self.field(key, spec, prefix, here, joined)
            if not ok:
                return False
        return True

    def field(
        self,
        key: str,
        spec: Any,
        prefix: Path,
        here: Mapping[str, Any],
        joined: Mapping[Path, Mapping[str, Any]],
    ) -> bool:
        """Evaluate the conditions on one field (or function of a field) of ``here``."""
        m = _FUNCTION_KEY.match(key)
        if m:
            value = _function(m.group(1), here.get(m.group(2)), here is NULL_ROW, self.dialect)
        else:
            value = here.get(key)
        if not isinstance(spec, Mapping):
            spec = {"_eq": spec}
        for k, v in spec.items():
            if k in _QUANTIFIERS:
                if prefix or m is not None or isinstance(value, Mapping):
                    raise ValueError(
                        f"{k} needs a one-to-many field of the collection filtered: {key}"
                    )
                if not honoured(v):
                    continue  # Directus skips the condition: every row passes it
                hit = any(self.scope(v, item) for item in value or [])
                if hit != (k == "_some"):
                    return False
            elif k in ("_and", "_or"):
                # parseFilter moves these above the field; the compiler never sends them.
                raise NotImplementedError(f"{key}: {k} below a field")
            elif k.startswith("_"):
                if isinstance(value, list):
                    raise NotImplementedError(f"operators on a one-to-many field: {key}")
                if not self.operator(k, v, _scalar(value)):
                    return False
            elif m is not None:
                raise ValueError(f"{key}: a function result has no fields")
            else:
                path = (*prefix, key)
                if not self.field(k, v, path, joined[path], joined):
                    return False
        return True

    # ---------------------------------------------------------------- operators

    def operator(self, op: str, arg: Any, v: Any) -> bool:
        _check_arg(arg)
        if op in ("_null", "_nnull", "_empty", "_nempty"):
            positive = arg is not False
            if op in ("_nnull", "_nempty"):
                positive = not positive
            if op in ("_null", "_nnull"):
                return (v is None) if positive else (v is not None)
            empty = v is None or self.fold(v) == ""
            return empty if positive else not empty
        if op == "_eq" and arg is None:
            return v is None
        if op == "_neq" and arg is None:
            return v is not None
        if v is None:
            return False  # every other operator is NULL (not true) on a NULL column
        if op in ("_eq", "_neq"):
            return self.equal(v, arg) == (op == "_eq")
        if op in ("_in", "_nin"):
            items = arg.split(",") if isinstance(arg, str) else arg
            return any(self.equal(v, a) for a in items) == (op == "_in")
        if op in ("_lt", "_lte", "_gt", "_gte"):
            c = _compare(v, arg)
            return {"_lt": c < 0, "_lte": c <= 0, "_gt": c > 0, "_gte": c >= 0}[op]
        if op in ("_between", "_nbetween"):
            low, high = arg.split(",") if isinstance(arg, str) else arg
            inside = _compare(v, low) >= 0 and _compare(v, high) <= 0
            return inside == (op == "_between")
        if op in ("_ieq", "_nieq"):
            same = self.fold(self.lower(_text(v))) == self.fold(str(arg).lower())
            return same == (op == "_ieq")
        like = _LIKE.get(op)
        if like is not None:
            negative, insensitive, shape = like
            if insensitive:
                text, pattern = self.lower(_text(v)), shape.format(str(arg).lower())
            else:
                text, pattern = _text(v), shape.format(_text(arg))
            return self.like(text, pattern) != negative
        raise NotImplementedError(f"operator {op!r}")

    def lower(self, text: str) -> str:
        return _ascii_lower(text) if self.sqlite else text.lower()

    def fold(self, value: Any) -> Any:
        """Return a string as the dialect compares it (MariaDB: its collation weights)."""
        # "=" ignores trailing spaces under MariaDB's PAD SPACE collations; LIKE does not.
        if self.folds and isinstance(value, str):
            return _general_ci(value).rstrip(" ")
        return value

    def equal(self, v: Any, arg: Any) -> bool:
        if self.folds and isinstance(v, str):
            return self.fold(v) == self.fold(_text(arg))
        return _equal(v, arg)

    def like(self, text: str, pattern: str) -> bool:
        if self.sqlite:
            text, pattern = _ascii_lower(text), _ascii_lower(pattern)
        elif self.folds:
            text, pattern = _general_ci(text), _general_ci(pattern)
        regex = "".join(
            ".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern
        )
        return re.fullmatch(regex, text, re.DOTALL) is not None


#: LIKE operator -> (negated, lower-cases both sides, pattern shape)
_LIKE: dict[str, tuple[bool, bool, str]] = {
    "_contains": (False, False, "%{}%"),
    "_ncontains": (True, False, "%{}%"),
    "_icontains": (False, True, "%{}%"),
    "_nicontains": (True, True, "%{}%"),
    "_starts_with": (False, False, "{}%"),
    "_nstarts_with": (True, False, "{}%"),
    "_istarts_with": (False, True, "{}%"),
    "_nistarts_with": (True, True, "{}%"),
    "_ends_with": (False, False, "%{}"),
    "_nends_with": (True, False, "%{}"),
    "_iends_with": (False, True, "%{}"),
    "_niends_with": (True, True, "%{}"),
}


def _check_arg(arg: Any) -> None:
    if isinstance(arg, str) and arg.startswith("$"):
        raise NotImplementedError(f"dynamic variable {arg!r}")
    if isinstance(arg, list | tuple):
        for a in arg:
            _check_arg(a)


def _scalar(value: Any) -> Any:
    # A many-to-one column compared directly holds the related key.
    return value.get("id") if isinstance(value, Mapping) else value


def _ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _text(value: Any) -> str:
    """Return a value as SQLite renders it as text."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _number(value: Any) -> float | int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    return float(value)  # Directus casts compare values for numeric fields


def _compare(v: Any, arg: Any) -> int:
    a: Any
    b: Any
    if isinstance(v, str) and isinstance(arg, str):
        a, b = v, arg
    elif isinstance(v, bool | int | float):
        a, b = _number(v), _number(arg)
    elif isinstance(v, str):
        a, b = v, _text(arg)  # SQLite gives a bare number the text column's affinity
    else:
        raise TypeError(f"cannot compare {v!r} with {arg!r}")
    return (a > b) - (a < b)


def _equal(v: Any, arg: Any) -> bool:
    return _compare(v, arg) == 0


def _function(name: str, value: Any, null_row: bool = False, dialect: str = "sqlite") -> Any:
    if name == "count":
        if null_row:
            return 0  # COUNT(*) of the items related to a missing row
        if value is None:
            return None
        if isinstance(value, list):
            return len(value)
        raise TypeError(f"count() of {value!r}")
    if value is None:
        return None
    when = _parse_when(value)
    if name == "year":
        return when.year
    if name == "month":
        return when.month
    if name == "day":
        return when.day
    if name == "weekday":
        # MariaDB's DAYOFWEEK counts from 1 (Sunday); SQLite's %w and PostgreSQL's DOW from 0.
        return when.isoweekday() % 7 + (dialect == "mariadb")
    if name == "week":
        # SQLite: strftime('%W') (weeks from the first Monday, 0-53);
        # PostgreSQL: EXTRACT(WEEK) (the ISO week, 1-53);
        # MariaDB: WEEK() in mode 0 (weeks from the first Sunday, 0-53).
        if dialect == "postgres":
            return when.isocalendar()[1]
        return int(when.strftime("%U" if dialect == "mariadb" else "%W"))
    if name in ("hour", "minute", "second"):
        return getattr(when, name)
    raise NotImplementedError(f"function {name!r}")


def _parse_when(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    text = str(value)
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        t = dt.time.fromisoformat(text)
        return dt.datetime(1970, 1, 1, t.hour, t.minute, t.second)


def _joins(row: Mapping[str, Any], paths: set[Path]) -> Iterator[dict[Path, Mapping[str, Any]]]:
    """Yield every combination of LEFT-JOINed rows for the paths (parents first)."""
    ordered = sorted(paths, key=lambda p: (len(p), p))

    def options(parent: Mapping[str, Any], field: str) -> Sequence[Mapping[str, Any]]:
        value = parent.get(field)
        if isinstance(value, list):
            return value or [NULL_ROW]
        return [value] if isinstance(value, Mapping) else [NULL_ROW]

    def walk(
        i: int, joined: dict[Path, Mapping[str, Any]]
    ) -> Iterator[dict[Path, Mapping[str, Any]]]:
        if i == len(ordered):
            yield joined
            return
        path = ordered[i]
        parent = joined[path[:-1]] if len(path) > 1 else row
        for option in options(parent, path[-1]):
            yield from walk(i + 1, {**joined, path: option})

    yield from walk(0, {})
