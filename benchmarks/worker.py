"""The child side of a Python benchmark worker: JSON lines over stdin/stdout.

Run as ``python -m benchmarks.worker VARIANT[,VARIANT...]`` from the repository root, by the
main virtualenv (pydirectus and raw, which share a process so that their comparison is not
blurred by process-to-process differences) or by the peers' virtualenv (one peer each).
Requests, one JSON object per line:

    {"op": "setup", "url": ..., "token": ..., "page_size": 1000}
    {"op": "run", "variant": "raw", "workload": "read_one", "calls": 30, "args": {...}}
    {"op": "quit"}

A run answers ``{"wall", "cpu", "rss_before_kb", "rss_peak_kb", "check"}`` for its timed
section only (client CPU is ``time.process_time()``; the peak RSS is the section's own,
the kernel's high-water mark reset at its start), ``{"unsupported": reason}`` when the
variant cannot do the workload, or ``{"error": traceback}``. Standard library only here;
the variant modules import their client.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, Protocol, TextIO

MODULES = {
    "pydirectus": "benchmarks.variants",
    "pydirectus_seed": "benchmarks.variants",
    "raw": "benchmarks.variants",
    "directus_sdk_py": "benchmarks.peer_variants",
    "py_directus": "benchmarks.peer_variants",
}


class Variant(Protocol):
    """What a worker drives: ops named ``op_<workload>`` return the closure to time."""

    unsupported: dict[str, str]

    def setup(self, url: str, token: str, page_size: int) -> None: ...

    def close(self) -> None: ...


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> int:
    """Reset the peak-RSS mark to the current RSS (Linux); return the current RSS in KiB.

    Without a reset, ru_maxrss would still hold the peak of the imports and the set-up.
    Where /proc/self/clear_refs is missing, the process-wide peak is what we get.
    """
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return max_rss_kb()
    return _status_kb("VmRSS") or max_rss_kb()


def max_rss_kb() -> int:
    """Return the peak resident set size since the last reset (or since start), in KiB."""
    peak = _status_kb("VmHWM")
    return peak if peak is not None else int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def run(variant: Variant, workload: str, calls: int, args: dict[str, Any]) -> dict[str, Any]:
    """Prepare a workload (untimed), then time one block of `calls` calls."""
    make: Callable[[int, dict[str, Any]], Callable[[], Any]] | None = getattr(
        variant, f"op_{workload}", None)
    if make is None:
        return {"unsupported": variant.unsupported.get(workload, "not supported")}
    block = make(calls, args)
    gc.collect()
    rss_before = reset_peak_rss()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    check = block()
    wall1, cpu1 = time.perf_counter(), time.process_time()
    return {"wall": wall1 - wall0, "cpu": cpu1 - cpu0, "rss_before_kb": rss_before,
            "rss_peak_kb": max_rss_kb(), "check": check}


def handle(variants: dict[str, Variant], message: dict[str, Any]) -> dict[str, Any]:
    """Answer one request."""
    op = message["op"]
    if op == "setup":
        for variant in variants.values():
            variant.setup(message["url"], message["token"], int(message["page_size"]))
        return {"ok": True}
    if op == "run":
        return run(variants[message["variant"]], message["workload"], int(message["calls"]),
                   message["args"])
    if op == "quit":
        for variant in variants.values():
            variant.close()
        return {"ok": True}
    return {"error": f"unknown op {op!r}"}


def serve(names: list[str], protocol: TextIO) -> None:
    """Load the variants and answer requests until quit or end of input."""
    variants: dict[str, Variant] = {
        name: importlib.import_module(MODULES[name]).make(name) for name in names}
    protocol.write(json.dumps({"ready": names}) + "\n")
    for line in sys.stdin:
        message = json.loads(line)
        try:
            reply = handle(variants, message)
        except Exception:
            reply = {"error": traceback.format_exc(limit=8)}
        protocol.write(json.dumps(reply) + "\n")
        if message.get("op") == "quit":
            return


def main() -> None:
    """Keep stdout for the protocol; send anything the libraries print to stderr."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        serve(sys.argv[1].split(","), protocol)
    except Exception:
        protocol.write(json.dumps({"error": traceback.format_exc(limit=8)}) + "\n")


if __name__ == "__main__":
    main()
