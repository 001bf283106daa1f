"""The one place that speaks HTTP: URLs, timeouts, retries, redirects, the envelope, errors.

What is re-sent, and when:

- A read (GET, HEAD, SEARCH, OPTIONS, or a call marked idempotent) is retried on a
  dropped connection and on 429/502/503/504, within the RetryPolicy's attempts and total
  time, honouring Retry-After. Anything else is retried only when it never left this
  machine (connection refused, DNS failure, connect timeout).
- After a 401 TOKEN_EXPIRED the auth strategy renews the token and the call is re-sent
  once.
- A body is re-sent only when it can be rebuilt: JSON (encoded once, before the first
  attempt), bytes, a form dict, a seekable file (rewound), or a ``Call.body_factory``.
  A one-shot stream is never re-sent (that would send a short or empty body): the token
  is renewed before sending it when it is past half its life, and a call that would need
  re-sending raises NotReplayable instead.
- Redirects are followed only for GET and HEAD, never by auth calls, and never to
  another origin with credentials: anything else raises UnexpectedRedirect naming the
  Location (a POST answered 301 would otherwise come back as a GET and create nothing).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urljoin, urlsplit

import attrs
import requests
import urllib3.exceptions

from ._version import __version__
from .encoding import UNDECODED, encode_bytes, fast_loads
from .errors import (
    ConnectError,
    InvalidQuery,
    NotReplayable,
    ServerError,
    Timeout,
    TLSError,
    TransportError,
    UnexpectedRedirect,
    UsageError,
    error_from_response,
    parse_retry_after,
)
from .redact import SECRET_PARAMS, mask, redact_text, redact_url
from .sender import LeanSender

if TYPE_CHECKING:
    from .auth import DirectusAuth

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_REDIRECTS",
    "NO_RETRY",
    "Call",
    "RetryPolicy",
    "TimeoutSpec",
    "Transport",
    "decode_json",
    "encode_segment",
    "redact_url",
    "unwrap",
    "validate_base_url",
    "wrap_error",
]

log = logging.getLogger("pydirectus")

TimeoutSpec = float | tuple[float, float]
DEFAULT_TIMEOUT: Final[tuple[float, float]] = (10.0, 60.0)
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "SEARCH"})
#: methods whose redirects are followed (a write would be turned into a GET)
FOLLOWED_METHODS: Final = frozenset({"GET", "HEAD"})
MAX_REDIRECTS: Final = 5


@attrs.frozen
class RetryPolicy:
    """How idempotent requests are retried: bounded attempts and total time, with jitter."""

    attempts: int = 4
    backoff: float = 0.25
    max_backoff: float = 8.0
    total: float = 60.0
    statuses: frozenset[int] = frozenset({429, 502, 503, 504})

    def __attrs_post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int) or (
                self.attempts < 1):
            raise UsageError(f"RetryPolicy: attempts must be an int >= 1, got {self.attempts!r}")
        for name in ("backoff", "max_backoff", "total"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not (
                    0 <= value < float("inf")):
                raise UsageError(f"RetryPolicy: {name} must be a finite number >= 0, "
                                 f"got {value!r}")

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Return the wait before retry number `attempt` (1-based), honouring Retry-After.

        The wait is never negative and never longer than the policy's total budget.
        """
        if retry_after is not None and 0 <= retry_after < float("inf"):
            return min(retry_after, self.total)
        ceiling = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)), self.total)
        return random.uniform(ceiling / 2, ceiling)


NO_RETRY: Final = RetryPolicy(attempts=1)


def encode_segment(segment: str | int) -> str:
    """Percent-encode one path segment so no id can climb to another route."""
    if isinstance(segment, bool) or not isinstance(segment, str | int):
        raise InvalidQuery(f"path segment {segment!r}: expected a str or int")
    text = str(segment)
    if text in ("", ".", ".."):
        raise InvalidQuery(f"path segment {text!r}: an id or name must not be empty, '.' or '..'")
    return quote(text, safe="")


def _masked(value: Any) -> str:
    return repr(mask(value))


