"""The one place that speaks HTTP: URLs, timeouts, retries, the envelope, error mapping."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urlsplit

import attrs
import requests
import urllib3.exceptions

from ._version import __version__
from .errors import (
    ConnectError,
    InvalidQuery,
    ServerError,
    Timeout,
    TLSError,
    TransportError,
    error_from_response,
    parse_retry_after,
)

if TYPE_CHECKING:
    from .auth import DirectusAuth

__all__ = [
    "DEFAULT_TIMEOUT",
    "NO_RETRY",
    "Call",
    "RetryPolicy",
    "TimeoutSpec",
    "Transport",
    "decode_json",
    "encode_segment",
    "redact_url",
    "validate_base_url",
    "wrap_error",
]

log = logging.getLogger("pydirectus")

TimeoutSpec = float | tuple[float, float]
DEFAULT_TIMEOUT: Final[tuple[float, float]] = (10.0, 60.0)
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "SEARCH"})
SECRET_PARAMS: Final = frozenset({"access_token", "refresh_token", "password", "token", "otp"})
SECRET_KEYS: Final = SECRET_PARAMS | {"authorization", "tfa_secret", "secret"}


@attrs.frozen
class RetryPolicy:
    """How idempotent requests are retried: bounded attempts and total time, with jitter."""

    attempts: int = 4
    backoff: float = 0.25
    max_backoff: float = 8.0
    total: float = 60.0
    statuses: frozenset[int] = frozenset({429, 502, 503, 504})

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Return the wait before retry number `attempt` (1-based), honouring Retry-After."""
        if retry_after is not None:
            return retry_after
        ceiling = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
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


def _mask(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: "***" if str(key).lower() in SECRET_KEYS else _mask(item)
                for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(item) for item in value]
    return value


def _masked(value: Any) -> str:
    return repr(_mask(value))


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
    return text[:300]


class Transport:
    """Send Calls over one requests.Session with retries, auth and error mapping."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: DirectusAuth | None = None,
        timeout: TimeoutSpec = DEFAULT_TIMEOUT,
        verify: bool | str = True,
        retry: RetryPolicy = RetryPolicy(),
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = validate_base_url(base_url)
        self.timeout = timeout
        self.retry = retry
        self.session = session or requests.Session()
        self.session.verify = verify
        self.session.headers["User-Agent"] = (
            f"pydirectus/{__version__} {requests.utils.default_user_agent()}")
        # Session.request reads proxy and CA-bundle settings from the environment on every
        # call, scanning os.environ each time; every call here goes to one host, so read
        # them once (later changes to the environment or session.proxies are not seen).
        settings = self.session.merge_environment_settings(self.base_url, {}, None, verify, None)
        self._proxies: MutableMapping[str, str] = settings["proxies"]
        self._verify: bool | str | None = settings["verify"]
        self._cert: Any = settings["cert"]
        self.auth = auth
        if auth is not None:
            auth.bind(self)

    def __repr__(self) -> str:
        return f"<Transport {redact_url(self.base_url)} auth={self.auth!r}>"

    def url(self, call: Call) -> str:
        """Return the absolute URL of a call (without its query string)."""
        return self.base_url + call.path

    def send(self, call: Call) -> requests.Response:
        """Send a call; retry what is safe; map failures to the pydirectus error tree."""
        url = self.url(call)
        started = time.monotonic()
        attempt = 0
        recovered = False
        while True:
            attempt += 1
            try:
                response = self._send_once(call, url)
            except requests.RequestException as exc:
                error = wrap_error(exc, call)
                safe = call.retryable and not _read_timed_out(exc)
                if (safe or _never_reached_server(exc)) and self._may_retry(attempt, started, None):
                    log.debug("%s %s failed (%s); retrying", call.method, call.path, error)
                    continue
                raise error from exc
            if response.ok:
                return response
            if response.status_code == 401 and not recovered and self._recover(call, response):
                recovered = True
                attempt -= 1  # a token refresh is not a failed attempt
                continue
            if call.retryable and response.status_code in self.retry.statuses:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if self._may_retry(attempt, started, retry_after):
                    response.close()
                    continue
            raise error_from_response(response)

    def _send_once(self, call: Call, url: str) -> requests.Response:
        request = requests.Request(
            call.method, url, params=call.params, json=call.json,
            data=call.body_factory() if call.body_factory is not None else call.data,
            files=call.files, headers=dict(call.headers or {}),
            auth=self.auth if call.authenticate else None,
        )
        prepared = self.session.prepare_request(request)
        if not call.authenticate:
            prepared.headers.pop("Authorization", None)
        begun = time.perf_counter()
        response = self.session.send(prepared, timeout=self.timeout, stream=call.stream,
                                     allow_redirects=True, proxies=self._proxies,
                                     verify=self._verify, cert=self._cert)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> %d in %.1f ms", call.method, call.path, response.status_code,
                      (time.perf_counter() - begun) * 1000)
        return response

    def _recover(self, call: Call, response: requests.Response) -> bool:
        if self.auth is None or not call.authenticate:
            return False
        error = error_from_response(response)
        return error.code == "TOKEN_EXPIRED" and self.auth.recover(response.request)

    def _may_retry(self, attempt: int, started: float, retry_after: float | None) -> bool:
        if attempt >= self.retry.attempts:
            return False
        wait = self.retry.delay(attempt, retry_after)
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
    ) -> Any:
        """Send a JSON call and return the envelope's `data` (None for 204 No Content)."""
        body = self.request(method, *segments, params=params, json=json, idempotent=idempotent,
                            authenticate=authenticate)
        return body.get("data") if isinstance(body, dict) else body

    def close(self) -> None:
        """Log out the auth strategy (if it holds a session) and close the HTTP session."""
        try:
            if self.auth is not None:
                self.auth.close()
        finally:
            self.session.close()


def decode_json(response: requests.Response, call: Call) -> Any:
    """Decode a successful JSON body; a non-JSON 2xx body is a server error."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        excerpt = response.content[:200].decode("utf-8", "replace")
        raise ServerError(response.status_code, None,
                          f"{call.method} {call.path}: expected JSON, got {excerpt!r}",
                          None, response) from None


def redact_url(url: str) -> str:
    """Return the URL with any password in its user-info part masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()


def validate_base_url(url: str) -> str:
    """Check a Directus base URL has an http(s) scheme and a host; drop a trailing slash."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidQuery("url: expected the Directus base URL, e.g. 'https://cms.example.com'")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidQuery(f"url {url!r}: needs an http:// or https:// scheme and a host")
    if parts.query or parts.fragment:
        raise InvalidQuery(f"url {url!r}: must not carry a query string or fragment")
    return url.strip().rstrip("/")

