"""The direct pool path fails as adapter.send fails: the same error, the same retries."""

from __future__ import annotations

import gzip
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from pydirectus import StaticToken
from pydirectus import direct as direct_path
from pydirectus.errors import DirectusError
from pydirectus.transport import Call, RetryPolicy, Transport
from tests.loopback import LoopbackServer

OK_BODY = b'{"data":{"id":1}}'


def _answer(status: str, headers: dict[str, str], body: bytes) -> bytes:
    # The loopback server closes each connection after its answer, and says so: a client
    # that pooled the connection would otherwise race the close on its retry (a reset on
    # a loaded machine, a fresh connection on an idle one), and the paths would differ
    # by timing rather than by what they do.
    headers = {**headers, "Connection": "close"}
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"HTTP/1.1 {status}\r\n{head}\r\n".encode() + body


# Each fault: what the server does with one request on its connection.
FAULTS: dict[str, Callable[[socket.socket], None]] = {
    "ok": lambda conn: conn.sendall(_answer(
        "200 OK", {"Content-Type": "application/json", "Content-Length": str(len(OK_BODY))},
        OK_BODY)),
    "gzip": lambda conn: conn.sendall(_answer(
        "200 OK", {"Content-Type": "application/json", "Content-Encoding": "gzip",
                   "Content-Length": str(len(gzip.compress(OK_BODY)))},
        gzip.compress(OK_BODY))),
    "closed before answering": lambda conn: None,
    "truncated body": lambda conn: conn.sendall(_answer(
        "200 OK", {"Content-Type": "application/json", "Content-Length": "100"}, b'{"da')),
    "stalled body": lambda conn: (conn.sendall(_answer(
        "200 OK", {"Content-Type": "application/json", "Content-Length": "100"}, b'{"da')),
        time.sleep(0.6)),
    "stalled headers": lambda conn: time.sleep(0.6),
    "bad gzip": lambda conn: conn.sendall(_answer(
        "200 OK", {"Content-Type": "application/json", "Content-Encoding": "gzip",
                   "Content-Length": "12"}, b"not gzip at all"[:12])),
    "garbage status line": lambda conn: conn.sendall(b"HTTP/9 banana\r\n\r\n"),
    "503": lambda conn: conn.sendall(_answer(
        "503 Service Unavailable", {"Content-Type": "application/json", "Content-Length": "2"},
        b"{}")),
}


class PlainAdapterSubclass(HTTPAdapter):
    """Overrides a hook, so the transport must go through adapter.send."""

    def add_headers(self, request: requests.PreparedRequest, **kwargs: Any) -> None:
        super().add_headers(request, **kwargs)


@pytest.fixture(params=list(FAULTS))
def scripted(request: pytest.FixtureRequest) -> Iterator[tuple[str, LoopbackServer]]:
    server = LoopbackServer(FAULTS[request.param])  # reads each request, then the fault
    yield request.param, server
    server.close()


def _outcome(server: LoopbackServer, *, through_adapter: bool) -> tuple[Any, int]:
    session = requests.Session()
    if through_adapter:
        session.mount("http://", PlainAdapterSubclass())
    transport = Transport(server.url, auth=StaticToken("tok"), session=session,
                          timeout=(0.5, 0.3), retry=RetryPolicy(attempts=2, backoff=0.0))
    before = len(server.requests)
    try:
        result: Any = transport.send_json(Call("GET", ("items", "a")))
    except DirectusError as error:
        result = (type(error).__name__, str(error).split(":")[0])
    finally:
        transport.close()
    return result, len(server.requests) - before


def test_the_direct_path_and_adapter_send_end_the_same_way(
        scripted: tuple[str, LoopbackServer], monkeypatch: pytest.MonkeyPatch) -> None:
    name, server = scripted
    taken: list[bool] = []
    real_send = direct_path.send

    def spy(*args: Any, **kwargs: Any) -> requests.Response:
        taken.append(True)
        return real_send(*args, **kwargs)

    monkeypatch.setattr(direct_path, "send", spy)
    direct = _outcome(server, through_adapter=False)
    assert taken, "the plain session did not take the direct path"
    taken.clear()
    adapter = _outcome(server, through_adapter=True)
    assert not taken, "the subclassed adapter took the direct path"
    assert direct == adapter, name
    if name in ("ok", "gzip"):
        assert direct == ({"data": {"id": 1}}, 1)


def test_the_direct_path_is_taken_only_where_it_sends_the_same_bytes() -> None:
    plain, other = HTTPAdapter(), PlainAdapterSubclass()
    bare = requests.Request("GET", "http://h/x").prepare()
    sized = requests.Request("POST", "http://h/x", data=b"abc").prepare()
    streamed = requests.Request("POST", "http://h/x", data=iter([b"a", b"b"])).prepare()
    assert direct_path.usable(plain, bare, stream=False, proxied=False)
    assert direct_path.usable(plain, sized, stream=False, proxied=False)
    assert not direct_path.usable(plain, streamed, stream=False, proxied=False)  # chunked
    assert not direct_path.usable(plain, bare, stream=True, proxied=False)  # downloads
    assert not direct_path.usable(plain, bare, stream=False, proxied=True)  # via a proxy
    assert not direct_path.usable(other, bare, stream=False, proxied=False)
    # Read retries of the adapter's own would happen inside urlopen: adapter.send then.
    assert not direct_path.usable(HTTPAdapter(max_retries=3), bare, stream=False,
                                  proxied=False)


def test_a_patched_adapter_is_sent_through_its_patch(monkeypatch: pytest.MonkeyPatch) -> None:
    bare = requests.Request("GET", "http://h/x").prepare()
    patched = HTTPAdapter()
    patched.send = lambda *args, **kwargs: None  # type: ignore[method-assign]
    assert not direct_path.usable(patched, bare, stream=False, proxied=False)
    # As mocking libraries do: the class's send replaced while they are active.
    monkeypatch.setattr(HTTPAdapter, "send", lambda *args, **kwargs: None)
    assert not direct_path.usable(HTTPAdapter(), bare, stream=False, proxied=False)
    monkeypatch.undo()
    assert direct_path.usable(HTTPAdapter(), bare, stream=False, proxied=False)
