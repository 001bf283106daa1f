"""The parts of a query, declared once: the one table of Directus's global query parameters.

A part is one Directus query parameter (``filter``, ``fields``, ``sort``, ``limit``, ...).
``PARTS`` holds one row per part, in the order queries are written and shown:

- ``name``: its Python name: the chain method (``Query.group_by``) and, with a leading
  ``_``, the ``Query`` attribute holding it;
- ``key``: its Directus key (``groupBy``), in query objects and GET parameters;
- ``chain``: whether its chain method ADDs to what is there or REPLACEs it (what
  ``Query.merge`` does with it too);
- ``role``: what it says about a read (``Role``); the read path keeps the parts a read
  needs by role: ``WINDOW_KEYS``, ``ITEM_READ_KEYS``, ``COUNT_KEYS``, ``SHAPE_KEYS``;
- ``kind``: how the value is stored on a ``Query`` and turned into the query object
  (``to_dict``), a GET parameter (``to_params``), read back (``from_dict`` /
  ``from_params``) and shown by ``repr`` (None: ``Query`` writes it, with the schema).

Adding a part is one row here plus its chain method on ``Query`` (an attribute
``_<name>`` defaulting to the kind's empty value) and on ``pydirectus.query.bound.BoundChain``.
"""

from __future__ import annotations

import enum
import json
import keyword
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from pydirectus.encoding import check_unicode, dumps
from pydirectus.errors import InvalidQuery
from pydirectus.query.lookups import FUNCTIONS

__all__ = [
    "BY_KEY",
    "BY_NAME",
    "COUNT_KEYS",
    "ITEM_READ_KEYS",
    "PARTS",
    "SHAPE_KEYS",
    "WINDOW_KEYS",
    "Chain",
    "Kind",
    "Part",
    "Role",
    "encode",
    "field_path",
    "keys_for",
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
        out.append(field_path(check_unicode(name, part)))
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


class Chain(enum.Enum):
    """What a part's chain method does with the value already there."""

    #: ANDed with it (filter), or merged key by key, a key named again replaced (deep, ...)
    ADD = "ADD"
    #: replaced whole; None (or nothing) clears it
    REPLACE = "REPLACE"


class Role(enum.Flag):
    """What a part says about a read; the read path keeps the parts a read needs by role.

    Each part has one role; the composite ones name what a kind of read keeps.
    """

    #: which items match: filter
    MATCH = 1
    #: which items match, by full text: search (a read by key leaves it out)
    SEARCH = 2
    #: what to read of each item: fields, deep, alias, backlink
    SHAPE = 4
    #: which content version of the items: version
    VERSION = 8
    #: in what order: sort
    ORDER = 16
    #: which of the matches: limit, offset, page
    WINDOW = 32
    #: which counts come with them: meta
    META = 64
    #: aggregates (per group) instead of items: aggregate, groupBy
    GROUP = 128
    #: what reading one item by key keeps: whether it matches, what and which version to read
    ITEM_READ = MATCH | SHAPE | VERSION
    #: what narrows a count of the matches
    COUNT = MATCH | SEARCH | VERSION


@attrs.frozen
class Part:
    """One query parameter: Python name, Directus key, add or replace, read role, kind."""

    #: the chain method (``group_by``); the Query attribute is ``_`` + name
    name: str
    #: the Directus key (``groupBy``)
    key: str
    chain: Chain
    role: Role
    #: None: written by Query itself (filter and deep need the schema)
    kind: Kind | None

    @property
    def attr(self) -> str:
        """Return the name of the Query attribute holding the part."""
        return "_" + self.name


_ADD, _REPLACE = Chain.ADD, Chain.REPLACE

#: every part, in the order queries are written and shown
PARTS: tuple[Part, ...] = (
    #    name         Directus key  chain     role           kind
    Part("filter",    "filter",     _ADD,     Role.MATCH,    None),
    Part("fields",    "fields",     _REPLACE, Role.SHAPE,    NAMES),
    Part("sort",      "sort",       _REPLACE, Role.ORDER,    NAMES),
    Part("limit",     "limit",      _REPLACE, Role.WINDOW,   INT),
    Part("offset",    "offset",     _REPLACE, Role.WINDOW,   INT),
    Part("page",      "page",       _REPLACE, Role.WINDOW,   INT),
    Part("search",    "search",     _REPLACE, Role.SEARCH,   TEXT),
    Part("meta",      "meta",       _REPLACE, Role.META,     NAMES),
    Part("deep",      "deep",       _ADD,     Role.SHAPE,    None),
    Part("alias",     "alias",      _ADD,     Role.SHAPE,    PAIRS),
    Part("aggregate", "aggregate",  _ADD,     Role.GROUP,    LISTS),
    Part("group_by",  "groupBy",    _REPLACE, Role.GROUP,    NAMES),
    Part("version",   "version",    _REPLACE, Role.VERSION,  TEXT),
    Part("backlink",  "backlink",   _REPLACE, Role.SHAPE,    FLAG),
)  # fmt: skip
BY_KEY: Mapping[str, Part] = {p.key: p for p in PARTS}
BY_NAME: Mapping[str, Part] = {p.name: p for p in PARTS}


def keys_for(roles: Role) -> tuple[str, ...]:
    """Return the Directus keys of the parts playing any of ``roles``, in ``PARTS`` order."""
    return tuple(p.key for p in PARTS if p.role & roles)


#: what says which of the matches a read returns: ("limit", "offset", "page")
WINDOW_KEYS = keys_for(Role.WINDOW)
#: what a read of one item by key keeps:
#: ("filter", "fields", "deep", "alias", "version", "backlink")
ITEM_READ_KEYS = keys_for(Role.ITEM_READ)
#: what narrows a count of the matches: ("filter", "search", "version")
COUNT_KEYS = keys_for(Role.COUNT)
#: what to read of each item: ("fields", "deep", "alias", "backlink")
SHAPE_KEYS = keys_for(Role.SHAPE)
