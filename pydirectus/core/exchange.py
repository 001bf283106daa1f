"""The transport's decisions as one plan: retries, token renewal, redirects, error mapping.

What is re-sent, and when:

- A read (GET, HEAD, SEARCH, OPTIONS, or a call marked idempotent) is retried on a
  dropped connection and on 429/502/503/504, within the RetryPolicy's attempts and total
  time, honouring Retry-After. Anything else is retried only when it never left this
  machine (connection refused, DNS failure, connect timeout).
- After a 401 TOKEN_EXPIRED the auth strategy renews the token and the call is re-sent,
  once per call. A request refused for a token another thread or task has renewed since is
  re-sent with the new one without counting (up to MAX_RESENDS times in all): a request
  that waits long in a busy server's queue can outlive the token renewed for it too.
- A body is re-sent only when it can be rebuilt: JSON (encoded once, before the first
  attempt), bytes, a form dict, a seekable file (rewound), or a ``Call.body_factory``.
  A one-shot stream is never re-sent (that would send a short or empty body): the token
  is renewed before sending it when it is past half its life, and a call that would need
  re-sending raises NotReplayable instead.
- Redirects are followed only for GET and HEAD, never by auth calls, and never to
  another origin with credentials: anything else raises UnexpectedRedirect naming the
  Location (a POST answered 301 would otherwise come back as a GET and create nothing).

``exchange`` yields ``Attempt`` (one hop on the wire),
``Wait``, and whatever the auth strategy's plans yield
(calls to /auth, ``Exclusive``); a face's sender answers
attempts with a reply or raises ``WireFailure``.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

import attrs

from ..encoding import encode_bytes
from ..errors import (
    NotReplayable,
    ServerError,
    UnexpectedRedirect,
    UsageError,
    error_from_response,
    parse_retry_after,
)
from ..redact import redact_text, redact_url
from .plans import OBJECT, Attempt, Call, Plan, Reply, Wait, WireFailure, decode_json, unwrap

__all__ = [
    "FOLLOWED_METHODS",
    "MAX_REDIRECTS",
    "MAX_RESENDS",
    "NO_RETRY",
    "REDIRECT_STATUSES",
    "Body",
    "Exchange",
    "RetryPolicy",
    "set_cookie",
    "validate_base_url",
]

#: methods whose redirects are followed (a write would be turned into a GET)
FOLLOWED_METHODS: Final = frozenset({"GET", "HEAD"})
MAX_REDIRECTS: Final = 5
#: re-sends of one call after TOKEN_EXPIRED answers (one of them may renew the token)
MAX_RESENDS: Final = 3
REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})


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


class Body:
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


def _location(sent: str, header: str) -> str | None:
    """Return a redirect's target resolved against the URL sent, or None when it is not an
    http(s) URL with a host (``http://[::1/x``, a port that is no number, ``ftp://``)."""
    try:
        target = urljoin(sent, header.strip())
        parts = urlsplit(target)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return target


def _redirect_hint(url: str, location: str) -> str:
    old, new = urlsplit(url), urlsplit(location)
    if old.scheme == "http" and new.scheme == "https" and old.hostname == new.hostname:
        base = f"https://{new.netloc}"
        return (f"The server wants https: use a base URL starting {redact_url(base)!r} "
                f"instead of http://.")
    return "Point the client at the URL the server redirects to."


def _is_redirect(reply: Reply) -> bool:
    return reply.status_code in REDIRECT_STATUSES and "location" in reply.headers


def _sent_url(reply: Reply, fallback: str) -> str:
    request = getattr(reply, "request", None)
    return str(getattr(request, "url", None) or fallback)


def _sent_credentials(reply: Reply) -> bool:
    request = getattr(reply, "request", None)
    headers = getattr(request, "headers", None) or {}
    return "Authorization" in headers


class Exchange:
    """The decisions of one client's transport, for one face's driver to run per call."""

    def __init__(self, prefix: str, *, headers: Mapping[str, str], retry: RetryPolicy,
                 auth: Any, log: logging.Logger) -> None:
        self.prefix = prefix
        self.headers = dict(headers)
        self.retry = retry
        self.auth = auth
        self.log = log

    def url(self, call: Call) -> str:
        """Return the absolute URL of a call (without its query string)."""
        return self.prefix + call.path

    def run(self, call: Call) -> Plan[Reply]:
        """Send a call; retry what is safe; map failures to the pydirectus error tree."""
        url = self.url(call)
        body = Body(call)  # JSON the encoder refuses raises here, before anything is sent
        auth = self.auth if call.authenticate else None
        if not body.replayable and auth is not None:
            # A one-shot stream cannot be re-sent after a TOKEN_EXPIRED: renew first.
            yield from auth.ensure_fresh_plan()
        started = time.monotonic()
        attempt = 0
        renewed = False
        resends = 0
        # Whether an attempt already retried may have reached the server: a batched write
        # reports its batch as uncertain, whatever the last attempt's answer says.
        lost = False
        while True:
            attempt += 1
            try:
                response = yield from self._hops(call, url, body, auth)
            except WireFailure as failure:
                safe = call.retryable and not failure.read_timed_out
                if (safe or failure.never_sent) and body.replayable:
                    wait = self._retry_wait(attempt, started, None)
                    if wait is not None:
                        self.log.debug("%s %s failed (%s); retrying", call.method, call.path,
                                       failure.error)
                        lost = lost or not failure.never_sent
                        yield Wait(wait)
                        continue
                failure.error.request_sent = lost or not failure.never_sent
                raise failure.error from failure.cause
            if response.status_code < 300:
                return response
            if response.status_code == 401 and resends < MAX_RESENDS and auth is not None and (
                    error_from_response(response).code == "TOKEN_EXPIRED"):
                # Renewed by another thread or task since it was sent: send it again as it
                # is; else renew, once per call (a server that calls a token fresh by our
                # clock expired again would have us renew forever).
                resend = auth.replaced(response)
                if not resend and not renewed:
                    renewed = resend = yield from auth.recover_plan(response)
                if resend:
                    if not body.replayable:
                        raise NotReplayable(
                            f"{call.method} {call.path}: the token had expired (it is renewed "
                            f"now), but the body was a one-shot stream already sent and cannot "
                            f"be sent again; pass bytes, a path or a seekable file, or call "
                            f"again") from error_from_response(response)
                    resends += 1
                    attempt -= 1  # a token refresh is not a failed attempt
                    continue
            if call.retryable and body.replayable and response.status_code in self.retry.statuses:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                wait = self._retry_wait(attempt, started, retry_after)
                if wait is not None:
                    response.close()
                    # A 429 was refused before any work; a 502/503/504 may come after it.
                    lost = lost or response.status_code != 429
                    yield Wait(wait)
                    continue
            error = error_from_response(response)
            error.earlier_attempt_lost = lost
            raise error

    def _hops(self, call: Call, url: str, body: Body, auth: Any) -> Plan[Reply]:
        headers = {**self.headers, **(call.headers or {})}
        if call.json is not None:
            headers.setdefault("Content-Type", "application/json")
        if auth is not None:
            yield from auth.prepare_plan()
        response = yield from self._transmit(Attempt(call, url, call.params, headers,
                                                     body.data(), body.files, auth))
        hops = 0
        while _is_redirect(response):
            # requests would turn a redirected POST into a GET (creating nothing) and can
            # re-send a login body to another host on 307/308: redirects are ours to decide.
            sent = _sent_url(response, url)
            location = _location(sent, response.headers["Location"])
            if location is None:
                error = error_from_response(response)
                response.close()
                shown = redact_text(response.headers["Location"][:200])
                raise ServerError(error.status, None, f"{call.method} {call.path}: the server "
                                  f"redirects to {shown!r}, which is not an http(s) URL",
                                  {"location": shown}, error.response)
            hops += 1
            refusal = self._refuse_redirect(call, sent, _sent_credentials(response), location,
                                            hops)
            if refusal is not None:
                error = error_from_response(response)
                response.close()
                raise UnexpectedRedirect(response.status_code, None, refusal,
                                         {"location": redact_url(location)}, error.response)
            response.close()
            response = yield from self._transmit(Attempt(call, location, None, headers, None,
                                                         None, auth, prepared_url=False))
        return response

    def _transmit(self, attempt: Attempt) -> Plan[Reply]:
        begun = time.perf_counter()
        response: Reply = yield attempt
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("%s %s -> %d in %.1f ms", attempt.call.method, attempt.call.path,
                           response.status_code, (time.perf_counter() - begun) * 1000)
        return response

    @staticmethod
    def _refuse_redirect(call: Call, sent: str, credentials: bool, location: str,
                         hops: int) -> str | None:
        """Return why a redirect must not be followed, or None to follow it."""
        where = f"{call.method} {call.path}"
        shown = redact_url(location)
        hint = _redirect_hint(sent, location)
        if not call.follow_redirects or call.method not in FOLLOWED_METHODS:
            what = ("an auth call (it carries the password or a token)"
                    if not call.follow_redirects else
                    f"a {call.method} (following would turn it into a GET or re-send its body)")
            return f"{where}: the server redirects to {shown}; not followed for {what}. {hint}"
        if hops > MAX_REDIRECTS:
            return f"{where}: more than {MAX_REDIRECTS} redirects (the last to {shown})"
        if credentials and not _may_carry_credentials(sent, location):
            return (f"{where}: the server redirects to another origin, {shown}; not followed, "
                    f"as the credentials would go along. {hint}")
        return None

    def _retry_wait(self, attempt: int, started: float, retry_after: float | None
                    ) -> float | None:
        """Return how long to wait before another attempt, or None: no more attempts."""
        if attempt >= self.retry.attempts:
            return None
        wait = self.retry.delay(attempt, retry_after)
        if retry_after is not None and retry_after > wait:
            return None  # the server asks for longer than the whole budget
        if time.monotonic() - started + wait > self.retry.total:
            return None
        return wait

    def post_auth(self, endpoint: str | tuple[str, ...], body: Mapping[str, Any], *,
                  cookie: tuple[str, str | None] | None = None
                  ) -> Plan[dict[str, Any] | None]:
        """POST /auth/{endpoint} without a bearer token and without following redirects.

        What auth strategies use (login, refresh, logout); returns the envelope's data
        (None for 204). ``endpoint`` may hold a slash (``login/ldap``); a tuple is the
        whole path (``("shares", "auth")``). Sent in json mode, or with
        ``cookie=(name, token)`` in session mode: the token (unless None) goes as cookie
        `name`, and the value the server sets for that cookie comes back as ``data[name]``.
        """
        path = endpoint if isinstance(endpoint, tuple) else ("auth", *endpoint.split("/"))
        headers = None
        if cookie is not None and cookie[1] is not None:
            headers = {"Cookie": f"{cookie[0]}={cookie[1]}"}
        mode = "json" if cookie is None else "session"
        call = Call("POST", path, json={**body, "mode": mode}, headers=headers,
                    authenticate=False, follow_redirects=False)
        response: Reply = yield call
        answer = decode_json(response, call)
        if answer is None:
            return None
        found: dict[str, Any] = unwrap(answer, call, OBJECT, response)
        if cookie is not None:
            found[cookie[0]] = set_cookie(response, cookie[0])
        return found


def set_cookie(response: Reply, name: str) -> str | None:
    """Return the value a response's Set-Cookie header(s) give cookie `name` (None: none).

    requests joins repeated headers with ", " and aiohttp keeps them apart (getall); a
    cookie's value (a JWT here) holds neither ";" nor "," nor spaces.
    """
    headers: Any = response.headers
    values = (headers.getall("Set-Cookie", []) if hasattr(headers, "getall")
              else [headers.get("Set-Cookie") or ""])
    pattern = re.compile(rf"(?:^|[;,]\s*){re.escape(name)}=([^;,\s]*)")
    for value in values:
        match = pattern.search(value)
        if match and match.group(1):
            return match.group(1)
    return None


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
