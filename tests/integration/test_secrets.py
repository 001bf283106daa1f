"""Secrets in no text, system tables out of reach of the generic handles, logins that cannot
lock an account out: against a real Directus, through a proxy that echoes requests back."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from pydirectus import DirectusClient, Password, StaticToken, UsageError
from pydirectus.aio import AsyncDirectusClient
from pydirectus.errors import APIError, AuthenticationError, DirectusError, InvalidRequest
from pydirectus.testing import DirectusServer
from pydirectus.testing.access import AccessGrants
from tests.faults import Fault, FaultProxy, leaks
from tests.integration.cli_helpers import one_line_error, run_cli, token_of

# A password whose JSON-escaped and URL-encoded forms differ from it (quote, backslash,
# space, non-ASCII, +, &, =, %).
ODD_PASSWORD = 'pä"ss \\wörd+&=%-1a2B'


def forms(secret: str) -> list[str]:
    """Return the ways a secret can be written in a text: as is, URL-encoded, JSON-escaped."""
    return sorted({secret, quote(secret, safe=""), quote_plus(secret), quote(secret),
                   json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]})


def texts_of(error: BaseException) -> list[str]:
    """Return every text a user can get out of an error: str, repr, the traceback as
    printed, and for an APIError its message, errors, extensions and response."""
    found = [str(error), repr(error), "".join(traceback.format_exception(error))]
    if isinstance(error, APIError):
        found += [error.message, json.dumps(error.errors), repr(error.errors),
                  json.dumps(error.extensions), str(error.url)]
        if error.response is not None:
            response = error.response
            found += [response.text, response.content.decode("utf-8", "replace"),
                      repr(response.headers), response.reason, response.url, repr(response)]
    return found


def assert_scrubbed(error: BaseException, secret_values: list[str],
                    records: list[logging.LogRecord]) -> None:
    """Assert no form of any secret is in any text of the error or in any log line."""
    assert not leaks(error, [form for value in secret_values for form in forms(value)])
    logged = [record.getMessage() for record in records] + [
        "".join(traceback.format_exception(*record.exc_info))
        for record in records if record.exc_info]
    for text in [*texts_of(error), *logged]:
        for value in secret_values:
            for form in forms(value):
                assert form not in text, f"a secret ({form[:4]}...) in {text[:300]!r}"


@pytest.fixture
def admin(directus: DirectusServer) -> Iterator[DirectusClient]:
    """A sync admin client for setting up and checking (not the client under test)."""
    with DirectusClient(directus.url, auth=StaticToken(directus.admin_token)) as client:
        yield client


@pytest.fixture
def make_user(admin: DirectusClient) -> Iterator[Callable[[str], dict[str, Any]]]:
    """Return a factory of active admin-role users with the given password."""
    made: list[str] = []
    role = admin.transport.data("GET", "users", "me", params={"fields": "role"})["role"]

    def make(password: str) -> dict[str, Any]:
        email = f"secret-{secrets.token_hex(4)}@example.com"
        user = admin.transport.data("POST", "users", json={
            "email": email, "password": password, "status": "active", "role": role})
        made.append(user["id"])
        return {"id": user["id"], "email": email, "password": password}

    yield make
    if made:
        admin.transport.data("DELETE", "users", json=made)


@pytest.fixture
def proxy(directus: DirectusServer) -> Iterator[FaultProxy]:
    with FaultProxy(directus.url, lifetime=240) as running:
        yield running


# 1. Secrets scrubbed from every text.

@pytest.mark.parametrize("as_json", [True, False], ids=["json-echo", "text-echo"])
@pytest.mark.parametrize("who", ["admin", "api-only", "public"])
def test_an_echoed_token_is_in_no_text(
    directus: DirectusServer, access_grants: AccessGrants, proxy: FaultProxy,
    make_client: Callable[..., Any], caplog: pytest.LogCaptureFixture, as_json: bool, who: str,
) -> None:
    token = {"admin": directus.admin_token, "public": None,
             "api-only": token_of(access_grants.api_client({"directus_users": ["read"]}))}[who]
    client = make_client(proxy.url, auth=StaticToken(token) if token else None)
    proxy.add(Fault.echo(400, as_json=as_json, path="/server/info"))
    caplog.set_level(logging.DEBUG, logger="pydirectus")
    with pytest.raises(InvalidRequest) as caught:
        client.server.info()
    error = caught.value
    # The echo did carry the token: what reached the client is what is scrubbed.
    seen = proxy.requests_to("/server/info")[0].headers
    assert (seen.get("Authorization") == f"Bearer {token}") if token else (
        "Authorization" not in seen)
    assert error.status == 400 and "/server/info" in error.message  # still informative
    if as_json:
        assert error.code == "INVALID_PAYLOAD"
        request = error.errors[0]["extensions"]["request"]
        assert request["headers"].get("Authorization", "***") == "***"
    assert_scrubbed(error, [token] if token else [], caplog.records)


@pytest.mark.parametrize("as_json", [True, False], ids=["json-echo", "text-echo"])
@pytest.mark.parametrize("refused", [False, True], ids=["bad-request", "refused"])
def test_an_echoed_login_leaks_no_password(
    make_user: Callable[[str], dict[str, Any]], proxy: FaultProxy,
    make_client: Callable[..., Any], caplog: pytest.LogCaptureFixture, as_json: bool,
    refused: bool,
) -> None:
    user = make_user(ODD_PASSWORD)
    status, code = (401, "INVALID_CREDENTIALS") if refused else (400, "INVALID_PAYLOAD")
    proxy.add(Fault.echo(status, as_json=as_json, error_code=code, path="/auth/login",
                         times=2))
    caplog.set_level(logging.DEBUG, logger="pydirectus")
    errors = []
    for _ in range(2):  # the second: a refusal remembered (not sent), or another echo
        client = make_client(proxy.url, auth=Password(user["email"], ODD_PASSWORD))
        with pytest.raises(APIError) as caught:
            client.users.me()
        errors.append(caught.value)
    sent = len(proxy.requests_to("/auth/login", "POST"))
    assert sent == (1 if refused and as_json else 2)  # a text 401 carries no code to remember
    for error in errors:
        assert isinstance(error, AuthenticationError if refused else InvalidRequest)
        assert_scrubbed(error, [ODD_PASSWORD], caplog.records)


def test_echoed_session_tokens_are_in_no_text(
    make_user: Callable[[str], dict[str, Any]], proxy: FaultProxy,
    make_client: Callable[..., Any], caplog: pytest.LogCaptureFixture,
) -> None:
    user = make_user(ODD_PASSWORD)
    auth = Password(user["email"], ODD_PASSWORD)
    client = make_client(proxy.url, auth=auth)
    assert client.users.me()["email"] == user["email"]
    access, refresh = auth._access_token, auth._refresh_token
    assert access and refresh
    proxy.add(Fault.echo(400, path="/users/me"), Fault.echo(400, as_json=False, path="/users"))
    caplog.set_level(logging.DEBUG, logger="pydirectus")
    for _ in range(2):
        with pytest.raises(InvalidRequest) as caught:
            client.users.me()
        assert_scrubbed(caught.value, [ODD_PASSWORD, access, refresh], caplog.records)
    # A refresh echoed back (its body holds the refresh token): the client logs in again,
    # and the log says why without the token.
    auth._refresh_at = auth._fresh_until = 0.0
    proxy.add(Fault.echo(400, path="/auth/refresh"))
    assert client.users.me()["email"] == user["email"]
    assert proxy.requests_to("/auth/refresh") and len(proxy.requests_to("/auth/login")) == 2
    assert any("refresh failed" in r.getMessage() for r in caplog.records)
    assert_scrubbed(caught.value, [ODD_PASSWORD, access, refresh, auth._access_token or ""],
                    caplog.records)


def test_the_cli_prints_no_token_or_password(
    directus: DirectusServer, make_user: Callable[[str], dict[str, Any]], proxy: FaultProxy,
) -> None:
    user = make_user(ODD_PASSWORD)
    for as_json in (True, False):
        proxy.clear()
        proxy.add(Fault.echo(400, as_json=as_json, times=None))
        by_token = run_cli(proxy.url, directus.admin_token, "query", "articles",
                           "--limit", "1")
        by_password = run_cli(proxy.url, None, "query", "articles", "--limit", "1",
                              env={"DIRECTUS_EMAIL": user["email"],
                                   "DIRECTUS_PASSWORD": ODD_PASSWORD})
        for result, secret in ((by_token, directus.admin_token), (by_password, ODD_PASSWORD)):
            line = one_line_error(result)
            assert "400" in line, line
            assert proxy.seen, "the CLI reached the echoing proxy"
            for form in forms(secret):
                assert form not in result.stderr and form not in result.stdout, line


@pytest.mark.parametrize("token, named", [
    ("tok-" + "x" * 28 + "\n", "trailing newline"),
    ("tok-" + "x" * 12 + "\t" + "x" * 12, "inner tab"),
    ("tok-" + "x" * 12 + " " + "x" * 12, "inner space"),
    (" tok-" + "x" * 24, "leading space"),
    ("\ufefftok-" + "x" * 24, "leading byte order mark"),
    ("tok-" + "x" * 12 + "\x07" + "x" * 12, "inner character U+0007"),
])
def test_a_token_with_whitespace_is_refused_without_quoting_it(
    directus: DirectusServer, token: str, named: str,
) -> None:
    for build in (lambda: StaticToken(token), lambda: DirectusClient(directus.url,
                                                                     static_token=token)):
        with pytest.raises(UsageError, match=re.escape(named)) as caught:
            build()
        assert "x" * 12 not in str(caught.value) and "x" * 12 not in repr(caught.value)
    # The same token stripped works (the admin's, with a newline as read from a file).
    with pytest.raises(UsageError, match="trailing newline"):
        StaticToken(directus.admin_token + "\n")
    with DirectusClient(directus.url, auth=StaticToken(directus.admin_token)) as client:
        assert client.server.info()


# 2. No system table through a generic handle.

def test_system_collections_fields_and_relations_are_refused_before_sending(
    directus: DirectusServer, admin: DirectusClient, proxy: FaultProxy,
    make_client: Callable[..., Any],
) -> None:
    for auth in (StaticToken(directus.admin_token), None):
        client = make_client(proxy.url, auth=auth)
        with pytest.raises(UsageError, match=r"'directus_notifications'.*system collection"):
            client.collections.delete("directus_notifications")
        with pytest.raises(UsageError, match="allow_system=True"):
            client.fields.delete("directus_users", "email")
        with pytest.raises(UsageError, match="allow_system=True"):
            client.relations.delete("directus_users", "role")
        with pytest.raises(UsageError, match="system"):
            client.schema.drop("directus_notifications")
    assert proxy.seen == []
    # Everything is still there.
    assert admin.transport.data("GET", "notifications", params={"limit": "1"}) is not None
    assert admin.transport.data("GET", "fields", "directus_users", "email")["field"] == "email"
    relation = admin.transport.data("GET", "relations", "directus_users", "role")
    assert relation["related_collection"] == "directus_roles"


def test_a_custom_field_of_a_system_collection_goes_with_allow_system(
    admin: DirectusClient, make_client: Callable[..., Any], directus: DirectusServer,
) -> None:
    name = f"pyd_{secrets.token_hex(3)}"
    admin.fields.create("directus_users", {"field": name, "type": "string"})
    client = make_client(directus.url, auth=StaticToken(directus.admin_token))
    client.fields.delete("directus_users", name, allow_system=True)
    assert name not in {f["field"] for f in admin.fields.all("directus_users")}


# 3. Lockout-proof across the process.

@pytest.fixture
def few_login_attempts(admin: DirectusClient) -> Iterator[int]:
    """Directus suspends a user after this many failed logins (settings.auth_login_attempts)
    during the test; the setting is restored after."""
    before = admin.transport.data("GET", "settings", params={"fields": "auth_login_attempts"})
    admin.transport.data("PATCH", "settings", json={"auth_login_attempts": 5})
    yield 5
    admin.transport.data("PATCH", "settings",
                         json={"auth_login_attempts": before["auth_login_attempts"]})


def status_of(admin: DirectusClient, user: dict[str, Any]) -> str:
    found: str = admin.transport.data("GET", "users", user["id"],
                                      params={"fields": "status"})["status"]
    return found


def test_the_server_suspends_without_the_process_memory(
    admin: DirectusClient, make_user: Callable[[str], dict[str, Any]], proxy: FaultProxy,
    few_login_attempts: int,
) -> None:
    """The control: with no cool-down, fresh clients each send a login, and the account
    is suspended; so the tests below would see it if the memory failed."""
    user = make_user("right-password-1a2b")
    for _ in range(few_login_attempts + 2):
        with DirectusClient(proxy.url, auth=Password(user["email"], "wrong-password",
                                                     refusal_cooldown=0)) as client, \
                pytest.raises(AuthenticationError):
            client.users.me()
    assert len(proxy.requests_to("/auth/login", "POST")) == few_login_attempts + 2
    assert status_of(admin, user) == "suspended"


def test_thirty_fresh_sync_clients_with_a_wrong_password_send_one_login(
    admin: DirectusClient, make_user: Callable[[str], dict[str, Any]], proxy: FaultProxy,
    few_login_attempts: int,
) -> None:
    user = make_user("right-password-1a2b")
    start = threading.Barrier(30)

    def attempt(_: int) -> DirectusError:
        with DirectusClient(proxy.url, auth=Password(user["email"], "wrong-password")) as client:
            start.wait(timeout=30)
            try:
                client.users.me()
            except DirectusError as exc:
                return exc
        raise AssertionError("a wrong password was accepted")

    with ThreadPoolExecutor(max_workers=30) as pool:
        errors = list(pool.map(attempt, range(30)))
    assert all(isinstance(e, AuthenticationError) and e.code == "INVALID_CREDENTIALS"
               for e in errors), errors
    assert sum(1 for e in errors if e.extensions.get("remembered")) == 29
    assert len(proxy.requests_to("/auth/login", "POST")) == 1
    assert status_of(admin, user) == "active"
    # Another password is tried at once; the right one works and forgets the refusal.
    with DirectusClient(proxy.url, auth=Password(user["email"], user["password"])) as client:
        assert client.users.me()["email"] == user["email"]
    with DirectusClient(proxy.url, auth=Password(user["email"], "wrong-password")) as client, \
            pytest.raises(AuthenticationError) as caught:
        client.users.me()
    assert not caught.value.extensions.get("remembered")
    assert len(proxy.requests_to("/auth/login", "POST")) == 3


def test_thirty_tasks_of_fresh_async_clients_and_sync_threads_send_one_login(
    admin: DirectusClient, make_user: Callable[[str], dict[str, Any]], proxy: FaultProxy,
    few_login_attempts: int,
) -> None:
    user = make_user("right-password-3c4d")

    async def attempt() -> BaseException:
        async with AsyncDirectusClient(proxy.url,
                                       auth=Password(user["email"], "wrong-password")) as client:
            try:
                await client.users.me()
            except DirectusError as exc:
                return exc
        raise AssertionError("a wrong password was accepted")

    async def thirty() -> list[BaseException]:
        return list(await asyncio.gather(*(attempt() for _ in range(30))))

    def sync_attempt(_: int) -> BaseException:
        with DirectusClient(proxy.url, auth=Password(user["email"], "wrong-password")) as client:
            try:
                client.users.me()
            except DirectusError as exc:
                return exc
        raise AssertionError("a wrong password was accepted")

    # The async face on its own loop and thread, five sync threads at the same time.
    with ThreadPoolExecutor(max_workers=6) as pool:
        on_async = pool.submit(asyncio.run, thirty())
        on_sync = list(pool.map(sync_attempt, range(5)))
        errors = [*on_async.result(), *on_sync]
    assert all(isinstance(e, AuthenticationError) and e.code == "INVALID_CREDENTIALS"
               for e in errors), errors
    assert len(proxy.requests_to("/auth/login", "POST")) == 1
    assert status_of(admin, user) == "active"

    async def right() -> str:
        async with AsyncDirectusClient(proxy.url, auth=Password(user["email"],
                                                                user["password"])) as client:
            found: str = (await client.users.me())["email"]
            return found

    assert asyncio.run(right()) == user["email"]


def test_the_same_wrong_password_is_tried_again_after_the_cool_down(
    admin: DirectusClient, make_user: Callable[[str], dict[str, Any]], proxy: FaultProxy,
    make_client: Callable[..., Any],
) -> None:
    user = make_user("right-password-5e6f")
    for expected_logins in (1, 1, 1):
        client = make_client(proxy.url, auth=Password(user["email"], "wrong-password",
                                                      refusal_cooldown=1.5))
        with pytest.raises(AuthenticationError, match="INVALID_CREDENTIALS"):
            client.users.me()
        assert len(proxy.requests_to("/auth/login", "POST")) == expected_logins
    time.sleep(1.6)
    client = make_client(proxy.url, auth=Password(user["email"], "wrong-password",
                                                  refusal_cooldown=1.5))
    with pytest.raises(AuthenticationError) as caught:
        client.users.me()
    assert not caught.value.extensions.get("remembered")
    assert len(proxy.requests_to("/auth/login", "POST")) == 2
    assert status_of(admin, user) == "active"
