"""``python -m benchmarks.lean_path``: client CPU per call, today's request path vs before it.

Against the canned server (it answers in microseconds from its own process, so what is
measured is the client), interleaved for ``--rounds`` rounds, each variant in a fresh
worker process per round, the order rotated each round:

- ``before``: pydirectus as it was before the lean path (commit ``BEFORE``, the code the
  lean-path issue measured; extracted with ``git archive`` into benchmarks/.before/),
  json;
- ``lean``: today's pydirectus with json (``PYDIRECTUS_NO_ORJSON=1``);
- ``lean_orjson``: today's pydirectus with orjson;
- ``raw``: the best plain requests code (benchmarks.variants.RawVariant);
- ``node_short`` / ``node_warm``: the official @directus/sdk on Node 22, one block of the
  main benchmark's size (50 reads, 40 lists) in a fresh process, and a 2,000-call block
  after 2,000 untimed calls (what a long-running Node process costs once V8 has
  optimised the code).

Python blocks are ``--calls`` calls after as many untimed ones. Every block's result is
checked against the canned server's oracle. Ratios are medians of per-round ratios.
Writes benchmarks/lean_path.md (and its section of results.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import canned_server
from benchmarks.harness import ratio_text, rotated, run_line, spawn_json
from benchmarks.report import update_separate

OUT = Path(__file__).with_name("lean_path.md")
ROOT = Path(__file__).resolve().parent.parent
#: pydirectus when the lean-path issue was filed (its "today's pydirectus").
BEFORE = "33404a7"
PYTHON_VARIANTS = ("before", "lean", "lean_orjson", "raw")
NODE_VARIANTS = ("node_short", "node_warm")
WORKLOADS = {"read_one": "Read one item by id", "list_100": "List 100 (query built per call)"}
SHORT_CALLS = {"read_one": 50, "list_100": 40}  # the main benchmark's canned blocks
WARM_CALLS = 2000


def worker(variant: str, workload: str, calls: int, url: str, args: dict[str, Any]
           ) -> dict[str, Any]:
    """Time one block in this process; return µs per call (CPU and wall) and the check."""
    from benchmarks.variants import PydirectusVariant, RawVariant

    runner: Any = RawVariant() if variant == "raw" else PydirectusVariant()
    runner.setup(url, "canned-token", 100)
    if variant in ("lean", "lean_orjson"):
        from pydirectus import encoding

        assert runner.client.transport.sender.lean(), "the lean path is not taken"
        assert (variant == "lean_orjson") == encoding.ORJSON, "PYDIRECTUS_NO_ORJSON not honoured"
    runner.op_warm(1, args)()
    getattr(runner, f"op_{workload}")(calls, args)()  # untimed: imports, pools, caches
    block = getattr(runner, f"op_{workload}")(calls, args)
    cpu, wall = time.process_time(), time.perf_counter()
    check = block()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    runner.close()
    return {"cpu": cpu / calls * 1e6, "wall": wall / calls * 1e6, "check": check}


def before_tree() -> Path:
    """Extract pydirectus at BEFORE into benchmarks/.before/<commit> (once) and return it."""
    target = ROOT / "benchmarks" / ".before" / BEFORE
    if not (target / "pydirectus" / "__init__.py").exists():
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile() as archive:
            subprocess.run(["git", "archive", BEFORE, "pydirectus"], cwd=ROOT, stdout=archive,
                           check=True)
            archive.seek(0)
            with tarfile.open(fileobj=archive) as tar:
                # The "data" filter where this Python has it (3.11.4 and later).
                safe: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tar.extractall(target, **safe)
    return target


def spawn_python(variant: str, workload: str, calls: int, url: str, args: dict[str, Any],
                 before: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONHASHSEED"] = "0"
    if variant == "lean_orjson":
        env.pop("PYDIRECTUS_NO_ORJSON", None)
    else:
        env["PYDIRECTUS_NO_ORJSON"] = "1"
    cwd = ROOT
    if variant == "before":
        # `python -m` puts the working directory first on sys.path: the old pydirectus
        # wins there, and the benchmarks package comes from PYTHONPATH.
        cwd, env["PYTHONPATH"] = before, str(ROOT)
    return spawn_json([sys.executable, "-m", "benchmarks.lean_path", "--worker", variant,
                       "--workload", workload, "--calls", str(calls), "--url", url,
                       "--args", json.dumps(args)], cwd=str(cwd), env=env)


def run_node(variant: str, workload: str, url: str, args: dict[str, Any], peers: Any,
             log_dir: Path) -> dict[str, Any]:
    from benchmarks.workers import start

    node = start(["node"], peers, log_dir, url, "canned-token", 100)
    try:
        node.run("node", "warm", 1, args, 0)
        calls = SHORT_CALLS[workload]
        if variant == "node_warm":
            calls = WARM_CALLS
            node.run("node", workload, calls, args, 0)  # untimed: V8 optimises the hot code
        sample, check = node.run("node", workload, calls, args, 0)
    finally:
        node.close()
    return {"cpu": sample.cpu / calls * 1e6, "wall": sample.wall / calls * 1e6,
            "check": check, "calls": calls}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--no-node", action="store_true", help="leave the Node SDK out")
    parser.add_argument("--worker")
    parser.add_argument("--workload")
    parser.add_argument("--url")
    parser.add_argument("--args")
    options = parser.parse_args()
    if options.worker:
        print(json.dumps(worker(options.worker, options.workload, options.calls, options.url,
                                json.loads(options.args))))
        return
    from benchmarks.dataset import Dataset
    from benchmarks.peers import Peers, install_node_sdk

    peers = Peers()
    variants: tuple[str, ...] = PYTHON_VARIANTS
    if not options.no_node:
        install_node_sdk(peers)
        if peers.problem("node") is None:
            variants += NODE_VARIANTS
        else:
            print(f"Node SDK left out: {peers.problem('node')}", file=sys.stderr)
    before = before_tree()
    started = time.monotonic()
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {
        w: {v: [] for v in variants} for w in WORKLOADS}
    with canned_server.running() as url, tempfile.TemporaryDirectory() as logs:
        dataset = Dataset(url, "canned")
        args = {**dataset.args("bench_canned"), "ids": list(range(1, 51))}
        for round_ in range(options.rounds):
            for workload in WORKLOADS:
                for variant in rotated(variants, round_):
                    if variant.startswith("node"):
                        result = run_node(variant, workload, url, args, peers, Path(logs))
                    else:
                        result = spawn_python(variant, workload, options.calls, url, args,
                                              before)
                    calls = result.get("calls", options.calls)
                    expected = canned_server.expected(workload, calls, args["ids"])
                    if result["check"] != expected:
                        raise RuntimeError(f"{variant} {workload}: wrong result "
                                           f"{result['check']!r}, expected {expected!r}")
                    samples[workload][variant].append(result)
            print(f"round {round_ + 1}/{options.rounds}", file=sys.stderr)
    write(samples, variants, options, time.monotonic() - started, peers)


def write(samples: dict[str, dict[str, list[dict[str, Any]]]], variants: tuple[str, ...],
          options: Any, seconds: float, peers: Any) -> None:
    titles = {"before": f"before (pydirectus {BEFORE}, json)", "lean": "lean, json",
              "lean_orjson": "lean, orjson", "raw": "raw requests",
              "node_short": f"@directus/sdk {peers.versions.get('node', '')} (Node), "
                            "short blocks",
              "node_warm": f"@directus/sdk {peers.versions.get('node', '')} (Node), "
                           f"warm {WARM_CALLS:,}-call blocks"}
    comparisons = [("lean", "before"), ("lean_orjson", "before"), ("lean_orjson", "raw")]
    comparisons += [("lean_orjson", node) for node in NODE_VARIANTS if node in variants]
    command = (f"python -m benchmarks.lean_path --rounds {options.rounds} "
               f"--calls {options.calls}")
    lines = [
        "# Lean request path and orjson: client CPU per call (canned server)", "",
        run_line(command, seconds) + " Each cell: median µs per call over the rounds "
        "(client CPU, `time.process_time()` or Node's `process.cpuUsage()`, and wall); each "
        "variant in a fresh process per round, interleaved. Ratios: median of per-round "
        "ratios of client CPU (min-max).", "",
        "| Workload | " + " | ".join(titles[v] for v in variants) + " | "
        + " | ".join(f"{a} ÷ {b}" for a, b in comparisons) + " |",
        "|---|" + "---|" * (len(variants) + len(comparisons)),
    ]
    for workload, title in WORKLOADS.items():
        rows = samples[workload]
        cells = [f"cpu {statistics.median(s['cpu'] for s in rows[v]):.0f} µs<br>"
                 f"wall {statistics.median(s['wall'] for s in rows[v]):.0f} µs"
                 for v in variants]
        ratios = [ratio_text([s["cpu"] for s in rows[a]], [s["cpu"] for s in rows[b]])
                  for a, b in comparisons]
        lines.append(f"| {title} | " + " | ".join(cells + ratios) + " |")
    OUT.write_text("\n".join(lines) + "\n")
    update_separate()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
