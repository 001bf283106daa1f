"""``python -m benchmarks.async_directus``: the async face against a real Directus, both faces.

Starts a local Directus (``DirectusServer(database=...)``, SQLite, PostgreSQL or both in
turn, as benchmarks/databases.py does), seeds one collection of ``--items`` (20,000) rows
with an integer and a string field, and measures, in one interleaved run per database
(each measurement a fresh worker process, the order of the variants rotated each round):

- iterating every row, page size 1,000, sorted by id:

  - ``aio``: ``async for row in coll.sort("id")`` on ``pydirectus.aio.AsyncDirectusClient``
    (prefetch on, its default: the next page is fetched by a task);
  - ``sync``: ``for row in coll.sort("id")`` on ``DirectusClient`` (prefetch on, its
    default: the next page is fetched by a thread);
  - ``raw``: benchmarks/variants.py's raw requests loop (limit/offset, same page size and
    sort, one Session), the reference the main suite uses;

- ``create_many`` of ``--creates`` (10,000) rows, ``batch_size=1000`` (spec.BATCH_SIZE, what
  the main suite's create_many row uses), each into a collection made for that one
  measurement: ``aio@4`` / ``aio@1`` (``await coll.create_many(rows, concurrency=4 | 1)``,
  4 batches in flight as tasks) and ``sync@4`` / ``sync@1`` (4 threads, or one).

Each worker warms up untimed (``exists()``: the connection and the collection's schema),
then times one block: wall, client CPU (``time.process_time()``: the event loop, the
prefetch task or thread, the batch threads), the block's peak RSS (the kernel's high-water
mark reset at its start) and the CPU the server's process groups used meanwhile (Directus's
node, and PostgreSQL's postmaster and backends; read from /proc). Every result is checked:
an iteration's row count, id sum and sum of ``n`` against the seeded rows; a create's
returned rows (count, distinct ids) and, afterwards, the collection's count and sum of
``n`` read back by plain requests. A variant that fails or answers wrongly drops out, its
traceback in the notes (exit status 1).

Both collections have activity and revisions off (``accountability: null``): with them on,
Directus spends 2-3x longer per created row, which would push a run far past ~8 minutes
and bury the client under more server work. Writes benchmarks/async_directus.md. Never run
by the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.dataset import Admin
from benchmarks.harness import ratio_text, rotated, run_line

log = logging.getLogger("benchmarks")

OUT = Path(__file__).with_name("async_directus.md")
ROOT = Path(__file__).resolve().parent.parent
PAGE = 1000
BATCH = 1000  # spec.BATCH_SIZE: the main suite's create_many batches
SEED_BATCH = 5000
FIELDS = {"n": "integer", "title": "string"}
TIMEOUT = (10.0, 600.0)
DATABASES = ("sqlite", "postgresql")
DB_TITLES = {"sqlite": "SQLite", "postgresql": "PostgreSQL 15"}
ITERATE = ("aio", "sync", "raw")
CREATE = ("aio@4", "aio@1", "sync@4", "sync@1")
TITLES = {
    "aio": "pydirectus.aio, `async for` (prefetch task)",
    "sync": "pydirectus sync, `for` (prefetch thread)",
    "raw": "raw requests, limit/offset loop (reference)",
    "aio@4": "pydirectus.aio, `await create_many(concurrency=4)`",
    "aio@1": "pydirectus.aio, `await create_many(concurrency=1)`",
    "sync@4": "pydirectus sync, `create_many(concurrency=4)` (threads)",
    "sync@1": "pydirectus sync, `create_many(concurrency=1)`",
}
TOKEN_ENV = "BENCH_DIRECTUS_TOKEN"
PGIDS_ENV = "BENCH_SERVER_PGIDS"


def row(n: int, tag: str) -> dict[str, Any]:
    """Return the n-th row of a seeded or created collection."""
    return {"n": n, "title": f"{tag} {n}"}


# --- the worker: one timed block in this process -------------------------------------------

def server_cpu(pgids: Sequence[int]) -> float:
    """Return the CPU seconds (own and reaped children's) of every process in the groups."""
    if not pgids:
        return 0.0
    ticks, total = os.sysconf("SC_CLK_TCK"), 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if int(fields[2]) in pgids:  # pgrp; then utime, stime, cutime, cstime
            total += sum(int(value) for value in fields[11:15])
    return total / ticks


def _pgids() -> list[int]:
    return [int(p) for p in os.environ.get(PGIDS_ENV, "").split(",") if p]


def _decoder() -> str:
    from pydirectus import encoding

    return "orjson" if encoding.ORJSON else "json"


class Clock:
    """Times one block: wall, client CPU, peak RSS of the block, server CPU meanwhile."""

    def __init__(self) -> None:
        self.result: dict[str, Any] = {}

    def start(self) -> None:
        from benchmarks.worker import reset_peak_rss

        self.pgids = _pgids()
        self.server = server_cpu(self.pgids)
        self.rss_before = reset_peak_rss()
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def stop(self, check: Any) -> dict[str, Any]:
        from benchmarks.worker import max_rss_kb

        wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        peak = max_rss_kb()
        return {"wall": wall, "cpu": cpu, "rss_before_kb": self.rss_before,
                "rss_peak_kb": peak, "server_cpu": server_cpu(self.pgids) - self.server,
                "check": check, "decoder": _decoder()}


async def aio_worker(variant: str, url: str, token: str, collection: str, count: int,
                     tag: str) -> dict[str, Any]:
    from pydirectus import StaticToken
    from pydirectus.aio import AsyncDirectusClient

    level = variant.partition("@")[2]
    clock = Clock()
    async with AsyncDirectusClient(url, auth=StaticToken(token), page_size=PAGE,
                                   timeout=TIMEOUT) as client:
        coll = client.collection(collection)
        await coll.exists()  # warm: the connection, the collection's schema
        if not level:
            clock.start()
            n = id_sum = n_sum = 0
            async for item in coll.sort("id"):
                n += 1
                id_sum += item["id"]
                n_sum += item["n"]
            return clock.stop({"n": n, "sum": id_sum, "nsum": n_sum})
        rows = [row(i, tag) for i in range(count)]
        clock.start()
        made = await coll.create_many(rows, batch_size=BATCH, concurrency=int(level))
        return clock.stop({"n": len(made), "distinct": len({r["id"] for r in made})})


def sync_worker(variant: str, url: str, token: str, collection: str, count: int,
                tag: str) -> dict[str, Any]:
    from pydirectus import DirectusClient, StaticToken

    level = variant.partition("@")[2]
    clock = Clock()
    with DirectusClient(url, auth=StaticToken(token), page_size=PAGE,
                        timeout=TIMEOUT) as client:
        coll = client.collection(collection)
        coll.exists()
        if not level:
            clock.start()
            n = id_sum = n_sum = 0
            for item in coll.sort("id"):
                n += 1
                id_sum += item["id"]
                n_sum += item["n"]
            return clock.stop({"n": n, "sum": id_sum, "nsum": n_sum})
        rows = [row(i, tag) for i in range(count)]
        clock.start()
        made = coll.create_many(rows, batch_size=BATCH, concurrency=int(level))
        return clock.stop({"n": len(made), "distinct": len({r["id"] for r in made})})


def raw_worker(url: str, token: str, collection: str) -> dict[str, Any]:
    """benchmarks/variants.py's raw loop; the id sum and the sum of n added up here."""
    from benchmarks.variants import RawVariant

    raw = RawVariant()
    raw.setup(url, token, PAGE)
    try:
        raw.op_warm(1, {"collection": collection})()
        base = f"{raw.url}/items/{collection}"
        clock = Clock()
        clock.start()
        n = id_sum = n_sum = offset = 0
        while True:  # the loop of RawVariant.op_iterate, also summing n
            response = raw.session.get(base, params={
                "limit": str(PAGE), "offset": str(offset), "sort": "id"}, timeout=TIMEOUT)
            response.raise_for_status()
            rows = response.json()["data"]
            for item in rows:
                n += 1
                id_sum += item["id"]
                n_sum += item["n"]
            if len(rows) < PAGE:
                break
            offset += PAGE
        result = clock.stop({"n": n, "sum": id_sum, "nsum": n_sum})
        result["decoder"] = "json"
        return result
    finally:
        raw.close()


def worker(variant: str, url: str, collection: str, count: int, tag: str) -> dict[str, Any]:
    """Run one block of one variant in this process; return its measurements and check."""
    token = os.environ[TOKEN_ENV]
    if variant == "raw":
        return raw_worker(url, token, collection)
    if variant.startswith("aio"):
        return asyncio.run(aio_worker(variant, url, token, collection, count, tag))
    return sync_worker(variant, url, token, collection, count, tag)


# --- the parent: servers, seeding, interleaving, oracle --------------------------------------

class WorkerFailed(Exception):
    """A worker exited with an error; the message is its whole stderr (the traceback)."""


def spawn(variant: str, url: str, collection: str, count: int, tag: str,
          env: dict[str, str]) -> dict[str, Any]:
    """Run one worker process; return the JSON it prints last, or raise with its stderr."""
    argv = [sys.executable, "-m", "benchmarks.async_directus", "--worker", variant,
            "--url", url, "--collection", collection, "--count", str(count), "--tag", tag]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False, timeout=1800)
    if done.returncode != 0:
        raise WorkerFailed(done.stderr.strip() or f"exit status {done.returncode}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@dataclass
class Results:
    """Every sample by database, workload and variant; why variants dropped out."""

    samples: dict[str, dict[str, dict[str, list[dict[str, Any]]]]] = field(default_factory=dict)
    notes: dict[tuple[str, str], str] = field(default_factory=dict)  # (db, variant) -> text
    decoders: dict[str, str] = field(default_factory=dict)
    setup: dict[str, float] = field(default_factory=dict)  # db -> seconds to start and seed

    def ok(self, db: str, workload: str, variant: str) -> bool:
        return bool(self.samples.get(db, {}).get(workload, {}).get(variant)) and (
            db, variant) not in self.notes

    def values(self, db: str, workload: str, variant: str, key: str) -> list[float]:
        return [float(s[key]) for s in self.samples[db][workload][variant]]


def seed(admin: Admin, collection: str, items: int) -> dict[str, int]:
    """Fill the read collection; return the oracle of a full iteration."""
    for start in range(0, items, SEED_BATCH):
        admin.call("POST", f"/items/{collection}", params={"fields": "id"},
                   json=[row(n, "seed") for n in range(start, min(start + SEED_BATCH, items))])
    rows = admin.call("GET", f"/items/{collection}",
                      params={"fields": "id,n", "limit": "-1", "sort": "id"})
    oracle = {"n": len(rows), "sum": sum(r["id"] for r in rows),
              "nsum": sum(r["n"] for r in rows)}
    if oracle != {"n": items, "sum": oracle["sum"], "nsum": items * (items - 1) // 2}:
        raise RuntimeError(f"seeding went wrong: {oracle}")
    return oracle


def quiet(admin: Admin, collection: str) -> None:
    """Turn activity and revisions off for a collection (see the module docstring)."""
    admin.call("PATCH", f"/collections/{collection}", json={"meta": {"accountability": None}})


def written(admin: Admin, collection: str) -> dict[str, int]:
    """Return how many rows a collection holds and the sum of their n."""
    got = admin.call("GET", f"/items/{collection}",
                     params={"aggregate[count]": "*", "aggregate[sum]": "n"})[0]
    total = got["sum"]["n"] if isinstance(got.get("sum"), dict) else got.get("sum")
    count = got["count"]["*"] if isinstance(got["count"], dict) else got["count"]
    return {"count": int(count), "nsum": int(total or 0)}


def measure(db: str, options: argparse.Namespace, results: Results) -> None:
    """Start Directus on one database, seed, and run every round of both workloads."""
    from pydirectus.testing import DIRECTUS_VERSION, CollectionFactory, DirectusServer

    began = time.monotonic()
    log.info("starting Directus %s on %s", DIRECTUS_VERSION, db)
    # The pressure limiter answers 503 when the event loop lags (2 shared cores); a retried
    # 503 would silently distort a timing.
    with DirectusServer(database=db, env={"PRESSURE_LIMITER_ENABLED": "false"}) as server:
        pgids = [pid for pid in (server.pid, server.postgres.pid if server.postgres else None)
                 if pid]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
        env.update({TOKEN_ENV: server.admin_token, PGIDS_ENV: ",".join(map(str, pgids)),
                    "PYTHONHASHSEED": "0"})
        factory = CollectionFactory(server.url, server.admin_token)
        admin = Admin(server.url, server.admin_token)
        try:
            reads = factory(FIELDS, prefix="bench_async_reads")
            quiet(admin, reads)
            log.info("%s: seeding %d rows", db, options.items)
            oracle = seed(admin, reads, options.items)
            results.setup[db] = time.monotonic() - began
            results.samples[db] = {"iterate": {v: [] for v in ITERATE},
                                   "create": {v: [] for v in CREATE}}

            def iterate(variant: str, round_: int) -> dict[str, Any]:
                return spawn(variant, server.url, reads, 0, "", env)

            def create(variant: str, round_: int) -> dict[str, Any]:
                target = factory(FIELDS, prefix="bench_async_writes")
                quiet(admin, target)
                try:
                    result = spawn(variant, server.url, target, options.creates,
                                   f"{variant}-{round_}", env)
                    result["stored"] = written(admin, target)
                finally:
                    admin.call("DELETE", f"/collections/{target}")
                return result

            made = {"n": options.creates, "distinct": options.creates}
            stored = {"count": options.creates,
                      "nsum": options.creates * (options.creates - 1) // 2}
            for round_ in range(options.rounds):
                for variant in rotated(ITERATE, round_):
                    run_one(results, db, "iterate", variant, round_, iterate, oracle)
                for variant in rotated(CREATE, round_):
                    run_one(results, db, "create", variant, round_, create, made, stored)
                log.info("%s: round %d/%d done", db, round_ + 1, options.rounds)
        finally:
            admin.close()
            factory.session.close()


def failure_note(results: Results, stderr: str) -> str:
    """Return a failed worker's note: its traceback, or a pointer to an identical one."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    last = lines[-1] if lines else stderr
    for (db, variant), note in results.notes.items():
        if note.startswith("failed:") and note.rstrip("`\n").endswith(last):
            return (f"failed with the same exception as {DB_TITLES[db]}, {TITLES[variant]} "
                    f"above: `{last}`")
    return f"failed:\n\n```\n{stderr[-12000:]}\n```"


def run_one(results: Results, db: str, workload: str, variant: str, round_: int,
            go: Callable[[str, int], dict[str, Any]], expected: Any,
            stored: dict[str, int] | None = None) -> None:
    """Run one measurement unless the variant dropped out; check it; keep it or drop out."""
    if (db, variant) in results.notes:
        return
    try:
        result = go(variant, round_)
    except WorkerFailed as exc:
        results.notes[db, variant] = failure_note(results, str(exc))
    except Exception as exc:
        results.notes[db, variant] = f"failed in the parent: {type(exc).__name__}: {exc}"
    else:
        got_stored = result.pop("stored", None)
        if result["check"] != expected:
            results.notes[db, variant] = (f"wrong result, not timed: {result['check']!r}, "
                                          f"expected {expected!r}")
        elif stored is not None and got_stored != stored:
            results.notes[db, variant] = (f"wrong rows stored: {got_stored!r}, "
                                          f"expected {stored!r}")
        else:
            results.samples[db][workload][variant].append(result)
            results.decoders[variant.split("@")[0]] = result["decoder"]
            return
    log.warning("%s %s %s dropped out: %s", db, workload, variant,
                results.notes[db, variant][-600:])
    results.samples[db][workload][variant].clear()


# --- the report --------------------------------------------------------------------------

def spread(values: Sequence[float]) -> float:
    """Return (max - min) / median: 0.1 means the rounds span 10 %."""
    middle = statistics.median(values)
    return (max(values) - min(values)) / middle if middle else 0.0


def _mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def cell(results: Results, db: str, workload: str, variant: str, count: int) -> str:
    """Return a cell: wall (spread), per row for creates, client CPU, server CPU, RSS."""
    if db not in results.samples:
        return "not run"
    if not results.ok(db, workload, variant):
        return "— (see notes)" if (db, variant) in results.notes else "—"
    wall = results.values(db, workload, variant, "wall")
    cpu = results.values(db, workload, variant, "cpu")
    server = results.values(db, workload, variant, "server_cpu")
    peak = results.values(db, workload, variant, "rss_peak_kb")
    growth = [p - b for p, b in zip(peak, results.values(db, workload, variant, "rss_before_kb"),
                                    strict=True)]
    text = f"**{statistics.median(wall):.2f} s** ({spread(wall):.0%})"
    if workload == "create":
        text += f", {statistics.median(wall) / count * 1e3:.2f} ms/row"
    busy = statistics.median(s / w for s, w in zip(server, wall, strict=True))
    return (text + f"<br>client cpu {statistics.median(cpu):.3f} s"
            f"<br>server cpu {statistics.median(server):.2f} s ({busy:.2f} cores)"
            f"<br>peak RSS {_mib(statistics.median(peak))} "
            f"(+{_mib(statistics.median(growth))})")


def ratio(results: Results, db: str, workload: str, a: str, b: str, key: str) -> str:
    """Return the median of per-round a ÷ b (min-max), or n/a."""
    if db not in results.samples or not (results.ok(db, workload, a)
                                         and results.ok(db, workload, b)):
        return "n/a"
    return ratio_text(results.values(db, workload, a, key), results.values(db, workload, b, key))


def table(results: Results, dbs: Sequence[str], workload: str, variants: Sequence[str],
          count: int, ratios: Sequence[tuple[str, str, str, str]]) -> list[str]:
    lines = ["| Variant | " + " | ".join(DB_TITLES[db] for db in dbs) + " |",
             "|---|" + "---|" * len(dbs)]
    for variant in variants:
        title = TITLES[variant]
        name = variant.split("@")[0]
        if name in ("aio", "sync") and name in results.decoders:
            title += f" ({results.decoders[name]})"
        lines.append(f"| {title} | " + " | ".join(
            cell(results, db, workload, variant, count) for db in dbs) + " |")
    lines += ["", "| Ratio (median of per-round ratios, min-max) | " + " | ".join(
        DB_TITLES[db] for db in dbs) + " |", "|---|" + "---|" * len(dbs)]
    for label, a, b, key in ratios:
        lines.append(f"| {label} | " + " | ".join(
            ratio(results, db, workload, a, b, key) for db in dbs) + " |")
    return lines


def _busy(results: Results, db: str, workload: str, variants: Sequence[str],
          key: str) -> list[float]:
    """Return key ÷ wall of every sample of the variants that ran."""
    return [float(s[key]) / float(s["wall"]) for v in variants if results.ok(db, workload, v)
            for s in results.samples[db][workload][v]]


def _span(values: Sequence[float], scale: float = 1.0, digits: int = 2) -> str:
    low, high = min(values) * scale, max(values) * scale
    return f"{low:.{digits}f}" if f"{low:.{digits}f}" == f"{high:.{digits}f}" else (
        f"{low:.{digits}f}-{high:.{digits}f}")


def bounds(results: Results, dbs: Sequence[str], load_at_start: float) -> list[str]:
    """Return the section on what bounds the wall time: the measured shares, then why."""
    lines = ["## What bounds the wall time", ""]
    for db in dbs:
        if db not in results.samples:
            continue
        parts = []
        for workload, variants, what in (("iterate", ITERATE, "iterating"),
                                         ("create", CREATE, "creating")):
            server = _busy(results, db, workload, variants, "server_cpu")
            client = _busy(results, db, workload, variants, "cpu")
            if server and client:
                parts.append(f"{what}, the server used {_span(server)} cores' worth of CPU per "
                             f"second of wall and the client {_span(client, 100, 0)} %")
        if parts:
            lines.append(f"- {DB_TITLES[db]}: " + "; ".join(parts) + " (every block of the "
                         "variants that ran, min-max).")
    lines += [
        "",
        "Directus handles requests on one Node.js event loop, so its JavaScript (parsing, "
        "validation, permissions, the query builder, serialising) uses at most about one "
        "core however many requests are in flight. Its `createMany` creates the rows of a "
        "batch one by one (`createOne` in a loop inside one transaction), so a batch of "
        "1,000 is a long stretch of serial server work per request. On SQLite, knex gives "
        "Directus a single database connection (its sqlite3 pool is min 1, max 1): every "
        "query queues for it and a batch's transaction holds it until the commit, so "
        "batches in flight are served one after another whichever face sends them. On "
        "PostgreSQL the pool has several connections and each backend is a process of its "
        "own, so the database's share can run on the second core beside node. Either way "
        "`concurrency=4` can only overlap the client's share, which is small on both faces, "
        "and the gaps between requests. Server CPU below 1.0 core per second of wall means "
        "node (and PostgreSQL) waited part of the time: for a core, which the client, the "
        "workers' start-up and the other engineers' work on this machine (1-minute load "
        f"average {load_at_start:.1f} at the start) also want, or for the disk (commits), "
        "not for the client.",
        ""]
    return lines


def source_line() -> str:
    """Return which pydirectus was measured: its folder, and its commit when in git."""
    import pydirectus

    folder = Path(pydirectus.__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "--", "."],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"pydirectus from `{folder}` (not a git checkout)"
    state = "with uncommitted changes in pydirectus/" if dirty else "clean"
    return f"pydirectus at commit `{commit}` ({state})"


def render(results: Results, options: argparse.Namespace, dbs: Sequence[str],
           seconds: float) -> str:
    from pydirectus.testing import DIRECTUS_VERSION

    command = (f"python -m benchmarks.async_directus --rounds {options.rounds} --database "
               f"{options.database}")
    if (options.items, options.creates) != (20_000, 10_000):
        command += f" --items {options.items} --creates {options.creates}"
    setup = ", ".join(f"{DB_TITLES[db]} {results.setup[db]:.0f} s" for db in dbs
                      if db in results.setup)
    lines = [
        "# The async face against a real Directus: iteration and create_many", "",
        run_line(command, seconds) + f" Directus {DIRECTUS_VERSION} on loopback, sharing the "
        f"2 cores with the client (and with other engineers' work); {source_line()}. Starting "
        f"and seeding each server (untimed): {setup}. Each measurement is one block in a "
        "fresh worker process, the variants of a workload rotated each round; every result "
        "is checked (module docstring). Cells: median over the rounds (spread of the rounds, "
        "(max-min)/median); client cpu is the worker's `time.process_time()`; server cpu is "
        "what Directus's process group (and PostgreSQL's) used during the block, and in "
        "brackets that divided by the wall time; peak RSS is the block's high-water mark "
        "(and its growth during the block). Activity and revisions are off on both "
        "collections.", "",
        f"## Iterate {options.items:,} rows (page size {PAGE:,}, sorted by id)", "",
        *table(results, dbs, "iterate", ITERATE, options.items, [
            ("async ÷ sync: wall", "aio", "sync", "wall"),
            ("async ÷ sync: client cpu", "aio", "sync", "cpu"),
            ("async ÷ sync: peak RSS", "aio", "sync", "rss_peak_kb"),
            ("async ÷ raw: wall", "aio", "raw", "wall"),
            ("sync ÷ raw: wall", "sync", "raw", "wall")]),
        "",
        f"## create_many of {options.creates:,} rows (batch_size={BATCH:,}, "
        "each round into a new collection)", "",
        *table(results, dbs, "create", CREATE, options.creates, [
            ("async: concurrency=4 ÷ sequential, wall", "aio@4", "aio@1", "wall"),
            ("sync: concurrency=4 ÷ sequential, wall", "sync@4", "sync@1", "wall"),
            ("async: concurrency=4 ÷ sequential, client cpu", "aio@4", "aio@1", "cpu"),
            ("sync: concurrency=4 ÷ sequential, client cpu", "sync@4", "sync@1", "cpu"),
            ("concurrency=4: async ÷ sync, wall", "aio@4", "sync@4", "wall"),
            ("sequential: async ÷ sync, wall", "aio@1", "sync@1", "wall"),
            ("sequential: async ÷ sync, client cpu", "aio@1", "sync@1", "cpu")]),
        "",
    ]
    lines += bounds(results, dbs, options.load_at_start)
    if results.notes:
        lines += ["## Variants that dropped out", ""]
        for (db, variant), note in results.notes.items():
            lines += [f"- {DB_TITLES[db]}, {TITLES[variant]}: {note}", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """Measure and write async_directus.md; return 1 if a variant dropped out."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.async_directus",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--items", type=int, default=20_000, help="rows iterated")
    parser.add_argument("--creates", type=int, default=10_000, help="rows per create_many")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--collection", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--tag", default="", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.worker:
        print(json.dumps(worker(options.worker, options.url, options.collection, options.count,
                                options.tag)))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S",
                        stream=sys.stderr)
    dbs = DATABASES if options.database == "both" else (options.database,)
    options.load_at_start = os.getloadavg()[0]
    began = time.monotonic()
    results = Results()
    for db in dbs:
        measure(db, options, results)
    text = render(results, options, dbs, time.monotonic() - began)
    options.out.write_text(text, encoding="utf-8")
    print(text)
    return 1 if results.notes else 0


if __name__ == "__main__":
    sys.exit(main())
