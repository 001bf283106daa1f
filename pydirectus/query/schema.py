"""What a query needs to know of a project's schema: relations, field types, primary keys.

Negating a relational condition needs the relation kinds (see ``compiling``); ``pk``
needs the primary keys; checking names before sending (``checking``) needs the fields.
The client builds a Schema from ``GET /relations`` (and ``GET /fields`` when the token
may read it); ``Schema.from_directus`` does the parsing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from pydirectus.errors import InvalidQuery

__all__ = ["Relation", "Schema"]


@attrs.frozen
class Relation:
    """One relational field: its kind and the collection it points at."""

    #: many-to-one, one-to-many (a many-to-many is one-to-many to its junction),
    #: or many-to-any
    kind: Literal["m2o", "o2m", "m2a"]
    #: the related collection (None for many-to-any)
    related: str | None


@attrs.frozen
class Schema:
    """The relations (and maybe fields) of a Directus project, rooted at one collection."""

    collection: str
    relations: Mapping[str, Mapping[str, Relation]]
    #: collection -> field -> Directus type ("string", "integer", "alias", ...), for the
    #: collections whose fields are known
    fields: Mapping[str, Mapping[str, str]] = attrs.field(factory=dict)
    #: collection -> its primary key field
    primary_keys: Mapping[str, str] = attrs.field(factory=dict)

    @classmethod
    def from_directus(
        cls,
        collection: str,
        relations: Iterable[Mapping[str, Any]],
        fields: Iterable[Mapping[str, Any]] | None = None,
    ) -> Schema:
        """Build a Schema from the rows of ``GET /relations`` (and of ``GET /fields``)."""
        found: dict[str, dict[str, Relation]] = {}
        for row in relations:
            if not isinstance(row, Mapping):
                raise InvalidQuery(f"Schema.from_directus: expected relation rows, got {row!r}")
            many, field = row.get("collection"), row.get("field")
            if not isinstance(many, str) or not isinstance(field, str):
                raise InvalidQuery(
                    f"Schema.from_directus: row without collection/field: {dict(row)!r}"
                )
            one = row.get("related_collection")
            meta = row.get("meta") or {}
            if one is None:
                # The junction side of a many-to-any: the item field points at any of
                # meta.one_allowed_collections.
                found.setdefault(many, {})[field] = Relation("m2a", None)
                continue
            found.setdefault(many, {})[field] = Relation("m2o", one)
            one_field = meta.get("one_field") if isinstance(meta, Mapping) else None
            if one_field:
                found.setdefault(one, {})[one_field] = Relation("o2m", many)
        types: dict[str, dict[str, str]] = {}
        keys: dict[str, str] = {}
        for row in fields or ():
            coll, name = row.get("collection"), row.get("field")
            if not isinstance(coll, str) or not isinstance(name, str):
                raise InvalidQuery(f"Schema.from_directus: field row without names: {row!r}")
            types.setdefault(coll, {})[name] = str(row.get("type") or "unknown")
            if (row.get("schema") or {}).get("is_primary_key"):
                keys[coll] = name
        return cls(collection, found, types, keys)

    def at(self, collection: str) -> Schema:
        """Return the same schema rooted at another collection."""
        return attrs.evolve(self, collection=collection)

    def relation(self, field: str, collection: str | None = None) -> Relation | None:
        """Return the relation of ``field`` in ``collection`` (default: the root), if any."""
        fields = self.relations.get(self.collection if collection is None else collection)
        return fields.get(field) if fields is not None else None

    def primary_key(self, collection: str | None = None) -> str | None:
        """Return the primary key of ``collection`` (default: the root), if known."""
        return self.primary_keys.get(self.collection if collection is None else collection)

    def field_types(self, collection: str | None = None) -> Mapping[str, str] | None:
        """Return field -> type for ``collection`` (default: the root), if its fields are known."""
        return self.fields.get(self.collection if collection is None else collection)
