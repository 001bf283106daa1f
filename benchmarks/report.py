"""Write benchmarks/results.md, the ratio chart, and the main table of docs/performance.md."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from benchmarks.compile_times import CompileTimes
from benchmarks.harness import Sample, Series, paired_ratio, paired_ratios
from benchmarks.peers import Peers
from benchmarks.workloads import COLUMNS, PEERS, Row, Sizes

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.md"
CHART = HERE / "ratios.png"
PAGE = HERE.parent / "docs" / "performance.md"
SECTION = "### The main benchmark"

TARGET_CPU = 1.10
TARGET_ITERATE_WALL = 1.05
TARGET_BULK_SPEEDUP = 7.0
TARGET_BULK_WALL = 1.05
TARGET_COMPILE_US = 20.0
TARGET_DOWNLOAD_WALL = 1.05
TARGET_DOWNLOAD_RSS = 1.02  # "unchanged": the same modules, within measurement noise


@dataclass
class Run:
    """Everything one `python -m benchmarks` run produced."""

    rows: list[Row]
    compile: CompileTimes
    peers: Peers
    sizes: Sizes
    started: str
    seconds: float
    directus: str
    notes: list[str] = field(default_factory=list)
    machine: str = field(default_factory=lambda: machine())


def machine() -> str:
    """Describe this machine: CPU model, cores, memory, OS, Python."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
        memory = f"{kib / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = "? GiB"
    return (f"{model}, {os.cpu_count()} cores, {memory}, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")


def headers(peers: Peers) -> list[str]:
    """Return the column titles, with the peers' versions."""
    version = peers.versions
    return ["pydirectus", "raw requests",
            f"directus-sdk-py {version.get('directus_sdk_py', '')}".strip(),
            f"py-directus {version.get('py_directus', '')}".strip(),
            f"@directus/sdk {version.get('node', '')} (Node)".strip()]


def num(value: float) -> str:
    """Format with three significant figures."""
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def mib(kib: float) -> str:
    """Format KiB as MiB."""
    return f"{kib / 1024:.1f} MiB"


def cell(row: Row, column: str, peers: Peers) -> str:
    """Return one table cell: wall ± spread, client CPU, and RSS where it matters."""
    if column in row.text:
        return row.text[column]
    series = row.series.get(column)
    if series is None:
        return "—"
    if not series.ok:
        return series.note or peers.problem(column) or "—"
    unit = row.unit
    parts = [f"{num(series.median('wall') * row.scale)} {unit} ±{series.spread('wall') * 50:.0f}%",
             f"cpu {num(series.median('cpu') * row.scale)} {unit}"]
    if row.rss:
        parts.append(f"RSS {mib(series.median('rss'))}")
    return "<br>".join(parts)


def ratio_cell(row: Row) -> str:
    """Return the pydirectus ÷ raw ratios (median of per-round ratios)."""
    mine, raw = row.series.get("pydirectus"), row.series.get("raw")
    if mine is None or raw is None:
        return "—"
    parts = []
    for metric, label in (("wall", "wall"), ("cpu", "cpu")) + ((("rss", "RSS"),) if row.rss
                                                                 else ()):
        ratio = paired_ratio(mine, raw, metric)
        if ratio is not None:
            parts.append(f"{label} {ratio:.2f}x")
    if row.unit == "µs" and mine.ok and raw.ok:
        extra = statistics.median(mine.values("cpu")) - statistics.median(raw.values("cpu"))
        parts.append(f"cpu {extra * 1e6:+.0f} µs/call")
    return "<br>".join(parts) or "—"


def title(row: Row, sizes: Sizes) -> str:
    """Return the workload cell: the title, the unit, and how many rounds."""
    rounds = max((len(s.samples) for s in row.series.values()), default=0)
    calls = max((s.samples[0].calls for s in row.series.values() if s.samples), default=0)
    per = {"call": f"{row.unit} per call", "item": f"{row.unit} per item",
           "run": f"{row.unit} per run"}[row.per]
    plural = "round" if rounds == 1 else "rounds"
    shape = (f"{rounds} {plural} x {calls:,} calls" if row.per == "call"
             else f"{rounds} {plural}, a fresh process each")
    return f"{row.title}<br><sub>{per}; {shape}</sub>"


