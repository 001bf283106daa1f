"""One exception tree for everything pydirectus raises.

The tree:

    DirectusError
      UsageError (also ValueError)        an argument misused, not a query (a bad URL, option,
                                          batch_size, page_size, id, destination, ...)
        InvalidQuery                        raised while building a query, before any request
          SchemaRequired                      a schema fact (relations, a primary key) is needed
        SchemaError                         typegen: not a Directus schema, or lacks a collection
        CommandError                        the command line cannot go on (.status: exit code)
        ReadOnlyError                       a write asked of a read-only handle (activity, ...)
      BatchWriteError                     a batched write failed part-way: .written, .not_written,
                                          .uncertain (settle with handle.settle(error))
        BatchAuthenticationError            ... a batch refused its credentials (also an
                                            AuthenticationError)
        BatchPermissionDenied               ... a batch refused for permission (also a
                                            PermissionDenied)
        BatchNotFound                       ... a batch refused as not found (also NotFound)
        BatchInvalidRequest                 ... a batch refused for its payload (also an
                                            InvalidRequest)
      TransportError                      the request never got a usable HTTP answer
        ConnectError                        connection refused or reset, DNS failure
        TLSError                            certificate or handshake failure
        Timeout                             connect or read timed out
        NotReplayable                       must be re-sent, but its body was a one-shot stream
      APIError                            Directus (or a proxy) answered with an error
        AuthenticationError                 INVALID_CREDENTIALS, TOKEN_EXPIRED, ..., 401
        PermissionDenied                    FORBIDDEN, LIMIT_EXCEEDED, 403 (also missing items)
        NotFound                            ROUTE_NOT_FOUND, 404, a read of one missing item
          ResumableUploadsUnavailable         the server has no /files/tus (TUS_ENABLED is off)
        InvalidRequest                      INVALID_PAYLOAD, INVALID_QUERY, ..., other 4xx
        RateLimited                         REQUESTS_EXCEEDED, 429 (carries retry_after)
        ServerError                         5xx, a body that is not Directus JSON, or a
                                            2xx body of the wrong shape
          IncompleteRead                      a paged read ended short of the count Directus
                                              gave at its start (.expected, .got)
        UnexpectedRedirect                  a 3xx the client must not follow (a write, an
                                            auth call, another origin): names the Location
        GraphQLError                        errors in a GraphQL answer (a 200 with ``errors``, or a
                                            4xx): .path, .locations, .data (partial data); each
                                            one below is also the REST class of its code
          GraphQLAuthenticationError          ... INVALID_CREDENTIALS (also an AuthenticationError)
          GraphQLPermissionDenied             ... FORBIDDEN (also a PermissionDenied)
          GraphQLNotFound                     ... ROUTE_NOT_FOUND (also a NotFound)
          GraphQLInvalidRequest               ... GRAPHQL_VALIDATION, INVALID_PAYLOAD (also an
                                              InvalidRequest)
          GraphQLRateLimited                  ... EMAIL_LIMIT_EXCEEDED (also RateLimited)
          GraphQLServerError                  ... INTERNAL_SERVER_ERROR (also a ServerError)
      MultipleItemsFound                  get(**lookups) matched more than one item

    UserWarning
      InsecureTransportWarning            credentials about to travel unencrypted to a host
                                          that is not this machine

    RuntimeError                        pydirectus.testing: a local Directus for tests
      ServerStartError                    a local server did not start (quotes its log)
        PostgresNotInstalled                PostgreSQL's initdb and postgres were not found
        MariaDBNotInstalled                 MariaDB's mariadb-install-db and mariadbd were not found
        RedisNotInstalled                   redis-server was not found
      InstallError                        Node.js or Directus could not be installed

    Exception
      WireFailure                         internal: a sender tells the core an attempt got
                                          no answer (carries the TransportError raised to
                                          callers); never escapes the client

Every exception and warning class the package defines is defined here; the modules that
raise them (``pydirectus.typegen``, ``pydirectus.cli.common``, ``pydirectus.system.handles``,
``pydirectus.client``, ``pydirectus.testing``) re-export them under the same names.

Errors map on Directus's ``errors[0].extensions.code`` first and fall back on the
HTTP status. Messages never carry a token, a password or a refresh token (every text an
error holds goes through ``pydirectus.redact``, which knows the live secrets of the
process's auth strategies by value), and no exception holds a live ``requests`` object:
``APIError.response`` is a ``ResponseInfo`` snapshot (status, reason, redacted URL,
method, headers without cookies, the error body scrubbed, JSON or not).

This module is pure: it imports nothing from the rest of the package and no HTTP
library at run time, so ``pydirectus.query`` can raise ``InvalidQuery`` from here.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import math
from collections.abc import Iterator, Mapping
from typing import Any, Final

from .redact import mask, redact_bytes, redact_text, redact_url

__all__ = [
    "APIError",
    "AuthenticationError",
    "BatchAuthenticationError",
    "BatchInvalidRequest",
    "BatchNotFound",
    "BatchPermissionDenied",
    "BatchWriteError",
    "CommandError",
    "ConnectError",
    "DirectusError",
    "GraphQLAuthenticationError",
    "GraphQLError",
    "GraphQLInvalidRequest",
    "GraphQLNotFound",
    "GraphQLPermissionDenied",
    "GraphQLRateLimited",
    "GraphQLServerError",
    "IncompleteRead",
    "InsecureTransportWarning",
    "InstallError",
    "InvalidQuery",
    "InvalidRequest",
    "MariaDBNotInstalled",
    "MultipleItemsFound",
    "NotFound",
    "NotReplayable",
    "PermissionDenied",
    "PostgresNotInstalled",
    "RateLimited",
    "ReadOnlyError",
    "RedisNotInstalled",
    "RequestInfo",
    "ResponseInfo",
    "ResumableUploadsUnavailable",
    "SchemaError",
    "SchemaRequired",
    "ServerError",
    "ServerStartError",
    "TLSError",
    "Timeout",
    "TransportError",
    "UnexpectedRedirect",
    "UsageError",
    "WireFailure",
    "batch_error_class",
    "error_from_response",
    "graphql_error",
]

EXCERPT_CHARS = 200
#: how much of an error body a ResponseInfo keeps
KEPT_BODY_BYTES: Final = 64 * 1024
#: response headers a ResponseInfo drops (session cookies)
DROPPED_HEADERS: Final = frozenset({"set-cookie", "set-cookie2", "authorization",
                                    "proxy-authorization", "cookie"})
#: response headers holding a URL (which may carry an access_token): redacted
URL_HEADERS: Final = frozenset({"location", "content-location", "refresh"})


class DirectusError(Exception):
    """The root of every error pydirectus raises.

    Its text arguments are scrubbed of secrets (pydirectus.redact) when it is made, so
    no message, repr or log line built from it carries a token or a password.

    ``resume_url``: set when a resumable upload gave up after Directus had created it;
    ``files.upload(source, resumable=True, resume_url=error.resume_url)`` sends on from
    where the server stands (until TUS_UPLOAD_EXPIRATION, 10 minutes by default).
    """

    resume_url: str | None = None

    def __init__(self, *args: Any) -> None:
        super().__init__(*(redact_text(arg) if isinstance(arg, str) else arg for arg in args))


class UsageError(DirectusError, ValueError):
    """An argument was misused (a bad URL, option, credential shape, size, id or path).

    Raised before anything is sent. A ValueError, as Python's own argument checks are.
    """


class InvalidQuery(UsageError):
    """A query is wrong (a field path, lookup, filter, sort, window); raised while building
    it, before anything is sent."""


class SchemaRequired(InvalidQuery):
    """A schema fact is needed (relations, a primary key) that the token may not read."""


class SchemaError(UsageError):
    """The schema given to the type generator is not a Directus schema, or lacks a collection
    asked for; raised before any output (pydirectus.typegen)."""


class CommandError(UsageError):
    """A command cannot go on; its message is the one line the user sees (pydirectus.cli).

    A UsageError (so ``except DirectusError`` catches it) since most are a bad option or
    input file; one that stops a command part-way (an import refused mid-file) chains the
    DirectusError that stopped it as ``__cause__``. ``status`` is the exit code (1 unless
    said otherwise).
    """

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


class ReadOnlyError(UsageError):
    """A write was asked of a read-only handle (activity, revisions); nothing was sent."""


class BatchWriteError(DirectusError):
    """A batched write failed part-way; says exactly which items landed and which did not.

    ``written`` holds what Directus returned for the batches that landed (for deletes, the
    keys of those batches); ``not_written`` the input of each batch that certainly did not
    land (never sent, or refused whole by Directus, which runs a batch in one
    transaction); ``uncertain`` the input of each batch whose answer was lost (a timeout, a
    reset after sending, a truncated answer, a 5xx) and which may or may not have landed:
    ``handle.settle(error)`` reads them back by key and says which did. ``operation`` is
    "create", "update" or "delete"; ``changes`` the data of an ``update_many``.

    Where the cause is a refusal (PermissionDenied, InvalidRequest, NotFound,
    AuthenticationError), the error raised is also an instance of the cause's class (see
    ``batch_error_class()``), so ``except PermissionDenied`` catches a refused batch
    write too; its status, code, message and reason are the cause's.
    """

    def __init__(self, message: str, written: list[Any], not_written: list[Any],
                 cause: DirectusError, uncertain: list[Any] | None = None, *,
                 operation: str | None = None,
                 changes: Mapping[str, Any] | None = None) -> None:
        # Not super().__init__: in a combined class APIError.__init__ is next in line.
        DirectusError.__init__(self, message)
        self.written = written
        self.not_written = not_written
        self.uncertain: list[Any] = list(uncertain or [])
        self.cause = cause
        self.operation = operation
        self.changes: dict[str, Any] | None = None if changes is None else dict(changes)
        if isinstance(self, APIError) and isinstance(cause, APIError):
            # A combined class (BatchPermissionDenied, ...): what its cause says, so
            # ``except PermissionDenied as e: e.code, e.reason`` reads Directus's answer.
            _answer_of(self, cause)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(written={len(self.written)}, "
                f"not_written={len(self.not_written)}, uncertain={len(self.uncertain)}, "
                f"cause={self.cause!r})")


class TransportError(DirectusError):
    """The request got no usable HTTP answer; chains the underlying exception.

    ``request_sent`` is False only when no attempt of the call can have reached the server
    (a refused connection, a DNS failure, on every attempt): then a write certainly did
    not land. True (the default) means it may have.
    """

    request_sent: bool = True


class WireFailure(Exception):
    """A sender's report that an attempt got no usable answer (raised into the core's plan).

    ``error`` is the pydirectus TransportError to raise; ``never_sent``: nothing reached
    the server (refused connection, DNS), so even a write may be retried;
    ``read_timed_out``: the server may still be working on it, so not even a read is.
    ``cause`` is a detached copy of the sender's own exception (no request inside).
    Internal: the exchange plan always turns it into ``error``.
    """

    def __init__(self, error: TransportError, *, never_sent: bool, read_timed_out: bool,
                 cause: BaseException | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.never_sent = never_sent
        self.read_timed_out = read_timed_out
        self.cause = cause


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


class NotReplayable(TransportError):
    """The request had to be re-sent (a refreshed token, a retry) but its body was a one-shot
    stream already consumed; pass bytes, a path or a seekable file to allow re-sending."""


class InsecureTransportWarning(UserWarning):
    """Credentials are about to travel unencrypted to a host that is not this machine."""


class ServerStartError(RuntimeError):
    """A local server did not start; the message quotes the end of its log (pydirectus.testing)."""


class PostgresNotInstalled(ServerStartError):
    """PostgreSQL's server programs (initdb, postgres) were not found on this machine."""


