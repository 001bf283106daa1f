"""``python -m benchmarks.databases``: iteration and bulk create on SQLite and PostgreSQL.

Starts a local Directus on each database in turn (``DirectusServer(database=...)``) and
measures, against raw ``requests`` on the same server, in interleaved rounds in one
process: iterating every item of a 20,000-item collection (pydirectus's iteration vs the
best raw limit/offset loop, page size 1,000, same sort) and creating 10,000 items
(``create_many`` vs the same batched raw POSTs, batches of 1,000). Each cell is the median
over rounds; the ratio column is the median of per-round pydirectus ÷ raw ratios, so a
database's own speed cancels out and the columns compare what the client costs on each.

Writes benchmarks/databases.md. Never run by the test suite (minutes of seeding).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import requests

from pydirectus import DirectusClient, StaticToken
from pydirectus.testing import DIRECTUS_VERSION, CollectionFactory, DirectusServer

log = logging.getLogger("benchmarks")

OUT = Path(__file__).with_name("databases.md")
PAGE = 1000
BATCH = 1000
FIELDS = {"n": "integer", "title": "string", "big": "bigInteger"}


def _row(n: int, tag: str) -> dict[str, object]:
    return {"n": n, "title": f"{tag} {n}", "big": 2**33 + n}


class Bench:
    """One server: the seeded collection, and the timed variants."""

    def __init__(self, server: DirectusServer, items: int) -> None:
        self.url, self.token = server.url, server.admin_token
        factory = CollectionFactory(self.url, self.token)
        self.reads = factory(FIELDS, prefix="bench_reads")
        self.writes = factory(FIELDS, prefix="bench_writes")
        self.items = items
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        self.client = DirectusClient(self.url, auth=StaticToken(self.token), page_size=PAGE,
                                     timeout=(10, 600))
        handle = self.client.collection(self.reads)
        for start in range(0, items, 5000):
            handle.create_many([_row(n, "seed") for n in range(start, min(start + 5000, items))],
                               batch_size=5000, fields=["id"])

    def iterate_pydirectus(self) -> int:
        return sum(1 for _ in self.client.collection(self.reads).sort("id"))

    def iterate_raw(self) -> int:
        seen, offset = 0, 0
        while True:
            response = self.session.get(f"{self.url}/items/{self.reads}", params={
                "limit": PAGE, "offset": offset, "sort": "id"}, timeout=600)
            response.raise_for_status()
            page = response.json()["data"]
            seen += len(page)
            if len(page) < PAGE:
                return seen
            offset += PAGE

    def create_pydirectus(self, count: int, tag: str) -> int:
        made = self.client.collection(self.writes).create_many(
            [_row(n, tag) for n in range(count)], batch_size=BATCH)
        return len(made)

    def create_raw(self, count: int, tag: str) -> int:
        made = 0
        for start in range(0, count, BATCH):
            response = self.session.post(
                f"{self.url}/items/{self.writes}",
                json=[_row(n, tag) for n in range(start, min(start + BATCH, count))],
                timeout=600)
            response.raise_for_status()
            made += len(response.json()["data"])
        return made

    def close(self) -> None:
        self.client.close()
        self.session.close()


def _rounds(rounds: int, variants: dict[str, Callable[[int], int]],
            expected: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in variants}
    for rep in range(rounds):
        # Alternate who goes first, so neither always meets a warmer server.
        order = list(variants) if rep % 2 == 0 else list(reversed(variants))
        for name in order:
            began = time.perf_counter()
            got = variants[name](rep)
            times[name].append(time.perf_counter() - began)
            if got != expected:
                raise AssertionError(f"{name}: {got} items, expected {expected}")
    return times


Times = dict[str, list[float]]


def measure(database: str, items: int, creates: int, rounds: int) -> dict[str, Times]:
    """Return workload -> variant -> seconds per round on one database."""
    log.info("starting Directus %s on %s", DIRECTUS_VERSION, database)
    with DirectusServer(database=database, env={"PRESSURE_LIMITER_ENABLED": "false"}) as server:
        bench = Bench(server, items)
        try:
            log.info("%s: iterate %d items, %d rounds", database, items, rounds)
            iterate = _rounds(rounds, {"pydirectus": lambda rep: bench.iterate_pydirectus(),
                                       "raw": lambda rep: bench.iterate_raw()}, items)
            log.info("%s: create %d items, %d rounds", database, creates, rounds)
            create = _rounds(rounds, {
                "pydirectus": lambda rep: bench.create_pydirectus(creates, f"p{rep}"),
                "raw": lambda rep: bench.create_raw(creates, f"r{rep}")}, creates)
        finally:
            bench.close()
    return {"iterate": iterate, "create": create}


def _cell(seconds: list[float], scale: float, unit: str) -> str:
    return f"{statistics.median(seconds) * scale:.3g} {unit}"


def _ratio(times: dict[str, list[float]]) -> str:
    ratios = [a / b for a, b in zip(times["pydirectus"], times["raw"], strict=True)]
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"


def main(argv: list[str] | None = None) -> int:
    """Measure on both databases and write the table; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.databases", description=__doc__)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--creates", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S",
                        stream=sys.stderr)
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    began = time.monotonic()
    results = {db: measure(db, options.items, options.creates, options.rounds)
               for db in ("sqlite", "postgresql")}
    rows = [
        ("iterate", f"Iterate all {options.items:,} items (page size {PAGE:,})", 1.0, "s"),
        ("create", f"Bulk create {options.creates:,} items (batches of {BATCH:,}), per item",
         1000.0 / options.creates, "ms"),
    ]
    lines = [
        "# pydirectus on SQLite and on PostgreSQL",
        "",
        f"Measured {started} by `python -m benchmarks.databases` ({options.rounds} rounds, "
        f"{time.monotonic() - began:.0f} s); Directus {DIRECTUS_VERSION} on loopback, "
        "one process, interleaved rounds. Medians; ratio: median (range) of per-round "
        "pydirectus ÷ raw requests on the same database. Load average at the end: "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work on the machine "
        "widens the ranges).",
        "",
        "| Workload | SQLite: pydirectus | SQLite: raw | SQLite: ÷ raw "
        "| PostgreSQL: pydirectus | PostgreSQL: raw | PostgreSQL: ÷ raw |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, label, scale, unit in rows:
        cells = []
        for db in ("sqlite", "postgresql"):
            times = results[db][key]
            cells += [_cell(times["pydirectus"], scale, unit), _cell(times["raw"], scale, unit),
                      _ratio(times)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "pydirectus also turns PostgreSQL's bigint strings into `int` (the `big` "
              "field); raw requests leaves them as strings.", ""]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
