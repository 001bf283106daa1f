"""Loopback HTTP servers for unit tests.

:class:`LoopbackServer`: one request per connection, answered by a hook on the raw socket.
:class:`ScriptedServer`: HTTP and HTTPS on one port, each request answered by a scripted
:class:`Step` (an answer or a fault), with the client side routed to it.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import http
import shutil
import socket
import ssl
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final, cast
from urllib.parse import urlsplit

import attrs
import urllib3.connectionpool
import urllib3.util
import urllib3.util.connection
from requests.structures import CaseInsensitiveDict

from tests.faults import closed_port


def read_request(conn: socket.socket) -> bytes:
    """Return one whole request (head and body, Content-Length or chunked) from a connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    headers = head.lower()
    if b"transfer-encoding: chunked" in headers:
        while not rest.endswith(b"0\r\n\r\n"):
            rest += conn.recv(65536)
    else:
        length = 0
        for line in headers.split(b"\r\n"):
            if line.startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(rest) < length:
            rest += conn.recv(65536)
    return head + b"\r\n\r\n" + rest


class LoopbackServer:
    """Serve on 127.0.0.1: read each connection's request, keep it, let ``answer`` reply."""

    def __init__(self, answer: Callable[[socket.socket], None]) -> None:
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.requests: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                self.requests.append(read_request(conn))
                self.answer(conn)

    def close(self) -> None:
        # shutdown() wakes the accept() in the serving thread; close() alone does not.
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(5)


# A scripted server for the transport suite: real sockets, answers and faults per test.

# A test CA and a certificate it signed for 127.0.0.1, localhost, cms.example and
# cdn.example (EC P-256, valid 2000-2126), made once with openssl for these tests only.
# The key is public on purpose: nothing but these loopback tests trusts this CA.
TEST_CA_PEM = """\
-----BEGIN CERTIFICATE-----
MIIBbjCCARSgAwIBAgICEAAwCgYIKoZIzj0EAwIwHTEbMBkGA1UEAwwScHlkaXJl
Y3R1cyB0ZXN0IENBMCAXDTAwMDEwMTAwMDAwMFoYDzIxMjYwMTAxMDAwMDAwWjAd
MRswGQYDVQQDDBJweWRpcmVjdHVzIHRlc3QgQ0EwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATGF8kWU/o3h3M/PMVVjIrWOujguDUn6JwvBFfTNg6pNZFI4nHecLBA
THeRGJ2HHZvnghcb48pJ+DAvADmpXjS5o0IwQDAPBgNVHRMBAf8EBTADAQH/MA4G
A1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQU7BF1kd7bcStqZQJ021PgkMrDvocwCgYI
KoZIzj0EAwIDSAAwRQIhAPJ4jn9gudNXHV+xC0Xgspfs3KdxpWyYI8oDTOenIq7q
AiAHHJLjIMJyQX6ZOfsjv9Wf8bRVH7rDJOqpUGRjN7w56w==
-----END CERTIFICATE-----
"""
_SERVER_CERT_PEM = """\
-----BEGIN CERTIFICATE-----
MIIBzzCCAXagAwIBAgICEAEwCgYIKoZIzj0EAwIwHTEbMBkGA1UEAwwScHlkaXJl
Y3R1cyB0ZXN0IENBMCAXDTAwMDEwMTAwMDAwMFoYDzIxMjYwMTAxMDAwMDAwWjAU
MRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAT8
kHC1rib/sWA35E6eLG9wRqDMpZOlgyEBr79LQbeBQ2zORnZZUm+t+WdnGokapqiX
TRh9QHcVI45GQpG+oqm0o4GsMIGpMAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQD
AgWgMBMGA1UdJQQMMAoGCCsGAQUFBwMBMDQGA1UdEQQtMCuHBH8AAAGCCWxvY2Fs
aG9zdIILY21zLmV4YW1wbGWCC2Nkbi5leGFtcGxlMB0GA1UdDgQWBBSMYqlTR2Qy
3QgK4Mg0hRGzwe+O6TAfBgNVHSMEGDAWgBTsEXWR3ttxK2plAnTbU+CQysO+hzAK
BggqhkjOPQQDAgNHADBEAiBVbp2wrAbt+tZI6PL2Kj3OwcUWDGGeHH7yDVZfCDZZ
ugIgMRB8q2ehkADVxtA/L62ExHkmr7qun9w39tXdBCZGtfQ=
-----END CERTIFICATE-----
"""
_SERVER_KEY_PEM = """\
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg0/P9drNNt536JsCx
ojwGK2XpEMTSPQLhunwOeUC+0HqhRANCAAT8kHC1rib/sWA35E6eLG9wRqDMpZOl
gyEBr79LQbeBQ2zORnZZUm+t+WdnGokapqiXTRh9QHcVI45GQpG+oqm0
-----END PRIVATE KEY-----
"""


