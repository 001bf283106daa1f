"""Transport over real sockets: a scripted loopback server stands in for Directus.

Every test that sends runs twice, over the two paths a request can take (the ``path``
fixture):

- ``lean``: the default. A plain request skips ``Session.prepare_request`` and goes
  through pydirectus.direct straight into the requests HTTPAdapter's urllib3 pool.
- ``adapter``: ``Transport(..., lean=False)``, so every request goes through
  ``Session.prepare_request`` and ``Session.send`` / ``adapter.send``.

Both use a real ``requests.Session`` with its real HTTPAdapter and real sockets. The
server (tests/loopback.py ScriptedServer) answers each request with a scripted step: a
status, body and headers, or a fault (closed, reset, truncated or stalled; refused,
unresolvable or timed out while connecting; a certificate the client does not trust).
What a test says about a request (method, path, query string, headers, body) it reads
from what the server received; what urllib3 was told for it (timeouts, TLS
verification, proxy) from ``net.calls``. Tests that send nothing (pure functions,
argument checks) run once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import enum
import inspect
import io
import json
import logging
import math
import re
import sys
import threading
import time
import types
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import attrs
import pytest
import requests
import urllib3.exceptions
from hypothesis import given
from hypothesis import strategies as st

from pydirectus import DirectusClient, Password, StaticToken, __version__
from pydirectus import direct as direct_module
from pydirectus import transport as transport_module
from pydirectus.auth import DirectusAuth
from pydirectus.core.exchange import MAX_RESENDS
from pydirectus.errors import (
    APIError,
    AuthenticationError,
    ConnectError,
    DirectusError,
    InvalidQuery,
    NotFound,
    NotReplayable,
    RateLimited,
    ServerError,
    Timeout,
    TLSError,
    TransportError,
    UnexpectedRedirect,
    UsageError,
)
from pydirectus.transport import (
    DEFAULT_TIMEOUT,
    Call,
    RetryPolicy,
    Transport,
    _never_reached_server,
    _read_timed_out,
    encode_segment,
    validate_base_url,
    wrap_error,
)
from tests.faults import Fault, FaultProxy, closed_port, leaks
from tests.loopback import TEST_CA_PEM, PoolCall, Received, ScriptedServer, Step, ca_bundle

# A URL for tests that send nothing (nothing listens there).
BASE = "http://127.0.0.1:8055"
# Host names that resolve to the scripted server (any port), besides 127.0.0.1 itself.
ROUTED_HOSTS = ("cms.example", "cdn.example", "proxy.invalid")
# For stalls: connect quickly, give up reading after a quarter of a second.
QUICK = (2.0, 0.25)
# requests' own CA bundle (certifi's): it does not trust the test CA.
DEFAULT_BUNDLE: str = requests.utils.DEFAULT_CA_BUNDLE_PATH


def answer(status: int, body: bytes = b'{"data": {}}', **headers: str) -> Step:
    return Step.answer(status, body, {k.replace("_", "-"): v for k, v in headers.items()})


def directus_error(status: int, code: str) -> Step:
    body = f'{{"errors":[{{"message":"{code}","extensions":{{"code":"{code}"}}}}]}}'
    return Step.answer(status, body.encode(), {"Content-Type": "application/json"})


# The two paths, and the network each test runs on.

PATHS = ["lean", "adapter"]
_CLIENT_TAKES_LEAN_PATH = "lean_path" in inspect.signature(DirectusClient).parameters


class Net:
    """The scripted server, the path under test, and what to close afterwards."""

    def __init__(self, server: ScriptedServer, path: str) -> None:
        self.server = server
        self.path = path
        self._sessions: list[requests.Session] = []

    @property
    def lean(self) -> bool:
        return self.path == "lean"

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def https_url(self) -> str:
        return self.server.https_url

    @property
    def received(self) -> list[Received]:
        """Every request the server read, in order."""
        return self.server.received

    @property
    def attempts(self) -> int:
        """Every connection the client opened or tried (a refused one too)."""
        return self.server.attempts

    @property
    def calls(self) -> list[PoolCall]:
        """What urllib3 was asked for each request: timeout, TLS settings, proxy."""
        return self.server.calls

    def transport(self, *steps: Step, scheme: str = "http", base: str | None = None,
                  session: requests.Session | None = None, **options: Any) -> Transport:
        """Return a Transport on this path, to the server scripted with steps."""
        self.server.script(*steps)
        options.setdefault("retry", RetryPolicy(attempts=3, backoff=0.01))
        if session is None:
            session = requests.Session()
        self._sessions.append(session)
        url = base or (self.https_url if scheme == "https" else self.url)
        transport = Transport(url, session=session, lean=self.lean, **options)
        assert transport.sender.lean() is self.lean
        return transport

    def client(self, *, url: str | None = None, **options: Any) -> DirectusClient:
        """Return a DirectusClient on this path, to the server."""
        if _CLIENT_TAKES_LEAN_PATH:
            client = DirectusClient(url or self.url, lean_path=self.lean, **options)
        else:
            # Until DirectusClient takes lean_path= (passed down as Transport(lean=...)):
            # the sender's switch, which lean() reads on every call.
            client = DirectusClient(url or self.url, **options)
            client.transport.sender.lean_enabled = self.lean
        assert client.transport.sender.lean() is self.lean
        self._sessions.append(client.transport.session)
        return client

    def close(self) -> None:
        for session in self._sessions:
            session.close()


@contextlib.contextmanager
def network(path: str) -> Iterator[Net]:
    """Start a scripted server, route the client side to it, close everything after."""
    with ScriptedServer(hosts=ROUTED_HOSTS) as server, server.intercept():
        net = Net(server, path)
        try:
            yield net
        finally:
            net.close()
    if server.errors:  # a responder's assertion, raised in the server's thread
        raise server.errors[0]


@pytest.fixture
def direct_sends(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The requests sent by pydirectus.direct.send (method and path), as they are sent."""
    sent: list[str] = []
    real = direct_module.send

    def spy(adapter: Any, pools: Any, prepared: requests.PreparedRequest,
            **options: Any) -> requests.Response:
        sent.append(f"{prepared.method} {prepared.path_url}")
        return real(adapter, pools, prepared, **options)

    monkeypatch.setattr(direct_module, "send", spy)
    return sent


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest, direct_sends: list[str]) -> Iterator[str]:
    yield request.param
    # lean=False must never reach the direct path, whatever the test did.
    if request.param == "adapter":
        assert direct_sends == [], "lean=False sent through pydirectus.direct"


@pytest.fixture
def net(path: str) -> Iterator[Net]:
    with network(path) as scripted:
        yield scripted


