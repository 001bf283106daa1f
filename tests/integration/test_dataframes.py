"""Arrow tables and pandas/polars DataFrames straight from a query, on a real Directus.

Column types come from the field types (not the rows), for the admin, an API-only token
(which learns them from the OpenAPI document) and Public; pages are stitched in the
order ``list(q)`` reads; a page of nulls keeps its types; memory stays at a few pages.
"""

from __future__ import annotations

import datetime as dt
import json
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from pydirectus import DirectusClient, IncompleteRead, InvalidQuery, StaticToken, UsageError
from pydirectus.testing import DirectusServer
from pydirectus.testing.access import AccessGrants
from tests.faults import Fault, FaultProxy

from .test_type_matrix import FIELDS, ROWS

UTC = dt.timezone.utc
#: a decimal with its own precision and scale, beside the type matrix's default one
MONEY = {"type": "decimal", "schema": {"numeric_precision": 12, "numeric_scale": 3},
         "meta": {}}


def _arrow_types(database: str, *, schema_readable: bool) -> dict[str, Any]:
    # SQLite makes a decimal field a float column (GET /fields says "float"); elsewhere
    # the field's precision and scale, or (38, 9) where the token may not read /fields.
    def decimal(precision: int, scale: int) -> Any:
        if database == "sqlite":
            return pa.float64()
        return pa.decimal128(precision, scale) if schema_readable else pa.decimal128(38, 9)

    return {"id": pa.int64(), "small": pa.int64(), "big": pa.int64(), "ratio": pa.float64(),
            "price": decimal(10, 5), "flag": pa.bool_(), "label": pa.string(),
            "body": pa.string(), "ident": pa.string(), "data": pa.string(),
            "tags": pa.list_(pa.string()), "day": pa.date32(), "moment": pa.timestamp("us"),
            "clock": pa.time64("us"), "stamp": pa.timestamp("us", tz="UTC"),
            "money": decimal(12, 3)}


@pytest.fixture
def kinds(make_collection: Callable[..., str], directus_client: DirectusClient,
          access_grants: AccessGrants) -> dict[str, Any]:
    """The type matrix's collection (and a money field), readable by API-only and Public."""
    name = make_collection({**FIELDS, "money": MONEY}, prefix="frame")
    directus_client.collection(name).create_many(
        [{**row, "money": None if row["small"] is None else "1234.5"} for row in ROWS])
    return {"name": name, "clients": {
        "admin": directus_client,
        "api": access_grants.api_client({name: "read"}),
        "public": access_grants.public_client({name: "read"})}}


def test_column_types_follow_the_field_types_for_every_token(kinds: dict[str, Any],
                                                             directus: Any) -> None:
    tables = {}
    for label, client in kinds["clients"].items():
        query = client.collection(kinds["name"]).sort("id")
        table = query.to_arrow()
        expected = _arrow_types(directus.database, schema_readable=label == "admin")
        assert {f.name: f.type for f in table.schema} == expected, label
        assert table.schema.names == list(expected), label
        assert table.schema.field("price").metadata == {b"directus_type": (
            b"float" if directus.database == "sqlite" else b"decimal")}, label
        assert table.num_rows == 3, label
        first, second, nulls = table.to_pylist()
        assert first["small"] == 7 and first["big"] == 2**40 + 5 and first["ratio"] == 1.5
        assert first["flag"] is True and second["flag"] is False, label
        assert first["label"] == "007" and first["tags"] == ["a", "b"], label
        assert json.loads(first["data"]) == {"k": [1, 2], "n": None}, label
        assert json.loads(second["data"]) == [1, "two"], label
        assert first["day"] == dt.date(2024, 2, 29), label
        assert first["moment"] == dt.datetime(2024, 2, 29, 12, 30), label
        assert first["clock"] == dt.time(12, 30), label
        assert first["stamp"] == dt.datetime(2024, 2, 29, 12, 30, tzinfo=UTC), label
        if directus.database == "sqlite":
            assert first["price"] == 12.5 and first["money"] == 1234.5, label
        else:
            assert first["price"] == Decimal("12.50") and first["money"] == Decimal("1234.5")
        assert nulls == {"id": nulls["id"], **dict.fromkeys(expected.keys() - {"id"})}, label
        # The values are list(q)'s, in Arrow's types.
        items = list(query)
        assert table.column("id").to_pylist() == [item["id"] for item in items], label
        assert table.column("label").to_pylist() == [item["label"] for item in items], label
        tables[label] = table.drop_columns(["price", "money"])
        frame = query.to_pandas()
        assert list(frame.columns) == list(expected), label
        assert str(frame["big"].dtype) == "int64" or frame["big"].isna().any(), label
        assert frame["stamp"].dt.tz is not None and frame["moment"].dt.tz is None, label
        nullable = query.to_pandas(dtype_backend="numpy_nullable")
        assert str(nullable["big"].dtype) == "Int64" and nullable["big"][0] == 2**40 + 5
        assert str(nullable["flag"].dtype) == "boolean", label
        backed = query.to_pandas(dtype_backend="pyarrow")
        assert backed["day"].dtype == pd.ArrowDtype(pa.date32()), label
        polars = query.to_polars()
        assert polars.schema["big"] == pl.Int64 and polars.schema["day"] == pl.Date, label
        assert polars.schema["clock"] == pl.Time and polars["big"][0] == 2**40 + 5, label
    assert tables["api"].equals(tables["admin"]) and tables["public"].equals(tables["admin"])


