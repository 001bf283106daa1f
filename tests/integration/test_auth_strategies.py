"""Login through a second auth provider, and session (cookie) mode, on a real Directus.

The module's server has a second provider of the local driver (AUTH_PROVIDERS=partners,
AUTH_PARTNERS_DRIVER=local) and short lifetimes: a 2 s access token (json mode) and a
6 s session cookie (session mode), so that every test sees a renewal happen.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from pydirectus import DirectusClient, Password, Session, StaticToken
from pydirectus.errors import AuthenticationError
from pydirectus.redact import redact_text
from pydirectus.testing import DirectusServer
from pydirectus.testing.collections import unique_name as unique
from pydirectus.testing.pytest_plugin import running

ACCESS_TTL = 2.0
# Session mode renews 2.2 s before the cookie's expiry (a fifth of its life and a second
# for the JWT's whole-second expiry): at 3.8 s of 6 s; the tests wait 4.2 s. MariaDB keeps
# a session's expiry in whole seconds, truncated: its record still lives 5 s or more.
SESSION_TTL = 6.0
PROVIDER = "partners"
COOKIE = "directus_session_token"


@pytest.fixture(scope="module")
def server(directus_database: str) -> Iterator[DirectusServer]:
    env = {"ACCESS_TOKEN_TTL": f"{ACCESS_TTL:.0f}s", "REFRESH_TOKEN_TTL": "30s",
           "SESSION_COOKIE_TTL": f"{SESSION_TTL:.0f}s", "AUTH_PROVIDERS": PROVIDER,
           f"AUTH_{PROVIDER.upper()}_DRIVER": "local"}
    with running(DirectusServer(env=env, database=directus_database)) as started:
        yield started


def run_sql(server: DirectusServer, sql: str) -> None:
    """Run one statement on the server's database (as an operator would)."""
    if server.database == "sqlite":
        assert server.workdir is not None
        with sqlite3.connect(server.workdir / "data.db") as connection:
            connection.execute(sql)
        return
    if server.postgres is not None:
        db = server.postgres
        assert db.bin_dir is not None
        result = subprocess.run(
            [str(db.bin_dir / "psql"), "-h", db.host, "-p", str(db.port), "-U", db.user,
             "-d", db.database, "-v", "ON_ERROR_STOP=1", "-c", sql],
            env={**os.environ, "PGPASSWORD": db.password}, capture_output=True, timeout=30,
            check=False)
    else:
        assert server.mariadb is not None
        result = server.mariadb._client(f"USE `{server.mariadb.database}`;\n{sql};\n")
    assert result.returncode == 0, result.stderr.decode(errors="replace")


@pytest.fixture(scope="module")
def partner(server: DirectusServer) -> Iterator[dict[str, str]]:
    """An admin-role user whose provider is the second one.

    Directus 12.4 refuses to set a user's provider through the API without an SSO
    license (even for the local driver), so the fixture sets it in the database; logging
    in through the provider needs no license.
    """
    with DirectusClient(server.url, auth=StaticToken(server.admin_token)) as admin:
        role = admin.users.me(fields=["role"])["role"]
        email = f"{unique('partner')}@example.com"
        user = admin.users.create({"email": email, "password": "partner-password-1",
                                   "role": role, "status": "active"})
        run_sql(server, f"UPDATE directus_users SET provider = '{PROVIDER}' "
                        f"WHERE id = '{user['id']}'")
        try:
            yield {"id": user["id"], "email": email, "password": "partner-password-1"}
        finally:
            admin.users.delete(user["id"])


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    padded = payload + "=" * (-len(payload) % 4)
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return decoded


def me_by_cookie(server: DirectusServer, token: str) -> requests.Response:
    return requests.get(f"{server.url}/users/me", cookies={COOKIE: token}, timeout=10)