def table(run: Run) -> list[str]:
    """Return the main table's lines."""
    lines = ["| Workload | " + " | ".join(headers(run.peers)) + " | pydirectus ÷ raw |",
             "|---" * (len(COLUMNS) + 2) + "|"]
    for row in run.rows:
        cells = [cell(row, column, run.peers) for column in COLUMNS]
        lines.append(f"| {title(row, run.sizes)} | " + " | ".join(cells)
                     + f" | {ratio_cell(row)} |")
    compiled = run.compile
    if compiled.problem is None and compiled.typical is not None and compiled.large is not None:
        mine = f"typical {num(compiled.typical)} µs<br>large {num(compiled.large)} µs"
    else:
        mine = compiled.problem or "not measured"
    lines.append("| Query compile (`Query.to_params()`, from bench_compile)<br><sub>µs per "
                 "compile, median of 7 timeit repeats</sub> | " + mine
                 + " | — (no query builder)" * 4 + " | — |")
    if not any(row.key == "upload" for row in run.rows):
        lines.append("| Upload and download of a large file | not yet implemented (no files "
                     "API) |" + " not measured |" * 4 + " — |")
    return lines


def _row(run: Run, key: str) -> Row | None:
    return next((row for row in run.rows if row.key == key), None)


def _ratio_text(a: Series | None, b: Series | None, metric: str) -> str:
    """Return 'median x (rounds lo-hi x)' of the paired ratios."""
    ratios = paired_ratios(a, b, metric) if a is not None and b is not None else []
    if not ratios:
        return "—"
    middle = statistics.median(ratios)
    if len(ratios) == 1:
        return f"{middle:.2f}x (1 round)"
    return f"{middle:.2f}x (rounds {min(ratios):.2f}-{max(ratios):.2f}x)"


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**PASS**" if ok else "**FAIL**")


def _cpu_targets(run: Run, key: str, label: str) -> list[tuple[str, str, bool | None]]:
    row = _row(run, key)
    if row is None:
        return []
    mine, raw = row.series.get("pydirectus"), row.series.get("raw")
    ratio = paired_ratio(mine, raw, "cpu") if mine and raw else None
    targets = [(f"{label}: client CPU per call ≤ {TARGET_CPU:.2f}x raw requests.Session",
                _ratio_text(mine, raw, "cpu"),
                None if ratio is None else ratio <= TARGET_CPU)]
    peers = [(name, row.series[name]) for name in PEERS
             if name in row.series and row.series[name].ok]
    if mine is not None and mine.ok and peers:
        names = dict(zip(COLUMNS, headers(run.peers), strict=True))
        ratios = {name: paired_ratio(mine, series, "cpu") for name, series in peers}
        unit = row.unit
        shown = "; ".join(f"{names[name]} {num(series.median('cpu') * row.scale)} {unit} "
                          f"(pydirectus ÷ it {ratios[name] or 0:.2f}x)"
                          for name, series in peers)
        baseline = (f"; raw requests {num(raw.median('cpu') * row.scale)} {unit}"
                    if raw is not None and raw.ok else "")
        targets.append((f"{label}: client CPU per call below every peer",
                        f"pydirectus {num(mine.median('cpu') * row.scale)} {unit}{baseline}; "
                        + shown,
                        all(r is not None and r < 1 for r in ratios.values())))
    return targets


