"""What the sync and the async client share: handles, the seed's methods, custom routes.

``ClientFace`` is written once. Each method builds a handle or a plan and hands it
to the face's runner: ``DirectusClient`` (sync) gets results,
``AsyncDirectusClient`` gets awaitables (its types are declared in
``pydirectus.aio.typing``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast, overload

from .auth import DirectusAuth
from .checks import check_data, check_key, check_query
from .collection import Collection, Singleton
from .core import graphql, plans
from .core.plans import Call, Plan, Runner
from .core.schema import SchemaCache
from .errors import UsageError
from .files import Files, Folders
from .models import File
from .query import Query
from .redact import redact_url
from .system.custom import send_custom
from .system.registry import SystemHandles, system_handle_of

__all__ = ["ClientFace", "QueryLike", "Server"]

QueryLike = Query | Mapping[str, Any] | None
T = TypeVar("T", bound=Mapping[str, Any])


class Server:
    """The /server endpoints: ping, info, health (both faces: the runner drives each plan)."""

    def __init__(self, transport: Runner) -> None:
        self._runner = transport

    def ping(self) -> str:
        """Return 'pong' from GET /server/ping (needs no auth)."""
        return self._runner.run(_text(Call("GET", ("server", "ping"), authenticate=False),
                                      strip=True))

    def info(self) -> dict[str, Any]:
        """Return GET /server/info's data (project settings, and versions for admins)."""
        return cast("dict[str, Any]", self._runner.run(
            plans.data("GET", "server", "info", expect=plans.OBJECT)))

    def health(self) -> dict[str, Any]:
        """Return GET /server/health's report (status and checks; details need admin)."""
        return cast("dict[str, Any]", self._runner.run(plans.request("GET", "server", "health",
                                                                  expect=plans.OBJECT)))

    def specs_openapi(self) -> dict[str, Any]:
        """Return the OpenAPI document (as this token may see it) from GET /server/specs/oas."""
        return cast("dict[str, Any]", self._runner.run(
            plans.request("GET", "server", "specs", "oas", expect=plans.OBJECT)))

    def specs_graphql(self, scope: str = "items") -> str:
        """Return the GraphQL SDL of the "items" or "system" schema from
        GET /server/specs/graphql/{scope}."""
        if scope not in ("items", "system"):
            raise UsageError(f"scope: expected 'items' or 'system', got {scope!r}")
        return self._runner.run(_text(Call("GET", ("server", "specs", "graphql", scope))))


def _text(call: Call, *, strip: bool = False) -> Plan[str]:
    reply = yield from plans.send(call)
    return reply.text.strip() if strip else reply.text


def _refuse_system(name: Any, method: str) -> None:
    # Directus serves system collections at their own routes (/users, /files), never at
    # /items/directus_*, and answers that with a bare 403: say which handle to use instead.
    if not isinstance(name, str) or not name.startswith("directus_"):
        return
    attribute = system_handle_of(name)
    use = (f"use client.{attribute}" if attribute is not None else
           "it has no handle here: call its route with client.request(...)")
    raise UsageError(f"{method}({name!r}): {name} is a Directus system collection, served at "
                     f"its own route, not at /items/{name}: {use}")


def _discard(plan: Plan[Any]) -> Plan[None]:
    yield from plan