class MariaDBNotInstalled(ServerStartError):
    """MariaDB's server programs (mariadb-install-db, mariadbd) were not found on this machine."""


class RedisNotInstalled(ServerStartError):
    """The redis-server program was not found on this machine."""


class InstallError(RuntimeError):
    """Node.js or Directus could not be installed (pydirectus.testing)."""


class _Headers(Mapping[str, str]):
    """Read-only, case-insensitive response headers."""

    def __init__(self, pairs: Mapping[str, str]) -> None:
        self._items = {str(k).lower(): (str(k), str(v)) for k, v in pairs.items()}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class RequestInfo:
    """What an error keeps of the request: its method and redacted URL (no headers, no body)."""

    __slots__ = ("method", "path_url", "url")

    def __init__(self, method: str, url: str, path_url: str) -> None:
        self.method = method
        self.url = redact_url(url)
        self.path_url = redact_url(path_url)

    def __repr__(self) -> str:
        return f"<RequestInfo {self.method} {self.url}>"


class ResponseInfo:
    """A detached snapshot of an HTTP answer, safe to keep in an exception.

    Shaped like the parts of ``requests.Response`` one reads after an error:
    ``status_code``, ``reason``, ``url``, ``headers``, ``content``, ``text``, ``json()``
    and ``request`` (method and URL). URLs are redacted, cookies dropped, and the body
    (JSON or text) and header values scrubbed of secrets; the body is cut at KEPT_BODY_BYTES.
    """

    __slots__ = ("content", "headers", "reason", "request", "status_code", "url")

    def __init__(self, status_code: int, reason: str, url: str, headers: Mapping[str, str],
                 content: bytes, request: RequestInfo | None) -> None:
        self.status_code = status_code
        self.reason = redact_text(reason)
        self.url = redact_url(url)
        self.headers: Mapping[str, str] = _Headers(
            {k: redact_url(v) if k.lower() in URL_HEADERS else redact_text(v)
             for k, v in headers.items() if k.lower() not in DROPPED_HEADERS})
        self.content = redact_bytes(content[:KEPT_BODY_BYTES])
        self.request = request

    @classmethod
    def from_response(cls, response: Any) -> ResponseInfo:
        """Snapshot a requests.Response (or anything shaped like one)."""
        if isinstance(response, ResponseInfo):
            return response
        request = getattr(response, "request", None)
        request_info = None
        if request is not None:
            request_info = RequestInfo(str(request.method or ""), str(request.url or ""),
                                       str(request.path_url or ""))
        try:
            content = bytes(response.content or b"")
        except Exception:  # a streamed body that broke: keep what is known without it
            content = b""
        return cls(int(response.status_code), str(response.reason or ""),
                   str(response.url or ""), dict(response.headers or {}), content,
                   request_info)

    @property
    def ok(self) -> bool:
        """Return whether the status is below 400, as requests does."""
        return self.status_code < 400

    @property
    def text(self) -> str:
        """Return the (kept part of the) body as text."""
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """Return the body decoded as JSON (raises ValueError if it is not JSON)."""
        return json.loads(self.content)

    def __repr__(self) -> str:
        method = f"{self.request.method} " if self.request else ""
        return f"<ResponseInfo {method}{self.url} -> {self.status_code}>"


