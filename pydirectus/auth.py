"""Auth strategies: requests AuthBase subclasses whose decisions are plans both faces drive.

Write your own by subclassing ``DirectusAuth``: set the header in ``__call__`` (it
must not send anything: it runs on the event loop under the async face); optionally
override ``recover`` (called once on a 401 TOKEN_EXPIRED; return True to re-send),
``ensure_fresh`` (called before a body that cannot be sent twice) and ``close`` (called
by ``client.close()``). Strategies that talk to the server (``Password``) override
the plan forms instead (``prepare_plan``, ``recover_plan``, ``ensure_fresh_plan``,
``close_plan``): generators that yield calls (see ``pydirectus.core.plans``), so one
definition serves the sync and the async face.

Strategies reach the server only through an ``AuthChannel`` (``post_auth``, a plan),
which the transport provides: this module imports nothing from the transport.

Secrets stay out of every text the client produces: a strategy lists what it holds in
``secret_values()`` and registers itself with ``pydirectus.redact.register_secrets``
(StaticToken and Password do), and errors, logs and the CLI scrub those values.
"""

from __future__ import annotations

import logging
import math
import re
import time
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, Final, Protocol

import requests
import requests.auth

from .core.plans import Exclusive, LockSlot, Plan, Reply
from .errors import (
    AuthenticationError,
    DirectusError,
    InvalidRequest,
    ServerError,
    UsageError,
)
from .redact import register_secrets
from .refusals import DEFAULT_COOLDOWN, REMEMBERED_REFUSALS, gated_login, login_key

__all__ = ["LDAP", "AuthChannel", "DirectusAuth", "Password", "Session", "ShareLogin",
           "StaticToken"]

log = logging.getLogger("pydirectus")

# Refresh this long before expiry (capped at a fifth of the token's life for short TTLs).
REFRESH_MARGIN_SECONDS = 30.0
#: replaced secrets (access and refresh tokens, a password changed by set_credentials) a
#: Password still scrubs: an answer to a request sent with one may arrive after the change
RETIRED_TOKENS_KEPT: Final = 4
# What a token must not contain, by name (others are named by code point).
_CHARACTER_NAMES: Final = {"\n": "newline", "\r": "carriage return", "\t": "tab",
                           " ": "space", "\ufeff": "byte order mark"}
#: what Directus names an auth provider (AUTH_PROVIDERS); it becomes a path segment
_PROVIDER_NAME: Final = re.compile(r"[A-Za-z0-9_-]+")
#: Directus's default SESSION_COOKIE_NAME
SESSION_COOKIE: Final = "directus_session_token"
#: what the session cookie's name may hold (an HTTP token)
_COOKIE_NAME: Final = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")


class AuthChannel(Protocol):
    """What an auth strategy may ask of the transport: one unauthenticated auth call."""

    # The client's logger (its logger= argument, else the pydirectus logger).
    log: logging.Logger

    #: the server's base URL (whose logins a refusal is remembered for)
    base_url: str

    #: True when run() blocks (the sync face)
    blocking: bool

    def auth_call(self, endpoint: str | tuple[str, ...], body: Mapping[str, Any], *,
                  cookie: tuple[str, str | None] | None = None
                  ) -> Plan[dict[str, Any] | None]:
        """Plan: POST /auth/{endpoint} (a tuple: that path) with no bearer token and no
        redirects; the data or None. ``cookie=(name, token)``: session mode (see
        ``pydirectus.core.exchange.Exchange.post_auth``)."""
        ...

    def run(self, plan: Plan[Any]) -> Any:
        """Drive a plan with the face that bound this strategy (sync: returns its result)."""
        ...


