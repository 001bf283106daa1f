"""Auth strategies: requests AuthBase subclasses that the transport applies per request.

Write your own by subclassing :class:`DirectusAuth`: set the header in ``__call__``;
optionally override ``recover`` (called once on a 401 TOKEN_EXPIRED; return True to
re-send) and ``close`` (called by ``client.close()``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import requests
import requests.auth

from .errors import APIError, AuthenticationError, DirectusError, InvalidQuery, InvalidRequest

if TYPE_CHECKING:
    from .transport import Transport

__all__ = ["DirectusAuth", "Password", "StaticToken"]

log = logging.getLogger("pydirectus")

# Refresh this long before expiry (capped at a fifth of the token's life for short TTLs).
REFRESH_MARGIN_SECONDS = 30.0


class DirectusAuth(requests.auth.AuthBase):
    """Base class of auth strategies; the transport binds itself before first use."""

    def bind(self, transport: Transport) -> None:
        """Receive the transport that login and refresh calls go through."""

    def recover(self, failed: requests.PreparedRequest) -> bool:
        """Make a fresh token after a 401 TOKEN_EXPIRED; return True to re-send once."""
        return False

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
            raise InvalidQuery("StaticToken: token must be a non-empty string")
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return _bearer(r, self._token)

    def __repr__(self) -> str:
        return "StaticToken(token='***')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StaticToken) and other._token == self._token

    def __hash__(self) -> int:
        return hash((StaticToken, self._token))


class Password(DirectusAuth):
    """Log in with email and password; refresh before expiry; log in again if refresh fails.

    Thread-safe: many threads sharing one client cause one refresh per expiry.
    ``logins`` and ``refreshes`` count what happened, for monitoring and tests.
    """

    def __init__(self, email: str, password: str, otp: str | None = None) -> None:
        if not isinstance(email, str) or not email.strip():
            raise InvalidQuery("Password: email must be a non-empty string")
        if not isinstance(password, str) or not password:
            raise InvalidQuery("Password: password must be a non-empty string")
        if otp is not None and (not isinstance(otp, str) or not otp):
            raise InvalidQuery("Password: otp must be a non-empty string or None")
        self.email = email
        self._password = password
        self._otp = otp
        self._transport: Transport | None = None
        self._lock = threading.Lock()
        self._access_token: str | None = None
        self._refresh_token: str | None = None
        self._refresh_at = 0.0
        self.logins = 0
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"Password(email={self.email!r}, password='***')"

    def bind(self, transport: Transport) -> None:
        """Receive the transport that login, refresh and logout go through."""
        self._transport = transport

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
                    log.debug("refresh failed (%s); logging in again", exc.code or exc.status)
                else:
                    self.refreshes += 1
                    return self._store(data)
            return self._login()

    def _login(self) -> str:
        body: dict[str, Any] = {"email": self.email, "password": self._password}
        if self._otp is not None:
            body["otp"] = self._otp
        data = self._post("login", body)
        self.logins += 1
        return self._store(data)

    def _store(self, data: Any) -> str:
        try:
            access, refresh = data["access_token"], data["refresh_token"]
            expires_ms = data["expires"]
        except (TypeError, KeyError):
            raise APIError(200, None, "login/refresh answer lacks tokens") from None
        lifetime = float(expires_ms) / 1000.0
        margin = min(REFRESH_MARGIN_SECONDS, lifetime / 5)
        self._access_token, self._refresh_token = access, refresh
        self._refresh_at = time.monotonic() + lifetime - margin
        log.debug("access token renewed for %s; valid %.1f s", self.email, lifetime)
        return str(access)

    def _post(self, endpoint: str, body: dict[str, Any]) -> Any:
        if self._transport is None:
            raise RuntimeError("Password auth is not bound to a client")
        # Without the stale bearer token: Directus rejects auth calls that carry one.
        return self._transport.data("POST", "auth", endpoint, json={**body, "mode": "json"},
                                    authenticate=False)

    def close(self) -> None:
        """Log out (invalidating the refresh token) and forget the tokens."""
        with self._lock:
            refresh, self._refresh_token, self._access_token = self._refresh_token, None, None
            if refresh is None or self._transport is None:
                return
            # Best effort: close() runs in __exit__ and must not mask the error in flight;
            # an unreachable server raises TransportError, which is not an OSError.
            try:
                self._post("logout", {"refresh_token": refresh})
            except DirectusError as exc:
                log.debug("logout failed: %s", type(exc).__name__)
