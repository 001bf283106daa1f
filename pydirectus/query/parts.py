"""The parts of a query, declared once: how each is checked, written, read back and shown.

A part is one Directus query parameter (``filter``, ``fields``, ``sort``, ``limit``, ...).
Its ``Kind`` says how the value is stored on a ``Query`` and turned into the query
object (``to_dict``), a GET parameter (``to_params``), read back (``from_dict`` /
``from_params``) and shown by ``repr``; ``PARTS`` lists them in the order Directus
documents them. Adding a part is one line here plus its chain method on ``Query``.
"""

from __future__ import annotations

import json
import keyword
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from pydirectus.encoding import dumps
from pydirectus.errors import InvalidQuery
from pydirectus.query.lookups import FUNCTIONS

__all__ = [
    "PARTS",
    "Part",
    "encode",
    "field_path",
    "kwargs_repr",
    "names",
    "split_names",
]

#: compact JSON, as Directus reads it in GET parameters (the one encoder write data uses too)
encode = dumps


def split_names(text: str) -> list[str]:
    """Split a comma-joined list, leaving commas inside parentheses (``json(a,b)``) alone."""
    if "(" not in text:
        return text.split(",")
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def field_path(name: str) -> str:
    """Spell a ``__`` field path as Directus does: ``author__name`` -> ``author.name``.

    A function comes last, as in lookups: ``date__year`` -> ``year(date)``,
    ``author__born__year`` -> ``author.year(born)``; a leading ``-`` (descending sort)
    stays in front. Names holding a ``.`` or ``(`` are Directus's own spelling, kept as is.
    """
    if "__" not in name or "." in name or "(" in name:
        return name
    sign, body = ("-", name[1:]) if name.startswith("-") else ("", name)
    segs = body.split("__")
    if "" in segs:
        raise InvalidQuery(f"field path {name!r}: empty segment")
    if len(segs) > 1 and segs[-1] in FUNCTIONS:
        func = segs.pop()
        segs[-1] = f"{func}({segs[-1]})"
    return sign + ".".join(segs)


def names(part: str, values: Iterable[Any]) -> tuple[str, ...]:
    """Check field names (one list argument or several), spelling ``__`` paths with dots."""
    items = list(values)
    if len(items) == 1 and isinstance(items[0], list | tuple):
        items = list(items[0])
    out = []
    for name in items:
        if not isinstance(name, str):
            raise InvalidQuery(f"{part}: names must be str, got {name!r}")
        if not name or len(split_names(name)) != 1:
            raise InvalidQuery(f"{part}: {name!r} is not one name (empty, or has a comma)")
        out.append(field_path(name))
    return tuple(out)


def kwargs_repr(items: Iterable[tuple[str, Any]]) -> str:
    """Return ``k=v, ...`` source, odd keys in a ``**{...}``."""
    plain, odd = [], []
    for k, v in items:
        if k.isidentifier() and not keyword.iskeyword(k):
            plain.append(f"{k}={v!r}")
        else:
            odd.append(f"{k!r}: {v!r}")
    if odd:
        plain.append("**{" + ", ".join(odd) + "}")
    return ", ".join(plain)


@attrs.frozen
class Kind:
    """How one kind of part is stored, written, read and shown."""

    #: the stored value meaning "not set"
    empty: Any
    #: stored value -> JSON for the query object
    to_json: Callable[[Any], Any]
    #: stored value -> GET parameter text
    to_param: Callable[[Any], str]
    #: GET parameter text -> what ``from_dict`` reads
    from_param: Callable[[str, str], Any]
    #: query-object value -> the arguments of the chain method
    arguments: Callable[[str, Any], tuple[tuple[Any, ...], dict[str, Any]]]
    #: stored value -> the source of the chain method's arguments
    show: Callable[[Any], str]


def _int_param(key: str, text: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise InvalidQuery(f"{key}: expected an integer, got {text!r}") from None


def _flag_param(key: str, text: str) -> bool:
    if text not in ("true", "false"):
        raise InvalidQuery(f"{key}: expected 'true' or 'false', got {text!r}")
    return text == "true"


def _json_param(key: str, text: str) -> Any:
    return text  # parsed in _object, which also takes JSON text in query objects


def _one(key: str, value: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return (value,), {}


def _list(key: str, value: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if isinstance(value, str):
        return tuple(split_names(value)), {}
    if not isinstance(value, list | tuple):
        raise InvalidQuery(f"{key}: expected a list or a comma-joined str")
    # Directus also reads `fields[]=id,title`: items may hold several names.
    return tuple(n for v in value for n in (split_names(v) if isinstance(v, str) else [v])), {}


def _object(key: str, value: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InvalidQuery(f"{key}: not valid JSON: {value[:80]!r}") from None
    if not isinstance(value, Mapping):
        raise InvalidQuery(f"{key}: expected an object")
    return (), dict(value)


def _joined(value: tuple[str, ...]) -> str:
    return ",".join(value)


def _listed(value: tuple[str, ...]) -> list[str]:
    return list(value)


def _shown(value: tuple[str, ...]) -> str:
    return ", ".join(map(repr, value))


NAMES = Kind((), _listed, _joined, lambda k, t: t, _list, _shown)
INT = Kind(None, lambda v: v, str, _int_param, _one, repr)
TEXT = Kind(None, lambda v: v, lambda v: v, lambda k, t: t, _one, repr)
FLAG = Kind(None, lambda v: v, lambda v: "true" if v else "false", _flag_param, _one, repr)
PAIRS = Kind(
    (),
    dict,
    lambda v: encode(dict(v)),
    _json_param,
    _object,
    lambda v: kwargs_repr(v),
)
LISTS = Kind(
    (),
    lambda v: {k: list(names) for k, names in v},
    lambda v: encode({k: list(names) for k, names in v}),
    _json_param,
    _object,
    lambda v: kwargs_repr((k, list(names)) for k, names in v),
)


@attrs.frozen
class Part:
    """One query parameter: its Directus key, the Query attribute and the chain method."""

    key: str
    attr: str
    method: str
    kind: Kind | None  # None: written by Query itself (filter, deep need the schema)

    @property
    def empty(self) -> Any:
        """Return the stored value meaning "not set"."""
        return self.kind.empty if self.kind is not None else None


#: every part, in the order queries are written and shown
PARTS: tuple[Part, ...] = (
    Part("filter", "_filter", "filter", None),
    Part("fields", "_fields", "fields", NAMES),
    Part("sort", "_sort", "sort", NAMES),
    Part("limit", "_limit", "limit", INT),
    Part("offset", "_offset", "offset", INT),
    Part("page", "_page", "page", INT),
    Part("search", "_search", "search", TEXT),
    Part("meta", "_meta", "meta", NAMES),
    Part("deep", "_deep", "deep", None),
    Part("alias", "_alias", "alias", PAIRS),
    Part("aggregate", "_aggregate", "aggregate", LISTS),
    Part("groupBy", "_group_by", "group_by", NAMES),
    Part("version", "_version", "version", TEXT),
    Part("backlink", "_backlink", "backlink", FLAG),
)
BY_KEY: Mapping[str, Part] = {p.key: p for p in PARTS}
