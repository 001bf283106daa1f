"""`pydirectus query`, `export` and `import` as subprocesses against a real Directus."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from pydirectus import DirectusClient
from pydirectus.cli import main
from pydirectus.testing import DirectusServer

from .cli_helpers import FIELDS, everything, one_line_error, rows, run_cli


@pytest.fixture
def seeded(make_collection: Callable[..., str], directus_client: DirectusClient) -> str:
    name = make_collection(FIELDS)
    directus_client.collection(name).create_many(rows(45))
    return name


def test_help_shows_a_real_example_for_every_command(directus: DirectusServer) -> None:
    for command in ([], ["query"], ["export"], ["import"], ["types"]):
        result = run_cli(None, None, *command, "--help")
        assert result.returncode == 0, result.stderr
        assert "examples:" in result.stdout
        assert f"pydirectus {command[0] if command else 'query'} " in result.stdout


def test_query_prints_what_the_library_answers(directus: DirectusServer, seeded: str,
                                               directus_client: DirectusClient) -> None:
    expected = list(directus_client.collection(seeded).filter(views__gt=100)
                    .exclude(status="draft").sort("-views", "title").fields("id", "title",
                                                                            "views", "data"))
    assert len(expected) > 5
    options = ["--filter", "views__gt=100", "--exclude", "status=draft", "--sort", "-views",
               "--sort", "title", "--fields", "id,title", "--fields", "views,data",
               "--page-size", "4"]
    as_json = run_cli(directus.url, directus.admin_token, "query", seeded, *options,
                      "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == expected
    as_jsonl = run_cli(directus.url, directus.admin_token, "query", seeded, *options,
                       "--format", "jsonl")
    assert [json.loads(line) for line in as_jsonl.stdout.splitlines()] == expected
    as_csv = run_cli(directus.url, directus.admin_token, "query", seeded, *options,
                     "--format", "csv")
    table = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert table[0] == ["id", "title", "views", "data"]
    assert [row[1] for row in table[1:]] == [item["title"] for item in expected]
    assert [json.loads(row[3]) if row[3] else None for row in table[1:]] == \
        [item["data"] for item in expected]


def test_query_lookups_lists_and_raw_filters(directus: DirectusServer, seeded: str,
                                             directus_client: DirectusClient) -> None:
    handle = directus_client.collection(seeded)
    cases = [
        (["--filter", "status__in=draft,review", "--filter", "views__lte=200"],
         handle.filter(status__in=["draft", "review"], views__lte=200)),
        (["--filter", '{"title": {"_contains": "quoted"}}'],
         handle.filter({"title": {"_contains": "quoted"}})),
        (["--exclude", "views__gt=50", "--limit", "7", "--offset", "2"],
         handle.exclude(views__gt=50)[2:9]),
        (["--filter", "views__null=true"], handle.filter(views__null=True)),
    ]
    for options, query in cases:
        result = run_cli(directus.url, directus.admin_token, "query", seeded, *options,
                         "--fields", "id", "--sort", "id", "--format", "jsonl")
        assert result.returncode == 0, result.stderr
        got = [json.loads(line)["id"] for line in result.stdout.splitlines()]
        assert got == [item["id"] for item in query.sort("id").fields("id")], options


def test_the_table_fits_the_terminal(directus: DirectusServer, seeded: str) -> None:
    result = run_cli(directus.url, directus.admin_token, "query", seeded, "--sort", "id",
                     columns=70)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["id", "title", "views"]
    assert len(lines) == 2 + 45
    assert max(len(line) for line in lines) <= 70
    assert result.stderr.strip() == "(45 items)"


@pytest.mark.parametrize("args", [
    [],
    ["query"],
    ["query", "{collection}", "--filter", "views__gtt=1"],
    ["query", "{collection}", "--filter", "no equals sign"],
    ["query", "{collection}", "--limit", "ten"],
    ["query", "{collection}", "--format", "xml"],
    ["query", "no_such_collection"],
    ["export", "{collection}", "-o", "out.txt"],
    ["import", "{collection}", "missing.jsonl"],
    ["import", "{collection}", "rows.jsonl", "--resume"],
    ["import", "{collection}", "rows.jsonl", "--batch-size", "0"],
    ["types", "--collection", "no_such_collection"],
])
def test_bad_arguments_exit_non_zero_with_one_line(directus: DirectusServer, seeded: str,
                                                   tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "rows.jsonl").write_text('{"title": "x"}\n')
    result = run_cli(directus.url, directus.admin_token,
                     *(a.format(collection=seeded) for a in args), cwd=tmp_path)
    line = one_line_error(result)
    assert result.stdout == ""
    assert "error:" in line


def test_connection_problems_are_one_line(directus: DirectusServer, seeded: str) -> None:
    assert "DIRECTUS_URL" in one_line_error(run_cli(None, None, "query", seeded))
    denied = one_line_error(run_cli(directus.url, "not-a-token", "query", seeded))
    assert "401" in denied or "INVALID_CREDENTIALS" in denied
    refused = one_line_error(run_cli("http://127.0.0.1:9", "x", "query", seeded))
    assert "127.0.0.1" in refused or "onnect" in refused
    both = one_line_error(run_cli(directus.url, None, "query", seeded, "--token", "a",
                                  "--email", "b@example.com"))
    assert "either --token or --email" in both
    assert "not-a-token" not in denied


def test_debug_shows_the_traceback(directus: DirectusServer, seeded: str) -> None:
    result = run_cli(directus.url, directus.admin_token, "query", seeded, "--debug",
                     "--filter", "views__gtt=1")
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "InvalidQuery" in result.stderr


def test_email_login_reads_the_password_from_the_environment(directus: DirectusServer,
                                                             seeded: str) -> None:
    result = run_cli(directus.url, None, "query", seeded, "--email", directus.admin_email,
                     "--fields", "id", "--format", "jsonl",
                     env={"DIRECTUS_PASSWORD": directus.admin_password})
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 45
    wrong = run_cli(directus.url, None, "query", seeded, "--email", directus.admin_email,
                    env={"DIRECTUS_PASSWORD": "wrong"})
    assert "wrong" not in one_line_error(wrong)


@pytest.mark.parametrize("suffix", ["jsonl", "csv", "json"])
def test_export_then_import_round_trips_every_row(
        directus: DirectusServer, seeded: str, make_collection: Callable[..., str],
        directus_client: DirectusClient, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"rows.{suffix}"
    exported = run_cli(directus.url, directus.admin_token, "export", seeded, "-o", str(path),
                       "--page-size", "10")
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr.strip() == f"exported 45 items of {seeded} to {path}"
    assert not (tmp_path / f"rows.{suffix}.part").exists()
    target = make_collection(FIELDS)
    imported = run_cli(directus.url, directus.admin_token, "import", target, str(path),
                       "--batch-size", "8")
    assert imported.returncode == 0, imported.stderr
    assert imported.stderr.strip() == f"import {target}: created 45, refused 0"
    assert everything(directus_client, target) == everything(directus_client, seeded)


def test_a_failing_row_is_reported_and_the_rest_land(
        directus: DirectusServer, make_collection: Callable[..., str],
        directus_client: DirectusClient, tmp_path: Path) -> None:
    target = make_collection(FIELDS)
    data = [{"title": None if n in (5, 9) else f"row {n}", "views": n} for n in range(1, 13)]
    source = tmp_path / "rows.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in data))
    report = tmp_path / "report.jsonl"
    result = run_cli(directus.url, directus.admin_token, "import", target, str(source),
                     "--batch-size", "4", "--report", str(report))
    assert result.returncode == 1
    assert f"import {target}: created 10, refused 2 (details in {report})" in result.stderr
    assert "row 5 refused:" in result.stderr and "row 9 refused:" in result.stderr
    landed = sorted(item["views"] for item in directus_client.collection(target))
    assert landed == [n for n in range(1, 13) if n not in (5, 9)]
    entries = [json.loads(line) for line in report.read_text().splitlines()]
    refused = [e for e in entries if e["status"] == "refused"]
    assert [e["row"] for e in refused] == [5, 9]
    assert all(e["code"] and e["reason"] for e in refused)
    written = {n for e in entries if e["status"] == "written"
               for n in range(e["rows"][0], e["rows"][1] + 1)}
    assert written == set(range(1, 13)) - {5, 9}


def test_resume_skips_the_rows_the_report_says_were_written(
        directus: DirectusServer, make_collection: Callable[..., str],
        directus_client: DirectusClient, tmp_path: Path) -> None:
    target = make_collection(FIELDS)
    data = [{"title": f"row {n}", "views": n} for n in range(1, 31)]
    source, report = tmp_path / "rows.jsonl", tmp_path / "report.jsonl"
    # A first run that stopped after 12 rows (its file then held only those).
    source.write_text("".join(json.dumps(row) + "\n" for row in data[:12]))
    first = run_cli(directus.url, directus.admin_token, "import", target, str(source),
                    "--batch-size", "5", "--report", str(report))
    assert first.returncode == 0, first.stderr
    source.write_text("".join(json.dumps(row) + "\n" for row in data))
    second = run_cli(directus.url, directus.admin_token, "import", target, str(source),
                     "--batch-size", "5", "--report", str(report), "--resume")
    assert second.returncode == 0, second.stderr
    assert "created 18, skipped 12 already written, refused 0" in second.stderr
    assert sorted(item["views"] for item in directus_client.collection(target)) == \
        list(range(1, 31))


def test_upsert_on_a_field_updates_matches_and_creates_the_rest(
        directus: DirectusServer, make_collection: Callable[..., str],
        directus_client: DirectusClient, tmp_path: Path) -> None:
    target = make_collection({"sku": {"type": "string", "schema": {"is_unique": True},
                                      "meta": {}}, "stock": "integer"})
    handle = directus_client.collection(target)
    handle.create_many([{"sku": f"S{n}", "stock": n} for n in range(1, 6)])
    source = tmp_path / "stock.csv"
    source.write_text("sku,stock\nS2,20\nS4,40\nS9,90\nS2,21\n")
    result = run_cli(directus.url, directus.admin_token, "import", target, str(source),
                     "--upsert-on", "sku", "--batch-size", "10")
    assert result.returncode == 0, result.stderr
    assert "created 1, updated 3, refused 0" in result.stderr
    assert {i["sku"]: i["stock"] for i in handle} == {
        "S1": 1, "S2": 21, "S3": 3, "S4": 40, "S5": 5, "S9": 90}
    by_id = run_cli(directus.url, directus.admin_token, "import", target, "-",
                    "--upsert-on", "id", "--format", "jsonl",
                    stdin=json.dumps({"id": handle.filter(sku="S1").first()["id"],
                                      "stock": 100}) + "\n")
    assert by_id.returncode == 0, by_id.stderr
    assert handle.filter(sku="S1").first()["stock"] == 100
    assert handle.count() == 6


def test_export_streams_with_bounded_memory(
        directus: DirectusServer, make_collection: Callable[..., str],
        directus_client: DirectusClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = make_collection({"body": "text"})
    directus_client.collection(target).create_many(
        [{"body": f"{n:05d}" + "x" * 2000} for n in range(3000)], batch_size=500)
    monkeypatch.setenv("DIRECTUS_URL", directus.url)
    monkeypatch.setenv("DIRECTUS_TOKEN", directus.admin_token)
    path = tmp_path / "big.jsonl"
    # A first, one-row export imports what the command needs: the bound is on the rows.
    assert main(["export", target, "-o", str(tmp_path / "warm.jsonl"), "--limit", "1",
                 "--quiet"]) == 0
    tracemalloc.start()
    try:
        status = main(["export", target, "-o", str(path), "--page-size", "20", "--quiet"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 0
    size = path.stat().st_size
    assert size > 6_000_000
    with path.open() as exported:
        assert sum(1 for _ in exported) == 3000
    # One page (20 rows, ~40 KB of text) at a time, not the 6 MB export. orjson's parser
    # (when installed) holds a working buffer of about 15x the page it decodes, so the
    # bound is a handful of pages, still a fraction of the file.
    assert peak < size / 4, (peak, size)
