"""``python -m benchmarks.async_client``: the async face against raw aiohttp, httpx and py-directus.

Against the canned server (its own process, so what is measured is the client), in one
interleaved run of ``--rounds`` rounds, each measurement in a fresh worker process, the
order of the variants rotated each round:

- client CPU per call (``time.process_time()`` of the worker, so the event loop and any
  helper thread count; the canned server does not) for *read one by id*
  (``GET /items/articles/{id}``, ids 1..50 in turn) and *list 100*
  (``GET /items/articles?limit=100``, the query built per call), by:

  - ``aiohttp``: raw aiohttp, one ``ClientSession``, ``await response.json()``;
  - ``httpx``: raw ``httpx.AsyncClient``, ``response.json()``;
  - ``py_directus``: py-directus (PyPI), ``await Directus(url, token=...)``,
    ``collection(...).read(pk)`` and ``.limit(100).read(method="get")`` (its default list
    read is a SEARCH with a JSON body; ``method="get"`` sends the same GET as the others);
  - ``aio``: ``pydirectus.aio.AsyncDirectusClient`` (only when it imports; otherwise a
    printed note and the variant is left out);
  - ``sync``: ``pydirectus.DirectusClient``, and ``requests``: raw requests, for reference.

  Each block is ``--calls`` calls after one warm call and as many untimed ones; the
  collection handle is made once, outside the clock (as in lean_path).
- wall time of ``--reads`` (1,000) reads by id at concurrency 1, 8 and 32
  (``asyncio.gather`` over every read, an ``asyncio.Semaphore`` capping those in flight)
  for pydirectus.aio, raw aiohttp for reference, and the sync client's sequential loop.

Every block's result (the sum of the ids read; rows and the id sum of the last page) is
checked against the canned server's oracle; a variant that fails or answers wrongly drops
out with a note (and the exit status is 1). Ratios are medians of per-round ratios of
client CPU (min-max). pydirectus decodes with orjson when it is installed, as users of the
``fast`` extra get (``--no-orjson`` turns it off); the raw variants use ``json``.
Writes benchmarks/async_client.md.

The hook for pydirectus.aio is :func:`aio_api`: it makes the client and says how a read by
id and a list of 100 are spelled; everything else (timing, concurrency, checks) is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import canned_server
from benchmarks.harness import ratio_text, rotated, run_line, spawn_json

OUT = Path(__file__).with_name("async_client.md")
ROOT = Path(__file__).resolve().parent.parent
TOKEN = "canned-token"
COLLECTION = "articles"
LIMIT = canned_server.LIST_ROWS  # 100: the canned list answers this many rows
IDS = list(range(1, 51))
TIMEOUT = 60.0
CONCURRENCY = (1, 8, 32)

TITLES = {"aiohttp": "raw aiohttp", "httpx": "raw httpx.AsyncClient",
          "py_directus": "py-directus", "aio": "pydirectus.aio",
          "sync": "pydirectus sync", "requests": "raw requests"}
#: what must import for a variant to run (checked once, in a fresh process)
IMPORTS = {"aiohttp": "import aiohttp", "httpx": "import httpx",
           "py_directus": "import py_directus",
           "aio": "from pydirectus.aio import AsyncDirectusClient",
           "sync": "from pydirectus import DirectusClient", "requests": "import requests"}
DISTRIBUTIONS = {"aiohttp": "aiohttp", "httpx": "httpx", "py_directus": "py-directus",
                 "requests": "requests"}
CPU_VARIANTS = ("aiohttp", "httpx", "py_directus", "aio", "sync", "requests")
ASYNC_VARIANTS = ("aiohttp", "httpx", "py_directus", "aio")
#: the concurrency run: "<variant>@<concurrency>", and the sync client's sequential loop
WALL_VARIANTS = (*(f"aio@{c}" for c in CONCURRENCY), *(f"aiohttp@{c}" for c in CONCURRENCY),
                 "sync@seq")
WORKLOADS = {"read_one": "Read one item by id", "list_100": "List 100 (query built per call)",
             "reads": "reads by id, concurrent"}
#: (numerator, denominator, target) of the CPU ratios; None: for reference only
RATIOS: tuple[tuple[str, str, float | None], ...] = (
    ("aio", "aiohttp", 1.3), ("aio", "py_directus", 0.5), ("py_directus", "aiohttp", None),
    ("httpx", "aiohttp", None), ("sync", "requests", None), ("aio", "sync", None))


# --- the variants: how each client reads one item and lists 100 ---------------------------

@dataclass
class AsyncApi:
    """One async client: read one item (its dict), list 100 (their dicts), close."""

    read: Callable[[int], Awaitable[dict[str, Any]]]
    list100: Callable[[], Awaitable[list[dict[str, Any]]]]
    close: Callable[[], Any]
    decoder: str = "json"


@dataclass
class SyncApi:
    """One blocking client: the same three operations."""

    read: Callable[[int], dict[str, Any]]
    list100: Callable[[], list[dict[str, Any]]]
    close: Callable[[], Any]
    decoder: str = "json"


async def aio_api(url: str, token: str) -> AsyncApi:
    """pydirectus.aio: THE HOOK. The client as documented, one collection handle."""
    from pydirectus import StaticToken, aio

    client = aio.AsyncDirectusClient(url, auth=StaticToken(token))
    articles = client.collection(COLLECTION)
    return AsyncApi(read=articles.get, list100=lambda: articles.limit(LIMIT).fetch(),
                    close=client.close, decoder=pydirectus_decoder())


async def aiohttp_api(url: str, token: str) -> AsyncApi:
    """Raw aiohttp: one ClientSession carrying the token; ``response.json()``."""
    import aiohttp

    session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"},
                                    timeout=aiohttp.ClientTimeout(total=TIMEOUT))
    prefix, list_url = f"{url}/items/{COLLECTION}/", f"{url}/items/{COLLECTION}"

    async def read(pk: int) -> dict[str, Any]:
        async with session.get(prefix + str(pk)) as response:
            response.raise_for_status()
            return (await response.json())["data"]

    async def list100() -> list[dict[str, Any]]:
        async with session.get(list_url, params={"limit": str(LIMIT)}) as response:
            response.raise_for_status()
            return (await response.json())["data"]

    return AsyncApi(read, list100, session.close)


async def httpx_api(url: str, token: str) -> AsyncApi:
    """Raw httpx: one AsyncClient carrying the token; ``response.json()``."""
    import httpx

    client = httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    prefix, list_url = f"{url}/items/{COLLECTION}/", f"{url}/items/{COLLECTION}"

    async def read(pk: int) -> dict[str, Any]:
        response = await client.get(prefix + str(pk))
        response.raise_for_status()
        return response.json()["data"]

    async def list100() -> list[dict[str, Any]]:
        response = await client.get(list_url, params={"limit": str(LIMIT)})
        response.raise_for_status()
        return response.json()["data"]

    return AsyncApi(read, list100, client.aclose)


async def py_directus_api(url: str, token: str) -> AsyncApi:
    """py-directus as its README shows it: ``await Directus(url, token=...)``."""
    from py_directus import Directus

    directus = await Directus(url, token=token)
    articles = directus.collection(COLLECTION)

    async def read(pk: int) -> dict[str, Any]:
        return (await articles.read(pk)).item

    async def list100() -> list[dict[str, Any]]:
        return (await articles.limit(LIMIT).read(method="get")).items

    return AsyncApi(read, list100, directus.close_connection)


def sync_api(url: str, token: str) -> SyncApi:
    """The sync pydirectus client, one collection handle."""
    from pydirectus import DirectusClient, StaticToken

    client = DirectusClient(url, auth=StaticToken(token))
    articles = client.collection(COLLECTION)
    return SyncApi(read=articles.get, list100=lambda: articles.limit(LIMIT).fetch(),
                   close=client.close, decoder=pydirectus_decoder())


def requests_api(url: str, token: str) -> SyncApi:
    """Raw requests: one Session carrying the token; ``response.json()``."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    prefix, list_url = f"{url}/items/{COLLECTION}/", f"{url}/items/{COLLECTION}"

    def read(pk: int) -> dict[str, Any]:
        response = session.get(prefix + str(pk), timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()["data"]

    def list100() -> list[dict[str, Any]]:
        response = session.get(list_url, params={"limit": str(LIMIT)}, timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()["data"]

    return SyncApi(read, list100, session.close)


ASYNC_FACTORIES: dict[str, Callable[[str, str], Awaitable[AsyncApi]]] = {
    "aio": aio_api, "aiohttp": aiohttp_api, "httpx": httpx_api, "py_directus": py_directus_api}
SYNC_FACTORIES: dict[str, Callable[[str, str], SyncApi]] = {
    "sync": sync_api, "requests": requests_api}


def pydirectus_decoder() -> str:
    """Return which decoder pydirectus uses in this process."""
    from pydirectus import encoding

    return "orjson" if encoding.ORJSON else "json"


# --- the worker: one block of one variant, timed in this process ------------------------

def list_check(pages: Sequence[list[dict[str, Any]]]) -> dict[str, int]:
    """Return the check of a list block: rows read, and the id sum of the last page."""
    return {"n": sum(len(rows) for rows in pages),
            "sig": sum(row["id"] for row in pages[-1]) if pages else 0}


async def async_block(api: AsyncApi, workload: str, calls: int, concurrency: int) -> Any:
    """Run one block on an async client; return its check value."""
    if workload == "list_100":
        return list_check([await api.list100() for _ in range(calls)])
    if workload == "read_one":
        total = 0
        for i in range(calls):
            total += (await api.read(IDS[i % len(IDS)]))["id"]
        return total
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> int:
        async with gate:
            return (await api.read(IDS[i % len(IDS)]))["id"]
    return sum(await asyncio.gather(*(one(i) for i in range(calls))))


def sync_block(api: SyncApi, workload: str, calls: int) -> Any:
    """Run one block on a blocking client (the reads workload: a sequential loop)."""
    if workload == "list_100":
        return list_check([api.list100() for _ in range(calls)])
    return sum(api.read(IDS[i % len(IDS)])["id"] for i in range(calls))


async def async_worker(variant: str, workload: str, calls: int, url: str,
                       concurrency: int) -> dict[str, Any]:
    api = await ASYNC_FACTORIES[variant](url, TOKEN)
    try:
        await api.read(IDS[0])  # warm: the connection, the client's schema knowledge
        await async_block(api, workload, calls, concurrency)  # untimed: pools, caches
        cpu, wall = time.process_time(), time.perf_counter()
        check = await async_block(api, workload, calls, concurrency)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        closing = api.close()
        if inspect.isawaitable(closing):  # an async face's close() may be a plain method
            await closing
    return {"cpu": cpu, "wall": wall, "calls": calls, "check": check, "decoder": api.decoder}


def worker(variant: str, workload: str, calls: int, url: str) -> dict[str, Any]:
    """Time one block in this process: seconds of CPU and wall, calls, check, decoder."""
    name, _, level = variant.partition("@")
    if name in ASYNC_FACTORIES:
        concurrency = int(level) if level.isdigit() else 1
        return asyncio.run(async_worker(name, workload, calls, url, concurrency))
    api = SYNC_FACTORIES[name](url, TOKEN)
    try:
        api.read(IDS[0])
        sync_block(api, workload, calls)
        cpu, wall = time.process_time(), time.perf_counter()
        check = sync_block(api, workload, calls)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        api.close()
    return {"cpu": cpu, "wall": wall, "calls": calls, "check": check, "decoder": api.decoder}


# --- the parent: probe, interleave, check, write -----------------------------------------

def worker_env(no_orjson: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONHASHSEED"] = "0"
    if no_orjson:
        env["PYDIRECTUS_NO_ORJSON"] = "1"
    else:
        env.pop("PYDIRECTUS_NO_ORJSON", None)
    return env


def probe(variant: str, env: dict[str, str]) -> str | None:
    """Return why a variant cannot run here (its import fails in a fresh process), or None."""
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", IMPORTS[variant]],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return f"`{IMPORTS[variant]}` fails: {lines[-1] if lines else done.returncode}"


def version(variant: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTIONS[variant])
    except (KeyError, metadata.PackageNotFoundError):
        return ""


@dataclass
class Run:
    """Every sample of the run, by workload and variant, and why some variants are missing."""

    samples: dict[str, dict[str, list[dict[str, Any]]]]
    notes: dict[str, str]
    decoders: dict[str, str]

    def ok(self, workload: str, variant: str) -> bool:
        return bool(self.samples[workload].get(variant)) and variant.split("@")[0] not in (
            self.notes) and variant not in self.notes

    def values(self, workload: str, variant: str, metric: str, per_call: bool = True
               ) -> list[float]:
        return [s[metric] / (s["calls"] if per_call else 1) for s in
                self.samples[workload][variant]]


def measure(options: argparse.Namespace) -> tuple[Run, str]:
    """Run every available variant, interleaved; return the samples and the command line."""
    env = worker_env(options.no_orjson)
    notes: dict[str, str] = {}
    for variant in CPU_VARIANTS:
        problem = probe(variant, env)
        if problem is not None:
            notes[variant] = f"not run: {problem}"
            print(f"{TITLES[variant]} left out: {problem}", file=sys.stderr)
    plan = {"read_one": [v for v in CPU_VARIANTS if v not in notes],
            "list_100": [v for v in CPU_VARIANTS if v not in notes],
            "reads": [v for v in WALL_VARIANTS if v.split("@")[0] not in notes]}
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {
        w: {v: [] for v in variants} for w, variants in plan.items()}
    decoders: dict[str, str] = {}
    with canned_server.running() as url:
        for round_ in range(options.rounds):
            for workload, variants in plan.items():
                calls = options.reads if workload == "reads" else options.calls
                for variant in rotated(variants, round_):
                    if variant in notes or variant.split("@")[0] in notes:
                        continue
                    expected = canned_server.expected(
                        "list_100" if workload == "list_100" else "read_one", calls, IDS)
                    try:
                        result = spawn_json(
                            [sys.executable, "-m", "benchmarks.async_client", "--worker",
                             variant, "--workload", workload, "--calls", str(calls),
                             "--url", url], cwd=str(ROOT), env=env)
                    except Exception as exc:
                        lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
                        notes[variant] = f"failed: {lines[-1][:300] if lines else exc!r}"
                    else:
                        if result["check"] == expected:
                            samples[workload][variant].append(result)
                            decoders[variant.split("@")[0]] = result["decoder"]
                            continue
                        notes[variant] = (f"wrong result in {workload}, not timed: "
                                          f"{result['check']!r}, expected {expected!r}")
                    print(f"{variant} dropped: {notes[variant]}", file=sys.stderr)
                    for series in samples.values():  # a dropped variant's samples go too
                        series.get(variant, []).clear()
            print(f"round {round_ + 1}/{options.rounds}", file=sys.stderr)
    command = (f"python -m benchmarks.async_client --rounds {options.rounds} "
               f"--calls {options.calls} --reads {options.reads}"
               + (" --no-orjson" if options.no_orjson else ""))
    return Run(samples, notes, decoders), command


def spread(values: Sequence[float]) -> float:
    """Return (max - min) / median: 0.1 means the rounds span 10 %."""
    middle = statistics.median(values)
    return (max(values) - min(values)) / middle if middle else 0.0


def title(variant: str, run: Run) -> str:
    name = variant.split("@")[0]
    text = TITLES[name]
    if version(name):
        text += f" {version(name)}"
    if name in ("aio", "sync") and name in run.decoders:
        text += f" ({run.decoders[name]})"
    return text


def label(variant: str) -> str:
    """Return 'pydirectus.aio at concurrency 8', 'pydirectus sync, sequential reads', ..."""
    name, _, level = variant.partition("@")
    if not level:
        return TITLES[name]
    return TITLES[name] + (", sequential reads" if level == "seq" else f" at concurrency {level}")


def render(run: Run, command: str, seconds: float) -> str:
    """Return async_client.md."""
    lines = [
        "# Async client: client CPU per call and concurrent wall time (canned server)", "",
        run_line(command, seconds) + " Each measurement is one block in a fresh worker "
        "process, interleaved with the others, the order rotated each round; every block's "
        "result is checked against the canned server's oracle. Cells: median over the rounds "
        "and the spread of the rounds ((max-min)/median); client CPU is the worker's "
        "`time.process_time()` (event loop included, canned server excluded). Ratios: "
        "median of per-round ratios of client CPU (min-max).", "",
        "## Client CPU per call", "",
        "| Workload | " + " | ".join(title(v, run) for v in CPU_VARIANTS) + " |",
        "|---|" + "---|" * len(CPU_VARIANTS),
    ]
    for workload in ("read_one", "list_100"):
        cells = []
        for variant in CPU_VARIANTS:
            if not run.ok(workload, variant):
                cells.append("—")
                continue
            cpu = [v * 1e6 for v in run.values(workload, variant, "cpu")]
            wall = [v * 1e6 for v in run.values(workload, variant, "wall")]
            cells.append(f"cpu {statistics.median(cpu):.0f} µs ({spread(cpu):.0%})<br>"
                         f"wall {statistics.median(wall):.0f} µs")
        lines.append(f"| {WORKLOADS[workload]} | " + " | ".join(cells) + " |")
    lines += ["", "| Workload | " + " | ".join(
        f"{TITLES[a]} ÷ {TITLES[b]}" + (f" (target ≤ {target:.2f}x)" if target else "")
        for a, b, target in RATIOS) + " |", "|---|" + "---|" * len(RATIOS)]
    for workload in ("read_one", "list_100"):
        cells = []
        for a, b, target in RATIOS:
            if not (run.ok(workload, a) and run.ok(workload, b)):
                cells.append("n/a")
                continue
            cpu_a, cpu_b = (run.values(workload, v, "cpu") for v in (a, b))
            text = ratio_text(cpu_a, cpu_b)
            if target is not None:
                met = statistics.median(x / y for x, y in zip(cpu_a, cpu_b, strict=True))
                text += " met" if met <= target else " **missed**"
            cells.append(text)
        lines.append(f"| {WORKLOADS[workload]} | " + " | ".join(cells) + " |")
    reads = run.samples["reads"]
    calls = next((s[0]["calls"] for s in reads.values() if s), 0)
    lines += ["", f"## {calls:,} reads by id: wall time", "",
              "| Client | Concurrency | wall ms (spread) | client CPU ms | "
              "wall ÷ sync sequential |", "|---|---|---|---|---|"]
    base = run.values("reads", "sync@seq", "wall", False) if run.ok("reads", "sync@seq") else []
    for variant in WALL_VARIANTS:
        level = variant.split("@")[1]
        level_text = "sequential loop" if level == "seq" else f"{level} (gather + semaphore)"
        if not run.ok("reads", variant):
            lines.append(f"| {title(variant, run)} | {level_text} | — | — | — |")
            continue
        wall = [v * 1e3 for v in run.values("reads", variant, "wall", False)]
        cpu = [v * 1e3 for v in run.values("reads", variant, "cpu", False)]
        ratio = ratio_text(wall, [v * 1e3 for v in base]) if base else "n/a"
        lines.append(f"| {title(variant, run)} | {level_text} | "
                     f"{statistics.median(wall):.0f} ({spread(wall):.0%}) | "
                     f"{statistics.median(cpu):.0f} | {ratio} |")
    notes = [f"- {label(v)}: {note}" for v, note in run.notes.items()]
    notes.append("- py-directus lists with `read(method=\"get\")`, the same GET as the "
                 "others; its default `read()` sends a SEARCH with a JSON body.")
    notes.append("- The canned server is one Python process on a 2-core machine: at "
                 "concurrency 8 and 32 it can bound the wall time; the raw aiohttp rows show "
                 "that bound.")
    lines += ["", "## Notes", "", *notes]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Measure and write async_client.md; return 1 if a variant that could run dropped out."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.async_client",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=400, help="calls per CPU block")
    parser.add_argument("--reads", type=int, default=1000, help="reads in the wall-time run")
    parser.add_argument("--no-orjson", action="store_true",
                        help="PYDIRECTUS_NO_ORJSON=1: pydirectus decodes with json")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--workload", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.worker:
        print(json.dumps(worker(options.worker, options.workload, options.calls, options.url)))
        return 0
    started = time.monotonic()
    run, command = measure(options)
    text = render(run, command, time.monotonic() - started)
    options.out.write_text(text)
    print(text)
    failed = [v for v, note in run.notes.items() if not note.startswith("not run")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
