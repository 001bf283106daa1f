"""`import --resume` after every kind of interruption, and exports that are complete or fail.

Each import case stops an import of numbered rows after the server committed a batch whose
answer the CLI never saw (a kill while it waits, a reset, a truncated answer, a 502 from a
gateway), then resumes it and counts server-side: every row exactly once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pydirectus import DirectusClient, IncompleteRead, StaticToken
from pydirectus.testing import DirectusServer

from ..faults import Fault, FaultProxy
from .cli_helpers import CONNECTION_ENV, run_cli, token_of
from .cli_helpers import FIELDS as HAZARD_FIELDS
from .cli_helpers import rows as hazard_rows

FIELDS: dict[str, Any] = {"title": "string", "views": "integer"}
BATCH = 100


def numbered(path: Path, count: int, *, keys: bool = False) -> Path:
    """Write count rows numbered by views (and by id, with keys) as JSONL."""
    with path.open("w") as out:
        for n in range(1, count + 1):
            row = {"title": f"row {n}", "views": n, **({"id": n} if keys else {})}
            out.write(json.dumps(row) + "\n")
    return path


def assert_exactly_once(client: DirectusClient, name: str, count: int, extra: int = 0) -> None:
    """Assert the collection holds views 1..count once each (and `extra` other items)."""
    seen = Counter(item["views"] for item in client.collection(name).fields("views"))
    duplicated = sorted(v for v, times in seen.items() if times > 1)
    lost = sorted(set(range(1, count + 1)) - set(seen))
    assert (duplicated[:5], lost[:5]) == ([], []), (len(duplicated), len(lost))
    assert sum(seen.values()) == count + extra


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def start_cli(url: str, token: str, *args: str) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if k not in CONNECTION_ENV}
    environ.update(DIRECTUS_URL=url, DIRECTUS_TOKEN=token)
    return subprocess.Popen([sys.executable, "-m", "pydirectus", *args], env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def resume(url: str, token: str, name: str, source: Path, report: Path,
           *more: str) -> subprocess.CompletedProcess[str]:
    return run_cli(url, token, "import", name, str(source), "--batch-size", str(BATCH),
                   "--report", str(report), "--resume", *more)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM],
                         ids=["SIGKILL", "SIGINT", "SIGTERM"])
def test_a_kill_after_the_server_committed_a_batch_resumes_exactly_once(
        directus: DirectusServer, make_collection: Callable[..., str],
        directus_client: DirectusClient, tmp_path: Path, sig: signal.Signals) -> None:
    name = make_collection(FIELDS)
    source, report = numbered(tmp_path / "rows.jsonl", 600), tmp_path / "report.jsonl"
    handle = directus_client.collection(name)
    with FaultProxy(directus.url) as proxy:
        # The 4th batch is committed by Directus, and its answer never comes back.
        proxy.add(Fault.forward_then_stall(60, method="POST", path=f"/items/{name}", skip=3))
        cli = start_cli(proxy.url, directus.admin_token, "import", name, str(source),
                        "--batch-size", str(BATCH), "--report", str(report))
        try:
            wait_for(lambda: handle.count() == 4 * BATCH, "the 4th batch to be committed")
            time.sleep(0.2)
            assert cli.poll() is None
            cli.send_signal(sig)
            cli.communicate(timeout=30)
        finally:
            if cli.poll() is None:
                cli.kill()
                cli.communicate()
    assert cli.returncode != 0
    entries = [json.loads(line) for line in report.read_text().splitlines()]
    assert entries[-1]["status"] == "in_flight" and entries[-1]["rows"] == [[301, 400]]
    resumed = resume(directus.url, directus.admin_token, name, source, report)
    assert resumed.returncode == 0, resumed.stderr
    assert "created 200, skipped 400 already written, refused 0" in resumed.stderr
    assert_exactly_once(directus_client, name, 600)


@pytest.mark.parametrize("fault", [
    Fault.forward_then_reset(skip=2),
    Fault.forward_then_truncate(skip=2),
    Fault.forward_then_status(502, b"<html>Bad Gateway</html>", skip=2),
], ids=["reset", "truncated", "502"])
def test_a_lost_answer_to_a_committed_batch_resumes_exactly_once(
        directus: DirectusServer, make_collection: Callable[..., str],
        directus_client: DirectusClient, tmp_path: Path, fault: Fault) -> None:
    name = make_collection(FIELDS)
    source, report = numbered(tmp_path / "rows.jsonl", 400), tmp_path / "report.jsonl"
    fault.method, fault.path = "POST", f"/items/{name}"
    with FaultProxy(directus.url) as proxy:
        proxy.add(fault)
        stopped = run_cli(proxy.url, directus.admin_token, "import", name, str(source),
                          "--batch-size", str(BATCH), "--report", str(report))
    assert stopped.returncode == 1
    assert "stopped after writing 200 rows; --resume" in stopped.stderr
    assert directus_client.collection(name).count() == 300  # the 3rd batch landed
    resumed = resume(directus.url, directus.admin_token, name, source, report)
    assert resumed.returncode == 0, resumed.stderr
    assert "created 100, skipped 300 already written" in resumed.stderr
    assert_exactly_once(directus_client, name, 400)


def test_rows_with_keys_are_read_back_by_key_with_an_api_only_token(
        directus: DirectusServer, make_collection: Callable[..., str],
        directus_client: DirectusClient, access_grants: Any, tmp_path: Path) -> None:
    name = make_collection(FIELDS)
    token = token_of(access_grants.api_client({name: ["create", "read"]}))
    source = numbered(tmp_path / "rows.jsonl", 400, keys=True)
    report = tmp_path / "report.jsonl"
    with FaultProxy(directus.url) as proxy:
        proxy.add(Fault.forward_then_reset(method="POST", path=f"/items/{name}", skip=1))
        stopped = run_cli(proxy.url, token, "import", name, str(source),
                          "--batch-size", str(BATCH), "--report", str(report))
    assert stopped.returncode == 1, stopped.stderr
    flight = [json.loads(line) for line in report.read_text().splitlines()][-1]
    assert flight["keys"] == list(range(101, 201)) and flight["primary_key"] == "id"
    resumed = resume(directus.url, token, name, source, report)
    assert resumed.returncode == 0, resumed.stderr
    assert "created 200, skipped 200 already written" in resumed.stderr
    assert_exactly_once(directus_client, name, 400)
    assert sorted(i["id"] for i in directus_client.collection(name).fields("id")) == \
        list(range(1, 401))


def test_content_rows_settle_with_an_api_only_token_and_upserts_resend(
        directus: DirectusServer, make_collection: Callable[..., str],
        directus_client: DirectusClient, access_grants: Any, tmp_path: Path) -> None:
    name = make_collection({"title": {"type": "string", "schema": {"is_unique": True},
                                      "meta": {}}, "views": "integer"})
    token = token_of(access_grants.api_client({name: ["create", "read", "update"]}))
    source = numbered(tmp_path / "rows.jsonl", 300)
    for upsert in ([], ["--upsert-on", "title"]):
        report = tmp_path / f"report{len(upsert)}.jsonl"
        with FaultProxy(directus.url) as proxy:
            proxy.add(Fault.forward_then_status(502, method="POST", path=f"/items/{name}",
                                                skip=1))
            stopped = run_cli(proxy.url, token, "import", name, str(source), "--batch-size",
                              str(BATCH), "--report", str(report), *upsert)
        assert stopped.returncode == 1, stopped.stderr
        resumed = resume(directus.url, token, name, source, report, *upsert)
        assert resumed.returncode == 0, resumed.stderr
        assert_exactly_once(directus_client, name, 300)
        directus_client.collection(name).filter(views__gt=0).delete()


def test_random_kills_of_a_long_import_then_resume_exactly_once(
        directus: DirectusServer, make_collection: Callable[..., str],
        directus_client: DirectusClient, tmp_path: Path) -> None:
    name = make_collection(FIELDS)
    count = 2000
    source, report = numbered(tmp_path / "rows.jsonl", count), tmp_path / "report.jsonl"
    seed = random.randrange(1 << 30)
    chance = random.Random(seed)
    args = ["import", name, str(source), "--batch-size", str(BATCH), "--report", str(report)]
    for attempt in range(3):
        lines = len(report.read_text().splitlines()) if report.exists() else 0
        cli = start_cli(directus.url, directus.admin_token, *args,
                        *(["--resume"] if attempt else []))
        # Kill it at a random moment once it has sent a few batches.
        target = lines + chance.randrange(2, 12)
        def progressed(cli: subprocess.Popen[str] = cli, target: int = target) -> bool:
            return cli.poll() is not None or (
                report.exists() and len(report.read_text().splitlines()) >= target)

        wait_for(progressed, "the import to make progress")
        time.sleep(chance.random() * 0.3)
        cli.kill()
        cli.communicate()
    finished = resume(directus.url, directus.admin_token, name, source, report)
    assert finished.returncode == 0, (seed, finished.stderr)
    assert_exactly_once(directus_client, name, count)


def test_an_undecidable_batch_stops_naming_its_rows_until_told(
        directus: DirectusServer, make_collection: Callable[..., str],
        directus_client: DirectusClient, tmp_path: Path) -> None:
    name = make_collection(FIELDS)
    source, report = numbered(tmp_path / "rows.jsonl", 400), tmp_path / "report.jsonl"
    with FaultProxy(directus.url) as proxy:
        proxy.add(Fault.forward_then_reset(method="POST", path=f"/items/{name}", skip=2))
        stopped = run_cli(proxy.url, directus.admin_token, "import", name, str(source),
                          "--batch-size", str(BATCH), "--report", str(report))
    assert stopped.returncode == 1
    # Another writer adds an item: the count no longer tells whether rows 201-300 landed.
    directus_client.collection(name).create({"title": "someone else", "views": 0})
    undecided = resume(directus.url, directus.admin_token, name, source, report)
    assert undecided.returncode == 1
    assert "rows 201-300" in undecided.stderr and "--in-flight landed" in undecided.stderr
    assert directus_client.collection(name).count() == 301  # nothing was sent
    told = resume(directus.url, directus.admin_token, name, source, report,
                  "--in-flight", "landed")
    assert told.returncode == 0, told.stderr
    assert_exactly_once(directus_client, name, 400, extra=1)


def _seed(client: DirectusClient, name: str, count: int) -> None:
    client.collection(name).create_many(
        [{"title": f"row {n}", "views": n} for n in range(1, count + 1)], batch_size=500)


def test_an_export_answered_an_empty_page_fails_naming_the_shortfall(
        directus: DirectusServer, make_collection: Callable[..., str],
        directus_client: DirectusClient, tmp_path: Path) -> None:
    name = make_collection(FIELDS)
    _seed(directus_client, name, 250)
    out = tmp_path / "out.jsonl"
    # skip=2: the count at the start and the first page pass; the second page is empty.
    # skip=1: the first page is empty, without the count it asked for: the command's own
    # check against its starting count.
    # skip=0: the count at the start says 300 (as if 50 were deleted before the pages).
    cases = ((2, b'{"data": []}', "the pages ended after 50 of 250 items"),
             (1, b'{"data": []}', "wrote 0 of the 250 items counted at the start (250 "
                                  "missing)"),
             (0, b'{"data": [{"count": 300}]}',
              "wrote 250 of the 300 items counted at the start (50 missing)"))
    for skip, body, expected in cases:
        with FaultProxy(directus.url) as proxy:
            proxy.add(Fault.status(200, body, {"Content-Type": "application/json"},
                                   method="GET", path=f"/items/{name}", skip=skip))
            result = run_cli(proxy.url, directus.admin_token, "export", name, "-o", str(out),
                             "--page-size", "50")
        assert result.returncode == 1, result.stderr
        assert expected in result.stderr, result.stderr
        assert not out.exists()
    complete = run_cli(directus.url, directus.admin_token, "export", name, "-o", str(out),
                       "--page-size", "50")
    assert complete.returncode == 0, complete.stderr
    assert len(out.read_text().splitlines()) == 250


def test_iteration_and_unbounded_reads_raise_on_a_page_cut_short(
        directus: DirectusServer, make_collection: Callable[..., str],
        directus_client: DirectusClient) -> None:
    name = make_collection(FIELDS)
    _seed(directus_client, name, 120)
    empty = b'{"data": []}'
    with FaultProxy(directus.url) as proxy, DirectusClient(
            proxy.url, auth=StaticToken(directus.admin_token)) as client:
        handle = client.collection(name)
        handle.page_size = 50
        assert len(list(handle)) == 120  # learns the schema; the common path is quiet
        proxy.add(Fault.status(200, empty, {"Content-Type": "application/json"},
                               method="GET", path=f"/items/{name}", skip=1))
        with pytest.raises(IncompleteRead) as cut:
            list(handle)
        assert (cut.value.expected, cut.value.got) == (120, 50)
        assert "50 of 120" in str(cut.value)
        # A stale answer (a cache in front of Directus) with the count but not the rows.
        stale = b'{"data": [], "meta": {"filter_count": 120}}'
        proxy.add(Fault.status(200, stale, {"Content-Type": "application/json"},
                               method="GET", path=f"/items/{name}"))
        with pytest.raises(IncompleteRead, match="0 of 120"):
            handle.limit(-1).fetch()
        # Items deleted while iterating end the stream short without an error.
        stream = handle.sort("views").iterator(prefetch=False)
        first = [next(stream) for _ in range(50)]
        directus_client.collection(name).filter(views__gt=100).delete()
        assert len(first + list(stream)) == 100


def test_rows_of_every_type_are_matched_by_content_on_resume(
        directus: DirectusServer, make_collection: Callable[..., str],
        directus_client: DirectusClient, tmp_path: Path) -> None:
    name = make_collection(HAZARD_FIELDS)
    data = hazard_rows(45)
    source, report = tmp_path / "rows.jsonl", tmp_path / "report.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in data))
    with FaultProxy(directus.url) as proxy:
        proxy.add(Fault.forward_then_reset(method="POST", path=f"/items/{name}", skip=2))
        stopped = run_cli(proxy.url, directus.admin_token, "import", name, str(source),
                          "--batch-size", "10", "--report", str(report))
    assert stopped.returncode == 1
    resumed = run_cli(directus.url, directus.admin_token, "import", name, str(source),
                      "--batch-size", "10", "--report", str(report), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "created 15, skipped 30 already written" in resumed.stderr
    titles = Counter(item["title"] for item in directus_client.collection(name).fields("title"))
    assert titles == Counter(row["title"] for row in data)
