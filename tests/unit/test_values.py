"""pydirectus.values: one set of Python types for what SQLite and PostgreSQL send."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from pydirectus.values import (
    could_change,
    needs_field_types,
    typed_aggregate,
    typed_items,
    typed_value,
)

TYPES = {"n": "integer", "big": "bigInteger", "f": "float", "d": "decimal", "s": "string",
         "when": "dateTime", "ok": "boolean"}


@pytest.mark.parametrize(("kind", "sent", "expected"), [
    ("bigInteger", "24252243", 24252243),        # PostgreSQL
    ("bigInteger", 24252243, 24252243),          # SQLite
    ("bigInteger", "-7", -7),
    ("integer", 3.0, 3),
    ("integer", 3.5, 3.5),                       # not an integer: left alone
    ("integer", "3.5", "3.5"),
    ("decimal", "12.50000", Decimal("12.50000")),
    ("decimal", 12.5, Decimal("12.5")),
    ("decimal", 15.6, Decimal("15.6")),          # repr, not the binary expansion
    ("float", "1.5000000000000000", 1.5),
    ("float", 2.25, 2.25),
    ("float", 2, 2.0),                           # Directus writes 2.0 as 2
    ("float", "2", 2.0),
    ("string", "007", "007"),                    # strings stay strings
    ("dateTime", "2024-01-02T03:04:05", "2024-01-02T03:04:05"),
    ("boolean", True, True),
    ("bigInteger", None, None),
    ("bigInteger", True, True),
    (None, "12", "12"),                          # unknown field: passed through
])
def test_typed_value(kind: str | None, sent: Any, expected: Any) -> None:
    got = typed_value(kind, sent)
    assert got == expected and type(got) is type(expected)


def test_items_are_converted_in_place_by_field_type() -> None:
    item = {"n": 1, "big": "9007199254740993", "d": "0.10", "s": "42", "other": "5",
            "rel": {"big": "1"}}
    assert typed_items(item, TYPES) is item
    assert item == {"n": 1, "big": 9007199254740993, "d": Decimal("0.10"), "s": "42",
                    "other": "5", "rel": {"big": "1"}}
    assert typed_items(item, {}) is item


def test_counts_need_no_schema() -> None:
    row = {"count": "12", "countDistinct": {"s": "3"}, "countAll": 4, "sum": {"n": "6"}}
    assert typed_aggregate(row, {}) == {"count": 12, "countDistinct": {"s": 3},
                                        "countAll": 4, "sum": {"n": "6"}}


def test_aggregates_follow_their_field() -> None:
    row = {"sum": {"n": "6", "big": "99", "d": "1.50", "f": 3.5},
           "avg": {"n": "1.5000000000000000", "d": "0.75000", "f": 1.75},
           "avgDistinct": {"n": 2},
           "min": {"big": "1", "when": "2024-01-01T00:00:00"},
           "max": {"s": "zz"},
           "s": "group value", "big": "7"}
    assert typed_aggregate({"sum": {"f": 4}, "max": {"f": 2}, "avg": {"f": 2}}, TYPES) == {
        "sum": {"f": 4.0}, "max": {"f": 2.0}, "avg": {"f": 2.0}}
    whole = typed_aggregate({"sum": {"f": 4}}, TYPES)["sum"]["f"]
    assert type(whole) is float
    assert typed_aggregate(row, TYPES) == {
        "sum": {"n": 6, "big": 99, "d": Decimal("1.50"), "f": 3.5},
        "avg": {"n": 1.5, "d": Decimal("0.75000"), "f": 1.75},
        "avgDistinct": {"n": 2.0},
        "min": {"big": 1, "when": "2024-01-01T00:00:00"},
        "max": {"s": "zz"},
        "s": "group value", "big": 7}
    assert type(row["avgDistinct"]["n"]) is float


@pytest.mark.parametrize(("rows", "needed"), [
    ([{"id": 1, "title": "x", "views": 3}], False),   # nothing could change: no request
    ([{"id": 1, "title": "x"}, {"big": "123"}], True),
    ({"price": 1.5}, True),
    ([{"count": 3, "sum": {"n": 6}}], False),
    ([{"sum": {"n": "6"}}], True),
    ([{"avg": {"n": 1.5}}], True),
    ([{"avg": {"n": 108}}], True),          # a whole average from SQLite must become float
    ([{"avgDistinct": {"n": 2}}], True),
    ([{"title": "12 monkeys"}], False),
    (None, False),
])
def test_field_types_are_fetched_only_when_a_value_could_change(rows: Any,
                                                                needed: bool) -> None:
    assert needs_field_types(rows) is needed


@pytest.mark.parametrize(("items", "changes"), [
    ([{"id": 1, "title": "x", "views": 3}] * 3, False),       # integers and text: no request
    ([{"id": 1, "n": None}, {"id": 2, "n": "123"}], True),    # bigint text from PostgreSQL
    ([{"id": 1, "n": 2}, {"id": 2, "n": 2.5}], True),         # a decimal on SQLite
    ([{"price": 1.5}], True),
    ({"price": "9.90"}, True),                                 # one item (get, a singleton)
    ([{"title": "abc"}, {"title": "123"}], False),             # text settles its column
    ([{"n": "NaN"}, {"n": "1.5"}], True),                      # NaN does not settle it
    ([{"ok": True, "tags": ["1"], "rel": {"big": "1"}}], False),  # nested values never change
    ([{"id": 1}, {"id": 2, "big": "7"}], True),                # rows of other shapes
    ([], False),
    (None, False),
])
def test_could_change_reads_column_by_column(items: Any, changes: bool) -> None:
    assert could_change(items) is changes


def test_typed_items_converts_numeric_columns_only() -> None:
    rows = [{"n": 1, "big": "9007199254740993", "d": 0.1, "f": "2.5", "s": "42", "rel": None},
            {"n": None, "big": None, "d": "1.10", "f": 3, "s": "x", "rel": {"big": "1"}}]
    assert typed_items(rows, TYPES) is rows
    assert rows == [
        {"n": 1, "big": 9007199254740993, "d": Decimal("0.1"), "f": 2.5, "s": "42", "rel": None},
        {"n": None, "big": None, "d": Decimal("1.10"), "f": 3.0, "s": "x", "rel": {"big": "1"}}]
    assert type(rows[1]["f"]) is float  # a whole float, sent as 2 by JavaScript
    one = {"big": "5"}
    assert typed_items(one, TYPES) is one and one == {"big": 5}
    assert typed_items([{"n": 1}], {}) == [{"n": 1}]
