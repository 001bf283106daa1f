"""Password auth against a real Directus with a 2 s access token and a 3 s refresh token."""

from __future__ import annotations

import logging
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from pydirectus import DirectusClient, Password, RetryPolicy, StaticToken
from pydirectus.errors import APIError, AuthenticationError, DirectusError, NotFound
from pydirectus.testing import DirectusServer
from pydirectus.testing.collections import CollectionFactory
from pydirectus.testing.pytest_plugin import running
from tests.faults import Fault, FaultProxy, leaks

ACCESS_TTL = 2.0
# MariaDB keeps a session's expiry in whole seconds, truncated (a TIMESTAMP column): a 3 s
# refresh token can live barely 2 s there, less than the ACCESS_TTL + 0.3 s waits below.
REFRESH_TTL = 4.0
FAST = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05, total=10.0)


@pytest.fixture(scope="module")
def short_ttl(directus_database: str) -> Iterator[DirectusServer]:
    """One Directus for this module whose tokens expire fast (on the run's database)."""
    with running(DirectusServer(env={"ACCESS_TOKEN_TTL": f"{ACCESS_TTL:.0f}s",
                                     "REFRESH_TOKEN_TTL": f"{REFRESH_TTL:.0f}s"},
                                database=directus_database)) as server:
        yield server


@pytest.fixture(scope="module")
def notes(short_ttl: DirectusServer) -> Iterator[str]:
    factory = CollectionFactory(short_ttl.url, short_ttl.admin_token)
    try:
        name = factory({"title": "string"}, prefix="notes")
        with DirectusClient(short_ttl.url, auth=StaticToken(short_ttl.admin_token)) as admin:
            admin.create_item(name, {"title": "hello"})
        yield name
    finally:
        factory.drop_all()


@pytest.fixture
def password_client(short_ttl: DirectusServer, make_client: Callable[..., DirectusClient]
                    ) -> Callable[..., DirectusClient]:
    """Return a factory of admin Password clients (of the test's face); each is closed
    after the test."""

    def make(url: str | None = None, password: str | None = None,
             **options: Any) -> DirectusClient:
        options.setdefault("timeout", (2.0, 10.0))
        options.setdefault("retry", FAST)
        auth = Password(short_ttl.admin_email, password or short_ttl.admin_password)
        return make_client(url or short_ttl.url, auth=auth, **options)

    return make


def password_of(client: DirectusClient) -> Password:
    auth = client.auth
    assert isinstance(auth, Password)
    return auth


def raw_refresh(server: DirectusServer, refresh_token: str) -> requests.Response:
    return requests.post(f"{server.url}/auth/refresh", timeout=10,
                         json={"refresh_token": refresh_token, "mode": "json"})


def test_login_is_lazy_and_happens_once(
    password_client: Callable[..., DirectusClient], notes: str
) -> None:
    client = password_client()
    auth = password_of(client)
    assert (auth.logins, auth.refreshes) == (0, 0)
    assert client.read_items(notes)[0]["title"] == "hello"
    assert client.read_item(notes, 1)["title"] == "hello"
    assert (auth.logins, auth.refreshes) == (1, 0)


@pytest.mark.slow
def test_threads_share_one_refresh_per_expiry(
    password_client: Callable[..., DirectusClient], notes: str
) -> None:
    client = password_client()
    auth = password_of(client)
    duration, threads = 20.0, 8
    errors: list[BaseException] = []
    calls = [0] * threads
    recoveries: list[bool] = []  # 401 TOKEN_EXPIRED answers (JWT exp is whole seconds)

    recover_plan = auth.recover_plan

    def counting_recover(failed: Any) -> Any:  # the plan both faces run on a 401
        recoveries.append(True)
        return recover_plan(failed)

    auth.recover_plan = counting_recover  # type: ignore[method-assign]
    start = threading.Barrier(threads)

    def work(index: int) -> None:
        start.wait()
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            try:
                if calls[index] % 2:
                    assert client.server.info()
                else:
                    assert client.read_items(notes, {"limit": 1})[0]["title"] == "hello"
            except BaseException as exc:  # any failure is the finding
                errors.append(exc)
                return
            calls[index] += 1

    began = time.monotonic()
    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=duration + 60)
    elapsed = time.monotonic() - began
    assert not errors, errors[:3]
    assert not any(worker.is_alive() for worker in workers)
    total = sum(calls)
    # Refresh at expires - min(30 s, ttl/5): every 1.6 s of a 2 s token.
    margin = min(30.0, ACCESS_TTL / 5)
    low, high = elapsed / ACCESS_TTL / 2, 2 * elapsed / (ACCESS_TTL - margin) + 2
    print(f"\nsoak: {total} calls in {elapsed:.1f} s by {threads} threads; "
          f"{auth.logins} login(s), {auth.refreshes} refreshes (band {low:.1f}..{high:.1f}), "
          f"{len(recoveries)} TOKEN_EXPIRED recoveries")
    assert auth.logins == 1
    assert low <= auth.refreshes <= high
    assert total >= 20 * auth.refreshes


