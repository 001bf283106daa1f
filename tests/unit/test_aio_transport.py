"""The async face's driver and sender without Directus: a scripted loopback server.

The decisions (retries, token renewal, redirects, error mapping) are the core's exchange
plan, which tests/unit/test_transport.py covers through the sync driver; here the same
decisions are driven by AsyncTransport over aiohttp, and what only the async face does
(one refresh for many tasks, cancellation, gather, a closed client) is checked.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pydirectus import Password, StaticToken
from pydirectus.aio import AsyncDirectusClient
from pydirectus.aio.transport import AsyncTransport
from pydirectus.core import plans
from pydirectus.core.exchange import RetryPolicy
from pydirectus.core.plans import Call
from pydirectus.errors import (
    BatchWriteError,
    ConnectError,
    PermissionDenied,
    ServerError,
    Timeout,
    UnexpectedRedirect,
    UsageError,
)
from tests.faults import closed_port
from tests.loopback import Received, ScriptedServer, Step

FAST = RetryPolicy(attempts=3, backoff=0.01)


def answer(status: int, body: bytes = b'{"data": {}}', **headers: str) -> Step:
    return Step.answer(status, body, {"Content-Type": "application/json", **headers})


def directus_error(status: int, code: str) -> Step:
    body = f'{{"errors":[{{"message":"{code}","extensions":{{"code":"{code}"}}}}]}}'
    return answer(status, body.encode())


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    try:
        yield scripted
    finally:
        scripted.close()


def transport(url: str, **options: Any) -> AsyncTransport:
    options.setdefault("retry", FAST)
    options.setdefault("auth", StaticToken("tok"))
    return AsyncTransport(url, timeout=options.pop("timeout", (2.0, 2.0)), verify=True,
                          session=None, logger=None, prefetch=True, **options)


def run(coroutine_function: Any) -> Any:
    return asyncio.run(coroutine_function())


def test_a_read_is_retried_and_a_write_is_not(server: ScriptedServer) -> None:
    server.script(answer(503, b""), answer(200, b'{"data": {"id": 1}}'))

    async def scenario() -> Any:
        t = transport(server.url)
        try:
            found = await t.data("GET", "items", "a", "1")
            server.script(answer(503, b""), answer(200))
            with pytest.raises(ServerError):
                await t.data("POST", "items", "a", json={"x": 1})
            return found
        finally:
            await t.close()

    assert run(scenario) == {"id": 1}
    assert [r.method for r in server.received] == ["GET", "GET", "POST"]
    assert all(r.headers["Authorization"] == "Bearer tok" for r in server.received)
    assert server.received[0].headers["User-Agent"].startswith("pydirectus/")


def test_a_reset_write_is_not_resent_but_a_refused_one_is(server: ScriptedServer) -> None:
    server.script(Step.reset())

    async def scenario() -> None:
        t = transport(server.url)
        try:
            with pytest.raises(ConnectError):
                await t.data("POST", "items", "a", json={"x": 1})
        finally:
            await t.close()
        # Nothing listens: the connection is refused before a byte is sent, so a write is
        # retried, and fails as a ConnectError once the attempts are spent.
        refused = transport(f"http://127.0.0.1:{closed_port()}")
        try:
            with pytest.raises(ConnectError):
                await refused.data("POST", "items", "a", json={"x": 1})
        finally:
            await refused.close()

    run(scenario)
    assert len(server.received) == 1


def test_a_stalled_answer_is_a_timeout(server: ScriptedServer) -> None:
    server.script(Step.stall(3.0))

    async def scenario() -> None:
        t = transport(server.url, timeout=(1.0, 0.3), retry=RetryPolicy(attempts=1))
        try:
            with pytest.raises(Timeout, match="read timed out"):
                await t.data("GET", "items", "a")
        finally:
            await t.close()

    run(scenario)


def test_errors_map_to_the_tree(server: ScriptedServer) -> None:
    async def scenario() -> None:
        t = transport(server.url, retry=RetryPolicy(attempts=1))
        try:
            server.script(directus_error(403, "FORBIDDEN"))
            with pytest.raises(PermissionDenied) as denied:
                await t.data("GET", "items", "a")
            assert denied.value.code == "FORBIDDEN" and denied.value.status == 403
            server.script(Step.answer(502, b"<html>Bad gateway</html>"))
            with pytest.raises(ServerError, match="Bad gateway"):
                await t.data("GET", "items", "a")
            server.script(answer(200, b'{"data": 42}'))
            with pytest.raises(ServerError, match="expected 'data' to be a list of objects"):
                await t.data("GET", "items", "a", expect=plans.OBJECTS)
        finally:
            await t.close()

    run(scenario)


def test_redirects_follow_the_sync_rules(server: ScriptedServer) -> None:
    async def scenario() -> None:
        t = transport(server.url)
        try:
            server.script(Step.answer(301, b"", {"Location": "/items/b"}), answer(200))
            await t.data("GET", "items", "a")
            server.script(Step.answer(307, b"", {"Location": "/items/b"}))
            with pytest.raises(UnexpectedRedirect, match="not followed for a POST"):
                await t.data("POST", "items", "a", json={})
            server.script(Step.answer(302, b"", {"Location": "http://evil.example/x"}))
            with pytest.raises(UnexpectedRedirect, match="another origin"):
                await t.data("GET", "items", "a")
        finally:
            await t.close()

    run(scenario)
    assert [r.path_url for r in server.received] == ["/items/a", "/items/b", "/items/a",
                                                     "/items/a"]


def _auth_server(state: dict[str, int], lock: threading.Lock) -> Any:
    def respond(request: Received) -> Step:
        if not request.path_url.startswith("/auth/"):
            token = request.headers.get("Authorization", "")
            if state.get("expire") and token == "Bearer a1":
                return directus_error(401, "TOKEN_EXPIRED")
            return answer(200, b'{"data": [{"id": 1}]}')
        assert "Authorization" not in request.headers
        with lock:
            state["n"] = state.get("n", 0) + 1
            n = state["n"]
        time.sleep(0.05)  # a slow renewal makes the other tasks queue on the lock
        return answer(200, (f'{{"data": {{"access_token": "a{n}", "refresh_token": '
                            f'"r{n}", "expires": 900000}}}}').encode())
    return respond


def test_password_renews_once_for_many_tasks(server: ScriptedServer) -> None:
    state: dict[str, int] = {}
    server.respond = _auth_server(state, threading.Lock())
    auth = Password("a@b.c", "pw")

    async def scenario() -> None:
        async with AsyncDirectusClient(server.url, auth=auth, retry=FAST) as client:
            await client.request("GET", "items/a")
            auth._refresh_at = 0.0  # expired for every task at once
            await asyncio.gather(*(client.request("GET", "items/a") for _ in range(50)))
            # The server now says the first token expired: one refresh, one re-send.
            state["expire"] = 1
            await client.request("GET", "items/a")

    run(scenario)
    assert (auth.logins, auth.refreshes) == (1, 1)
    paths = [r.path_url for r in server.received]
    assert paths.count("/auth/login") == 1 and paths.count("/auth/refresh") == 1
    assert paths[-1] == "/auth/logout"


def test_gather_and_cancellation_leave_nothing_behind(server: ScriptedServer) -> None:
    server.keep_alive = True
    rows = ",".join(f'{{"id": {i}}}' for i in range(1, 11))
    items = answer(200, f'{{"data": [{rows}]}}'.encode())
    # The field types are read once (none here); every other request is a page of items.
    server.respond = lambda request: (answer(200, b'{"data": []}')
                                      if request.path_url.startswith("/fields/") else items)

    async def scenario() -> None:
        async with AsyncDirectusClient(server.url, auth=StaticToken("t"), page_size=10,
                                       retry=FAST) as client:
            things = client.collection("things", pk="id")
            got = await asyncio.gather(*(things.limit(10).fetch() for _ in range(20)))
            assert all(len(page) == 10 for page in got)

            async def iterate() -> None:
                async for _ in things.sort("id"):
                    await asyncio.sleep(0.01)

            task = asyncio.create_task(iterate())
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.sleep(0)
            assert asyncio.all_tasks() == {asyncio.current_task()}

    run(scenario)


def test_a_concurrent_batch_failure_reports_exactly(server: ScriptedServer) -> None:
    count = {"n": 0}
    lock = threading.Lock()

    def respond(request: Received) -> Step:
        with lock:
            count["n"] += 1
            n = count["n"]
        if n == 2:
            return Step.reset()  # the second batch: sent, no answer
        return answer(200, b'{"data": ' + request.body.replace(b'"t"', b'"id": 1, "t"') + b"}")

    server.respond = respond

    async def scenario() -> BatchWriteError:
        async with AsyncDirectusClient(server.url, auth=StaticToken("t"), retry=FAST) as c:
            rows = [{"t": i} for i in range(8)]
            with pytest.raises(BatchWriteError) as raised:
                await c.collection("things").create_many(rows, batch_size=2, concurrency=4)
            return raised.value

    error = run(scenario)
    sent = [r for r in server.received if r.method == "POST"]
    assert len(sent) == 4
    assert len(error.written) == 6 and len(error.uncertain) == 2 and error.not_written == []
    assert isinstance(error.cause, ConnectError)


def test_a_closed_client_sends_nothing(server: ScriptedServer) -> None:
    async def scenario() -> None:
        client = AsyncDirectusClient(server.url, auth=StaticToken("t"))
        await client.close()
        with pytest.raises(UsageError, match="closed"):
            await client.server.info()

    run(scenario)
    assert server.received == []


def test_calls_are_plans_the_runner_drives(server: ScriptedServer) -> None:
    server.script(answer(200, b"pong", **{"Content-Type": "text/plain"}))

    async def scenario() -> str:
        t = transport(server.url)
        try:
            reply = await t.send(Call("GET", ("server", "ping"), authenticate=False))
            return reply.text
        finally:
            await t.close()

    assert run(scenario) == "pong"
    assert "Authorization" not in server.received[0].headers


def test_every_write_is_awaitable_even_an_empty_one(server: ScriptedServer) -> None:
    # An empty batch sends nothing but is still awaited; delete() sends its DELETE.
    server.script(answer(200, b'{"data": [{"id": 7}]}'), answer(204, b""))

    async def scenario() -> tuple[Any, ...]:
        async with AsyncDirectusClient(server.url, auth=StaticToken("t"), retry=FAST) as c:
            things = c.collection("things", pk="id")
            return (await things.create_many([]), await things.update_many([], {"a": 1}),
                    await things.update_batch([]), await things.delete_many([]),
                    await things.delete(7))

    assert run(scenario) == ([], [], [], 0, None)
    assert [r.method for r in server.received] == ["GET", "DELETE"]


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_aiohttp_sends_no_attempt_the_core_did_not_ask_for(server: ScriptedServer,
                                                           method: str) -> None:
    # aiohttp re-sends an idempotent request whose connection dropped, unseen by the core:
    # with one attempt allowed, one request reaches the server, and the core knows the
    # answer was lost (a batched DELETE re-sent behind its back would be misreported).
    server.respond = lambda request: Step.reset()

    async def scenario() -> None:
        async with AsyncDirectusClient(server.url, auth=StaticToken("t"),
                                       retry=RetryPolicy(attempts=1)) as client:
            with pytest.raises(ConnectError) as raised:
                await client.request(method, "items/things/1")
            assert raised.value.request_sent

    run(scenario)
    assert [r.method for r in server.received] == [method]
