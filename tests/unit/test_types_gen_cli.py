"""The command line's parts that need no server: arguments, writers, readers, batching."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest

from pydirectus.cli import build_parser, main
from pydirectus.cli.common import CommandError
from pydirectus.cli.import_ import Outcome, Report, RowSet, _batches, written_rows
from pydirectus.cli.output import cell, format_for_path, to_json, write_rows
from pydirectus.cli.querying import parse_condition, parse_value
from pydirectus.cli.readers import CsvCaster, read_rows


@pytest.mark.parametrize(("text", "lookup", "value"), [
    ("10", None, 10), ("1.5", None, 1.5), ("true", None, True), ("null", None, None),
    ("hello", None, "hello"), ('"10"', None, "10"), ("[1, 2]", None, [1, 2]),
    ("a,b", "in", ["a", "b"]), ("1,2", "nin", [1, 2]), ('["a,b"]', "in", ["a,b"]),
    ("1,5", "between", [1, 5]), ("", "in", []), ("a,b", None, "a,b"),
])
def test_values_are_json_where_they_parse(text: str, lookup: str | None, value: Any) -> None:
    assert parse_value(text, lookup) == value


def test_conditions_and_their_errors() -> None:
    assert parse_condition("views__gt=10") == {"views__gt": 10}
    assert parse_condition("status__in=a,b") == {"status__in": ["a", "b"]}
    assert parse_condition("title=a=b") == {"title": "a=b"}
    assert parse_condition('{"a": {"_eq": 1}}') == {"a": {"_eq": 1}}
    for bad in ("views", "=1", "{nope", '{"a": 1'):
        with pytest.raises(CommandError, match="--filter"):
            parse_condition(bad)


def test_cells_for_csv_and_tables() -> None:
    values = (None, True, False, 3, 1.5, "x", {"a": [1]}, [1, "b"], Decimal("12.50"),
              {"d": Decimal("0.1")})
    assert [cell(v) for v in values] == ["", "true", "false", "3", "1.5", "x", '{"a":[1]}',
                                         '[1,"b"]', "12.50", '{"d":"0.1"}']
    out = io.StringIO()
    write_rows(iter([{"price": Decimal("9.90")}]), out, "jsonl")
    assert out.getvalue() == '{"price": "9.90"}\n'
    with pytest.raises(TypeError, match="set"):
        to_json({1, 2})


def test_csv_with_named_fields_has_a_header_even_without_rows() -> None:
    out = io.StringIO()
    assert write_rows(iter([]), out, "csv", columns=["id", "title"]) == 0
    assert out.getvalue() == "id,title\n"
    out = io.StringIO()
    write_rows(iter([{"id": 1, "title": "a"}, {"id": 2, "other": 1}]), io.StringIO(), "json")
    with pytest.raises(CommandError, match="row 2 has fields"):
        write_rows(iter([{"id": 1}, {"id": 2, "other": 1}]), out, "csv")


def test_formats_follow_the_extension() -> None:
    allowed = ("jsonl", "csv", "json")
    assert format_for_path("a.JSONL", None, allowed) == "jsonl"
    assert format_for_path("a.ndjson", None, allowed) == "jsonl"
    assert format_for_path("a.csv", None, allowed) == "csv"
    assert format_for_path("a.txt", "json", allowed) == "json"
    with pytest.raises(CommandError, match="extension"):
        format_for_path("a.txt", None, allowed)


ROWS = [{"id": 1, "title": "a, \"b\"", "tags": ["x"], "n": None},
        {"id": 2, "title": "line\nbreak", "tags": [], "n": 2.5}]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_writers_and_readers_round_trip(fmt: str) -> None:
    out = io.StringIO()
    assert write_rows(iter(ROWS), out, fmt) == 2
    caster = CsvCaster({"id": "integer", "tags": "json", "n": "float", "title": "string"})
    back = list(read_rows(io.StringIO(out.getvalue()), fmt, f"rows.{fmt}", caster))
    assert back == ROWS


def test_the_json_reader_streams_an_array_in_small_reads(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.setattr("pydirectus.cli.readers.READ_CHUNK", 3)
    text = json.dumps([{"k": "v" * 10, "n": [1, {"x": "]"}]} for _ in range(20)], indent=1)
    assert len(list(read_rows(io.StringIO(text), "json", "a.json"))) == 20
    assert list(read_rows(io.StringIO(" [ ] "), "json", "a.json")) == []
    for bad, message in (('{"a": 1}', "array"), ("[{}, ]", "no row after it"),
                         ("[{}, {", "row 2 is not JSON"), ("[{} {}]", "','"),
                         ("[{}", "not closed"), ("[1]", "not a JSON object")):
        with pytest.raises(CommandError, match=message):
            list(read_rows(io.StringIO(bad), "json", "a.json"))


def test_the_jsonl_and_csv_readers_name_the_bad_row() -> None:
    with pytest.raises(CommandError, match="row 2 is not JSON"):
        list(read_rows(io.StringIO('{"a": 1}\n\n{oops\n'), "jsonl", "a.jsonl"))
    with pytest.raises(CommandError, match="row 1 has more cells"):
        list(read_rows(io.StringIO("a\n1,2\n"), "csv", "a.csv"))


def test_csv_cells_become_typed_values() -> None:
    caster = CsvCaster({"n": "integer", "b": "boolean", "j": "json", "c": "csv",
                        "f": "float", "s": "string"})
    row = caster({"n": "4", "b": "TRUE", "j": '{"a": 1}', "c": '["x","y"]', "f": "2",
                  "s": "007", "unknown": "x"})
    assert row == {"n": 4, "b": True, "j": {"a": 1}, "c": ["x", "y"], "f": 2.0, "s": "007",
                   "unknown": "x"}
    # A cell the type cannot read goes out as it is, for Directus to judge that row.
    assert caster({"n": "four", "b": "maybe", "s": ""}) == {"n": "four", "b": "maybe",
                                                            "s": None}


def test_the_table_fits_and_truncates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    out = io.StringIO()
    write_rows(iter([{"id": 1, "text": "x" * 100, "more": "y" * 50}]), out, "table")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and all(len(line) <= 30 for line in lines)
    assert lines[2].endswith("…")


def test_batches_split_on_size_and_repeated_upsert_keys() -> None:
    rows = [{"sku": s} for s in ("a", "b", "a", "c", "d", "e")]
    outcome = Outcome()
    sizes = [[n for n, _ in batch] for batch in _batches(rows, RowSet([(4, 4)]), 3, "sku", outcome)]
    assert sizes == [[1, 2], [3, 5, 6]]
    assert outcome.skipped == 1
    plain = [[n for n, _ in b] for b in _batches(rows, RowSet(), 4, None, Outcome())]
    assert plain == [[1, 2, 3, 4], [5, 6]]


def test_the_report_records_ranges_and_resumes_from_them(tmp_path: Any) -> None:
    path = tmp_path / "report.jsonl"
    with path.open("w") as handle:
        report = Report(handle)
        report.written([5, 1, 2, 3, 7], "created")
        report.refused(4, "FAILED_VALIDATION", "bad")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e.get("rows") for e in lines] == [[1, 3], [5, 5], [7, 7], None]
    done = written_rows(str(path))
    assert [n for n in range(10) if n in done] == [1, 2, 3, 5, 7] and len(done) == 5
    assert len(written_rows(str(tmp_path / "none.jsonl"))) == 0
    merged = RowSet([(5, 9), (1, 3), (4, 4), (20, 20), (8, 12)])
    assert [n for n in range(25) if n in merged] == [*range(1, 13), 20]
    path.write_text("not a report\n")
    with pytest.raises(CommandError, match="line 1"):
        written_rows(str(path))


def test_every_command_has_examples_and_the_parser_loads_no_client() -> None:
    code = ("import sys; from pydirectus.cli import build_parser; build_parser(); "
            "print([m for m in ('requests', 'pydirectus.client', 'pydirectus.typegen') "
            "if m in sys.modules])")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"
    parser = build_parser()
    assert "examples:" in (parser.epilog or "")


def test_argument_errors_are_one_line_with_status_2(capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["query"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "see pydirectus query --help" in err


def test_a_sort_key_may_begin_with_a_dash(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DIRECTUS_URL", raising=False)
    assert main(["query", "articles", "--sort", "-views"]) == 2
    assert "no server: pass --url or set DIRECTUS_URL" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydirectus.cli.progress import Progress

    quiet = io.StringIO()
    monkeypatch.setattr(sys, "stderr", quiet)
    with Progress("import things", 10) as progress:
        progress.update(4)
    assert quiet.getvalue() == "" and progress.done == 4
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with Progress("import things", 10) as progress:
        progress.update(10)
    assert "import things" in terminal.getvalue()
    # Without tqdm, a plain counter on the same line.
    monkeypatch.setitem(sys.modules, "tqdm", None)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with Progress("export things") as progress:
        progress.update(3)
    assert "export things: 3 rows" in terminal.getvalue()
    disabled = _Terminal()
    monkeypatch.setattr(sys, "stderr", disabled)
    with Progress("export things", enabled=False) as progress:
        progress.update(3)
    assert disabled.getvalue() == ""


def test_command_and_schema_errors_are_caught_as_directus_errors() -> None:
    from pydirectus.errors import DirectusError, UsageError
    from pydirectus.typegen import SchemaError, generate_models

    with pytest.raises(DirectusError) as bad_condition:
        parse_condition("views")
    assert type(bad_condition.value) is CommandError
    assert isinstance(bad_condition.value, UsageError)
    with pytest.raises(DirectusError) as bad_schema:
        generate_models({"collections": "nope"})
    assert type(bad_schema.value) is SchemaError
    assert isinstance(bad_schema.value, ValueError)  # as before: callers catching ValueError


def test_a_schema_error_is_one_line_with_status_1(tmp_path: Any,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = tmp_path / "schema.json"
    snapshot.write_text(json.dumps({"collections": "nope", "fields": [], "relations": []}))
    assert main(["types", "--from", str(snapshot)]) == 1
    err = capsys.readouterr().err
    assert err == ("pydirectus types: error: schema: 'collections' must be a list of objects, "
                   "as in GET /schema/snapshot\n")


def test_a_bad_row_stops_an_import_with_its_own_message(tmp_path: Any,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    # The bad row comes before the first batch is full, so nothing is sent (port 9 is shut):
    # the reader's CommandError (a DirectusError now) must not be reworded as a refusal.
    source = tmp_path / "rows.jsonl"
    source.write_text('{"title": "a"}\n{nope\n')
    status = main(["import", "things", str(source), "--url", "http://127.0.0.1:9",
                   "--token", "t"])
    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith(f"pydirectus import: error: {source}: row 2 is not JSON (")
    assert err.count("\n") == 1 and "stopped after writing" not in err
