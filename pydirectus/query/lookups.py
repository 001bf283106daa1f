"""The lookup registry: lookup name -> Directus operator, its complement, its value check.

Operator facts below were read from Directus 12's source:

- ``api/src/database/run-ast/lib/apply-query/filter/operator.ts`` turns each operator
  into SQL. Every negative operator (``_neq``, ``_nin``, ``_ncontains``, ``_nbetween``,
  ``_nstarts_with``, ...) is ``NOT <positive>`` (or ``<>``), so, SQL being three-valued,
  it never matches a NULL column. The complement of such a condition is therefore
  ``<negative operator> OR _null``. ``_null``/``_nnull`` and ``_empty``/``_nempty``
  (``_empty`` is ``IS NULL OR = ''``) are exact complements of each other.
- ``packages/utils/shared/get-filter-operators-for-type.ts`` lists the operators each
  field type accepts; ``validate-operator.ts`` rejects anything else with 400
  INVALID_QUERY. No list contains ``nicontains``, ``ieq`` or ``nieq`` (although the
  runner implements them), so the server refuses those on every field:

  ===================================  ==================================================
  string, text, csv, binary            eq neq in nin null nnull empty nempty contains
                                       ncontains icontains (n)(i)starts_with
                                       (n)(i)ends_with, and in some releases lt lte gt gte
                                       between nbetween
  integer, bigInteger, float, decimal  eq neq lt lte gt gte between nbetween null nnull
  date, dateTime, time (and functions  in nin
  such as year(), count())
  uuid                                 eq neq null nnull in nin
  boolean                              eq neq null nnull
  json                                 null nnull
  hash                                 empty nempty null nnull
  geometry                             eq neq null nnull (n)intersects (n)intersects_bbox
  other types                          contains ncontains eq neq lt lte gt gte between
                                       nbetween empty nempty null nnull in nin
  ===================================  ==================================================

- ``_regex`` exists only for field validation (``FieldValidationOperator``); the query
  runner has no SQL for it, so it is not a lookup.
- LIKE wildcards in values (``%``, ``_``) reach SQL unescaped; ``contains="a_b"``
  also matches ``"axb"``. Complements use the same pattern, so they stay exact.

Directus 12 also refuses ``""`` as the value of any operator outside a list
(``validate-query.ts``: "use _empty or _nempty"), so ``eq ""`` is stored as ``in [""]``,
``neq ""`` as ``nin [""]``, and a LIKE operator's ``""`` as ``"%"`` (the same pattern).

``nicontains`` is compiled around the gap: ``_nistarts_with: "%" + value`` produces the
very SQL ``_nicontains`` would (``LOWER(col) NOT LIKE '%value%'``), and the string field
types accept ``_nistarts_with``. For the same reason ``istarts_with``/``nistarts_with``
values starting with ``%`` are stored as ``icontains``/``nicontains``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from pydirectus.encoding import CONVERTED, convert
from pydirectus.errors import InvalidQuery
from pydirectus.query.variables import Now, Variable

__all__ = [
    "AGGREGATES",
    "FUNCTIONS",
    "QUANTIFIERS",
    "JSONObject",
    "Lookup",
    "get_lookup",
    "lookup_names",
    "register_lookup",
]

#: Functions a lookup may put before its operator (``date__year``, ``comments__count``).
FUNCTIONS: frozenset[str] = frozenset(
    {"year", "month", "week", "day", "weekday", "hour", "minute", "second", "count"}
)
#: Functions accepted in raw filter keys only: ``json(field, path)`` needs an argument
#: a lookup cannot spell.
RAW_FUNCTIONS: frozenset[str] = FUNCTIONS | {"json"}
QUANTIFIERS: frozenset[str] = frozenset({"some", "none"})

#: Directus aggregate functions, keyed by every accepted spelling.
AGGREGATES: Mapping[str, str] = {
    **{
        name: name
        for name in (
            "count",
            "countDistinct",
            "countAll",
            "sum",
            "sumDistinct",
            "avg",
            "avgDistinct",
            "min",
            "max",
        )
    },
    "count_distinct": "countDistinct",
    "count_all": "countAll",
    "sum_distinct": "sumDistinct",
    "avg_distinct": "avgDistinct",
}


class JSONObject(tuple[tuple[str, Any], ...]):
    """An immutable JSON object (say, GeoJSON) kept as ordered ``(key, value)`` pairs."""

    __slots__ = ()

    def to_json(self) -> dict[str, Any]:
        """Return the object as a plain dict."""
        return {k: to_json(v) for k, v in self}

    def __repr__(self) -> str:
        return repr(self.to_json())


Validator = Callable[[str, Any], Any]
"""Check a normalised value for one lookup key; return what to store or raise InvalidQuery."""


@attrs.frozen
class Lookup:
    """One registry entry: a lookup name and the Directus operator it stands for."""

    name: str
    #: the Directus operator, without its leading underscore
    operator: str
    #: the operator matching the rows this one does not (ignoring NULLs), if any
    complement: str | None
    #: True when the complement operator skips NULL rows, so negation adds ``OR _null``
    complement_needs_null: bool
    validator: Validator = attrs.field(eq=False)
    #: the value is a flag, and ``False`` means the complement (``null: False`` == ``nnull``)
    boolean: bool = False


# ---------------------------------------------------------------------------- values


def normalize(value: Any) -> Any:
    """Turn a Python value into the plain, hashable JSON value a query stores."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return value
    if t is float:
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a JSON number")
        return value
    if isinstance(value, (Variable, Now)):
        return str(value)
    if isinstance(value, JSONObject):
        return value
    if isinstance(value, list | tuple):
        return tuple(normalize(v) for v in value)
    if isinstance(value, set | frozenset):
        # Sorted, so that the same set always gives the same URL.
        items = [normalize(v) for v in value]
        return tuple(sorted(items, key=lambda v: (type(v).__name__, str(v))))
    if isinstance(value, Mapping):
        pairs = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"object keys must be str, got {k!r}")
            pairs.append((k, normalize(v)))
        return JSONObject(pairs)
    # Subclasses (IntEnum, str-based enums) are stored as their plain base value.
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return normalize(float(value))
    if isinstance(value, str):
        return value[:]
    if isinstance(value, CONVERTED):
        # datetime, Decimal, UUID, Enum, set: converted as write data is (pydirectus.encoding)
        return normalize(convert(value))
    if isinstance(value, Iterable) and not isinstance(value, bytes | bytearray):
        # ranges, generators, dict views, numpy arrays: the values they yield
        return tuple(normalize(v) for v in value)
    raise ValueError(f"unsupported value type {t.__name__}")


