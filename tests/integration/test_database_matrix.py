"""What must hold on every database the suite runs on (SQLite, PostgreSQL, MariaDB): the
answers differ only where Directus's database does, and then as documented."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from pydirectus import DirectusClient, InvalidQuery, StaticToken
from pydirectus.testing.access import AccessGrants
from pydirectus.testing.dialects import nulls_sort_first, text_key

from .type_names import type_names

ROWS = [
    {"title": "apple", "views": 3, "status": "b"},
    {"title": "Apple", "views": None, "status": "a"},
    {"title": None, "views": 1, "status": "b"},
    {"title": "banana", "views": 3, "status": None},
    {"title": "Banana", "views": None, "status": "a"},
    {"title": "APPLE", "views": 2, "status": "b"},
    {"title": None, "views": None, "status": None},
    {"title": "éclair", "views": 5, "status": "a"},
    {"title": "Zebra", "views": 0, "status": "b"},
    {"title": "apple", "views": 3, "status": "a"},
    {"title": "zebra", "views": -1, "status": None},
]


@pytest.fixture
def fruit(make_collection: Callable[..., str], directus_client: DirectusClient) -> str:
    name = make_collection({"title": "string", "views": "integer", "status": "string"},
                           prefix="fruit")
    directus_client.collection(name).create_many(ROWS)
    return name


@pytest.fixture
def paging_client(directus: Any, make_client: Callable[..., DirectusClient]
                  ) -> Iterator[DirectusClient]:
    # Three items a page: every sort below crosses page boundaries inside runs of NULLs
    # and of equal values.
    with make_client(directus.url, auth=StaticToken(directus.admin_token),
                     page_size=3) as client:
        yield client


def _expected(rows: list[dict[str, Any]], keys: list[str], database: str) -> list[Any]:
    """Sort as the database does: NULLs where it puts them, strings by its collation
    (code points; MariaDB: no case, no accents), id last."""
    def key(row: dict[str, Any]) -> Any:
        return row["id"]

    def value(v: Any) -> Any:
        return text_key(database)(v) if isinstance(v, str) else v

    ordered = sorted(rows, key=key)
    for spec in reversed(keys):
        field, descending = spec.lstrip("-"), spec.startswith("-")
        first = nulls_sort_first(database, descending=descending)
        present = [r for r in ordered if r[field] is not None]
        missing = [r for r in ordered if r[field] is None]
        # Stable sorts, least significant key first (reverse=True keeps ties in order).
        present.sort(key=lambda r, f=field: value(r[f]), reverse=descending)
        ordered = [*missing, *present] if first else [*present, *missing]
    return [r["id"] for r in ordered]


@pytest.mark.parametrize("keys", [
    ["views"], ["-views"], ["title"], ["-title"], ["status", "-views"], ["-status", "title"],
])
def test_iterating_a_sort_with_nulls_returns_each_item_once_in_the_database_order(
        directus: Any, paging_client: DirectusClient, fruit: str, keys: list[str]) -> None:
    rows = list(paging_client.collection(fruit).fields("id", "title", "views", "status")
                .sort("id"))
    assert len(rows) == len(ROWS)
    got = [r["id"] for r in paging_client.collection(fruit).sort(*keys).fields("id")]
    assert sorted(got) == sorted(r["id"] for r in rows), "an item was skipped or repeated"
    assert got == _expected(rows, keys, directus.database)


def test_like_operators_follow_the_database_case_rules(directus: Any,
                                                       directus_client: DirectusClient,
                                                       fruit: str) -> None:
    handle = directus_client.collection(fruit)

    def titles(**lookups: Any) -> list[str]:
        return sorted(r["title"] for r in handle.filter(**lookups).fields("title"))

    # i-lookups ignore case on every database ...
    assert titles(title__icontains="apple") == ["APPLE", "Apple", "apple", "apple"]
    assert titles(title__istartswith="b") == ["Banana", "banana"]
    every_apple = ["APPLE", "Apple", "apple", "apple"]
    if directus.database == "postgresql":
        # ... the plain ones are exact on PostgreSQL ...
        assert titles(title__contains="pple") == ["Apple", "apple", "apple"]
        assert titles(title__startswith="b") == ["banana"]
        assert titles(title="apple") == ["apple", "apple"]
        assert titles(title__in=["APPLE", "zebra"]) == ["APPLE", "zebra"]
        assert titles(title__startswith="ecl") == []
    elif directus.database == "sqlite":
        # ... SQLite's LIKE ignores ASCII case (not accents); its "=" and IN are exact ...
        assert titles(title__contains="pple") == every_apple
        assert titles(title__startswith="b") == ["Banana", "banana"]
        assert titles(title="apple") == ["apple", "apple"]
        assert titles(title__in=["APPLE", "zebra"]) == ["APPLE", "zebra"]
        assert titles(title__startswith="ecl") == []
    else:
        # ... MariaDB's collation (utf8mb4_general_ci) ignores case and accents everywhere:
        # in LIKE, "=" and IN alike.
        assert titles(title__contains="pple") == every_apple
        assert titles(title__startswith="b") == ["Banana", "banana"]
        assert titles(title="apple") == every_apple
        assert titles(title__in=["APPLE", "zebra"]) == sorted([*every_apple, "Zebra", "zebra"])
        assert titles(title__startswith="ecl") == ["éclair"]
        assert titles(title="ECLAIR") == ["éclair"]
    # exact= is eq: the same answer.
    assert titles(title__exact="apple") == titles(title="apple")


NUMBERS = {"small": "integer", "big": "bigInteger", "ratio": "float", "price": "decimal",
           "label": "string"}


@pytest.fixture
def numbers(make_collection: Callable[..., str], directus_client: DirectusClient) -> str:
    name = make_collection(NUMBERS, prefix="numbers")
    directus_client.collection(name).create_many([
        {"small": 1, "big": 24252243, "ratio": 1.5, "price": "12.50", "label": "007"},
        {"small": 2, "big": 2**40, "ratio": 2.25, "price": "3.10", "label": "x"},
        {"small": 3, "big": None, "ratio": None, "price": None, "label": "x"},
    ])
    return name


def _decimal(directus: Any) -> type:
    # Directus on SQLite makes a decimal field a float column (GET /fields says "float").
    return float if directus.database == "sqlite" else Decimal


def test_items_come_back_in_the_same_python_types(directus: Any,
                                                  directus_client: DirectusClient,
                                                  numbers: str) -> None:
    dec = _decimal(directus)
    handle = directus_client.collection(numbers)
    items = handle.sort("small").fields("small", "big", "ratio", "price", "label").all()
    assert items[0] == {"small": 1, "big": 24252243, "ratio": 1.5, "price": dec("12.50"),
                        "label": "007"}
    assert items[1]["big"] == 2**40 and items[1]["price"] == dec("3.1")
    assert type_names(items[0]) == {"small": "int", "big": "int", "ratio": "float",
                                "price": dec.__name__, "label": "str"}
    assert items[2] == {"small": 3, "big": None, "ratio": None, "price": None, "label": "x"}
    first = handle.sort("small").first()
    assert first is not None
    one = handle.get(first["id"])
    assert type_names({k: one[k] for k in ("big", "price")}) == {"big": "int",
                                                             "price": dec.__name__}
    created = handle.create({"small": 4, "big": 5, "price": "0.25"})
    assert (created["big"], created["price"]) == (5, dec("0.25"))
    handle.delete(created["id"])


def test_a_collection_made_after_the_client_read_the_schema_is_typed_too(
        directus: Any, directus_client: DirectusClient,
        make_collection: Callable[..., str]) -> None:
    # A refused name makes the client read the whole schema (GET /fields), before the
    # collection below exists: its types must still be learned, not taken as "none".
    before = make_collection({"n": "integer"}, prefix="before")
    with pytest.raises(InvalidQuery):
        directus_client.collection(before).fields("no_such_field").fetch()
    name = make_collection(NUMBERS, prefix="numbers")
    handle = directus_client.collection(name)
    handle.create({"small": 1, "big": 2**40, "price": "0.25"})
    (item,) = handle.fields("big", "price").fetch()
    assert item == {"big": 2**40, "price": _decimal(directus)("0.25")}
    (row,) = handle.aggregate(sum="big").fetch()
    assert row == {"sum": {"big": 2**40}}
    # And a refused name in it is explained from the schema read again, not a bare 403.
    with pytest.raises(InvalidQuery, match="no_such_field"):
        handle.fields("no_such_field").fetch()


def test_a_whole_float_comes_back_as_a_float(directus_client: DirectusClient,
                                             make_collection: Callable[..., str]) -> None:
    # Directus (JavaScript) writes 2.0 as 2; the field's type makes it a float again once the
    # collection's field types are known (the 1.5 beside it has the client read them).
    name = make_collection({"ratio": "float"}, prefix="whole")
    handle = directus_client.collection(name)
    handle.create_many([{"ratio": 1.5}, {"ratio": 2.0}])
    values = handle.sort("id").values_list("ratio", flat=True).all()
    assert values == [1.5, 2.0] and [type(v) for v in values] == [float, float]
    last = handle.sort("-id").first()
    assert last is not None and type(last["ratio"]) is float
    assert directus_client.read_items(name, {"filter": {"ratio": {"_eq": 2}},
                                                    "fields": ["ratio"]}) == [{"ratio": 2.0}]
    (row,) = handle.filter(ratio=2).aggregate(sum="ratio", max="ratio", avg="ratio").fetch()
    assert row == {"sum": {"ratio": 2.0}, "max": {"ratio": 2.0}, "avg": {"ratio": 2.0}}
    assert type_names(row) == {"sum": {"ratio": "float"}, "max": {"ratio": "float"},
                               "avg": {"ratio": "float"}}


def test_counts_and_aggregates_come_back_in_the_same_python_types(
        directus: Any, directus_client: DirectusClient, numbers: str) -> None:
    dec = _decimal(directus)
    handle = directus_client.collection(numbers)
    assert handle.count() == 3
    (row,) = handle.aggregate(count="*", sum=["small", "big", "price"], avg=["small", "price"],
                              max=["big", "ratio"], min="price",
                              countDistinct="label").fetch()
    assert row == {
        "count": 3,
        "sum": {"small": 6, "big": 24252243 + 2**40, "price": dec("15.60")},
        "avg": {"small": 2.0, "price": dec("7.80")},
        "max": {"big": 2**40, "ratio": 2.25},
        "min": {"price": dec("3.10")},
        "countDistinct": {"label": 2},
    }
    assert type_names(row) == {
        "count": "int",
        "sum": {"small": "int", "big": "int", "price": dec.__name__},
        "avg": {"small": "float", "price": dec.__name__},
        "max": {"big": "int", "ratio": "float"},
        "min": {"price": dec.__name__},
        "countDistinct": {"label": "int"},
    }
    groups = handle.aggregate(count="*", sum="big").group_by("label").sort("label").fetch()
    assert groups == [{"label": "007", "count": 1, "sum": {"big": 24252243}},
                      {"label": "x", "count": 2, "sum": {"big": 2**40}}]
    page = handle.limit(1).with_meta()
    assert (page.total_count, page.filter_count) == (3, 3)
    # The seed-style methods answer alike.
    assert directus_client.read_items(numbers, query={"aggregate": {"count": "*"}}) == [
        {"count": 3}]


def test_a_whole_average_is_a_float_before_the_field_types_are_known(
        directus: Any, make_client: Callable[..., DirectusClient], numbers: str) -> None:
    # A fresh client knows no field types: SQLite's whole avg (2) alone must still make it
    # read them, so that avg of an integer field is a float on every database.
    with make_client(directus.url, auth=StaticToken(directus.admin_token)) as fresh:
        (row,) = fresh.collection(numbers).aggregate(avg="small").fetch()
    assert row == {"avg": {"small": 2.0}}
    assert type_names(row) == {"avg": {"small": "float"}}


def test_api_only_and_public_tokens_get_the_same_python_types(directus: Any,
                                                       directus_client: DirectusClient,
                                                       numbers: str) -> None:
    grants = AccessGrants(directus_client)
    try:
        for client in (grants.api_client({numbers: ["read"]}),
                       grants.public_client({numbers: ["read"]})):
            handle = client.collection(numbers)
            assert handle.count() == 3
            (row,) = handle.aggregate(count="*", countDistinct="label").fetch()
            assert row == {"count": 3, "countDistinct": {"label": 2}}
            first = handle.sort("small").fields("big").first()
            # This token may not read /fields: the types come from /server/specs/oas.
            assert first == {"big": 24252243}
            (total,) = handle.aggregate(sum="big", avg="price").fetch()
            assert total == {"sum": {"big": 24252243 + 2**40},
                             "avg": {"price": _decimal(directus)("7.80")}}
    finally:
        grants.revoke()


def test_a_field_added_after_the_types_were_read_is_typed_too(
        directus: Any, directus_client: DirectusClient, numbers: str,
        make_client: Callable[..., DirectusClient]) -> None:
    with make_client(directus.url, auth=StaticToken(directus.admin_token)) as reader:
        handle = reader.collection(numbers)
        assert handle.sort("small").fields("big").first() == {"big": 24252243}  # types read
        directus_client.transport.data("POST", "fields", numbers, json={
            "field": "later", "type": "bigInteger", "schema": {}, "meta": {}})
        directus_client.collection(numbers).create({"small": 9, "later": 2**35})
        (item,) = handle.filter(small=9).fields("small", "later").all()
        assert item == {"small": 9, "later": 2**35}
        assert type(item["later"]) is int


KINDS = {"flag": "boolean", "data": "json", "day": "date", "at": "dateTime", "clock": "time",
         "stamp": "timestamp", "code": "uuid", "body": "text"}
KIND_ROW = {"flag": True, "data": {"a": [1, 2.5], "n": None, "s": "é"}, "day": "2024-02-29",
            "at": "2024-02-29T12:30:05", "clock": "12:30:05", "stamp": "2024-02-29T12:30:05Z",
            "code": "8c3a1b5e-1f0e-4c1a-9b1e-0c2a3b4c5d6e", "body": "naïve 🙂"}


def test_booleans_json_dates_and_text_come_back_alike_for_every_token(
        directus_client: DirectusClient, make_collection: Callable[..., str]) -> None:
    # Fields made as the app makes them (make_collection: cast-boolean, cast-json): MariaDB's
    # tinyint(1) and SQLite's integer read back as True/False, as PostgreSQL's boolean does.
    name = make_collection(KINDS, prefix="kinds")
    handle = directus_client.collection(name)
    handle.create_many([KIND_ROW, {**KIND_ROW, "flag": False}, {"flag": None}])
    expected = [
        {**KIND_ROW, "stamp": "2024-02-29T12:30:05.000Z"},
        {**KIND_ROW, "flag": False, "stamp": "2024-02-29T12:30:05.000Z"},
        {**dict.fromkeys(KINDS), "flag": None},
    ]
    grants = AccessGrants(directus_client)
    try:
        for client in (directus_client, grants.api_client({name: ["read"]}),
                       grants.public_client({name: ["read"]})):
            rows = client.collection(name).sort("id").fields(*KINDS).all()
            assert rows == expected
            assert [type(r["flag"]) for r in rows] == [bool, bool, type(None)]
        assert handle.filter(flag=True).count() == 1
        assert handle.filter(flag=False).fields("flag").all() == [{"flag": False}]
    finally:
        grants.revoke()
