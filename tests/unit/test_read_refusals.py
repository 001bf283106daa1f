"""What a refused read costs: the schema is read to explain a refusal about the query's
names (a 403, a 400, a 500), never after a 502/503/504 of a server that is down or busy."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest

from pydirectus import DirectusClient, RetryPolicy, ServerError, StaticToken
from pydirectus.aio import AsyncDirectusClient


class _Canned(http.server.BaseHTTPRequestHandler):
    status = 503
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path.split("?")[0])
        body = json.dumps({"errors": [{"message": "no", "extensions": {
            "code": "SERVICE_UNAVAILABLE" if self.status == 503 else "INTERNAL_SERVER_ERROR"}}]})
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def canned() -> Iterator[tuple[str, type[_Canned]]]:
    handler = type("Handler", (_Canned,), {"seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("face", ["sync", "async"])
@pytest.mark.parametrize(("status", "schema_read"), [(503, False), (502, False), (500, True)])
def test_the_schema_is_read_only_for_a_refusal_about_the_query(
        canned: tuple[str, type[_Canned]], status: int, schema_read: bool, face: str) -> None:
    url, handler = canned
    handler.status = status
    if face == "sync":
        with DirectusClient(url, auth=StaticToken("t"), retry=RetryPolicy(attempts=1)) as client, \
                pytest.raises(ServerError):
            client.collection("articles").fetch()
    else:
        async def fetch() -> None:
            async with AsyncDirectusClient(url, auth=StaticToken("t"),
                                           retry=RetryPolicy(attempts=1)) as client:
                await client.collection("articles").fetch()

        with pytest.raises(ServerError):
            asyncio.run(fetch())
    assert handler.seen[0] == "/items/articles"
    assert ("/fields" in handler.seen) is schema_read