class DirectusAuth(requests.auth.AuthBase):
    """Base class of auth strategies; the transport binds itself before first use."""

    def bind(self, channel: AuthChannel) -> None:
        """Receive the channel that login, refresh and logout calls go through."""

    def secret_values(self) -> Iterable[str]:
        """Return the secrets this strategy holds now (scrubbed from every text once the
        strategy is registered with pydirectus.redact.register_secrets)."""
        return ()

    def recover(self, failed: Any) -> bool:
        """Make a fresh token after a 401 TOKEN_EXPIRED; return True to re-send the call."""
        return False

    def ensure_fresh(self) -> None:
        """Renew the token now if it may expire soon (before a body that cannot be re-sent)."""

    def close(self) -> None:
        """End any server-side session (Password logs out)."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r

    # The plan forms the transport drives (the defaults call the methods above).

    def prepare_plan(self) -> Plan[None]:
        """Plan run before each attempt: make the token ``__call__`` sends fresh."""
        yield from ()

    def recover_plan(self, failed: Reply) -> Plan[bool]:
        """Plan run once per call on a 401 TOKEN_EXPIRED; True: re-send the call."""
        yield from ()
        return self.recover(getattr(failed, "request", None))

    def replaced(self, failed: Reply) -> bool:
        """Return whether the token a refused request carried was renewed since (by another
        thread or task): then the call is re-sent with the new one, no renewal needed."""
        return False

    def ensure_fresh_plan(self) -> Plan[None]:
        """Plan run before a body that cannot be sent twice."""
        yield from ()
        self.ensure_fresh()

    def close_plan(self) -> Plan[None]:
        """Plan run by ``client.close()``."""
        yield from ()
        self.close()


def _sent_token(failed: Reply) -> str | None:
    """Return the bearer token a request carried (None: none)."""
    headers = getattr(getattr(failed, "request", None), "headers", None) or {}
    return str(headers.get("Authorization") or "").removeprefix("Bearer ") or None


def _bearer(request: requests.PreparedRequest, token: str) -> requests.PreparedRequest:
    request.headers["Authorization"] = f"Bearer {token}"
    return request


class StaticToken(DirectusAuth):
    """Send a fixed (static or externally managed) access token."""

    def __init__(self, token: str) -> None:
        if not isinstance(token, str) or not token.strip():
            raise UsageError("StaticToken: token must be a non-empty string")
        _check_token(token, "StaticToken")
        self._token = token
        register_secrets(self)

    def secret_values(self) -> Iterable[str]:
        """Return the token."""
        return (self._token,)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return _bearer(r, self._token)

    def __repr__(self) -> str:
        return "StaticToken(token='***')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StaticToken) and other._token == self._token

    def __hash__(self) -> int:
        return hash((StaticToken, self._token))


def _check_token(token: str, who: str) -> None:
    """Refuse whitespace and control characters (an HTTP header cannot carry them), naming
    the character and where it is, never the token."""
    for index, char in enumerate(token):
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            name = f"{_CHARACTER_NAMES.get(char) or f'character U+{ord(char):04X}'} ({char!r})"
            where = ("a leading " + name if index == 0 else
                     "a trailing " + name if index == len(token) - 1 else
                     f"an inner {name} at position {index + 1} of {len(token)}")
            raise UsageError(
                f"{who}: the token has {where}; a token cannot contain whitespace or control "
                f"characters (one read from a file often ends with a newline: strip it)")
    if not token.isascii():
        # It goes in a header, which carries Latin-1 at most; Directus makes ASCII tokens.
        raise UsageError(f"{who}: the token holds a character that is not ASCII; Directus's "
                         f"tokens are ASCII (was it copied with typographic quotes?)")


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _check_credentials(email: Any, password: Any, otp: Any) -> None:
    if not isinstance(email, str) or not email.strip():
        raise UsageError("Password: email must be a non-empty string")
    if not isinstance(password, str) or not password:
        raise UsageError("Password: password must be a non-empty string")
    for name, text in (("email", email), ("password", password), ("otp", otp or "")):
        if not text.isascii() and not _utf8(text):
            raise UsageError(f"Password: {name} holds a lone surrogate, which UTF-8 cannot "
                             "carry")
    if otp is not None and (not isinstance(otp, str) or not otp):
        raise UsageError("Password: otp must be a non-empty string or None")


class Password(DirectusAuth):
    """Log in with email and password; refresh before expiry; log in again if refresh fails.

    A login refused for INVALID_CREDENTIALS, USER_SUSPENDED or INVALID_OTP is remembered:
    later calls raise AuthenticationError at once and send no login (repeated attempts
    with a wrong password get the account suspended) until ``set_credentials()``.
    Across the process too (see ``pydirectus.refusals``): other clients, sync or async,
    with the same server, email and password send no login for ``refusal_cooldown``
    seconds either, and only one of them logs in at a time.

    Safe to share: many threads (sync face) or tasks (async face) cause one refresh per
    expiry. ``logins`` and ``refreshes`` count what happened, for monitoring and tests.
    """

    def __init__(self, email: str, password: str, otp: str | None = None, *,
                 provider: str | None = None,
                 refusal_cooldown: float = DEFAULT_COOLDOWN) -> None:
        _check_credentials(email, password, otp)
        self._begin(email, password, otp, provider, refusal_cooldown)

    def _begin(self, email: str, password: str, otp: str | None, provider: str | None,
               refusal_cooldown: float) -> None:
        who = type(self).__name__
        if isinstance(refusal_cooldown, bool) or not isinstance(
                refusal_cooldown, int | float) or not 0 <= refusal_cooldown < math.inf:
            raise UsageError(f"{who}: refusal_cooldown must be a finite number of seconds "
                             f">= 0, got {refusal_cooldown!r}")
        if provider is not None and (not isinstance(provider, str)
                                     or not _PROVIDER_NAME.fullmatch(provider)):
            raise UsageError(f"{who}: provider must be the name of an auth provider "
                             f"(letters, digits, '_' or '-', as in AUTH_PROVIDERS), got "
                             f"{provider!r}")
        #: the auth provider logged in through (None: Directus's default, /auth/login)
        self.provider = provider
        self.refusal_cooldown = float(refusal_cooldown)
        self.email = email
        self._password = password
        self._otp = otp
        self._channel: AuthChannel | None = None
        self._slot = LockSlot()
        self._access_token: str | None = None
        self._refresh_token: str | None = None
        self._refresh_at = 0.0
        self._fresh_until = 0.0
        # (status, code, message) of a login refusal the same credentials would meet again.
        self._refused: tuple[int, str, str] | None = None
        self.logins = 0
        self.refreshes = 0
        # A tuple, replaced whole: secret_values() may read it on another thread meanwhile.
        self._retired: tuple[str, ...] = ()
        register_secrets(self)

    def secret_values(self) -> Iterable[str]:
        """Return the password, the access and refresh tokens and the recently replaced ones."""
        return [value for value in (self._password, self._access_token, self._refresh_token,
                                    *self._retired) if value]

    def __repr__(self) -> str:
        via = "" if self.provider is None else f", provider={self.provider!r}"
        return f"{type(self).__name__}(email={self.email!r}, password='***'{via})"

    # What a subclass changes: its credentials, how the token is carried, and the login,
    # refresh and logout calls (Session: a cookie; ShareLogin: POST /shares/auth).

    @staticmethod
    def _check(email: Any, password: Any, otp: Any) -> None:
        """Raise UsageError for credentials that cannot be sent."""
        _check_credentials(email, password, otp)

    def _carry(self, request: Any, token: str) -> Any:
        """Put the token on a request about to be sent."""
        return _bearer(request, token)

    def _token_sent(self, failed: Reply) -> str | None:
        """Return the token a refused request carried (None: none)."""
        return _sent_token(failed)

    def _login_endpoint(self) -> str:
        return "login" if self.provider is None else f"login/{self.provider}"

    def _login_route(self) -> str:
        """Return the login's route, for errors about its answer."""
        return f"POST /auth/{self._login_endpoint()}"

    #: the key the login body names the user by (LDAP's driver wants "identifier")
    _IDENTITY = "email"

    def _credentials(self) -> dict[str, Any]:
        """Return the login body's credentials."""
        body: dict[str, Any] = {self._IDENTITY: self.email, "password": self._password}
        if self._otp is not None:
            body["otp"] = self._otp
        return body

    def _login_call(self) -> Plan[Any]:
        """Plan: the login call; its data (tokens and expires)."""
        return (yield from self._post(self._login_endpoint(), self._credentials()))

    def _refresh_call(self, refresh: str) -> Plan[Any]:
        """Plan: the refresh call; its data."""
        return (yield from self._post("refresh", {"refresh_token": refresh}))

    def _logout_call(self, refresh: str) -> Plan[Any]:
        """Plan: the logout call."""
        return (yield from self._post("logout", {"refresh_token": refresh}))

    def _tokens(self, data: Any) -> tuple[Any, Any, Any]:
        """Return (access token, refresh token, expires in ms) from a login or refresh."""
        if not isinstance(data, dict):
            return None, None, None
        return data.get("access_token"), data.get("refresh_token"), data.get("expires")

    def bind(self, channel: AuthChannel) -> None:
        """Receive the channel that login, refresh and logout go through."""
        self._channel = channel

    @property
    def access_token(self) -> str | None:
        """Return the current access token (None before the first login and after close);
        a secret: it is scrubbed from the client's texts, keep it out of yours."""
        return self._access_token

    @property
    def _log(self) -> logging.Logger:
        return self._channel.log if self._channel is not None else log

    def set_credentials(self, email: str | None = None, password: str | None = None,
                        otp: str | None = None) -> None:
        """Replace the credentials (and OTP); forget a remembered refusal and the tokens."""
        email = self.email if email is None else email
        password = self._password if password is None else password
        self._check(email, password, otp)
        with self._slot.sync_lock:
            if password != self._password:
                self._retire(self._password)
            self.email, self._password, self._otp = email, password, otp
            self._refused = None
            self._access_token = self._refresh_token = None
            self._refresh_at = self._fresh_until = 0.0

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        # The transport runs prepare_plan() before each attempt, so the token is fresh here
        # and nothing is sent; called on its own (sync face), it logs in or refreshes first.
        token = self._access_token
        stale = token is None or time.monotonic() >= self._refresh_at
        if stale and (self._channel is None or self._channel.blocking):
            self._run(self.prepare_plan())
            token = self._access_token
        return self._carry(r, token) if token is not None else r

    def prepare_plan(self) -> Plan[None]:
        """Log in or refresh first when there is no token or it is near expiry."""
        token = self._access_token
        if token is None or time.monotonic() >= self._refresh_at:
            yield from self._renew(stale=token)

    def recover_plan(self, failed: Reply) -> Plan[bool]:
        """Refresh after a 401 TOKEN_EXPIRED unless another thread or task already did."""
        yield from self._renew(stale=self._token_sent(failed), force=True)
        return True

    def replaced(self, failed: Reply) -> bool:
        """Return whether the refused request's token is no longer the current one."""
        sent, current = self._token_sent(failed), self._access_token
        return sent is not None and current is not None and sent != current

    def ensure_fresh_plan(self) -> Plan[None]:
        """Renew the token now unless more than half its lifetime is left."""
        token = self._access_token
        if token is None or time.monotonic() >= self._fresh_until:
            yield from self._renew(stale=token, force=True)

    def recover(self, failed: Any) -> bool:
        """Refresh after a 401 TOKEN_EXPIRED (sync face; see recover_plan)."""
        return bool(self._run(self.recover_plan(failed)))

    def ensure_fresh(self) -> None:
        """Renew the token now unless more than half its lifetime is left (sync face)."""
        self._run(self.ensure_fresh_plan())

    def _run(self, plan: Plan[Any]) -> Any:
        if self._channel is None:
            name = type(self).__name__
            raise UsageError(f"{name} auth is not bound to a client: pass it as "
                             f"DirectusClient(url, auth={name}(...))")
        return self._channel.run(plan)

    def _renew(self, stale: str | None, force: bool = False) -> Plan[str]:
        # One renewal at a time per strategy: the face's lock (a thread's or a task's).
        token: str = yield Exclusive(self._slot, self._renew_locked(stale, force))
        return token

    def _renew_locked(self, stale: str | None, force: bool) -> Plan[str]:
        current = self._access_token
        # Another thread or task renewed while we waited on the lock: use its token.
        if current is not None and current != stale:
            return current
        if current is not None and not force and time.monotonic() < self._refresh_at:
            return current
        if self._refresh_token is not None:
            try:
                data = yield from self._refresh_call(self._refresh_token)
            except (AuthenticationError, InvalidRequest) as exc:
                self._log.debug("refresh failed (%s); logging in again", exc.code or exc.status)
                self._retire(self._refresh_token)
                self._refresh_token = None
                if exc.code == "USER_SUSPENDED":  # a login would be refused too
                    self._refused = (exc.status, exc.code, exc.message)
            else:
                self.refreshes += 1
                return self._store("POST /auth/refresh", data)
        return (yield from self._login())

    def _login(self) -> Plan[str]:
        if self._refused is not None:
            status, code, message = self._refused
            raise AuthenticationError(
                status, code, f"{message} (the server refused {self.email!r} earlier; no "
                f"login was sent, so as not to get the account suspended; call "
                f"set_credentials() with new credentials)", {"code": code, "remembered": True})
        self._retire(self._access_token)
        self._access_token = None
        server = self._channel.base_url if self._channel is not None else ""
        key = login_key(server, self.email, self._password, self._otp)
        try:
            data = yield from gated_login(key, self.refusal_cooldown,
                                          self._login_call)
        except AuthenticationError as exc:
            # A refusal this client met itself is remembered until set_credentials(); one
            # remembered across the process (not sent) only for its cool-down.
            if exc.code in REMEMBERED_REFUSALS and not exc.extensions.get("remembered"):
                self._refused = (exc.status, exc.code or "", exc.message)
            raise
        self.logins += 1
        return self._store(self._login_route(), data)

    def _store(self, route: str, data: Any) -> str:
        access, refresh, expires = self._tokens(data)
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh
                and isinstance(expires, int | float) and not isinstance(expires, bool)
                and math.isfinite(expires) and expires > 0):
            keys = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise ServerError(200, None, f"{route}: expected {self._expected} and expires "
                              f"(ms) in the answer, got {keys}")
        lifetime = float(expires) / 1000.0
        margin = self._margin(lifetime)
        now = time.monotonic()
        self._retire(self._access_token)
        self._retire(self._refresh_token)
        self._access_token, self._refresh_token = access, refresh
        self._refresh_at = now + lifetime - margin
        self._fresh_until = now + lifetime / 2
        self._log.debug("access token renewed for %s; valid %.1f s", self.email, lifetime)
        return access

    def _margin(self, lifetime: float) -> float:
        """Return how long before the token's expiry to renew it (seconds)."""
        return min(REFRESH_MARGIN_SECONDS, lifetime / 5)

    def _retire(self, token: str | None) -> None:
        if token is not None and token not in self._retired:
            self._retired = (*self._retired, token)[-RETIRED_TOKENS_KEPT:]

    #: what _tokens() needs in a login's or refresh's answer (for the error saying it lacks it)
    _expected = "access_token, refresh_token"

    def _post(self, endpoint: str | tuple[str, ...], body: dict[str, Any], *,
              cookie: tuple[str, str | None] | None = None) -> Plan[Any]:
        if self._channel is None:
            name = type(self).__name__
            raise UsageError(f"{name} auth is not bound to a client: pass it as "
                             f"DirectusClient(url, auth={name}(...))")
        # Without the stale bearer token: Directus rejects auth calls that carry one.
        return (yield from self._channel.auth_call(endpoint, body, cookie=cookie))

    def close(self) -> None:
        """Log out (invalidating the refresh token) and forget the tokens (sync face)."""
        if self._channel is not None:
            self._channel.run(self.close_plan())
        else:
            self._access_token = self._refresh_token = None

    def close_plan(self) -> Plan[None]:
        """Log out (invalidating the refresh token) and forget the tokens."""
        yield Exclusive(self._slot, self._logout())

    def _logout(self) -> Plan[None]:
        refresh, self._refresh_token, self._access_token = self._refresh_token, None, None
        # Still scrubbed: the logout call carries it, and its answer may echo it.
        self._retire(refresh)
        if refresh is None or self._channel is None:
            return
        # Best effort: close() runs in __exit__ and must not mask the error in flight;
        # an unreachable server raises TransportError, which is not an OSError.
        try:
            yield from self._logout_call(refresh)
        except DirectusError as exc:
            self._log.debug("logout failed: %s", type(exc).__name__)


