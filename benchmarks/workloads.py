"""The workloads: what each variant does, how often, and how its result is verified.

Reads run in long-lived workers (one per variant), interleaved round by round. Iteration
and the bulk writes run in a fresh process per variant per round, so that each peak RSS
belongs to one variant alone. The canned-server phase repeats the reads against a server
that answers in microseconds, to isolate client-side cost.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from benchmarks import canned_server, spec, workers
from benchmarks.dataset import Admin, Dataset
from benchmarks.harness import Sample, Series, Unsupported, VerificationError, interleave
from benchmarks.peers import Peers

log = logging.getLogger("benchmarks")

COLUMNS = ("pydirectus", "raw", "directus_sdk_py", "py_directus", "node")
PEERS = ("directus_sdk_py", "py_directus", "node")
CANNED_VARIANTS = ("pydirectus", "pydirectus_seed", "raw", *PEERS)


@dataclass(frozen=True)
class Sizes:
    """How much work each workload does; --quick shrinks it for a smoke run."""

    read_rounds: int = 15
    read_calls: Mapping[str, int] = field(default_factory=lambda: {
        "read_one": 10, "list_100": 8, "count": 8, "fetch_set": 1})
    iterate_rounds: int = 11
    bulk_items: int = 10_000
    bulk_rounds: int = 4
    single_items: int = 200
    single_rounds: int = 2
    peer_write_rounds: int = 1
    file_mib: int = 32
    file_rounds: int = 3
    # Downloads: both sizes the issue targets, more rounds (one costs well under a second).
    download_mibs: tuple[int, ...] = (32, 256)
    download_rounds: Mapping[int, int] = field(default_factory=lambda: {32: 12, 256: 10})
    canned_rounds: int = 15
    canned_calls: Mapping[str, int] = field(default_factory=lambda: {
        "read_one": 50, "list_100": 40, "list_prebuilt": 40})


QUICK = replace(Sizes(), read_rounds=2, read_calls={"read_one": 5, "list_100": 5, "count": 5,
                                                    "fetch_set": 1},
                iterate_rounds=1, bulk_items=1000, bulk_rounds=1, single_items=50,
                single_rounds=1, file_mib=4, file_rounds=1, download_mibs=(4,),
                download_rounds={4: 1}, canned_rounds=2,
                canned_calls={"read_one": 50, "list_100": 50, "list_prebuilt": 50})


@dataclass
class Row:
    """One line of the results table."""

    key: str
    title: str
    unit: str                      # "ms", "s" or "µs"
    per: str                       # what one sample's `calls` counts: "call", "item", "run"
    series: dict[str, Series] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)  # a cell with words, not numbers
    note: str = ""
    rss: bool = False

    @property
    def scale(self) -> float:
        """Return the factor from seconds to the row's unit."""
        return {"s": 1.0, "ms": 1e3, "µs": 1e6}[self.unit]


@dataclass
class Runner:
    """Everything the phases share: the peers, where logs go, the server's address."""

    peers: Peers
    log_dir: Path
    sizes: Sizes

    def start(self, variants: Sequence[str], url: str, token: str) -> workers.Worker:
        """Start a worker for some variants against a server."""
        return workers.start(variants, self.peers, self.log_dir, url, token, spec.PAGE_SIZE)


def _verify(check: Any, expected: Any) -> None:
    if expected is not None and check != expected:
        raise VerificationError(f"expected {expected!r}, got {check!r}")


def _last_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return (lines[-1] if lines else type(exc).__name__)[:200]


def _start_pool(runner: Runner, url: str, token: str, variants: Sequence[str],
                broken: dict[str, str]) -> dict[str, workers.Worker]:
    # pydirectus and raw share one process: two processes running identical code differ
    # by up to ~10 % in CPU per call here, which would drown a 10 % target.
    groups = [[name for name in variants if name in workers.MAIN_VENV_VARIANTS]]
    groups += [[name] for name in variants if name not in workers.MAIN_VENV_VARIANTS]
    pool: dict[str, workers.Worker] = {}
    for group in filter(None, groups):
        try:
            worker = runner.start(group, url, token)
        except Exception as exc:
            broken.update(dict.fromkeys(group, f"failed to start: {_last_line(exc)}"))
            continue
        pool.update(dict.fromkeys(group, worker))
    return pool