@functools.cache
def _tls_dir() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="pydirectus-tls-"))
    atexit.register(shutil.rmtree, directory, True)
    for name, text in (("ca.pem", TEST_CA_PEM), ("server.pem", _SERVER_CERT_PEM),
                       ("server.key", _SERVER_KEY_PEM)):
        (directory / name).write_text(text)
    return directory


def ca_bundle() -> str:
    """Return the path of a CA bundle holding only the test CA (trusts the scripted server)."""
    return str(_tls_dir() / "ca.pem")


@functools.cache
def _server_tls() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(_tls_dir() / "server.pem", _tls_dir() / "server.key")
    return context


#: steps that happen when the client connects, before the server sees anything
CONNECT_FAULTS: Final = frozenset({"refuse", "unresolvable", "connect_timeout"})


@attrs.frozen
class Step:
    """What the scripted world does with one request (or with the connection that carries it).

    Build with the class methods. ``refuse``, ``unresolvable`` and ``connect_timeout`` apply
    when the client connects (see :meth:`ScriptedServer.intercept`); the others once the
    server has read the whole request.
    """

    kind: str
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0

    @classmethod
    def answer(cls, status: int, body: bytes = b"",
               headers: Mapping[str, str] | None = None) -> Step:
        """Answer with this status, body and headers (Content-Length and Connection added)."""
        return cls("answer", status, body, tuple((headers or {}).items()))

    @classmethod
    def close(cls) -> Step:
        """Close the connection without answering (a FIN: the server went away)."""
        return cls("close")

    @classmethod
    def reset(cls) -> Step:
        """Reset the connection without answering (an RST, as a crashed peer sends)."""
        return cls("reset")

    @classmethod
    def truncated(cls) -> Step:
        """Send the head and 10 of the 100 body bytes it announces, then close."""
        return cls("truncated")

    @classmethod
    def stall(cls, seconds: float = 10.0) -> Step:
        """Send nothing until the client hangs up (at most ``seconds``), then close."""
        return cls("stall", seconds=seconds)

    @classmethod
    def stall_body(cls, seconds: float = 10.0) -> Step:
        """Send the head and part of the body, then nothing until the client hangs up."""
        return cls("stall_body", seconds=seconds)

    @classmethod
    def refuse(cls) -> Step:
        """The connection is refused: it is made to a loopback port nothing listens on."""
        return cls("refuse")

    @classmethod
    def unresolvable(cls) -> Step:
        """The host name does not resolve (socket.gaierror, as getaddrinfo raises it)."""
        return cls("unresolvable")

    @classmethod
    def connect_timeout(cls) -> Step:
        """Connecting times out (socket.timeout, as connect() raises it for an unanswered SYN)."""
        return cls("connect_timeout")


@attrs.frozen
class Received:
    """One request as the scripted server read it off the wire."""

    method: str
    target: str  # as sent: origin-form (/path?query), or absolute-form through a proxy
    headers: CaseInsensitiveDict[str]
    body: bytes  # decoded when it came chunked
    scheme: str  # "https" when it came over TLS
    chunked: bool

    @property
    def proxied(self) -> bool:
        """Return whether the request came as to a proxy (an absolute URL as its target)."""
        return self.target.startswith(("http://", "https://"))

    @property
    def url(self) -> str:
        """Return the URL the client asked for (scheme, Host header and target)."""
        if self.proxied:
            return self.target
        return f"{self.scheme}://{self.headers.get('Host', '')}{self.target}"

    @property
    def path_url(self) -> str:
        """Return the path and query string (as requests' PreparedRequest.path_url)."""
        if not self.proxied:
            return self.target
        parts = urlsplit(self.target)
        return parts.path + (f"?{parts.query}" if parts.query else "")


