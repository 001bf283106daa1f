"""A fault-injecting reverse proxy on 127.0.0.1, for tests only.

``FaultProxy(upstream)`` forwards every request to ``upstream`` (a real Directus)
unless a scripted :class:`Fault` matches it first. Each fault applies ``times`` times
(``None``: forever) to requests whose method and path prefix match, in the order the
faults were added. Every request is recorded in ``proxy.seen`` (method, path with
query, headers, arrival time, the fault applied).

Request bodies are read whole (Content-Length or chunked) and their size recorded in
``Seen.body_length``, so a test can tell a whole upload from a short or empty one.

The proxy answers every request with ``Connection: close``, so one connection carries
one request and "the connection was reset" is unambiguous. It is bounded: it serves
for at most ``lifetime`` seconds and stalls end early when it stops; ``stop()`` joins
every thread and closes every socket.

>>> with FaultProxy(directus.url) as proxy:
...     proxy.add(Fault.status(503, headers={"Retry-After": "1"}))
...     DirectusClient(proxy.url, ...).read_items("articles")
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import socket
import struct
import threading
import time
import types
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import attrs
import requests

__all__ = ["Fault", "FaultProxy", "Seen", "closed_port", "leaks", "reachable"]

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
    "upgrade", "host", "content-length",
})


@attrs.define
class Fault:
    """One scripted misbehaviour; build with the class methods."""

    kind: str
    method: str | None = None
    path: str | None = None
    times: int | None = 1
    status_code: int = 0
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes = b""
    seconds: float = 0.0
    #: matching requests let through untouched before the fault applies (the Nth batch)
    skip: int = 0
    #: the share of the request body forward_part_then_reset lets through
    fraction: float = 0.5

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.path is None or path.startswith(self.path)

    @classmethod
    def reset(cls, **match: Any) -> Fault:
        """Close the connection without answering, before forwarding anything."""
        return cls("reset", **match)

    @classmethod
    def status(
        cls, code: int, body: bytes = b"", headers: Mapping[str, str] | None = None,
        **match: Any,
    ) -> Fault:
        """Answer with this status, body and headers instead of forwarding."""
        return cls("status", status_code=code, body=body, headers=dict(headers or {}), **match)

    @classmethod
    def redirect(cls, code: int, location: str, **match: Any) -> Fault:
        """Answer with a redirect to `location` instead of forwarding."""
        return cls("status", status_code=code, headers={"Location": location}, **match)

    @classmethod
    def echo(cls, code: int, *, as_json: bool = True, error_code: str = "INVALID_PAYLOAD",
             **match: Any) -> Fault:
        """Answer with this status and an error body that repeats the whole request (its
        headers, its body as sent and URL-encoded), as a careless server or proxy does:
        Directus JSON (the echo in ``errors[0].message`` and ``extensions``) or plain text."""
        return cls("echo", status_code=code, headers={"X-Error-Code": error_code},
                   body=b"json" if as_json else b"text", **match)

    @classmethod
    def stall(cls, seconds: float, **match: Any) -> Fault:
        """Read the request, then send nothing for `seconds` and close."""
        return cls("stall", seconds=seconds, **match)

    @classmethod
    def stall_body(cls, seconds: float, **match: Any) -> Fault:
        """Send the status line, headers and part of the body, then stall and close."""
        return cls("stall_body", seconds=seconds, **match)

    @classmethod
    def rewrite(cls, body: bytes, **match: Any) -> Fault:
        """Forward to upstream (which processes it); answer a success (2xx, 204 included) as
        200 with this JSON body instead, as a proxy rewriting bodies would. Errors pass."""
        return cls("rewrite", body=body, headers={"Content-Type": "application/json"},
                   **match)

    @classmethod
    def forward_part_then_reset(cls, fraction: float = 0.5, **match: Any) -> Fault:
        """Forward the request with only the first `fraction` of its body, then close both
        connections (a reset towards the client): the server gets a body cut short, as when
        a link drops mid-upload, and the client no answer."""
        return cls("forward_part_then_reset", fraction=fraction, **match)

    @classmethod
    def forward_then_reset(cls, **match: Any) -> Fault:
        """Forward to upstream (which processes it), then close without relaying the answer."""
        return cls("forward_then_reset", **match)

    @classmethod
    def forward_then_truncate(cls, **match: Any) -> Fault:
        """Forward to upstream, then relay the status, headers and half the body, and reset."""
        return cls("forward_then_truncate", **match)

    @classmethod
    def forward_then_status(cls, code: int, body: bytes = b"", **match: Any) -> Fault:
        """Forward to upstream (which processes it), then answer this status (a 502 from a
        gateway that lost the answer) instead of upstream's."""
        return cls("forward_then_status", status_code=code, body=body, **match)

    @classmethod
    def forward_then_stall(cls, seconds: float, **match: Any) -> Fault:
        """Forward to upstream (which processes it), then send nothing for `seconds` and
        close: the client's read times out on a request that was applied."""
        return cls("forward_then_stall", seconds=seconds, **match)


