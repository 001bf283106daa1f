"""What the client learns of a project once and caches: relations, keys, singletons, limits.

Nothing here needs schema-read permission. Each fact comes from the first source the
token may read: ``/fields/{name}`` (app and admin tokens: the primary key and the field
types, one request), else GraphQL introspection (any token that may read the collection:
the primary key is its ``ID`` field, a singleton's query field is an object, not a list),
else what the data shows (a singleton's read answers an object, which is also where an
app token learns it). Relations and field types come from ``/relations`` and ``/fields``,
else from the OpenAPI document of ``/server/specs/oas`` (one request: Directus describes
there every collection the token may read, its fields' types and relations), else from
GraphQL introspection of the whole schema. A fact that cannot be learned raises
``SchemaRequired`` saying what is missing and how to give it.

Every method that may ask the server is a plan (it yields calls; see
``pydirectus.core.plans``). The lock guards the cache's dicts only and is never held
across a yield, so threads (sync face) and tasks (async face) share one cache.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Collection, Mapping
from typing import Any

import attrs

from ..errors import APIError, InvalidQuery, PermissionDenied, SchemaRequired
from ..query import Schema
from . import graphql, plans
from .plans import Plan

__all__ = ["CollectionInfo", "SchemaCache", "ServerFacts"]

# Directus's system collections all key on "id" except these (their handles pass pk=).
SYSTEM_KEYS = {"directus_collections": "collection", "directus_migrations": "version"}
# Field types whose values Directus compares with _gt/_lt (schema types and GraphQL scalars);
# strings, uuids, booleans and JSON it refuses, so keyset paging cannot use them.
ORDERED_TYPES = frozenset({
    "integer", "bigInteger", "float", "decimal", "date", "dateTime", "time", "timestamp",
    "Int", "Float", "Date", "GraphQLBigInt", "GraphQLStringOrFloat",
})
UNORDERED_TYPES = frozenset({
    "string", "text", "uuid", "hash", "boolean", "json", "csv", "alias",
    "String", "Boolean", "JSON", "Hash",
})
_INTROSPECT = """query Learn($name: String!) {
  collection: __type(name: $name) { fields { name type { name kind ofType { name kind } } } }
  root: __type(name: "Query") { fields { name type { kind } } }
}"""
# The whole schema the token may read: collections are the Query fields of their own type.
_INTROSPECT_ALL = """query LearnAll { __schema {
  queryType { fields { name type { name kind ofType { name kind ofType { name kind
    ofType { name kind } } } } } }
  types { name kind fields { name type { name kind ofType { name kind ofType { name kind
    ofType { name kind } } } } } }
} }"""
_GRAPHQL_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


def _rows_naming(*names: str) -> Any:
    def accepts(value: Any) -> bool:
        return isinstance(value, list) and all(
            isinstance(row, dict) and all(isinstance(row.get(name), str) for name in names)
            and isinstance(row.get("schema") or {}, dict)
            and isinstance(row.get("meta") or {}, dict) for row in value)
    return accepts


#: GET /fields/{collection}: rows naming their field
FIELD_ROWS = plans.Shape("a list of field rows (field)", _rows_naming("field"))
#: GET /fields: rows naming their collection and field
ALL_FIELD_ROWS = plans.Shape("a list of field rows (collection, field)",
                             _rows_naming("collection", "field"))
#: GET /relations: rows naming the many side's collection and field
RELATION_ROWS = plans.Shape("a list of relation rows (collection, field)",
                            _rows_naming("collection", "field"))


@attrs.frozen
class CollectionInfo:
    """What is known of a collection: primary key, singleton flag, field types (None: unknown)."""

    name: str
    primary_key: str | None = None
    singleton: bool | None = None
    types: tuple[tuple[str, str], ...] = ()
    # Where the facts came from, for messages: "schema", "graphql", "given", "none".
    source: str = "none"

    def type_of(self, field: str) -> str | None:
        """Return a field's Directus type (or GraphQL scalar) when known."""
        return dict(self.types).get(field)

    def orderable(self, field: str) -> bool | None:
        """Return whether Directus compares the field with _gt/_lt (None: not known)."""
        kind = self.type_of(field)
        if kind in ORDERED_TYPES:
            return True
        if kind in UNORDERED_TYPES:
            return False
        return None


@attrs.define
class ServerFacts:
    """Facts about the server and its database, learned from answers as they come."""

    # QUERY_LIMIT_MAX: None until learned; -1 means no cap.
    query_limit_max: int | None = None
    # Whether NULLs sort before values in ascending order (SQLite, MySQL: yes;
    # PostgreSQL: no). None until an answer has shown it.
    nulls_first: bool | None = None