def targets(run: Run) -> list[tuple[str, str, bool | None]]:
    """Return (target, measured, passed) for every target of the issue."""
    found: list[tuple[str, str, bool | None]] = []
    for key, label in (("read_one", "Read by id (Directus)"),
                       ("list_100", "List 100 (Directus)"),
                       ("canned_read_one", "Read by id (canned server)"),
                       ("canned_list_100", "List 100 (canned server)")):
        found.extend(_cpu_targets(run, key, label))
    iterate = _row(run, "iterate")
    if iterate is not None:
        mine, raw = iterate.series["pydirectus"], iterate.series["raw"]
        wall = paired_ratio(mine, raw, "wall")
        found.append((f"Iterate: wall ≤ {TARGET_ITERATE_WALL:.2f}x the best raw paging loop",
                      _ratio_text(mine, raw, "wall"),
                      None if wall is None else wall <= TARGET_ITERATE_WALL))
        if mine.ok and raw.ok:
            # Prefetch holds the next page while the loop works on this one: at most one
            # page more than the raw loop's (whose growth is about one page), and the
            # process's peak within 10 % of the raw loop's.
            found.append(("Iterate: peak RSS within 10 % of the raw loop's, and the timed "
                          "section's growth at most one page (the raw loop's growth) more",
                          f"{mib(mine.median('rss'))} vs {mib(raw.median('rss'))}; growth "
                          f"{mine.median('rss_growth'):,.0f} KiB vs "
                          f"{raw.median('rss_growth'):,.0f} KiB",
                          mine.median("rss") <= 1.10 * raw.median("rss")
                          and mine.median("rss_growth") <= 2 * raw.median("rss_growth")))
    many, single = _row(run, "create_many"), _row(run, "create_single")
    if many is not None and single is not None:
        bulk, one = many.series["pydirectus"], single.series["pydirectus"]
        if bulk.ok and one.ok:
            speedup = one.median("wall") / bulk.median("wall")
            found.append((f"create_many: ≥ {TARGET_BULK_SPEEDUP:.0f}x faster per item than "
                          "single creates", f"{speedup:.1f}x", speedup >= TARGET_BULK_SPEEDUP))
        wall = paired_ratio(bulk, many.series["raw"], "wall")
        found.append((f"create_many: wall ≤ {TARGET_BULK_WALL:.2f}x raw batched POSTs",
                      _ratio_text(bulk, many.series["raw"], "wall")
                      + f"; client CPU {_ratio_text(bulk, many.series['raw'], 'cpu')}",
                      None if wall is None else wall <= TARGET_BULK_WALL))
    for row in run.rows:
        if row.key.startswith("download"):
            mine, raw = row.series["pydirectus"], row.series["raw"]
            wall = paired_ratio(mine, raw, "wall")
            rss = paired_ratio(mine, raw, "rss")
            found.append((f"{row.title}: wall ≤ {TARGET_DOWNLOAD_WALL:.2f}x raw requests; peak "
                          f"RSS ≤ {TARGET_DOWNLOAD_RSS:.2f}x raw's",
                          _ratio_text(mine, raw, "wall") + f"; RSS {_ratio_text(mine, raw, 'rss')}",
                          None if wall is None or rss is None
                          else wall <= TARGET_DOWNLOAD_WALL and rss <= TARGET_DOWNLOAD_RSS))
    typical = run.compile.typical
    best = run.compile.min_by_label.get(run.compile.typical_label)
    found.append((f"Typical query compile < {TARGET_COMPILE_US:.0f} µs (median of bench_compile's "
                  "repeats)",
                  "—" if typical is None else f"{num(typical)} µs"
                  + ("" if best is None else f" (best repeat {num(best)} µs)"),
                  None if typical is None else typical < TARGET_COMPILE_US))
    return found


def target_table(run: Run) -> list[str]:
    """Return the targets table's lines."""
    lines = ["| Target | Measured | Result |", "|---|---|---|"]
    lines += [f"| {name} | {measured} | {_verdict(ok)} |" for name, measured, ok in targets(run)]
    return lines


def observations(run: Run) -> list[str]:
    """Return derived facts worth a line: what count() saves."""
    count, fetch = _row(run, "count"), _row(run, "fetch_set")
    if count is None or fetch is None:
        return []
    mine, whole = count.series["pydirectus"], fetch.series["pydirectus"]
    if not (mine.ok and whole.ok):
        return []
    return [f"- `count()` answers in {num(mine.median('wall') * 1e3)} ms; fetching the "
            f"set to count it takes {num(whole.median('wall') * 1e3)} ms "
            f"({whole.median('wall') / mine.median('wall'):.0f}x longer) and "
            f"{whole.median('cpu') / mine.median('cpu'):.0f}x the client CPU."]


