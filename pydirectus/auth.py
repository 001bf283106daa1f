"""Auth strategies: requests AuthBase subclasses that the transport applies per request.

Write your own by subclassing :class:`DirectusAuth`: set the header in ``__call__``;
optionally override ``recover`` (called once on a 401 TOKEN_EXPIRED; return True to
re-send), ``ensure_fresh`` (called before a body that cannot be sent twice) and
``close`` (called by ``client.close()``).

Strategies reach the server only through an :class:`AuthChannel` (``post_auth``), which
the transport provides: this module imports nothing from the transport.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping
from typing import Any, Final, Protocol

import requests
import requests.auth

from .errors import (
    AuthenticationError,
    DirectusError,
    InvalidRequest,
    ServerError,
    UsageError,
)

__all__ = ["AuthChannel", "DirectusAuth", "Password", "StaticToken"]

log = logging.getLogger("pydirectus")

# Refresh this long before expiry (capped at a fifth of the token's life for short TTLs).
REFRESH_MARGIN_SECONDS = 30.0
#: login refusals that the same credentials will meet again: remembered, not retried
REMEMBERED_REFUSALS: Final = frozenset({"INVALID_CREDENTIALS", "USER_SUSPENDED", "INVALID_OTP"})


class AuthChannel(Protocol):
    """What an auth strategy may ask of the transport: one unauthenticated auth call."""

    # The client's logger (its logger= argument, else the pydirectus logger).
    log: logging.Logger

    def post_auth(self, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """POST /auth/{endpoint} (no bearer token, no redirects); return the data or None."""
        ...


class DirectusAuth(requests.auth.AuthBase):
    """Base class of auth strategies; the transport binds itself before first use."""

    def bind(self, channel: AuthChannel) -> None:
        """Receive the channel that login, refresh and logout calls go through."""

    def recover(self, failed: requests.PreparedRequest) -> bool:
        """Make a fresh token after a 401 TOKEN_EXPIRED; return True to re-send once."""
        return False

    def ensure_fresh(self) -> None:
        """Renew the token now if it may expire soon (before a body that cannot be re-sent)."""

    def close(self) -> None:
        """End any server-side session (Password logs out)."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


def _bearer(request: requests.PreparedRequest, token: str) -> requests.PreparedRequest:
    request.headers["Authorization"] = f"Bearer {token}"
    return request


class StaticToken(DirectusAuth):
    """Send a fixed (static or externally managed) access token."""

    def __init__(self, token: str) -> None:
        if not isinstance(token, str) or not token.strip():
            raise UsageError("StaticToken: token must be a non-empty string")
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return _bearer(r, self._token)

    def __repr__(self) -> str:
        return "StaticToken(token='***')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StaticToken) and other._token == self._token

    def __hash__(self) -> int:
        return hash((StaticToken, self._token))


def _check_credentials(email: Any, password: Any, otp: Any) -> None:
    if not isinstance(email, str) or not email.strip():
        raise UsageError("Password: email must be a non-empty string")
    if not isinstance(password, str) or not password:
        raise UsageError("Password: password must be a non-empty string")
    if otp is not None and (not isinstance(otp, str) or not otp):
        raise UsageError("Password: otp must be a non-empty string or None")


