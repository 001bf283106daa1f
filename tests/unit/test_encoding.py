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
from hypothesis import example, given
from hypothesis import strategies as st

from pydirectus import Query, encoding
from pydirectus.encoding import SAFE_INT_MAX, convert, dumps, encode_bytes, to_json
from pydirectus.errors import InvalidQuery
from pydirectus.multipart import _field_text

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def as_sent(value: Any) -> Any:
    """value with each int past SAFE_INT_MAX made the string of its digits."""
    if isinstance(value, dict):
        return {key: as_sent(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_sent(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > SAFE_INT_MAX:
        return str(value)
    return value


@given(JSON_VALUES)
@example({"big": [2**53, -(2**53), 2**53 - 1, 2**64 + 1, 0.30000000000000004, "12345678901234567"]})
def test_plain_json_encodes_as_json_does(value: Any) -> None:
    sent = as_sent(value)
    assert dumps(value) == json.dumps(sent, separators=(",", ":"), ensure_ascii=False)
    assert to_json(value) == sent


SNOWFLAKE = 2**60 + 1  # a JavaScript number would make it 1152921504606846976


class Snowflake(enum.IntEnum):
    HUGE = SNOWFLAKE


@pytest.mark.parametrize(("value", "expected"), [
    (SAFE_INT_MAX, "9007199254740991"),
    (-SAFE_INT_MAX, "-9007199254740991"),
    (SAFE_INT_MAX + 1, '"9007199254740992"'),
    (-SAFE_INT_MAX - 1, '"-9007199254740992"'),
    ({"big": SNOWFLAKE, "n": 7, "flag": True}, '{"big":"1152921504606846977","n":7,"flag":true}'),
    ([{"id": 1, "big": SNOWFLAKE}, {"id": 2, "big": -SNOWFLAKE}],
     '[{"id":1,"big":"1152921504606846977"},{"id":2,"big":"-1152921504606846977"}]'),
    ((SNOWFLAKE, 1.5), '["1152921504606846977",1.5]'),
    ({SNOWFLAKE, 3}, '[3,"1152921504606846977"]'),  # sorted as ints, then sent
    ({"tag": Snowflake.HUGE}, '{"tag":"1152921504606846977"}'),
    ({SNOWFLAKE: 1}, '{"1152921504606846977":1}'),  # a key is a string either way
    (2**80, '"1208925819614629174706176"'),  # past 64 bits too
])
def test_ints_past_javascripts_safe_range_are_sent_as_their_digits(value: Any,
                                                                    expected: str) -> None:
    assert dumps(value) == expected
    assert encode_bytes(value) == expected.encode()


def test_bodies_without_long_ints_are_never_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    def walked(value: Any, path: str = "") -> Any:
        raise AssertionError("walked")

    monkeypatch.setattr(encoding, "to_json", walked)
    rows = [{"id": 10**15 - 1, "ratio": 0.30000000000000004, "at": dt.date(2024, 1, 2),
             "tiny": 1.2345678901234567e-300}] * 3
    assert json.loads(encode_bytes(rows)) == json.loads(json.dumps(rows, default=str))
    with pytest.raises(AssertionError, match="walked"):
        dumps({"big": SNOWFLAKE})


def test_a_filter_on_a_long_int_compares_its_digits() -> None:
    # Directus refuses a number past its safe range in a filter, and compares a string exactly
    params = Query().filter(big=SNOWFLAKE, ids__in=[SNOWFLAKE, 5]).to_params()
    assert json.loads(params["filter"]) == {"_and": [
        {"big": {"_eq": "1152921504606846977"}},
        {"ids": {"_in": ["1152921504606846977", 5]}}]}


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
    assert _field_text("data['big']", 2**60 + 1) == "1152921504606846977"  # as in a JSON body
    with pytest.raises(InvalidQuery, match="data\\['score'\\]"):
        _field_text("data['score']", math.nan)