@attrs.frozen
class Call:
    """A request built but not sent: method, path segments, query parameters and body."""

    method: str
    segments: tuple[str | int, ...]
    # Bodies, parameters and headers can hold passwords and tokens: masked in the repr.
    params: Mapping[str, str] | None = attrs.field(default=None, repr=_masked)
    json: Any = attrs.field(default=None, repr=_masked)
    data: Any = attrs.field(default=None, repr=_masked)
    files: Any = attrs.field(default=None, repr=False)
    # A zero-argument callable that builds a fresh body for each attempt (a replayable
    # upload); when set it replaces `data`. A plain one-shot stream in `data` is not replayable.
    body_factory: Callable[[], Any] | None = attrs.field(default=None, repr=False)
    headers: Mapping[str, str] | None = attrs.field(default=None, repr=_masked)
    stream: bool = False
    authenticate: bool = True
    # DELETE of one id is idempotent too; the caller says so, as only it knows the path shape.
    idempotent: bool | None = None
    # Redirects of GET and HEAD are followed (within one origin while credentials go along);
    # False: never (auth calls, whose bodies hold passwords and tokens). Writes never are.
    follow_redirects: bool = True

    @property
    def retryable(self) -> bool:
        """Return whether re-sending after the server may have seen it is harmless."""
        if self.idempotent is not None:
            return self.idempotent
        return self.method in IDEMPOTENT_METHODS

    @property
    def path(self) -> str:
        """Return the encoded path, e.g. /items/articles/1."""
        return "/" + "/".join(encode_segment(segment) for segment in self.segments)


NEVER_SENT: Final = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.NameResolutionError)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    # requests wraps urllib3 errors in args[0] (not __cause__); MaxRetryError keeps .reason.
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        if isinstance(cause, urllib3.exceptions.MaxRetryError) and cause.reason is not None:
            cause = cause.reason
            continue
        first_arg = cause.args[0] if cause.args else None
        cause = cause.__cause__ or (first_arg if isinstance(first_arg, BaseException) else None)


def _never_reached_server(exc: requests.RequestException) -> bool:
    # A refused connection or failed DNS lookup happens before a byte is sent,
    # so even a POST may be retried; anything later might have been processed.
    if isinstance(exc, requests.ConnectTimeout):
        return True
    return any(isinstance(cause, NEVER_SENT) for cause in _causes(exc))


def _read_timed_out(exc: requests.RequestException) -> bool:
    # A stall in the body (after the headers) reaches us as a requests.ConnectionError
    # wrapping urllib3's ReadTimeoutError, not as requests.ReadTimeout.
    return isinstance(exc, requests.ReadTimeout) or any(
        isinstance(cause, urllib3.exceptions.ReadTimeoutError) for cause in _causes(exc))


