"""Download throughput, pydirectus vs raw requests only: ``python -m benchmarks.bench_download``.

The full suite (``python -m benchmarks``) has the same rows beside the peers; this runs just
the two main-virtualenv variants against a fresh local Directus, in fresh processes,
interleaved, so the ratio can be re-measured in a couple of minutes. Prints the rows; writes
nothing. ``--rounds N`` overrides the rounds of every size; ``--mib 32 256`` picks sizes.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from benchmarks import workloads
from benchmarks.dataset import Admin, Dataset
from benchmarks.harness import paired_ratios
from benchmarks.peers import Peers
from pydirectus.testing import DirectusServer

log = logging.getLogger("benchmarks")


def main(argv: list[str] | None = None) -> int:
    """Measure; print one line per size; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_download",
                                     description=__doc__)
    parser.add_argument("--mib", type=int, nargs="+", default=list(workloads.Sizes().download_mibs))
    parser.add_argument("--rounds", type=int, default=None)
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S",
                        stream=sys.stderr)
    defaults = workloads.Sizes()
    rounds = {mib: options.rounds or defaults.download_rounds.get(mib, 5) for mib in options.mib}
    sizes = replace(defaults, download_mibs=tuple(options.mib), download_rounds=rounds,
                    file_mib=options.mib[0])
    with tempfile.TemporaryDirectory(prefix="bench-download-") as scratch, \
            DirectusServer(env={"PRESSURE_LIMITER_ENABLED": "false"}) as server:
        runner = workloads.Runner(Peers(), Path(scratch) / "logs", sizes)
        data = Dataset(server.url, server.admin_token)
        # The warm op of a fresh worker reads one item: give it a collection to read.
        from pydirectus.testing.collections import CollectionFactory

        data.reads = CollectionFactory(server.url, server.admin_token)({"title": "string"})
        admin = Admin(server.url, server.admin_token)
        try:
            rows = workloads.download_rows(runner, data, admin, ("pydirectus", "raw"), {})
        finally:
            admin.close()
    for row in rows:
        ours, raw = row.series["pydirectus"], row.series["raw"]
        if not (ours.ok and raw.ok):
            print(f"{row.title}: failed: {ours.note or raw.note}")
            continue
        walls = sorted(paired_ratios(ours, raw, "wall"))
        cpus = sorted(paired_ratios(ours, raw, "cpu"))
        print(f"{row.title}: pydirectus {ours.median('wall'):.3f} s, raw {raw.median('wall'):.3f}"
              f" s; wall ratio median {walls[len(walls) // 2]:.2f}x (rounds {walls[0]:.2f}-"
              f"{walls[-1]:.2f}x), cpu ratio median {cpus[len(cpus) // 2]:.2f}x; "
              f"{len(walls)} rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
