"""Create and drop throwaway collections (and relations between them) over raw REST."""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Mapping
from typing import Any

import requests

from ..system.schema import TYPE_SPECIALS

__all__ = ["CollectionFactory", "FieldSpec"]

FieldSpec = str | Mapping[str, Any]
_counter = itertools.count(1)


def unique_name(prefix: str) -> str:
    """Return a name no other test of this run (or of a parallel run) has used."""
    return f"{prefix}_{os.getpid()}_{next(_counter)}"


def _field(name: str, spec: FieldSpec) -> dict[str, Any]:
    if isinstance(spec, str):
        # The flags the app (and client.schema) sets: without cast-boolean a boolean
        # comes back 1/0 on SQLite and MariaDB (true/false on PostgreSQL).
        special = TYPE_SPECIALS.get(spec)
        return {"field": name, "type": spec, "schema": {},
                "meta": {"special": list(special)} if special else {}}
    return {"field": name, **spec}


class CollectionFactory:
    """Make uniquely named collections for one test; ``drop_all()`` removes them."""

    def __init__(self, url: str, token: str, *, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.created: list[str] = []

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.session.request(method, f"{self.url}{path}", json=body,
                                         timeout=self.timeout)
        if not response.ok:
            raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text[:500]}")
        return response.json().get("data") if response.content else None

    def __call__(
        self,
        fields: Mapping[str, FieldSpec] | None = None,
        *,
        prefix: str = "t",
        pk: str = "integer",
        singleton: bool = False,
    ) -> str:
        """Create a collection with a primary key ``id`` and the given fields; return its name.

        A field given by its type alone is made as the app makes it (booleans with
        ``cast-boolean``, JSON with ``cast-json``, ...); a mapping is the whole field body.
        """
        name = unique_name(prefix)
        if pk == "integer":
            key = {"field": "id", "type": "integer", "meta": {"hidden": True},
                   "schema": {"is_primary_key": True, "has_auto_increment": True}}
        elif pk == "uuid":
            key = {"field": "id", "type": "uuid", "meta": {"special": ["uuid"], "hidden": True},
                   "schema": {"is_primary_key": True, "length": 36}}
        else:
            key = {"field": "id", "type": "string",
                   "schema": {"is_primary_key": True, "length": 255}, "meta": {}}
        body = {
            "collection": name,
            "schema": {},
            "meta": {"singleton": singleton},
            "fields": [key, *(_field(n, s) for n, s in (fields or {}).items())],
        }
        self._call("POST", "/collections", body)
        self.created.append(name)
        return name

    def many_to_one(
        self, many: str, field: str, one: str, *, one_field: str | None = None
    ) -> None:
        """Add ``many.field`` pointing at ``one``; with ``one_field``, the one-to-many back."""
        self._call("POST", f"/fields/{many}", {
            "field": field, "type": "integer", "schema": {},
            "meta": {"special": ["m2o"], "interface": "select-dropdown-m2o"},
        })
        if one_field is not None:
            self._call("POST", f"/fields/{one}", {
                "field": one_field, "type": "alias",
                "meta": {"special": ["o2m"], "interface": "list-o2m"},
            })
        self._call("POST", "/relations", {
            "collection": many, "field": field, "related_collection": one,
            "meta": {"one_field": one_field},
            "schema": {"on_delete": "SET NULL"},
        })

    def drop_all(self) -> None:
        """Drop every collection this factory made, newest first."""
        while self.created:
            name = self.created.pop()
            # A test may have dropped it already.
            with contextlib.suppress(RuntimeError, requests.RequestException):
                self._call("DELETE", f"/collections/{name}")
        self.session.close()
