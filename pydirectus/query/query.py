"""Query: an immutable, chainable description of a Directus item query.

Every chain method returns a new Query. ``filter``/``exclude`` ADD conditions (ANDed
with what is there); ``deep``, ``alias`` and ``aggregate`` ADD entries (naming a key
again replaces that key); every other method REPLACES its part. Passing ``None`` to
``limit``/``offset``/``page``/``search``/``version``/``backlink``, or nothing to
``fields``/``sort``/``meta``/``group_by``, clears it.

Which part adds and which replaces, its Directus key, and how it is written, read back
and shown are declared once, in ``pydirectus.query.parts.PARTS``; the attributes of
``Query`` are the parts, in that table's order.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from pydirectus.errors import InvalidQuery
from pydirectus.query.filters import (
    EMPTY,
    Node,
    Q,
    combine,
    compile_filter,
    make_and,
    negate,
    node_repr,
    parse_filter,
)
from pydirectus.query.lookups import AGGREGATES
from pydirectus.query.parts import (
    BY_KEY,
    NAMES,
    PARTS,
    Chain,
    encode,
    field_path,
    kwargs_repr,
    names,
)

if TYPE_CHECKING:
    from typing_extensions import Self

    from pydirectus.query.schema import Schema

__all__ = ["Query", "query_to_params"]

_encode = encode
_META = frozenset({"total_count", "filter_count", "*"})
#: the Directus keys holding name lists, comma-joined in GET parameters
_LIST_PARAMS = frozenset(p.key for p in PARTS if p.kind is NAMES)
#: every part's value, in PARTS order, in one call
_VALUES = operator.attrgetter(*(p.attr for p in PARTS))


def _count(part: str, value: Any, low: int) -> int | None:
    if value is None:
        return None
    if type(value) is not int:
        raise InvalidQuery(f"{part}: expected an int, got {value!r}")
    if value < low and not (part == "limit" and value == -1):
        rule = {"limit": "a count >= 0, or -1 for all", "offset": ">= 0", "page": ">= 1"}
        raise InvalidQuery(f"{part}: expected {rule[part]}, got {value}")
    return value


def _text(part: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidQuery(f"{part}: expected a str, got {value!r}")
    return value


def _merge(
    old: tuple[tuple[str, Any], ...], new: Iterable[tuple[str, Any]]
) -> tuple[tuple[str, Any], ...]:
    merged = dict(old)
    merged.update(new)
    return tuple(merged.items())


def _aggregates(funcs: Mapping[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    out = []
    for name, fields in funcs.items():
        func = AGGREGATES.get(name)
        if func is None:
            known = ", ".join(sorted({*AGGREGATES.values()}))
            raise InvalidQuery(f"aggregate {name!r}: unknown function (known: {known})")
        items = (fields,) if isinstance(fields, str) else fields
        if not isinstance(items, list | tuple) or not items:
            raise InvalidQuery(f"aggregate {name!r}: expected a field name or a list of them")
        out.append((func, names(f"aggregate {name!r}", items)))
    return out


def _aliases(entries: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    for name, field in entries.items():
        if not name or "." in name:
            raise InvalidQuery(f"alias {name!r}: an alias name cannot be empty or contain '.'")
        if not isinstance(field, str) or not field:
            raise InvalidQuery(f"alias {name!r}: expected a field name, got {field!r}")
        out.append((name, field_path(field)))
    return out


def _deeps(entries: Mapping[str, Any]) -> list[tuple[str, Query]]:
    out: dict[str, Query] = {}
    for name, sub in entries.items():
        if not isinstance(name, str) or not name or name.startswith("_"):
            raise InvalidQuery(f"deep {name!r}: expected a relational field name")
        if isinstance(sub, Mapping):
            # Directus's own form ({"_limit": 5}) or a query object ({"limit": 5}).
            underscored = bool(sub) and all(str(k).startswith("_") for k in sub)
            sub = Query._parse(sub, "_") if underscored else Query.from_dict(sub)
        if not isinstance(sub, Query):
            raise InvalidQuery(
                f"deep {name!r}: expected a Query or a dict, got {type(sub).__name__}"
            )
        head, _, rest = field_path(name).partition(".")
        if rest:
            # author__comments=q is author -> comments -> q, as Directus nests deep.
            prev = out.get(head) or Query()
            sub = prev.deep(**{rest.replace(".", "__"): sub})
        out[head] = sub
    return list(out.items())


def _window_start(part: str, offset: int | None, limit: int | None, page: int | None) -> int:
    if page is None:
        return offset or 0
    if limit in (None, -1):
        raise InvalidQuery(f"{part}: page(n) needs limit(size) to say where page n starts")
    assert limit is not None
    return (page - 1) * limit


@attrs.frozen(repr=False)
class Query:
    """A Directus item query: filter, fields, sort, pagination, aggregation, deep, ...

    Build it by chaining (``Query().filter(views__gt=10).sort("-date").limit(20)``),
    compile it with ``to_dict()`` / ``to_params()``, parse one back with ``from_dict()`` /
    ``from_params()``. Slicing (``q[20:30]``) sets offset and limit.

    This is the builder (``pydirectus.Query``). The plain query dict it compiles to has its
    own type, ``pydirectus.models.Query`` (a TypedDict, the name pydirectus 0.2 used).
    """

    # One attribute per row of PARTS, in its order: ``_`` + name, defaulting to "not set".
    _filter: Node = EMPTY
    _fields: tuple[str, ...] = ()
    _sort: tuple[str, ...] = ()
    _limit: int | None = None
    _offset: int | None = None
    _page: int | None = None
    _search: str | None = None
    _meta: tuple[str, ...] = ()
    _deep: tuple[tuple[str, Query], ...] = ()
    _alias: tuple[tuple[str, str], ...] = ()
    _aggregate: tuple[tuple[str, tuple[str, ...]], ...] = ()
    _group_by: tuple[str, ...] = ()
    _version: str | None = None
    _backlink: bool | None = None

    def _evolve(self, **changes: Any) -> Self:
        # attrs.evolve, minus its per-call introspection: chains run on hot paths.
        values = _ALL_FIELDS(self)
        return type(self)(*[changes.get(name, value) for name, value in zip(_INIT_NAMES, values,
                                                                           strict=True)])

    # ----------------------------------------------------------------- chain methods

    def filter(self, *qs: Q | Mapping[str, Any], **lookups: Any) -> Self:
        """ADD conditions (Q objects, raw filter dicts, lookups), ANDed with the current ones."""
        return self._evolve(filter=make_and((self._filter, combine("filter", qs, lookups))))

    def exclude(self, *qs: Q | Mapping[str, Any], **lookups: Any) -> Self:
        """ADD the complement of the given conditions (together), ANDed with the current ones."""
        negated = negate(combine("exclude", qs, lookups))
        return self._evolve(filter=make_and((self._filter, negated)))

    def fields(self, *names_: str | Iterable[str]) -> Self:
        """REPLACE the fields to return (``"*"``, ``"author.*"``, ``"author__name"``, or a list)."""
        return self._evolve(fields=names("fields", names_))

    def sort(self, *keys: str | Iterable[str]) -> Self:
        """REPLACE the sort keys (``"-date"`` descending, ``"author__name"``, or a list)."""
        return self._evolve(sort=names("sort", keys))

    def order_by(self, *keys: str | Iterable[str]) -> Self:
        """Django's name for ``sort``: REPLACE the sort keys (``"-date"`` descending)."""
        return self.sort(*keys)

    def only(self, *names_: str | Iterable[str]) -> Self:
        """Django's name for ``fields``: REPLACE the fields to return."""
        return self.fields(*names_)

    def limit(self, n: int | None) -> Self:
        """REPLACE the page size (``-1`` means all items, None clears)."""
        return self._evolve(limit=_count("limit", n, 0))

    def offset(self, n: int | None) -> Self:
        """REPLACE the number of items to skip."""
        return self._evolve(offset=_count("offset", n, 0))

    def page(self, n: int | None) -> Self:
        """REPLACE the page number (1-based; Directus uses it with limit)."""
        return self._evolve(page=_count("page", n, 1))

    def search(self, text: str | None) -> Self:
        """REPLACE the full-text search term."""
        return self._evolve(search=_text("search", text))

    def meta(self, *kinds: str) -> Self:
        """REPLACE the metadata to ask for: ``"total_count"``, ``"filter_count"`` or ``"*"``."""
        for kind in kinds:
            if not isinstance(kind, str) or kind not in _META:
                raise InvalidQuery(f"meta: unknown {kind!r} (known: *, filter_count, total_count)")
        return self._evolve(meta=tuple(kinds))

    def aggregate(self, **functions: str | Iterable[str]) -> Self:
        """ADD aggregate functions: ``aggregate(count="*", sum=["price", "qty"])``."""
        return self._evolve(aggregate=_merge(self._aggregate, _aggregates(functions)))

    def group_by(self, *fields: str | Iterable[str]) -> Self:
        """REPLACE the grouping fields (``"date__year"``/``"year(date)"``, or a list)."""
        return self._evolve(group_by=names("group_by", fields))

    def deep(self, **relations: Query | Mapping[str, Any]) -> Self:
        """ADD nested queries for relational fields: ``deep(comments=Query().limit(5))``.

        A dict works too (``{"_limit": 5}`` or ``{"limit": 5}``); ``author__comments=...``
        nests through ``author``.
        """
        return self._evolve(deep=_merge(self._deep, _deeps(relations)))

    def alias(self, **names_: str) -> Self:
        """ADD field aliases: ``alias(writer="author")``."""
        return self._evolve(alias=_merge(self._alias, _aliases(names_)))

    def version(self, name: str | None) -> Self:
        """REPLACE the content version to read."""
        return self._evolve(version=_text("version", name))

    def backlink(self, flag: bool | None) -> Self:
        """REPLACE whether ``*.*`` field expansion follows relations back to the parent."""
        if flag is not None and type(flag) is not bool:
            raise InvalidQuery(f"backlink: expected True or False, got {flag!r}")
        return self._evolve(backlink=flag)

    def merge(self, other: Query | Mapping[str, Any]) -> Self:
        """Return this query combined with another: filters AND, deep/alias/aggregate ADD
        (the other's keys win), every other part the other SETS replaces this one's."""
        if isinstance(other, Mapping):
            other = Query.from_dict(other)
        if not isinstance(other, Query):
            raise InvalidQuery(f"merge: expected a Query or a dict, got {type(other).__name__}")
        changes: dict[str, Any] = {}
        for (name, chain, empty), mine, theirs in zip(
            _MERGERS, _VALUES(self), _VALUES(other), strict=True
        ):
            if chain is not Chain.ADD:
                if theirs != empty:
                    changes[name] = theirs
            elif name == "filter":
                changes[name] = make_and((mine, theirs))
            else:
                changes[name] = _merge(mine, theirs)
        if "page" in changes or "offset" in changes:
            # The other's window replaces this one's whole.
            for key in ("offset", "page"):
                changes.setdefault(key, getattr(other, "_" + key))
        return self._evolve(**changes)

    def __getitem__(self, item: slice) -> Self:
        """Narrow the window as Python slices a list: ``q[10:20][2:4]`` is items 12-13.

        Offset, limit and page describe the current window (no limit: up to the end);
        the slice picks from it. Steps and negative bounds are refused.
        """
        if not isinstance(item, slice):
            raise InvalidQuery(
                f"Query supports slices only (q[5:6]), not [{item!r}]; a bound query's "
                "q[i] returns one item"
            )
        start, stop = item.start, item.stop
        if item.step not in (None, 1):
            raise InvalidQuery(f"Query slices cannot have a step, got {item.step!r}")
        for bound in (start, stop):
            if bound is not None and (type(bound) is not int or bound < 0):
                raise InvalidQuery(
                    f"Query slices need ints >= 0, got [{start!r}:{stop!r}] (negative "
                    "indexes would need the count first: use sort('-...') to read from the end)"
                )
        limit = self._limit
        base = _window_start("slice", self._offset, limit, self._page)
        size = None if limit in (None, -1) else limit
        a = start or 0
        b = stop
        if size is not None:
            a = min(a, size)
            b = size if b is None else min(b, size)
        new_limit = (limit if size is None else None) if b is None else max(b - a, 0)
        offset = base + a
        keep_none = offset == 0 and start is None and self._offset is None and self._page is None
        return self._evolve(offset=None if keep_none else offset, limit=new_limit, page=None)

    # ------------------------------------------------------------------- compiling

    def to_dict(self, schema: Schema | None = None) -> dict[str, Any]:
        """Return the Directus query object (for SEARCH bodies, presets, deep)."""
        return self._compile(schema, "")

    def to_params(self, schema: Schema | None = None) -> dict[str, str]:
        """Return GET query parameters: JSON for filter/deep/alias/aggregate, CSV lists."""
        p: dict[str, str] = {}
        for (key, empty, _, to_param), value in zip(_WRITERS, _VALUES(self), strict=True):
            if value is empty or value == empty:
                continue
            if to_param is not None:
                p[key] = to_param(value)
            elif key == "filter":
                p[key] = _encode(compile_filter(value, schema))
            else:
                p[key] = _encode(self._deep_dict(schema))
        return p

    def _compile(self, schema: Schema | None, prefix: str) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for (key, empty, to_json, _), value in zip(_WRITERS, _VALUES(self), strict=True):
            if value is empty or value == empty:
                continue
            if to_json is not None:
                d[prefix + key] = to_json(value)
            elif key == "filter":
                d[prefix + key] = compile_filter(value, schema)
            elif prefix:
                d.update(self._deep_dict(schema))  # nested deep entries sit beside `_` options
            else:
                d[key] = self._deep_dict(schema)
        return d

    def _deep_dict(self, schema: Schema | None) -> dict[str, Any]:
        out = {}
        for name, sub in self._deep:
            inner = None
            if schema is not None:
                rel = schema.relation(name)
                if rel is not None and rel.related is not None:
                    inner = schema.at(rel.related)
            out[name] = sub._compile(inner, "_")
        return out

    # --------------------------------------------------------------------- parsing

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Query:
        """Parse a Directus query object (the inverse of ``to_dict``)."""
        return cls._parse(data, "")

    @classmethod
    def _parse(cls, data: Mapping[str, Any], prefix: str) -> Query:
        if not isinstance(data, Mapping):
            raise InvalidQuery(f"query: expected an object, got {type(data).__name__}")
        q = cls()
        deep: dict[str, Query] = {}
        for raw_key, value in data.items():
            if not isinstance(raw_key, str):
                raise InvalidQuery(f"query: keys must be str, got {raw_key!r}")
            if prefix and not raw_key.startswith(prefix):
                if not isinstance(value, Mapping):
                    raise InvalidQuery(f"deep {raw_key!r}: expected an object")
                deep[raw_key] = cls._parse(value, prefix)
                continue
            key = raw_key[len(prefix) :]
            if value is None:
                continue  # presets store unset parts as null
            q = q._apply(key, value)
        if deep:
            q = q.deep(**deep)
        return q

    def _apply(self, key: str, value: Any) -> Query:
        part = BY_KEY.get(key)
        if part is None:
            raise InvalidQuery(f"query: unknown key {key!r}")
        if key == "filter":
            if isinstance(value, str):
                value = _json_object(key, value)
            return self._evolve(filter=make_and((self._filter, parse_filter(value, "filter"))))
        if key == "deep":
            value = _json_object(key, value) if isinstance(value, str) else value
            if not isinstance(value, Mapping):
                raise InvalidQuery("deep: expected an object")
            return self.deep(**{k: Query._parse(_deep_object(k, v), "_") for k, v in value.items()})
        assert part.kind is not None
        args, kwargs = part.kind.arguments(key, value)
        method = getattr(self, part.name)
        result: Query = method(*args, **kwargs)
        return result

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Query:
        """Parse GET query parameters (the inverse of ``to_params``)."""
        if not isinstance(params, Mapping):
            raise InvalidQuery(f"params: expected a dict of query parameters, got "
                               f"{type(params).__name__}")
        data: dict[str, Any] = {}
        for key, value in params.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise InvalidQuery(f"params[{key!r}]: expected str names and values (as in a "
                                   f"query string), got {value!r}")
            part = BY_KEY.get(key)
            if part is not None and part.kind is not None:
                data[key] = part.kind.from_param(key, value)
            else:
                data[key] = value
        return cls.from_dict(data)

    @classmethod
    def from_preset(cls, preset: Mapping[str, Any]) -> Query:
        """Build the query a ``directus_presets`` row describes (filter, search, layout query)."""
        if not isinstance(preset, Mapping):
            raise InvalidQuery(f"preset: expected a directus_presets row (a dict), got "
                               f"{type(preset).__name__}")
        data: dict[str, Any] = {"filter": preset.get("filter"), "search": preset.get("search")}
        layout_query = preset.get("layout_query") or {}
        if not isinstance(layout_query, Mapping):
            raise InvalidQuery(f"preset['layout_query']: expected an object, got "
                               f"{layout_query!r:.60}")
        layout = layout_query.get(preset.get("layout") or "tabular") or {}
        if not isinstance(layout, Mapping):
            raise InvalidQuery(f"preset['layout_query'][{preset.get('layout')!r}]: expected an "
                               f"object, got {layout!r:.60}")
        for key in ("fields", "sort", "limit", "page"):
            if layout.get(key) is not None:
                data[key] = layout[key]
        return cls.from_dict(data)

    # ------------------------------------------------------------------------ repr

    def __repr__(self) -> str:
        out = ["Query()"]
        for part, value in zip(PARTS, _VALUES(self), strict=True):
            if value == _EMPTY[part.name]:
                continue
            if part.kind is not None:
                text = part.kind.show(value)
            elif part.key == "filter":
                text = node_repr(value)
            else:
                text = kwargs_repr(value)
            out.append(f".{part.name}({text})")
        return "".join(out)