def to_json(value: Any) -> Any:
    """Return the JSON form of a stored value (tuples become lists)."""
    if type(value) is tuple:
        return [to_json(v) for v in value]
    if type(value) is JSONObject:
        return value.to_json()
    return value


def _scalar(v: Any) -> bool:
    return v is None or type(v) in (str, int, float, bool)


def _fail(key: str, message: str) -> InvalidQuery:
    return InvalidQuery(f"{key}: {message}")


def validate_value(key: str, value: Any) -> Any:
    """Accept one JSON scalar or object (None means ``_null``)."""
    if _scalar(value) or type(value) is JSONObject:
        return value
    raise _fail(key, f"expected a single value, got a list {to_json(value)!r}")


def validate_ordered(key: str, value: Any) -> Any:
    """Accept a str, number or bool to compare against."""
    if value is None:
        raise _fail(key, "cannot compare with None; use __null=True / __isnull=True")
    if type(value) in (str, int, float, bool):
        return value
    raise _fail(key, f"expected a str, number or bool, got {to_json(value)!r}")


def validate_pattern(key: str, value: Any) -> Any:
    """Accept the str or number a LIKE operator searches for."""
    if type(value) in (str, int, float):
        return value
    raise _fail(key, f"expected a str or number, got {to_json(value)!r}")


def validate_text(key: str, value: Any) -> Any:
    """Accept a str (Directus lower-cases it, so it must be a string)."""
    if type(value) is str:
        return value
    raise _fail(key, f"expected a str, got {to_json(value)!r}")


