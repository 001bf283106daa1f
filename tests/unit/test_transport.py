"""Transport without a server: a scripted requests adapter stands in for the wire."""

from __future__ import annotations

import email.utils
import logging
import threading
import time
import types
from typing import Any
from urllib.parse import unquote

import pytest
import requests
import urllib3.exceptions
from hypothesis import given
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from pydirectus import DirectusClient, Password, StaticToken, __version__
from pydirectus import transport as transport_module
from pydirectus.auth import DirectusAuth
from pydirectus.errors import (
    APIError,
    AuthenticationError,
    ConnectError,
    InvalidQuery,
    NotFound,
    RateLimited,
    ServerError,
    Timeout,
    TLSError,
    TransportError,
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
from tests.faults import Fault, FaultProxy, closed_port

BASE = "http://127.0.0.1:8055"
Step = tuple[int, bytes, dict[str, str]] | BaseException


def answer(status: int, body: bytes = b'{"data": {}}', **headers: str) -> Step:
    return (status, body, {k.replace("_", "-"): v for k, v in headers.items()})


def directus_error(status: int, code: str) -> Step:
    body = f'{{"errors":[{{"message":"{code}","extensions":{{"code":"{code}"}}}}]}}'
    return (status, body.encode(), {"Content-Type": "application/json"})


# Exceptions shaped as requests raises them (urllib3 2.x underneath).
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


class ScriptedAdapter(requests.adapters.BaseAdapter):
    """Answer each request with the next scripted step; the last step repeats."""

    def __init__(self, *steps: Step) -> None:
        super().__init__()
        self.steps = list(steps) or [answer(200)]
        self.sent: list[requests.PreparedRequest] = []
        self.options: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def respond(self, request: requests.PreparedRequest) -> Step:
        with self._lock:
            return self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]

    def send(self, request: requests.PreparedRequest, **options: Any) -> requests.Response:
        with self._lock:
            self.sent.append(request)
            self.options.append(options)
        step = self.respond(request)
        if isinstance(step, BaseException):
            raise step
        status, body, headers = step
        response = requests.Response()
        response.status_code = status
        response._content = body
        response.headers = CaseInsensitiveDict(headers)
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        pass


class FakeClock:
    """Stands in for the time module inside pydirectus.transport: sleeping is instant."""

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


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(transport_module, "time", types.SimpleNamespace(
        monotonic=fake.monotonic, perf_counter=fake.perf_counter, sleep=fake.sleep))
    return fake


def make_transport(*steps: Step, **options: Any) -> tuple[Transport, ScriptedAdapter]:
    session = requests.Session()
    adapter = ScriptedAdapter(*steps)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    options.setdefault("retry", RetryPolicy(attempts=3, backoff=0.01))
    return Transport(BASE, session=session, **options), adapter


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
    clock: FakeClock, method: str, idempotent: bool | None, status: int, attempts: int
) -> None:
    transport, adapter = make_transport(answer(status, b""))
    with pytest.raises(APIError) as caught:
        transport.send(Call(method, ("items", "a", 1), idempotent=idempotent))
    assert len(adapter.sent) == attempts
    assert caught.value.status == status
    assert len(clock.sleeps) == attempts - 1


def test_a_retried_read_returns_the_first_success(clock: FakeClock) -> None:
    transport, adapter = make_transport(answer(503, b""), answer(502, b"<html>"),
                                        answer(200, b'{"data": [1]}'))
    assert transport.data("GET", "items", "a") == [1]
    assert len(adapter.sent) == 3