def header_lines(run: Run) -> list[str]:
    """Return when, where and how the numbers were made."""
    minutes, seconds = divmod(round(run.seconds), 60)
    return [f"Measured {run.started} by `python -m benchmarks` ({minutes} min {seconds:02d} s) "
            f"on {run.machine}; Directus {run.directus} on SQLite on loopback, "
            f"Node {run.peers.versions.get('node_runtime', '?')} for the JavaScript SDK."]


def methodology(run: Run) -> list[str]:
    """Return how to read the table."""
    return [
        "Each cell: median wall time ± half the range (max - min) over the rounds, as a "
        "percentage of the median; `cpu` is the client process's own CPU time "
        "(`time.process_time()`; Node's `process.cpuUsage()`) for the timed section only; "
        "`RSS` is the peak resident set of a fresh process per variant and round "
        "(the pydirectus and raw workers import the same modules). "
        "Every variant runs in its own worker process; variants run interleaved, "
        "A B C A B C …, and a ratio is the median of per-round ratios, because the server "
        "and the client share two cores and absolute times drift 20-40 % between rounds "
        "while side-by-side ratios hold.",
        "Every block's result is checked against an oracle (item counts, id sums, created "
        "counts on the server, file sizes and SHA-256), so a broken variant cannot look fast. "
        "Every sample is in results.json.",
    ]


def notes(run: Run) -> list[str]:
    """Return the notes under the tables."""
    lines = [f"- {row.title}: {row.note}" for row in run.rows if row.note]
    lines += [f"- {name}: {problem}" for name, problem in run.peers.problems.items()]
    lines += [f"- {note}" for note in run.notes]
    return lines


def markdown(run: Run) -> str:
    """Return results.md."""
    body = ["# pydirectus benchmarks", "", *header_lines(run), "", *methodology(run), "",
            "## Results", "", *table(run), "", *observations(run), "", "## Targets", "",
            *target_table(run), "", "## Notes", "", *notes(run), "",
            f"![ratios to raw requests]({CHART.name})", "", *separate_runs()]
    return "\n".join(body)


#: benchmarks run on their own (python -m benchmarks.<name>); results.md shows their last run
SEPARATE: Final = ("lean_path.md", "iteration_prefetch.md")


def separate_runs(here: Path = HERE) -> list[str]:
    """Return the sections of the separately run benchmarks (their own files, one level down)."""
    lines: list[str] = []
    for name in SEPARATE:
        path = here / name
        if path.exists():
            title, *rest = path.read_text().strip().splitlines()
            lines += [f"#{title} (`{name}`)", *rest, ""]
    return lines


def update_separate(results: Path = RESULTS) -> None:
    """Replace the separately run sections at the end of results.md with their files' text."""
    text = results.read_text()
    first = next((f"## {(HERE / n).read_text().splitlines()[0].lstrip('# ')}" for n in SEPARATE
                  if (HERE / n).exists()), None)
    if first is not None and first in text:
        text = text[:text.index(first)]
    results.write_text(text.rstrip("\n") + "\n\n" + "\n".join(separate_runs()).rstrip("\n") + "\n")


START = "<!-- benchmarks:start (written by `python -m benchmarks`: edit outside these marks) -->"
END = "<!-- benchmarks:end -->"


def page_section(run: Run) -> str:
    """Return the generated part of docs/performance.md's main-benchmark section."""
    return "\n".join([
        START, *header_lines(run), "",
        "Cells: median wall time ± half its range, the client's own CPU time, and peak RSS "
        "for the bulk workloads; ratios are medians of per-round ratios from interleaved "
        "runs.", "",
        *table(run), "", "The targets this benchmark checks:", "", *target_table(run), END])


