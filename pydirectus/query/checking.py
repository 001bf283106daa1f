"""Check a query's names against the schema before sending it.

Directus answers a misspelt field with 403 "field ... does not exist" (which reads like a
permissions problem), a function on the wrong type with 400, and an aggregate or group-by
over a relational path with a 500. ``check_query(query, schema)`` raises ``InvalidQuery``
for each of these first, with a suggestion where a known name is close:

    no field 'titel' in 'articles'; did you mean 'title'?

It checks only what the schema knows: a collection whose fields are unknown (the token
may not read them) is left to the server, and so are names it cannot parse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from pydirectus.errors import InvalidQuery
from pydirectus.query.compiling import PK
from pydirectus.query.lookups import suggest
from pydirectus.query.nodes import And, Cond, Node, Not, Or, Quant, Rel

if TYPE_CHECKING:
    from pydirectus.query.query import Query
    from pydirectus.query.schema import Schema

__all__ = ["FUNCTION_TYPES", "check_query"]

_DATES = frozenset({"date", "dateTime", "timestamp"})
_TIMES = frozenset({"time", "dateTime", "timestamp"})
#: function -> the Directus field types it applies to (Directus 12 refuses the others)
FUNCTION_TYPES: Mapping[str, frozenset[str]] = {
    **dict.fromkeys(("year", "month", "week", "day", "weekday"), _DATES),
    **dict.fromkeys(("hour", "minute", "second"), _TIMES),
    "count": frozenset({"alias", "json", "csv"}),
    "json": frozenset({"json"}),
}
_FUNCTION = re.compile(r"^(\w+)\((.*)\)$", re.DOTALL)


class _Checker:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def types(self, coll: str | None) -> Mapping[str, str] | None:
        return self.schema.field_types(coll) if coll is not None else None

    def field(self, part: str, coll: str, name: str) -> str | None:
        """Return the type of ``coll.name``, raising with a suggestion when it is unknown."""
        types = self.types(coll)
        if types is None:
            return None
        found = types.get(name)
        if found is None:
            hint = suggest(name, types, cutoff=0.6)
            tail = f"; did you mean {hint!r}?" if hint else ""
            raise InvalidQuery(f"{part}: no field {name!r} in {coll!r}{tail}")
        return found

    def function(self, part: str, coll: str, func: str, name: str) -> None:
        name = name.split(",")[0].strip()  # json(field, path)
        kind = self.field(part, coll, name)
        allowed = FUNCTION_TYPES.get(func)
        if kind is None or allowed is None or kind in allowed:
            return
        if func == "count" and self.schema.relation(name, coll) is not None:
            return
        raise InvalidQuery(
            f"{part}: {func}() does not apply to {coll}.{name}, a {kind} field "
            f"(it takes {', '.join(sorted(allowed))})"
        )

    def related(self, part: str, coll: str, name: str) -> str | None:
        """Return the collection ``coll.name`` leads to (None: unknown, stop checking)."""
        kind = self.field(part, coll, name)
        rel = self.schema.relation(name, coll)
        if rel is not None:
            return rel.related
        if kind is not None and kind not in ("alias", "json"):
            raise InvalidQuery(f"{part}: {coll}.{name} is a {kind} field, not a relation")
        return None

    # -------------------------------------------------------------- field names

    def name(self, part: str, coll: str, text: str, *, extra: Iterable[str] = ()) -> None:
        """Check a dotted field name (``author.name``, ``year(date)``, ``comments.*``)."""
        if not text or text.startswith("$") or ":" in text or text in extra:
            return
        segs = text.split(".")
        here: str | None = coll
        for i, seg in enumerate(segs):
            if here is None or seg == "*" or (i and seg.startswith("$")):
                return
            m = _FUNCTION.match(seg)
            if m is not None:
                func, inner = m.group(1), m.group(2)
                if func in FUNCTION_TYPES and inner:
                    self.function(part, here, func, inner)
                return
            if i == len(segs) - 1:
                self.field(part, here, seg)
                return
            types = self.types(here)
            if types is not None and types.get(seg) == "json":
                return  # a path into a JSON value
            here = self.related(part, here, seg)

    # ------------------------------------------------------------------ filters

    def node(self, node: Node, coll: str | None) -> None:
        if coll is None:
            return
        if isinstance(node, Cond):
            if node.field == PK and self.schema.primary_key(coll) is not None:
                return
            if node.func is not None:
                self.function("filter", coll, node.func, node.field)
            else:
                self.field("filter", coll, node.field)
        elif isinstance(node, And | Or):
            for child in node.children:
                self.node(child, coll)
        elif isinstance(node, Not):
            self.node(node.child, coll)
        elif isinstance(node, Rel | Quant):
            self.node(node.child, self.related("filter", coll, node.field))


def check_query(query: Query, schema: Schema | None, collection: str | None = None) -> None:
    """Raise InvalidQuery for names Directus would refuse (or fail on) for this query.

    Without a schema only what holds for every schema is checked: aggregates and
    group-bys over relational paths, which Directus 12 answers with a 500.
    """
    for func, names in query._aggregate:
        for name in names:
            _flat(f"aggregate {func}", name)
    for name in query._group_by:
        _flat("group_by", name)
    if schema is not None:
        _check(query, schema, collection or schema.collection)


def _flat(part: str, name: str) -> None:
    if "." in name and not name.startswith("$"):
        raise InvalidQuery(
            f"{part}: {name!r} is a relational path; Directus 12 answers {part.split()[0]} "
            "over relational paths with a 500 error, so name fields of the collection itself"
        )


def _check(query: Query, schema: Schema, coll: str) -> None:
    checker = _Checker(schema)
    if checker.types(coll) is None:
        return
    aliases = [name for name, _ in query._alias]
    checker.node(query._filter, coll)
    for name in query._fields:
        checker.name("fields", coll, name, extra=aliases)
    for key in query._sort:
        checker.name("sort", coll, key[1:] if key.startswith("-") else key, extra=aliases)
    for name in query._group_by:
        checker.name("group_by", coll, name)
    for func, names in query._aggregate:
        for name in names:
            if name != "*":
                checker.name(f"aggregate {func}", coll, name)
    for _, target in query._alias:
        checker.name("alias", coll, target)
    for name, sub in query._deep:
        related = checker.related("deep", coll, name)
        if related is not None:
            _check(sub, schema, related)
