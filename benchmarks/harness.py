"""Interleaving and statistics: variants run A B A B ..., medians, spreads, paired ratios.

The machine is shared and noisy, so absolute times drift between repetitions; a ratio of
two variants measured side by side in the same round holds much better. Ratios here are
therefore the median of per-round ratios, not the ratio of medians.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

METRICS: dict[str, Callable[[Sample], float]] = {
    "wall": lambda s: s.wall / s.calls,
    "cpu": lambda s: s.cpu / s.calls,
    "rss": lambda s: float(s.rss_peak_kb),
    "rss_growth": lambda s: float(s.rss_peak_kb - s.rss_before_kb),
}


class Unsupported(Exception):
    """The variant has no API for the workload; the message says what is missing."""


class VerificationError(Exception):
    """A variant's result differs from the oracle's, so its timings mean nothing."""


@dataclass(frozen=True)
class Sample:
    """One timed block: `calls` calls of one variant in round `rep`."""

    rep: int
    calls: int
    wall: float
    cpu: float
    rss_before_kb: int
    rss_peak_kb: int


@dataclass
class Series:
    """Every sample of one variant on one workload, or the reason there are none."""

    variant: str
    samples: list[Sample] = field(default_factory=list)
    note: str | None = None

    @property
    def ok(self) -> bool:
        """Return whether there is anything to report."""
        return bool(self.samples) and self.note is None

    def values(self, metric: str) -> list[float]:
        """Return the metric of every sample (per call for wall and cpu)."""
        return [METRICS[metric](sample) for sample in self.samples]

    def median(self, metric: str) -> float:
        """Return the median of a metric."""
        return statistics.median(self.values(metric))

    def spread(self, metric: str) -> float:
        """Return (max - min) / median of a metric: 0.1 means the runs span 10 %."""
        values = self.values(metric)
        middle = statistics.median(values)
        return (max(values) - min(values)) / middle if middle else 0.0


def paired_ratios(a: Series, b: Series, metric: str) -> list[float]:
    """Return a/b for every round where both ran."""
    if not (a.ok and b.ok):
        return []
    by_rep = {sample.rep: METRICS[metric](sample) for sample in b.samples}
    return [METRICS[metric](sample) / by_rep[sample.rep] for sample in a.samples
            if by_rep.get(sample.rep)]


def paired_ratio(a: Series, b: Series, metric: str) -> float | None:
    """Return the median over rounds of a/b, using rounds where both ran."""
    ratios = paired_ratios(a, b, metric)
    return statistics.median(ratios) if ratios else None


def interleave(
    variants: Sequence[str],
    rounds: int,
    run_one: Callable[[str, int], Sample],
    rounds_of: Mapping[str, int] | None = None,
    shuffle: int | None = None,
) -> dict[str, Series]:
    """Run every variant once per round for `rounds` rounds: A B C, C B A, A B C, ...

    Alternating the order cancels a drift within a round and any position effect.
    `shuffle` (a seed) draws each round's order at random instead: for workloads where the
    host itself alternates run to run (a large file written, then deleted, makes the next
    write cheap while the kernel reclaims memory for the one after), so that a fixed
    alternation would keep handing the slow turns to the same variant.

    `rounds_of` caps some variants at fewer rounds (the slow peers on the bulk workloads).
    A variant that is unsupported, fails or returns a wrong result drops out with a note.
    """
    series = {name: Series(name) for name in variants}
    caps = rounds_of or {}
    for rep in range(rounds):
        order = list(variants if rep % 2 == 0 else reversed(variants))
        if shuffle is not None:
            random.Random(shuffle * 1000 + rep).shuffle(order)
        for name in order:
            current = series[name]
            if current.note is not None or rep >= caps.get(name, rounds):
                continue
            try:
                current.samples.append(run_one(name, rep))
            except Unsupported as exc:
                current.note = str(exc)
            except VerificationError as exc:
                current.note = f"wrong result, not timed: {exc}"
                current.samples.clear()
            except Exception as exc:
                current.note = f"failed: {_short(exc)}"
                current.samples.clear()
    return series


def _short(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    text = lines[-1] if lines else type(exc).__name__
    return text[:240]


# Separately run benchmarks (lean_path, iteration_prefetch): one fresh worker process per
# variant and round, the order rotated each round, results as JSON on the last line.

def rotated(variants: Sequence[str], round_: int) -> list[str]:
    """Return this round's order: the variants rotated by one place per round."""
    shift = round_ % len(variants)
    return [*variants[shift:], *variants[:shift]]


def spawn_json(argv: Sequence[str], *, cwd: str, env: Mapping[str, str]) -> dict[str, Any]:
    """Run one worker process; return the JSON object it prints last."""
    done = subprocess.run(list(argv), cwd=cwd, env=dict(env), capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])}... failed: {done.stderr.strip()[-800:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def percentile(values: Sequence[float], q: float) -> float:
    """Return the q-th percentile (0-100), linear between the closest ranks (numpy's default).

    p99 of 1,000 latencies lies between the 990th and 991st smallest; of a single value,
    that value. An empty sequence has none: ValueError.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within 0-100, not {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def ratio_text(numerators: Sequence[float], denominators: Sequence[float]) -> str:
    """Return the median of per-round ratios and their range: '0.62x (0.55-0.70x)'."""
    ratios = [a / b for a, b in zip(numerators, denominators, strict=True)]
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}x)"


def run_line(command: str, seconds: float) -> str:
    """Return the 'Measured ... by ...' line of a separately run benchmark."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"Measured {now} by `{command}` ({seconds / 60:.1f} min), Python "
            f"{sys.version.split()[0]}, {os.cpu_count()} cores, 1-minute load average "
            f"{os.getloadavg()[0]:.1f} at the end.")
