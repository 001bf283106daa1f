"""A tiny HTTP/1.1 server on loopback that answers Directus-shaped canned JSON, fast.

Used to isolate client-side cost from Directus: the same calls as the real workloads,
answered in microseconds by a separate process (its CPU is not the client's).
``/items/{c}/{id}`` answers one item with that id; any other path answers a page of
LIST_ROWS items (ids 1..LIST_ROWS). Keep-alive, Content-Length bodies, any method.

Run: ``python -m benchmarks.canned_server`` prints the port, then serves until killed.
"""

from __future__ import annotations

import asyncio
import json
import sys

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


def answer(path: str) -> bytes:
    """Return the body for a request path."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    if len(parts) == 3 and parts[0] == "items" and parts[2].isdigit():
        return item_body(int(parts[2]))
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


if __name__ == "__main__":
    asyncio.run(main())