def _check_cookie_name(name: Any) -> str:
    if not isinstance(name, str) or not _COOKIE_NAME.fullmatch(name):
        raise UsageError(f"Session: cookie_name must be a cookie name (the server's "
                         f"SESSION_COOKIE_NAME), got {name!r}")
    return name


def _cookie_value(header: Any, name: str) -> str | None:
    """Return the value of cookie `name` in a Cookie header (None: not there)."""
    for pair in str(header or "").split(";"):
        key, _, value = pair.strip().partition("=")
        if key == name and value:
            return value
    return None


def _with_cookie(header: Any, name: str, value: str) -> str:
    """Return a Cookie header with `name` set to `value`, keeping the other cookies (a
    session's own cookie jar may have put some there)."""
    others = [pair.strip() for pair in str(header or "").split(";")
              if pair.strip() and pair.strip().partition("=")[0] != name]
    return "; ".join([*others, f"{name}={value}"])


class LDAP(Password):
    """Log in through an LDAP auth provider (``/auth/login/{provider}``, "ldap" unless
    named otherwise) with the user's LDAP identifier (the attribute the provider's
    AUTH_<NAME>_USER_ATTRIBUTE names, ``cn`` by default) and password; otherwise a
    ``Password`` (refresh, logout, remembered refusals). The identifier is kept as
    ``email``, the attribute every strategy names its user by.
    """

    _IDENTITY = "identifier"

    def __init__(self, identifier: str, password: str, otp: str | None = None, *,
                 provider: str = "ldap",
                 refusal_cooldown: float = DEFAULT_COOLDOWN) -> None:
        if not isinstance(identifier, str) or not identifier.strip():
            raise UsageError("LDAP: identifier must be a non-empty string")
        super().__init__(identifier, password, otp, provider=provider,
                         refusal_cooldown=refusal_cooldown)

    def __repr__(self) -> str:
        return f"LDAP(identifier={self.email!r}, password='***', provider={self.provider!r})"


