"""A tiny HTTP/1.1 server on loopback that answers Directus-shaped canned JSON, fast.

Used to isolate client-side cost from Directus: the same calls as the real workloads,
answered in microseconds by a separate process (its CPU is not the client's).
``/items/{c}/{id}`` answers one item with that id; any other path answers a page of
LIST_ROWS items (ids 1..LIST_ROWS); ``/collections/{c}`` and ``/fields/{c}`` describe a
plain collection keyed by ``id``; ``/items/paged`` pages through PAGED_ROWS rows, each
page after PAGE_DELAY. Keep-alive, Content-Length bodies, any method.

Run: ``python -m benchmarks.canned_server`` prints the port, then serves until killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from benchmarks import spec

LIST_ROWS = spec.LIST_LIMIT
ITEM = {"title": "Item 1", "views": 500, "status": "published", "score": 0.143,
        "date_created": "2026-01-02T03:04:05.000Z", "user_created": None}


def item_body(item_id: int) -> bytes:
    """Return the envelope of one item."""
    return json.dumps({"data": {"id": item_id, **ITEM}}).encode()


LIST_BODY = json.dumps({"data": [
    {"id": i, "title": f"Item {i}", "views": 1000 - i} for i in range(1, LIST_ROWS + 1)
]}).encode()


FIELDS = [("id", "integer"), ("title", "string"), ("views", "integer"), ("status", "string"),
          ("score", "float"), ("date_created", "timestamp"), ("user_created", "uuid")]


def schema_body(route: str, name: str) -> bytes:
    """Return /collections/{name} or /fields/{name}: what the client learns once."""
    if route == "collections":
        return json.dumps({"data": {"collection": name, "meta": {"singleton": False},
                                    "schema": {"name": name}}}).encode()
    return json.dumps({"data": [
        {"collection": name, "field": field, "type": kind,
         "schema": {"is_primary_key": field == "id"}} for field, kind in FIELDS]}).encode()


#: ``/items/paged``: this many rows, paged by limit and offset or by ``id`` ``_gt``, each
#: page answered after PAGE_DELAY seconds (about what Directus takes for 1,000 rows)
PAGED_ROWS = 20_000
PAGE_DELAY = 0.024
_AFTER = re.compile(r'"_gt":\s*(\d+)')


def paged_body(query: str) -> bytes:
    """Return one page of the paged collection for a query string (limit, offset, filter)."""
    params = dict(parse_qsl(query))
    limit = int(params.get("limit", "100"))
    after = _AFTER.search(params.get("filter", ""))
    first = int(after.group(1)) + 1 if after else int(params.get("offset", "0")) + 1
    last = min(first + limit, PAGED_ROWS + 1)
    return json.dumps({"data": [{"id": i, "title": f"Item {i}", "views": i % 1000}
                                for i in range(first, last)]}).encode()


def answer(path: str) -> bytes:
    """Return the body for a request path."""
    route, _, query = path.partition("?")
    if route == "/items/paged":
        return paged_body(query)
    parts = route.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "items" and parts[2].isdigit():
        return item_body(int(parts[2]))
    if len(parts) == 2 and parts[0] in ("collections", "fields"):
        return schema_body(parts[0], parts[1])
    return LIST_BODY


async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer requests on one connection until the client closes it."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {k.strip().lower(): v.strip()
                       for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            length = int(headers.get("content-length", "0"))
            if length:
                await reader.readexactly(length)
            if path.startswith("/items/paged?"):
                await asyncio.sleep(PAGE_DELAY)
            body = answer(path)
            close = headers.get("connection", "").lower() == "close"
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n"
                         + (b"Connection: close\r\n" if close else b"") + b"\r\n" + body)
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, ConnectionError, IndexError, ValueError):
        pass
    finally:
        writer.close()


async def main() -> None:
    """Serve on a free loopback port; print it on stdout."""
    server = await asyncio.start_server(serve_connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


def expected(workload: str, calls: int, ids: list[int]) -> Any:
    """Return the check value of a block of read_one or list_100 calls on this server."""
    if workload == "read_one":
        return sum(ids[i % len(ids)] for i in range(calls))
    return {"n": calls * LIST_ROWS, "sig": LIST_ROWS * (LIST_ROWS + 1) // 2}


@contextlib.contextmanager
def running() -> Iterator[str]:
    """Start the canned server in its own process; yield its URL; kill it afterwards."""
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.canned_server"],
                              cwd=Path(__file__).resolve().parent.parent,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        yield f"http://127.0.0.1:{int(server.stdout.readline())}"
    finally:
        server.kill()
        server.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