class SchemaCache:
    """Learn relations and collection facts on first need from what the token may read."""

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self._lock = threading.Lock()
        self._relations: list[dict[str, Any]] | None = None
        # Whether GET /relations was refused (asked once: most API tokens may not read it).
        self._relations_refused = False
        self._collections: dict[str, CollectionInfo] = {}
        #: relations and fields parsed, once GET /fields was read; False: not readable
        self._full: Schema | bool | None = None
        # GET /fields/{name} rows; None: the token may not read the collection's fields.
        self._fields: dict[str, list[dict[str, Any]] | None] = {}
        # field -> Directus type per collection, as last answered by field_types().
        self._types: dict[str, Mapping[str, str]] = {}
        self._learned: set[str] = set()
        # (collection, field) pairs Directus refused to compare with _gt/_lt.
        self._unordered: set[tuple[str, str]] = set()
        self.server = ServerFacts()
        # Keys once missing from a collection's types (re-read for each only once).
        self._unknown: dict[str, set[str]] = {}
        # Collections GET /fields lacked once (read again for each only once).
        self._reread_fields: set[str] = set()
        #: relations and field types of what the token may read, from /server/specs/oas or
        #: GraphQL (for tokens refused /fields or /relations); False: neither tells
        self._readable: Schema | bool | None = None
        # Collections the readable schema lacked, read again for each once (made since).
        self._reread: set[str] = set()

    def clear(self) -> None:
        """Forget everything; the next need fetches again."""
        with self._lock:
            self._relations = None
            self._relations_refused = False
            self._collections.clear()
            self._full = None
            self._fields.clear()
            self._types.clear()
            self._learned.clear()
            self._unordered.clear()
            self.server = ServerFacts()
            self._unknown.clear()
            self._reread_fields.clear()
            self._readable = None
            self._reread.clear()

    def _field_rows(self, name: str) -> Plan[list[dict[str, Any]] | None]:
        """Return the rows of GET /fields/{name} (fetched once), None when forbidden."""
        with self._lock:
            if name in self._fields:
                return self._fields[name]
        try:
            rows: list[dict[str, Any]] | None = list(
                (yield from plans.data("GET", "fields", name, expect=FIELD_ROWS)))
        except PermissionDenied:
            rows = None
        with self._lock:
            self._fields[name] = rows
        return rows

    def field_types(self, name: str, *, missing: Collection[str] = ()
                    ) -> Plan[Mapping[str, str]]:
        """Return field -> Directus type for a collection, {} when they cannot be read.

        ``missing``: keys of an item that the cached types lack (a field added since they
        were read, or an alias): read the types again, once per such key.
        """
        with self._lock:
            full = self._full
            known = self._unknown.setdefault(name, set())
            refresh = not known.issuperset(missing)
            known.update(missing)
            if refresh:
                self._fields.pop(name, None)
            elif name in self._types:
                return self._types[name]
        if isinstance(full, Schema):  # the whole schema, already read
            # A collection the schema did not hold when it was read was created since (by
            # this client, another one, or another instance): read the schema again.
            if refresh or full.field_types(name) is None:
                fresh = yield from self.fields_from(name, refresh=True)
            else:
                fresh = full
            types = (fresh.field_types(name) if fresh is not None else None) or {}
        else:
            try:
                rows = yield from self._field_rows(name)
                if rows is None:  # the token may not read /fields: what it may read tells
                    readable = yield from self.readable(name, refresh=refresh)
                    types = dict((readable.field_types(name) if readable else None) or {})
                else:
                    types = {str(f["field"]): str(f.get("type")) for f in rows
                             if "field" in f}
            except APIError as exc:  # a read that worked must not fail over its types
                self.log.debug("no field types for %r: %s", name, exc)
                return {}
        with self._lock:
            self._types[name] = types
        return types

    def numeric_shapes(self, name: str) -> Plan[Mapping[str, tuple[int | None, int | None]]]:
        """Return field -> (precision, scale) of a collection's numeric fields from
        GET /fields/{name} (read once); {} when the token may not read it."""
        rows = yield from self._field_rows(name)
        shapes: dict[str, tuple[int | None, int | None]] = {}
        for row in rows or ():
            schema = row.get("schema") or {}
            precision, scale = schema.get("numeric_precision"), schema.get("numeric_scale")
            if isinstance(precision, int) or isinstance(scale, int):
                shapes[str(row["field"])] = (
                    precision if isinstance(precision, int) else None,
                    scale if isinstance(scale, int) else None)
        return shapes

    def known_field_types(self, name: str) -> Plan[Mapping[str, str] | None]:
        """Return the field types if what they come from was read already, else None.

        No request: the types field_types() last answered, or those in the rows of
        GET /fields read to learn the primary key ({} when the token may not read them).
        """
        with self._lock:
            types = self._types.get(name)
            if types is not None:
                return types
            rows = self._fields.get(name)
            read = isinstance(self._full, Schema) or rows is not None or (
                name in self._fields and isinstance(self._readable, Schema))
        return (yield from self.field_types(name)) if read else None

    def relations(self) -> Plan[list[dict[str, Any]]]:
        """Return the rows of GET /relations (fetched once)."""
        with self._lock:
            if self._relations is not None:
                return self._relations
        rows = list((yield from plans.data("GET", "relations", expect=RELATION_ROWS)))
        with self._lock:
            if self._relations is None:
                self._relations = rows
            return self._relations

    def relations_from(self, collection: str, *, refresh: bool = False
                       ) -> Plan[Schema | None]:
        """Return the relation Schema rooted at a collection (with the primary keys known)
        from /relations, else from what the token may read; None where nothing tells.
        ``refresh=True`` reads them again (a relation made since they were read)."""
        with self._lock:
            if refresh:
                self._relations = None
            full, refused = self._full, self._relations_refused
        if isinstance(full, Schema):
            return (yield from self.fields_from(collection, refresh=True)) if refresh else \
                full.at(collection)
        schema: Schema | None = None
        if not refused:
            try:
                schema = Schema.from_directus(collection, (yield from self.relations()))
            except PermissionDenied:
                with self._lock:
                    self._relations_refused = True
        if schema is None:
            schema = yield from self.readable(collection, refresh=refresh)
            if schema is None:
                return None
        with contextlib.suppress(PermissionDenied):
            yield from self.collection(collection)  # its primary key stands for `pk`
        with self._lock:
            keys = {name: info.primary_key for name, info in self._collections.items()
                    if info.primary_key is not None}
        return attrs.evolve(schema, primary_keys={**schema.primary_keys, **keys}) if keys \
            else schema

    def readable(self, collection: str, *, refresh: bool = False) -> Plan[Schema | None]:
        """Return relations and field types of every collection the token may read, rooted
        at one, from GET /server/specs/oas, else GraphQL introspection; None if neither
        tells. Read once, and again (once per name) for a collection it lacked, which was
        made since, or with ``refresh=True``."""
        with self._lock:
            known = self._readable
            lacking = (isinstance(known, Schema) and known.field_types(collection) is None
                       and collection not in self._reread)
            if lacking:
                self._reread.add(collection)
            fetch = known is None or lacking or (refresh and known is not False)
        if fetch:
            known = yield from self._read_spec()
            with self._lock:
                self._readable = known
        return known.at(collection) if isinstance(known, Schema) else None

    def _read_spec(self) -> Plan[Schema | bool]:
        # One request either way; Directus filters both to what the token may read.
        try:
            spec = yield from plans.request("GET", "server", "specs", "oas", idempotent=True)
            if isinstance(spec, dict):
                return Schema.from_openapi("", spec)
        except (APIError, InvalidQuery) as refused:  # InvalidQuery: not an OpenAPI document
            self.log.debug("no OpenAPI document: %s", refused)
        try:
            data = yield from graphql.execute(graphql.graphql_call(_INTROSPECT_ALL))
            return Schema.from_graphql("", data)
        except (APIError, InvalidQuery) as refused:
            self.log.debug("no GraphQL introspection: %s", refused)
        return False

    def fields_from(self, collection: str, *, fetch: bool = True,
                    refresh: bool = False) -> Plan[Schema | None]:
        """Return relations, field types and primary keys rooted at a collection, from
        GET /fields and /relations (fetched once; with ``fetch=False`` only if already
        fetched; ``refresh=True`` fetches again), or None if this token may not read them."""
        with self._lock:
            full = self._full
            # A collection the schema did not hold when it was read was made since (by this
            # client, another, or another instance): read it again, once per such name.
            if fetch and isinstance(full, Schema) and full.field_types(collection) is None \
                    and collection not in self._reread_fields:
                self._reread_fields.add(collection)
                refresh = True
            if refresh:
                self._full = self._relations = None
                self._types.clear()
                full = None
        if full is None and fetch:
            try:
                rows = yield from plans.data("GET", "fields", expect=ALL_FIELD_ROWS)
                full = Schema.from_directus(collection, (yield from self.relations()), rows)
            except APIError:
                # Most API tokens may not read the schema: the server decides, as before.
                self.log.debug("no read access to /fields or /relations; names go "
                                          "unchecked")
                full = False
            with self._lock:
                self._full = full
        return full.at(collection) if isinstance(full, Schema) else None

    def remember(self, name: str, **facts: Any) -> CollectionInfo:
        """Record facts given or seen (primary_key=, singleton=) over what is cached."""
        with self._lock:
            info = self._collections.get(name) or CollectionInfo(name)
            given = {key: value for key, value in facts.items() if value is not None}
            info = attrs.evolve(info, **given)
            self._collections[name] = info
            return info

    def known(self, name: str) -> CollectionInfo | None:
        """Return what is cached for a collection, without asking the server."""
        with self._lock:
            return self._collections.get(name)

    def known_fields(self, collection: str) -> Schema | None:
        """Return the schema rooted at a collection if GET /fields was read (no request)."""
        with self._lock:
            full = self._full
        return full.at(collection) if isinstance(full, Schema) else None

    def collection(self, name: str) -> Plan[CollectionInfo]:
        """Return what can be learned of a collection (asked once per name; never raises 403)."""
        with self._lock:
            info = self._collections.get(name)
            if info is not None and name in self._learned:
                return info
        learned = yield from self._learn(name)
        with self._lock:
            cached = self._collections.get(name)
            if cached is not None:  # facts given or seen since win over learned ones
                learned = attrs.evolve(learned, **{
                    k: v for k, v in attrs.asdict(cached, recurse=False).items()
                    if k in ("primary_key", "singleton") and v is not None})
            self._collections[name] = learned
            self._learned.add(name)
        return learned

    def primary_key(self, name: str, *, needed_for: str) -> Plan[str]:
        """Return the collection's primary key, or raise SchemaRequired saying how to give it."""
        info = yield from self.collection(name)
        if info.primary_key is not None:
            return info.primary_key
        raise SchemaRequired(
            f"{needed_for} needs the primary key of collection {name!r}, and this token may "
            f"not read /fields/{name} while GraphQL introspection does not describe it (is "
            f"introspection off, or may the token not read the collection?): name it with "
            f"client.collection({name!r}, pk='<field>')")

    def is_unordered(self, collection: str, field: str) -> bool:
        """Return whether Directus refused to compare this field with _gt/_lt before."""
        with self._lock:
            return (collection, field) in self._unordered

    def mark_unordered(self, collection: str, field: str) -> None:
        """Remember that Directus refuses _gt/_lt on this field."""
        with self._lock:
            self._unordered.add((collection, field))

    # Learning.

    def _learn(self, name: str) -> Plan[CollectionInfo]:
        if name.startswith("directus_"):
            return CollectionInfo(name, SYSTEM_KEYS.get(name, "id"), False, source="given")
        # One request where the token may read the schema: GET /fields gives the key and
        # the types. Whether the collection is a singleton is seen in the first answer
        # (an object, not a list), so GET /collections is not asked.
        info = yield from self._from_schema(name)
        if info.primary_key is None:
            info = yield from self._from_graphql(name, info)
        return info

    def _from_schema(self, name: str) -> Plan[CollectionInfo]:
        fields = yield from self._field_rows(name)
        if fields is None:
            self.log.debug("no read access to /fields/%s", name)
            return CollectionInfo(name, None, None, source="none")
        primary_key = next((f["field"] for f in fields
                            if (f.get("schema") or {}).get("is_primary_key")), None)
        types = tuple((f["field"], str(f.get("type"))) for f in fields if f.get("type"))
        return CollectionInfo(name, primary_key, None, types, source="schema")

    def _from_graphql(self, name: str, known: CollectionInfo) -> Plan[CollectionInfo]:
        if not _GRAPHQL_NAME.match(name):
            return known
        try:
            data = yield from graphql.execute(
                graphql.graphql_call(_INTROSPECT, {"name": name}))
        except APIError as refused:  # also a proxy's page or a wrong route: ServerError
            self.log.debug("GraphQL introspection of %s refused: %s", name, refused)
            return known
        fields = (data.get("collection") or {}).get("fields") or []
        if not fields:
            return known
        types: list[tuple[str, str]] = []
        primary_key = known.primary_key
        for field in fields:
            kind = field.get("type") or {}
            scalar = kind.get("name") or (kind.get("ofType") or {}).get("name")
            if scalar == "ID" and primary_key is None:
                primary_key = field["name"]
            elif scalar and kind.get("kind") != "OBJECT":
                types.append((field["name"], str(scalar)))
        roots = (data.get("root") or {}).get("fields") or []
        singleton = known.singleton
        for root in roots:
            if root.get("name") == name and singleton is None:
                singleton = (root.get("type") or {}).get("kind") == "OBJECT"
        return CollectionInfo(name, primary_key, singleton, known.types or tuple(types),
                              source="graphql")