@attrs.frozen
class Seen:
    """One request as the proxy received it."""

    method: str
    path: str
    headers: Mapping[str, str]
    at: float
    fault: str | None
    body_length: int = 0


def closed_port() -> int:
    """Return a loopback port that nothing listens on (connecting is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads
    block_on_close = True
    proxy: FaultProxy

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-answer is what some tests do on purpose


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30  # a client that never finishes its request does not pin a thread

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        proxy = self.server.proxy
        body = self._read_body()
        fault = proxy._take(self.command, self.path)
        proxy._record(self.command, self.path, dict(self.headers.items()), fault, len(body))
        self.close_connection = True
        kind = fault.kind if fault else None
        if fault is not None and kind == "reset":
            self._reset()
        elif fault is not None and kind == "status":
            self._answer(fault.status_code, dict(fault.headers), fault.body)
        elif fault is not None and kind == "echo":
            self._echo(fault, body)
        elif fault is not None and kind == "stall":
            proxy._stopping.wait(fault.seconds)
            self._reset()
        elif fault is not None and kind == "forward_part_then_reset":
            proxy._forward_part(self.command, self.path, dict(self.headers.items()), body,
                                fault.fraction)
            self._reset()
        elif fault is not None and kind == "stall_body":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b'{"data": [')
            self.wfile.flush()
            proxy._stopping.wait(fault.seconds)
            self._reset()
        else:
            status, headers, answer = proxy._forward(self.command, self.path,
                                                     dict(self.headers.items()), body)
            if fault is not None and kind == "forward_then_reset":
                self._reset()
            elif fault is not None and kind == "forward_then_truncate":
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(answer[:len(answer) // 2])
                self.wfile.flush()
                self._reset()
            elif fault is not None and kind == "forward_then_status":
                self._answer(fault.status_code, {"Content-Type": "text/html"}, fault.body)
            elif fault is not None and kind == "forward_then_stall":
                proxy._stopping.wait(fault.seconds)
                self._reset()
            elif fault is not None and kind == "rewrite" and 200 <= status < 300:
                kept = {k: v for k, v in headers.items() if k.lower() != "content-type"}
                self._answer(200, {**kept, **fault.headers}, fault.body)
            else:
                self._answer(status, headers, answer)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_SEARCH = do_OPTIONS = _handle

    def _echo(self, fault: Fault, body: bytes) -> None:
        sent = body.decode("utf-8", "replace")
        headers = dict(self.headers.items())
        text = "\n".join([f"{self.command} {self.path} HTTP/1.1",
                          *(f"{name}: {value}" for name, value in headers.items()), "",
                          sent, f"form: {quote_plus(sent)}", f"url: {quote(sent, safe='')}"])
        if fault.body == b"json":
            code = fault.headers["X-Error-Code"]
            answer = json.dumps({"errors": [{
                "message": f"Could not handle this request:\n{text}",
                "extensions": {"code": code, "request": {"headers": headers, "body": sent}},
            }]}).encode()
            self._answer(fault.status_code, {"Content-Type": "application/json"}, answer)
        else:
            self._answer(fault.status_code, {"Content-Type": "text/plain"},
                         f"Bad request, as received:\n{text}".encode())

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _reset(self) -> None:
        # SO_LINGER 0: closing sends RST instead of FIN, as a crashed peer would.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))


class FaultProxy:
    """A reverse proxy with scripted faults; see the module docstring."""

    def __init__(self, upstream: str, *, lifetime: float = 120.0) -> None:
        parts = urlsplit(upstream)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"upstream {upstream!r}: needs a host and a port")
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.lifetime = lifetime
        self.seen: list[Seen] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self._server.timeout = 0.05
        self.port: int = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return the proxy's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def add(self, *faults: Fault) -> FaultProxy:
        """Script faults; the first matching one with uses left applies."""
        with self._lock:
            self._faults.extend(faults)
        return self

    def clear(self) -> None:
        """Forget scripted faults and recorded requests."""
        with self._lock:
            self._faults.clear()
            self.seen.clear()

    def requests_to(self, path: str, method: str | None = None) -> list[Seen]:
        """Return the recorded requests whose path starts with `path`."""
        with self._lock:
            return [s for s in self.seen
                    if s.path.startswith(path) and (method is None or s.method == method)]

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def _record(self, method: str, path: str, headers: dict[str, str],
                fault: Fault | None, body_length: int) -> None:
        with self._lock:
            self.seen.append(Seen(method, path, headers, time.monotonic(),
                                  fault.kind if fault else None, body_length))

    def _forward(self, method: str, path: str, headers: dict[str, str],
                 body: bytes) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port,
                                                timeout=30)
        try:
            out = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
            connection.request(method, path, body=body or None, headers=out)
            response = connection.getresponse()
            answer = response.read()
            return response.status, dict(response.getheaders()), answer
        finally:
            connection.close()

    def _forward_part(self, method: str, path: str, headers: dict[str, str], body: bytes,
                      fraction: float) -> None:
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port,
                                                timeout=30)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in headers.items():
                if name.lower() not in HOP_BY_HOP:
                    connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))  # the whole, promised
            connection.endheaders()
            connection.send(body[:int(len(body) * fraction)])
            # Let the server take in what came before the line drops.
            self._stopping.wait(0.2)
        finally:
            connection.close()

    def _serve(self) -> None:
        deadline = time.monotonic() + self.lifetime
        while not self._stopping.is_set() and time.monotonic() < deadline:
            self._server.handle_request()
        self._stopping.set()

    def start(self) -> FaultProxy:
        """Serve in a background thread until stop() or the lifetime runs out."""
        self._thread = threading.Thread(target=self._serve, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end stalls, join every thread and close the listening socket."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# Looking for secrets in what an exception holds.

_LEAVES = (str, bytes, bytearray, int, float, bool, type(None))
_SKIPPED = (types.TracebackType, types.FrameType, types.ModuleType, type, types.FunctionType,
            types.MethodType, types.BuiltinFunctionType)


def reachable(root: BaseException) -> Iterator[Any]:
    """Yield every object reachable from an exception: attributes, containers, causes.

    Tracebacks are left out: their frames hold the caller's own locals (the client, its
    auth strategy, the password it was built with), which no exception can hide.
    """
    seen: set[int] = set()
    stack: list[Any] = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _SKIPPED):
            continue
        seen.add(id(obj))
        yield obj
        if isinstance(obj, _LEAVES):
            continue
        if isinstance(obj, BaseException):
            stack += [obj.__cause__, obj.__context__, *obj.args]
        if isinstance(obj, Mapping):
            stack += [*obj.keys(), *obj.values()]
        elif isinstance(obj, list | tuple | set | frozenset):
            stack += list(obj)
        for cls in type(obj).__mro__:
            for name in getattr(cls, "__slots__", ()):
                stack.append(getattr(obj, name, None))
        if hasattr(obj, "__dict__"):
            stack += list(vars(obj).values())


def leaks(error: BaseException, secrets: tuple[str, ...] | list[str]) -> list[str]:
    """Return what of `secrets` (and which live requests objects) an exception reaches."""
    found = []
    for obj in reachable(error):
        if isinstance(obj, requests.Response | requests.PreparedRequest | requests.Request):
            found.append(f"a live {type(obj).__name__}")
        text = obj.decode("utf-8", "replace") if isinstance(obj, bytes | bytearray) else (
            obj if isinstance(obj, str) else "")
        found += [f"{secret} in {text[:80]!r}" for secret in secrets if secret in text]
    return found
