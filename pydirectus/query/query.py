"""Query: an immutable, chainable description of a Directus item query.

Every chain method returns a new Query. ``filter``/``exclude`` ADD conditions (ANDed
with what is there); ``deep``, ``alias`` and ``aggregate`` ADD entries (naming a key
again replaces that key); every other method REPLACES its part. Passing ``None`` to
``limit``/``offset``/``page``/``search``/``version``/``backlink``, or nothing to
``fields``/``sort``/``meta``/``group_by``, clears it.
"""

from __future__ import annotations

import json
import keyword
import operator
from collections.abc import Callable, Iterable, Mapping
from json.encoder import c_encode_basestring, c_make_encoder  # type: ignore[attr-defined]
from typing import TYPE_CHECKING, Any

import attrs

from pydirectus.errors import InvalidQuery
from pydirectus.query.filters import (
    EMPTY,
    And,
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

if TYPE_CHECKING:
    from typing_extensions import Self

    from pydirectus.query.schema import Schema

__all__ = ["Query", "query_to_params"]

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _no_default(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _make_encode() -> Callable[[Any], str]:
    # JSONEncoder.encode sets up a new C encoder on every call (a few µs, most of a
    # compile); one built once, without the circular-reference check (compiled
    # queries are trees), does the same work in a fraction of the time.
    if c_make_encoder is None or c_encode_basestring is None:  # pragma: no cover
        return _ENCODER.encode
    iterencode = c_make_encoder(
        None, _no_default, c_encode_basestring, None, ":", ",", False, False, False
    )

    def encode(value: Any) -> str:
        return "".join(iterencode(value, 0))

    return encode


_encode = _make_encode()
_META = frozenset({"total_count", "filter_count", "*"})
#: the parts GET parameters carry as JSON, as comma-joined lists, as integers
_JSON_PARAMS = frozenset({"filter", "deep", "alias", "aggregate"})
_LIST_PARAMS = frozenset({"fields", "sort", "groupBy", "meta"})
_INT_PARAMS = frozenset({"limit", "offset", "page"})


def _is_empty(node: Node) -> bool:
    return type(node) is And and not node.children


def _split(text: str) -> list[str]:
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


def _names(part: str, names: Iterable[Any]) -> tuple[str, ...]:
    out = tuple(names)
    for name in out:
        if not isinstance(name, str):
            raise InvalidQuery(f"{part}: names must be str, got {name!r}")
        if not name or len(_split(name)) != 1:
            raise InvalidQuery(f"{part}: {name!r} is not one name (empty, or has a comma)")
    return out


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
        out.append((func, _names(f"aggregate {name!r}", items)))
    return out


def _aliases(names: Mapping[str, Any]) -> list[tuple[str, str]]:
    for name, field in names.items():
        if not name or "." in name:
            raise InvalidQuery(f"alias {name!r}: an alias name cannot be empty or contain '.'")
        if not isinstance(field, str) or not field:
            raise InvalidQuery(f"alias {name!r}: expected a field name, got {field!r}")
    return list(names.items())


def _deeps(entries: Mapping[str, Any]) -> list[tuple[str, Query]]:
    for name, sub in entries.items():
        if not name or name.startswith("_"):
            raise InvalidQuery(f"deep {name!r}: expected a relational field name")
        if not isinstance(sub, Query):
            raise InvalidQuery(f"deep {name!r}: expected a Query, got {type(sub).__name__}")
    return list(entries.items())


def _kwargs_repr(items: Iterable[tuple[str, Any]]) -> str:
    plain, odd = [], []
    for k, v in items:
        if k.isidentifier() and not keyword.iskeyword(k):
            plain.append(f"{k}={v!r}")
        else:
            odd.append(f"{k!r}: {v!r}")
    if odd:
        plain.append("**{" + ", ".join(odd) + "}")
    return ", ".join(plain)


@attrs.frozen(repr=False)
class Query:
    """A Directus item query: filter, fields, sort, pagination, aggregation, deep, ...

    Build it by chaining (``Query().filter(views__gt=10).sort("-date").limit(20)``),
    compile it with ``to_dict()`` / ``to_params()``, parse one back with ``from_dict()`` /
    ``from_params()``. Slicing (``q[20:30]``) sets offset and limit.
    """

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

    def fields(self, *names: str) -> Self:
        """REPLACE the fields to return (``"*"``, ``"author.*"``, ...); none clears."""
        return self._evolve(fields=_names("fields", names))

    def sort(self, *keys: str) -> Self:
        """REPLACE the sort keys (``"-date"`` sorts descending); none clears."""
        return self._evolve(sort=_names("sort", keys))

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
            if kind not in _META:
                raise InvalidQuery(f"meta: unknown {kind!r} (known: *, filter_count, total_count)")
        return self._evolve(meta=tuple(kinds))

    def aggregate(self, **functions: str | Iterable[str]) -> Self:
        """ADD aggregate functions: ``aggregate(count="*", sum=["price", "qty"])``."""
        return self._evolve(aggregate=_merge(self._aggregate, _aggregates(functions)))

    def group_by(self, *fields: str) -> Self:
        """REPLACE the grouping fields (functions allowed: ``"year(date)"``); none clears."""
        return self._evolve(group_by=_names("group_by", fields))

    def deep(self, **relations: Query) -> Self:
        """ADD nested queries for relational fields: ``deep(comments=Query().limit(5))``."""
        return self._evolve(deep=_merge(self._deep, _deeps(relations)))

    def alias(self, **names: str) -> Self:
        """ADD field aliases: ``alias(writer="author")``."""
        return self._evolve(alias=_merge(self._alias, _aliases(names)))

    def version(self, name: str | None) -> Self:
        """REPLACE the content version to read."""
        return self._evolve(version=_text("version", name))

    def backlink(self, flag: bool | None) -> Self:
        """REPLACE whether ``*.*`` field expansion follows relations back to the parent."""
        if flag is not None and type(flag) is not bool:
            raise InvalidQuery(f"backlink: expected True or False, got {flag!r}")
        return self._evolve(backlink=flag)

    def __getitem__(self, item: slice) -> Self:
        """REPLACE offset and/or limit from a slice: ``q[20:30]``, ``q[5:]``, ``q[:10]``."""
        if not isinstance(item, slice):
            raise InvalidQuery(f"Query supports slices only (q[5:6]), not [{item!r}]")
        start, stop = item.start, item.stop
        if item.step not in (None, 1):
            raise InvalidQuery(f"Query slices cannot have a step, got {item.step!r}")
        for bound in (start, stop):
            if bound is not None and (type(bound) is not int or bound < 0):
                raise InvalidQuery(f"Query slices need ints >= 0, got [{start!r}:{stop!r}]")
        offset = self._offset if start is None else start
        limit = self._limit if stop is None else max(stop - (start or 0), 0)
        return self._evolve(offset=offset, limit=limit)

    # ------------------------------------------------------------------- compiling

    def to_dict(self, schema: Schema | None = None) -> dict[str, Any]:
        """Return the Directus query object (for SEARCH bodies, presets, deep)."""
        return self._compile(schema, "")

    def to_params(self, schema: Schema | None = None) -> dict[str, str]:
        """Return GET query parameters: JSON for filter/deep/alias/aggregate, CSV lists."""
        p: dict[str, str] = {}
        encode = _encode
        if not _is_empty(self._filter):
            p["filter"] = encode(compile_filter(self._filter, schema))
        if self._fields:
            p["fields"] = ",".join(self._fields)
        if self._sort:
            p["sort"] = ",".join(self._sort)
        if self._limit is not None:
            p["limit"] = str(self._limit)
        if self._offset is not None:
            p["offset"] = str(self._offset)
        if self._page is not None:
            p["page"] = str(self._page)
        if self._search is not None:
            p["search"] = self._search
        if self._meta:
            p["meta"] = ",".join(self._meta)
        if self._deep:
            p["deep"] = encode(self._deep_dict(schema))
        if self._alias:
            p["alias"] = encode(dict(self._alias))
        if self._aggregate:
            p["aggregate"] = encode({k: list(v) for k, v in self._aggregate})
        if self._group_by:
            p["groupBy"] = ",".join(self._group_by)
        if self._version is not None:
            p["version"] = self._version
        if self._backlink is not None:
            p["backlink"] = "true" if self._backlink else "false"
        return p

    def _compile(self, schema: Schema | None, prefix: str) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if not _is_empty(self._filter):
            d[prefix + "filter"] = compile_filter(self._filter, schema)
        if self._fields:
            d[prefix + "fields"] = list(self._fields)
        if self._sort:
            d[prefix + "sort"] = list(self._sort)
        if self._limit is not None:
            d[prefix + "limit"] = self._limit
        if self._offset is not None:
            d[prefix + "offset"] = self._offset
        if self._page is not None:
            d[prefix + "page"] = self._page
        if self._search is not None:
            d[prefix + "search"] = self._search
        if self._meta:
            d[prefix + "meta"] = list(self._meta)
        if self._deep:
            deep = self._deep_dict(schema)
            if prefix:
                d.update(deep)  # nested deep entries sit beside the `_` options
            else:
                d["deep"] = deep
        if self._alias:
            d[prefix + "alias"] = dict(self._alias)
        if self._aggregate:
            d[prefix + "aggregate"] = {k: list(v) for k, v in self._aggregate}
        if self._group_by:
            d[prefix + "groupBy"] = list(self._group_by)
        if self._version is not None:
            d[prefix + "version"] = self._version
        if self._backlink is not None:
            d[prefix + "backlink"] = self._backlink
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
            if key in _JSON_PARAMS and isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    raise InvalidQuery(f"{key}: not valid JSON: {value[:80]!r}") from None
            if key in _LIST_PARAMS and isinstance(value, str):
                value = _split(value)
            elif key in _LIST_PARAMS and isinstance(value, list | tuple):
                # Directus also reads `fields[]=id,title`: items may hold several names.
                value = [
                    n for item in value for n in (_split(item) if isinstance(item, str) else [item])
                ]
            q = q._apply(key, value)
        if deep:
            q = q.deep(**deep)
        return q

    def _apply(self, key: str, value: Any) -> Query:
        if key == "filter":
            return self._evolve(filter=make_and((self._filter, parse_filter(value, "filter"))))
        if key in ("fields", "sort", "groupBy", "meta"):
            if not isinstance(value, list | tuple):
                raise InvalidQuery(f"{key}: expected a list or a comma-joined str")
            method = {"fields": self.fields, "sort": self.sort, "groupBy": self.group_by}
            return method[key](*value) if key in method else self.meta(*value)
        if key in ("limit", "offset", "page"):
            return {"limit": self.limit, "offset": self.offset, "page": self.page}[key](value)
        if key in ("search", "version"):
            return self.search(value) if key == "search" else self.version(value)
        if key == "backlink":
            return self.backlink(value)
        if key in ("deep", "alias", "aggregate"):
            if not isinstance(value, Mapping):
                raise InvalidQuery(f"{key}: expected an object")
            if key == "alias":
                return self.alias(**value)
            if key == "aggregate":
                return self.aggregate(**value)
            return self.deep(**{k: Query._parse(_object(k, v), "_") for k, v in value.items()})
        raise InvalidQuery(f"query: unknown key {key!r}")

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Query:
        """Parse GET query parameters (the inverse of ``to_params``)."""
        data: dict[str, Any] = {}
        for key, value in params.items():
            if key in _INT_PARAMS:
                try:
                    data[key] = int(value)
                except (TypeError, ValueError):
                    raise InvalidQuery(f"{key}: expected an integer, got {value!r}") from None
            elif key == "backlink":
                if value not in ("true", "false"):
                    raise InvalidQuery(f"backlink: expected 'true' or 'false', got {value!r}")
                data[key] = value == "true"
            else:
                data[key] = value
        return cls.from_dict(data)

    @classmethod
    def from_preset(cls, preset: Mapping[str, Any]) -> Query:
        """Build the query a ``directus_presets`` row describes (filter, search, layout query)."""
        data: dict[str, Any] = {"filter": preset.get("filter"), "search": preset.get("search")}
        layout_query = preset.get("layout_query") or {}
        layout = layout_query.get(preset.get("layout") or "tabular") or {}
        for key in ("fields", "sort", "limit", "page"):
            if layout.get(key) is not None:
                data[key] = layout[key]
        return cls.from_dict(data)

    # ------------------------------------------------------------------------ repr

    def __repr__(self) -> str:
        out = ["Query()"]
        if not _is_empty(self._filter):
            out.append(f".filter({node_repr(self._filter)})")
        for name, names in (("fields", self._fields), ("sort", self._sort)):
            if names:
                out.append(f".{name}({', '.join(map(repr, names))})")
        scalars = (
            ("limit", self._limit),
            ("offset", self._offset),
            ("page", self._page),
            ("search", self._search),
        )
        for name, value in scalars:
            if value is not None:
                out.append(f".{name}({value!r})")
        if self._meta:
            out.append(f".meta({', '.join(map(repr, self._meta))})")
        if self._deep:
            out.append(f".deep({_kwargs_repr(self._deep)})")
        if self._alias:
            out.append(f".alias({_kwargs_repr(self._alias)})")
        if self._aggregate:
            out.append(f".aggregate({_kwargs_repr((k, list(v)) for k, v in self._aggregate)})")
        if self._group_by:
            out.append(f".group_by({', '.join(map(repr, self._group_by))})")
        if self._version is not None:
            out.append(f".version({self._version!r})")
        if self._backlink is not None:
            out.append(f".backlink({self._backlink!r})")
        return "".join(out)


_INIT_NAMES: tuple[str, ...] = tuple(str(field.alias) for field in attrs.fields(Query))
_ALL_FIELDS = operator.attrgetter(*(field.name for field in attrs.fields(Query)))


def _object(key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidQuery(f"deep {key!r}: expected an object")
    return value


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
