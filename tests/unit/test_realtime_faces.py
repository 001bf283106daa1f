"""client.realtime's faces against a loopback server without realtime, and without the extra."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pydirectus import DirectusClient, ServerError, StaticToken, UsageError


class _NoRealtime(http.server.BaseHTTPRequestHandler):
    """Answers reads with no rows and /websocket with 404, as Directus without realtime."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        found = self.path.startswith("/items/")
        body = b'{"data":[]}' if found else (
            b'{"errors":[{"message":"Route /websocket does not exist.",'
            b'"extensions":{"code":"ROUTE_NOT_FOUND"}}]}')
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def no_realtime() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NoRealtime)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_sync_face_says_realtime_is_not_enabled(no_realtime: str) -> None:
    with DirectusClient(no_realtime, auth=StaticToken("secret-token-1")) as client:
        subscription = client.realtime.subscribe("posts")
        with pytest.raises(ServerError, match="WEBSOCKETS_ENABLED=true") as raised:
            subscription.__enter__()
        assert "secret-token-1" not in str(raised.value) + repr(raised.value)


def test_async_face_says_realtime_is_not_enabled(no_realtime: str) -> None:
    from pydirectus.aio import AsyncDirectusClient

    async def main() -> None:
        async with AsyncDirectusClient(no_realtime, auth=StaticToken("secret-token-2")) as client:
            with pytest.raises(ServerError, match="WEBSOCKETS_ENABLED=true"):
                async with client.realtime.subscribe("posts", event="create"):
                    pass

    asyncio.run(main())


def test_without_the_extra_realtime_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    # A None entry makes the import fail as a missing module does.
    for module in ("websockets", "websockets.sync.client", "websockets.asyncio.client"):
        monkeypatch.setitem(sys.modules, module, None)
    with DirectusClient("http://127.0.0.1:9", auth=StaticToken("t")) as client:
        with pytest.raises(UsageError, match=r"pip install 'pydirectus\[realtime\]'"):
            client.realtime  # noqa: B018 - the property raises
        assert client.collection("posts").name == "posts"  # the rest works
