"""``python -m benchmarks.dataframes``: 200,000 items into a pandas DataFrame, three ways.

Starts a local Directus (SQLite), seeds ``--items`` rows of eight field types (integer,
bigInteger, float, string, boolean, date, timestamp, json) and reads them all into a
DataFrame, each variant in a fresh process per round (order rotated each round):

- ``to_pandas``: ``q.to_pandas()`` (pages into Arrow record batches, then one DataFrame);
- ``list``: ``pd.DataFrame(list(q))`` (every row as a dict, then the DataFrame);
- ``raw``: the raw paging loop: requests.Session, keyset pages (id > last), ``.json()``,
  rows collected in a list, then ``pd.DataFrame(rows)``.

Each worker imports pandas and pyarrow and reads one row first (untimed: imports and the
schema reads are not the point), then measures the read alone: wall, CPU, and peak RSS
(the kernel's high-water mark, reset at the start; reported whole and as growth over the
RSS before). Ratios are medians of per-round ratios. Writes benchmarks/dataframes.md.
Never run by the test suite (minutes of seeding).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import ratio_text, rotated, run_line, spawn_json
from benchmarks.worker import max_rss_kb, reset_peak_rss

log = logging.getLogger("benchmarks")

OUT = Path(__file__).with_name("dataframes.md")
ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("to_pandas", "list", "raw")
TITLES = {"to_pandas": "`q.to_pandas()`", "list": "`pd.DataFrame(list(q))`",
          "raw": "raw loop (requests + json, then DataFrame)"}
FIELDS = {"n": "integer", "big": "bigInteger", "ratio": "float", "label": "string",
          "flag": "boolean", "day": "date", "stamp": "timestamp", "data": "json"}
SEED_BATCH = 5000


def _item(i: int) -> dict[str, Any]:
    return {"n": i, "big": 2**40 + i, "ratio": i / 7, "label": f"label number {i:08d}",
            "flag": i % 3 == 0, "day": f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
            "stamp": f"2024-01-01T{i % 24:02d}:{i % 60:02d}:00.000Z",
            "data": {"i": i, "tags": ["a", "b"][: i % 3]} if i % 5 else None}


def _raw_frame(url: str, token: str, name: str, page_size: int) -> Any:
    import pandas as pd
    import requests

    rows: list[dict[str, Any]] = []
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        last = 0
        while True:
            params = {"limit": str(page_size), "sort": "id",
                      "filter": json.dumps({"id": {"_gt": last}}, separators=(",", ":"))}
            page = session.get(f"{url}/items/{name}", params=params, timeout=600).json()["data"]
            rows.extend(page)
            if len(page) < page_size:
                break
            last = page[-1]["id"]
    return pd.DataFrame(rows)


def worker(variant: str, url: str, token: str, name: str, page_size: int) -> dict[str, Any]:
    """Read every item into a DataFrame in this process; return wall, CPU and RSS."""
    import pandas as pd
    import pyarrow  # noqa: F401  # imported by every variant: the same baseline

    from pydirectus import DirectusClient, StaticToken

    client = DirectusClient(url, auth=StaticToken(token), page_size=page_size,
                            timeout=(10, 600))
    query = client.collection(name)
    query.limit(1).to_pandas()  # untimed: the field types read, the conversion code loaded
    pd.DataFrame(list(query.limit(1)))
    gc.collect()
    before = reset_peak_rss()
    cpu, wall = time.process_time(), time.perf_counter()
    if variant == "to_pandas":
        frame = query.to_pandas()
    elif variant == "list":
        frame = pd.DataFrame(list(query))
    else:
        frame = _raw_frame(url, token, name, page_size)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = max_rss_kb()
    check = [int(frame.shape[0]), int(frame.shape[1]), int(frame["n"].sum())]
    client.close()
    return {"wall": wall, "cpu": cpu, "rss_mib": peak / 1024,
            "growth_mib": (peak - before) / 1024, "check": check}


def spawn(variant: str, url: str, token: str, name: str, page_size: int) -> dict[str, Any]:
    """Run one variant in a fresh process."""
    return spawn_json([sys.executable, "-m", "benchmarks.dataframes", "--worker", variant,
                       "--url", url, "--token", token, "--collection", name,
                       "--page-size", str(page_size)], cwd=str(ROOT), env=os.environ)


def seed(url: str, token: str, items: int, page_size: int) -> str:
    """Create the collection and its items; return its name."""
    from pydirectus import DirectusClient, StaticToken
    from pydirectus.testing import CollectionFactory

    name = CollectionFactory(url, token)(FIELDS, prefix="frames")
    with DirectusClient(url, auth=StaticToken(token), timeout=(10, 600)) as client:
        handle = client.collection(name)
        for start in range(0, items, SEED_BATCH):
            handle.create_many([_item(i) for i in range(start, min(start + SEED_BATCH, items))],
                               batch_size=SEED_BATCH, fields=["id"])
    return name


def main(argv: list[str] | None = None) -> int:
    """Seed, read three ways per round, write the table; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dataframes",
                                     description=__doc__)
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--collection", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.worker:
        print(json.dumps(worker(options.worker, options.url, options.token,
                                options.collection, options.page_size)))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S",
                        stream=sys.stderr)
    from pydirectus.testing import DirectusServer

    began = time.monotonic()
    samples: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    with DirectusServer(env={"PRESSURE_LIMITER_ENABLED": "false"}) as server:
        log.info("seeding %d items", options.items)
        name = seed(server.url, server.admin_token, options.items, options.page_size)
        for round_ in range(options.rounds):
            for variant in rotated(VARIANTS, round_):
                log.info("round %d: %s", round_ + 1, variant)
                samples[variant].append(spawn(variant, server.url, server.admin_token, name,
                                              options.page_size))
    checks = {json.dumps(s["check"]) for rows in samples.values() for s in rows}
    if len(checks) != 1:
        raise AssertionError(f"the variants read different frames: {checks}")
    write(samples, options, time.monotonic() - began)
    return 0