class ClientFace(SystemHandles):
    """Handles and calls both clients offer; the face supplies the runner."""

    _runner: Runner
    server: Server
    files: Files
    folders: Folders

    @property
    def url(self) -> str:
        """Return the base URL."""
        return self._runner.base_url

    @property
    def auth(self) -> DirectusAuth | None:
        """Return the auth strategy in use."""
        return cast("DirectusAuth | None", self._runner.auth)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact_url(self.url)!r}, auth={self.auth!r})"

    def _setup(self, runner: Any, page_size: int) -> None:
        # What the handles drive their plans with (SystemHandles makes them on first use).
        self._runner = runner
        self.page_size = page_size
        self._schema = SchemaCache(runner.log)
        self.server = Server(runner)
        self.files = Files(runner, self._schema, page_size=page_size)
        self.folders = Folders(runner, self._schema, page_size=page_size)

    # Handles.

    @overload
    def collection(self, name: str, *, pk: str | None = None,
                   singleton: bool | None = None) -> Collection[dict[str, Any]]: ...
    @overload
    def collection(self, name: str, item_type: type[T], *, pk: str | None = None,
                   singleton: bool | None = None) -> Collection[T]: ...
    def collection(self, name: str, item_type: type[Any] | None = None, *,
                   pk: str | None = None, singleton: bool | None = None) -> Collection[Any]:
        """Return a handle on /items/{name}; pass a TypedDict as item_type for typed results.

        The primary key and singleton flag are learned from what the token may read;
        name them (``pk="uuid"``) where the token may read neither the schema nor GraphQL.
        A ``directus_*`` name raises UsageError naming the handle that serves it.
        """
        _refuse_system(name, "collection")
        return Collection(name, self._runner, self._schema, page_size=self.page_size,
                          pk=pk, singleton=singleton)

    @overload
    def singleton(self, name: str) -> Singleton[dict[str, Any]]: ...
    @overload
    def singleton(self, name: str, item_type: type[T]) -> Singleton[T]: ...
    def singleton(self, name: str, item_type: type[Any] | None = None) -> Singleton[Any]:
        """Return a handle on the singleton collection at /items/{name}."""
        _refuse_system(name, "singleton")
        return Singleton(name, self._runner, self._schema)

    def refresh_schema(self) -> None:
        """Drop the cached relations and collection info; the next need fetches them again."""
        self._schema.clear()

    # The seed's methods: plain dicts in, plain dicts and lists out, one request each.

    def read_items(self, collection: str, query: QueryLike = None) -> list[dict[str, Any]]:
        """Return the items of GET /items/{collection} matching a query dict or Query.

        Without a limit, Directus's default page; with ``limit: -1``, every match (paged).
        """
        data: list[dict[str, Any]] = self.collection(collection).query(check_query(query)).fetch()
        return data

    def read_item(self, collection: str, id: str | int, query: QueryLike = None) -> dict[str, Any]:
        """Return one item from GET /items/{collection}/{id}."""
        return self.collection(collection).query(check_query(query)).get(id)

    def create_item(self, collection: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Create one item with POST /items/{collection}; return it.

        Returns an empty dict when the token may create the item but not read it back.
        """
        return self.collection(collection).create(data)

    def update_item(
        self, collection: str, id: str | int, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Update one item with PATCH /items/{collection}/{id}; return it (NotFound if missing).

        Returns an empty dict when the token may update the item but not read it back.
        """
        return self.collection(collection).update(id, data)

    def delete_item(self, collection: str, id: str | int) -> None:
        """Delete one item with DELETE /items/{collection}/{id}."""
        return self.collection(collection).delete(id)

    def read_files(self, query: QueryLike = None) -> list[File]:
        """Return file records from GET /files matching a query dict or Query."""
        return self.files.query(check_query(query)).fetch()

    def read_file(self, id: str, query: QueryLike = None) -> File:
        """Return one file record from GET /files/{id}."""
        return self.files.query(check_query(query)).get(check_key(id))

    def create_file(self, file_data: Mapping[str, Any]) -> File:
        """Register a file record (no upload) with POST /files; return it."""
        body = dict(check_data(file_data, "file_data"))
        return self._runner.run(self._file_record("POST", body))

    def update_file(self, id: str, data: Mapping[str, Any]) -> File:
        """Update a file record's metadata with PATCH /files/{id}; return it."""
        body = dict(check_data(data))
        return self._runner.run(self._file_record("PATCH", body, check_key(id)))

    def delete_file(self, id: str) -> None:
        """Delete a file (record and stored bytes) with DELETE /files/{id}."""
        return self._runner.run(_discard(plans.data("DELETE", "files", check_key(id),
                                                    idempotent=True, expect=plans.NOTHING)))

    def _file_record(self, method: str, body: dict[str, Any], *key: str | int) -> Plan[File]:
        record = yield from plans.data(method, "files", *key, json=body,
                                       expect=plans.OBJECT_OR_NOTHING)
        return cast("File", (yield from self.files._path.typed(record)))

    # GraphQL.

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None, *,
                system: bool = False, operation_name: str | None = None) -> dict[str, Any]:
        """Run a query or mutation with POST /graphql (or /graphql/system); return its data.

        ``system=True`` sends it to Directus's system schema (``users_me``, ...).
        ``variables`` are sent as JSON (dates, Decimals and UUIDs as REST writes send
        them); ``operation_name`` picks one operation of a document that defines several.
        Errors in the answer raise a GraphQLError of the first error's code (also the REST
        class: FORBIDDEN is a PermissionDenied) with ``path`` and the partial ``data``. A
        query is retried like a REST read; a mutation, like a REST write, is never re-sent
        once it may have reached the server. Values come back as GraphQL types them.
        """
        call = graphql.graphql_call(query, variables, system=system,
                                    operation_name=operation_name)
        return self._runner.run(graphql.execute(call))

    # Custom endpoints.

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None, headers: Mapping[str, str] | None = None) -> Any:
        """Call any route (an extension's endpoint, say) as {method} {path}; return the
        decoded JSON body, the text of a non-JSON one, or None for an empty answer.

        `path` is relative to the base URL, e.g. "my-endpoint/items/42": each segment is
        percent-encoded here (pass it unencoded) and query strings go in `params`. Errors
        map to the pydirectus tree; GET-like calls are retried as elsewhere.
        """
        return send_custom(self._runner, method, path, params=params, json=json,
                           headers=headers)
