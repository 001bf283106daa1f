"""orjson (the fast extra) encodes and decodes exactly as json does, or json takes over."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pydirectus import encoding
from pydirectus.encoding import UNDECODED, encode_bytes, fast_loads


@pytest.fixture(scope="module")
def fast() -> Iterator[None]:
    """orjson on, even in a run that turned it off with PYDIRECTUS_NO_ORJSON."""
    with pytest.MonkeyPatch.context() as patch:
        orjson = importlib.import_module("orjson")
        patch.setattr(encoding, "_ORJSON", orjson)
        patch.setattr(encoding, "_ORJSON_OPTIONS",
                      orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                      | orjson.OPT_STRICT_INTEGER)
        yield


def outcome(encode: Callable[[], bytes]) -> tuple[Any, ...]:
    try:
        return ("ok", encode())
    except Exception as exc:  # the same error type and message both ways
        return ("error", type(exc), str(exc))


class Colour(enum.Enum):
    RED = "red"
    ONE = 1


@dataclasses.dataclass
class Point:
    x: int


scalars = (st.none() | st.booleans() | st.integers() | st.integers(-2**70, 2**70)
           | st.floats() | st.floats(allow_nan=False, allow_infinity=False, width=32)
           | st.text() | st.text(st.characters(codec=None, max_codepoint=0xFFFF))
           | st.datetimes(timezones=st.none() | st.timezones()) | st.dates() | st.times()
           | st.decimals() | st.uuids() | st.sampled_from(list(Colour)))
values = st.recursive(
    scalars,
    lambda inner: (st.lists(inner, max_size=4) | st.tuples(inner, inner)
                   | st.frozensets(st.integers() | st.text(max_size=3), max_size=4)
                   | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=4)),
    max_leaves=12)


@given(values)
@example(float("nan"))
@example([1e-7, 1e16, -0.0, 5e-324])
@example({"a": None, "b": "null"})
@example("\ud800")
@example(Point(1))
@example({1: "int key", None: "none key"})
@example(2**64)
@example(dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(seconds=1))))
def test_orjson_writes_the_bytes_json_writes(fast: None, value: Any) -> None:
    assert outcome(lambda: encode_bytes(value)) == outcome(
        lambda: encoding._dumps(value, ""))
    if outcome(lambda: encode_bytes(value))[0] == "ok":
        assert encoding.dumps(value) == encoding._dumps(value, "").decode()


json_texts = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(-2**80, 2**80) | st.floats()
    | st.text() | st.text(st.characters(codec=None, max_codepoint=0xFFFF)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=4),
    max_leaves=12).flatmap(lambda v: st.sampled_from([
        json.dumps(v), json.dumps(v, ensure_ascii=False, separators=(",", ":"))]))


@given(json_texts)
@example('{"a": 1, "a": 2}')
@example("[1E400, -1e400, 1.0000000000000002]")
@example('"\\ud800"')
@example("NaN")
def test_orjson_reads_what_json_reads(fast: None, text: str) -> None:
    content = text.encode("utf-8", "surrogatepass")
    decoded = fast_loads(content)
    if decoded is UNDECODED:
        return  # the transport then decodes with json, as without orjson
    assert repr(decoded) == repr(json.loads(text))


def test_orjson_declines_what_json_must_decide(fast: None) -> None:
    assert fast_loads(b"NaN") is UNDECODED
    assert fast_loads(b"[18446744073709551616]") is UNDECODED
    assert fast_loads(b"not json") is UNDECODED
    assert fast_loads(b'{"data": [1, "\xc3\xa9"]}') == {"data": [1, "é"]}


def test_a_large_body_is_left_to_json_for_its_memory(fast: None) -> None:
    # orjson's working memory is about 13x the body; json's about 2x.
    body = json.dumps({"data": ["x" * 1000] * 100}).encode()
    assert len(body) > encoding.FAST_LOADS_MAX
    assert fast_loads(body) is UNDECODED
    small = json.dumps({"data": ["x" * 1000] * 10}).encode()
    assert fast_loads(small) == json.loads(small)


def test_compact_json_keeps_long_ints_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    # It spells values read (for a DataFrame's json column), not a request body.
    value = {"big": 2**60 + 1, "huge": 2**70}
    assert encoding.compact_json(value) == json.dumps(value, separators=(",", ":")).encode()
    monkeypatch.setattr(encoding, "_ORJSON", None)
    assert encoding.compact_json(value) == json.dumps(value, separators=(",", ":")).encode()


def test_without_orjson_json_does_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoding, "_ORJSON", None)
    assert fast_loads(b"{}") is UNDECODED
    assert encode_bytes({"a": [1, None]}) == b'{"a":[1,null]}'


def test_the_environment_variable_turns_orjson_off() -> None:
    script = "from pydirectus import encoding; print(encoding.ORJSON)"
    env = {**os.environ, "PYDIRECTUS_NO_ORJSON": "1"}
    off = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, check=True)
    env["PYDIRECTUS_NO_ORJSON"] = "0"
    on = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                        text=True, check=True)
    assert (off.stdout.strip(), on.stdout.strip()) == ("False", "True")
