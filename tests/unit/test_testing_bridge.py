"""pydirectus.testing.bridge (SyncOverAsync) over a loopback server, and --directus-face."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pydirectus import NotFound, PermissionDenied, StaticToken
from pydirectus.collection import Collection, ItemQuery
from pydirectus.testing.bridge import SyncOverAsync, face_client, face_of, pending_tasks
from tests.loopback import LoopbackServer

ROWS = [{"id": n, "title": f"t{n}"} for n in range(1, 8)]


def _answer(conn: socket.socket, status: int, body: Any) -> None:
    payload = json.dumps(body).encode()
    conn.sendall(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                 + payload)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    """Answer /items/a/{id} with one row (403 past the rows), /items/a with a page of rows
    (offset and limit honoured, nothing else: sort by title, which pages by offset),
    /fields/a with the fields."""
    made: list[LoopbackServer] = []

    def answer(conn: socket.socket) -> None:
        line = made[0].requests[-1].split(b"\r\n", 1)[0].decode()
        _, target, _ = line.split(" ")
        path, _, query = target.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        if path.startswith("/fields/"):
            _answer(conn, 200, {"data": [
                {"field": "id", "type": "integer", "schema": {"is_primary_key": True}},
                {"field": "title", "type": "string", "schema": {}}]})
        elif path.count("/") == 3:
            key = int(path.rsplit("/", 1)[1])
            if key <= len(ROWS):
                _answer(conn, 200, {"data": ROWS[key - 1]})
            else:
                _answer(conn, 403, {"errors": [{"message": "You don't have permission.",
                                                "extensions": {"code": "FORBIDDEN"}}]})
        else:
            offset = int(params.get("offset", 0))
            limit = int(params.get("limit", 100))
            _answer(conn, 200, {"data": ROWS[offset:offset + limit]})

    running = LoopbackServer(answer)
    made.append(running)
    yield running
    running.close()


def _bridge_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "pydirectus-bridge"]


def test_the_sync_api_over_the_async_face(server: LoopbackServer) -> None:
    before = _bridge_threads()  # other tests' clients may hold bridges of their own
    client = face_client("async", server.url, auth=StaticToken("t"), page_size=3)
    assert isinstance(client, SyncOverAsync) and face_of(client) == "async"
    assert len(_bridge_threads()) == len(before) + 1
    handle = client.collection("a")
    assert isinstance(handle, Collection)
    query = handle.filter(id__gt=0).sort("title")
    assert isinstance(query, ItemQuery) and isinstance(query[1:3], ItemQuery)
    assert handle.get(2) == ROWS[1]
    assert query[0] == ROWS[0]
    assert [row["id"] for row in query] == [row["id"] for row in ROWS]  # pages of 3
    assert client.read_items("a", {"limit": 2}) == ROWS[:2]
    # The very exception class the async face raises (a missing item reads as 403 here).
    with pytest.raises((NotFound, PermissionDenied)):
        handle.get(99)
    # Leaving an iteration early closes it on the loop: nothing is left running there.
    for row in handle.sort("title"):
        if row["id"] == 2:
            break
    assert pending_tasks(client) == []
    client.close()
    client.close()  # a second close does nothing
    assert _bridge_threads() == before
    with pytest.raises(RuntimeError, match="closed"):
        handle.get(1)


def test_a_call_from_the_loop_thread_is_refused_not_deadlocked(server: LoopbackServer) -> None:
    with face_client("async", server.url, auth=StaticToken("t")) as client:
        handle = client.collection("a")
        real_get = handle._get

        def nested(*args: Any, **kwargs: Any) -> Any:
            client.collection("a").get(1)  # code the loop runs, waiting for the loop
            return real_get(*args, **kwargs)

        handle._get = nested
        with pytest.raises(RuntimeError, match="own loop thread"):
            handle.get(2)
        assert pending_tasks(client) == []


def test_a_plain_client_is_the_sync_face(server: LoopbackServer) -> None:
    with face_client("sync", server.url, auth=StaticToken("t")) as client:
        assert face_of(client) == "sync" and pending_tasks(client) == []
        assert client.collection("a").get(3) == ROWS[2]
    with pytest.raises(ValueError, match="face"):
        face_client("other", server.url)


def test_a_refused_argument_starts_no_thread(server: LoopbackServer) -> None:
    before = _bridge_threads()
    with pytest.raises(ValueError, match="prefetch"):
        face_client("async", server.url, prefetch=1)
    assert _bridge_threads() == before


PLUGIN_TESTS = """
import pytest

def test_a(directus_face):
    print(directus_face)

@pytest.mark.sync_only
def test_b(directus_face):
    pass

def test_c():
    pass

@pytest.mark.sync_only
def test_d():
    pass
"""


@pytest.mark.parametrize(("face", "expected"), [
    ("sync", ["test_a", "test_b", "test_c", "test_d"]),
    ("async", ["test_a", "test_c"]),
    ("both", ["test_a[sync]", "test_a[async]", "test_b[sync]", "test_c", "test_d"]),
])
def test_the_face_option_selects_and_parametrizes(tmp_path: Path, face: str,
                                                  expected: list[str]) -> None:
    (tmp_path / "test_faces.py").write_text(textwrap.dedent(PLUGIN_TESTS))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-p", "pydirectus.testing.pytest_plugin", "--strict-markers", "-c", "/dev/null",
         "--rootdir", str(tmp_path), f"--directus-face={face}", "test_faces.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    collected = [line.split("::", 1)[1] for line in done.stdout.splitlines() if "::" in line]
    assert sorted(collected) == sorted(expected), done.stdout