def run_reads(runner: Runner, url: str, token: str, variants: Sequence[str],
              plan: Mapping[str, int], rounds: int, args: dict[str, Any],
              expected: Callable[[str, int], Any]) -> dict[str, dict[str, Series]]:
    """Run read workloads in long-lived workers; return series by workload and variant."""
    broken: dict[str, str] = {}
    pool = _start_pool(runner, url, token, variants, broken)
    try:
        for name, worker in pool.items():  # warm connections, caches and code paths
            for workload in plan:
                try:
                    worker.run(name, workload, 1, args, -1)
                except Unsupported:
                    pass
                except Exception as exc:
                    broken.setdefault(name, f"failed: {_last_line(exc)}")

        results: dict[str, dict[str, Series]] = {}
        for workload, calls in plan.items():
            def run_one(name: str, rep: int, workload: str = workload, calls: int = calls
                        ) -> Sample:
                if name in broken:
                    raise RuntimeError(broken[name])
                sample, check = pool[name].run(name, workload, calls, args, rep)
                _verify(check, expected(workload, calls))
                return sample
            log.info("  %s: %d rounds x %d calls x %d variants", workload, rounds, calls,
                     len(variants))
            results[workload] = interleave(variants, rounds, run_one)
        return results
    finally:
        for worker in {id(w): w for w in pool.values()}.values():
            worker.close()


def run_oneshot(runner: Runner, variant: str, url: str, token: str, workload: str, calls: int,
                args: dict[str, Any], rep: int, timeout: float) -> tuple[Sample, Any]:
    """Run one timed block in a fresh worker process (so its peak RSS is its own)."""
    worker = runner.start([variant], url, token)
    try:
        worker.run(variant, "warm", 1, args, rep)
        return worker.run(variant, workload, calls, args, rep, timeout=timeout)
    finally:
        worker.close()


def directus_rows(runner: Runner, data: Dataset) -> list[Row]:
    """Run every workload against the local Directus."""
    sizes = runner.sizes
    args = data.args()
    log.info("reads (long-lived workers, interleaved)")
    reads = run_reads(runner, data.url, data.token, COLUMNS, sizes.read_calls,
                      sizes.read_rounds, args, data.expected)
    rows = [
        Row("read_one", "Read one item by id", "ms", "call", reads["read_one"]),
        Row("list_100", "List 100 items (filter, fields, sort; query built per call)", "ms",
            "call", reads["list_100"]),
        Row("count", f"count() of a filtered set ({data.published:,} of {len(data.ids):,})",
            "ms", "call", reads["count"]),
        Row("fetch_set", f"…vs fetching that set ({data.published:,} items, limit -1) and len()",
            "ms", "call", reads["fetch_set"]),
    ]
    rows.append(iterate_row(runner, data))
    rows.extend(bulk_rows(runner, data))
    rows.extend(file_rows(runner, data))
    return rows


def iterate_row(runner: Runner, data: Dataset) -> Row:
    """Full iteration of the read collection, a fresh process per variant per round."""
    rounds = runner.sizes.iterate_rounds
    log.info("iterate %d items: %d rounds, fresh process each", len(data.ids), rounds)
    args = data.args()

    def run_one(name: str, rep: int) -> Sample:
        sample, check = run_oneshot(runner, name, data.url, data.token, "iterate", 1, args, rep,
                                    timeout=600)
        _verify(check, data.expected("iterate", 1))
        return sample

    series = interleave(COLUMNS, rounds, run_one)
    return Row("iterate", f"Iterate all {len(data.ids):,} items (page size {spec.PAGE_SIZE:,})",
               "s", "run", series, rss=True,
               note="raw: the best limit/offset loop, same page size and sort, one Session")


