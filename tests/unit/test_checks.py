"""The shared validators (pydirectus.checks) and the one atomic file write (pydirectus.atomic)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from pydirectus.atomic import write_atomically
from pydirectus.checks import (
    check_bool,
    check_int_range,
    check_params,
    check_positive_int,
    check_query,
    check_uuid,
)
from pydirectus.errors import InvalidQuery, UsageError

UUID = "6b3c5f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.mark.parametrize("value", [0, -1, True, 1.0, "1", None])
def test_positive_ints_refuse_bools_floats_and_zero(value: Any) -> None:
    with pytest.raises(UsageError, match="batch_size: expected a positive int") as caught:
        check_positive_int(value, "batch_size")
    assert not isinstance(caught.value, InvalidQuery)
    assert check_positive_int(3, "batch_size") == 3


def test_int_ranges_and_bools() -> None:
    assert check_int_range(500, "length", 1, 500) == 500
    with pytest.raises(UsageError, match="length: expected an int from 1 to 500, got 501"):
        check_int_range(501, "length", 1, 500)
    assert check_bool(False, "download") is False
    with pytest.raises(UsageError, match="download: expected True or False, got 1"):
        check_bool(1, "download")


def test_uuids_come_back_canonical() -> None:
    assert check_uuid(UUID.upper(), "id") == UUID
    assert check_uuid(UUID.replace("-", ""), "id") == UUID
    for bad in ("42", "", None, 42, UUID + "0"):
        with pytest.raises(UsageError, match="id: expected a UUID"):
            check_uuid(bad, "id")


def test_params_are_strings_and_numbers() -> None:
    assert check_params({"a": "x", "n": 2, "f": 1.5}) == {"a": "x", "n": "2", "f": "1.5"}
    for bad in ({"a": True}, {"a": None}, {"a": [1]}, {1: "x"}, ["a"]):
        with pytest.raises(UsageError, match="params"):
            check_params(bad)


def test_a_bad_query_is_an_invalid_query() -> None:
    with pytest.raises(InvalidQuery, match="query: expected a dict or a Query"):
        check_query(["limit", 1])


def test_an_atomic_write_replaces_the_file_keeping_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    assert write_atomically(path, lambda out: out.write("a\nb"), encoding="utf-8") == 3
    assert path.read_bytes() == b"a\nb"
    os.chmod(path, 0o600)
    write_atomically(str(path), lambda out: out.write(b"\x00bytes"))
    assert path.read_bytes() == b"\x00bytes"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_failed_atomic_write_leaves_the_file_and_no_partial(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("before")

    def fail_half_way(out: Any) -> None:
        out.write("half")
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        write_atomically(path, fail_half_way, encoding="utf-8")
    with pytest.raises(LookupError):
        write_atomically(path, lambda out: None, encoding="no-such-codec")
    assert path.read_text() == "before"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