class FakeClock:
    """Stands in for the time module inside pydirectus: sleeping is instant."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def perf_counter(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@contextlib.contextmanager
def fake_time(clock: FakeClock) -> Iterator[None]:
    """Give every pydirectus module that imported ``time`` the fake clock (the wall clock,
    time.time, stays real: HTTP-dates are read against it), wherever the retry loop lives.
    Sockets keep real time: a stall still times out."""
    fake = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time)
                                    if not name.startswith("_")})
    fake.monotonic, fake.perf_counter, fake.sleep = (
        clock.monotonic, clock.perf_counter, clock.sleep)
    patched = [module for name, module in list(sys.modules.items())
               if (name == "pydirectus" or name.startswith("pydirectus."))
               and getattr(module, "time", None) is time]
    assert transport_module in patched
    for module in patched:
        module.time = fake  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module in patched:
            module.time = time  # type: ignore[attr-defined]


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    fake = FakeClock()
    with fake_time(fake):
        yield fake


# The path taken.

def test_each_path_is_the_one_taken(net: Net, direct_sends: list[str]) -> None:
    transport = net.transport(answer(200, b'{"data": [1]}'))
    through_session: list[str] = []
    real_send = transport.session.send

    def session_send(request: requests.PreparedRequest, **options: Any) -> requests.Response:
        through_session.append(f"{request.method} {request.path_url}")
        return real_send(request, **options)

    # On the instance: the lean check looks at the class, so this does not turn lean off.
    transport.session.send = session_send  # type: ignore[method-assign]
    transport.data("GET", "items", "a", params={"limit": "1"})
    transport.data("POST", "items", "a", json={"x": 1})
    transport.data("DELETE", "items", "a", 1, idempotent=True)
    sent = ["GET /items/a?limit=1", "POST /items/a", "DELETE /items/a/1"]
    assert [f"{r.method} {r.path_url}" for r in net.received] == sent
    if net.lean:
        assert transport.sender.lean()
        assert direct_sends == sent and through_session == []
    else:
        assert not transport.sender.lean()
        assert direct_sends == [] and through_session == sent
    assert net.attempts == 3  # one connection each: the server closes every one



def test_connections_are_kept_alive_and_reused(net: Net, direct_sends: list[str]) -> None:
    net.server.keep_alive = True
    transport = net.transport(answer(200, b'{"data": [1]}'))
    for _ in range(3):
        assert transport.data("GET", "items", "a") == [1]
    assert transport.data("POST", "items", "a", json={"x": 1}) == [1]
    assert transport.data("HEAD", "items", "a") is None
    assert len(net.received) == 5
    assert net.attempts == 1  # one connection carried them all
    assert len(direct_sends) == (5 if net.lean else 0)

# Retry decisions.

@pytest.mark.parametrize(
    ("method", "idempotent", "status", "attempts"),
    [
        ("GET", None, 503, 3), ("GET", None, 502, 3), ("GET", None, 504, 3),
        ("GET", None, 429, 3), ("HEAD", None, 503, 3), ("SEARCH", None, 503, 3),
        ("OPTIONS", None, 503, 3), ("DELETE", True, 503, 3),
        ("DELETE", None, 503, 1), ("POST", None, 503, 1), ("POST", None, 429, 1),
        ("PATCH", None, 502, 1), ("PUT", None, 504, 1),
        ("GET", None, 500, 1), ("GET", None, 501, 1), ("GET", None, 404, 1),
        ("GET", None, 400, 1), ("GET", None, 403, 1),
    ],
)
def test_retry_decisions_per_method_and_status(
    clock: FakeClock, net: Net, method: str, idempotent: bool | None, status: int,
    attempts: int,
) -> None:
    transport = net.transport(answer(status, b""))
    with pytest.raises(APIError) as caught:
        transport.send(Call(method, ("items", "a", 1), idempotent=idempotent))
    assert len(net.received) == attempts
    assert {(r.method, r.path_url) for r in net.received} == {(method, "/items/a/1")}
    assert caught.value.status == status
    assert len(clock.sleeps) == attempts - 1


def test_a_retried_read_returns_the_first_success(clock: FakeClock, net: Net) -> None:
    transport = net.transport(answer(503, b""), answer(502, b"<html>"),
                              answer(200, b'{"data": [1]}'))
    assert transport.data("GET", "items", "a") == [1]
    assert len(net.received) == 3


@attrs.frozen
class Failure:
    """How a transport failure is made on the wire."""

    step: Step
    reaches_server: bool  # whether the server reads the request before failing it
    scheme: str = "http"
    timeout: tuple[float, float] | None = None


FAILURES: dict[str, Failure] = {
    "reset": Failure(Step.reset(), True),  # the request read, then an RST
    "closed": Failure(Step.close(), True),  # the request read, then a FIN and no answer
    "refused": Failure(Step.refuse(), False),
    "unresolvable": Failure(Step.unresolvable(), False),
    "connect_timeout": Failure(Step.connect_timeout(), False),
    "read_timeout": Failure(Step.stall(), True, timeout=QUICK),  # no answer at all
    "body_read_timeout": Failure(Step.stall_body(), True, timeout=QUICK),  # a stall in the body
    # https with verify=True: the CA bundle in force does not trust the test CA.
    "tls_failure": Failure(answer(200), False, scheme="https"),
    "broken_body": Failure(Step.truncated(), True),  # 10 of 100 announced body bytes
}


def failing_transport(net: Net, name: str, **options: Any) -> Transport:
    failure = FAILURES[name]
    if failure.timeout is not None:
        options.setdefault("timeout", failure.timeout)
    return net.transport(failure.step, scheme=failure.scheme, **options)


@pytest.mark.parametrize(
    ("method", "failure", "attempts", "error"),
    [
        ("GET", "reset", 3, ConnectError),
        ("GET", "closed", 3, ConnectError),
        ("GET", "refused", 3, ConnectError),
        ("GET", "broken_body", 3, ConnectError),
        ("GET", "connect_timeout", 3, Timeout),
        ("GET", "read_timeout", 1, Timeout),      # the server may still be working on it
        ("GET", "body_read_timeout", 1, Timeout),
        ("GET", "tls_failure", 3, TLSError),
        ("POST", "reset", 1, ConnectError),       # it may have been processed
        ("POST", "closed", 1, ConnectError),
        ("PATCH", "reset", 1, ConnectError),
        ("POST", "broken_body", 1, ConnectError),
        ("POST", "read_timeout", 1, Timeout),
        ("POST", "body_read_timeout", 1, Timeout),
        ("POST", "refused", 3, ConnectError),     # never left this machine: safe
        ("POST", "unresolvable", 3, ConnectError),
        ("POST", "connect_timeout", 3, Timeout),
        ("POST", "tls_failure", 1, TLSError),
    ],
)
def test_retry_decisions_on_transport_failures(
    clock: FakeClock, net: Net, method: str, failure: str, attempts: int,
    error: type[TransportError],
) -> None:
    transport = failing_transport(net, failure)
    with pytest.raises(error) as caught:
        transport.send(Call(method, ("items", "a")))
    assert net.attempts == attempts
    assert len(net.received) == (attempts if FAILURES[failure].reaches_server else 0)
    assert isinstance(caught.value.__cause__, requests.RequestException)
    assert f"{method} /items/a" in str(caught.value)


def test_a_post_is_resent_only_when_it_never_left(clock: FakeClock, net: Net) -> None:
    transport = net.transport(Step.refuse(), Step.refuse(), answer(200, b'{"data": {"id": 1}}'))
    assert transport.data("POST", "items", "a", json={"x": 1}) == {"id": 1}
    assert net.attempts == 3
    (post,) = net.received
    assert post.method == "POST" and json.loads(post.body) == {"x": 1}


# Backoff and Retry-After.

@given(attempt=st.integers(1, 30), backoff=st.floats(0.001, 5), max_backoff=st.floats(0.001, 60))
def test_backoff_is_exponential_capped_and_jittered(
    attempt: int, backoff: float, max_backoff: float
) -> None:
    policy = RetryPolicy(backoff=backoff, max_backoff=max_backoff)
    ceiling = min(max_backoff, backoff * 2 ** (attempt - 1))
    assert ceiling / 2 <= policy.delay(attempt, None) <= ceiling


def test_backoff_jitter_spreads_and_grows() -> None:
    policy = RetryPolicy(backoff=0.5, max_backoff=8)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        samples = [policy.delay(attempt, None) for _ in range(200)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples)
        assert len(set(samples)) > 150  # jitter, not a fixed schedule
        assert max(samples) - min(samples) > ceiling / 4


def test_retry_after_is_honoured(clock: FakeClock, net: Net) -> None:
    transport = net.transport(answer(503, b"", Retry_After="2"), answer(200))
    transport.data("GET", "items", "a")
    assert clock.sleeps == [2.0]
    transport = net.transport(answer(429, b"", Retry_After="7"), answer(200),
                              retry=RetryPolicy(backoff=0.01, max_backoff=1))
    transport.data("GET", "items", "a")
    assert clock.sleeps == [2.0, 7.0]  # Retry-After beats max_backoff
    assert len(net.received) == 4


def test_retry_after_beyond_the_budget_gives_up_at_once(clock: FakeClock, net: Net) -> None:
    transport = net.transport(answer(429, b"", Retry_After="120"), answer(200),
                              retry=RetryPolicy(attempts=5, total=60))
    with pytest.raises(RateLimited) as caught:
        transport.data("GET", "items", "a")
    assert caught.value.retry_after == 120.0
    assert clock.sleeps == [] and len(net.received) == 1


def _http_date(offset: float) -> str:
    return email.utils.formatdate(time.time() + offset, usegmt=True)


@pytest.mark.parametrize(("header", "slept"), [
    ("2", (2.0, 2.0)),
    ("0.25", (0.25, 0.25)),
    (30.0, (28.0, 30.0)),                    # an HTTP-date: the seconds until then
    (-3600.0, (0.0, 0.0)),                   # a date gone by: at once
    ("nan", (0.05, 0.1)),                    # unreadable: the policy's own backoff
    ("inf", (0.05, 0.1)),
    ("-5", (0.05, 0.1)),
    ("soon", (0.05, 0.1)),
    ("", (0.05, 0.1)),
], ids=["seconds", "fraction", "http-date", "past-date", "nan", "inf", "negative", "word",
        "empty"])
def test_retry_after_forms(
    clock: FakeClock, net: Net, header: str | float, slept: tuple[float, float]
) -> None:
    # A float stands for an HTTP-date that many seconds from now (made when the test runs).
    text = _http_date(header) if isinstance(header, float) else header
    transport = net.transport(answer(503, b"", Retry_After=text), answer(200),
                              retry=RetryPolicy(backoff=0.1, max_backoff=1))
    transport.data("GET", "items", "a")
    (sleep,) = clock.sleeps
    assert slept[0] <= sleep <= slept[1]
    assert len(net.received) == 2


@pytest.mark.parametrize("header", ["61", "1e308", 3600.0])
def test_a_retry_after_beyond_the_budget_is_not_waited_for(
    clock: FakeClock, net: Net, header: str | float
) -> None:
    text = _http_date(header) if isinstance(header, float) else header
    transport = net.transport(answer(429, b"", Retry_After=text), answer(200),
                              retry=RetryPolicy(attempts=5, total=60))
    with pytest.raises(RateLimited):
        transport.data("GET", "items", "a")
    assert clock.sleeps == [] and len(net.received) == 1


# Hypothesis runs many examples per test, and a function-scoped fixture would be shared
# by all of them: the path is parametrized directly and each example gets its own server.
@pytest.mark.parametrize("path", PATHS)
@given(total=st.floats(0.5, 30), retry_after=st.floats(0, 10), attempts=st.integers(1, 40))
def test_retries_stay_within_attempts_and_total(
    path: str, total: float, retry_after: float, attempts: int
) -> None:
    clock = FakeClock()
    with fake_time(clock), network(path) as net:
        transport = net.transport(
            answer(503, b"", Retry_After=repr(retry_after)),
            retry=RetryPolicy(attempts=attempts, total=total))
        with pytest.raises(ServerError):
            transport.data("GET", "items", "a")
        sent = len(net.received)
    assert sent <= attempts
    # The budget is kept to the float's last digit: 25 waits of 0.02 may sum to 0.5000...01.
    assert sum(clock.sleeps) <= total + 1e-9
    assert len(clock.sleeps) == sent - 1


# Where a request got to: the classification on exceptions shaped as requests raises them
# (urllib3 2.x underneath), made here without a network; the retry decisions above make
# each of them for real on both paths.

def refused() -> requests.ConnectionError:
    reason = urllib3.exceptions.NewConnectionError(None, "[Errno 111] Connection refused")
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/x", reason))


def unresolvable() -> requests.ConnectionError:
    reason = urllib3.exceptions.NameResolutionError("nowhere.invalid", None, OSError("no"))
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/x", reason))


def reset() -> requests.ConnectionError:
    return requests.ConnectionError(urllib3.exceptions.ProtocolError(
        "Connection aborted.", ConnectionResetError(104, "Connection reset by peer")))


def connect_timeout() -> requests.ConnectTimeout:
    reason = urllib3.exceptions.ConnectTimeoutError(None, "connect timed out")
    return requests.ConnectTimeout(urllib3.exceptions.MaxRetryError(None, "/x", reason))


def read_timeout() -> requests.ReadTimeout:
    return requests.ReadTimeout(urllib3.exceptions.ReadTimeoutError(None, "/x", "Read timed out."))


def body_read_timeout() -> requests.ConnectionError:
    # What requests raises when the stall comes after the headers, inside the body.
    return requests.ConnectionError(
        urllib3.exceptions.ReadTimeoutError(None, "/x", "Read timed out."))


def tls_failure() -> requests.exceptions.SSLError:
    reason = urllib3.exceptions.SSLError("certificate verify failed")
    return requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(None, "/x", reason))


def broken_body() -> requests.exceptions.ChunkedEncodingError:
    return requests.exceptions.ChunkedEncodingError(urllib3.exceptions.ProtocolError(
        "Connection broken: IncompleteRead(10 bytes read, 90 more expected)"))


@pytest.mark.parametrize(
    ("failure", "never_reached"),
    [(refused, True), (unresolvable, True), (connect_timeout, True), (reset, False),
     (read_timeout, False), (body_read_timeout, False), (tls_failure, False),
     (broken_body, False)],
)
def test_never_reached_server_classification(failure: Any, never_reached: bool) -> None:
    assert _never_reached_server(failure()) is never_reached


def test_classification_of_real_failures_on_loopback() -> None:
    # A plain requests.Session, no transport: the classification of requests' own errors.
    with requests.Session() as session:
        with pytest.raises(requests.ConnectionError) as refused_for_real:
            session.get(f"http://127.0.0.1:{closed_port()}/x", timeout=2)
        assert _never_reached_server(refused_for_real.value)
        assert isinstance(wrap_error(refused_for_real.value, Call("GET", ("x",))), ConnectError)
        with FaultProxy("http://127.0.0.1:9", lifetime=20) as proxy:
            proxy.add(Fault.reset(path="/reset"), Fault.stall_body(5, path="/stall"))
            with pytest.raises(requests.ConnectionError) as reset_for_real:
                session.post(f"{proxy.url}/reset", json={}, timeout=2)
            assert not _never_reached_server(reset_for_real.value)
            with pytest.raises(requests.RequestException) as stalled:
                session.get(f"{proxy.url}/stall", timeout=0.3)
            assert _read_timed_out(stalled.value)
            assert not _never_reached_server(stalled.value)
            assert isinstance(wrap_error(stalled.value, Call("GET", ("stall",))), Timeout)


# Errors from answers.

def test_non_json_error_bodies_are_server_errors(clock: FakeClock, net: Net) -> None:
    transport = net.transport(answer(502, b"<html><title>502 Bad Gateway</title></html>"),
                              retry=RetryPolicy(attempts=1))
    with pytest.raises(ServerError) as caught:
        transport.data("GET", "items", "a")
    assert caught.value.status == 502 and "502 Bad Gateway" in str(caught.value)
    transport = net.transport(answer(503, b""), retry=RetryPolicy(attempts=1))
    with pytest.raises(ServerError, match="empty response body"):
        transport.data("GET", "items", "a")


def test_a_non_json_success_body_is_a_server_error(net: Net) -> None:
    transport = net.transport(answer(200, b"<html>maintenance</html>"))
    with pytest.raises(ServerError, match="maintenance") as caught:
        transport.data("GET", "items", "a")
    assert caught.value.status == 200 and caught.value.response is not None


class RecoveringAuth(DirectusAuth):
    def __init__(self) -> None:
        self.token, self.recovered = "one", 0

    def recover(self, failed: requests.PreparedRequest) -> bool:
        self.recovered += 1
        self.token = "two"
        return True

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


def test_token_expired_is_recovered_once_then_resent_once(clock: FakeClock, net: Net) -> None:
    auth = RecoveringAuth()
    transport = net.transport(directus_error(401, "TOKEN_EXPIRED"), answer(200), auth=auth)
    transport.data("GET", "items", "a")
    assert auth.recovered == 1
    assert [r.headers["Authorization"] for r in net.received] == ["Bearer one", "Bearer two"]

    before = len(net.received)
    auth = RecoveringAuth()
    transport = net.transport(directus_error(401, "TOKEN_EXPIRED"), auth=auth)
    with pytest.raises(AuthenticationError, match="TOKEN_EXPIRED"):
        transport.data("POST", "items", "a", json={})
    assert auth.recovered == 1 and len(net.received) == before + 2


class SharedAuth(RecoveringAuth):
    """A token another thread renews while each request is on the wire."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r = super().__call__(r)
        self.token += "+"
        return r

    def replaced(self, failed: Any) -> bool:
        return bool(failed.request.headers["Authorization"] != f"Bearer {self.token}")