class APIError(DirectusError):
    """Directus (or something in front of it) answered with an error status.

    ``earlier_attempt_lost``: an earlier attempt of the same call was retried after its
    answer was lost (a dropped connection, a 502/503/504), so a write may have landed
    even though this answer refuses it.
    """

    earlier_attempt_lost: bool = False

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        extensions: Mapping[str, Any] | None = None,
        response: ResponseInfo | Any | None = None,
        errors: list[Mapping[str, Any]] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        # Scrubbed here as well as in the body: callers build messages from other texts.
        self.message = redact_text(message)
        self.extensions: dict[str, Any] = mask(dict(extensions or {}))
        # A live requests.Response holds the request's headers and body (the password
        # of a login, the bearer token): only a scrubbed snapshot is kept.
        self.response: ResponseInfo | None = (
            None if response is None else ResponseInfo.from_response(response))
        self.errors: list[Mapping[str, Any]] = mask(list(errors or []))
        super().__init__(str(self))

    @property
    def reason(self) -> str | None:
        """Return Directus's ``extensions.reason`` when it gave one."""
        reason = self.extensions.get("reason")
        return reason if isinstance(reason, str) else None

    @property
    def method(self) -> str | None:
        """Return the HTTP method of the request that failed, when known."""
        request = self.response.request if self.response is not None else None
        return request.method if request is not None else None

    @property
    def url(self) -> str | None:
        """Return the (redacted) URL of the request that failed, when known."""
        request = self.response.request if self.response is not None else None
        return request.url if request is not None else None

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