def test_an_expired_refresh_token_leads_to_a_new_login(
    password_client: Callable[..., DirectusClient], notes: str
) -> None:
    client = password_client()
    auth = password_of(client)
    client.read_items(notes)
    time.sleep(REFRESH_TTL + 0.5)  # both tokens are dead now
    assert client.read_items(notes)[0]["title"] == "hello"
    assert auth.logins == 2 and auth.refreshes == 0


def test_a_revoked_refresh_token_leads_to_a_new_login(
    password_client: Callable[..., DirectusClient], notes: str, short_ttl: DirectusServer
) -> None:
    client = password_client()
    auth = password_of(client)
    client.read_items(notes)
    # Behind the client's back: end its session on the server.
    revoked = auth._refresh_token
    assert revoked is not None
    requests.post(f"{short_ttl.url}/auth/logout", timeout=10,
                  json={"refresh_token": revoked, "mode": "json"}).raise_for_status()
    assert raw_refresh(short_ttl, revoked).status_code == 401
    auth._refresh_at = 0.0  # time to renew
    assert client.read_items(notes)[0]["title"] == "hello"
    assert auth.logins == 2 and auth.refreshes == 0


def test_token_expired_mid_flight_refreshes_once_and_resends(
    password_client: Callable[..., DirectusClient], notes: str, short_ttl: DirectusServer
) -> None:
    with FaultProxy(short_ttl.url, lifetime=60) as proxy:
        client = password_client(proxy.url)
        auth = password_of(client)
        client.read_items(notes)
        auth._refresh_at = math.inf  # the client will not notice the expiry itself
        time.sleep(ACCESS_TTL + 0.3)
        proxy.clear()
        assert client.read_items(notes)[0]["title"] == "hello"
        assert (auth.logins, auth.refreshes) == (1, 1)
        assert [(s.method, s.path.split("?")[0]) for s in proxy.seen] == [
            ("GET", f"/items/{notes}"), ("POST", "/auth/refresh"), ("GET", f"/items/{notes}")]
        first, refresh, again = proxy.seen
        assert first.headers["Authorization"] != again.headers["Authorization"]
        assert "Authorization" not in refresh.headers
        assert math.isfinite(auth._refresh_at)


def test_token_expired_is_recovered_once_only(
    password_client: Callable[..., DirectusClient], notes: str, short_ttl: DirectusServer
) -> None:
    expired = (b'{"errors":[{"message":"Token expired.",'
               b'"extensions":{"code":"TOKEN_EXPIRED"}}]}')
    with FaultProxy(short_ttl.url, lifetime=60) as proxy:
        client = password_client(proxy.url)
        auth = password_of(client)
        client.read_items(notes)
        proxy.clear()
        proxy.add(Fault.status(401, expired, {"Content-Type": "application/json"},
                               method="GET", path=f"/items/{notes}", times=None))
        with pytest.raises(AuthenticationError) as caught:
            client.read_items(notes)
        assert caught.value.code == "TOKEN_EXPIRED" and caught.value.status == 401
        assert (auth.logins, auth.refreshes) == (1, 1)
        assert [s.method for s in proxy.seen] == ["GET", "POST", "GET"]


