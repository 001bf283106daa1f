"""The async face against a real Directus: concurrency, cancellation, token renewal under
load, truthful batched writes with concurrency, and the same exceptions as the sync face.

Plain tests that run their coroutines with ``asyncio.run`` (no pytest-asyncio); the
scenarios every face shares run on the async face too (``--directus-face=async``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from pydirectus import (
    AuthenticationError,
    BatchWriteError,
    DirectusClient,
    InvalidQuery,
    MultipleItemsFound,
    NotFound,
    Password,
    PermissionDenied,
    RetryPolicy,
    StaticToken,
    TransportError,
)
from pydirectus.aio import AsyncDirectusClient
from pydirectus.testing import DirectusServer
from pydirectus.testing.collections import CollectionFactory
from pydirectus.testing.pytest_plugin import running
from tests.faults import Fault, FaultProxy

T = TypeVar("T")

ACCESS_TTL = 2.0
FAST = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05, total=10.0)


def run(coroutine: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine function on a fresh event loop; nothing may be left on it."""

    async def main() -> T:
        result = await coroutine()
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert left == [], left
        return result

    return asyncio.run(main())


def admin(directus: Any, url: str | None = None, **options: Any) -> AsyncDirectusClient:
    return AsyncDirectusClient(url or directus.url, auth=StaticToken(directus.admin_token),
                               **options)