def test_provider_login_refreshes_and_logs_out(
        server: DirectusServer, partner: dict[str, str],
        make_client: Callable[..., DirectusClient]) -> None:
    auth = Password(partner["email"], partner["password"], provider=PROVIDER)
    client = make_client(server.url, auth=auth)
    assert client.users.me()["id"] == partner["id"]
    assert (auth.logins, auth.refreshes) == (1, 0)
    time.sleep(ACCESS_TTL + 0.3)
    assert client.users.me(fields=["provider"])["provider"] == PROVIDER
    assert (auth.logins, auth.refreshes) == (1, 1)
    refresh = auth._refresh_token
    assert refresh is not None
    client.close()
    answer = requests.post(f"{server.url}/auth/refresh", timeout=10,
                           json={"refresh_token": refresh, "mode": "json"})
    assert answer.status_code in (400, 401)  # logged out: the refresh token is gone
    assert "partners" in repr(auth) and partner["password"] not in repr(auth)


def test_a_provider_login_is_only_for_its_users(
        server: DirectusServer, partner: dict[str, str],
        make_client: Callable[..., DirectusClient]) -> None:
    # The partner user through the default provider, and the admin through "partners".
    for auth in (Password(partner["email"], partner["password"], refusal_cooldown=0),
                 Password(server.admin_email, server.admin_password, provider=PROVIDER,
                          refusal_cooldown=0),
                 Password(partner["email"], "wrong-password-7", provider=PROVIDER,
                          refusal_cooldown=0)):
        with pytest.raises(AuthenticationError) as refused:
            make_client(server.url, auth=auth).users.me()
        assert refused.value.code == "INVALID_CREDENTIALS"
        assert "wrong-password-7" not in str(refused.value)
        assert partner["password"] not in str(refused.value)
    for wrong in ("", "a/b", "two words", 7):
        with pytest.raises(Exception, match="provider"):
            Password("a@b.c", "x", provider=wrong)  # type: ignore[arg-type]


@pytest.mark.parametrize("provider", [None, PROVIDER])
def test_session_mode_carries_a_cookie_refreshes_and_logs_out(
        server: DirectusServer, partner: dict[str, str], provider: str | None,
        make_client: Callable[..., DirectusClient], caplog: pytest.LogCaptureFixture) -> None:
    email, password = ((server.admin_email, server.admin_password) if provider is None
                       else (partner["email"], partner["password"]))
    auth = Session(email, password, provider=provider)
    client = make_client(server.url, auth=auth)
    caplog.set_level(logging.DEBUG, logger="pydirectus")
    me = client.users.me()
    first = auth.access_token
    assert first is not None and "session" in claims(first)  # a session cookie, not a bearer
    assert me["id"] == me_by_cookie(server, first).json()["data"]["id"]
    time.sleep(SESSION_TTL * 0.7)
    assert client.users.me()["id"] == me["id"]
    assert (auth.logins, auth.refreshes) == (1, 1)
    second = auth.access_token
    assert second is not None and second != first
    text = caplog.text + repr(auth) + repr(client)
    for secret in (first, second, password):
        assert secret not in text
    assert second not in redact_text(f"Cookie: {COOKIE}={second}")
    client.close()
    assert auth.access_token is None
    # Logged out: the session is gone, so its cookie (unexpired) no longer authenticates.
    assert me_by_cookie(server, second).status_code == 401


def test_session_wrong_password(server: DirectusServer,
                                make_client: Callable[..., DirectusClient]) -> None:
    auth = Session(server.admin_email, "wrong-password-8", refusal_cooldown=0)
    with pytest.raises(AuthenticationError) as refused:
        make_client(server.url, auth=auth).users.me()
    assert refused.value.code == "INVALID_CREDENTIALS"
    assert "wrong-password-8" not in str(refused.value) + repr(refused.value)


def test_session_mode_through_requests_cookie_jar(server: DirectusServer) -> None:
    """The full requests path (lean_path=False, and a session with cookies of its own)
    behaves as the lean one: the strategy's cookie wins, the session's others stay."""
    with requests.Session() as jar:
        jar.cookies.set("unrelated", "kept")
        auth = Session(server.admin_email, server.admin_password)
        with DirectusClient(server.url, auth=auth, session=jar, lean_path=False) as client:
            me = client.users.me()
            time.sleep(SESSION_TTL * 0.7)
            assert client.users.me()["id"] == me["id"]
            assert (auth.logins, auth.refreshes) == (1, 1)
        assert jar.cookies.get("unrelated") == "kept"
