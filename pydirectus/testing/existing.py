"""A Directus that is already running (a staging server, say), described by the environment.

``PYDIRECTUS_TEST_URL`` and ``PYDIRECTUS_TEST_TOKEN`` (an admin's static token) point the
pytest plugin at it instead of starting a local server; ``PYDIRECTUS_TEST_PASSWORD`` (and
``PYDIRECTUS_TEST_EMAIL``, by default the token's user's) let the tests that log in with a
password run too. The tests create and drop their own collections, users and policies:
use a staging instance, never production.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["ExistingDirectus"]

URL_VAR, TOKEN_VAR = "PYDIRECTUS_TEST_URL", "PYDIRECTUS_TEST_TOKEN"
EMAIL_VAR, PASSWORD_VAR = "PYDIRECTUS_TEST_EMAIL", "PYDIRECTUS_TEST_PASSWORD"
# /server/health names its database checks after the knex client ("pg:responseTime").
_VENDORS = {"pg": "postgresql", "sqlite3": "sqlite", "mysql": "mysql", "mysql2": "mysql",
            "oracledb": "oracle", "mssql": "mssql", "cockroachdb": "cockroachdb"}


@attrs.frozen
class ExistingDirectus:
    """A running Directus with the attributes of a DirectusServer that tests read."""

    url: str
    admin_token: str = attrs.field(repr=False)
    admin_email: str
    database: str
    _password: str | None = attrs.field(default=None, repr=False)

    @property
    def admin_password(self) -> str:
        """Return the admin's password, or explain which variable to set."""
        if not self._password:
            raise RuntimeError(f"this test logs in with a password: set {PASSWORD_VAR} "
                               f"(and {EMAIL_VAR} unless it is {self.admin_email})")
        return self._password

    @property
    def running(self) -> bool:
        """Return True: we neither start nor stop it."""
        return True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ExistingDirectus | None:
        """Return the server named by PYDIRECTUS_TEST_URL/_TOKEN, or None when neither is set."""
        env = os.environ if environ is None else environ
        url, token = env.get(URL_VAR, "").rstrip("/"), env.get(TOKEN_VAR, "")
        if not url and not token:
            return None
        if not (url and token):
            missing = TOKEN_VAR if url else URL_VAR
            raise ValueError(f"{missing} is not set: an existing Directus needs both "
                             f"{URL_VAR} and {TOKEN_VAR} (an admin's static token)")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"{URL_VAR} must start with http:// or https://, not {url!r}")
        me = _get(url, token, "/users/me?fields=email")
        health = _get(url, token, "/server/health")
        return cls(url=url, admin_token=token,
                   admin_email=env.get(EMAIL_VAR) or str(me.get("email") or ""),
                   database=_database_of(health), password=env.get(PASSWORD_VAR) or None)


def _get(url: str, token: str, path: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{url}{path}",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body: dict[str, Any] = json.load(response)
    except urllib.error.HTTPError as exc:
        # /server/health answers 503 with the same body when a check fails.
        if exc.code == 503 and path == "/server/health":
            return dict(json.load(exc))
        raise RuntimeError(f"{url}{path.split('?')[0]} answered {exc.code}: check {URL_VAR} "
                           f"and that {TOKEN_VAR} is an admin's static token") from None
    except (urllib.error.URLError, OSError) as exc:
        raise RuntimeError(f"cannot reach {url} ({URL_VAR}): {exc}") from None
    data = body.get("data", body)
    return data if isinstance(data, dict) else {}


def _database_of(health: Mapping[str, Any]) -> str:
    for check in health.get("checks", {}):
        vendor, _, what = str(check).partition(":")
        if what == "responseTime" and vendor in _VENDORS:
            return _VENDORS[vendor]
    return "unknown"