def test_a_token_renewed_elsewhere_is_resent_without_renewing_a_bounded_number_of_times(
        clock: FakeClock, net: Net) -> None:
    # A request queued long on a busy server can outlive the token renewed for it: it is
    # sent again with the newer token (no renewal of its own), up to MAX_RESENDS times.
    expired = directus_error(401, "TOKEN_EXPIRED")
    auth = SharedAuth()
    transport = net.transport(*[expired] * MAX_RESENDS, answer(200), auth=auth)
    transport.data("GET", "items", "a")
    assert auth.recovered == 0 and len(net.received) == MAX_RESENDS + 1

    before = len(net.received)
    auth = SharedAuth()
    transport = net.transport(expired, auth=auth)
    with pytest.raises(AuthenticationError, match="TOKEN_EXPIRED"):
        transport.data("GET", "items", "a")
    assert auth.recovered == 0 and len(net.received) == before + MAX_RESENDS + 1


@pytest.mark.parametrize("code", ["INVALID_CREDENTIALS", "INVALID_TOKEN"])
def test_other_401s_are_not_recovered(clock: FakeClock, net: Net, code: str) -> None:
    auth = RecoveringAuth()
    transport = net.transport(directus_error(401, code), answer(200), auth=auth)
    with pytest.raises(AuthenticationError):
        transport.data("GET", "items", "a")
    assert auth.recovered == 0 and len(net.received) == 1


