"""The one JSON encoder for filter values and write data (pydirectus.encoding)."""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydirectus import Query
from pydirectus.encoding import convert, dumps, to_json
from pydirectus.errors import InvalidQuery
from pydirectus.multipart import _field_text

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_plain_json_encodes_as_json_does(value: Any) -> None:
    assert dumps(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert to_json(value) == value


class Colour(enum.Enum):
    RED = "red"
    NESTED = (1, 2)


class Size(enum.IntEnum):
    L = 3


CONVERSIONS = [
    (dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
     "2024-01-02T03:04:05+05:30"),
    (dt.datetime(2024, 1, 2, 3, 4, 5, 6), "2024-01-02T03:04:05.000006"),   # naive stays naive
    (dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc), "2024-01-02T00:00:00+00:00"),
    (dt.date(2024, 2, 29), "2024-02-29"),
    (dt.time(23, 59, 1), "23:59:01"),
    (Decimal("12345678901234567890.123456789"), "12345678901234567890.123456789"),
    (Decimal("1E+3"), "1E+3"),
    (uuid.UUID("12345678-1234-5678-1234-567812345678"), "12345678-1234-5678-1234-567812345678"),
    (Colour.RED, "red"),
    (Colour.NESTED, [1, 2]),
    (Size.L, 3),
    ((1, "a"), [1, "a"]),
    ({3, 1, 2}, [1, 2, 3]),
    (frozenset({"b", "a"}), ["a", "b"]),
    ({"x": {dt.date(2024, 1, 1)}}, {"x": ["2024-01-01"]}),
]


@pytest.mark.parametrize(("value", "expected"), CONVERSIONS)
def test_conversions(value: Any, expected: Any) -> None:
    assert to_json(value) == expected
    assert json.loads(dumps(value)) == expected
    assert json.loads(dumps({"k": [value]})) == {"k": [expected]}


def test_a_set_of_mixed_types_still_encodes() -> None:
    assert sorted(map(str, to_json({1, "a"}))) == ["1", "a"]


@pytest.mark.parametrize(("value", "path", "words"), [
    (math.nan, "", "nan is not valid JSON"),
    ({"a": [0, math.inf]}, "a[1]", "inf"),
    ({"a": {"b": -math.inf}}, "a.b", "-inf"),
    ({"price": Decimal("NaN")}, "price", "not a JSON number"),
    ({"price": Decimal("-Infinity")}, "price", "not a JSON number"),
    ({"blob": b"x"}, "blob", "unsupported value type bytes"),
    ({"when": object()}, "when", "unsupported value type object"),
    ({"gen": (x for x in [1])}, "gen", "unsupported value type generator"),
    ([{"ok": 1}, {"bad": {"deep": {1j}}}], "[1].bad.deep[0]", "complex"),
])
def test_anything_else_names_its_key_path(value: Any, path: str, words: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        dumps(value)
    message = str(caught.value)
    assert (f"value at {path!r}" if path else "value:") in message and words in message


def test_keys_must_be_strings() -> None:
    with pytest.raises(InvalidQuery, match=r"key \(1, 2\)"):
        dumps({"a": {(1, 2): 1}})
    assert to_json({1: "a"}) == {"1": "a"}


def test_cycles_are_named_not_a_recursion_error() -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(InvalidQuery, match=r"'root\[0\]\.self': refers to itself"):
        dumps({"root": [loop]})
    shared = [1]
    assert dumps({"a": shared, "b": shared}) == '{"a":[1],"b":[1]}'  # shared is not a cycle


def test_a_failed_encode_leaves_no_state_behind() -> None:
    value = {"a": [1, 2]}
    with pytest.raises(InvalidQuery):
        dumps({"x": value, "bad": math.nan})
    assert dumps(value) == '{"a":[1,2]}'


def test_convert_is_one_level() -> None:
    assert convert({"b", "a"}) == ["a", "b"]
    with pytest.raises(InvalidQuery, match="unsupported value type list"):
        convert([1])


def test_filter_values_and_write_data_encode_alike() -> None:
    value = dt.datetime(2024, 5, 6, 7, 8, tzinfo=dt.timezone.utc)
    params = Query().filter(at__gte=value, price=Decimal("0.10"), tag__in={"b", "a"},
                            colour=Colour.RED).to_params()
    assert json.loads(params["filter"]) == {"_and": [
        {"at": {"_gte": to_json(value)}}, {"price": {"_eq": "0.10"}},
        {"tag": {"_in": ["a", "b"]}}, {"colour": {"_eq": "red"}}]}


def test_upload_fields_use_the_same_encoder() -> None:
    assert _field_text("data['taken']", dt.date(2024, 1, 2)) == "2024-01-02"
    assert _field_text("data['meta']", {"at": dt.date(2024, 1, 2)}) == '{"at":"2024-01-02"}'
    assert _field_text("data['n']", 3) == "3"
    with pytest.raises(InvalidQuery, match="data\\['score'\\]"):
        _field_text("data['score']", math.nan)