@attrs.frozen
class PoolCall:
    """What urllib3 was asked to do for one request to the scripted world, by either path."""

    scheme: str
    host: str
    timeout: tuple[float | None, float | None]  # (connect, read)
    cert_reqs: str | None  # https: CERT_REQUIRED (verify on) or CERT_NONE (verify=False)
    ca_certs: str | None  # https: the CA bundle verify named (or requests' default)
    proxy: str | None  # the proxy the pool sends through


DEFAULT_ANSWER: Final = Step.answer(200, b'{"data": {}}')
_MAX_LINE: Final = 65536


def _read_request(reader: Any, scheme: str) -> Received | None:
    line = reader.readline(_MAX_LINE)
    if not line.strip():
        return None
    method, target, _ = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    while (line := reader.readline(_MAX_LINE)) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip(), value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    chunked = "chunked" in headers.get("Transfer-Encoding", "").lower()
    if chunked:
        parts = []
        while size := int(reader.readline(_MAX_LINE).split(b";")[0].strip() or b"0", 16):
            parts.append(reader.read(size))
            reader.readline(_MAX_LINE)
        while reader.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
            pass  # trailers
        body = b"".join(parts)
    else:
        body = reader.read(int(headers.get("Content-Length") or 0))
    return Received(method, target, headers, body, scheme, chunked)