def test_auth_calls_never_carry_the_stale_bearer(
    password_client: Callable[..., DirectusClient], notes: str, short_ttl: DirectusServer
) -> None:
    with FaultProxy(short_ttl.url, lifetime=60) as proxy:
        client = password_client(proxy.url)
        auth = password_of(client)
        client.read_items(notes)
        auth._refresh_at = 0.0
        client.read_items(notes)
        client.close()
        assert (auth.logins, auth.refreshes) == (1, 1)
        auth_calls = proxy.requests_to("/auth/")
        assert [s.path for s in auth_calls] == ["/auth/login", "/auth/refresh", "/auth/logout"]
        assert all("Authorization" not in s.headers for s in auth_calls)
        assert all(s.headers["Authorization"].startswith("Bearer ")
                   for s in proxy.requests_to("/items/"))


def test_a_wrong_password_is_an_authentication_error(
    password_client: Callable[..., DirectusClient], notes: str
) -> None:
    secret = "not-the-password-9f8e7d"
    client = password_client(password=secret)
    with pytest.raises(AuthenticationError) as caught:
        client.read_items(notes)
    error = caught.value
    assert error.code == "INVALID_CREDENTIALS" and error.status == 401
    for text in (str(error), repr(error), error.message, repr(error.args), repr(client)):
        assert secret not in text
    assert password_of(client).logins == 0


def test_close_logs_the_session_out(
    password_client: Callable[..., DirectusClient], notes: str, short_ttl: DirectusServer
) -> None:
    client = password_client()
    auth = password_of(client)
    client.read_items(notes)
    old = auth._refresh_token
    assert old is not None
    client.close()
    answer = raw_refresh(short_ttl, old)
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["extensions"]["code"] == "INVALID_CREDENTIALS"
    assert auth._refresh_token is None and auth._access_token is None


def test_close_does_not_raise_when_the_server_is_gone(
    password_client: Callable[..., DirectusClient], notes: str, short_ttl: DirectusServer
) -> None:
    with FaultProxy(short_ttl.url, lifetime=60) as proxy:
        client = password_client(proxy.url)
        client.read_items(notes)
    client.close()  # the logout cannot connect: closing still succeeds
    assert password_of(client)._refresh_token is None