def test_unauthenticated_calls_are_not_recovered_and_carry_no_bearer(net: Net) -> None:
    auth = RecoveringAuth()
    transport = net.transport(directus_error(401, "TOKEN_EXPIRED"), auth=auth)
    transport.session.headers["Authorization"] = "Bearer stale"
    with pytest.raises(AuthenticationError):
        transport.data("POST", "auth", "refresh", json={}, authenticate=False)
    assert auth.recovered == 0
    assert "Authorization" not in net.received[0].headers


# URLs, headers, options.

@pytest.mark.parametrize(("url", "expected"), [
    ("http://127.0.0.1:8055", "http://127.0.0.1:8055"),
    ("https://cms.example.com/", "https://cms.example.com"),
    ("  https://cms.example.com/directus/  ", "https://cms.example.com/directus"),
    ("HTTPS://CMS.example.com", "HTTPS://CMS.example.com"),
])
def test_valid_base_urls(url: str, expected: str) -> None:
    assert validate_base_url(url) == expected


@pytest.mark.parametrize("url", [
    "", "   ", "cms.example.com", "127.0.0.1:8055", "ftp://cms.example.com", "http://",
    "https:///path", "https://cms.example.com/?x=1", "https://cms.example.com/#top",
    "file:///etc/passwd", None, 8055,
])
def test_invalid_base_urls(url: Any) -> None:
    with pytest.raises(UsageError) as caught:
        validate_base_url(url)
    assert not isinstance(caught.value, InvalidQuery)  # a misused argument, not a query


@given(st.one_of(st.text(min_size=1), st.integers()))
def test_segments_are_one_encoded_segment(segment: str | int) -> None:
    if segment in (".", ".."):
        return
    encoded = encode_segment(segment)
    assert "/" not in encoded and "?" not in encoded and "#" not in encoded
    assert encoded not in (".", "..")
    assert unquote(encoded) == str(segment)


@pytest.mark.parametrize("segment", [".", "..", "", True, None, 1.5, b"x"])
def test_bad_segments_are_refused(segment: Any) -> None:
    with pytest.raises(UsageError):
        encode_segment(segment)


def test_a_bad_segment_is_refused_before_sending(net: Net) -> None:
    transport = net.transport()
    with pytest.raises(UsageError):
        transport.data("GET", "items", "a", "..")
    assert net.received == [] and net.attempts == 0


def test_paths_are_percent_encoded_on_the_wire(net: Net) -> None:
    transport = net.transport()
    transport.data("GET", "items", "a b", "../../users/me")
    assert net.received[0].path_url == "/items/a%20b/..%2F..%2Fusers%2Fme"


