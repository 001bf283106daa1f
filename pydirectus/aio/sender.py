"""The async face's sender: one aiohttp ClientSession puts the core's attempts on the wire.

Each ``Attempt`` becomes one aiohttp request (no redirects
followed, no cookies kept); the answer comes back as an ``AioReply``, read whole
(``stream=False``) or left open for a streamed download. Failures become a
``WireFailure`` carrying the pydirectus error, as the sync
sender's do: refused connections and DNS failures never reached the server, a read
timeout may have.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import aiohttp
from yarl import URL

from .._version import __version__
from ..core.plans import Attempt, Call, WireFailure
from ..core.query_string import encode_query
from ..errors import ConnectError, Timeout, TLSError, TransportError, UsageError
from ..redact import SECRET_PARAMS, redact_text

__all__ = ["READ_ERRORS", "AioReply", "AioSender", "client_timeout", "read_failure"]

USER_AGENT = f"pydirectus/{__version__} aiohttp/{aiohttp.__version__}"


def client_timeout(timeout: float | tuple[float, float]) -> aiohttp.ClientTimeout:
    """Return aiohttp's timeout for the client's (connect, read) seconds, or one for both."""
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    return aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)


def ssl_setting(verify: bool | str) -> ssl.SSLContext | bool | None:
    """Return aiohttp's ``ssl=`` for verify: True (default checks), False, or a CA bundle."""
    if verify is True:
        return None
    if verify is False:
        return False
    return ssl.create_default_context(cafile=verify)


class _SentRequest:
    """What the core reads of the request an answer belongs to (method, URL, headers)."""

    __slots__ = ("headers", "method", "url")

    def __init__(self, method: str, url: str, headers: Mapping[str, str]) -> None:
        self.method = method
        self.url = url
        self.headers = headers

    @property
    def path_url(self) -> str:
        """Return the path and query string (read only when an error is built)."""
        return URL(self.url, encoded=True).raw_path_qs


class AioReply:
    """An HTTP answer shaped as the core reads one (status_code, headers, content, ...)."""

    __slots__ = ("_response", "content", "encoding", "headers", "reason", "request",
                 "status_code", "url")

    def __init__(self, response: aiohttp.ClientResponse, content: bytes,
                 request: _SentRequest) -> None:
        self._response = response
        self.status_code = response.status
        self.reason = response.reason
        self.headers = response.headers
        self.url = str(response.url)
        self.encoding = response.charset
        self.content = content
        self.request = request

    @property
    def text(self) -> str:
        """Return the body as text."""
        return self.content.decode(self.encoding or "utf-8", "replace")

    def json(self) -> Any:
        """Return the body decoded as JSON (ValueError if it is not JSON)."""
        return json.loads(self.content)

    async def iter_chunks(self, size: int) -> AsyncGenerator[bytes, None]:
        """Yield a streamed body in chunks of at most ``size`` bytes."""
        try:
            async for chunk in self._response.content.iter_chunked(size):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        """Give the connection back (or drop it when the body was not read)."""
        self._response.release()


def _reason(exc: BaseException) -> str:
    # aiohttp's messages can repeat the URL, and a URL can carry an access_token.
    text = str(exc) or type(exc).__name__
    for marker in SECRET_PARAMS:
        if f"{marker}=" in text:
            return type(exc).__name__
    return redact_text(text[:300])