def bulk_rows(runner: Runner, data: Dataset) -> list[Row]:
    """create_many vs batched raw POSTs, and single creates, fresh processes, verified."""
    sizes = runner.sizes
    admin = Admin(data.url, data.token)
    caps = dict.fromkeys(PEERS, sizes.peer_write_rounds)

    def writer(workload: str, count: int) -> Callable[[str, int], Sample]:
        def run_one(name: str, rep: int) -> Sample:
            args = {**data.args(data.bulk), "count": count, "tag": f"{name}-{workload}-{rep}"}
            before = admin.count(data.bulk)
            sample, check = run_oneshot(runner, name, data.url, data.token, workload, count,
                                        args, rep, timeout=900)
            added = admin.count(data.bulk) - before
            if added != count:
                raise VerificationError(f"{added} items created, expected {count}")
            _verify(check, None if check is None else count)
            return sample
        return run_one

    try:
        log.info("create_many %d items: %d rounds (peers %d)", sizes.bulk_items,
                 sizes.bulk_rounds, sizes.peer_write_rounds)
        many = interleave(COLUMNS, sizes.bulk_rounds, writer("create_many", sizes.bulk_items),
                          caps)
        log.info("single creates %d items: %d rounds (peers %d)", sizes.single_items,
                 sizes.single_rounds, sizes.peer_write_rounds)
        single = interleave(COLUMNS, sizes.single_rounds,
                            writer("create_single", sizes.single_items), caps)
    finally:
        admin.close()
    return [
        Row("create_many", f"Bulk create {sizes.bulk_items:,} items (create_many)", "ms", "item",
            many, rss=True,
            note=f"batches of {spec.BATCH_SIZE:,}; raw: the same batched POSTs; "
                 "directus-sdk-py: bulk_insert(interval=1,000); py-directus: create(list), "
                 f"one POST of {sizes.bulk_items:,} (it has no batching; its default 5 s httpx "
                 "timeout fails on that POST, so its worker passes "
                 "connection=httpx.AsyncClient(timeout=300))"),
        Row("create_single", f"Single creates, seed-style loop ({sizes.single_items:,} items)",
            "ms", "item", single, rss=True,
            note="pydirectus: client.create_item() per item; per-item time"),
    ]


def _source_file(folder: Path, mib: int) -> tuple[Path, str]:
    folder.mkdir(parents=True, exist_ok=True)
    source, digest = folder / f"source-{mib}MiB.bin", hashlib.sha256()
    with source.open("wb") as out:
        for _ in range(mib):
            block = os.urandom(1 << 20)
            digest.update(block)
            out.write(block)
    return source, digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def file_rows(runner: Runner, data: Dataset) -> list[Row]:
    """Upload and download of large files, a fresh process per variant per round."""
    sizes = runner.sizes
    folder = runner.log_dir.parent / "files"
    source, _ = _source_file(folder, sizes.file_mib)
    size = source.stat().st_size
    admin = Admin(data.url, data.token)
    caps = dict.fromkeys(PEERS, sizes.peer_write_rounds)

    def upload(name: str, rep: int) -> Sample:
        args = {**data.args(), "path": str(source)}
        sample, new_id = run_oneshot(runner, name, data.url, data.token, "upload", 1, args, rep,
                                     timeout=600)
        stored = admin.call("GET", f"/files/{new_id}", params={"fields": "filesize"})
        admin.call("DELETE", f"/files/{new_id}")
        if int(stored["filesize"]) != size:
            raise VerificationError(f"stored {stored['filesize']} bytes, expected {size}")
        return sample

    try:
        log.info("upload of a %d MiB file: %d rounds (peers %d)", sizes.file_mib,
                 sizes.file_rounds, sizes.peer_write_rounds)
        up = interleave(COLUMNS, sizes.file_rounds, upload, caps)
        rows = [Row("upload", f"Upload a {sizes.file_mib} MiB file", "s", "run", up, rss=True,
                    note="pydirectus: files.upload(path), a streamed multipart body; raw: "
                         "requests files= (builds the body in memory); directus-sdk-py: "
                         "upload_file() (then PATCHes the type); py-directus: upload_file() "
                         "(httpx multipart)")]
        rows += download_rows(runner, data, admin, COLUMNS, caps)
    finally:
        admin.close()
    return rows


