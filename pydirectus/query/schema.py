"""What a query needs to know of a project's schema: relations, field types, primary keys.

Negating a relational condition needs the relation kinds (see ``compiling``); ``pk``
needs the primary keys; checking names before sending (``checking``) needs the fields.
The client builds a Schema from what the token may read: ``GET /relations`` and
``GET /fields`` (``Schema.from_directus``), else the OpenAPI document of
``GET /server/specs/oas`` (``Schema.from_openapi``), else GraphQL introspection
(``Schema.from_graphql``); the last two show every token the collections it may read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from pydirectus.errors import InvalidQuery

__all__ = ["Relation", "Schema"]

# OpenAPI string formats Directus gives its date and time types (and uuids).
_OPENAPI_STRINGS = {"date": "date", "date-time": "dateTime", "time": "time",
                    "timestamp": "timestamp", "uuid": "uuid"}
# GraphQL scalars as Directus types. Directus says Float for decimals too, and Date for
# every date and time type: those read as float and dateTime.
_GRAPHQL_TYPES = {"Int": "integer", "GraphQLBigInt": "bigInteger", "Float": "float",
                  "Boolean": "boolean", "String": "string", "JSON": "json",
                  "Date": "dateTime", "Hash": "hash"}


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

    @classmethod
    def from_openapi(cls, collection: str, spec: Mapping[str, Any]) -> Schema:
        """Build a Schema from the OpenAPI document of ``GET /server/specs/oas``.

        Directus describes there each collection the token may read (``x-collection``) and
        its fields: a many-to-one is ``oneOf [{key type}, {$ref: related}]``, a one-to-many
        (or many-to-many, to its junction) an array of those. Primary keys are not marked.
        """
        components = spec.get("components")
        schemas = components.get("schemas") if isinstance(components, Mapping) else None
        if not isinstance(schemas, Mapping):
            raise InvalidQuery("Schema.from_openapi: expected an OpenAPI document with "
                               "components.schemas")
        named = {f"#/components/schemas/{key}": body.get("x-collection")
                 for key, body in schemas.items() if isinstance(body, Mapping)}
        found: dict[str, dict[str, Relation]] = {}
        types: dict[str, dict[str, str]] = {}
        for body in schemas.values():
            coll = body.get("x-collection") if isinstance(body, Mapping) else None
            properties = body.get("properties") if isinstance(coll, str) else None
            if not isinstance(properties, Mapping):
                continue
            fields = types.setdefault(str(coll), {})
            for name, prop in properties.items():
                if not isinstance(prop, Mapping):
                    continue
                items = prop.get("items")
                if prop.get("type") == "array" and isinstance(items, Mapping) and (
                        "oneOf" in items):
                    relation = _openapi_relation(items, named)
                    if relation is not None:
                        found.setdefault(str(coll), {})[name] = Relation(
                            "o2m", relation[0].related)
                    fields[name] = "alias"
                    continue
                relation = _openapi_relation(prop, named)
                if relation is not None:
                    found.setdefault(str(coll), {})[name] = relation[0]
                    fields[name] = relation[1]
                else:
                    fields[name] = _openapi_type(prop)
        return cls(collection, found, types)

    @classmethod
    def from_graphql(cls, collection: str, introspected: Mapping[str, Any]) -> Schema:
        """Build a Schema from GraphQL introspection (``{"__schema": {"queryType": ...,
        "types": [...]}}``): a collection is a Query field of its own object type; an object
        field is many-to-one, a list of objects one-to-many; the ``ID`` is the primary key.

        GraphQL says ``Float`` for float and decimal fields alike: both read as float.
        """
        root = introspected.get("__schema")
        if not isinstance(root, Mapping) or not isinstance(root.get("types"), list):
            raise InvalidQuery("Schema.from_graphql: expected {'__schema': {'types': [...]}}")
        query = root.get("queryType") or {}
        collections = {field.get("name") for field in query.get("fields") or ()
                       if isinstance(field, Mapping)
                       and _graphql_named(field.get("type"))[1] == field.get("name")}
        found: dict[str, dict[str, Relation]] = {}
        types: dict[str, dict[str, str]] = {}
        keys: dict[str, str] = {}
        for kind in root["types"]:
            if not isinstance(kind, Mapping) or kind.get("name") not in collections:
                continue
            coll = str(kind["name"])
            fields = types.setdefault(coll, {})
            for field in kind.get("fields") or ():
                name = field.get("name")
                listed, named = _graphql_named(field.get("type"))
                if not isinstance(name, str) or named is None:
                    continue
                if named in collections:
                    found.setdefault(coll, {})[name] = Relation(
                        "o2m" if listed else "m2o", named)
                    fields[name] = "alias" if listed else "unknown"
                elif named == "ID" and coll not in keys:
                    keys[coll] = name
                    fields[name] = "unknown"
                elif listed and named == "String":
                    fields[name] = "csv"
                elif named in _GRAPHQL_TYPES:
                    fields[name] = _GRAPHQL_TYPES[named]
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


def _openapi_type(prop: Mapping[str, Any]) -> str:
    """Return the Directus type an OpenAPI property stands for ("json" when it says none)."""
    kind, form = prop.get("type"), prop.get("format")
    if kind == "integer":
        return "bigInteger" if form == "int64" else "integer"
    if kind == "number":
        # Directus marks float fields "float" and leaves decimals bare (on SQLite, where a
        # decimal is a float column, it says float for both, as GET /fields does).
        return "float" if form == "float" else "decimal"
    if kind == "boolean":
        return "boolean"
    if kind == "string":
        return _OPENAPI_STRINGS.get(str(form), "string")
    if kind == "array" and (prop.get("items") or {}).get("type") == "string":
        return "csv"
    return "json"


def _openapi_relation(prop: Mapping[str, Any], named: Mapping[str, Any]
                      ) -> tuple[Relation, str] | None:
    """Return the many-to-one relation of ``oneOf [{key}, {$ref}]`` and the key's type."""
    choices = prop.get("oneOf")
    if not isinstance(choices, list):
        return None
    refs = [c["$ref"] for c in choices if isinstance(c, Mapping) and "$ref" in c]
    plain = [c for c in choices if isinstance(c, Mapping) and "$ref" not in c]
    key_type = _openapi_type(plain[0]) if plain else "unknown"
    if len(refs) > 1:
        return Relation("m2a", None), key_type
    related = named.get(refs[0]) if refs else None
    if not isinstance(related, str):
        return None
    return Relation("m2o", related), key_type


def _graphql_named(kind: Any) -> tuple[bool, str | None]:
    """Return (is a list, the named type) of a GraphQL type reference, NON_NULL unwrapped."""
    listed = False
    while isinstance(kind, Mapping) and kind.get("name") is None:
        listed = listed or kind.get("kind") == "LIST"
        kind = kind.get("ofType")
    return listed, (kind.get("name") if isinstance(kind, Mapping) else None)