def test_user_agent_timeout_and_tls_defaults(
    net: Net, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    transport = net.transport()
    transport.data("GET", "server", "info")
    agent = net.received[0].headers["User-Agent"]
    assert agent.startswith(f"pydirectus/{__version__} ") and "python-requests/" in agent
    assert net.calls[0].timeout == DEFAULT_TIMEOUT
    assert transport.verify is True
    # verify=True on the wire: requests' default CA bundle, which refuses the test CA.
    secure = net.transport(scheme="https", retry=RetryPolicy(attempts=1))
    with pytest.raises(TLSError, match="TLS failed"):
        secure.data("GET", "server", "info")
    tls = net.calls[-1]
    assert (tls.scheme, tls.cert_reqs) == ("https", "CERT_REQUIRED")
    # The default bundle: named (requests 2.33 on), or preloaded in requests' own SSLContext.
    assert tls.ca_certs in (None, requests.utils.extract_zipped_paths(DEFAULT_BUNDLE))
    assert len(net.received) == 1  # the handshake failed: nothing was sent


def test_environment_settings_are_honoured_once(
    net: Net, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    # As requests.Session.request does: a CA bundle and proxies from the environment.
    bundle = tmp_path / "env-ca.pem"
    bundle.write_text(TEST_CA_PEM)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    for name in ("NO_PROXY", "no_proxy", "http_proxy", "HTTPS_PROXY", "https_proxy",
                 "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    plain = net.transport()  # http: through the proxy (proxy.invalid leads to the server)
    plain.data("GET", "server", "info")
    plain.data("GET", "server", "info")
    secure = net.transport(scheme="https")  # https: no proxy; the bundle verifies it
    secure.data("GET", "server", "info")
    secure.data("GET", "server", "info")
    proxied = [call for call in net.calls if call.scheme == "http"]
    verified = [call for call in net.calls if call.scheme == "https"]
    assert [call.proxy for call in proxied] == ["http://proxy.invalid:3128"] * 2
    assert [call.ca_certs for call in verified] == [str(bundle)] * 2
    # On the wire: an absolute URL, as to a proxy; then TLS that only this bundle trusts.
    assert [(r.proxied, r.scheme) for r in net.received] == [
        (True, "http"), (True, "http"), (False, "https"), (False, "https")]
    assert net.received[0].url == f"{net.url}/server/info"


def test_client_timeout_and_verify_reach_the_wire(net: Net, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"  # the client checks that a CA bundle path exists
    bundle.write_text(TEST_CA_PEM)
    with net.client(url=net.https_url, auth=StaticToken("t"), timeout=(1.5, 7.0),
                    verify=str(bundle)) as client:
        client.read_items("a")
    assert net.calls[0].timeout == (1.5, 7.0)
    assert net.calls[0].ca_certs == str(bundle)
    assert net.received[0].scheme == "https"  # the default bundle would refuse the test CA


# Secrets and logging.

def test_secret_query_parameters_never_reach_error_messages(clock: FakeClock, net: Net) -> None:
    secret = "s3cr3t-t0ken"
    transport = net.transport(Step.refuse(), retry=RetryPolicy(attempts=1))
    # urllib3's own message for a refused connection names the URL, query string included.
    with requests.Session() as session, pytest.raises(requests.ConnectionError) as raw:
        session.get(f"{net.url}/items/a", params={"access_token": secret}, timeout=2)
    assert secret in str(raw.value)
    with pytest.raises(ConnectError) as caught:
        transport.data("GET", "items", "a", params={"access_token": secret})
    assert secret not in str(caught.value) and secret not in repr(caught.value)


def test_call_reprs_mask_secrets() -> None:
    call = Call("POST", ("auth", "login"), params={"access_token": "tok-1"},
                json={"email": "a@b.c", "password": "pw-2", "otp": "333444",
                      "nested": [{"refresh_token": "rt-5", "token": "st-6"}]},
                headers={"Authorization": "Bearer tok-7"})
    text = repr(call)
    for secret in ("tok-1", "pw-2", "333444", "rt-5", "st-6", "tok-7"):
        assert secret not in text
    assert "a@b.c" in text and "/auth/login" in call.path


def test_debug_log_lines_name_method_path_status_and_duration(
    caplog: pytest.LogCaptureFixture, net: Net,
) -> None:
    caplog.set_level(logging.DEBUG, logger="pydirectus")
    transport = net.transport(directus_error(404, "ROUTE_NOT_FOUND"),
                              auth=StaticToken("tok-secret"))
    with pytest.raises(NotFound):
        transport.data("GET", "items", "a", params={"access_token": "q-secret"})
    (record,) = [r for r in caplog.records if r.name == "pydirectus"]
    assert record.levelno == logging.DEBUG
    message = record.getMessage()
    assert message.startswith("GET /items/a -> 404 in ") and message.endswith(" ms")
    assert "secret" not in message


def test_password_refreshes_once_for_many_threads(net: Net) -> None:
    """One expired token, eight threads: one refresh; the others reuse its token."""
    state = {"n": 0}
    lock = threading.Lock()

    def auth_server(request: Received) -> Step:
        if not request.path_url.startswith("/auth/"):
            return answer(200)
        assert "Authorization" not in request.headers
        with lock:
            state["n"] += 1
            n = state["n"]
        time.sleep(0.05)  # a slow refresh makes the others queue on the lock
        return answer(200, (f'{{"data": {{"access_token": "a{n}", "refresh_token": '
                            f'"r{n}", "expires": 900000}}}}').encode())

    net.server.respond = auth_server
    auth = Password("a@b.c", "pw")
    transport = net.transport(auth=auth)
    transport.data("GET", "items", "a")
    auth._refresh_at = 0.0  # expired for everyone at once
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        transport.data("GET", "items", "a")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert (auth.logins, auth.refreshes) == (1, 1)
    paths = [r.path_url for r in net.received]
    assert paths.count("/auth/login") == 1 and paths.count("/auth/refresh") == 1
    reads = [r.headers["Authorization"] for r in net.received if r.path_url == "/items/a"]
    assert reads == ["Bearer a1"] + ["Bearer a2"] * 8
    transport.close()
    assert [r.path_url for r in net.received][-1] == "/auth/logout"
    assert auth._refresh_token is None


# Redirects: followed only for GET and HEAD, within an origin when credentials go along.

REDIRECTS = [301, 302, 303, 307, 308]
WRITES = ["POST", "PATCH", "PUT", "DELETE", "SEARCH"]


def redirect(status: int, location: str) -> Step:
    return Step.answer(status, b"", {"Location": location})


@pytest.mark.parametrize("status", REDIRECTS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_reads_follow_redirects_within_the_origin(net: Net, status: int, method: str) -> None:
    transport = net.transport(redirect(status, "/v2/items/a?x=1"),
                              answer(200, b'{"data": []}'), auth=StaticToken("tok"))
    response = transport.send(Call(method, ("items", "a")))
    assert response.status_code == 200
    _, second = net.received
    assert (second.method, second.url) == (method, f"{net.url}/v2/items/a?x=1")
    assert second.headers["Authorization"] == "Bearer tok"


@pytest.mark.parametrize("status", REDIRECTS)
@pytest.mark.parametrize("method", WRITES)
def test_writes_answered_with_a_redirect_raise_naming_the_location(
    net: Net, status: int, method: str
) -> None:
    target = "https://127.0.0.1/items/a"
    transport = net.transport(redirect(status, target), answer(200))
    with pytest.raises(UnexpectedRedirect) as caught:
        transport.send(Call(method, ("items", "a"), json={"title": "x"}))
    assert len(net.received) == 1  # nothing re-sent, and no GET in its place
    assert net.attempts == 1
    error = caught.value
    assert error.status == status and error.location == target
    assert target in str(error) and f"{method} /items/a" in str(error)
    assert "https://127.0.0.1" in str(error) and "instead of http://" in str(error)
    assert isinstance(error, APIError)


@pytest.mark.parametrize("status", REDIRECTS)
@pytest.mark.parametrize("endpoint", ["login", "refresh", "logout"])
def test_auth_calls_never_follow_redirects(net: Net, status: int, endpoint: str) -> None:
    transport = net.transport(redirect(status, f"{net.url}/auth/{endpoint}"), answer(200))
    with pytest.raises(UnexpectedRedirect, match="auth call"):
        transport.post_auth(endpoint, {"email": "a@b.c", "password": "pw-secret"})
    assert len(net.received) == 1


@pytest.mark.parametrize("location", [
    "http://127.0.0.1:9999/items/a",       # another port
    "http://evil.example/items/a",         # another host
    "https://127.0.0.1:8055/items/a",      # https, but not on the default ports
])
def test_no_credentials_cross_origins(net: Net, location: str) -> None:
    transport = net.transport(redirect(302, location), answer(200), auth=StaticToken("tok"))
    with pytest.raises(UnexpectedRedirect, match="another origin") as caught:
        transport.send(Call("GET", ("items", "a")))
    assert len(net.received) == 1 and caught.value.location == location
    assert net.attempts == 1


def test_an_anonymous_read_follows_to_another_origin(net: Net) -> None:
    transport = net.transport(redirect(302, "http://cdn.example/x.png"), answer(200))
    transport.send(Call("GET", ("assets", "x")))
    assert net.received[1].url == "http://cdn.example/x.png"
    assert "Authorization" not in net.received[1].headers


def test_http_to_https_on_the_same_host_keeps_the_credentials(net: Net) -> None:
    # cms.example (ports 80 and 443) leads to the server; its certificate names cms.example.
    transport = net.transport(redirect(301, "https://cms.example/items/a"), answer(200),
                              base="http://cms.example", auth=StaticToken("tok"),
                              verify=ca_bundle())
    transport.send(Call("GET", ("items", "a")))
    first, second = net.received
    assert (first.url, second.url) == ("http://cms.example/items/a",
                                       "https://cms.example/items/a")
    assert second.headers["Authorization"] == "Bearer tok"


def test_redirect_loops_end(net: Net) -> None:
    transport = net.transport(redirect(302, "/items/a"))
    with pytest.raises(UnexpectedRedirect, match="more than 5 redirects"):
        transport.send(Call("GET", ("items", "a")))
    assert len(net.received) == 6


@pytest.mark.parametrize("location", ["http://[::1/x", "http://host:port/x", "ftp://host/x",
                                      "javascript:alert(1)", "//[::1/x"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_redirect_to_an_unusable_location_is_a_server_error(
    net: Net, location: str, method: str,
) -> None:
    transport = net.transport(*[redirect(302, location)] * 5,
                              retry=RetryPolicy(attempts=2, backoff=0.01))
    with pytest.raises((ServerError, TransportError)) as caught:
        transport.send(Call(method, ("items", "a")))
    assert f"{method} /items/a" in str(caught.value)
    assert {request.url for request in net.received} == {f"{net.url}/items/a"}
    if isinstance(caught.value, TransportError):
        # requests' Session.send (the adapter path) parses the Location itself, and drops
        # the answer when it cannot: a TransportError saying so, nothing followed.
        assert "Location is not a URL" in str(caught.value)
    else:
        assert caught.value.status == 302 and "not an http(s) URL" in str(caught.value)


def test_a_3xx_without_location_is_a_server_error(net: Net) -> None:
    transport = net.transport(answer(300, b"choices"))
    with pytest.raises(ServerError):
        transport.data("GET", "items", "a")


# Replays: a body is sent again only when it can be rebuilt.

class OneShot:
    """A readable stream with no seek, like a socket or a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(7):
            yield chunk


PAYLOAD = b"0123456789" * 30


@pytest.mark.parametrize("body", [
    pytest.param(lambda: {"data": PAYLOAD}, id="bytes"),
    pytest.param(lambda: {"data": io.BytesIO(PAYLOAD)}, id="seekable-file"),
    pytest.param(lambda: {"body_factory": lambda: io.BytesIO(PAYLOAD)}, id="body-factory"),
])
def test_replayable_bodies_are_sent_whole_after_a_refresh(
    clock: FakeClock, net: Net, body: Any
) -> None:
    auth = RecoveringAuth()
    transport = net.transport(directus_error(401, "TOKEN_EXPIRED"), answer(200), auth=auth)
    transport.send(Call("POST", ("files",), **body()))
    assert [r.body for r in net.received] == [PAYLOAD, PAYLOAD]
    assert auth.recovered == 1


def test_a_seekable_file_is_rewound_to_where_it_started(clock: FakeClock, net: Net) -> None:
    stream = io.BytesIO(b"HEADER" + PAYLOAD)
    stream.seek(6)
    transport = net.transport(answer(503, b""), answer(200))
    transport.send(Call("PUT", ("files",), data=stream, idempotent=True))
    assert [r.body for r in net.received] == [PAYLOAD, PAYLOAD]


class FreshnessAuth(RecoveringAuth):
    def __init__(self) -> None:
        super().__init__()
        self.freshened = 0

    def ensure_fresh(self) -> None:
        self.freshened += 1


@pytest.mark.parametrize("stream", [
    pytest.param(lambda: OneShot(PAYLOAD), id="unseekable-file"),
    pytest.param(lambda: iter(OneShot(PAYLOAD)), id="generator"),
])
def test_a_one_shot_stream_is_never_sent_twice(clock: FakeClock, net: Net, stream: Any) -> None:
    auth = FreshnessAuth()
    transport = net.transport(directus_error(401, "TOKEN_EXPIRED"), answer(200), auth=auth)
    with pytest.raises(NotReplayable, match="one-shot stream") as caught:
        transport.send(Call("POST", ("files",), data=stream()))
    assert [r.body for r in net.received] == [PAYLOAD]  # one attempt, whole
    assert net.received[0].chunked  # no length known: sent chunked
    assert auth.freshened == 1 and auth.recovered == 1  # renewed before; renewed for next time
    assert isinstance(caught.value.__cause__, AuthenticationError)
    assert isinstance(caught.value, TransportError)


@pytest.mark.parametrize("failure", [Step.refuse(), answer(503, b"")], ids=["refused", "503"])
def test_a_one_shot_stream_is_not_retried(clock: FakeClock, net: Net, failure: Step) -> None:
    transport = net.transport(failure, answer(200))
    with pytest.raises(DirectusError):
        transport.send(Call("PUT", ("files",), data=iter(OneShot(PAYLOAD)), idempotent=True))
    assert net.attempts == 1


def test_ensure_fresh_is_asked_only_before_a_one_shot_stream(net: Net) -> None:
    auth = FreshnessAuth()
    transport = net.transport(answer(200), auth=auth)
    transport.send(Call("POST", ("files",), data=PAYLOAD))
    transport.send(Call("POST", ("items", "a"), json={"a": 1}))
    assert auth.freshened == 0
    transport.send(Call("POST", ("files",), data=OneShot(PAYLOAD)))
    assert auth.freshened == 1
    assert [r.body for r in net.received] == [PAYLOAD, b'{"a":1}', PAYLOAD]


# One JSON encoder for write data.

class Colour(enum.Enum):
    RED = "red"


def test_write_data_is_encoded_with_the_shared_encoder(net: Net) -> None:
    transport = net.transport()
    when = dt.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    transport.data("POST", "items", "a", json={
        "at": when, "day": dt.date(2024, 5, 6), "time": dt.time(7, 8), "price": Decimal("0.10"),
        "id": uuid.UUID(int=7), "colour": Colour.RED, "pair": (1, 2), "tags": {"b", "a"},
        "frozen": frozenset({3, 1}), "nested": [{"when": when}],
    })
    (request,) = net.received
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body or b"") == {
        "at": "2024-05-06T07:08:09.123000-05:00", "day": "2024-05-06", "time": "07:08:00",
        "price": "0.10", "id": "00000000-0000-0000-0000-000000000007", "colour": "red",
        "pair": [1, 2], "tags": ["a", "b"], "frozen": [1, 3],
        "nested": [{"when": "2024-05-06T07:08:09.123000-05:00"}],
    }


@pytest.mark.parametrize(("data", "where"), [
    ({"score": math.nan}, "score"),
    ({"score": math.inf}, "score"),
    ({"a": {"b": [1, -math.inf]}}, "a.b[1]"),
    ({"price": Decimal("NaN")}, "price"),
    ({"blob": b"bytes"}, "blob"),
    ({"when": object()}, "when"),
    ([{"ok": 1}, {"bad": {1j: 2}}], "[1].bad"),
])
def test_unencodable_write_data_is_refused_before_sending(net: Net, data: Any, where: str) -> None:
    transport = net.transport()
    with pytest.raises(InvalidQuery, match=re.escape(repr(where))):
        transport.data("POST", "items", "a", json=data)
    assert net.received == [] and net.attempts == 0


# Wrong-shape 2xx bodies: a ServerError naming the route, never a TypeError or None.

WRONG_SHAPES = [b"{}", b'{"data": null}', b"null", b"42", b"", b'"text"', b"[]"]


def routed(body: bytes) -> Callable[[Received], Step]:
    """Answer the schema lookups properly and everything else with one odd body."""

    def respond(request: Received) -> Step:
        path = request.path_url
        if path.startswith("/collections/"):
            return answer(200, b'{"data": {"collection": "a", "meta": {"singleton": false}}}')
        if path.startswith("/fields/"):
            return answer(200, b'{"data": [{"field": "id", "schema": {"is_primary_key": true}}]}')
        return answer(200, body)

    return respond


READS: dict[str, Callable[[DirectusClient], Any]] = {
    "read_items": lambda c: c.read_items("a"),
    "read_item": lambda c: c.read_item("a", 1),
    "collection.get": lambda c: c.collection("a").get(1),
    "collection.first": lambda c: c.collection("a").first(),
    "collection.count": lambda c: c.collection("a").count(),
    "collection.list": lambda c: list(c.collection("a")),
    "singleton.get": lambda c: c.singleton("a").get(),
    "read_files": lambda c: c.read_files(),
    "read_file": lambda c: c.read_file("f"),
    "server.info": lambda c: c.server.info(),
}


@pytest.mark.parametrize("body", WRONG_SHAPES)
@pytest.mark.parametrize("read", READS)
def test_wrong_shape_bodies_are_server_errors_naming_the_route(
    net: Net, body: bytes, read: str
) -> None:
    if body == b"[]" and read in ("read_items", "collection.list", "read_files"):
        return  # a bare list where a list of items is wanted: still no envelope, see below
    net.server.respond = routed(body)
    with net.client() as client, pytest.raises(ServerError) as caught:
        READS[read](client)
    error = caught.value
    assert error.status == 200
    assert re.search(r"(GET|SEARCH) /(items|files|server)/?\S*: expected", str(error)), str(error)


def test_a_bare_list_is_not_an_envelope(net: Net) -> None:
    net.server.respond = routed(b"[]")
    expected = "GET /files: expected a JSON object with 'data'"
    with net.client() as client, pytest.raises(ServerError, match=expected):
        client.read_files()


# A session passed in is used, not changed.

def test_a_users_session_is_not_changed_or_closed(
    net: Net, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Over https, so that the session's CA bundle matters: only it trusts the server.
    # (requests lets REQUESTS_CA_BUNDLE override it in the session's own calls.)
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    bundle = tmp_path / "my-ca.pem"
    bundle.write_text(TEST_CA_PEM)
    session = requests.Session()
    session.verify = str(bundle)
    session.headers["User-Agent"] = "my-app/1.0"
    session.headers["X-Trace"] = "yes"
    before = (session.verify, dict(session.headers), dict(session.adapters))
    net.server.script(answer(200, b'{"data": []}'))
    with net.client(url=net.https_url, auth=StaticToken("t"), session=session,
                    timeout=(1, 2)) as client:
        client.read_files()
    assert (session.verify, dict(session.headers), dict(session.adapters)) == before
    assert net.calls[0].ca_certs == str(bundle)
    assert net.calls[0].timeout == (1, 2)
    request = net.received[0]
    assert request.scheme == "https"
    assert request.headers["User-Agent"] == "my-app/1.0" and request.headers["X-Trace"] == "yes"
    assert "Authorization" not in session.headers
    assert session.adapters  # not closed: its adapters are still mounted and usable
    session.get(f"{net.https_url}/x")
    assert len(net.received) == 2


def test_verify_passed_to_the_client_wins_over_the_sessions(
    net: Net, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    session = requests.Session()
    session.verify = DEFAULT_BUNDLE  # does not trust the test CA
    net.server.script(answer(200, b'{"data": []}'))
    # urllib3 warns about an unverified https request, whichever path sent it.
    with pytest.warns(urllib3.exceptions.InsecureRequestWarning), net.client(
            url=net.https_url, session=session, verify=False) as client:
        client.read_files()
    assert net.calls[0].cert_reqs == "CERT_NONE" and session.verify == DEFAULT_BUNDLE
    assert net.received[0].scheme == "https"  # the session's bundle would have refused it


def test_a_session_the_client_made_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sends nothing: closing is the same on both paths.
    closed: list[bool] = []
    monkeypatch.setattr(requests.Session, "close", lambda self: closed.append(True))
    DirectusClient(BASE).close()
    assert closed == [True]
    DirectusClient(BASE, session=requests.Session()).close()
    assert closed == [True]


# Password auth remembers a refusal.

class LoginServer:
    """/auth/login refuses with `code` until `accept` is set; everything else answers 200."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.accept = False

    def __call__(self, request: Received) -> Step:
        if request.path_url == "/auth/login":
            if self.accept:
                return answer(200, b'{"data": {"access_token": "a1", "refresh_token": "r1", '
                                   b'"expires": 900000}}')
            return directus_error(401, self.code)
        return answer(200, b'{"data": []}')


@pytest.mark.parametrize("code", ["INVALID_CREDENTIALS", "USER_SUSPENDED", "INVALID_OTP"])
def test_a_refused_login_is_remembered_until_new_credentials(net: Net, code: str) -> None:
    server = LoginServer(code)
    net.server.respond = server
    auth = Password("a@b.c", "wrong-pw")
    client = net.client(auth=auth)
    for _ in range(30):
        with pytest.raises(AuthenticationError) as caught:
            client.read_files()
        assert caught.value.code == code and caught.value.status == 401
    logins = [r for r in net.received if r.path_url == "/auth/login"]
    assert len(logins) == 1 and auth.logins == 0
    assert "set_credentials" in str(caught.value) and "wrong-pw" not in str(caught.value)
    server.accept = True
    with pytest.raises(AuthenticationError):
        client.read_files()  # still remembered: nothing changed on our side
    auth.set_credentials(password="right-pw")
    assert client.read_files() == []
    assert auth.logins == 1
    assert [r.path_url for r in net.received].count("/auth/login") == 2
    assert json.loads(net.received[-2].body)["password"] == "right-pw"


def test_other_login_failures_are_not_remembered(clock: FakeClock, net: Net) -> None:
    transport = net.transport(answer(503, b""), retry=RetryPolicy(attempts=1))
    auth = Password("a@b.c", "pw")
    auth.bind(transport)
    for _ in range(3):
        with pytest.raises(ServerError):
            auth(requests.Request("GET", net.url).prepare())
    assert len(net.received) == 3


@pytest.mark.parametrize("answer_body", [
    b'{"data": {}}', b'{"data": {"access_token": "a", "refresh_token": "r"}}',
    b'{"data": {"access_token": "a", "refresh_token": "r", "expires": "soon"}}',
    b'{"data": {"access_token": 1, "refresh_token": "r", "expires": 1000}}',
    b'{"data": {"access_token": "a", "refresh_token": "r", "expires": NaN}}',
    b'{"data": null}', b"[]",
])
def test_an_odd_login_answer_is_a_server_error_naming_the_route(
    net: Net, answer_body: bytes
) -> None:
    transport = net.transport(answer(200, answer_body))
    auth = Password("a@b.c", "pw")
    auth.bind(transport)
    with pytest.raises(ServerError, match="POST /auth/login"):
        auth(requests.Request("GET", net.url).prepare())


def test_an_unbound_password_raises_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not bound"):
        Password("a@b.c", "pw")(requests.Request("GET", BASE).prepare())


# Constructor misuse: UsageError (a ValueError), not a query error.

@pytest.mark.parametrize("build", [
    lambda: StaticToken(""), lambda: Password("", "pw"), lambda: Password("a@b.c", ""),
    lambda: Password("a@b.c", "pw", otp=""), lambda: RetryPolicy(attempts=0),
    lambda: RetryPolicy(total=math.inf), lambda: RetryPolicy(backoff=-1),
    lambda: RetryPolicy(max_backoff=math.nan), lambda: DirectusClient("ftp://x"),
    lambda: DirectusClient(BASE, hostname="http://other"),
    lambda: DirectusClient(BASE, auth="token"),  # type: ignore[arg-type]
    lambda: DirectusClient(BASE, username="a@b.c"),
    lambda: DirectusClient(BASE, static_token="t", auth=StaticToken("t")),
    lambda: DirectusClient("http://host:port"),
])
def test_constructor_misuse_is_a_usage_error(build: Callable[[], Any]) -> None:
    with pytest.raises(UsageError) as caught:
        build()
    assert isinstance(caught.value, ValueError) and not isinstance(caught.value, InvalidQuery)


@pytest.mark.parametrize("url", ["ftp://user:UrlPa55@host", "http://user:UrlPa55@host:bad/",
                                 "http://user:UrlPa55@host/?x=1"])
def test_url_passwords_never_reach_the_message(url: str) -> None:
    with pytest.raises(UsageError) as caught:
        DirectusClient(url)
    assert "UrlPa55" not in str(caught.value) and "***" in str(caught.value)


# No secret reachable from an exception.

SECRETS = ("pw-Secret-1", "tok-Secret-2", "acc-Secret-3", "ref-Secret-4")


def leaked(error: BaseException) -> list[str]:
    return leaks(error, SECRETS)


def test_the_walker_finds_what_it_looks_for() -> None:
    inner = ValueError({"nested": [f"x {SECRETS[0]} y"]})
    outer = RuntimeError("outer")
    outer.__context__ = inner
    assert leaked(outer) == [f"{SECRETS[0]} in 'x {SECRETS[0]} y'"]
    response = requests.Response()
    assert leaked(RuntimeError(response)) == ["a live Response"]


def secret_echo(request: Received) -> Step:
    """Answers that echo what a careless server or proxy might: tokens, cookies, the URL."""
    path = request.path_url
    if path == "/auth/login":
        return directus_error(401, "INVALID_CREDENTIALS")
    if path.startswith("/items/cut"):  # a login answer cut short: not JSON
        return answer(200, b'{"data": {"access_token": "acc-Secret-3", "refresh_tok')
    if path.startswith("/items/odd"):
        return answer(200, b'{"data": 42, "refresh_token": "ref-Secret-4"}')
    if path.startswith("/items/moved"):
        return redirect(302, f"http://elsewhere.example/x?access_token={SECRETS[1]}")
    if path.startswith("/items/cookie"):
        return Step.answer(500, b'{"errors": [{"message": "boom"}]}',
                           {"Set-Cookie": "directus_session_token=acc-Secret-3"})
    return Step.answer(403, b'{"errors": [{"message": "no", "extensions": {"code": "FORBIDDEN"}}]}',
                       {"Content-Type": "application/json"})


@pytest.mark.parametrize("case", ["login", "static-403", "cut", "odd", "cookie", "query-token",
                                  "connection", "connection-query-token", "redirect"])
def test_no_secret_reachable_from_any_exception(net: Net, case: str) -> None:
    if case.startswith("connection"):
        # A refused connection: requests' error holds the request (its Authorization
        # header), and urllib3's message the URL with its query string.
        net.server.script(Step.refuse())
    else:
        net.server.respond = secret_echo
    auth: DirectusAuth = Password("a@b.c", SECRETS[0]) if case == "login" else StaticToken(
        SECRETS[1])
    client = net.client(auth=auth, retry=RetryPolicy(attempts=1))
    action: dict[str, Callable[[], Any]] = {
        "login": lambda: client.read_items("a"),
        "static-403": lambda: client.create_item("a", {"password": SECRETS[0]}),
        "cut": lambda: client.read_items("cut"),
        "odd": lambda: client.read_item("odd", 1),
        "cookie": lambda: client.read_item("cookie", 1),
        "query-token": lambda: client.request("GET", "items/a",
                                              params={"access_token": SECRETS[1]}),
        "connection": lambda: client.read_items("a"),
        "connection-query-token": lambda: client.request("GET", "items/a",
                                                         params={"access_token": SECRETS[1]}),
        "redirect": lambda: client.read_item("moved", 1),
    }
    with pytest.raises(DirectusError) as caught:
        action[case]()
    assert leaked(caught.value) == []
    assert not any(secret in repr(caught.value) or secret in str(caught.value)
                   for secret in SECRETS)
    if isinstance(caught.value, APIError):
        response = caught.value.response
        assert response is not None and response.request is not None
        assert caught.value.method == response.request.method
        assert caught.value.url is not None and caught.value.url.startswith(net.url)


# Every entry point that takes a query dict checks it the same way, before sending.

QUERY_ENTRY_POINTS: dict[str, Callable[[DirectusClient, Any], Any]] = {
    "read_items": lambda c, q: c.read_items("a", query=q),
    "read_item": lambda c, q: c.read_item("a", 1, query=q),
    "read_files": lambda c, q: c.read_files(query=q),
    "read_file": lambda c, q: c.read_file("f", query=q),
    "singleton.get": lambda c, q: c.singleton("a").get(query=q),
    "collection.query": lambda c, q: c.collection("a").query(q),
}
BAD_QUERIES = [{"limitt": 5}, {"limit": "many"}, {"filter": {"x": {"_eq": math.nan}}},
               {"filter": {"x": {"_bogus": 1}}}, {"fields": 5}, ["limit", 5]]


@pytest.mark.parametrize("query", BAD_QUERIES, ids=["unknown-key", "bad-limit", "nan",
                                                    "bad-operator", "bad-fields", "list"])
@pytest.mark.parametrize("entry", QUERY_ENTRY_POINTS)
def test_query_dicts_are_checked_alike_before_sending(net: Net, entry: str, query: Any) -> None:
    net.server.respond = routed(b'{"data": []}')
    with net.client() as client, pytest.raises(InvalidQuery):
        QUERY_ENTRY_POINTS[entry](client, query)
    assert net.received == [] and net.attempts == 0


@pytest.mark.parametrize("entry", ["read_files", "singleton.get"])
def test_a_good_query_dict_reaches_the_wire(net: Net, entry: str) -> None:
    net.server.respond = routed(b'{"data": {"id": 1}}' if entry == "singleton.get"
                                else b'{"data": []}')
    with net.client() as client:
        QUERY_ENTRY_POINTS[entry](client, {"limit": 5, "filter": {"type": {"_eq": "image/png"}},
                                           "fields": ["id"]})
    sent = unquote(net.received[-1].url)
    assert 'filter={"type":{"_eq":"image/png"}}' in sent and "limit=5" in sent