def test_a_page_of_nulls_keeps_its_column_types(make_collection: Callable[..., str],
                                                 directus_client: DirectusClient) -> None:
    name = make_collection({"n": "bigInteger", "price": MONEY, "day": "date",
                            "stamp": "timestamp", "flag": "boolean", "data": "json"},
                           prefix="nulls")
    handle = directus_client.collection(name)
    handle.create_many([{} for _ in range(60)] + [
        {"n": 2**40 + i, "price": "1.250", "day": "2024-01-02",
         "stamp": "2024-01-02T03:04:05.000Z", "flag": bool(i % 2), "data": {"i": i}}
        for i in range(15)])
    handle.page_size = 25
    table = handle.sort("id").to_arrow()
    assert table.column("n").type == pa.int64() and table.column("day").type == pa.date32()
    assert table.column("flag").type == pa.bool_()
    assert table.column("stamp").type == pa.timestamp("us", tz="UTC")
    assert table.column("n").num_chunks == 3  # one batch a page: three pages
    assert table.column("n").to_pylist() == [None] * 60 + [2**40 + i for i in range(15)]
    last = table.slice(74).to_pylist()[0]
    assert last["day"] == dt.date(2024, 1, 2) and last["flag"] is False
    assert last["stamp"] == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert json.loads(last["data"]) == {"i": 14}
    empty = handle.filter(id__lt=0).to_arrow()
    assert empty.num_rows == 0 and empty.schema == table.schema


@pytest.fixture
def numbered(make_collection: Callable[..., str], directus_client: DirectusClient) -> str:
    name = make_collection({"n": "integer", "tag": "string"}, prefix="stitch")
    directus_client.collection(name).create_many(
        [{"n": i % 17 if i % 5 else None, "tag": f"t{i:04d}"} for i in range(1234)])
    return name


def test_pages_are_stitched_in_the_order_list_reads(directus_client: DirectusClient,
                                                    numbered: str) -> None:
    handle = directus_client.collection(numbered)
    handle.page_size = 100
    for query in (handle.sort("-n"), handle.sort("tag")[10:1010],
                  handle.filter(n__gt=3).fields("tag", "n").sort("n", "-tag"),
                  handle.limit(-1)):
        items = list(query)
        table = query.to_arrow()
        assert table.to_pylist() == items
        assert table.num_rows == len(items)
    assert handle.to_polars().to_dicts() == list(handle)
    assert handle.to_pandas(prefetch=False)["tag"].tolist() == [
        item["tag"] for item in handle]


def test_a_page_cut_short_fails_and_a_lost_answer_is_read_again(
        directus: DirectusServer, make_client: Callable[..., DirectusClient],
        numbered: str) -> None:
    route = f"/items/{numbered}"
    with FaultProxy(directus.url) as proxy:
        client = make_client(proxy.url, auth=StaticToken(directus.admin_token), page_size=200)
        handle = client.collection(numbered)
        # The second page answered empty (a proxy's stand-in): never a short table.
        proxy.add(Fault.status(200, b'{"data": []}', {"Content-Type": "application/json"},
                               method="GET", path=route, skip=1))
        with pytest.raises(IncompleteRead, match="ended after 200 of 1234 items"):
            handle.to_arrow()
        # The third page's answer cut off mid-body, or lost after Directus answered it:
        # the page is read again, and the table is whole.
        for fault in (Fault.forward_then_truncate, Fault.forward_then_reset):
            proxy.clear()
            proxy.add(fault(method="GET", path=route, skip=2))
            table = handle.to_arrow()
            assert table.column("tag").to_pylist() == [f"t{i:04d}" for i in range(1234)]
            # Seven pages of 200, the third twice.
            assert len(proxy.requests_to(route, "GET")) == 8