@pytest.mark.parametrize(
    ("method", "failure", "attempts", "error"),
    [
        ("GET", reset, 3, ConnectError),
        ("GET", refused, 3, ConnectError),
        ("GET", broken_body, 3, ConnectError),
        ("GET", connect_timeout, 3, Timeout),
        ("GET", read_timeout, 1, Timeout),      # the server may still be working on it
        ("GET", body_read_timeout, 1, Timeout),
        ("GET", tls_failure, 3, TLSError),
        ("POST", reset, 1, ConnectError),       # it may have been processed
        ("PATCH", reset, 1, ConnectError),
        ("POST", broken_body, 1, ConnectError),
        ("POST", read_timeout, 1, Timeout),
        ("POST", body_read_timeout, 1, Timeout),
        ("POST", refused, 3, ConnectError),     # never left this machine: safe
        ("POST", unresolvable, 3, ConnectError),
        ("POST", connect_timeout, 3, Timeout),
        ("POST", tls_failure, 1, TLSError),
    ],
)
def test_retry_decisions_on_transport_failures(
    clock: FakeClock, method: str, failure: Any, attempts: int, error: type[TransportError]
) -> None:
    transport, adapter = make_transport(failure())
    with pytest.raises(error) as caught:
        transport.send(Call(method, ("items", "a")))
    assert len(adapter.sent) == attempts
    assert isinstance(caught.value.__cause__, requests.RequestException)
    assert f"{method} /items/a" in str(caught.value)


def test_a_post_is_resent_only_when_it_never_left(clock: FakeClock) -> None:
    transport, adapter = make_transport(refused(), refused(), answer(200, b'{"data": {"id": 1}}'))
    assert transport.data("POST", "items", "a", json={"x": 1}) == {"id": 1}
    assert len(adapter.sent) == 3


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


def test_retry_after_is_honoured(clock: FakeClock) -> None:
    transport, _ = make_transport(answer(503, b"", Retry_After="2"), answer(200))
    transport.data("GET", "items", "a")
    assert clock.sleeps == [2.0]
    transport, _ = make_transport(answer(429, b"", Retry_After="7"), answer(200),
                                  retry=RetryPolicy(backoff=0.01, max_backoff=1))
    transport.data("GET", "items", "a")
    assert clock.sleeps == [2.0, 7.0]  # Retry-After beats max_backoff


def test_retry_after_beyond_the_budget_gives_up_at_once(clock: FakeClock) -> None:
    transport, adapter = make_transport(answer(429, b"", Retry_After="120"), answer(200),
                                        retry=RetryPolicy(attempts=5, total=60))
    with pytest.raises(RateLimited) as caught:
        transport.data("GET", "items", "a")
    assert caught.value.retry_after == 120.0
    assert clock.sleeps == [] and len(adapter.sent) == 1


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
    clock: FakeClock, header: str | float, slept: tuple[float, float]
) -> None:
    # A float stands for an HTTP-date that many seconds from now (made when the test runs).
    text = _http_date(header) if isinstance(header, float) else header
    transport, adapter = make_transport(answer(503, b"", Retry_After=text), answer(200),
                                        retry=RetryPolicy(backoff=0.1, max_backoff=1))
    transport.data("GET", "items", "a")
    (sleep,) = clock.sleeps
    assert slept[0] <= sleep <= slept[1]
    assert len(adapter.sent) == 2


@pytest.mark.parametrize("header", ["61", "1e308", 3600.0])
def test_a_retry_after_beyond_the_budget_is_not_waited_for(
    clock: FakeClock, header: str | float
) -> None:
    text = _http_date(header) if isinstance(header, float) else header
    transport, adapter = make_transport(answer(429, b"", Retry_After=text), answer(200),
                                        retry=RetryPolicy(attempts=5, total=60))
    with pytest.raises(RateLimited):
        transport.data("GET", "items", "a")
    assert clock.sleeps == [] and len(adapter.sent) == 1


