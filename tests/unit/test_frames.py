"""Rows to Arrow columns: every database's spelling of a value lands in the column's type."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from pydirectus import UsageError
from pydirectus.core.columns import Column
from pydirectus.frames import arrow_schema, record_batch, to_pandas, to_polars

UTC = dt.timezone.utc


def _column(kind: str | None, rows: list[dict[str, Any]], **shape: Any) -> list[Any]:
    columns = [Column("v", ("v",), kind, **shape)]
    batch = record_batch(rows, columns, arrow_schema(columns))
    return list(batch.column(0).to_pylist())


@pytest.mark.parametrize(("kind", "sent", "read"), [
    # PostgreSQL's bigint and numeric text, SQLite's float for a decimal.
    ("bigInteger", ["9007199254740993", 5, None], [9007199254740993, 5, None]),
    ("integer", [3.0, "-4"], [3, -4]),
    ("float", ["1.5", 2], [1.5, 2.0]),
    ("decimal", ["12.50", 3.1, Decimal("7"), None],
     [Decimal("12.50"), Decimal("3.1"), Decimal("7"), None]),
    # SQLite's and MariaDB's booleans.
    ("boolean", [1, 0, None, "true", "0"], [True, False, None, True, False]),
    ("date", ["2024-02-29", "2024-02-29T00:00:00"], [dt.date(2024, 2, 29)] * 2),
    ("dateTime", ["2024-02-29T12:30:00", "2024-02-29 12:30:00.250"],
     [dt.datetime(2024, 2, 29, 12, 30), dt.datetime(2024, 2, 29, 12, 30, 0, 250000)]),
    # A dateTime sent with an offset is that moment's UTC wall-clock time.
    ("dateTime", ["2024-02-29T12:30:00+02:00"], [dt.datetime(2024, 2, 29, 10, 30)]),
    ("timestamp", ["2024-02-29T12:30:00.000Z", "2024-02-29T14:30:00+02:00",
                   "2024-02-29T12:30:00"], [dt.datetime(2024, 2, 29, 12, 30, tzinfo=UTC)] * 3),
    ("time", ["12:30:00", "00:00:01.5", None],
     [dt.time(12, 30), dt.time(0, 0, 1, 500000), None]),
    ("csv", [["a", "b"], "c,d", None], [["a", "b"], ["c", "d"], None]),
    ("json", [{"k": [1, None]}, "text", 3, None], ['{"k":[1,null]}', '"text"', "3", None]),
    # Text columns keep text; anything else (an unknown key, a geometry) as JSON text.
    ("uuid", ["8cbb43fe-4cdf-4991-8352-c461779cec02"],
     ["8cbb43fe-4cdf-4991-8352-c461779cec02"]),
    (None, ["x", 42, {"type": "Point"}], ["x", "42", '{"type":"Point"}']),
])
def test_each_spelling_reads_as_the_column_type(kind: str | None, sent: list[Any],
                                                read: list[Any]) -> None:
    assert _column(kind, [{"v": value} for value in sent]) == read


def test_decimal_precision_and_scale_come_from_the_field() -> None:
    columns = [Column("a", ("a",), "decimal", 12, 3), Column("b", ("b",), "decimal"),
               Column("c", ("c",), "decimal", 50, 4)]
    schema = arrow_schema(columns)
    assert [f.type for f in schema] == [pa.decimal128(12, 3), pa.decimal128(38, 9),
                                        pa.decimal256(50, 4)]
    with pytest.raises(UsageError, match=r"column 'v' \(Directus type decimal\)"):
        _column("decimal", [{"v": "1.23456"}], precision=6, scale=2)


def test_nested_paths_and_missing_keys_read_as_null() -> None:
    columns = [Column("author.rank", ("author", "rank"), "bigInteger"),
               Column("title", ("title",), "string")]
    rows = [{"author": {"rank": "17"}, "title": "a"}, {"author": None}, {"author": 5}]
    batch = record_batch(rows, columns, arrow_schema(columns))
    assert batch.to_pylist() == [{"author.rank": 17, "title": "a"},
                                 {"author.rank": None, "title": None},
                                 {"author.rank": None, "title": None}]


def test_a_value_the_column_cannot_hold_names_the_column() -> None:
    with pytest.raises(UsageError, match=r"column 'v' \(Directus type integer\)"):
        _column("integer", [{"v": "many"}])
    with pytest.raises(UsageError, match=r"column 'v' \(Directus type boolean\)"):
        _column("boolean", [{"v": "maybe"}])


@pytest.mark.parametrize(("module", "make", "extra"), [
    ("pandas", to_pandas, "pandas"), ("polars", to_polars, "polars"),
    ("pyarrow", to_polars, "arrow")])
def test_a_missing_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch, module: str,
                                               make: Any, extra: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    with pytest.raises(UsageError, match=rf"pip install 'pydirectus\[{extra}\]'"):
        make()