def _head(status: int, headers: Iterable[tuple[str, str]]) -> bytes:
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class ScriptedServer:
    """HTTP and HTTPS on one loopback port, answering each request as the test scripts it.

    ``script(*steps)``: each request (or connection, for connect faults) takes the next
    step; the last one repeats. ``respond``: a function of the :class:`Received` request
    that returns the step, for servers that route (it wins over the script). Every
    answer says ``Connection: close`` (unless ``keep_alive`` is set): one request per
    connection, so every request makes a new connection and a connect fault or a reset
    concerns exactly one request.

    A connection whose first byte opens a TLS handshake is served over TLS with a
    certificate of the test CA (:func:`ca_bundle`), so ``https_url`` is the same server.
    Connections are served each in its own thread; a responder's exception is kept in
    ``errors`` (and answered 500), to be raised by the test.

    :meth:`intercept` routes the client side: connections to this server and to the
    host names in ``hosts`` (any port) come here, connect faults happen there, and what
    urllib3 is asked for each request (timeout, TLS settings, proxy) is kept in ``calls``.
    """

    def __init__(self, *, hosts: Iterable[str] = ()) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.https_url = f"https://127.0.0.1:{self.port}"
        self.hosts = frozenset(host.lower() for host in hosts)
        self.received: list[Received] = []
        self.calls: list[PoolCall] = []
        self.errors: list[BaseException] = []
        #: connections the client opened (or tried to) to this scripted world
        self.attempts = 0
        self.respond: Callable[[Received], Step] | None = None
        #: answer without ``Connection: close`` and read the next request on the connection
        self.keep_alive = False
        self._open: set[socket.socket] = set()
        self._steps: list[Step] = [DEFAULT_ANSWER]
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._workers: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._serve, name="scripted-server", daemon=True)
        self._thread.start()

    def script(self, *steps: Step) -> None:
        """Answer the next requests with these steps; the last one repeats."""
        with self._lock:
            self._steps = list(steps) or [DEFAULT_ANSWER]

    def _take(self, *, connecting: bool) -> Step | None:
        with self._lock:
            step = self._steps[0]
            if connecting and step.kind not in CONNECT_FAULTS:
                return None  # the connection goes through; its request takes the step
            if len(self._steps) > 1:
                self._steps.pop(0)
            return step

    def routes(self, host: str, port: int | None) -> bool:
        """Return whether a connection to host:port is one to this scripted world."""
        host = (host or "").lower()
        return host in self.hosts or (host == "127.0.0.1" and port == self.port)

    # Serving.

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            worker = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            with self._lock:
                self._workers = [w for w in self._workers if w.is_alive()]
                self._workers.append(worker)
            worker.start()

    def _handle(self, conn: socket.socket) -> None:
        reader = None
        accepted = conn
        with self._lock:
            self._open.add(conn)
        try:
            conn.settimeout(10)
            scheme = "http"
            if conn.recv(1, socket.MSG_PEEK) == b"\x16":  # a TLS ClientHello
                try:
                    tls = _server_tls().wrap_socket(conn, server_side=True)
                except (OSError, ssl.SSLError):
                    return  # the client refused the certificate (or hung up)
                with self._lock:
                    self._open.add(tls)
                conn, scheme = tls, "https"
            reader = conn.makefile("rb")
            while (request := _read_request(reader, scheme)) is not None:
                with self._lock:
                    self.received.append(request)
                try:
                    step = self.respond(request) if self.respond else self._take(
                        connecting=False)
                except Exception as exc:  # a responder's assertion: the test raises it
                    self.errors.append(exc)
                    step = Step.answer(500, repr(exc).encode())
                assert step is not None
                keep = self.keep_alive and step.kind == "answer"
                self._perform(conn, request, step, keep)
                if not keep:
                    return
        except OSError:
            pass  # the client hung up: what some steps are about
        except Exception as exc:
            self.errors.append(exc)
        finally:
            if reader is not None:
                reader.close()
            conn.close()
            with self._lock:
                self._open.difference_update((accepted, conn))

    def _perform(self, conn: socket.socket, request: Received, step: Step, keep: bool) -> None:
        if step.kind == "answer":
            headers = list(step.headers)
            names = {name.lower() for name, _ in headers}
            if "content-length" not in names:
                headers.append(("Content-Length", str(len(step.body))))
            if not keep:
                headers.append(("Connection", "close"))
            body = b"" if request.method == "HEAD" else step.body
            conn.sendall(_head(step.status, headers) + body)
        elif step.kind in ("truncated", "stall_body"):
            conn.sendall(_head(200, [("Content-Type", "application/json"),
                                     ("Content-Length", "100"), ("Connection", "close")])
                         + b'{"data": [')
            if step.kind == "stall_body":
                self._until_hang_up(conn, step.seconds)
        elif step.kind == "stall":
            self._until_hang_up(conn, step.seconds)
        elif step.kind == "reset":
            # SO_LINGER 0: closing sends RST instead of FIN.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif step.kind != "close":
            raise ValueError(f"step {step.kind!r} cannot answer a request")

    def _until_hang_up(self, conn: socket.socket, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        conn.settimeout(0.05)
        while not self._stopping.is_set() and time.monotonic() < deadline:
            try:
                if not conn.recv(1):
                    return
            except TimeoutError:
                continue

    # The client side.

    @contextlib.contextmanager
    def intercept(self) -> Iterator[ScriptedServer]:
        """Route urllib3's connections here and record what it is asked (see the class)."""
        create = urllib3.util.connection.create_connection
        urlopen = urllib3.connectionpool.HTTPConnectionPool.urlopen

        def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
            host, port = address
            if not self.routes(host, port):
                return create(address, *args, **kwargs)
            with self._lock:
                self.attempts += 1
            step = self._take(connecting=True)
            if step is not None and step.kind == "refuse":
                return create(("127.0.0.1", closed_port()), *args, **kwargs)
            if step is not None and step.kind == "unresolvable":
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            if step is not None and step.kind == "connect_timeout":
                raise TimeoutError("timed out")
            return create(("127.0.0.1", self.port), *args, **kwargs)

        def spying_urlopen(pool: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            if self.routes(pool.host, pool.port):
                timeout = kwargs.get("timeout")
                if isinstance(timeout, urllib3.util.Timeout):
                    pair = (timeout.connect_timeout, timeout.read_timeout)
                else:
                    pair = (timeout, timeout)
                proxy = getattr(pool, "proxy", None)
                with self._lock:
                    self.calls.append(PoolCall(
                        pool.scheme, pool.host, cast(Any, pair),
                        getattr(pool, "cert_reqs", None), getattr(pool, "ca_certs", None),
                        None if proxy is None else str(proxy)))
            return urlopen(pool, method, url, *args, **kwargs)

        urllib3.util.connection.create_connection = create_connection
        urllib3.connectionpool.HTTPConnectionPool.urlopen = spying_urlopen  # type: ignore[method-assign,assignment]
        try:
            yield self
        finally:
            urllib3.util.connection.create_connection = create
            urllib3.connectionpool.HTTPConnectionPool.urlopen = urlopen  # type: ignore[method-assign]

    def close(self) -> None:
        """Stop serving: end stalls, close the listener, join every thread."""
        self._stopping.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self._thread.join(5)
        with self._lock:
            workers = list(self._workers)
            for conn in self._open:  # wakes workers waiting on a kept-alive connection
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        for worker in workers:
            worker.join(5)

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