@given(total=st.floats(0.5, 30), retry_after=st.floats(0, 10), attempts=st.integers(1, 40))
def test_retries_stay_within_attempts_and_total(
    total: float, retry_after: float, attempts: int
) -> None:
    clock = FakeClock()
    original = transport_module.time
    transport_module.time = types.SimpleNamespace(
        monotonic=clock.monotonic, perf_counter=clock.perf_counter, sleep=clock.sleep)
    try:
        transport, adapter = make_transport(
            answer(503, b"", Retry_After=repr(retry_after)),
            retry=RetryPolicy(attempts=attempts, total=total))
        with pytest.raises(ServerError):
            transport.data("GET", "items", "a")
    finally:
        transport_module.time = original
    assert len(adapter.sent) <= attempts
    assert sum(clock.sleeps) <= total
    assert len(clock.sleeps) == len(adapter.sent) - 1


# Where a request got to.

@pytest.mark.parametrize(
    ("failure", "never_reached"),
    [(refused, True), (unresolvable, True), (connect_timeout, True), (reset, False),
     (read_timeout, False), (body_read_timeout, False), (tls_failure, False),
     (broken_body, False)],
)
def test_never_reached_server_classification(failure: Any, never_reached: bool) -> None:
    assert _never_reached_server(failure()) is never_reached


def test_classification_of_real_failures_on_loopback() -> None:
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

def test_non_json_error_bodies_are_server_errors(clock: FakeClock) -> None:
    transport, _ = make_transport(answer(502, b"<html><title>502 Bad Gateway</title></html>"),
                                  retry=RetryPolicy(attempts=1))
    with pytest.raises(ServerError) as caught:
        transport.data("GET", "items", "a")
    assert caught.value.status == 502 and "502 Bad Gateway" in str(caught.value)
    transport, _ = make_transport(answer(503, b""), retry=RetryPolicy(attempts=1))
    with pytest.raises(ServerError, match="empty response body"):
        transport.data("GET", "items", "a")


def test_a_non_json_success_body_is_a_server_error() -> None:
    transport, _ = make_transport(answer(200, b"<html>maintenance</html>"))
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


def test_token_expired_is_recovered_once_then_resent_once(clock: FakeClock) -> None:
    auth = RecoveringAuth()
    transport, adapter = make_transport(directus_error(401, "TOKEN_EXPIRED"), answer(200),
                                        auth=auth)
    transport.data("GET", "items", "a")
    assert auth.recovered == 1
    assert [r.headers["Authorization"] for r in adapter.sent] == ["Bearer one", "Bearer two"]

    auth = RecoveringAuth()
    transport, adapter = make_transport(directus_error(401, "TOKEN_EXPIRED"), auth=auth)
    with pytest.raises(AuthenticationError, match="TOKEN_EXPIRED"):
        transport.data("POST", "items", "a", json={})
    assert auth.recovered == 1 and len(adapter.sent) == 2


@pytest.mark.parametrize("code", ["INVALID_CREDENTIALS", "INVALID_TOKEN"])
def test_other_401s_are_not_recovered(clock: FakeClock, code: str) -> None:
    auth = RecoveringAuth()
    transport, adapter = make_transport(directus_error(401, code), answer(200), auth=auth)
    with pytest.raises(AuthenticationError):
        transport.data("GET", "items", "a")
    assert auth.recovered == 0 and len(adapter.sent) == 1


def test_unauthenticated_calls_are_not_recovered_and_carry_no_bearer() -> None:
    auth = RecoveringAuth()
    transport, adapter = make_transport(directus_error(401, "TOKEN_EXPIRED"), auth=auth)
    transport.session.headers["Authorization"] = "Bearer stale"
    with pytest.raises(AuthenticationError):
        transport.data("POST", "auth", "refresh", json={}, authenticate=False)
    assert auth.recovered == 0
    assert "Authorization" not in adapter.sent[0].headers


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
    with pytest.raises(InvalidQuery):
        validate_base_url(url)


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
    with pytest.raises(InvalidQuery):
        encode_segment(segment)


def test_a_bad_segment_is_refused_before_sending() -> None:
    transport, adapter = make_transport()
    with pytest.raises(InvalidQuery):
        transport.data("GET", "items", "a", "..")
    assert adapter.sent == []


