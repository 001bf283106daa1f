"""A scaled-out Directus: two instances sharing one PostgreSQL and one Redis, behind a
round-robin proxy on loopback, as larger deployments run it.

Redis holds the data cache (purged on every write), the rate limiter, the
synchronisation store and the bus that tells every instance to drop its schema cache
when one of them changes the schema. The instances share the secret that signs tokens,
so a token from one is good on the other.

With ``websockets=True`` every instance serves realtime at its own ``/websocket`` (the
proxy forwards plain HTTP only: connect a subscriber to an instance's URL). An instance
publishes each write's event on the same Redis bus and each instance relays what the bus
carries to its own subscribers, so a subscriber on one instance sees the writes made
through any of them. Directus 12.4.0 takes that bus from ``REDIS`` alone: it has no
``MESSENGER_STORE`` setting any more (older versions needed ``MESSENGER_STORE=redis``).

>>> with ScaledDirectus() as pair:
...     DirectusClient(pair.url, auth=StaticToken(pair.admin_token))
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import itertools
import secrets
import threading
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from .postgres import PostgresServer
from .processes import Service
from .redis import RedisServer, find_redis_server
from .server import DirectusServer

__all__ = ["RoundRobinProxy", "ScaledDirectus"]

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                        "te", "trailer", "upgrade", "content-length"})


class RoundRobinProxy(Service):
    """Forward each HTTP request to the next upstream in turn; count what each one got."""

    def __init__(self, upstreams: Sequence[str], *, host: str = "127.0.0.1",
                 timeout: float = 120.0) -> None:
        if not upstreams:
            raise ValueError("upstreams: give at least one URL")
        self.upstreams = [urlsplit(url) for url in upstreams]
        self.host = host
        self.timeout = timeout
        self.counts = [0] * len(upstreams)
        self._next = itertools.cycle(range(len(upstreams)))
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return the proxy's base URL."""
        if self._server is None:
            raise RuntimeError("the proxy has not been started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def _choose(self) -> int:
        with self._lock:
            index = next(self._next)
            self.counts[index] += 1
            return index

    def start(self) -> RoundRobinProxy:
        """Listen on a free loopback port, serving from a daemon thread."""
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: the tests read proxy.counts, not a log

            def forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                upstream = proxy.upstreams[proxy._choose()]
                connection = http.client.HTTPConnection(
                    upstream.hostname or "127.0.0.1", upstream.port, timeout=proxy.timeout)
                try:
                    headers = {k: v for k, v in self.headers.items()
                               if k.lower() not in HOP_BY_HOP and k.lower() != "host"}
                    headers["Host"] = upstream.netloc
                    connection.request(self.command, self.path, body=body, headers=headers)
                    response = connection.getresponse()
                    payload = response.read()
                    self.send_response(response.status, response.reason)
                    for key, value in response.getheaders():
                        if key.lower() not in HOP_BY_HOP:
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                except OSError:
                    self.send_error(502, "upstream failed")
                finally:
                    connection.close()

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = forward
            do_OPTIONS = do_SEARCH = forward

        self._server = http.server.ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="round-robin-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


class ScaledDirectus(Service):
    """Two Directus instances on one PostgreSQL and one Redis, behind a RoundRobinProxy."""

    def __init__(self, *, instances: int = 2, env: Mapping[str, str] | None = None,
                 websockets: bool = False, startup_timeout: float = 180.0) -> None:
        if instances < 2:
            raise ValueError(f"instances: a scaled-out setup has 2 or more, not {instances}")
        self.instances_wanted = instances
        self.websockets = websockets
        self.extra_env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.admin_email = "admin@example.com"
        self.admin_password = secrets.token_urlsafe(16)
        self.admin_token = secrets.token_urlsafe(24)
        self._secret = secrets.token_urlsafe(32)
        self.database = "postgresql"
        self.postgres: PostgresServer | None = None
        self.redis: RedisServer | None = None
        self.instances: list[DirectusServer] = []
        self.proxy: RoundRobinProxy | None = None

    def __repr__(self) -> str:
        where = self.proxy.url if self.proxy is not None and self.proxy._server else "stopped"
        return f"<ScaledDirectus {len(self.instances)} instances {where}>"

    @property
    def url(self) -> str:
        """Return the proxy's URL: each request goes to the next instance."""
        if self.proxy is None:
            raise RuntimeError("the pair has not been started")
        return self.proxy.url

    def _env(self) -> dict[str, str]:
        assert self.redis is not None
        return {
            "REDIS": self.redis.url,
            "CACHE_ENABLED": "true",
            "CACHE_STORE": "redis",
            "CACHE_AUTO_PURGE": "true",
            "RATE_LIMITER_ENABLED": "true",
            "RATE_LIMITER_STORE": "redis",
            # Counted in Redis across instances, high enough for the tests' own load.
            "RATE_LIMITER_POINTS": "100000",
            "RATE_LIMITER_DURATION": "1",
            "SYNCHRONIZATION_STORE": "redis",
            **self.extra_env,
        }

    def start(self) -> ScaledDirectus:
        """Start PostgreSQL, Redis, the instances (one after the other) and the proxy."""
        find_redis_server()  # say what is missing before starting anything
        try:
            self.postgres = PostgresServer(max_connections=200).start()
            self.redis = RedisServer().start()
            for number in range(self.instances_wanted):
                # The first one bootstraps the shared database; the others only start.
                self.instances.append(DirectusServer(
                    database=self.postgres, env=self._env(), admin_email=self.admin_email,
                    admin_password=self.admin_password, admin_token=self.admin_token,
                    secret=self._secret, startup_timeout=self.startup_timeout,
                    websockets=self.websockets, bootstrap=number == 0).start())
            self.proxy = RoundRobinProxy([i.url for i in self.instances]).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the proxy, the instances, Redis and PostgreSQL (in that order)."""
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
        while self.instances:
            with contextlib.suppress(Exception):
                self.instances.pop().stop()
        for server in (self.redis, self.postgres):
            if server is not None:
                server.stop()
        self.redis = self.postgres = None
