"""``python -m benchmarks``: start a local Directus, seed it, run every workload, report.

Writes benchmarks/results.md, benchmarks/ratios.png and the main table of docs/performance.md.
``--quick`` does a small smoke run into benchmarks/.peers/quick/ and leaves the docs alone;
``--render results.json`` rewrites the outputs from a run's samples without measuring;
``--only downloads`` re-measures the download rows into results.json's run (noted as such).
``--async-client [ARGS]`` runs ``python -m benchmarks.async_client [ARGS]`` instead (the async
face against raw aiohttp, httpx and py-directus on the canned server; no Directus needed).
``--async-directus [ARGS]`` runs ``python -m benchmarks.async_directus [ARGS]`` instead (both
faces iterating and creating against a real Directus on SQLite and PostgreSQL).
``--dataframes [ARGS]`` runs ``python -m benchmarks.dataframes [ARGS]`` instead (200,000 items
into pandas: ``q.to_pandas()`` vs ``pd.DataFrame(list(q))`` vs the raw loop; writes
benchmarks/dataframes.md).
``--realtime [ARGS]`` runs ``python -m benchmarks.realtime_latency [ARGS]`` instead (latency
from a write to its realtime event: both faces and @directus/sdk's realtime client in Node).
Never run by the test suite.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import compile_times, peers, report, workloads
from benchmarks.dataset import Admin, seed
from pydirectus.testing import DIRECTUS_VERSION, DirectusServer

log = logging.getLogger("benchmarks")

#: The suites run on their own instead of the main one: flag -> (module, example, report).
SUITES = {
    "async-client": ("async_client", "--rounds 3", "async_client.md"),
    "async-directus": ("async_directus", "--rounds 3 --database sqlite", "async_directus.md"),
    "dataframes": ("dataframes", "--rounds 3", "dataframes.md"),
    "realtime": ("realtime_latency", "--events 1000 --rounds 5", "realtime_latency.md"),
}


def main(argv: list[str] | None = None) -> int:
    """Run the whole suite; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="a small smoke run (into benchmarks/.peers/quick/, docs untouched)")
    parser.add_argument("--only", choices=["downloads"],
                        help="re-measure only the download rows and put them into "
                             "results.json's run, saying so under the tables")
    parser.add_argument("--render", metavar="RESULTS_JSON", type=Path,
                        help="measure nothing: rewrite results.md, the chart and the docs' "
                             "section from a run's results.json")
    for flag, (module, example, writes) in SUITES.items():
        parser.add_argument(f"--{flag}", nargs=argparse.REMAINDER, metavar="ARGS",
                            help=f"run benchmarks.{module} instead, passing it ARGS "
                                 f"(e.g. {example}); writes benchmarks/{writes}")
    options = parser.parse_args(argv)
    for flag, (module, _example, _writes) in SUITES.items():
        suite_argv = getattr(options, flag.replace("-", "_"))
        if suite_argv is not None:
            return int(importlib.import_module(f"benchmarks.{module}").main(suite_argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S",
                        stream=sys.stderr)
    if options.render is not None:
        loaded = report.load(options.render)
        written = report.write(loaded, out=report.RESULTS)
        log.info("rendered %s into %s", options.render, ", ".join(str(p) for p in written))
        return 0
    began = time.monotonic()
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if options.only == "downloads":
        return only_downloads(started, began)
    sizes = workloads.QUICK if options.quick else workloads.Sizes()
    out = report.RESULTS
    if options.quick:
        out = peers.PEERS_DIR / "quick" / "results.md"
        out.parent.mkdir(parents=True, exist_ok=True)

    log.info("installing peers into %s", peers.PEERS_DIR)
    installed = peers.install()
    for name, problem in installed.problems.items():
        log.warning("peer %s: %s", name, problem)
    runner = workloads.Runner(installed, peers.PEERS_DIR / "logs", sizes)

    log.info("starting Directus %s", DIRECTUS_VERSION)
    # The pressure limiter answers 503 when the event loop lags, which on two shared cores
    # happens under the bulk workloads; a retried 503 would silently distort a timing.
    with DirectusServer(env={"PRESSURE_LIMITER_ENABLED": "false"}) as server:
        log.info("seeding %s", server.url)
        data = seed(server.url, server.admin_token)
        rows = workloads.directus_rows(runner, data)
    rows.extend(workloads.canned_rows(runner))
    log.info("query compile times (benchmarks.bench_compile)")
    compiled = compile_times.measure()

    run = report.Run(rows=rows, compile=compiled, peers=installed, sizes=sizes, started=started,
                     seconds=time.monotonic() - began, directus=DIRECTUS_VERSION)
    written = report.write(run, page=not options.quick, out=out)
    log.info("done in %.0f s; wrote %s", run.seconds, ", ".join(str(p) for p in written))
    return 0


def only_downloads(started: str, began: float) -> int:
    """Re-measure the download rows; keep every other row of results.json."""
    previous = report.load(report.RESULTS.with_suffix(".json"))
    installed = peers.install()
    runner = workloads.Runner(installed, peers.PEERS_DIR / "logs", workloads.Sizes())
    with DirectusServer(env={"PRESSURE_LIMITER_ENABLED": "false"}) as server:
        data = seed(server.url, server.admin_token)
        admin = Admin(server.url, server.admin_token)
        try:
            fresh = workloads.download_rows(runner, data, admin, workloads.COLUMNS,
                                            dict.fromkeys(workloads.PEERS,
                                                          runner.sizes.peer_write_rounds))
        finally:
            admin.close()
    kept = [row for row in previous.rows if not row.key.startswith("download")]
    after = next((i + 1 for i, row in enumerate(kept) if row.key == "upload"), len(kept))
    previous.rows = kept[:after] + fresh + kept[after:]
    minutes = (time.monotonic() - began) / 60
    previous.notes = [note for note in previous.notes if "--only downloads" not in note]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    previous.notes.append(f"The download rows were re-measured {started} by `python -m "
                          f"benchmarks --only downloads` ({minutes:.0f} min), same machine "
                          f"(1-minute load average {load:.1f} at the end); every other row is "
                          "from the run dated above.")
    previous.peers = installed
    written = report.write(previous, out=report.RESULTS)
    log.info("wrote %s", ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
