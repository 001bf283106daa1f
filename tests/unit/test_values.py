"""pydirectus.values: one set of Python types for what SQLite and PostgreSQL send."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from pydirectus.values import needs_field_types, typed_aggregate, typed_item, typed_value

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
    assert typed_item(item, TYPES) is item
    assert item == {"n": 1, "big": 9007199254740993, "d": Decimal("0.10"), "s": "42",
                    "other": "5", "rel": {"big": "1"}}
    assert typed_item(item, {}) is item


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
    ([{"title": "12 monkeys"}], False),
    (None, False),
])
def test_field_types_are_fetched_only_when_a_value_could_change(rows: Any,
                                                                needed: bool) -> None:
    assert needs_field_types(rows) is needed
