"""DirectusClient: owns one Transport, hands out handles, keeps the seed's methods."""

from __future__ import annotations

import ipaddress
import warnings
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import requests

from .auth import DirectusAuth, Password, StaticToken
from .errors import InvalidQuery
from .query import Query, query_to_params
from .transport import (
    DEFAULT_TIMEOUT,
    Call,
    RetryPolicy,
    TimeoutSpec,
    Transport,
    validate_base_url,
)

__all__ = ["DirectusClient", "InsecureTransportWarning", "Server"]

QueryLike = Query | Mapping[str, Any] | None


class InsecureTransportWarning(UserWarning):
    """Credentials are about to travel unencrypted to a host that is not this machine."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _params(query: QueryLike) -> dict[str, str] | None:
    if query is None:
        return None
    if not isinstance(query, Query | Mapping):
        raise InvalidQuery(f"query: expected a dict or a Query, got {type(query).__name__}")
    return query_to_params(query)


def _require_data(data: Any, what: str = "data") -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidQuery(f"{what}: expected a dict of field values, got {type(data).__name__}")
    return data


def _require_id(value: Any, what: str = "id") -> str | int:
    if value is None or isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidQuery(f"{what}: expected a non-empty str or int, got {value!r}")
    if isinstance(value, str) and not value.strip():
        raise InvalidQuery(f"{what}: must not be empty")
    return value


def _require_name(value: Any, what: str = "collection") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidQuery(f"{what}: expected a non-empty collection name, got {value!r}")
    return value


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
        data: dict[str, Any] = self._transport.data("GET", "server", "info")
        return data

    def health(self) -> dict[str, Any]:
        """Return GET /server/health's report (status and checks; details need admin)."""
        body: dict[str, Any] = self._transport.request("GET", "server", "health")
        return body


class DirectusClient:
    """A client for one Directus instance over one requests.Session.

    >>> client = DirectusClient("http://127.0.0.1:8055", auth=StaticToken("..."))
    >>> client = DirectusClient(hostname="http://...", static_token="...")   # seed style
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        auth: DirectusAuth | None = None,
        hostname: str | None = None,
        static_token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout: TimeoutSpec = DEFAULT_TIMEOUT,
        verify: bool | str = True,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so sharing is safe
        session: requests.Session | None = None,
    ) -> None:
        if url is not None and hostname is not None and url != hostname:
            raise InvalidQuery("pass the base URL once: either url or hostname=")
        base_url = validate_base_url(url if url is not None else hostname)  # type: ignore[arg-type]
        auth = _seed_auth(auth, static_token, username, password)
        if isinstance(auth, Password):
            parts = urlsplit(base_url)
            if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
                warnings.warn(
                    f"Password auth over plain http to {parts.hostname}: the password and tokens "
                    "travel unencrypted; use https://",
                    InsecureTransportWarning,
                    stacklevel=2,
                )
        self.transport = Transport(base_url, auth=auth, timeout=timeout, verify=verify,
                                   retry=retry, session=session)
        self.server = Server(self.transport)

    @property
    def url(self) -> str:
        """Return the base URL."""
        return self.transport.base_url

    @property
    def auth(self) -> DirectusAuth | None:
        """Return the auth strategy in use."""
        return self.transport.auth

    def __repr__(self) -> str:
        return f"DirectusClient({self.url!r}, auth={self.auth!r})"

    def close(self) -> None:
        """Log out a password session and close the HTTP session."""
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

    # The seed's methods: plain dicts in, plain dicts and lists out.

    def read_items(self, collection: str, query: QueryLike = None) -> list[dict[str, Any]]:
        """Return the items of GET /items/{collection} matching a query dict or Query."""
        params = _params(query)
        data: list[dict[str, Any]] = self.transport.data(
            "GET", "items", _require_name(collection), params=params)
        return data

    def read_item(self, collection: str, id: str | int, query: QueryLike = None) -> dict[str, Any]:
        """Return one item from GET /items/{collection}/{id}."""
        params = _params(query)
        data: dict[str, Any] = self.transport.data(
            "GET", "items", _require_name(collection), _require_id(id), params=params)
        return data

    def create_item(self, collection: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Create one item with POST /items/{collection}; return it."""
        created: dict[str, Any] = self.transport.data(
            "POST", "items", _require_name(collection), json=_require_data(data))
        return created

    def update_item(
        self, collection: str, id: str | int, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Update one item with PATCH /items/{collection}/{id}; return it."""
        updated: dict[str, Any] = self.transport.data(
            "PATCH", "items", _require_name(collection), _require_id(id),
            json=_require_data(data))
        return updated

    def delete_item(self, collection: str, id: str | int) -> None:
        """Delete one item with DELETE /items/{collection}/{id}."""
        self.transport.data("DELETE", "items", _require_name(collection), _require_id(id),
                            idempotent=True)

    def read_files(self, query: QueryLike = None) -> list[dict[str, Any]]:
        """Return file records from GET /files matching a query dict or Query."""
        data: list[dict[str, Any]] = self.transport.data("GET", "files", params=_params(query))
        return data

    def read_file(self, id: str, query: QueryLike = None) -> dict[str, Any]:
        """Return one file record from GET /files/{id}."""
        data: dict[str, Any] = self.transport.data("GET", "files", _require_id(id),
                                                   params=_params(query))
        return data

    def create_file(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Register a file record (no upload) with POST /files; return it."""
        created: dict[str, Any] = self.transport.data("POST", "files",
                                                      json=_require_data(data, "file_data"))
        return created

    def update_file(self, id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Update a file record's metadata with PATCH /files/{id}; return it."""
        updated: dict[str, Any] = self.transport.data("PATCH", "files", _require_id(id),
                                                      json=_require_data(data))
        return updated

    def delete_file(self, id: str) -> None:
        """Delete a file (record and stored bytes) with DELETE /files/{id}."""
        self.transport.data("DELETE", "files", _require_id(id), idempotent=True)


def _seed_auth(
    auth: DirectusAuth | None,
    static_token: str | None,
    username: str | None,
    password: str | None,
) -> DirectusAuth | None:
    seed_given = static_token is not None or username is not None or password is not None
    if auth is not None:
        if seed_given:
            raise InvalidQuery("pass either auth= or static_token=/username=/password=, not both")
        if not isinstance(auth, DirectusAuth):
            raise InvalidQuery(f"auth: expected StaticToken, Password or another DirectusAuth, "
                               f"got {type(auth).__name__}")
        return auth
    if static_token is not None:  # the seed's rule: a static token wins over a login
        return StaticToken(static_token)
    if username is not None or password is not None:
        if not username or not password:
            raise InvalidQuery("username= and password= go together; one of them is missing")
        return Password(username, password)
    return None
