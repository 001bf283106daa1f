"""``python -m benchmarks.lean_path``: client CPU per call, lean path vs the full Session path.

Against the canned server (answers in microseconds from its own process, so the client's
CPU is what is measured), interleaved for ``--rounds`` rounds, each variant in a fresh
worker process per round:

- ``before``: pydirectus sending through ``Session.prepare_request`` / ``Session.send`` and
  decoding with json: the request path before the lean one (forced here by a no-op
  response hook on the session, which makes the transport take the full path);
- ``lean``: the lean path, json (``PYDIRECTUS_NO_ORJSON=1``);
- ``lean_orjson``: the lean path with orjson;
- ``raw``: the best plain requests code (benchmarks.variants.RawVariant).

Ratios are medians of per-round ratios. Writes benchmarks/lean_path.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.dataset import Dataset
from benchmarks.report import update_separate

OUT = Path(__file__).with_name("lean_path.md")
ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("before", "lean", "lean_orjson", "raw")
WORKLOADS = {"read_one": "Read one item by id", "list_100": "List 100 (query built per call)"}


def worker(variant: str, workload: str, calls: int, url: str) -> dict[str, Any]:
    """Run one timed block in this process; return µs per call (CPU and wall)."""
    from benchmarks.variants import PydirectusVariant, RawVariant
    from pydirectus import encoding

    runner: Any = RawVariant() if variant == "raw" else PydirectusVariant()
    runner.setup(url, "canned-token", 100)
    if variant == "before":
        session = runner.client.transport.session
        session.hooks["response"].append(lambda response, *args, **kwargs: response)
        assert not runner.client.transport.sender.lean()
    elif variant != "raw":
        assert runner.client.transport.sender.lean()
    assert (variant == "lean_orjson") == encoding.ORJSON, "PYDIRECTUS_NO_ORJSON not honoured"
    args = {**Dataset(url, "canned").args("bench_canned"), "ids": list(range(1, 51))}
    runner.op_warm(1, args)()
    getattr(runner, f"op_{workload}")(calls, args)()  # untimed: imports, pools, caches
    block = getattr(runner, f"op_{workload}")(calls, args)
    cpu, wall = time.process_time(), time.perf_counter()
    block()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    runner.close()
    return {"cpu": cpu / calls * 1e6, "wall": wall / calls * 1e6}


def spawn(variant: str, workload: str, calls: int, url: str) -> dict[str, Any]:
    env = {**os.environ}
    if variant == "lean_orjson":
        env.pop("PYDIRECTUS_NO_ORJSON", None)
    else:
        env["PYDIRECTUS_NO_ORJSON"] = "1"
    done = subprocess.run([sys.executable, "-m", "benchmarks.lean_path", "--worker", variant,
                           "--workload", workload, "--calls", str(calls), "--url", url],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--worker")
    parser.add_argument("--workload")
    parser.add_argument("--url")
    options = parser.parse_args()
    if options.worker:
        print(json.dumps(worker(options.worker, options.workload, options.calls, options.url)))
        return
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.canned_server"], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    started = time.monotonic()
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {
        w: {v: [] for v in VARIANTS} for w in WORKLOADS}
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{int(server.stdout.readline())}"
        for round_ in range(options.rounds):
            for workload in WORKLOADS:
                # Interleaved, the order rotated each round: drift hits every variant alike.
                order = VARIANTS[round_ % 4:] + VARIANTS[:round_ % 4]
                for variant in order:
                    samples[workload][variant].append(
                        spawn(variant, workload, options.calls, url))
            print(f"round {round_ + 1}/{options.rounds}", file=sys.stderr)
    finally:
        server.kill()
        server.wait(timeout=10)
    write(samples, options, time.monotonic() - started)


def _ratio(samples: dict[str, list[dict[str, Any]]], a: str, b: str) -> tuple[float, float, float]:
    ratios = [x["cpu"] / y["cpu"] for x, y in zip(samples[a], samples[b], strict=True)]
    return statistics.median(ratios), min(ratios), max(ratios)


def write(samples: dict[str, dict[str, list[dict[str, Any]]]], options: Any,
          seconds: float) -> None:
    load = os.getloadavg()[0]
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Lean request path and orjson: client CPU per call (canned server)", "",
        f"Measured {now} by `python -m benchmarks.lean_path --rounds {options.rounds} "
        f"--calls {options.calls}` ({seconds / 60:.1f} min), Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores, 1-minute load average {load:.1f} at the end (other "
        f"sessions shared the machine). Each cell: median µs per call over the rounds "
        f"(client CPU, `time.process_time()`, and wall); each variant in a fresh process "
        f"per round, interleaved. Ratios: median of per-round ratios (min-max).", "",
        "| Workload | before (Session path, json) | lean, json | lean, orjson | raw requests "
        "| lean ÷ before | lean+orjson ÷ before | lean+orjson ÷ raw |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for workload, title in WORKLOADS.items():
        rows = samples[workload]
        cells = [f"cpu {statistics.median(s['cpu'] for s in rows[v]):.0f} µs<br>"
                 f"wall {statistics.median(s['wall'] for s in rows[v]):.0f} µs"
                 for v in VARIANTS]
        ratios = [_ratio(rows, a, b) for a, b in
                  (("lean", "before"), ("lean_orjson", "before"), ("lean_orjson", "raw"))]
        lines.append(f"| {title} | " + " | ".join(cells) + " | " + " | ".join(
            f"{m:.2f}x ({lo:.2f}-{hi:.2f}x)" for m, lo, hi in ratios) + " |")
    OUT.write_text("\n".join(lines) + "\n")
    update_separate()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
