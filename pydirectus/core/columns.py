"""The columns of a query's items and the Directus type of each: the frame of a table.

A table (Arrow, pandas, polars) needs its schema before its first row: a column that is
null on the first page must still get its type. So the columns come from the query's
``fields`` and the collection's field types (the schema cache every read uses), never
from the rows:

- no ``fields``, ``*``: every field of the collection, in the order of its field types;
  alias fields only where they are relations (one-to-many, many-to-any: lists of keys);
- ``author.name``: a column named ``author.name`` typed by the related collection's
  field (many-to-one paths only); ``author.*``: every field of the related collection;
- a path through a one-to-many or many-to-any relation is one column named after the
  relational field, holding its value whole (``kind`` "json");
- a field whose type is not known (the token may read neither ``/fields`` nor the
  OpenAPI document): ``kind`` None, read as text.

Decimal precision and scale come from ``GET /fields/{collection}`` where the token may
read it (None otherwise). Nothing here imports a table library: ``pydirectus.frames``
turns the columns into an Arrow schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ..errors import InvalidQuery, SchemaRequired
from ..query import Schema
from .plans import Plan
from .reads import Pages, ReadPath, Rows, pages_whole

__all__ = ["Column", "frame_columns", "frame_stream"]

#: the kind of a column holding a value whole (a to-many relation, an unresolved path)
WHOLE = "json"


@attrs.frozen
class Column:
    """One column of a table: its name, where its value sits in an item, its Directus type."""

    name: str
    path: tuple[str, ...]
    #: the Directus field type ("integer", "decimal", "json", ...); None: not known
    kind: str | None
    precision: int | None = None
    scale: int | None = None


class _Resolver:
    """Walks field paths through the relations, asking for each collection's types once."""

    def __init__(self, reads: ReadPath, aliases: Mapping[str, str]) -> None:
        self.reads = reads
        self.aliases = aliases
        self.schema: Schema | None = None
        self.relations_read = False
        self.types: dict[str, Mapping[str, str]] = {}
        self.shapes: dict[str, Mapping[str, tuple[int | None, int | None]]] = {}

    def field_types(self, collection: str) -> Plan[Mapping[str, str]]:
        if collection not in self.types:
            self.types[collection] = yield from self.reads.schema.field_types(collection)
        return self.types[collection]

    def relations(self) -> Plan[Schema | None]:
        if not self.relations_read:
            self.relations_read = True
            self.schema = yield from self.reads.schema.relations_from(self.reads.name)
        return self.schema

    def relation_kind(self, collection: str, field: str) -> Plan[tuple[str | None, str | None]]:
        """Return (relation kind, related collection) of a field; (None, None): no relation."""
        schema = yield from self.relations()
        relation = schema.relation(field, collection) if schema is not None else None
        if relation is None:
            return None, None
        return relation.kind, relation.related

    def column(self, collection: str, field: str, name: str, path: tuple[str, ...]
               ) -> Plan[Column]:
        types = yield from self.field_types(collection)
        kind = types.get(field)
        if kind == "alias":
            relation, _ = yield from self.relation_kind(collection, field)
            if relation is not None:
                return Column(name, path, WHOLE)
        if kind == "decimal":
            if collection not in self.shapes:
                self.shapes[collection] = yield from self.reads.schema.numeric_shapes(
                    collection)
            precision, scale = self.shapes[collection].get(field, (None, None))
            return Column(name, path, kind, precision, scale)
        return Column(name, path, kind)

    def every_field(self, collection: str) -> Plan[list[str]]:
        """Return the fields a wildcard stands for: columns, and relational aliases."""
        types = yield from self.field_types(collection)
        if not types:
            raise SchemaRequired(
                f"a table of {collection!r} needs its field types to know its columns and "
                f"their types before the first row, and this token may read neither "
                f"/fields/{collection} nor the OpenAPI document: name the fields "
                f"(.fields('id', 'title', ...)), read as text, or grant read on "
                f"directus_fields")
        names = []
        for field, kind in types.items():
            if kind == "alias":
                relation, _ = yield from self.relation_kind(collection, field)
                if relation is None:  # a presentation field (a divider): no value
                    continue
            names.append(field)
        return names

    def expand(self, collection: str, segments: Sequence[str], prefix: tuple[str, ...],
               root: bool) -> Plan[list[Column]]:
        head, rest = segments[0], segments[1:]
        names = (yield from self.every_field(collection)) if head == "*" else [head]
        columns: list[Column] = []
        for name in names:
            # An alias (alias(writer="author")) answers under its own name, typed by its field.
            field = self.aliases.get(name, name) if root else name
            path = (*prefix, name)
            if not rest:
                columns.append((yield from self.column(collection, field, ".".join(path),
                                                       path)))
                continue
            relation, related = yield from self.relation_kind(collection, field)
            if relation == "m2o" and related is not None:
                columns.extend((yield from self.expand(related, rest, path, False)))
            elif relation is None and all(part == "*" for part in rest):
                # "*.*" reaches plain fields too: their value as it is.
                columns.append((yield from self.column(collection, field, ".".join(path),
                                                       path)))
            else:
                # To-many (a list of objects), or a path the schema does not know.
                columns.append(Column(".".join(path), path, WHOLE if relation else None))
        return columns


def frame_columns(reads: ReadPath, compiled: Mapping[str, Any]) -> Plan[tuple[Column, ...]]:
    """Return the columns of the items a compiled query reads (see the module docstring)."""
    if "aggregate" in compiled or "groupBy" in compiled:
        raise InvalidQuery("a table reads items: an aggregate's rows have no field types "
                           "to build its schema from; use fetch() for aggregates")
    resolver = _Resolver(reads, dict(compiled.get("alias") or {}))
    fields = [str(f) for f in compiled.get("fields") or ()] or ["*"]
    columns: dict[str, Column] = {}
    for spelled in fields:
        for column in (yield from resolver.expand(reads.name, spelled.split("."), (), True)):
            # A to-many column stands for every path through it; a first spelling wins.
            if not any(column.path[:len(c.path)] == c.path and c.kind == WHOLE
                       for c in columns.values()):
                columns.setdefault(column.name, column)
    return tuple(columns.values())


def frame_stream(reads: ReadPath, compiled: Mapping[str, Any]) -> Pages:
    """Page stream of a table: first Rows([columns]), then each page as Rows([rows])."""
    columns = yield from frame_columns(reads, compiled)
    yield Rows([columns], {})
    yield from pages_whole(reads.pages(compiled))
