"""A reference evaluator: which rows a Directus filter object selects, in memory.

``evaluate(filter_json, row)`` follows Directus 12's query runner
(``api/src/database/run-ast/lib/apply-query/filter``), SQL semantics included, so the
query builder's property tests and the differential tests against a real Directus can
share one model of the server.

Rows are plain dicts:

- a scalar field holds str / int / float / bool / None (dates as ISO strings);
- a many-to-one field holds the related row (a dict) or None; a condition behind a
  None relation sees every related column as NULL, as Directus's LEFT JOIN does;
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
  on SQLite): LIKE ignores case for ASCII letters only and ``LOWER()`` lowers ASCII only.
  ``dialect="postgres"``: LIKE is case-sensitive and ``LOWER()`` lowers everything;
- a plain path into a one-to-many field means "some related row matches"; ``_some`` /
  ``_none`` are explicit and independent. In one scope (a filter object, or all the
  objects of one ``_and``; ``_some``/``_none`` open a new one) plain conditions on the
  same relational field are checked against the *same* related row: Directus folds them
  into one EXISTS per one-to-many field and joins a many-to-one field once
  (``merge_o2m=False`` checks each condition on its own instead);
- a multi-key object is the AND of its keys (Directus itself reads only the first key
  of a nested object; the query builder never sends more than one);
- not modelled either: Directus joins a many-to-one-then-one-to-many path once for the
  whole filter, so such conditions share a related row even across ``_or`` branches;
  here they are merged per scope only.
- ``_or`` holding ``{}`` (or empty) matches every row;
- functions: ``year`` ... ``second`` of an ISO date/time string (``weekday``: 0 = Sunday,
  ``week``: SQLite's ``%W``), ``count`` of a list (NULL for a NULL field).

Not modelled (raise NotImplementedError): geometry operators, dynamic variables
(``$NOW``, ``$CURRENT_USER``), operators applied to a one-to-many field itself.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["evaluate"]

_FUNCTION_KEY = re.compile(r"^(\w+)\((.*)\)$", re.DOTALL)
_QUANTIFIERS = ("_some", "_none")


def evaluate(
    filter_json: Mapping[str, Any],
    row: Mapping[str, Any],
    *,
    dialect: str = "sqlite",
    merge_o2m: bool = True,
) -> bool:
    """Return whether Directus would select ``row`` with this filter object."""
    if dialect not in ("sqlite", "postgres"):
        raise ValueError(f"unknown dialect {dialect!r}")
    return _Evaluator(dialect, merge_o2m).group(filter_json, row)


class _Evaluator:
    def __init__(self, dialect: str, merge_o2m: bool) -> None:
        self.sqlite = dialect == "sqlite"
        self.merge = merge_o2m

    # ---------------------------------------------------------------- structure

    def group(self, flt: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
        """Evaluate one filter object as its own scope."""
        return self.scope([flt], row)

    def scope(self, filters: Sequence[Mapping[str, Any]], row: Mapping[str, Any]) -> bool:
        """Evaluate filter objects ANDed in one scope (a filter, or the items of an _and).

        Plain relational conditions on the same field are checked against the same
        related row: Directus folds them into one EXISTS (one-to-many) or one join.
        """
        entries: list[tuple[str, Any]] = []
        for flt in filters:
            if not isinstance(flt, Mapping):
                raise TypeError(f"expected a filter object, got {flt!r}")
            entries.extend(flt.items())
        if not self.merge:
            return all(
                self.field_specs(k, [v], row) if not k.startswith("_") else self.logical(k, v, row)
                for k, v in entries
            )
        by_field: dict[str, list[Any]] = {}
        for key, spec in entries:
            if key.startswith("_"):
                if not self.logical(key, spec, row):
                    return False
            else:
                by_field.setdefault(key, []).append(spec)
        return all(self.field_specs(key, specs, row) for key, specs in by_field.items())

    def logical(self, key: str, spec: Any, row: Mapping[str, Any]) -> bool:
        if key == "_and":
            return self.scope(list(spec), row)
        if key == "_or":
            if not spec or any(sub == {} for sub in spec):
                return True
            return any(self.group(sub, row) for sub in spec)
        raise ValueError(f"operator {key!r} without a field")

    def field_specs(self, key: str, specs: list[Any], row: Mapping[str, Any]) -> bool:
        """Evaluate every condition on one field of a scope (nested ones merged)."""
        m = _FUNCTION_KEY.match(key)
        value = _function(m.group(1), row.get(m.group(2))) if m else row.get(key)
        nested: list[tuple[str, Any]] = []
        for spec in specs:
            if not isinstance(spec, Mapping):
                spec = {"_eq": spec}
            for k, v in spec.items():
                if k in _QUANTIFIERS:
                    if m is not None or isinstance(value, Mapping):
                        raise ValueError(f"{k} needs a one-to-many field: {key}")
                    hit = any(self.group(v, child) for child in value or [])
                    if hit != (k == "_some"):
                        return False
                elif k in ("_and", "_or"):
                    raise ValueError(f"{key}: Directus ignores {k} below a field")
                elif k.startswith("_"):
                    if isinstance(value, list):
                        raise NotImplementedError(f"operators on a one-to-many field: {key}")
                    if not self.operator(k, v, _scalar(value)):
                        return False
                elif m is not None:
                    raise ValueError(f"{key}: a function result has no fields")
                else:
                    nested.append((k, v))
        if not nested:
            return True
        if isinstance(value, list):
            return any(self.scope([dict([e]) for e in nested], child) for child in value)
        related = value if isinstance(value, Mapping) else {}
        return self.scope([dict([e]) for e in nested], related)

    # ---------------------------------------------------------------- operators

    def operator(self, op: str, arg: Any, v: Any) -> bool:
        _check_arg(arg)
        if op in ("_null", "_nnull", "_empty", "_nempty"):
            positive = arg is not False
            if op in ("_nnull", "_nempty"):
                positive = not positive
            if op in ("_null", "_nnull"):
                return (v is None) if positive else (v is not None)
            empty = v is None or v == ""
            return empty if positive else not empty
        if op == "_eq" and arg is None:
            return v is None
        if op == "_neq" and arg is None:
            return v is not None
        if v is None:
            return False  # every other operator is NULL (not true) on a NULL column
        if op in ("_eq", "_neq"):
            return _equal(v, arg) == (op == "_eq")
        if op in ("_in", "_nin"):
            items = arg.split(",") if isinstance(arg, str) else arg
            return any(_equal(v, a) for a in items) == (op == "_in")
        if op in ("_lt", "_lte", "_gt", "_gte"):
            c = _compare(v, arg)
            return {"_lt": c < 0, "_lte": c <= 0, "_gt": c > 0, "_gte": c >= 0}[op]
        if op in ("_between", "_nbetween"):
            low, high = arg.split(",") if isinstance(arg, str) else arg
            inside = _compare(v, low) >= 0 and _compare(v, high) <= 0
            return inside == (op == "_between")
        if op in ("_ieq", "_nieq"):
            return (self.lower(_text(v)) == str(arg).lower()) == (op == "_ieq")
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

    def like(self, text: str, pattern: str) -> bool:
        if self.sqlite:
            text, pattern = _ascii_lower(text), _ascii_lower(pattern)
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


def _function(name: str, value: Any) -> Any:
    if name == "count":
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
        return when.isoweekday() % 7
    if name == "week":
        return int(when.strftime("%W"))
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