def write(samples: dict[str, list[dict[str, Any]]], options: argparse.Namespace,
          seconds: float) -> None:
    """Write benchmarks/dataframes.md from the samples."""
    def median(variant: str, key: str) -> float:
        return statistics.median(s[key] for s in samples[variant])

    def ratio(a: str, b: str, key: str) -> str:
        return ratio_text([s[key] for s in samples[a]], [s[key] for s in samples[b]])

    command = f"python -m benchmarks --dataframes --items {options.items} --rounds " \
              f"{options.rounds}"
    lines = [
        f"# DataFrames: {options.items:,} items into pandas (Directus on SQLite)", "",
        run_line(command, seconds) + f" Pages of {options.page_size:,}; fields: "
        + ", ".join(f"{k} ({v})" for k, v in FIELDS.items()) + ". Each variant in a fresh "
        "process per round, the read alone measured (imports and the schema read done "
        "before). Cells: medians over the rounds; ratios: median of per-round ratios "
        "(min-max).", "",
        "| Variant | wall | CPU | peak RSS | RSS growth |", "|---|---|---|---|---|",
    ]
    for variant in VARIANTS:
        lines.append(f"| {TITLES[variant]} | {median(variant, 'wall'):.2f} s | "
                     f"{median(variant, 'cpu'):.2f} s | {median(variant, 'rss_mib'):.0f} MiB | "
                     f"{median(variant, 'growth_mib'):.0f} MiB |")
    lines += [
        "", "| Ratio | wall | peak RSS | RSS growth |", "|---|---|---|---|",
        f"| to_pandas ÷ DataFrame(list(q)) | {ratio('to_pandas', 'list', 'wall')} | "
        f"{ratio('to_pandas', 'list', 'rss_mib')} | {ratio('to_pandas', 'list', 'growth_mib')} |",
        f"| to_pandas ÷ raw loop | {ratio('to_pandas', 'raw', 'wall')} | "
        f"{ratio('to_pandas', 'raw', 'rss_mib')} | {ratio('to_pandas', 'raw', 'growth_mib')} |",
        "", "Target: peak RSS at most 0.5x of `pd.DataFrame(list(q))`, wall no worse.", ""]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
