"""Query compile times from benchmarks/bench_compile.py (written and owned separately).

Use a callable that returns numbers if bench_compile grows one; otherwise call its
``main()`` with stdout captured (or, failing an import, run it as ``python -m``) and read
its "<label> ... median <x> µs" lines.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

from benchmarks.workers import ROOT

LINE = re.compile(r"^(?P<label>.+?)\s+median\s+(?P<median>[\d.]+)\s*(?P<unit>µs|us|ns|ms)"
                  r"(?:\s+min\s+(?P<min>[\d.]+)\s*(?P<min_unit>µs|us|ns|ms))?", re.MULTILINE)
TO_MICRO = {"ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3}


@dataclass
class CompileTimes:
    """Median µs per compile by bench_compile's label; `typical` and `large` picked out."""

    by_label: dict[str, float] = field(default_factory=dict)
    min_by_label: dict[str, float] = field(default_factory=dict)
    typical: float | None = None
    large: float | None = None
    typical_label: str = ""
    large_label: str = ""
    problem: str | None = None


def parse(output: str) -> dict[str, float]:
    """Return {label: median µs} from bench_compile's printed lines."""
    return {m["label"].strip(): float(m["median"]) * TO_MICRO[m["unit"]]
            for m in LINE.finditer(output)}


def parse_min(output: str) -> dict[str, float]:
    """Return {label: best µs} where bench_compile prints a min too."""
    return {m["label"].strip(): float(m["min"]) * TO_MICRO[m["min_unit"]]
            for m in LINE.finditer(output) if m["min"]}


def _pick(times: CompileTimes) -> None:
    # The compile of an already built query: to_params() without a schema or a build.
    for label, value in times.by_label.items():
        plain = "to_params()" in label and "build" not in label and "schema" not in label
        if times.typical is None and label.lower().startswith("typical") and plain:
            times.typical, times.typical_label = value, label
        if times.large is None and label.lower().startswith("large") and plain:
            times.large, times.large_label = value, label
    if times.typical is None or times.large is None:
        times.problem = "bench_compile's output has no typical/large to_params() line"


def _from_module() -> Mapping[str, float] | str:
    module = importlib.import_module("benchmarks.bench_compile")
    for name in ("results", "collect", "measure_all"):
        entry = getattr(module, name, None)
        if callable(entry):
            returned = entry()
            if isinstance(returned, Mapping):
                return {str(k): float(v) for k, v in returned.items()}
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        module.main()
    return captured.getvalue()


def measure() -> CompileTimes:
    """Run bench_compile and return its timings."""
    times = CompileTimes()
    try:
        found = _from_module()
    except Exception as exc:
        result = subprocess.run([sys.executable, "-m", "benchmarks.bench_compile"], cwd=ROOT,
                                capture_output=True, text=True, timeout=600, check=False)
        if result.returncode != 0:
            times.problem = f"bench_compile failed: {exc}; {result.stderr.strip()[-200:]}"
            return times
        found = result.stdout
    times.by_label = parse(found) if isinstance(found, str) else dict(found)
    times.min_by_label = parse_min(found) if isinstance(found, str) else {}
    _pick(times)
    return times