def wrap_error(exc: requests.RequestException, call: Call) -> TransportError:
    """Return the pydirectus TransportError for a requests failure of a call."""
    where = f"{call.method} {call.path}"
    if isinstance(exc, requests.exceptions.SSLError):
        return TLSError(f"{where}: TLS failed: {type(exc).__name__}")
    if isinstance(exc, requests.ConnectTimeout):
        return Timeout(f"{where}: connect timed out")
    if _read_timed_out(exc):
        return Timeout(f"{where}: read timed out")
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        # ChunkedEncodingError: the connection dropped in the middle of the body.
        return ConnectError(f"{where}: connection failed: {_reason(exc)}")
    return TransportError(f"{where}: {type(exc).__name__}: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    # urllib3 messages can repeat the URL, and a URL can carry an access_token.
    text = str(exc)
    for marker in SECRET_PARAMS:
        if f"{marker}=" in text:
            return type(exc).__name__
    return redact_text(text[:300])


def _detached(exc: requests.RequestException) -> requests.RequestException:
    """Return a copy of a requests error holding only its message.

    The original holds the PreparedRequest (the login body, the Authorization header)
    and urllib3's pool; an exception we raise must not reach them.
    """
    try:
        copy = type(exc)(_reason(exc))
    except Exception:  # an exception type with another constructor
        copy = requests.RequestException(_reason(exc))
    copy.request = copy.response = None
    return copy


class _Body:
    """A call's body, and whether it can be sent again (see the module docstring)."""

    __slots__ = ("_data", "_factory", "_position", "_sent", "files", "replayable")

    def __init__(self, call: Call) -> None:
        self._factory = call.body_factory
        self._data: Any = call.data
        self._position: int | None = None
        self._sent = False
        self.files = call.files
        self.replayable = True
        if call.json is not None:
            # Encoded once, here: a value JSON cannot carry is refused before sending.
            self._data = encode_bytes(call.json)
        elif self._factory is None and self._data is not None and not isinstance(
                self._data, bytes | bytearray | str | Mapping | list | tuple):
            self._position = _tell(self._data)
            self.replayable = self._position is not None
        if self.files is not None and any(
                hasattr(part, "read") or (isinstance(part, tuple) and any(
                    hasattr(piece, "read") for piece in part))
                for part in dict(self.files).values()):
            self.replayable = False

    def data(self) -> Any:
        """Return the body for the next attempt (fresh from the factory, or rewound)."""
        if self._factory is not None:
            return self._factory()
        if self._sent and self._position is not None:
            self._data.seek(self._position)
        self._sent = True
        return self._data


def _tell(stream: Any) -> int | None:
    # A seekable file can be rewound for a second attempt; anything else is one-shot.
    try:
        if hasattr(stream, "read") and stream.seekable():
            position: int = stream.tell()
            return position
    except (AttributeError, OSError, ValueError):
        pass
    return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or default


def _may_carry_credentials(old: str, new: str) -> bool:
    # Same origin, or the same host moved from http to https on the default ports.
    before, after = _origin(old), _origin(new)
    if before == after:
        return True
    return (before[1] == after[1] and before[0] == "http" and after[0] == "https"
            and before[2] == 80 and after[2] == 443)


class Transport:
    """Send Calls over one requests.Session with retries, auth, redirects and error mapping.

    A session passed in is used, not changed: verify, proxies, the User-Agent and timeouts
    go with each request, and ``close()`` closes only a session the transport created.
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth: DirectusAuth | None = None,
        timeout: TimeoutSpec = DEFAULT_TIMEOUT,
        verify: bool | str | None = None,
        retry: RetryPolicy = RetryPolicy(),
        session: requests.Session | None = None,
        logger: logging.Logger | None = None,
        prefetch: bool = True,
    ) -> None:
        self.base_url = validate_base_url(base_url)
        # Every log line of this client (auth and schema cache too) goes through self.log.
        self.log = logger if logger is not None else log
        self.timeout = timeout
        self.retry = retry
        # Whether iterating a query fetches the next page in the background (prefetch.py).
        self.prefetch = prefetch
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        # Our User-Agent, unless the user's session names its own.
        agent = self.session.headers.get("User-Agent")
        self._headers: dict[str, str] = {}
        if agent is None or agent == requests.utils.default_user_agent():
            self._headers["User-Agent"] = (
                f"pydirectus/{__version__} {requests.utils.default_user_agent()}")
        # Proxies, CA bundle and netrc are read from the environment once per client and
        # host (later changes to the environment or session.proxies are not seen).
        # verify=None: the session's own setting (True for a session created here). Passed
        # explicitly, as requests lets REQUESTS_CA_BUNDLE override a session's CA bundle.
        if verify is None:
            verify = self.session.verify
        self.sender = LeanSender(self.session, self.base_url, verify, self._headers)
        self.auth = auth
        if auth is not None:
            auth.bind(self)

    def __repr__(self) -> str:
        return f"<Transport {redact_url(self.base_url)} auth={self.auth!r}>"

    @property
    def verify(self) -> bool | str:
        """Return the TLS verification each request uses (True, False or a CA bundle path)."""
        verify: bool | str | None = self.sender.verify
        return True if verify is None else verify

    def url(self, call: Call) -> str:
        """Return the absolute URL of a call (without its query string)."""
        return self.sender.prefix + call.path

    def send(self, call: Call) -> requests.Response:
        """Send a call; retry what is safe; map failures to the pydirectus error tree."""
        url = self.url(call)
        body = _Body(call)  # JSON the encoder refuses raises here, before anything is sent
        if not body.replayable and call.authenticate and self.auth is not None:
            # A one-shot stream cannot be re-sent after a TOKEN_EXPIRED: renew first.
            self.auth.ensure_fresh()
        started = time.monotonic()
        attempt = 0
        recovered = False
        while True:
            attempt += 1
            failure: requests.RequestException | None = None
            try:
                response = self._send_once(call, url, body)
            except requests.RequestException as exc:
                failure = exc
            if failure is not None:
                # Raised outside the except block: the original (which holds the prepared
                # request, Authorization header and body included) is not its context.
                error = wrap_error(failure, call)
                safe = call.retryable and not _read_timed_out(failure)
                if (safe or _never_reached_server(failure)) and body.replayable and (
                        self._may_retry(attempt, started, None)):
                    self.log.debug("%s %s failed (%s); retrying", call.method, call.path, error)
                    continue
                raise error from _detached(failure)
            if response.status_code < 300:
                return response
            if response.status_code == 401 and not recovered and self._recover(call, response):
                if not body.replayable:
                    raise NotReplayable(
                        f"{call.method} {call.path}: the token had expired (it is renewed now), "
                        f"but the body was a one-shot stream already sent and cannot be sent "
                        f"again; pass bytes, a path or a seekable file, or call again"
                    ) from error_from_response(response)
                recovered = True
                attempt -= 1  # a token refresh is not a failed attempt
                continue
            if call.retryable and body.replayable and response.status_code in self.retry.statuses:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if self._may_retry(attempt, started, retry_after):
                    response.close()
                    continue
            raise error_from_response(response)

    def _send_once(self, call: Call, url: str, body: _Body) -> requests.Response:
        headers = {**self._headers, **(call.headers or {})}
        if call.json is not None:
            headers.setdefault("Content-Type", "application/json")
        auth = self.auth if call.authenticate else None
        prepared = self.sender.prepare(call.method, url, params=call.params, data=body.data(),
                                       files=body.files, headers=headers, auth=auth,
                                       authenticate=call.authenticate, prepared_url=True)
        response = self._transmit(call, prepared, self.sender.proxies)
        hops = 0
        while response.is_redirect:
            # requests would turn a redirected POST into a GET (creating nothing) and can
            # re-send a login body to another host on 307/308: redirects are ours to decide.
            location = urljoin(prepared.url or url, response.headers["Location"])
            hops += 1
            refusal = self._refuse_redirect(call, prepared, location, hops)
            if refusal is not None:
                error = error_from_response(response)
                response.close()
                raise UnexpectedRedirect(response.status_code, None, refusal,
                                         {"location": redact_url(location)}, error.response)
            response.close()
            prepared = self.sender.prepare(call.method, location, params=None, data=None,
                                           files=None, headers=headers, auth=auth,
                                           authenticate=call.authenticate, prepared_url=False)
            response = self._transmit(call, prepared, self.sender.proxies_for(location))
        return response

    def _transmit(self, call: Call, prepared: requests.PreparedRequest,
                  proxies: MutableMapping[str, str]) -> requests.Response:
        begun = time.perf_counter()
        response = self.sender.send(prepared, stream=call.stream, timeout=self.timeout,
                                    proxies=proxies)
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("%s %s -> %d in %.1f ms", call.method, call.path,
                           response.status_code, (time.perf_counter() - begun) * 1000)
        return response

    def _refuse_redirect(self, call: Call, prepared: requests.PreparedRequest, location: str,
                         hops: int) -> str | None:
        """Return why a redirect must not be followed, or None to follow it."""
        where = f"{call.method} {call.path}"
        shown = redact_url(location)
        hint = _redirect_hint(prepared.url or "", location)
        if not call.follow_redirects or call.method not in FOLLOWED_METHODS:
            what = ("an auth call (it carries the password or a token)"
                    if not call.follow_redirects else
                    f"a {call.method} (following would turn it into a GET or re-send its body)")
            return f"{where}: the server redirects to {shown}; not followed for {what}. {hint}"
        if hops > MAX_REDIRECTS:
            return f"{where}: more than {MAX_REDIRECTS} redirects (the last to {shown})"
        if "Authorization" in prepared.headers and not _may_carry_credentials(
                prepared.url or "", location):
            return (f"{where}: the server redirects to another origin, {shown}; not followed, "
                    f"as the credentials would go along. {hint}")
        return None

    def _recover(self, call: Call, response: requests.Response) -> bool:
        if self.auth is None or not call.authenticate:
            return False
        error = error_from_response(response)
        return error.code == "TOKEN_EXPIRED" and self.auth.recover(response.request)

    def _may_retry(self, attempt: int, started: float, retry_after: float | None) -> bool:
        if attempt >= self.retry.attempts:
            return False
        wait = self.retry.delay(attempt, retry_after)
        if retry_after is not None and retry_after > wait:
            return False  # the server asks for longer than the whole budget
        if time.monotonic() - started + wait > self.retry.total:
            return False
        time.sleep(wait)
        return True

    def request(
        self,
        method: str,
        *segments: str | int,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        authenticate: bool = True,
    ) -> Any:
        """Send a JSON call and return the decoded body (None for an empty answer)."""
        return self.send_json(Call(method, segments, params=params, json=json,
                                   idempotent=idempotent, authenticate=authenticate))

    def send_json(self, call: Call) -> Any:
        """Send a call and return its decoded JSON body (None for an empty answer)."""
        return decode_json(self.send(call), call)

    def data(
        self,
        method: str,
        *segments: str | int,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        authenticate: bool = True,
        expect: type | tuple[type, ...] | None = None,
    ) -> Any:
        """Send a JSON call and return the envelope's `data` (None for 204 No Content).

        ``expect`` is the type ``data`` must have; any other shape raises ServerError.
        """
        call = Call(method, segments, params=params, json=json, idempotent=idempotent,
                    authenticate=authenticate)
        response = self.send(call)
        body = decode_json(response, call)
        if body is None and expect is None:
            return None  # 204 No Content: a write with nothing to say
        return unwrap(body, call, expect, response)

    def post_auth(self, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """POST /auth/{endpoint} without a bearer token and without following redirects.

        The narrow channel auth strategies use (login, refresh, logout); returns the
        envelope's data (None for 204).
        """
        call = Call("POST", ("auth", endpoint), json={**body, "mode": "json"},
                    authenticate=False, follow_redirects=False)
        response = self.send(call)
        answer = decode_json(response, call)
        if answer is None:
            return None
        data: dict[str, Any] = unwrap(answer, call, dict, response)
        return data

    def close(self) -> None:
        """Log out the auth strategy (if it holds a session); close a session made here."""
        try:
            if self.auth is not None:
                self.auth.close()
        finally:
            if self._owns_session:
                self.session.close()


def _redirect_hint(url: str, location: str) -> str:
    old, new = urlsplit(url), urlsplit(location)
    if old.scheme == "http" and new.scheme == "https" and old.hostname == new.hostname:
        base = f"https://{new.netloc}"
        return (f"The server wants https: use a base URL starting {redact_url(base)!r} "
                f"instead of http://.")
    return "Point the client at the URL the server redirects to."


def decode_json(response: requests.Response, call: Call) -> Any:
    """Decode a successful JSON body (None for an empty one); a non-JSON body is a server error."""
    content = response.content
    if response.status_code == 204 or not content:
        return None
    if response.encoding is None or response.encoding.lower() in ("utf-8", "utf8"):
        decoded = fast_loads(content)
        if decoded is not UNDECODED:
            return decoded
    try:
        return response.json()
    except ValueError:
        pass  # raised below, outside this block: the decode error holds the whole body
    excerpt = redact_text(response.content[:200].decode("utf-8", "replace"))
    raise ServerError(response.status_code, None,
                      f"{call.method} {call.path}: expected JSON, got {excerpt!r}",
                      None, response)


def unwrap(body: Any, call: Call, expect: type | tuple[type, ...] | None = None,
           response: Any = None) -> Any:
    """Return the ``data`` of a Directus envelope, or raise ServerError naming the route.

    ``expect`` is the type(s) ``data`` must have (list for a collection read, dict for one
    item); an answer of another shape is the server's (or a proxy's) fault.
    """
    status = response.status_code if response is not None else 200
    if not isinstance(body, dict) or "data" not in body:
        raise ServerError(status, None, f"{call.method} {call.path}: expected a JSON object "
                          f"with 'data', got {_shape(body)}", None, response)
    data = body["data"]
    if expect is not None and not isinstance(data, expect):
        kinds = expect if isinstance(expect, tuple) else (expect,)
        wanted = " or ".join(_KIND_NAMES.get(kind, kind.__name__) for kind in kinds)
        raise ServerError(status, None, f"{call.method} {call.path}: expected 'data' to be "
                          f"{wanted}, got {_shape(data)}", None, response)
    return data


_KIND_NAMES: Final[Mapping[type, str]] = {dict: "an object", list: "a list"}


def _shape(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return f"an object with keys {sorted(value)[:5]!r}" if value else "an empty object"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__} ({str(value)[:40]!r})"


def validate_base_url(url: str) -> str:
    """Check a Directus base URL has an http(s) scheme and a host; drop a trailing slash."""
    if not isinstance(url, str) or not url.strip():
        raise UsageError("url: expected the Directus base URL, e.g. 'https://cms.example.com'")
    shown = redact_url(url.strip())  # a URL can carry user:password@
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None  # raised below, outside this block: the ValueError may quote the URL
    if parts is None:
        raise UsageError(f"url {shown!r}: not a valid URL")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UsageError(f"url {shown!r}: needs an http:// or https:// scheme and a host")
    if parts.query or parts.fragment:
        raise UsageError(f"url {shown!r}: must not carry a query string or fragment")
    return url.strip().rstrip("/")