def write_page(run: Run, path: Path = PAGE) -> None:
    """Replace the generated part of the main-benchmark section (between its marks), or
    append the section; the page's prose around it is left alone."""
    text = path.read_text()
    section = page_section(run)
    if START in text and END in text:
        text = text[:text.index(START)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\n{section}\n"
    path.write_text(text.rstrip("\n") + "\n")


def chart(run: Run, path: Path = CHART) -> None:
    """Draw pydirectus's and the peers' client CPU and wall time, each ÷ raw, per workload."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    rows = [row for row in run.rows if "raw" in row.series and row.series["raw"].ok]
    variants = [name for name in COLUMNS if name != "raw"]
    names = dict(zip(COLUMNS, headers(run.peers), strict=True))
    figure, axes = plt.subplots(1, 2, figsize=(14, 0.55 * len(rows) * len(variants) / 2 + 2),
                                sharey=True)
    height = 0.8 / len(variants)
    for axis, metric, label in ((axes[0], "cpu", "client CPU ÷ raw requests"),
                                (axes[1], "wall", "wall time ÷ raw requests")):
        for index, variant in enumerate(variants):
            positions, values = [], []
            for position, row in enumerate(rows):
                series = row.series.get(variant)
                ratio = paired_ratio(series, row.series["raw"], metric) if series else None
                if ratio is not None:
                    positions.append(position + index * height)
                    values.append(ratio)
            axis.barh(positions, values, height=height, label=names[variant])
        axis.axvline(1.0, color="black", linewidth=0.8)
        target = TARGET_CPU if metric == "cpu" else TARGET_ITERATE_WALL
        axis.axvline(target, color="gray", linewidth=0.8, linestyle="--")
        axis.set_xscale("log")
        axis.xaxis.set_major_locator(FixedLocator([0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0]))
        axis.xaxis.set_minor_locator(NullLocator())
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}x"))
        axis.set_xlabel(f"{label} (log scale; 1x = raw; dashed: {target:.2f}x)")
        axis.grid(axis="x", alpha=0.3)
    axes[0].set_yticks([i + 0.4 - height / 2 for i in range(len(rows))])
    axes[0].set_yticklabels([_short_title(row.title) for row in rows])
    axes[0].invert_yaxis()
    axes[1].legend(loc="lower right", fontsize="small")
    figure.suptitle(f"pydirectus benchmarks, {run.started}: each variant ÷ raw requests "
                    "(median of per-round ratios)")
    figure.tight_layout(rect=(0, 0, 1, 0.98))
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _short_title(text: str, width: int = 58) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def raw_data(run: Run) -> dict[str, Any]:
    """Return every sample of the run, for auditing and re-plotting."""
    return {
        "started": run.started, "seconds": round(run.seconds, 1), "machine": run.machine,
        "directus": run.directus, "peers": run.peers.versions, "problems": run.peers.problems,
        "compile": asdict(run.compile), "notes": run.notes,
        "rows": [{"key": row.key, "title": row.title, "unit": row.unit, "per": row.per,
                  "text": row.text, "note": row.note, "rss": row.rss,
                  "series": {name: {"note": series.note,
                                    "samples": [asdict(sample) for sample in series.samples]}
                             for name, series in row.series.items()}}
                 for row in run.rows],
    }


def load(path: Path) -> Run:
    """Rebuild a Run from its results.json (to re-render without re-measuring)."""
    raw = json.loads(path.read_text())
    rows = [Row(key=row["key"], title=row["title"], unit=row["unit"], per=row["per"],
                text=row["text"], note=row["note"], rss=row["rss"],
                series={name: Series(name, [Sample(**sample) for sample in data["samples"]],
                                     data["note"])
                        for name, data in row["series"].items()})
            for row in raw["rows"]]
    return Run(rows=rows, compile=CompileTimes(**raw["compile"]),
               peers=Peers(versions=raw["peers"], problems=raw["problems"]), sizes=Sizes(),
               started=raw["started"], seconds=raw["seconds"], directus=raw["directus"],
               notes=raw["notes"], machine=raw["machine"])


def write(run: Run, page: bool = True, out: Path = RESULTS) -> Sequence[Path]:
    """Write results.md, results.json, the chart and (unless told not to) the docs' table."""
    out.write_text(markdown(run))
    samples = out.with_suffix(".json")
    samples.write_text(json.dumps(raw_data(run), indent=1) + "\n")
    image = out.with_name(CHART.name)
    chart(run, image)
    if page:
        write_page(run)
    return [out, samples, image] + ([PAGE] if page else [])