def test_relational_fields_are_typed_by_the_related_collection(
        make_collection: Callable[..., str], directus_client: DirectusClient,
        access_grants: AccessGrants) -> None:
    authors = make_collection({"name": "string", "born": "date", "rank": "bigInteger"},
                              prefix="author")
    books = make_collection({"title": "string"}, prefix="book")
    factory = make_collection
    factory.many_to_one(books, "author", authors, one_field="books")  # type: ignore[attr-defined]
    directus_client.refresh_schema()
    writer = directus_client.collection(authors).create(
        {"name": "Ada", "born": "1815-12-10", "rank": 2**35})
    notes, _ = directus_client.collection(books).create_many(
        [{"title": "Notes", "author": writer["id"]}, {"title": "Orphan"}])
    api = access_grants.api_client({authors: "read", books: "read"})
    for label, client in (("admin", directus_client), ("api", api)):
        query = client.collection(books).fields("title", "author.name", "author.born",
                                                "author.rank").sort("id")
        table = query.to_arrow()
        assert {f.name: f.type for f in table.schema} == {
            "title": pa.string(), "author.name": pa.string(), "author.born": pa.date32(),
            "author.rank": pa.int64()}, label
        assert table.to_pylist() == [
            {"title": "Notes", "author.name": "Ada", "author.born": dt.date(1815, 12, 10),
             "author.rank": 2**35},
            {"title": "Orphan", "author.name": None, "author.born": None,
             "author.rank": None}], label
        every = client.collection(books).fields("id", "author.*").sort("id").to_arrow()
        assert every.schema.names == ["id", "author.id", "author.name", "author.born",
                                      "author.rank", "author.books"], label
        assert every.schema.field("author.books").type == pa.string(), label
        back = client.collection(authors).fields("name", "books.title").to_arrow()
        # A to-many path is one column: the related items as JSON text.
        assert back.schema.names == ["name", "books"], label
        assert json.loads(back.column("books")[0].as_py()) == [{"title": "Notes"}], label
        plain = client.collection(authors).to_arrow()
        assert plain.schema.names == ["id", "name", "born", "rank", "books"], label
        assert json.loads(plain.column("books")[0].as_py()) == [notes["id"]], label


def test_memory_stays_at_a_few_pages(make_collection: Callable[..., str],
                                     directus_client: DirectusClient) -> None:
    name = make_collection({"n": "integer", "tag": "string", "note": "text"}, prefix="mem")
    handle = directus_client.collection(name)
    handle.create_many([{"n": i, "tag": f"t{i:05d}", "note": "x" * 200} for i in range(4000)],
                       batch_size=2000)
    handle.page_size = 200
    handle.limit(1).to_arrow()  # one-off costs (schema reads, imports) are not the point

    def peak(read: Callable[[], Any]) -> tuple[int, Any]:
        tracemalloc.start()
        try:
            kept = read()
            return tracemalloc.get_traced_memory()[1], kept
        finally:
            tracemalloc.stop()

    listed, items = peak(lambda: list(handle))
    tabled, table = peak(handle.to_arrow)
    quarter, _ = peak(handle[:1000].to_arrow)
    assert table.num_rows == len(items) == 4000
    # In pages of 200, a table holds a page or two as dicts (its columns live off the
    # Python heap, in Arrow's buffers): its peak does not grow with the rows, where the
    # list holds every row.
    assert tabled < quarter * 1.25, (tabled, quarter)
    assert tabled < listed / 2, (tabled, listed)


def test_bad_requests_fail_before_sending(directus_client: DirectusClient,
                                          numbered: str) -> None:
    handle = directus_client.collection(numbered)
    with pytest.raises(InvalidQuery, match="aggregate"):
        handle.aggregate(count="*").to_arrow()
    with pytest.raises(UsageError, match="dtype_backend"):
        handle.to_pandas(dtype_backend="numpy")
    with pytest.raises(UsageError, match="prefetch"):
        handle.to_polars(prefetch="yes")  # type: ignore[arg-type]