def _read_asset(admin: Admin, file_id: str) -> None:
    with admin.session.get(f"{admin.url}/assets/{file_id}", stream=True, timeout=600) as answer:
        answer.raise_for_status()
        for _ in answer.iter_content(1 << 20):
            pass


def download_rows(runner: Runner, data: Dataset, admin: Admin, columns: Sequence[str],
                  caps: Mapping[str, int]) -> list[Row]:
    """Download a file of each size in sizes.download_mibs, a fresh process per run."""
    sizes = runner.sizes
    folder = runner.log_dir.parent / "files"
    rows = []
    for mib in sizes.download_mibs:
        source, digest = _source_file(folder, mib)
        size = source.stat().st_size
        with source.open("rb") as handle:
            file_id = admin.call("POST", "/files", files={
                "file": (source.name, handle, "application/octet-stream")})["id"]
        # Directus's first GET of an asset pays for lazy set-up (its asset route imports
        # helmet, reads settings, opens the storage driver): whichever variant went first
        # in round 0 was charged for it. One untimed read warms the route and the file.
        _read_asset(admin, file_id)

        def download(name: str, rep: int, file_id: str = file_id, size: int = size,
                     digest: str = digest, mib: int = mib) -> Sample:
            dest = folder / f"download-{mib}-{name}-{rep}.bin"
            args = {**data.args(), "file_id": file_id, "dest": str(dest)}
            try:
                sample, written = run_oneshot(runner, name, data.url, data.token, "download",
                                              1, args, rep, timeout=600)
                if written != size or (dest.exists() and _sha256(dest) != digest):
                    raise VerificationError(
                        f"got {written} bytes (or other bytes), expected {size}")
            finally:
                dest.unlink(missing_ok=True)
            return sample

        rounds = sizes.download_rounds.get(mib, sizes.file_rounds)
        log.info("download of a %d MiB file: %d rounds", mib, rounds)
        try:
            down = interleave(columns, rounds, download, caps, shuffle=mib)
        finally:
            admin.call("DELETE", f"/files/{file_id}")
        rows.append(Row(
            "download" if mib == sizes.file_mib else f"download_{mib}",
            f"Download a {mib} MiB file", "s", "run", down, rss=True,
            note="pydirectus: files.download(id, path), streamed in 1 MiB chunks to a "
                 "temporary file renamed into place; raw: stream=True + iter_content(1 MiB) "
                 "to disk; directus-sdk-py: download_file() (whole body in memory); every "
                 "download is checked by size and SHA-256; the server's asset route is "
                 "warmed by one untimed read first, and each round's order is drawn at "
                 "random (see harness.interleave)"))
    return rows


def canned_rows(runner: Runner) -> list[Row]:
    """Repeat the reads against the canned server: client-side cost only."""
    sizes = runner.sizes
    with canned_server.running() as url:
        args = {**Dataset(url, "canned").args("bench_canned"), "ids": list(range(1, 51))}

        def expected(workload: str, calls: int) -> Any:
            return canned_server.expected(workload, calls, args["ids"])

        log.info("canned server (client-side cost only)")
        result = run_reads(runner, url, "canned-token", CANNED_VARIANTS, sizes.canned_calls,
                           sizes.canned_rounds, args, expected)
    same = dict.fromkeys(PEERS, "as above")
    one, many = result["read_one"], result["list_100"]
    return [
        Row("canned_read_one", "Canned server: read one item by id", "µs", "call", one),
        Row("canned_read_one_seed", "Canned server: read by id via seed read_item()", "µs",
            "call", {"pydirectus": one["pydirectus_seed"], "raw": one["raw"]}, text=same),
        Row("canned_list_100", "Canned server: list 100 items (query built per call)", "µs",
            "call", many),
        Row("canned_list_100_seed", "Canned server: list 100 via seed read_items(dict)", "µs",
            "call", {"pydirectus": many["pydirectus_seed"], "raw": many["raw"]}, text=same),
        Row("canned_list_prebuilt", "Canned server: list 100, query built once", "µs", "call",
            result["list_prebuilt"],
            text=dict.fromkeys(PEERS, "— (no reusable query)")),
    ]
