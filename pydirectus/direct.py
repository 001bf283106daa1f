"""Send a plain request straight into the adapter's connection pool.

Around urllib3's ``urlopen``, ``HTTPAdapter.send`` spends about 60 µs per call on this
machine (a quarter of a small read's client CPU): it looks the pool up again, selects
proxies twice, rebuilds the timeout, and reads the body back through ``iter_content``'s
chunk generator. For the requests this client sends most (no proxy, a body of bytes or
none, not streamed, through a plain ``HTTPAdapter`` without read retries of its own)
``send`` takes the pool from the adapter itself (``get_connection_with_tls_context``,
once per origin: the same pool, TLS context, CA bundle and client certificate), lets
urllib3 read the body as it parses the response, and builds the Response with the
adapter's own ``build_response``. Failures come out as the same ``requests`` exceptions
the adapter raises (tests/unit/test_direct.py runs both paths against the same faults).

``usable`` says when this applies; everything else goes through ``adapter.send``.
"""

from __future__ import annotations

from typing import Any, Final, TypeGuard, cast

import requests
import urllib3.exceptions as u3
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3.util import Timeout as Urllib3Timeout

__all__ = ["Pools", "send", "usable"]

# The hooks HTTPAdapter.send calls, as requests defines them: an adapter whose class or
# instance has another (a subclass, a test double, a mocking library patching the class)
# goes through adapter.send.
_HOOK_NAMES: Final = ("send", "get_connection_with_tls_context", "cert_verify",
                      "request_url", "add_headers", "build_response")
_HOOKS: Final = {name: getattr(HTTPAdapter, name, None) for name in _HOOK_NAMES}
_HOOK_SET: Final = frozenset(_HOOK_NAMES)


def usable(adapter: BaseAdapter, prepared: requests.PreparedRequest, stream: bool,
           proxied: bool) -> TypeGuard[HTTPAdapter]:
    """Return whether a request can skip adapter.send (same bytes, same errors)."""
    if stream or proxied or _HOOKS["get_connection_with_tls_context"] is None:
        return False  # requests before 2.32 has no get_connection_with_tls_context
    kind = type(adapter)
    if any(getattr(kind, name, None) is not hook for name, hook in _HOOKS.items()) or (
            _HOOK_SET & getattr(adapter, "__dict__", {}).keys()):
        return False
    # urllib3 reads the body inside urlopen here: an adapter whose retries cover reads
    # (max_retries=N) would retry a broken body where adapter.send does not.
    if getattr(getattr(adapter, "max_retries", None), "read", None) is not False:
        return False
    body = prepared.body
    # A body of bytes has its Content-Length; a stream or generator is sent chunked.
    return body is None or (isinstance(body, bytes | str)
                            and "Content-Length" in prepared.headers)


def _timeout(timeout: Any) -> Urllib3Timeout:
    if isinstance(timeout, Urllib3Timeout):
        return timeout
    if isinstance(timeout, tuple):
        connect, read = timeout
        return Urllib3Timeout(connect=connect, read=read)
    return Urllib3Timeout(connect=timeout, read=timeout)


class Pools:
    """The adapter's connection pool per origin, looked up once rather than per call.

    A pool the adapter has since closed (evicted from its PoolManager, or the adapter
    closed) is looked up again; verify and cert are the client's, fixed per origin.
    """

    def __init__(self) -> None:
        self._pools: dict[str, tuple[HTTPAdapter, Any]] = {}

    def get(self, adapter: HTTPAdapter, prepared: requests.PreparedRequest, verify: Any,
            cert: Any) -> Any:
        """Return the pool to send a request through (as adapter.send would choose it)."""
        url = prepared.url or ""
        # The origin: everything before the path ("http://host:port").
        end = url.find("/", url.find("//") + 2)
        origin = url if end < 0 else url[:end]
        known = self._pools.get(origin)
        if known is not None and known[0] is adapter and known[1].pool is not None:
            return known[1]
        try:
            pool = adapter.get_connection_with_tls_context(prepared, verify, proxies=None,
                                                           cert=cert)
        except u3.LocationValueError as exc:
            raise requests.exceptions.InvalidURL(exc, request=prepared) from exc
        cast(Any, adapter).cert_verify(pool, url, verify, cert)
        self._pools[origin] = (adapter, pool)
        return pool


def send(adapter: HTTPAdapter, pools: Pools, prepared: requests.PreparedRequest, *,
         timeout: Any, verify: Any, cert: Any) -> requests.Response:
    """Send a request that ``usable`` accepts; return the Response, its body read."""
    pool = pools.get(adapter, prepared, verify, cert)
    try:
        answer = cast(Any, pool).urlopen(
            method=prepared.method, url=prepared.path_url, body=prepared.body,
            headers=prepared.headers, redirect=False, assert_same_host=False,
            preload_content=True, decode_content=True, retries=adapter.max_retries,
            timeout=_timeout(timeout), chunked=False)
    except Exception as exc:
        raise _as_requests_error(exc, prepared) from exc
    response = adapter.build_response(prepared, answer)
    # The body urllib3 has read (and decoded), as Response.content would have read it.
    response._content = answer.data
    cast(Any, response)._content_consumed = True
    return response


# What HTTPAdapter.send raises for a MaxRetryError, by its reason, in the order it tests
# them (a connect timeout that is not a refused connection is tested first, apart).
_BY_REASON: Final = ((u3.ResponseError, requests.exceptions.RetryError),
                     (u3.ProxyError, requests.exceptions.ProxyError),
                     (u3.SSLError, requests.exceptions.SSLError))
# ... and for the other urllib3 errors (a body it cannot decode: Response.content's name).
_BY_ERROR: Final = ((u3.ProxyError, requests.exceptions.ProxyError),
                    (u3.SSLError, requests.exceptions.SSLError),
                    (u3.ReadTimeoutError, requests.exceptions.ReadTimeout),
                    (u3.InvalidHeader, requests.exceptions.InvalidHeader),
                    (u3.DecodeError, requests.exceptions.ContentDecodingError),
                    ((u3.ProtocolError, u3.ClosedPoolError, OSError),
                     requests.exceptions.ConnectionError))


def _as_requests_error(exc: Exception, request: requests.PreparedRequest) -> Exception:
    """Return the exception HTTPAdapter.send (or Response.content) raises for a urllib3 one."""
    if isinstance(exc, u3.MaxRetryError):
        reason = exc.reason
        if isinstance(reason, u3.ConnectTimeoutError) and not isinstance(
                reason, u3.NewConnectionError):
            return requests.exceptions.ConnectTimeout(exc, request=request)
        kind = next((error for cause, error in _BY_REASON if isinstance(reason, cause)),
                    requests.exceptions.ConnectionError)
        return kind(exc, request=request)
    for cause, error in _BY_ERROR:
        if isinstance(exc, cause):
            return error(exc, request=request)
    return exc