class ResumableUploadsUnavailable(NotFound):
    """The server offers no resumable (TUS) uploads: it runs without ``TUS_ENABLED=true``."""


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


class IncompleteRead(ServerError):
    """A paged read ended (an empty or short page) before the count Directus gave at its start.

    ``expected`` is how many items the window held by that count (and by a second count
    taken when the stream ended short), ``got`` how many the pages brought.
    """

    def __init__(self, message: str, expected: int, got: int) -> None:
        self.expected = expected
        self.got = got
        super().__init__(200, None, message)

    def __str__(self) -> str:
        return self.message


class UnexpectedRedirect(APIError):
    """A redirect the client must not follow; ``location`` says where it pointed.

    Writes are not followed (requests would turn a POST into a GET and create nothing),
    nor are auth calls (they carry the password or a token), nor GETs to another origin
    with credentials. Point the client at the final URL instead.
    """

    @property
    def location(self) -> str | None:
        """Return the (redacted) Location the server redirected to."""
        return self.extensions.get("location")


class BatchAuthenticationError(BatchWriteError, AuthenticationError):
    """A batched write whose failing batch was refused for its credentials."""


class BatchPermissionDenied(BatchWriteError, PermissionDenied):
    """A batched write whose failing batch was refused for permission (FORBIDDEN, ...)."""