def validate_list(key: str, value: Any) -> Any:
    """Accept a list (any iterable) of values, none of them None; empty is allowed."""
    if type(value) is not tuple:
        raise _fail(key, f"expected a list of values, got {to_json(value)!r}")
    for v in value:
        if v is None:
            # SQL's `x NOT IN (.., NULL)` is never true, so a None would break the
            # complement; say what to write instead.
            raise _fail(key, "None cannot be in the list; OR in a separate __null=True")
        if not _scalar(v):
            raise _fail(key, f"list items must be single values, got {to_json(v)!r}")
    return value


def validate_pair(key: str, value: Any) -> Any:
    """Accept exactly two non-None values, low and high."""
    if type(value) is not tuple or len(value) != 2:
        raise _fail(key, f"expected exactly two values [low, high], got {to_json(value)!r}")
    if not all(v is not None and _scalar(v) for v in value):
        raise _fail(key, f"expected two non-None values, got {to_json(value)!r}")
    return value


def validate_flag(key: str, value: Any) -> Any:
    """Accept True or False."""
    if type(value) is bool:
        return value
    raise _fail(key, f"expected True or False, got {to_json(value)!r}")


def validate_geometry(key: str, value: Any) -> Any:
    """Accept a GeoJSON geometry (a dict) or its string form."""
    if type(value) in (str, JSONObject):
        return value
    raise _fail(key, f"expected a GeoJSON geometry, got {to_json(value)!r}")


# -------------------------------------------------------------------------- registry

#: operator name -> its canonical Lookup (the one whose name is the operator)
OPERATORS: dict[str, Lookup] = {}
#: every lookup name, aliases included -> Lookup
LOOKUPS: dict[str, Lookup] = {}
#: lookup names that are refused on purpose -> why
REFUSED: dict[str, str] = {
    "iexact": (
        "Directus 12 cannot filter on case-insensitive equality: its runner knows "
        "_ieq, but no field type admits it (400 INVALID_QUERY); use istarts_with and "
        "iends_with to narrow, or register_lookup('ieq', ...) if your server allows it"
    ),
    "ieq": "Directus 12 rejects _ieq on every field type (see 'iexact')",
    "nieq": "Directus 12 rejects _nieq on every field type (see 'iexact')",
    "regex": (
        "Directus's _regex only validates payloads; item queries cannot use it "
        "(the query runner has no SQL for it)"
    ),
}
_OPERATOR_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _define(
    name: str,
    complement: str | None,
    validator: Validator,
    *,
    needs_null: bool = True,
    boolean: bool = False,
) -> None:
    lookup = Lookup(name, name, complement, needs_null, validator, boolean)
    OPERATORS[name] = lookup
    LOOKUPS[name] = lookup


def _alias(name: str, operator: str) -> None:
    LOOKUPS[name] = attrs.evolve(OPERATORS[operator], name=name)


def _pair(a: str, b: str, validator: Validator, **kw: Any) -> None:
    _define(a, b, validator, **kw)
    _define(b, a, validator, **kw)


_pair("eq", "neq", validate_value)
_pair("lt", "gte", validate_ordered)
_pair("gt", "lte", validate_ordered)
_pair("in", "nin", validate_list)
_pair("null", "nnull", validate_flag, needs_null=False, boolean=True)
_pair("empty", "nempty", validate_flag, needs_null=False, boolean=True)
_pair("contains", "ncontains", validate_pattern)
_pair("icontains", "nicontains", validate_text)
_pair("starts_with", "nstarts_with", validate_pattern)
_pair("istarts_with", "nistarts_with", validate_text)
_pair("ends_with", "nends_with", validate_pattern)
_pair("iends_with", "niends_with", validate_text)
_pair("between", "nbetween", validate_pair)
_pair("intersects", "nintersects", validate_geometry)
_pair("intersects_bbox", "nintersects_bbox", validate_geometry)

_alias("exact", "eq")
_alias("isnull", "null")
_alias("range", "between")
_alias("startswith", "starts_with")
_alias("istartswith", "istarts_with")
_alias("endswith", "ends_with")
_alias("iendswith", "iends_with")


