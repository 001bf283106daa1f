"""DirectusClient: owns one Transport, hands out handles, keeps the seed's methods."""

from __future__ import annotations

import ipaddress
import logging
import warnings
from collections.abc import Mapping
from functools import cached_property
from types import TracebackType
from typing import Any, TypeVar, overload
from urllib.parse import urlsplit

import requests

from .auth import DirectusAuth, Password, StaticToken
from .checks import check_data, check_key, check_query, query_params
from .client_args import resolve_client_args
from .collection import DEFAULT_PAGE_SIZE, Collection, Singleton
from .errors import InvalidQuery, UsageError
from .files import Files, Folders
from .models import (
    Access,
    Activity,
    Comment,
    Dashboard,
    File,
    Notification,
    Operation,
    Panel,
    Revision,
    Settings,
    Translation,
)
from .query import Query
from .core.schema import SchemaCache
from .system import (
    Authentication,
    Collections,
    Extensions,
    Fields,
    Flows,
    Permissions,
    Policies,
    Presets,
    ReadOnlyCollection,
    Relations,
    Roles,
    SchemaAPI,
    SettingsHandle,
    Shares,
    SystemCollection,
    Users,
    Utils,
    Versions,
)
from .system.custom import SharedPoolSession, send_custom
from .transport import (
    DEFAULT_TIMEOUT,
    Call,
    RetryPolicy,
    TimeoutSpec,
    Transport,
    redact_url,
)

__all__ = ["DirectusClient", "InsecureTransportWarning", "Server"]

QueryLike = Query | Mapping[str, Any] | None
T = TypeVar("T", bound=Mapping[str, Any])


class InsecureTransportWarning(UserWarning):
    """Credentials are about to travel unencrypted to a host that is not this machine."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Server:
    """The /server endpoints: ping, info, health."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def ping(self) -> str:
        """Return 'pong' from GET /server/ping (needs no auth)."""
        response = self._transport.send(Call("GET", ("server", "ping"), authenticate=False))
        return response.text.strip()

    def info(self) -> dict[str, Any]:
        """Return GET /server/info's data (project settings, and versions for admins)."""
        data: dict[str, Any] = self._transport.data("GET", "server", "info", expect=dict)
        return data

    def health(self) -> dict[str, Any]:
        """Return GET /server/health's report (status and checks; details need admin)."""
        body: dict[str, Any] = self._transport.request("GET", "server", "health")
        return body

    def specs_openapi(self) -> dict[str, Any]:
        """Return the OpenAPI document (as this token may see it) from GET /server/specs/oas."""
        spec: dict[str, Any] = self._transport.request("GET", "server", "specs", "oas")
        return spec

    def specs_graphql(self, scope: str = "items") -> str:
        """Return the GraphQL SDL of the "items" or "system" schema from
        GET /server/specs/graphql/{scope}."""
        if scope not in ("items", "system"):
            raise InvalidQuery(f"scope: expected 'items' or 'system', got {scope!r}")
        return self._transport.send(Call("GET", ("server", "specs", "graphql", scope))).text


