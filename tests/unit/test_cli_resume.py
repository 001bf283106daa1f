"""Reading an import report back: which batches are still in flight, and what they carry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pydirectus.cli.import_ import Report, RowSet, written_rows
from pydirectus.cli.resume import content_filter, cut_unfinished_line, ranges, read_in_flight
from pydirectus.errors import CommandError


def write_report(path: Path, build: Any) -> None:
    with path.open("a") as handle:
        build(Report(handle))


def test_a_batch_is_in_flight_until_an_entry_after_it_covers_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "report.jsonl"

    def first_run(report: Report) -> None:
        report.in_flight([1, 2, 3, 4], "created", size=4, count_before=10)
        report.written([1, 2, 3, 4], "created")
        # A batch refused as a whole, split in halves: row 5 refused, 6 written, 7-8 sent
        # when the run was killed.
        report.in_flight([5, 6, 7, 8], "created", size=4, count_before=14)
        report.in_flight([5, 6], "created", size=2, count_before=14)
        report.refused(5, "FAILED_VALIDATION", "bad")
        report.in_flight([6], "created", size=1, count_before=14)
        report.written([6], "created")
        report.in_flight([7, 8], "created", size=2, count_before=15, primary_key="id",
                         keys=[70, 80])

    write_report(path, first_run)
    [flight] = read_in_flight(str(path))
    assert (flight.rows, flight.size, flight.count_before, flight.last) == ((7, 8), 2, 15, True)
    assert flight.keys == {7: 70, 8: 80} and flight.primary_key == "id"
    assert flight.described() == "rows 7-8"
    # Settled: row 7 landed, row 8 did not; nothing is in flight any more.
    write_report(path, lambda report: (report.written([7], "created"),
                                       report.not_landed([8])))
    assert read_in_flight(str(path)) == []
    assert [n for n in range(10) if n in written_rows(str(path))] == [1, 2, 3, 4, 6, 7]


def test_the_in_flight_entry_reaches_the_disk_before_the_request(tmp_path: Path,
                                                                 monkeypatch: Any) -> None:
    synced: list[int] = []
    monkeypatch.setattr("os.fsync", synced.append)
    path = tmp_path / "report.jsonl"
    with path.open("a") as handle:
        report = Report(handle)
        report.in_flight([3, 1, 2, 9], "created", size=4, count_before=None)
        assert len(synced) == 1
        report.written([1, 2, 3, 9], "created")
        assert len(synced) == 1  # a lost "written" entry is settled on resume instead
    entry = json.loads(path.read_text().splitlines()[0])
    assert entry == {"status": "in_flight", "action": "created", "rows": [[1, 3], [9, 9]],
                     "size": 4}


def test_content_filters_compare_plain_values_only() -> None:
    assert content_filter({"title": "a", "views": None, "data": {"x": 1}, "tags": [1]}) == {
        "_and": [{"title": {"_eq": "a"}}, {"views": {"_null": True}}]}
    assert content_filter({"n": 1}) == {"n": {"_eq": 1}}
    assert content_filter({"data": {"x": 1}}) is None
    assert ranges([5, 1, 2, 3, 7, 8]) == [[1, 3], [5, 5], [7, 8]]
    assert [n for n in range(12) if n in RowSet([(1, 2)]).union([5, 3, 10])] == [1, 2, 3, 5, 10]


def test_an_unreadable_report_is_named(tmp_path: Path) -> None:
    path = tmp_path / "report.jsonl"
    path.write_text('{"status": "in_flight", "rows": "nonsense"}\n')
    with pytest.raises(CommandError, match="is it an import report"):
        read_in_flight(str(path))
    assert read_in_flight(str(tmp_path / "none.jsonl")) == []


def test_a_line_the_report_never_finished_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "report.jsonl"
    whole = '{"status": "written", "action": "created", "rows": [1, 4]}\n'
    path.write_text(whole + '{"status": "in_flight", "action": "cre')
    cut_unfinished_line(str(path))
    assert path.read_text() == whole
    cut_unfinished_line(str(path))
    assert path.read_text() == whole
    path.write_text('{"status": "in_f')
    cut_unfinished_line(str(path))
    assert path.read_text() == ""
    cut_unfinished_line(str(tmp_path / "none.jsonl"))