def sockets_to(port: int) -> int:
    """Return how many TCP connections this process holds open to 127.0.0.1:``port``."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if fields[9] in inodes and remote_port == port:
                    count += 1
    return count


needs_proc = pytest.mark.skipif(not Path("/proc/net/tcp").exists(),
                                reason="counts sockets through /proc (Linux)")


# ------------------------------------------------------------------ concurrency


def test_two_hundred_concurrent_gets_on_one_client(
        directus: Any, make_collection: Callable[..., str]) -> None:
    name = make_collection({"n": "integer", "title": "string"}, prefix="aio200")

    async def scenario() -> None:
        async with admin(directus) as client:
            handle = client.collection(name)
            rows = await handle.create_many(
                [{"n": i, "title": f"t{i:03d}"} for i in range(200)], batch_size=50)
            keys = [row["id"] for row in rows]
            began = time.monotonic()
            got = await asyncio.gather(*(handle.get(key) for key in keys))
            elapsed = time.monotonic() - began
            assert [(g["id"], g["n"], g["title"]) for g in got] == [
                (key, i, f"t{i:03d}") for i, key in enumerate(keys)]
            # ... and with a read each: the same rows through the seed's method.
            again = await asyncio.gather(*(client.read_item(name, key) for key in keys[::10]))
            assert [a["n"] for a in again] == list(range(0, 200, 10))
            print(f"\n200 concurrent gets in {elapsed:.2f} s")

    run(scenario)


# ------------------------------------------------------------------ cancellation


@needs_proc
@pytest.mark.parametrize("where", ["in the loop body", "waiting for the next page"])
def test_cancelling_an_iteration_leaves_nothing_behind(
        directus: Any, make_collection: Callable[..., str], where: str) -> None:
    name = make_collection({"n": "integer"}, prefix="aiocancel")
    path = f"/items/{name}"
    threads_before = set(threading.enumerate())

    with FaultProxy(directus.url, lifetime=120) as proxy:
        # The first page passes; the page fetched ahead stalls at the proxy: it is in
        # flight when the iteration is cancelled.
        proxy.add(Fault("pass", method="GET", path=path, times=1),
                  Fault.stall(30, method="GET", path=path, times=1))

        async def scenario() -> None:
            async with admin(directus) as seeder:
                await seeder.collection(name).create_many([{"n": i} for i in range(100)])
            client = admin(directus, proxy.url, page_size=20)
            seen: list[int] = []
            reached = asyncio.Event()
            in_body = where == "in the loop body"

            async def consume() -> None:
                async for row in client.collection(name).sort("n"):
                    seen.append(row["n"])
                    if len(seen) == (5 if in_body else 20):
                        reached.set()
                    if in_body:
                        await asyncio.sleep(0.01)  # each row takes a while

            def others() -> list[asyncio.Task[Any]]:
                return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

            try:
                task = asyncio.ensure_future(consume())
                await asyncio.wait_for(reached.wait(), 30)
                deadline = time.monotonic() + 10
                while len(proxy.requests_to(path, "GET")) < 2 and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                assert len(proxy.requests_to(path, "GET")) == 2  # the page ahead is in flight
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                assert task.cancelled() and len(seen) == (5 if in_body else 20)
                if not in_body:
                    # Cancelled inside the iteration: the page in flight is cancelled and
                    # awaited there and then.
                    assert others() == []
                # Cancelled while the loop body ran, the generator is closed by the event
                # loop's finalizer (a task of its own, as for any async generator left by
                # ``async for``), which cancels the page in flight: moments later no task
                # is left, no connection in use and none open to the proxy.
                deadline = time.monotonic() + 5
                while (others() or sockets_to(proxy.port)) and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                print(f"\n{where}: cleaned up {5 - (deadline - time.monotonic()):.3f} s "
                      "after the cancel")
                assert others() == []
                connector = client.transport.sender.session().connector
                assert connector is not None
                assert len(connector._acquired) == 0  # type: ignore[attr-defined]
                assert sockets_to(proxy.port) == 0
            finally:
                await client.close()
            assert sockets_to(proxy.port) == 0
            assert len(proxy.requests_to(path, "GET")) == 2  # nothing sent after

        run(scenario)
    assert set(threading.enumerate()) == threads_before


# ------------------------------------------------------------ token renewal under load


@pytest.fixture(scope="module")
def short_ttl(directus_database: str) -> Iterator[DirectusServer]:
    """A Directus whose access tokens live 2 s (on the run's database)."""
    with running(DirectusServer(env={"ACCESS_TOKEN_TTL": f"{ACCESS_TTL:.0f}s",
                                     "REFRESH_TOKEN_TTL": "1h"},
                                database=directus_database)) as server:
        yield server


@pytest.mark.slow
def test_fifty_tasks_share_one_renewal_per_expiry(short_ttl: DirectusServer) -> None:
    factory = CollectionFactory(short_ttl.url, short_ttl.admin_token)
    name = factory({"title": "string"}, prefix="aionotes")
    duration, tasks = 20.0, 50

    async def scenario() -> tuple[Password, int, float, list[BaseException]]:
        async with admin(short_ttl) as seeder:
            await seeder.create_item(name, {"title": "hello"})
        auth = Password(short_ttl.admin_email, short_ttl.admin_password)
        errors: list[BaseException] = []
        calls = [0] * tasks
        async with AsyncDirectusClient(short_ttl.url, auth=auth, retry=FAST,
                                       timeout=(2.0, 10.0)) as client:
            start = asyncio.Event()

            async def work(index: int) -> None:
                await start.wait()
                deadline = time.monotonic() + duration
                while time.monotonic() < deadline:
                    try:
                        if calls[index] % 2:
                            assert await client.server.info()
                        else:
                            rows = await client.read_items(name, {"limit": 1})
                            assert rows[0]["title"] == "hello"
                    except Exception as exc:  # any failure is the finding
                        errors.append(exc)
                        return
                    calls[index] += 1

            workers = [asyncio.ensure_future(work(i)) for i in range(tasks)]
            began = time.monotonic()
            start.set()
            await asyncio.gather(*workers)
            elapsed = time.monotonic() - began
        return auth, sum(calls), elapsed, errors

    try:
        auth, total, elapsed, errors = run(scenario)
    finally:
        factory.drop_all()
    # Refresh at expires - min(30 s, ttl/5): every 1.6 s of a 2 s token.
    margin = min(30.0, ACCESS_TTL / 5)
    low, high = elapsed / ACCESS_TTL / 2, 2 * elapsed / (ACCESS_TTL - margin) + 2
    print(f"\nasync soak: {total} calls in {elapsed:.1f} s by {tasks} tasks; "
          f"{auth.logins} login(s), {auth.refreshes} refreshes (band {low:.1f}..{high:.1f})")
    assert not errors, errors[:3]
    assert auth.logins == 1
    assert low <= auth.logins + auth.refreshes <= high
    assert total >= 20 * auth.refreshes


# ------------------------------------------------- batched writes with concurrency


@pytest.mark.parametrize("face", ["sync", "async"])
def test_a_connection_lost_after_one_batch_was_sent_is_reported_exactly(
        directus: Any, make_collection: Callable[..., str], face: str) -> None:
    name = make_collection({"tag": "string"}, prefix="aiobatch")
    path = f"/items/{name}"
    rows = [{"tag": f"c{i:02d}"} for i in range(30)]  # ten batches of three
    with FaultProxy(directus.url, lifetime=120) as proxy:
        # Five batches pass; the sixth (in the second group of four) reaches Directus, which
        # writes it, and the answer never comes back.
        proxy.add(Fault("pass", method="POST", path=path, times=5),
                  Fault.forward_then_reset(method="POST", path=path, times=1))
        if face == "sync":
            with DirectusClient(proxy.url, auth=StaticToken(directus.admin_token)) as client, \
                    pytest.raises(BatchWriteError) as raised:
                client.collection(name).create_many(rows, batch_size=3, concurrency=4)
            error = raised.value
        else:
            async def scenario() -> BatchWriteError:
                async with admin(directus, proxy.url) as client:
                    with pytest.raises(BatchWriteError) as raised:
                        await client.collection(name).create_many(rows, batch_size=3,
                                                                  concurrency=4)
                return raised.value

            error = run(scenario)
        posts = len(proxy.requests_to(path, "POST"))
    assert posts == 8  # two groups of four: the third group was never sent, none re-sent
    batches = [rows[i:i + 3] for i in range(0, 30, 3)]
    assert error.not_written == [*batches[8], *batches[9]]
    assert len(error.uncertain) == 3 and error.uncertain in batches[4:8]
    lost = batches.index(error.uncertain)
    written = [row["tag"] for row in error.written]
    assert written == [r["tag"] for b in batches[:8] if b is not batches[lost] for r in b]
    assert isinstance(error.cause, TransportError) and "3 uncertain" in str(error)
    # What Directus holds: what was written, and the uncertain batch (it did land), each
    # once; nothing of what was not written.
    with DirectusClient(directus.url, auth=StaticToken(directus.admin_token)) as reader:
        stored = [row["tag"] for row in reader.collection(name).fields("tag")]
    assert len(stored) == len(set(stored)) == 24
    assert set(stored) == set(written) | {row["tag"] for row in error.uncertain}


# ------------------------------------------------------- one error tree, both faces


def _outcome(call: Callable[[], Any]) -> tuple[type, int | None, str | None, str]:
    try:
        call()
    except Exception as exc:
        return (type(exc), getattr(exc, "status", None), getattr(exc, "code", None),
                str(exc))
    raise AssertionError("no exception")


def test_both_faces_raise_the_same_exceptions(
        directus: Any, make_collection: Callable[..., str]) -> None:
    name = make_collection({"title": "string"}, prefix="aioerr")
    with DirectusClient(directus.url, auth=StaticToken(directus.admin_token)) as seeder:
        key = seeder.collection(name).create_many(
            [{"title": "one"}, {"title": "twin"}, {"title": "twin"}])[0]["id"]
    missing = key + 10**6

    def sync_cases() -> list[Any]:
        with DirectusClient(directus.url, auth=StaticToken(directus.admin_token)) as client, \
                DirectusClient(directus.url) as public, \
                DirectusClient(directus.url, auth=Password(
                    directus.admin_email, "not-the-password", refusal_cooldown=0)) as wrong:
            handle = client.collection(name)
            return [
                _outcome(lambda: handle.get(missing)),
                _outcome(lambda: handle.update(missing, {"title": "x"})),
                _outcome(lambda: handle.get(title="twin")),
                _outcome(lambda: handle.sort("id")[-1]),
                _outcome(lambda: public.collection(name).create({"title": "x"})),
                _outcome(lambda: public.create_item(name, {"title": "x"})),
                _outcome(lambda: _cause(lambda: public.collection(name).create_many(
                    [{"title": "x"}]))),
                _outcome(lambda: wrong.read_items(name)),
            ]

    async def async_cases() -> list[Any]:
        async def outcome(call: Callable[[], Awaitable[Any]]) -> Any:
            try:
                await call()
            except Exception as exc:
                return (type(exc), getattr(exc, "status", None), getattr(exc, "code", None),
                        str(exc))
            raise AssertionError("no exception")

        async def batch_cause() -> None:
            try:
                await public.collection(name).create_many([{"title": "x"}])
            except BatchWriteError as exc:
                raise _Cause(type(exc.cause)) from None

        async def negative_index() -> Any:
            return client.collection(name).sort("id")[-1]  # raises before any await

        async with admin(directus) as client, AsyncDirectusClient(directus.url) as public, \
                AsyncDirectusClient(directus.url, auth=Password(
                    directus.admin_email, "not-the-password", refusal_cooldown=0)) as wrong:
            handle = client.collection(name)
            return [
                await outcome(lambda: handle.get(missing)),
                await outcome(lambda: handle.update(missing, {"title": "x"})),
                await outcome(lambda: handle.get(title="twin")),
                await outcome(negative_index),
                await outcome(lambda: public.collection(name).create({"title": "x"})),
                await outcome(lambda: public.create_item(name, {"title": "x"})),
                await outcome(batch_cause),
                await outcome(lambda: wrong.read_items(name)),
            ]

    on_sync = sync_cases()
    on_async = run(async_cases)
    kinds = [NotFound, NotFound, MultipleItemsFound, InvalidQuery, PermissionDenied,
             PermissionDenied, _Cause, AuthenticationError]
    assert all(issubclass(o[0], kind) for o, kind in zip(on_sync, kinds, strict=True)), on_sync
    assert on_async == on_sync


class _Cause(Exception):
    """Carries the class of a BatchWriteError's cause, to compare it across faces."""

    def __init__(self, kind: type) -> None:
        super().__init__(kind.__name__)


def _cause(call: Callable[[], Any]) -> Any:
    try:
        call()
    except BatchWriteError as exc:
        raise _Cause(type(exc.cause)) from None
    raise AssertionError("no BatchWriteError")