class BatchNotFound(BatchWriteError, NotFound):
    """A batched write whose failing batch was refused as not found (ROUTE_NOT_FOUND)."""


class BatchInvalidRequest(BatchWriteError, InvalidRequest):
    """A batched write whose failing batch was refused for its payload (RECORD_NOT_UNIQUE...)."""


def _answer_of(error: APIError, cause: APIError) -> None:
    error.status, error.code, error.message = cause.status, cause.code, cause.message
    error.extensions, error.response, error.errors = cause.extensions, cause.response, cause.errors


#: refusal -> the BatchWriteError that is also one; a lost answer (TransportError,
#: ServerError) has none, so ``except ServerError: retry`` never re-sends a batch write
_BATCH_REFUSALS: tuple[tuple[type[APIError], type[BatchWriteError]], ...] = (
    (AuthenticationError, BatchAuthenticationError),
    (PermissionDenied, BatchPermissionDenied),
    (NotFound, BatchNotFound),
    (InvalidRequest, BatchInvalidRequest),
)


def batch_error_class(cause: DirectusError) -> type[BatchWriteError]:
    """Return the BatchWriteError class for a cause: one that is also the cause's class
    where the cause is a refusal (PermissionDenied, ...), else BatchWriteError itself."""
    for refusal, combined in _BATCH_REFUSALS:
        if isinstance(cause, refusal):
            return combined
    return BatchWriteError


class GraphQLError(APIError):
    """A GraphQL answer carried ``errors``: Directus refused the document whole (a 4xx: bad
    syntax, an unknown field, a value of the wrong type) or an operation failed in part or
    whole (a 200 with ``errors``, and ``data`` for what did not fail).

    ``code`` is the first error's ``extensions.code`` (FORBIDDEN, GRAPHQL_VALIDATION, ...);
    ``message`` its message, followed for GRAPHQL_VALIDATION and GRAPHQL_EXECUTION by the
    details Directus nests in ``extensions.errors`` and their places in the document;
    ``path`` the first GraphQL path given (a tuple of response keys and list indexes, e.g.
    ``("articles", 0, "author")``; None when no error names one, as for a document refused
    whole); ``locations`` that error's places in the document (``[{"line": 1, "column":
    3}]``); ``errors`` every error as Directus sent it; ``data`` the partial data (None when
    there was none), with the values of secret keys masked as in everything an error holds.
    Each class below it is also the REST class of its code, so ``except PermissionDenied``
    catches a FORBIDDEN in a GraphQL answer too.
    """

    def __init__(self, status: int, code: str | None, message: str,
                 extensions: Mapping[str, Any] | None = None,
                 response: ResponseInfo | Any | None = None,
                 errors: list[Mapping[str, Any]] | None = None, *, data: Any = None,
                 path: tuple[str | int, ...] | None = None,
                 locations: list[dict[str, int]] | None = None) -> None:
        # Set before APIError.__init__, which builds the text from __str__.
        self.data: Any = None if data is None else mask(data)
        self.path = path
        self.locations: list[dict[str, int]] = list(locations or [])
        super().__init__(status, code, message, extensions, response, errors)

    def __str__(self) -> str:
        text = super().__str__()
        if self.path:
            text += f" (path: {'.'.join(map(str, self.path))})"
        return text

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(status={self.status}, code={self.code!r}, "
                f"message={self.message!r}, path={self.path!r})")


class GraphQLAuthenticationError(GraphQLError, AuthenticationError):
    """A GraphQL answer whose first error refused credentials (a wrong password given to
    ``auth_login``, say)."""


class GraphQLPermissionDenied(GraphQLError, PermissionDenied):
    """A GraphQL answer whose first error is FORBIDDEN (an item the policy hides)."""


class GraphQLNotFound(GraphQLError, NotFound):
    """A GraphQL answer whose first error is a not-found."""


class GraphQLInvalidRequest(GraphQLError, InvalidRequest):
    """A GraphQL document or its values refused (GRAPHQL_VALIDATION, INVALID_PAYLOAD, ...)."""