def test_paths_are_percent_encoded_on_the_wire() -> None:
    transport, adapter = make_transport()
    transport.data("GET", "items", "a b", "../../users/me")
    assert adapter.sent[0].path_url == "/items/a%20b/..%2F..%2Fusers%2Fme"


def test_user_agent_timeout_and_tls_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    transport, adapter = make_transport()
    transport.data("GET", "server", "info")
    agent = adapter.sent[0].headers["User-Agent"]
    assert agent.startswith(f"pydirectus/{__version__} ") and "python-requests/" in agent
    assert adapter.options[0]["timeout"] == DEFAULT_TIMEOUT
    assert adapter.options[0]["verify"] is True


def test_environment_settings_are_honoured_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # As requests.Session.request does: a CA bundle and proxies from the environment.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/env/ca.pem")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    transport, adapter = make_transport()
    transport.data("GET", "server", "info")
    transport.data("GET", "server", "info")
    assert [o["verify"] for o in adapter.options] == ["/env/ca.pem"] * 2
    assert [o["proxies"].get("http") for o in adapter.options] == ["http://proxy.invalid:3128"] * 2


def test_client_timeout_and_verify_reach_the_wire() -> None:
    session = requests.Session()
    adapter = ScriptedAdapter()
    session.mount("http://", adapter)
    with DirectusClient(BASE, auth=StaticToken("t"), timeout=(1.5, 7.0), verify="/ca.pem",
                        session=session) as client:
        client.read_items("a")
    assert adapter.options[0]["timeout"] == (1.5, 7.0)
    assert adapter.options[0]["verify"] == "/ca.pem"


# Secrets and logging.

def test_secret_query_parameters_never_reach_error_messages(clock: FakeClock) -> None:
    secret = "s3cr3t-t0ken"
    failure = requests.ConnectionError(
        f"HTTPConnectionPool: Max retries exceeded with url: /items/a?access_token={secret}")
    transport, _ = make_transport(failure, retry=RetryPolicy(attempts=1))
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
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="pydirectus")
    transport, _ = make_transport(directus_error(404, "ROUTE_NOT_FOUND"),
                                  auth=StaticToken("tok-secret"))
    with pytest.raises(NotFound):
        transport.data("GET", "items", "a", params={"access_token": "q-secret"})
    (record,) = [r for r in caplog.records if r.name == "pydirectus"]
    assert record.levelno == logging.DEBUG
    message = record.getMessage()
    assert message.startswith("GET /items/a -> 404 in ") and message.endswith(" ms")
    assert "secret" not in message


def test_password_refreshes_once_for_many_threads() -> None:
    """One expired token, eight threads: one refresh; the others reuse its token."""
    state = {"n": 0}
    lock = threading.Lock()

    class AuthServer(ScriptedAdapter):
        def respond(self, request: requests.PreparedRequest) -> Step:
            if not request.path_url.startswith("/auth/"):
                return answer(200)
            assert "Authorization" not in request.headers
            with lock:
                state["n"] += 1
                n = state["n"]
            time.sleep(0.05)  # a slow refresh makes the others queue on the lock
            return answer(200, (f'{{"data": {{"access_token": "a{n}", "refresh_token": '
                                f'"r{n}", "expires": 900000}}}}').encode())

    session = requests.Session()
    adapter = AuthServer()
    session.mount("http://", adapter)
    auth = Password("a@b.c", "pw")
    transport = Transport(BASE, auth=auth, session=session)
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
    paths = [r.path_url for r in adapter.sent]
    assert paths.count("/auth/login") == 1 and paths.count("/auth/refresh") == 1
    reads = [r.headers["Authorization"] for r in adapter.sent if r.path_url == "/items/a"]
    assert reads == ["Bearer a1"] + ["Bearer a2"] * 8
    transport.close()
    assert [r.path_url for r in adapter.sent][-1] == "/auth/logout"
    assert auth._refresh_token is None