def test_no_secret_in_logs_reprs_or_errors(
    password_client: Callable[..., DirectusClient], notes: str, short_ttl: DirectusServer,
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    tokens: list[str] = []
    store = Password._store

    def spy(self: Password, endpoint: str, data: Any) -> str:
        tokens.extend((data["access_token"], data["refresh_token"]))
        return store(self, endpoint, data)

    monkeypatch.setattr(Password, "_store", spy)
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    wrong = "wrong-password-5c4b3a"

    client = password_client(timeout=(2.0, 10.0))
    auth = password_of(client)
    texts += [repr(client), repr(auth), repr(client.transport)]
    client.read_items(notes)                        # login
    client.read_item(notes, 1)
    texts += [repr(client), repr(auth)]
    auth._refresh_at = 0.0
    client.read_items(notes, {"limit": 1})          # refresh
    auth._refresh_at = math.inf
    time.sleep(ACCESS_TTL + 0.3)
    client.read_items(notes)                        # 401 TOKEN_EXPIRED, refresh, re-send
    errors: list[DirectusError] = []
    try:
        client.read_item(notes, 424242)
    except NotFound as exc:
        errors.append(exc)
    try:
        password_client(password=wrong).read_items(notes)
    except AuthenticationError as exc:
        errors.append(exc)
    texts += [repr(client), repr(auth)]
    client.close()                                  # logout
    assert (auth.logins, auth.refreshes) == (1, 2)
    assert len(errors) == 2 and len(tokens) == 6
    for error in errors:
        # Nothing reachable from the exception (attributes, containers, causes) holds one.
        assert leaks(error, [short_ttl.admin_password, wrong, *tokens]) == []
        texts += [str(error), repr(error), *map(str, error.args)]
        if isinstance(error, APIError):
            texts.append(error.message)

    for record in caplog.records:
        texts += [record.getMessage(), repr(record.args)]
    secrets = [short_ttl.admin_password, wrong, *tokens]
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a secret leaked into: {text[:200]}"

    lines = [r.getMessage() for r in caplog.records if r.name == "pydirectus"]
    pattern = re.compile(r"^(GET|POST|PATCH|DELETE) (/\S+) -> (\d{3}) in \d+\.\d ms$")
    sent = [m.groups() for m in map(pattern.match, lines) if m]
    assert ("POST", "/auth/login", "200") in sent
    assert ("POST", "/auth/refresh", "200") in sent
    assert ("GET", f"/items/{notes}", "401") in sent
    assert ("GET", f"/items/{notes}/424242", "403") in sent
    assert ("POST", "/auth/logout", "204") in sent


# Refused logins are remembered: a wrong password must not get the account suspended.

@pytest.fixture
def make_user(short_ttl: DirectusServer) -> Iterator[Callable[[str], dict[str, Any]]]:
    """Return a factory of active users (email, password) on the short-TTL server."""
    made: list[str] = []
    admin = DirectusClient(short_ttl.url, auth=StaticToken(short_ttl.admin_token))

    def make(password: str) -> dict[str, Any]:
        email = f"user-{secrets.token_hex(4)}@example.com"
        user: dict[str, Any] = admin.transport.data("POST", "users", json={
            "email": email, "password": password, "status": "active"})
        made.append(user["id"])
        return {"id": user["id"], "email": email, "password": password}

    yield make
    if made:
        admin.transport.data("DELETE", "users", json=made)
    admin.close()


def user_status(server: DirectusServer, user_id: str) -> str:
    with DirectusClient(server.url, auth=StaticToken(server.admin_token)) as admin:
        status: str = admin.transport.data("GET", "users", user_id)["status"]
    return status


def test_thirty_calls_with_a_wrong_password_send_one_login(
    short_ttl: DirectusServer, make_user: Callable[[str], dict[str, Any]],
    make_client: Callable[..., DirectusClient],
) -> None:
    user = make_user("right-password-1a2b")
    with FaultProxy(short_ttl.url, lifetime=60) as proxy:
        auth = Password(user["email"], "wrong-password-3c4d")
        with make_client(proxy.url, auth=auth, retry=FAST) as client:
            for _ in range(30):
                with pytest.raises(AuthenticationError) as caught:
                    client.server.info()
                assert caught.value.code == "INVALID_CREDENTIALS"
            assert len(proxy.requests_to("/auth/login", "POST")) == 1  # counted at the server
            assert [s.path for s in proxy.seen] == ["/auth/login"]
            assert user_status(short_ttl, user["id"]) == "active"  # not locked out
            auth.set_credentials(password=user["password"])
            assert client.server.info()
            assert auth.logins == 1
        assert len(proxy.requests_to("/auth/login", "POST")) == 2


def test_a_user_suspended_mid_session_costs_one_renewal_then_nothing(
    short_ttl: DirectusServer, make_user: Callable[[str], dict[str, Any]],
    make_client: Callable[..., DirectusClient],
) -> None:
    user = make_user("right-password-5e6f")
    with FaultProxy(short_ttl.url, lifetime=60) as proxy:
        auth = Password(user["email"], user["password"])
        with make_client(proxy.url, auth=auth, retry=FAST) as client:
            assert client.server.info()
            with DirectusClient(short_ttl.url, auth=StaticToken(short_ttl.admin_token)) as admin:
                admin.transport.data("PATCH", "users", user["id"], json={"status": "suspended"})
            auth._refresh_at = auth._fresh_until = 0.0  # time to renew
            proxy.clear()
            for _ in range(10):
                with pytest.raises(AuthenticationError) as caught:
                    client.server.info()
                # Directus 12 refuses the refresh and then the login of a suspended user
                # (INVALID_CREDENTIALS; USER_SUSPENDED when it names it): remembered either way.
                assert caught.value.code in ("INVALID_CREDENTIALS", "USER_SUSPENDED")
            first = [s.path for s in proxy.seen]
            assert first in (["/auth/refresh"], ["/auth/refresh", "/auth/login"]), first