class GraphQLRateLimited(GraphQLError, RateLimited):
    """A GraphQL answer whose first error is a rate limit (EMAIL_LIMIT_EXCEEDED, ...)."""


class GraphQLServerError(GraphQLError, ServerError):
    """A GraphQL answer whose first error is the server's (INTERNAL_SERVER_ERROR: Directus
    also says so for a variable missing or of the wrong type, where graphql-js, not
    Directus, refused it; to a token that is not an admin's without the reason)."""


#: the REST class of a code -> the GraphQLError that is also one
_GRAPHQL_CLASSES: tuple[tuple[type[APIError], type[GraphQLError]], ...] = (
    (AuthenticationError, GraphQLAuthenticationError),
    (PermissionDenied, GraphQLPermissionDenied),
    (NotFound, GraphQLNotFound),
    (InvalidRequest, GraphQLInvalidRequest),
    (RateLimited, GraphQLRateLimited),
    (ServerError, GraphQLServerError),
)


def graphql_error(status: int, errors: Any, data: Any = None,
                  response: ResponseInfo | Any | None = None) -> GraphQLError:
    """Build the GraphQLError for a GraphQL answer's ``errors`` (and its partial ``data``).

    The class is the one of the first error's code (falling back on the status), as for
    REST errors; the message, path and locations are the first error's, with the details
    Directus nests under ``extensions.errors`` (GRAPHQL_VALIDATION) spelled out.
    """
    listed = [e for e in errors if isinstance(e, Mapping)] if isinstance(errors, list) else []
    first: Mapping[str, Any] = listed[0] if listed else {}
    extensions = first.get("extensions")
    extensions = extensions if isinstance(extensions, Mapping) else {}
    code = extensions.get("code") if isinstance(extensions.get("code"), str) else None
    nested = extensions.get("errors")
    details = [e for e in nested if isinstance(e, Mapping)] if isinstance(nested, list) else []
    head = str(first.get("message") or code or "GraphQL error")
    if details:
        message = f"{head.rstrip('.')}: " + "; ".join(map(_graphql_message, details))
    else:
        message = _graphql_message(first) if first else head
        if len(listed) > 1:
            message += f" (and {len(listed) - 1} more error{'s' if len(listed) > 2 else ''})"
    path: tuple[str | int, ...] | None = None
    for error in (*details, *listed):
        path = _graphql_path(error.get("path"))
        if path is not None:
            break
    located = (details or listed or [{}])[0].get("locations")
    locations = [dict(place) for place in located if isinstance(place, Mapping)] if (
        isinstance(located, list)) else []
    chosen = error_class_for(status, code)
    cls = next((graphql for rest, graphql in _GRAPHQL_CLASSES if issubclass(chosen, rest)),
               GraphQLError)
    return cls(status, code, message, extensions, response, listed, data=data, path=path,
               locations=locations)


def _graphql_message(error: Mapping[str, Any]) -> str:
    message = str(error.get("message") or "GraphQL error")
    places = error.get("locations")
    if isinstance(places, list) and places and isinstance(places[0], Mapping):
        message += f" (line {places[0].get('line')}, column {places[0].get('column')})"
    return message


def _graphql_path(value: Any) -> tuple[str | int, ...] | None:
    if not isinstance(value, list) or not value or not all(
            isinstance(step, str | int) and not isinstance(step, bool) for step in value):
        return None
    return tuple(value)


