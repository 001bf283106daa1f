"""Every field type gives the same Python types to every token, on the session's database.

One collection with a field of each Directus type (and a singleton with the same fields),
read by the admin, an API-only user (a policy without app access: it may not read
``/fields``, so the client learns the types from ``/server/specs/oas``) and the Public
policy: item reads, ``get``, the singleton, aggregates and grouped aggregates, the seed
methods, and file records through ``client.files`` and ``read_file``/``read_files``. The
one difference left is the database's own: Directus on SQLite makes a decimal field a
float column (``GET /fields`` says "float"), so there it reads as ``float``.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from pydirectus import DirectusClient
from pydirectus.testing.access import AccessGrants
from pydirectus.testing.collections import unique_name

from .type_names import type_names

FIELDS = {"small": "integer", "big": "bigInteger", "ratio": "float", "price": "decimal",
          "flag": "boolean", "label": "string", "body": "text", "ident": "uuid",
          "data": "json", "tags": "csv", "day": "date", "moment": "dateTime",
          "clock": "time", "stamp": "timestamp"}
ROWS = [
    {"small": 7, "big": 2**40 + 5, "ratio": 1.5, "price": "12.50", "flag": True,
     "label": "007", "body": "long text", "ident": "8cbb43fe-4cdf-4991-8352-c461779cec02",
     "data": {"k": [1, 2], "n": None}, "tags": ["a", "b"], "day": "2024-02-29",
     "moment": "2024-02-29T12:30:00", "clock": "12:30:00",
     "stamp": "2024-02-29T12:30:00.000Z"},
    {"small": 3, "big": 24252243, "ratio": 2.25, "price": "3.10", "flag": False,
     "label": "x", "body": "", "ident": "0b0e6f4e-8f2a-4a47-9a55-3b0f3b3c3a11",
     "data": [1, "two"], "tags": ["c"], "day": "2023-01-01",
     "moment": "2023-01-01T00:00:00", "clock": "00:00:01",
     "stamp": "2023-01-01T00:00:00.000Z"},
    dict.fromkeys(FIELDS),
]
NUMBERS = ["small", "big", "ratio", "price"]


def _decimal(database: str) -> str:
    # Directus on SQLite makes a decimal field a float column (GET /fields says "float").
    return "float" if database == "sqlite" else "Decimal"


def _item_types(database: str) -> dict[str, Any]:
    return {"id": "int", "small": "int", "big": "int", "ratio": "float",
            "price": _decimal(database), "flag": "bool", "label": "str", "body": "str",
            "ident": "str", "data": {"k": ["int", "int"], "n": "NoneType"},
            "tags": ["str", "str"], "day": "str", "moment": "str", "clock": "str",
            "stamp": "str"}


@pytest.fixture
def matrix(directus_client: DirectusClient) -> Iterator[dict[str, Any]]:
    """A collection with every field type (three rows) and a singleton like it, readable by
    an API-only token and by Public (read only, on these collections and the files)."""
    admin = directus_client
    name, single = unique_name("kinds"), unique_name("single")
    admin.schema.define(name, FIELDS)
    admin.schema.define(single, FIELDS, singleton=True)
    admin.collection(name).create_many(ROWS)
    admin.singleton(single).update(ROWS[0])
    grants = AccessGrants(admin)
    try:
        readable = {name: "read", single: "read", "directus_files": "read"}
        yield {"name": name, "single": single, "clients": {
            "admin": admin, "api": grants.api_client(readable),
            "public": grants.public_client(readable)}}
    finally:
        grants.revoke()
        admin.schema.drop(name, single)


def test_items_get_and_singletons_have_one_set_of_types(matrix: dict[str, Any],
                                                       directus: Any) -> None:
    expected = _item_types(directus.database)
    answers: dict[str, Any] = {}
    for label, client in matrix["clients"].items():
        handle = client.collection(matrix["name"])
        items = handle.sort("id").all()
        assert type_names(items[0]) == expected, label
        assert items[2] == {"id": items[2]["id"], **dict.fromkeys(FIELDS)}, label
        one = handle.get(items[0]["id"])
        assert one == items[0], label
        assert client.read_item(matrix["name"], items[0]["id"]) == one, label
        assert client.read_items(matrix["name"], {"sort": ["id"]}) == items, label
        single = client.singleton(matrix["single"]).get()
        assert type_names(single) == expected, label
        assert client.collection(matrix["single"]).fetch() == single, label
        assert type_names(handle.fields(*NUMBERS).filter(small=3).first()) == {
            "small": "int", "big": "int", "ratio": "float", "price": _decimal(
                directus.database)}, label
        answers[label] = (items, single)
    assert answers["api"] == answers["admin"]
    assert answers["public"] == answers["admin"]
    items, single = answers["admin"]
    assert items[0]["big"] == 2**40 + 5 and items[1]["big"] == 24252243
    price = 12.5 if directus.database == "sqlite" else Decimal("12.50")
    assert items[0]["price"] == price and single["price"] == price
    assert items[0]["flag"] is True and items[1]["flag"] is False
    assert items[0]["data"] == {"k": [1, 2], "n": None} and items[1]["data"] == [1, "two"]


def test_aggregates_are_typed_by_the_field_they_aggregate(matrix: dict[str, Any],
                                                         directus: Any) -> None:
    dec = _decimal(directus.database)
    expected = {
        "count": "int",
        "countDistinct": {"label": "int", "small": "int"},
        "sum": {"small": "int", "big": "int", "ratio": "float", "price": dec},
        "avg": {"small": "float", "big": "float", "ratio": "float", "price": dec},
        "min": {"small": "int", "big": "int", "ratio": "float", "price": dec},
        "max": {"small": "int", "big": "int", "ratio": "float", "price": dec},
    }
    answers = {}
    for label, client in matrix["clients"].items():
        handle = client.collection(matrix["name"])
        (row,) = handle.aggregate(count="*", countDistinct=["label", "small"], sum=NUMBERS,
                                  avg=NUMBERS, min=NUMBERS, max=NUMBERS).fetch()
        assert type_names(row) == expected, label
        groups = handle.aggregate(count="*", sum=["big", "price"]).group_by("label").sort(
            "label").fetch()
        # Where NULL sorts is the database's own (documented): find the group by its label.
        (x,) = [group for group in groups if group["label"] == "x"]
        assert type_names(x) == {"label": "str", "count": "int",
                                      "sum": {"big": "int", "price": dec}}, label
        assert handle.count() == 3, label
        answers[label] = (row, groups)
    assert answers["api"] == answers["admin"] == answers["public"]
    row, groups = answers["admin"]
    assert row["count"] == 3 and row["countDistinct"] == {"label": 2, "small": 2}
    assert row["sum"]["big"] == 2**40 + 5 + 24252243 and row["sum"]["small"] == 10
    assert row["avg"]["small"] == 5.0 and row["min"]["ratio"] == 1.5
    assert row["max"]["big"] == 2**40 + 5
    if directus.database != "sqlite":
        assert row["sum"]["price"] == Decimal("15.60")
        assert row["avg"]["price"] == Decimal("7.80")
    assert sorted(groups, key=lambda g: g["label"] or "") == [
        {"label": None, "count": 1, "sum": {"big": None, "price": None}},
        {"label": "007", "count": 1, "sum": {"big": 2**40 + 5, "price": row["max"]["price"]}},
        {"label": "x", "count": 1, "sum": {"big": 24252243, "price": row["min"]["price"]}}]


def _png(width: int, height: int) -> bytes:
    """Return a tiny valid PNG (grey pixels), so Directus records its width and height."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height,
                                                              8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_file_records_have_one_set_of_types_on_every_route(matrix: dict[str, Any]) -> None:
    admin = matrix["clients"]["admin"]
    image = admin.files.upload(_png(3, 2), filename=f"{unique_name('px')}.png",
                               content_type="image/png")
    try:
        numbers = {"filesize": "int", "width": "int", "height": "int", "duration": "NoneType"}
        answers = {}
        for label, client in matrix["clients"].items():
            records = {
                "files.get": client.files.get(image["id"]),
                "read_file": client.read_file(image["id"]),
                "files.filter": client.files.filter(id=image["id"]).first(),
                "read_files": client.read_files({"filter": {"id": {"_eq": image["id"]}}})[0],
            }
            for route, record in records.items():
                assert type_names({k: record[k] for k in numbers}) == numbers, (label, route)
                assert (record["width"], record["height"]) == (3, 2), (label, route)
                assert record == records["files.get"], (label, route)
            (row,) = client.files.filter(id=image["id"]).aggregate(
                sum="filesize", max=["width", "height"]).fetch()
            assert type_names(row) == {"sum": {"filesize": "int"},
                                   "max": {"width": "int", "height": "int"}}, label
            answers[label] = records["files.get"]["filesize"]
        assert answers["api"] == answers["admin"] == answers["public"] == image["filesize"]
    finally:
        admin.files.delete(image["id"])
