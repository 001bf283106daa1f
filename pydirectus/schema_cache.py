"""What the client learns of a project's schema once and caches: relations, keys, singletons."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .collection import CollectionInfo
from .errors import APIError, PermissionDenied
from .query import Schema

if TYPE_CHECKING:
    from .transport import Transport

__all__ = ["SchemaCache"]

# When the token may not read the schema, the Directus default is the best guess.
FALLBACK_PRIMARY_KEY = "id"


class SchemaCache:
    """Fetch /relations, /collections/{name} and /fields/{name} on first need; keep them."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._lock = threading.Lock()
        self._relations: list[dict[str, Any]] | None = None
        self._collections: dict[str, CollectionInfo] = {}
        #: relations and fields parsed, once GET /fields was read; False: not readable
        self._full: Schema | bool | None = None
        # GET /fields/{name} rows; None: the token may not read the collection's fields.
        self._fields: dict[str, list[dict[str, Any]] | None] = {}

    def clear(self) -> None:
        """Forget everything; the next need fetches again."""
        with self._lock:
            self._relations = None
            self._collections.clear()
            self._full = None
            self._fields.clear()

    def _field_rows(self, name: str) -> list[dict[str, Any]] | None:
        """Return the rows of GET /fields/{name} (fetched once), None when forbidden."""
        with self._lock:
            if name in self._fields:
                return self._fields[name]
        try:
            rows: list[dict[str, Any]] | None = list(
                self._transport.data("GET", "fields", name) or [])
        except PermissionDenied:
            rows = None
        with self._lock:
            self._fields[name] = rows
        return rows

    def field_types(self, name: str) -> Mapping[str, str]:
        """Return field -> Directus type for a collection, {} when they cannot be read."""
        with self._lock:
            full = self._full
        if isinstance(full, Schema):  # the whole schema, already read
            return full.field_types(name) or {}
        try:
            rows = self._field_rows(name)
        except APIError as exc:  # a read that worked must not fail over its types
            self._transport.log.debug("no field types for %r: %s", name, exc)
            return {}
        return {str(f["field"]): str(f.get("type")) for f in rows or [] if "field" in f}

    def relations(self) -> list[dict[str, Any]]:
        """Return the rows of GET /relations (fetched once)."""
        with self._lock:
            if self._relations is None:
                rows = self._transport.data("GET", "relations")
                self._relations = list(rows or [])
            return self._relations

    def relations_from(self, collection: str) -> Schema:
        """Return the relation Schema rooted at a collection (with the primary keys known)."""
        with self._lock:
            full = self._full
        if isinstance(full, Schema):
            return full.at(collection)
        schema = Schema.from_directus(collection, self.relations())
        with contextlib.suppress(PermissionDenied):
            self.collection(collection)  # its primary key stands for `pk`
        with self._lock:
            keys = {name: info.primary_key for name, info in self._collections.items()}
        return attrs.evolve(schema, primary_keys=keys) if keys else schema

    def fields_from(self, collection: str, *, fetch: bool = True,
                    refresh: bool = False) -> Schema | None:
        """Return relations, field types and primary keys rooted at a collection, from
        GET /fields and /relations (fetched once; with ``fetch=False`` only if already
        fetched; ``refresh=True`` fetches again), or None if this token may not read them."""
        with self._lock:
            if refresh:
                self._full = self._relations = None
            full = self._full
        if full is None and fetch:
            try:
                rows = self._transport.data("GET", "fields") or []
                full = Schema.from_directus(collection, self.relations(), rows)
            except APIError:
                # Most API tokens may not read the schema: the server decides, as before.
                self._transport.log.debug("no read access to /fields or /relations; names go "
                                          "unchecked")
                full = False
            with self._lock:
                self._full = full
        return full.at(collection) if isinstance(full, Schema) else None

    def collection(self, name: str) -> CollectionInfo:
        """Return a collection's primary key and singleton flag (fetched once per name)."""
        with self._lock:
            info = self._collections.get(name)
        if info is not None:
            return info
        try:
            meta = self._transport.data("GET", "collections", name).get("meta") or {}
        except PermissionDenied as denied:
            raise PermissionDenied(
                denied.status, denied.code,
                f"collection {name!r} does not exist or this token may not read it",
                {**denied.extensions, "collection": name}, denied.response) from None
        fields = self._field_rows(name)
        if fields is None:
            self._transport.log.debug("no read access to /fields/%s; assuming primary key %r",
                                      name, FALLBACK_PRIMARY_KEY)
        primary_key = next(
            (f["field"] for f in fields or [] if (f.get("schema") or {}).get("is_primary_key")),
            FALLBACK_PRIMARY_KEY)
        info = CollectionInfo(name, primary_key, bool(meta.get("singleton")))
        with self._lock:
            self._collections[name] = info
        return info