_INIT_NAMES: tuple[str, ...] = tuple(str(field.alias) for field in attrs.fields(Query))
_ALL_FIELDS = operator.attrgetter(*(field.name for field in attrs.fields(Query)))
#: each part's "not set" value: its attribute's default
_EMPTY: Mapping[str, Any] = {str(f.alias): f.default for f in attrs.fields(Query)}
#: per part: Directus key, "not set" value, and its writers (query object, GET parameter),
#: None for the parts written here with the schema (filter, deep)
_WRITERS = tuple(
    (p.key, _EMPTY[p.name], *((p.kind.to_json, p.kind.to_param) if p.kind else (None, None)))
    for p in PARTS
)
#: per part: chain method (the ``_evolve`` argument), add or replace, "not set" value
_MERGERS = tuple((p.name, p.chain, _EMPTY[p.name]) for p in PARTS)


def _deep_object(key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidQuery(f"deep {key!r}: expected an object")
    return value


def _json_object(key: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise InvalidQuery(f"{key}: not valid JSON: {text[:80]!r}") from None


def query_to_params(query: Query | Mapping[str, Any]) -> dict[str, str]:
    """Turn a Query, or a plain Directus query dict, into GET parameters."""
    if isinstance(query, Query):
        return query.to_params()
    if not isinstance(query, Mapping):
        raise InvalidQuery(f"query: expected a Query or a dict, got {type(query).__name__}")
    out: dict[str, str] = {}
    for key, value in query.items():
        if value is None:
            continue
        if isinstance(value, Query):
            raise InvalidQuery(f"query {key!r}: put Query objects in deep via Query.deep()")
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, int | float | str):
            out[key] = str(value)
        elif key in _LIST_PARAMS and isinstance(value, list | tuple):
            out[key] = ",".join(str(v) for v in value)
        elif isinstance(value, Mapping | list | tuple):
            out[key] = _encode(value)
        else:
            raise InvalidQuery(f"query {key!r}: cannot send a {type(value).__name__}")
    return out
