"""Relation schema: which relational fields are many-to-one and which one-to-many.

Negating a relational condition needs it (see ``filters``); the client builds one from
``GET /relations``, and ``Schema.from_directus`` does the parsing.
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
    """The relations of a Directus project, rooted at the collection a query runs on."""

    collection: str
    relations: Mapping[str, Mapping[str, Relation]]

    @classmethod
    def from_directus(cls, collection: str, relations: Iterable[Mapping[str, Any]]) -> Schema:
        """Build a Schema from the rows of Directus ``GET /relations``."""
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
        return cls(collection, found)

    def at(self, collection: str) -> Schema:
        """Return the same relations rooted at another collection."""
        return Schema(collection, self.relations)

    def relation(self, field: str, collection: str | None = None) -> Relation | None:
        """Return the relation of ``field`` in ``collection`` (default: the root), if any."""
        fields = self.relations.get(self.collection if collection is None else collection)
        return fields.get(field) if fields is not None else None