def register_lookup(
    name: str,
    operator: str | None = None,
    *,
    complement: str | None = None,
    complement_needs_null: bool = True,
    validator: Validator | None = None,
    boolean: bool = False,
) -> None:
    """Register lookup ``name`` for Directus operator ``operator`` (default: ``name``).

    Naming a known operator with no ``complement`` or ``validator`` adds an alias.
    Otherwise the operator is (re)defined: ``complement`` is the operator matching
    exactly the non-NULL rows it does not; set ``complement_needs_null=False`` when the
    complement also covers NULL rows. Without a complement the lookup cannot be negated.
    """
    op = name if operator is None else operator
    for label, word in (("name", name), ("operator", op)):
        if not isinstance(word, str) or not _OPERATOR_NAME.match(word) or "__" in word:
            raise InvalidQuery(f"register_lookup: invalid {label} {word!r}")
    if name in FUNCTIONS or name in QUANTIFIERS:
        raise InvalidQuery(f"register_lookup: {name!r} is a function or quantifier name")
    if complement is not None and not _OPERATOR_NAME.match(complement):
        raise InvalidQuery(f"register_lookup: invalid complement {complement!r}")
    REFUSED.pop(name, None)
    if op in OPERATORS and complement is None and validator is None and not boolean:
        if op != name:
            _alias(name, op)
        return
    REFUSED.pop(op, None)
    entry = Lookup(op, op, complement, complement_needs_null, validator or validate_value, boolean)
    OPERATORS[op] = entry
    LOOKUPS[op] = entry
    if name != op:
        _alias(name, op)


def get_lookup(name: str) -> Lookup | None:
    """Return the registry entry for a lookup name, or None."""
    return LOOKUPS.get(name)


def lookup_names() -> list[str]:
    """Return every registered lookup name, sorted."""
    return sorted(LOOKUPS)


def suggest(word: str, candidates: Iterable[str], cutoff: float = 0.8) -> str | None:
    """Return the closest candidate to a misspelt word, if any is close."""
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return found[0] if found else None


def transposed(word: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate that ``word`` spells with two adjacent letters swapped."""
    for cand in candidates:
        if len(cand) == len(word) and cand != word:
            diff = [i for i, (a, b) in enumerate(zip(word, cand, strict=True)) if a != b]
            if len(diff) == 2 and diff[1] == diff[0] + 1 and sorted(word) == sorted(cand):
                return cand
    return None


def unknown_operator(key: str, word: str) -> InvalidQuery:
    """Build the error for an unknown operator, with a suggestion when one is close."""
    name = word[1:] if word.startswith("_") else word
    if name in REFUSED:
        return _fail(key, f"operator {word!r} is not supported: {REFUSED[name]}")
    hint = suggest(name, [*LOOKUPS, *FUNCTIONS])
    if hint and word.startswith("_"):
        hint = "_" + hint
    tail = f" (did you mean {hint!r}?)" if hint else ""
    return _fail(key, f"unknown operator {word!r}{tail}")


def make_condition_value(key: str, operator: str, value: Any) -> tuple[str, Any]:
    """Validate a value for an operator and return the canonical (operator, value)."""
    try:
        value = normalize(value)
    except ValueError as exc:
        raise _fail(key, str(exc)) from None
    entry = OPERATORS[operator]
    value = entry.validator(key, value)
    if value is None and operator in ("eq", "neq"):
        # Directus runs `_eq: null` as IS NULL; store the explicit form so both
        # spellings compare equal and negate exactly.
        return ("null" if operator == "eq" else "nnull"), True
    if entry.boolean and value is False and entry.complement is not None:
        return entry.complement, True
    if operator in _LIKE_OPERATORS and value == "" and type(value) is str:
        value = "%"
    if operator in ("istarts_with", "nistarts_with") and type(value) is str and value[:1] == "%":
        operator, value = ("icontains" if operator == "istarts_with" else "nicontains"), value[1:]
    if value == "" and type(value) is str:
        # Directus 12 refuses "" as an operator's value (400, "use _empty"), but not in
        # a list, and a LIKE pattern of "%" is the same as one of "".
        if operator in ("eq", "neq"):
            return ("in" if operator == "eq" else "nin"), ("",)
        if operator in _LIKE_OPERATORS:
            return operator, "%"
    return operator, value


_LIKE_OPERATORS = frozenset(
    f"{n}{i}{op}"
    for n in ("", "n")
    for i in ("", "i")
    for op in ("contains", "starts_with", "ends_with")
)