class Session(Password):
    """Log in in session mode: the token travels as the session cookie, not as a bearer.

    ``POST /auth/login`` (or ``/auth/login/{provider}``) with ``mode: "session"`` answers
    with the ``directus_session_token`` cookie (``cookie_name``: the server's
    SESSION_COOKIE_NAME); every request carries it in its Cookie header, set here on each
    request (so both faces, and the sync face's lean path, which keeps no cookie jar,
    behave alike). It is renewed before it expires with ``POST /auth/refresh {"mode":
    "session"}`` (which needs the cookie still valid: one that expired meanwhile means a
    new login); ``close()`` logs the session out. Its lifetime is the server's
    SESSION_COOKIE_TTL. Everything else (remembered refusals, one renewal at a time,
    counters) is as for ``Password``.
    """

    _expected = "the session cookie"

    def __init__(self, email: str, password: str, otp: str | None = None, *,
                 provider: str | None = None, cookie_name: str = SESSION_COOKIE,
                 refusal_cooldown: float = DEFAULT_COOLDOWN) -> None:
        super().__init__(email, password, otp, provider=provider,
                         refusal_cooldown=refusal_cooldown)
        self.cookie_name = _check_cookie_name(cookie_name)

    def _carry(self, request: Any, token: str) -> Any:
        request.headers["Cookie"] = _with_cookie(request.headers.get("Cookie"),
                                                 self.cookie_name, token)
        return request

    def _token_sent(self, failed: Reply) -> str | None:
        headers = getattr(getattr(failed, "request", None), "headers", None) or {}
        return _cookie_value(headers.get("Cookie"), self.cookie_name)

    def _login_call(self) -> Plan[Any]:
        return (yield from self._post(self._login_endpoint(), self._credentials(),
                                      cookie=(self.cookie_name, None)))

    def _refresh_call(self, refresh: str) -> Plan[Any]:
        return (yield from self._post("refresh", {}, cookie=(self.cookie_name, refresh)))

    def _logout_call(self, refresh: str) -> Plan[Any]:
        return (yield from self._post("logout", {}, cookie=(self.cookie_name, refresh)))

    def _margin(self, lifetime: float) -> float:
        # Refreshing presents the cookie, which must not have expired yet (a late refresh
        # costs a new login): keep a second more, as the token's expiry is counted in
        # whole seconds from a truncated issue time.
        return min(super()._margin(lifetime) + 1.0, lifetime / 2)

    def _tokens(self, data: Any) -> tuple[Any, Any, Any]:
        # The session cookie is both: it authenticates, and refreshing presents it again.
        if not isinstance(data, dict):
            return None, None, None
        token = data.get(self.cookie_name)
        return token, token, data.get("expires")