class DirectusClient:
    """A client for one Directus instance over one requests.Session.

    >>> client = DirectusClient("http://127.0.0.1:8055", auth=StaticToken("..."))
    >>> client = DirectusClient(hostname="http://...", static_token="...")   # seed style
    >>> client = DirectusClient("http://...", "a@b.c", "secret")    # seed's positional order
    """

    def __init__(
        self,
        url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        static_token: str | None = None,
        ssl_verify: bool | str | None = None,
        logger: logging.Logger | None = None,
        *,
        auth: DirectusAuth | None = None,
        hostname: str | None = None,
        timeout: TimeoutSpec = DEFAULT_TIMEOUT,
        verify: bool | str | None = None,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so sharing is safe
        session: requests.Session | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        prefetch: bool = True,
    ) -> None:
        """Connect to the Directus at `url` (the seed's `hostname`); nothing is sent yet.

        The positional order after `url` is the seed's (pydirectus 0.2): `username`,
        `password`, `static_token`, `ssl_verify`, `logger`. `verify` (or the seed's
        `ssl_verify`) is True, False or a CA bundle path; given neither, the session's own
        setting holds, which is on for the session the client makes (the seed's was off).
        `logger` receives this client's log lines instead of the `pydirectus` logger.
        `prefetch` (on by default): iterating a query fetches the next page in the
        background while the loop works on the current one; False fetches each page
        only when the loop reaches it.
        """
        if not isinstance(prefetch, bool):
            raise UsageError(f"prefetch: expected True or False, got {prefetch!r}")
        args = resolve_client_args(
            url=url, hostname=hostname, auth=auth, username=username, password=password,
            static_token=static_token, verify=verify, ssl_verify=ssl_verify, logger=logger)
        base_url, auth = args.base_url, args.auth
        if isinstance(auth, Password):
            parts = urlsplit(base_url)
            if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
                warnings.warn(
                    f"Password auth over plain http to {parts.hostname}: the password and tokens "
                    "travel unencrypted; use https://",
                    InsecureTransportWarning,
                    stacklevel=2,
                )
        # verify=None: a session passed in keeps its own setting (a CA bundle, say); the
        # transport sends verify, timeouts and the User-Agent per request, never changing it.
        self.transport = Transport(base_url, auth=auth, timeout=timeout, verify=args.verify,
                                   retry=retry, session=session, logger=args.logger,
                                   prefetch=prefetch)
        self.server = Server(self.transport)
        self.page_size = page_size
        self._schema = SchemaCache(self.transport.log)
        self.files = Files(self.transport, self._schema, page_size=page_size)
        self.folders = Folders(self.transport, self._schema, page_size=page_size)

    @property
    def url(self) -> str:
        """Return the base URL."""
        return self.transport.base_url

    @property
    def auth(self) -> DirectusAuth | None:
        """Return the auth strategy in use."""
        return self.transport.auth

    def __repr__(self) -> str:
        return f"DirectusClient({redact_url(self.url)!r}, auth={self.auth!r})"

    def close(self) -> None:
        """Log out a password session and close the HTTP session (only one the client made)."""
        self.transport.close()

    def __enter__(self) -> DirectusClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

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
        """
        return Collection(name, self.transport, self._schema, page_size=self.page_size,
                          pk=pk, singleton=singleton)

    @overload
    def singleton(self, name: str) -> Singleton[dict[str, Any]]: ...
    @overload
    def singleton(self, name: str, item_type: type[T]) -> Singleton[T]: ...
    def singleton(self, name: str, item_type: type[Any] | None = None) -> Singleton[Any]:
        """Return a handle on the singleton collection at /items/{name}."""
        return Singleton(name, self.transport, self._schema)

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
        """Create one item with POST /items/{collection}; return it."""
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
        self.collection(collection).delete(id)

    def read_files(self, query: QueryLike = None) -> list[File]:
        """Return file records from GET /files matching a query dict or Query."""
        files: list[File] = self.transport.data("GET", "files", params=query_params(query),
                                                expect=list)
        return files

    def read_file(self, id: str, query: QueryLike = None) -> File:
        """Return one file record from GET /files/{id}."""
        file: File = self.transport.data("GET", "files", check_key(id),
                                         params=query_params(query), expect=dict)
        return file

    def create_file(self, file_data: Mapping[str, Any]) -> File:
        """Register a file record (no upload) with POST /files; return it."""
        file: File = self.transport.data("POST", "files", json=check_data(file_data, "file_data"))
        return file

    def update_file(self, id: str, data: Mapping[str, Any]) -> File:
        """Update a file record's metadata with PATCH /files/{id}; return it."""
        file: File = self.transport.data("PATCH", "files", check_key(id), json=check_data(data))
        return file

    def delete_file(self, id: str) -> None:
        """Delete a file (record and stored bytes) with DELETE /files/{id}."""
        self.transport.data("DELETE", "files", check_key(id), idempotent=True)

    # System routes (issue 12): one Collection machinery over each system route.

    @cached_property
    def users(self) -> Users:
        """Return the /users handle (with me(), invite(), register(), 2FA)."""
        return Users(self.transport, self._schema, page_size=self.page_size)

    @cached_property
    def roles(self) -> Roles:
        """Return the /roles handle (with me())."""
        return Roles(self.transport, self._schema, page_size=self.page_size)

    @cached_property
    def policies(self) -> Policies:
        """Return the /policies handle (with me_globals())."""
        return Policies(self.transport, self._schema, page_size=self.page_size)

    @cached_property
    def permissions(self) -> Permissions:
        """Return the /permissions handle (with me() and item())."""
        return Permissions(self.transport, self._schema, page_size=self.page_size)

    @cached_property
    def access(self) -> SystemCollection[Access]:
        """Return the /access handle (which policies apply to which roles and users)."""
        return self._system("directus_access")

    @cached_property
    def presets(self) -> Presets:
        """Return the /presets handle (with to_query() and from_query())."""
        return Presets(self.transport, self._schema, page_size=self.page_size)

    @cached_property
    def comments(self) -> SystemCollection[Comment]:
        """Return the /comments handle."""
        return self._system("directus_comments")

    @cached_property
    def versions(self) -> Versions:
        """Return the /versions handle (with save(), compare(), promote(), item())."""
        return Versions(self.transport, self._schema, page_size=self.page_size)

    @cached_property
    def shares(self) -> Shares:
        """Return the /shares handle (with info())."""
        return Shares(self.transport, self._schema, page_size=self.page_size)

    @cached_property
    def notifications(self) -> SystemCollection[Notification]:
        """Return the /notifications handle."""
        return self._system("directus_notifications")

    @cached_property
    def flows(self) -> Flows:
        """Return the /flows handle (with trigger())."""
        return Flows(self.transport, self._schema, page_size=self.page_size)

    @cached_property
    def operations(self) -> SystemCollection[Operation]:
        """Return the /operations handle (the steps of flows)."""
        return self._system("directus_operations")

    @cached_property
    def dashboards(self) -> SystemCollection[Dashboard]:
        """Return the /dashboards handle."""
        return self._system("directus_dashboards")

    @cached_property
    def panels(self) -> SystemCollection[Panel]:
        """Return the /panels handle."""
        return self._system("directus_panels")

    @cached_property
    def translations(self) -> SystemCollection[Translation]:
        """Return the /translations handle (custom translation strings)."""
        return self._system("directus_translations")

    @cached_property
    def activity(self) -> ReadOnlyCollection[Activity]:
        """Return the read-only /activity handle."""
        return ReadOnlyCollection(self.transport, self._schema, name="directus_activity",
                                  page_size=self.page_size)

    @cached_property
    def revisions(self) -> ReadOnlyCollection[Revision]:
        """Return the read-only /revisions handle."""
        return ReadOnlyCollection(self.transport, self._schema, name="directus_revisions",
                                  page_size=self.page_size)

    @cached_property
    def settings(self) -> SettingsHandle[Settings]:
        """Return the /settings singleton handle (get() and update())."""
        return SettingsHandle(self.transport, self._schema)

    @cached_property
    def extensions(self) -> Extensions:
        """Return the /extensions handle (list(), get(), update(), enable(), disable())."""
        return Extensions(self.transport)

    @cached_property
    def collections(self) -> Collections:
        """Return the /collections handle (schema as code)."""
        return Collections(self.transport, self._schema)

    @cached_property
    def fields(self) -> Fields:
        """Return the /fields handle (schema as code)."""
        return Fields(self.transport, self._schema)

    @cached_property
    def relations(self) -> Relations:
        """Return the /relations handle (schema as code)."""
        return Relations(self.transport, self._schema)

    @cached_property
    def schema(self) -> SchemaAPI:
        """Return schema as code: define(), snapshot(), diff(), apply(), copy_to()."""
        return SchemaAPI(self.transport, self._schema, self.collections, self.fields,
                         self.relations)

    @cached_property
    def utils(self) -> Utils:
        """Return the /utils routes (random_string, sort, clear_cache, revert, import, export)."""
        return Utils(self.transport, self._schema)

    @cached_property
    def authentication(self) -> Authentication:
        """Return the /auth routes beyond login (providers, password reset)."""
        return Authentication(self.transport)

    def _system(self, name: str) -> SystemCollection[Any]:
        return SystemCollection(self.transport, self._schema, name=name,
                                page_size=self.page_size)

    # Custom endpoints and per-call credentials.

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None, headers: Mapping[str, str] | None = None) -> Any:
        """Call any route (an extension's endpoint, say) as {method} {path}; return the
        decoded JSON body, the text of a non-JSON one, or None for an empty answer.

        `path` is relative to the base URL, e.g. "my-endpoint/items/42": each segment is
        percent-encoded here (pass it unencoded) and query strings go in `params`. Errors
        map to the pydirectus tree; GET-like calls are retried as elsewhere.
        """
        return send_custom(self.transport, method, path, params=params, json=json,
                           headers=headers)

    def with_auth(self, auth: DirectusAuth) -> DirectusClient:
        """Return a client that acts through `auth` but shares this client's connection pool."""
        if not isinstance(auth, DirectusAuth):
            raise UsageError(f"auth: expected StaticToken, Password or another DirectusAuth, "
                             f"got {type(auth).__name__}")
        return DirectusClient(self.url, auth=auth, timeout=self.transport.timeout,
                              verify=self.transport.verify, retry=self.transport.retry,
                              session=SharedPoolSession(self.transport.session),
                              page_size=self.page_size, logger=self.transport.log)

    def with_token(self, token: str) -> DirectusClient:
        """Return a client that sends `token` (an end user's, say) over this client's pool."""
        return self.with_auth(StaticToken(token))