class Password(DirectusAuth):
    """Log in with email and password; refresh before expiry; log in again if refresh fails.

    A login refused for INVALID_CREDENTIALS, USER_SUSPENDED or INVALID_OTP is remembered:
    later calls raise AuthenticationError at once and send no login (repeated attempts
    with a wrong password get the account suspended) until :meth:`set_credentials`.

    Thread-safe: many threads sharing one client cause one refresh per expiry.
    ``logins`` and ``refreshes`` count what happened, for monitoring and tests.
    """

    def __init__(self, email: str, password: str, otp: str | None = None) -> None:
        _check_credentials(email, password, otp)
        self.email = email
        self._password = password
        self._otp = otp
        self._channel: AuthChannel | None = None
        self._lock = threading.Lock()
        self._access_token: str | None = None
        self._refresh_token: str | None = None
        self._refresh_at = 0.0
        self._fresh_until = 0.0
        # (status, code, message) of a login refusal the same credentials would meet again.
        self._refused: tuple[int, str, str] | None = None
        self.logins = 0
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"Password(email={self.email!r}, password='***')"

    def bind(self, channel: AuthChannel) -> None:
        """Receive the channel that login, refresh and logout go through."""
        self._channel = channel

    @property
    def _log(self) -> logging.Logger:
        return self._channel.log if self._channel is not None else log

    def set_credentials(self, email: str | None = None, password: str | None = None,
                        otp: str | None = None) -> None:
        """Replace the credentials (and OTP); forget a remembered refusal and the tokens."""
        email = self.email if email is None else email
        password = self._password if password is None else password
        _check_credentials(email, password, otp)
        with self._lock:
            self.email, self._password, self._otp = email, password, otp
            self._refused = None
            self._access_token = self._refresh_token = None
            self._refresh_at = self._fresh_until = 0.0

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self._access_token
        if token is None or time.monotonic() >= self._refresh_at:
            token = self._renew(stale=token)
        return _bearer(r, token)

    def recover(self, failed: requests.PreparedRequest) -> bool:
        """Refresh after a 401 TOKEN_EXPIRED unless another thread already did."""
        sent = (failed.headers.get("Authorization") or "").removeprefix("Bearer ")
        self._renew(stale=sent or None, force=True)
        return True

    def ensure_fresh(self) -> None:
        """Renew the token now unless more than half its lifetime is left."""
        token = self._access_token
        if token is None or time.monotonic() >= self._fresh_until:
            self._renew(stale=token, force=True)

    def _renew(self, stale: str | None, force: bool = False) -> str:
        with self._lock:
            current = self._access_token
            # Another thread renewed while we waited on the lock: use its token.
            if current is not None and current != stale:
                return current
            if current is not None and not force and time.monotonic() < self._refresh_at:
                return current
            if self._refresh_token is not None:
                try:
                    data = self._post("refresh", {"refresh_token": self._refresh_token})
                except (AuthenticationError, InvalidRequest) as exc:
                    self._log.debug("refresh failed (%s); logging in again", exc.code or exc.status)
                    self._refresh_token = None
                    if exc.code == "USER_SUSPENDED":  # a login would be refused too
                        self._refused = (exc.status, exc.code, exc.message)
                else:
                    self.refreshes += 1
                    return self._store("refresh", data)
            return self._login()

    def _login(self) -> str:
        if self._refused is not None:
            status, code, message = self._refused
            raise AuthenticationError(
                status, code, f"{message} (the server refused {self.email!r} earlier; no "
                f"login was sent, so as not to get the account suspended; call "
                f"set_credentials() with new credentials)", {"code": code, "remembered": True})
        body: dict[str, Any] = {"email": self.email, "password": self._password}
        if self._otp is not None:
            body["otp"] = self._otp
        self._access_token = None
        try:
            data = self._post("login", body)
        except AuthenticationError as exc:
            if exc.code in REMEMBERED_REFUSALS:
                self._refused = (exc.status, exc.code or "", exc.message)
            raise
        self.logins += 1
        return self._store("login", data)

    def _store(self, endpoint: str, data: Any) -> str:
        access = data.get("access_token") if isinstance(data, dict) else None
        refresh = data.get("refresh_token") if isinstance(data, dict) else None
        expires = data.get("expires") if isinstance(data, dict) else None
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh
                and isinstance(expires, int | float) and not isinstance(expires, bool)
                and math.isfinite(expires) and expires > 0):
            keys = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise ServerError(200, None, f"POST /auth/{endpoint}: expected access_token, "
                              f"refresh_token and expires (ms) in the answer, got {keys}")
        lifetime = float(expires) / 1000.0
        margin = min(REFRESH_MARGIN_SECONDS, lifetime / 5)
        now = time.monotonic()
        self._access_token, self._refresh_token = access, refresh
        self._refresh_at = now + lifetime - margin
        self._fresh_until = now + lifetime / 2
        self._log.debug("access token renewed for %s; valid %.1f s", self.email, lifetime)
        return access

    def _post(self, endpoint: str, body: dict[str, Any]) -> Any:
        if self._channel is None:
            raise UsageError("Password auth is not bound to a client: pass it as "
                             "DirectusClient(url, auth=Password(...))")
        # Without the stale bearer token: Directus rejects auth calls that carry one.
        return self._channel.post_auth(endpoint, body)

    def close(self) -> None:
        """Log out (invalidating the refresh token) and forget the tokens."""
        with self._lock:
            refresh, self._refresh_token, self._access_token = self._refresh_token, None, None
            if refresh is None or self._channel is None:
                return
            # Best effort: close() runs in __exit__ and must not mask the error in flight;
            # an unreachable server raises TransportError, which is not an OSError.
            try:
                self._post("logout", {"refresh_token": refresh})
            except DirectusError as exc:
                self._log.debug("logout failed: %s", type(exc).__name__)
