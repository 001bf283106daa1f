"""``python -m benchmarks.keyset_paging``: iterate by key vs by offset, first tenth vs last.

Starts a local Directus, seeds ``--items`` rows (200,000 by default) and iterates them all
twice through pydirectus's read path in the same order (primary key) and page size
(1,000): by key (what iteration does) and by offset (the fallback), interleaved for
``--rounds`` rounds. For each it reports the median time per item of the first tenth and of
the last tenth of the run and their ratio: key paging should stay flat (at most 1.2x) where
offset paging grows with the position, since the database skips every earlier row for
each offset page.

Writes benchmarks/keyset_paging.md. Never run by the test suite (minutes of seeding).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs

from pydirectus import DirectusClient, StaticToken
from pydirectus.core.reads import Window
from pydirectus.testing import DIRECTUS_VERSION, CollectionFactory, DirectusServer

log = logging.getLogger("benchmarks")

OUT = Path(__file__).with_name("keyset_paging.md")
SEED_BATCH = 5000
TENTHS = 10


def _rows(client: DirectusClient, name: str, mode: str) -> Iterator[Any]:
    handle = client.collection(name)
    if mode == "keyset":
        return iter(handle)
    # The fallback path itself, in the same total order (by primary key): what iteration
    # does when the order cannot be compared with _gt/_lt.
    reads = handle._reads
    plan = reads._plan({})
    assert plan is not None and plan.keyset, "the benchmark collection must allow key paging"
    pages = reads._offset_pages({}, Window(), attrs.evolve(plan, keyset=False))
    return (row for rows, _ in pages for row in rows)


def measure(client: DirectusClient, name: str, items: int, mode: str) -> list[float]:
    """Return the seconds per item of each tenth of one full iteration."""
    tenth = items // TENTHS
    marks = [time.perf_counter()]
    seen = 0
    previous = -1
    for row in _rows(client, name, mode):
        if row["id"] <= previous:
            raise AssertionError(f"{mode}: out of order at {row['id']}")
        previous = row["id"]
        seen += 1
        if seen % tenth == 0:
            marks.append(time.perf_counter())
    if seen != items:
        raise AssertionError(f"{mode}: saw {seen} of {items}")
    return [(b - a) / tenth for a, b in itertools.pairwise(marks)]


def main(argv: list[str] | None = None) -> int:
    """Seed, iterate both ways, write the table; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.keyset_paging",
                                     description=__doc__)
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S",
                        stream=sys.stderr)
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    with DirectusServer(env={"PRESSURE_LIMITER_ENABLED": "false"}) as server:
        name = CollectionFactory(server.url, server.admin_token)({"n": "integer"}, prefix="kp")
        with DirectusClient(server.url, auth=StaticToken(server.admin_token),
                            page_size=options.page_size, timeout=(10, 600)) as client:
            log.info("seeding %d items", options.items)
            handle = client.collection(name)
            for start in range(0, options.items, SEED_BATCH):
                handle.create_many([{"n": i} for i in range(
                    start, min(start + SEED_BATCH, options.items))], batch_size=SEED_BATCH,
                    fields=["id"])
            runs: dict[str, list[list[float]]] = {"keyset": [], "offset": []}
            for round_ in range(options.rounds):
                for mode in runs:  # interleaved, so that drift on a shared machine hits both
                    log.info("round %d: iterating by %s", round_ + 1, mode)
                    runs[mode].append(measure(client, name, options.items, mode))
            results = {mode: [statistics.median(tenth) for tenth in zip(*rounds, strict=True)]
                       for mode, rounds in runs.items()}
    lines = [
        "# Iteration: key paging vs offset paging",
        "",
        f"Measured {started} by `python -m benchmarks.keyset_paging --items {options.items}` "
        f"(page size {options.page_size:,}, median of {options.rounds} interleaved rounds); "
        f"Directus {DIRECTUS_VERSION} on SQLite, loopback.",
        "",
        "| Paging | µs per item, first tenth | µs per item, last tenth | last ÷ first |",
        "|---|---|---|---|",
    ]
    for mode, tenths in results.items():
        lines.append(f"| {mode} | {tenths[0] * 1e6:.1f} | {tenths[-1] * 1e6:.1f} | "
                     f"{tenths[-1] / tenths[0]:.2f}x |")
    lines += ["", "Per tenth (µs per item): " + "; ".join(
        f"{mode}: " + ", ".join(f"{t * 1e6:.0f}" for t in tenths)
        for mode, tenths in results.items()), ""]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