class ShareLogin(Password):
    """Act as a share: log in with ``POST /shares/auth`` (the share's id and its password,
    if it has one) and send its share-scoped access token, which reads only the shared
    item; refreshed with ``/auth/refresh`` like a ``Password`` session, logged in
    again when that fails (until the share expires or is used up), logged out by
    ``close()``. ``client.shares.authenticate(share, password)`` logs in at once and
    returns one holding the tokens: pass it as ``DirectusClient(url, auth=...)``.
    """

    def __init__(self, share: str, password: str | None = None, *,
                 refusal_cooldown: float = DEFAULT_COOLDOWN) -> None:
        if password == "":
            raise UsageError("ShareLogin: password must be a non-empty string or None (a "
                             "share without a password)")
        self._check(share, "" if password is None else password, None)
        self._begin(share, password or "", None, None, refusal_cooldown)

    @staticmethod
    def _check(email: Any, password: Any, otp: Any) -> None:
        # email: the share's id; password: "" for a share without one.
        if not isinstance(email, str) or not email.strip():
            raise UsageError(f"ShareLogin: share must be a share's id, got {email!r}")
        if not isinstance(password, str):
            raise UsageError("ShareLogin: password must be a non-empty string or None (a "
                             "share without a password)")
        if not password.isascii() and not _utf8(password):
            raise UsageError("ShareLogin: password holds a lone surrogate, which UTF-8 "
                             "cannot carry")
        if otp is not None:
            raise UsageError("ShareLogin: a share has no one-time password (otp)")

    @property
    def share(self) -> str:
        """Return the share's id."""
        return self.email

    def set_credentials(self, email: str | None = None, password: str | None = None,
                        otp: str | None = None) -> None:
        """Replace the share (``email``: its id) or its password; forget a remembered
        refusal and the tokens."""
        if password == "":
            raise UsageError("ShareLogin: password must be a non-empty string or None (a "
                             "share without a password)")
        super().set_credentials(email, password, otp)

    def __repr__(self) -> str:
        secret = ", password='***'" if self._password else ""
        return f"ShareLogin(share={self.share!r}{secret})"

    def _login_route(self) -> str:
        return "POST /shares/auth"

    def _login_call(self) -> Plan[Any]:
        body: dict[str, Any] = {"share": self.share}
        if self._password:
            body["password"] = self._password
        return (yield from self._post(("shares", "auth"), body))

    def adopt(self, answer: Mapping[str, Any]) -> None:
        """Take the tokens of a ``POST /shares/auth`` answer made elsewhere (what
        ``client.shares.authenticate`` does), as if this strategy had logged in."""
        with self._slot.sync_lock:
            self._store(self._login_route(), dict(answer))
            self.logins += 1
