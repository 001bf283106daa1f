"""One exception tree for everything pydirectus raises.

::

    DirectusError
      InvalidQuery (also ValueError)      raised while building, before any request
        SchemaRequired                      negating a relational path needs the relations
      TransportError                      the request never got a usable HTTP answer
        ConnectError                        connection refused or reset, DNS failure
        TLSError                            certificate or handshake failure
        Timeout                             connect or read timed out
      APIError                            Directus (or a proxy) answered with an error
        AuthenticationError                 INVALID_CREDENTIALS, TOKEN_EXPIRED, ..., 401
        PermissionDenied                    FORBIDDEN, 403 (also said for missing items)
        NotFound                            ROUTE_NOT_FOUND, 404, a read of one missing item
        InvalidRequest                      INVALID_PAYLOAD, INVALID_QUERY, ..., other 4xx
        RateLimited                         REQUESTS_EXCEEDED, 429 (carries retry_after)
        ServerError                         5xx, and any body that is not Directus JSON
      MultipleItemsFound                  get(**lookups) matched more than one item

Errors map on Directus's ``errors[0].extensions.code`` first and fall back on the
HTTP status. Messages never carry a token, a password or a refresh token.

This module is pure: it imports nothing from the rest of the package and no HTTP
library at run time, so ``pydirectus.query`` can raise ``InvalidQuery`` from here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

__all__ = [
    "APIError",
    "AuthenticationError",
    "ConnectError",
    "DirectusError",
    "InvalidQuery",
    "InvalidRequest",
    "MultipleItemsFound",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "SchemaRequired",
    "ServerError",
    "TLSError",
    "Timeout",
    "TransportError",
    "error_from_response",
]

EXCERPT_CHARS = 200


class DirectusError(Exception):
    """The root of every error pydirectus raises."""


class InvalidQuery(DirectusError, ValueError):
    """A query, key or argument is wrong; raised before anything is sent."""


class SchemaRequired(InvalidQuery):
    """Compiling needs the relation schema (a negated relational path) and none was given."""


class TransportError(DirectusError):
    """The request got no usable HTTP answer; chains the underlying exception."""


class ConnectError(TransportError):
    """The connection could not be made or was dropped."""


class TLSError(TransportError):
    """TLS verification or the handshake failed."""


class Timeout(TransportError):
    """Connecting or reading took longer than the timeout."""


class MultipleItemsFound(DirectusError):
    """``get(**lookups)`` matched more than one item (Django's MultipleObjectsReturned).

    ``keys`` holds the primary keys of the first matches read (at least two).
    """

    def __init__(self, message: str, keys: list[Any]) -> None:
        super().__init__(message)
        self.keys = keys


class APIError(DirectusError):
    """Directus (or something in front of it) answered with an error status."""

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        extensions: Mapping[str, Any] | None = None,
        response: requests.Response | None = None,
        errors: list[Mapping[str, Any]] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.extensions: dict[str, Any] = dict(extensions or {})
        self.response = response
        self.errors: list[Mapping[str, Any]] = list(errors or [])
        super().__init__(str(self))

    @property
    def reason(self) -> str | None:
        """Return Directus's ``extensions.reason`` when it gave one."""
        reason = self.extensions.get("reason")
        return reason if isinstance(reason, str) else None

    def __str__(self) -> str:
        label = f"{self.status} {self.code}" if self.code else str(self.status)
        return f"{label}: {self.message}"

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(status={self.status}, code={self.code!r}, "
                f"message={self.message!r})")


class AuthenticationError(APIError):
    """The credentials or token were refused."""


class PermissionDenied(APIError):
    """Directus refused access (it says so for missing items and collections too)."""


class NotFound(APIError):
    """The route or the item does not exist."""


class InvalidRequest(APIError):
    """Directus rejected the query or payload."""


class RateLimited(APIError):
    """Too many requests; ``retry_after`` holds the seconds Directus asked for."""

    @property
    def retry_after(self) -> float | None:
        """Return the Retry-After delay in seconds, if the server sent one."""
        if self.response is None:
            return None
        return parse_retry_after(self.response.headers.get("Retry-After"))


class ServerError(APIError):
    """The server failed (5xx) or answered with something that is not Directus JSON."""


CODE_TO_ERROR: Mapping[str, type[APIError]] = {
    "INVALID_CREDENTIALS": AuthenticationError,
    "INVALID_OTP": AuthenticationError,
    "TOKEN_EXPIRED": AuthenticationError,
    "INVALID_TOKEN": AuthenticationError,
    "USER_SUSPENDED": AuthenticationError,
    "FORBIDDEN": PermissionDenied,
    "ROUTE_NOT_FOUND": NotFound,
    "INVALID_PAYLOAD": InvalidRequest,
    "INVALID_QUERY": InvalidRequest,
    "FAILED_VALIDATION": InvalidRequest,
    "RECORD_NOT_UNIQUE": InvalidRequest,
    "VALUE_TOO_LONG": InvalidRequest,
    "VALUE_OUT_OF_RANGE": InvalidRequest,
    "NOT_NULL_VIOLATION": InvalidRequest,
    "INVALID_FOREIGN_KEY": InvalidRequest,
    "CONTAINS_NULL_VALUES": InvalidRequest,
    "CONTENT_TOO_LARGE": InvalidRequest,
    "UNSUPPORTED_MEDIA_TYPE": InvalidRequest,
    "RANGE_NOT_SATISFIABLE": InvalidRequest,
    "INVALID_IP": InvalidRequest,
    "UNPROCESSABLE_CONTENT": InvalidRequest,
    "REQUESTS_EXCEEDED": RateLimited,
    "LIMIT_EXCEEDED": RateLimited,
    "SERVICE_UNAVAILABLE": ServerError,
    "INTERNAL_SERVER_ERROR": ServerError,
}


def error_class_for(status: int, code: str | None) -> type[APIError]:
    """Pick the APIError subclass for a Directus code, falling back on the status."""
    if code and code in CODE_TO_ERROR:
        return CODE_TO_ERROR[code]
    if status == 401:
        return AuthenticationError
    if status == 403:
        return PermissionDenied
    if status == 404:
        return NotFound
    if status == 429:
        return RateLimited
    if status >= 500:
        return ServerError
    if status >= 400:
        return InvalidRequest
    return ServerError


def parse_retry_after(value: str | None) -> float | None:
    """Read a Retry-After header given in seconds (HTTP dates count as absent)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(seconds, 0.0)


def error_from_body(
    status: int, body: bytes, response: requests.Response | None = None
) -> APIError:
    """Build the APIError for an error status from its raw body."""
    try:
        payload = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        payload = None
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        extensions = first.get("extensions")
        extensions = extensions if isinstance(extensions, dict) else {}
        code = extensions.get("code")
        code = code if isinstance(code, str) else None
        message = str(first.get("message") or code or "Directus error")
        return error_class_for(status, code)(
            status, code, message, extensions, response, [e for e in errors if isinstance(e, dict)]
        )
    excerpt = body[:EXCERPT_CHARS].decode("utf-8", "replace").strip()
    message = f"not a Directus error body: {excerpt!r}" if excerpt else "empty response body"
    cls = error_class_for(status, None)
    # A non-JSON body is a proxy or a crash talking, not Directus: treat 4xx the same
    # way by status, but anything unrecognisable at 2xx/3xx is the server's fault.
    return cls(status, None, message, None, response)


def error_from_response(response: requests.Response) -> APIError:
    """Build the APIError for a requests.Response that carries an error status."""
    return error_from_body(response.status_code, response.content, response)
