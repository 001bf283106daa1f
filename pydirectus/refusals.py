"""Refused logins, remembered across the process, so a wrong password cannot lock an account out.

Directus suspends a user after ``AUTH_LOGIN_ATTEMPTS`` failed logins. Each client's
``Password`` remembers its own refusal, but 30 fresh clients (a
worker pool, a cron job started every minute, 30 tasks) would still send 30 logins. So
logins go through ``gated_login()``: per (server URL, email, salted digest of the
password and OTP), one login is in flight at a time in this process, and a refusal
(INVALID_CREDENTIALS, USER_SUSPENDED, INVALID_OTP) is remembered for a cool-down, during
which the same credentials raise the same AuthenticationError without sending anything.
Another password, or the end of the cool-down, tries again; a successful login for the
email at that server forgets its refusals (Directus resets its count then too).

The password is never kept: only a keyed BLAKE2b digest, its key drawn at random per
process. Waiting for a login in flight is a plan's ``Wait``,
so the sync face (threads) and the async face (tasks, on any event loop) share one
memory, guarded by a threading lock held only for a dictionary update.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from typing import Final, TypeVar

import attrs

from .core.plans import Plan, Wait
from .errors import AuthenticationError

__all__ = [
    "DEFAULT_COOLDOWN",
    "REMEMBERED_REFUSALS",
    "LoginKey",
    "forget_refusals",
    "gated_login",
    "login_key",
]

T = TypeVar("T")

#: seconds a refused login is remembered across the process (Password(refusal_cooldown=))
DEFAULT_COOLDOWN: Final = 60.0
#: login refusals that the same credentials will meet again: remembered, not retried
REMEMBERED_REFUSALS: Final = frozenset({"INVALID_CREDENTIALS", "USER_SUSPENDED", "INVALID_OTP"})
#: how often a login waiting for another one to the same account looks again
POLL_SECONDS: Final = 0.02
#: a login in flight this long is taken for lost (its task was dropped mid-way): go ahead
STALE_SECONDS: Final = 300.0

# Drawn per process: a digest says nothing about the password outside this process.
_DIGEST_KEY: Final = os.urandom(32)


@attrs.frozen
class LoginKey:
    """Whose login: the server, the email (case-folded, as Directus matches it) and a keyed
    digest of the password and OTP."""

    server: str
    email: str
    digest: bytes = attrs.field(repr=False)


@attrs.frozen
class _Refusal:
    status: int
    code: str
    message: str
    at: float


def login_key(server: str, email: str, password: str, otp: str | None) -> LoginKey:
    """Return the key a login is remembered under (the password only as a keyed digest)."""
    secret = f"{password}\0{otp or ''}".encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(secret, key=_DIGEST_KEY, digest_size=32).digest()
    return LoginKey(server.rstrip("/"), email.strip().casefold(), digest)


_lock = threading.Lock()
_refused: dict[LoginKey, _Refusal] = {}
# key -> (a token naming the login in flight, when it began)
_in_flight: dict[LoginKey, tuple[object, float]] = {}


def forget_refusals(server: str | None = None, email: str | None = None) -> None:
    """Forget remembered login refusals (all, or those of a server and/or email), e.g.
    after an administrator reactivated a suspended user."""
    wanted_server = None if server is None else server.rstrip("/")
    wanted_email = None if email is None else email.strip().casefold()
    with _lock:
        for key in list(_refused):
            if wanted_server in (None, key.server) and wanted_email in (None, key.email):
                del _refused[key]


def gated_login(key: LoginKey, cooldown: float, login: Callable[[], Plan[T]]) -> Plan[T]:
    """Run ``login()`` unless the same credentials were refused within ``cooldown``
    seconds (then raise that refusal, sending nothing); one at a time per key."""
    mine = object()
    while True:
        with _lock:
            now = time.monotonic()
            refusal = _refused.get(key)
            if refusal is not None and now - refusal.at < cooldown:
                raise _remembered(key, refusal, cooldown - (now - refusal.at))
            busy = _in_flight.get(key)
            if busy is None or now - busy[1] > STALE_SECONDS:
                _in_flight[key] = (mine, now)
                break
        # Another client of this process is logging in as the same user: its outcome
        # decides ours (a refusal is raised above without sending).
        yield Wait(POLL_SECONDS)
    try:
        result = yield from login()
    except AuthenticationError as exc:
        if exc.code in REMEMBERED_REFUSALS:
            with _lock:
                _refused[key] = _Refusal(exc.status, exc.code or "", exc.message,
                                         time.monotonic())
        raise
    else:
        with _lock:
            for other in [k for k in _refused
                          if (k.server, k.email) == (key.server, key.email)]:
                del _refused[other]
        return result
    finally:
        with _lock:
            if _in_flight.get(key, (None,))[0] is mine:
                del _in_flight[key]


def _remembered(key: LoginKey, refusal: _Refusal, left: float) -> AuthenticationError:
    return AuthenticationError(
        refusal.status, refusal.code,
        f"{refusal.message} (the server refused this password for {key.email!r} "
        f"{time.monotonic() - refusal.at:.0f} s ago; no login was sent, so as not to get "
        f"the account suspended; the same password is tried again in {left:.0f} s, "
        f"another one at once)",
        {"code": refusal.code, "remembered": True})