def _failure(exc: BaseException, attempt: Attempt) -> WireFailure:
    call = attempt.call
    where = f"{call.method} {call.path}"
    never_sent = False
    read_timed_out = False
    error: TransportError
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        error = TLSError(f"{where}: TLS failed: {type(exc).__name__}")
    elif isinstance(exc, aiohttp.ConnectionTimeoutError):
        error, never_sent = Timeout(f"{where}: connect timed out"), True
    elif isinstance(exc, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
        error, read_timed_out = Timeout(f"{where}: read timed out"), True
    elif isinstance(exc, aiohttp.ClientConnectorError):
        # Refused, unreachable, or the name did not resolve: nothing was sent.
        error, never_sent = ConnectError(f"{where}: connection failed: {_reason(exc)}"), True
    elif isinstance(exc, aiohttp.ClientOSError | aiohttp.ServerDisconnectedError
                    | aiohttp.ClientPayloadError | ConnectionError):
        error = ConnectError(f"{where}: connection failed: {_reason(exc)}")
    else:
        error = TransportError(f"{where}: {type(exc).__name__}: {_reason(exc)}")
    # The cause keeps only the message: the original holds the request and its headers.
    return WireFailure(error, never_sent=never_sent, read_timed_out=read_timed_out,
                       cause=TransportError(_reason(exc)))


#: what reading a streamed body can raise
READ_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


def read_failure(exc: BaseException, call: Call) -> TransportError:
    """Return the pydirectus error for a failure while reading a streamed body of `call`."""
    return _failure(exc, Attempt(call, "", None, {}, None, None, None)).error


class _Headers(dict[str, str]):
    """The request an auth strategy sets its header on (requests' AuthBase calls it)."""


class _AuthTarget:
    __slots__ = ("headers", "method", "url")

    def __init__(self, method: str, url: str, headers: _Headers) -> None:
        self.method = method
        self.url = url
        self.headers = headers


class AioSender:
    """Send attempts over one aiohttp.ClientSession (made here unless one is given)."""

    def __init__(self, session: aiohttp.ClientSession | None, *, verify: bool | str,
                 timeout: float | tuple[float, float]) -> None:
        self._session = session
        self.owns_session = session is None
        self.closed = False
        self.ssl = ssl_setting(verify)
        self.timeout = client_timeout(timeout)

    def session(self) -> aiohttp.ClientSession:
        """Return the session, made on first use (inside the running event loop)."""
        if self.closed:
            raise UsageError("the client is closed: make a new AsyncDirectusClient")
        if self._session is None or self._session.closed:
            if self._session is not None and not self.owns_session:
                raise TransportError("the aiohttp session given to the client is closed")
            self._session = aiohttp.ClientSession(
                cookie_jar=aiohttp.DummyCookieJar(), timeout=self.timeout,
                headers={"User-Agent": USER_AGENT})
            # aiohttp (3.10+) silently re-sends a GET/PUT/DELETE whose connection dropped:
            # the core's exchange decides retries (and must know an answer was lost, or a
            # batched DELETE that landed is reported refused), so aiohttp's own is off.
            # There is no public switch; a session given to the client is left as it is.
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        return self._session

    async def attempt(self, attempt: Attempt) -> AioReply:
        """Send one attempt; return its answer (body read unless the call streams)."""
        call = attempt.call
        headers = _Headers(attempt.headers)
        if attempt.prepared_url:
            query = encode_query(attempt.params) if attempt.params else ""
            url = f"{attempt.url}?{query}" if query else attempt.url
            target: URL | str = URL(url, encoded=True)
        else:  # a redirect's Location, as the server wrote it
            url = attempt.url
            target = url
        if attempt.auth is not None and call.authenticate:
            attempt.auth(_AuthTarget(call.method, url, headers))
        data = attempt.data
        if isinstance(data, str):
            data = data.encode()
        elif hasattr(data, "__aiter__") and hasattr(data, "__len__"):
            # A streamed body of known size (a multipart upload): sent with its length,
            # not chunked.
            headers.setdefault("Content-Length", str(len(data)))
        failure: WireFailure | None = None
        try:
            response = await self.session().request(
                call.method, target, data=data, headers=headers, allow_redirects=False,
                ssl=self.ssl, timeout=self.timeout)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            failure = _failure(exc, attempt)
        # Raised outside the except block: the original holds the request's headers.
        if failure is not None:
            raise failure
        sent = _SentRequest(call.method, url, headers)
        if call.stream and response.status < 300:
            return AioReply(response, b"", sent)
        try:
            content = await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            response.release()
            failure = _failure(exc, attempt)
        if failure is not None:
            raise failure
        return AioReply(response, content, sent)

    async def close(self) -> None:
        """Close the session if the client made it; nothing is sent after this."""
        self.closed = True
        if self.owns_session and self._session is not None:
            await self._session.close()