# Directus 12's codes (@directus/errors 2.5, shipped with Directus 12.4), with the
# status each is sent with. Checked against the installed package by the test suite.
CODE_TO_ERROR: Mapping[str, type[APIError]] = {
    "INVALID_CREDENTIALS": AuthenticationError,     # 401
    "INVALID_OTP": AuthenticationError,             # 401
    "TOKEN_EXPIRED": AuthenticationError,           # 401
    "INVALID_TOKEN": AuthenticationError,           # 403
    "USER_SUSPENDED": AuthenticationError,          # 401
    "INVALID_PROVIDER": AuthenticationError,        # 403, an unknown auth provider
    "INVALID_IP": PermissionDenied,                 # 401, the policy's IP allow-list
    "FORBIDDEN": PermissionDenied,                  # 403
    "COLLECTION_INACTIVE": PermissionDenied,        # 403
    "RESOURCE_RESTRICTED": PermissionDenied,        # 403
    "LIMIT_EXCEEDED": PermissionDenied,             # 403, a quota ("Users limit exceeded")
    "ROUTE_NOT_FOUND": NotFound,                    # 404
    "ADDON_NOT_FOUND": NotFound,                    # 404
    "INVALID_PAYLOAD": InvalidRequest,              # 400 (also 409 for a locked license)
    "GRAPHQL_VALIDATION": InvalidRequest,           # 400, a GraphQL document refused
    "GRAPHQL_EXECUTION": InvalidRequest,            # 400, a GraphQL document not executed
    "INVALID_QUERY": InvalidRequest,                # 400
    "INVALID_PATH_PARAMETER": InvalidRequest,       # 400
    "INVALID_INVITE": InvalidRequest,               # 400
    "ILLEGAL_ASSET_TRANSFORMATION": InvalidRequest,  # 400
    "FAILED_VALIDATION": InvalidRequest,            # 400
    "RECORD_NOT_UNIQUE": InvalidRequest,            # 400
    "VALUE_TOO_LONG": InvalidRequest,               # 400
    "VALUE_OUT_OF_RANGE": InvalidRequest,           # 400
    "NOT_NULL_VIOLATION": InvalidRequest,           # 400
    "INVALID_FOREIGN_KEY": InvalidRequest,          # 400
    "CONTAINS_NULL_VALUES": InvalidRequest,         # 400
    "LICENSE_INVALID": InvalidRequest,              # 400
    "METHOD_NOT_ALLOWED": InvalidRequest,           # 405
    "ADDON_NOT_AVAILABLE": InvalidRequest,          # 409
    "LICENSE_MANAGED_BY_ENV": InvalidRequest,       # 409
    "LICENSE_OFFLINE_UNSUPPORTED": InvalidRequest,  # 409
    "CONTENT_TOO_LARGE": InvalidRequest,            # 413
    "UNSUPPORTED_MEDIA_TYPE": InvalidRequest,       # 415
    "RANGE_NOT_SATISFIABLE": InvalidRequest,        # 416
    "UNPROCESSABLE_CONTENT": InvalidRequest,        # 422
    "ADDON_QUANTITY_OUT_OF_RANGE": InvalidRequest,  # 422
    "IMPORT_CYCLICAL_RELATION": InvalidRequest,     # 422
    "VERSION_HASH_MISMATCH": InvalidRequest,        # 422
    "LICENSE_RESOLVE_INCOMPLETE": InvalidRequest,   # 422
    "REQUESTS_EXCEEDED": RateLimited,               # 429, the rate limiter
    "EMAIL_LIMIT_EXCEEDED": RateLimited,            # 429, the email rate limiter
    "OUT_OF_TIME": ServerError,                     # 408, the server gave up on the work
    "INTERNAL_SERVER_ERROR": ServerError,           # 500
    "SERVICE_UNAVAILABLE": ServerError,             # 503
    "UNEXPECTED_RESPONSE": ServerError,             # 503, an upstream answered oddly
    "INVALID_PROVIDER_CONFIG": ServerError,         # 503
    "OUT_OF_DATE": ServerError,                     # 503
    "LICENSE_SERVICE_UNAVAILABLE": ServerError,     # 503
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


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Return the seconds a Retry-After header asks for (delay-seconds or an HTTP-date).

    A date in the past means 0; anything unreadable, negative or non-finite is ignored
    (None). ``now`` is the current POSIX time (for tests; the clock by default).
    """
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until(text, now)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _seconds_until(text: str, now: float | None) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=dt.timezone.utc)
    current = dt.datetime.now(dt.timezone.utc).timestamp() if now is None else now
    return max(when.timestamp() - current, 0.0)


def error_from_body(
    status: int, body: bytes, response: ResponseInfo | Any | None = None
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
    kept = redact_bytes(body[:KEPT_BODY_BYTES])
    excerpt = kept[:EXCERPT_CHARS].decode("utf-8", "replace").strip()
    message = f"not a Directus error body: {excerpt!r}" if excerpt else "empty response body"
    cls = error_class_for(status, None)
    # A non-JSON body is a proxy or a crash talking, not Directus: treat 4xx the same
    # way by status, but anything unrecognisable at 2xx/3xx is the server's fault.
    return cls(status, None, message, None, response)


def error_from_response(response: Any) -> APIError:
    """Build the APIError for a requests.Response that carries an error status."""
    info = ResponseInfo.from_response(response)
    return error_from_body(info.status_code, info.content, info)
