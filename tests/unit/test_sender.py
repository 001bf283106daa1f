"""The lean request path puts the same bytes on the wire as a plain requests.Session."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from pydirectus import StaticToken
from pydirectus.encoding import encode_bytes
from pydirectus.sender import LeanSender, encode_query
from pydirectus.transport import Call, Transport
from tests.loopback import LoopbackServer

ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
          b"Connection: close\r\n\r\n{\"data\":{}}")


class RecordingServer(LoopbackServer):
    """Keeps the raw bytes of each request it reads; answers a small JSON object."""

    def __init__(self) -> None:
        super().__init__(lambda conn: conn.sendall(ANSWER))


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    recording = RecordingServer()
    yield recording
    recording.close()


FILTER = '{"title":{"_eq":"Ünïcødé & = + ? # / % ; , : @ ~ é 日本"}}'

# (name, make the call); a factory, as a streamed body can be sent only once.
CASES: list[tuple[str, Callable[[], Call]]] = [
    ("get", lambda: Call("GET", ("items", "articles"))),
    ("get params", lambda: Call("GET", ("items", "articles"), params={
        "filter": FILTER, "fields": "*,author.*", "limit": "10", "sort": "-date,title"})),
    ("get unicode keys", lambda: Call("GET", ("items", "ärticles"), params={
        "sëarch": "a+b c&d=e", "deep": '{"x":{"_limit":1}}', "empty": ""})),
    ("reserved segments", lambda: Call("GET", ("items", "a b/c?d#e", "..%2F", "日本"))),
    ("head", lambda: Call("HEAD", ("server", "ping"))),
    ("post json", lambda: Call("POST", ("items", "articles"),
                               json={"title": "Ünïcødé \u2028", "n": 1.5, "tags": ["a", "b"]})),
    ("patch json list", lambda: Call("PATCH", ("items", "articles"), json=[{"id": 1}, {"id": 2}])),
    ("search json", lambda: Call("SEARCH", ("items", "articles"),
                                 json={"query": {"filter": {"a": {"_eq": "&"}}}})),
    ("delete", lambda: Call("DELETE", ("items", "articles", 7))),
    ("post bytes", lambda: Call("POST", ("files",), data=b"\x00\x01raw",
                                headers={"Content-Type": "application/octet-stream"})),
    ("post form", lambda: Call("POST", ("files", "import"), data={"a": "é b", "c": "&"})),
    ("post file", lambda: Call("POST", ("files",), data=io.BytesIO(b"file body" * 100))),
    ("post stream", lambda: Call("POST", ("files",),
                                 data=(chunk for chunk in (b"one", b"two", b"three")))),
    ("custom headers", lambda: Call("GET", ("my-endpoint",), headers={"X-Trace": "abc"})),
    ("unauthenticated", lambda: Call("POST", ("auth", "login"), json={"email": "a@b.c"},
                                     authenticate=False)),
]


def plain_session_bytes(server: RecordingServer, call: Call) -> bytes:
    """What a plain requests.Session sends for the same request (the transport's headers)."""
    agent = Transport(server.url).sender  # the User-Agent the transport adds
    headers = {"User-Agent": agent._agent["User-Agent"], **(call.headers or {})}
    data = call.data
    if call.json is not None:
        data = encode_bytes(call.json)
        headers.setdefault("Content-Type", "application/json")
    with requests.Session() as session:
        session.request(call.method, server.url + call.path, params=call.params, data=data,
                        headers=headers, allow_redirects=False,
                        auth=StaticToken("tok") if call.authenticate else None)
    return server.requests.pop()


def transport_bytes(server: RecordingServer, call: Call, session: requests.Session) -> bytes:
    transport = Transport(server.url, auth=StaticToken("tok"), session=session)
    transport.send(call)
    return server.requests.pop()


@pytest.mark.parametrize(("name", "make"), CASES, ids=[name for name, _ in CASES])
def test_the_lean_path_sends_what_a_plain_session_sends(
        server: RecordingServer, name: str, make: Callable[[], Call]) -> None:
    expected = plain_session_bytes(server, make())
    session = requests.Session()
    transport = Transport(server.url, auth=StaticToken("tok"), session=session)
    assert transport.sender.lean()
    transport.send(make())
    assert server.requests.pop() == expected


@pytest.mark.parametrize(("name", "make"), CASES[:9], ids=[name for name, _ in CASES[:9]])
def test_a_session_with_hooks_takes_the_full_path_with_the_same_bytes(
        server: RecordingServer, name: str, make: Callable[[], Call]) -> None:
    expected = plain_session_bytes(server, make())
    seen: list[int] = []
    session = requests.Session()
    session.hooks["response"].append(lambda r, *a, **k: seen.append(r.status_code))
    assert transport_bytes(server, make(), session) == expected
    assert seen == [200]  # the user's hook ran: the session was used as it is


def test_session_state_the_lean_path_skips_sends_the_full_path() -> None:
    session = requests.Session()
    sender = LeanSender(session, "http://127.0.0.1:1", None, {})
    assert sender.lean()
    session.cookies.set("sticky", "1")
    assert not sender.lean()
    session.cookies.clear()
    session.params = {"x": "1"}
    assert not sender.lean()
    session.params = {}
    session.auth = ("u", "p")
    assert not sender.lean()
    session.auth = None

    class Custom(requests.Session):
        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            return super().send(request, **kwargs)

    assert not LeanSender(Custom(), "http://127.0.0.1:1", None, {}).lean()


def test_session_cookies_and_headers_are_honoured(server: RecordingServer) -> None:
    session = requests.Session()
    session.headers["X-Team"] = "blue"
    session.cookies.set("sticky", "node-2")
    raw = transport_bytes(server, Call("GET", ("items", "a")), session)
    assert b"\r\nX-Team: blue\r\n" in raw and b"\r\nCookie: sticky=node-2\r\n" in raw


def test_a_session_header_set_to_none_is_left_out(server: RecordingServer) -> None:
    session = requests.Session()
    session.headers["Accept"] = None  # type: ignore[assignment]
    transport = Transport(server.url, session=session)
    assert transport.sender.lean()
    transport.send(Call("GET", ("items", "a")))
    assert b"\r\naccept:" not in server.requests.pop().lower()


def test_url_credentials_and_netrc_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def netrc(url: str, raise_errors: bool = False) -> tuple[str, str]:
        calls.append(url)
        return ("me", "secret")

    monkeypatch.setattr("pydirectus.sender.get_netrc_auth", netrc)
    sender = LeanSender(requests.Session(), "http://example.invalid", None, {})
    for _ in range(3):
        prepared = sender.prepare("GET", sender.prefix + "/x", params=None, data=None,
                                  files=None, headers={}, auth=None, authenticate=True,
                                  prepared_url=True)
        assert prepared.headers["Authorization"].startswith("Basic ")
    assert len(calls) == 1


@pytest.mark.parametrize("params", [
    {"a": "b c", "d": "é&=+?#/"},
    {"filter": FILTER, "limit": "-1"},
    {"k": ["1", "2"], "none": None, "n": 3},
])
def test_encode_query_matches_requests(params: dict[str, Any]) -> None:
    prepared = requests.PreparedRequest()
    prepared.prepare_url("http://h/x", params)
    assert prepared.url == "http://h/x?" + encode_query(params)


_PARTS = st.one_of(st.text(max_size=12), st.binary(max_size=6), st.integers(),
                   st.booleans(), st.none())


@given(st.dictionaries(st.text(min_size=1, max_size=8),
                       st.one_of(_PARTS, st.lists(_PARTS, max_size=3)), max_size=5))
def test_encode_query_matches_requests_for_any_params(params: dict[str, Any]) -> None:
    prepared = requests.PreparedRequest()
    prepared.prepare_url("http://h/x", params)
    query = encode_query(params)
    assert prepared.url == ("http://h/x?" + query if query else "http://h/x")
