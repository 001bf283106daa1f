"""``python -m benchmarks.iteration_prefetch``: iterate 20,000 items with and without prefetch.

Against the canned server's ``/items/paged`` (pages of 1,000 answered after 24 ms, about
what Directus takes; the server is its own process), with simulated caller work per page
of about the page's fetch time: none, I/O-like (``time.sleep``, the GIL released) and
CPU-bound (a Python loop, holding the GIL but for the interpreter's switch interval).
Variants, interleaved, each in a fresh process per round:

- ``raw``: the sequential raw loop, requests.Session, keyset pages (id > last), json;
- ``sequential``: pydirectus, ``prefetch=False``;
- ``prefetch``: pydirectus, prefetch on (the default).

Reports wall, client CPU and peak RSS (medians), and ratios (median of per-round ratios)
to the raw loop. Writes benchmarks/iteration_prefetch.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks import canned_server
from benchmarks.canned_server import PAGE_DELAY, PAGED_ROWS
from benchmarks.harness import ratio_text, rotated, run_line, spawn_json
from benchmarks.report import update_separate

OUT = Path(__file__).with_name("iteration_prefetch.md")
ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("raw", "sequential", "prefetch")
WORKS = {"none": "no caller work", "io": "I/O-like caller work (sleep)",
         "cpu": "CPU-bound caller work (holds the GIL)"}
PAGE = 1000


def _raw_rows(url: str) -> Iterator[dict[str, Any]]:
    import requests

    with requests.Session() as session:
        headers = {"Authorization": "Bearer canned-token"}
        last = 0
        while True:
            params = {"limit": str(PAGE), "sort": "id",
                      "filter": json.dumps({"id": {"_gt": last}}, separators=(",", ":"))}
            rows = session.get(f"{url}/items/paged", params=params, headers=headers,
                               timeout=60).json()["data"]
            yield from rows
            if len(rows) < PAGE:
                return
            last = rows[-1]["id"]


def worker(variant: str, work: str, url: str) -> dict[str, Any]:
    """Iterate every row once in this process; return wall, CPU and peak RSS."""
    from pydirectus import DirectusClient, StaticToken

    client = DirectusClient(url, auth=StaticToken("canned-token"), page_size=PAGE,
                            prefetch=variant == "prefetch")
    rows = (_raw_rows(url) if variant == "raw"
            else iter(client.collection("paged").sort("id")))
    count = id_sum = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for row in rows:
        count += 1
        id_sum += row["id"]
        if count % PAGE == 0 and work != "none":
            if work == "io":
                time.sleep(PAGE_DELAY)
            else:
                until = time.perf_counter() + PAGE_DELAY
                while time.perf_counter() < until:
                    pass
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    client.close()
    assert (count, id_sum) == (PAGED_ROWS, PAGED_ROWS * (PAGED_ROWS + 1) // 2), (count, id_sum)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"wall": wall, "cpu": cpu, "rss": rss}


def spawn(variant: str, work: str, url: str) -> dict[str, Any]:
    return spawn_json([sys.executable, "-m", "benchmarks.iteration_prefetch", "--worker",
                       variant, "--work", work, "--url", url], cwd=str(ROOT), env=os.environ)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--worker")
    parser.add_argument("--work")
    parser.add_argument("--url")
    options = parser.parse_args()
    if options.worker:
        print(json.dumps(worker(options.worker, options.work, options.url)))
        return
    started = time.monotonic()
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {
        w: {v: [] for v in VARIANTS} for w in WORKS}
    with canned_server.running() as url:
        for round_ in range(options.rounds):
            for work in WORKS:
                for variant in rotated(VARIANTS, round_):
                    samples[work][variant].append(spawn(variant, work, url))
            print(f"round {round_ + 1}/{options.rounds}", file=sys.stderr)
    write(samples, options.rounds, time.monotonic() - started)


def _ratio(rows: dict[str, list[dict[str, Any]]], a: str, b: str, key: str) -> str:
    return ratio_text([x[key] for x in rows[a]], [y[key] for y in rows[b]])


def write(samples: dict[str, dict[str, list[dict[str, Any]]]], rounds: int,
          seconds: float) -> None:
    lines = [
        "# Iteration with prefetch (canned server, 20,000 items, pages of 1,000)", "",
        run_line(f"python -m benchmarks.iteration_prefetch --rounds {rounds}", seconds)
        + f" Each page is answered after {PAGE_DELAY * 1000:.0f} ms; caller work is "
        f"{PAGE_DELAY * 1000:.0f} ms per page. Cells: medians over the rounds; ratios: "
        f"median of per-round ratios to the raw sequential loop (min-max).", "",
        "| Caller work | raw sequential loop | pydirectus prefetch=False | pydirectus prefetch "
        "| prefetch ÷ raw: wall | cpu | peak RSS | prefetch=False ÷ raw: wall "
        "| prefetch ÷ prefetch=False: cpu |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for work, title in WORKS.items():
        rows = samples[work]
        cells = [f"{statistics.median(s['wall'] for s in rows[v]):.3f} s<br>"
                 f"cpu {statistics.median(s['cpu'] for s in rows[v]):.3f} s<br>"
                 f"RSS {statistics.median(s['rss'] for s in rows[v]):.1f} MiB" for v in VARIANTS]
        lines.append(f"| {title} | " + " | ".join(cells) + " | " + " | ".join(
            [_ratio(rows, "prefetch", "raw", "wall"), _ratio(rows, "prefetch", "raw", "cpu"),
             _ratio(rows, "prefetch", "raw", "rss"), _ratio(rows, "sequential", "raw", "wall"),
             _ratio(rows, "prefetch", "sequential", "cpu")])
            + " |")
    OUT.write_text("\n".join(lines) + "\n")
    update_separate()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
