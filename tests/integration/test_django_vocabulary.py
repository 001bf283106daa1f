"""Django's QuerySet vocabulary against a real Directus, on both faces, requests counted.

``order_by``/``only`` are ``sort``/``fields``; ``latest``/``earliest`` read one row and
raise NotFound when nothing matches; ``values``/``values_list`` stay lazy, so a slice is
the window read (one request with limit=3), not a slice of everything read. A grouped
``fetch()`` without a limit returns every group, as the README says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pydirectus import DirectusClient, InvalidQuery, NotFound, StaticToken
from pydirectus.testing import DirectusServer
from tests.faults import FaultProxy


@pytest.fixture
def rows(make_collection: Callable[..., str], directus_client: DirectusClient) -> str:
    name = make_collection({"code": "string", "n": "integer", "g": "integer"}, prefix="dj")
    directus_client.collection(name).create_many(
        [{"code": f"c{i}", "n": (i * 3) % 7, "g": i % 150} for i in range(160)])
    return name


@pytest.fixture
def recorded(directus: DirectusServer, make_client: Callable[..., DirectusClient]
             ) -> Iterator[tuple[DirectusClient, FaultProxy]]:
    with FaultProxy(directus.url, lifetime=120) as proxy:
        yield make_client(proxy.url, auth=StaticToken(directus.admin_token)), proxy


def _reads(proxy: FaultProxy, name: str) -> list[dict[str, str]]:
    out = []
    for seen in proxy.requests_to(f"/items/{name}", "GET"):
        out.append({k: v[0] for k, v in parse_qs(urlsplit(seen.path).query).items()})
    return out


def test_order_by_and_only_are_sort_and_fields(rows: str,
                                               directus_client: DirectusClient) -> None:
    handle = directus_client.collection(rows)
    assert handle.order_by("-n", "code").only("code", "n").first() == {"code": "c100", "n": 6}
    assert [r["code"] for r in handle.filter(n=0).order_by("-code").only("code")[:2]] == [
        "c98", "c91"]
    assert handle.only("code").order_by("code").to_dict() == handle.fields("code").sort(
        "code").to_dict()


def test_latest_and_earliest_read_one_row_and_raise_not_found_when_empty(
        rows: str, recorded: tuple[DirectusClient, FaultProxy]) -> None:
    client, proxy = recorded
    handle = client.collection(rows)
    proxy.clear()
    assert handle.latest("n", "code")["code"] == "c93"      # n=6, then the largest code
    assert handle.earliest("n", "code")["code"] == "c0"
    assert handle.latest("-n")["n"] == 0                      # "-" reverses, as in Django
    reads = _reads(proxy, rows)
    assert len(reads) == 3 and all(r["limit"] == "1" for r in reads)
    assert handle.latest()["code"] == "c159"                  # no field: by primary key
    assert handle.earliest()["code"] == "c0"
    assert handle.order_by("code").latest()["code"] == "c99"  # no field: the query's sort
    assert handle.filter(n=6).latest("code")["code"] == "c93"
    with pytest.raises(NotFound, match="latest"):
        handle.filter(code="nope").latest("n")
    with pytest.raises(NotFound, match="earliest"):
        handle.filter(code="nope").earliest()


def test_values_list_stays_lazy_so_a_slice_is_the_window_read(
        rows: str, recorded: tuple[DirectusClient, FaultProxy]) -> None:
    client, proxy = recorded
    handle = client.collection(rows)
    titles = handle.order_by("code").values_list("code")[:3]
    proxy.clear()
    assert titles.all() == [("c0",), ("c1",), ("c10",)]
    reads = _reads(proxy, rows)
    # One request for the window: limit 3 (the primary key rides along as the tie-break).
    assert len(reads) == 1 and reads[0]["limit"] == "3"
    assert reads[0]["fields"] in ("code", "code,id")
    proxy.clear()
    assert list(handle.order_by("-code").values_list("code", flat=True)[1:3]) == ["c98", "c97"]
    assert [r["limit"] for r in _reads(proxy, rows)] == ["2"]
    named = handle.filter(code="c5").values_list("code", "n", named=True).first()
    assert (named.code, named.n) == ("c5", 1) and named == ("c5", 1)
    assert handle.order_by("code").values("code", "n")[1:3].all() == [
        {"code": "c1", "n": 3}, {"code": "c10", "n": 2}]
    assert handle.order_by("code").values_list("code", flat=True)[2] == "c10"
    assert handle.filter(n=0).values_list("code").count() == 23
    assert handle.values("code").filter(code="c7").order_by("n").all() == [{"code": "c7"}]
    assert not handle.values("code").filter(code="nope").exists()
    with pytest.raises(TypeError, match="exists"):
        bool(handle.values("code"))
    with pytest.raises(InvalidQuery):
        handle.values_list("code", "n", flat=True)
    with pytest.raises(InvalidQuery):
        handle.values_list("code", flat=True, named=True)


def test_a_grouped_fetch_without_a_limit_returns_every_group(
        rows: str, directus_client: DirectusClient) -> None:
    # Directus's default page is 100 rows; 150 groups all come back, as the README says.
    groups = directus_client.collection(rows).aggregate(count="*").group_by("g").fetch()
    assert len(groups) == 150
    assert sum(int(g["count"]) for g in groups) == 160
    seed = directus_client.read_items(rows, {"aggregate": {"count": "*"}, "groupBy": ["g"]})
    assert len(seed) == 150


def test_async_for_over_values(rows: str, directus: DirectusServer) -> None:
    import asyncio

    from pydirectus.aio import AsyncDirectusClient

    async def scenario() -> tuple[list[Any], list[Any], Any]:
        async with AsyncDirectusClient(directus.url,
                                       auth=StaticToken(directus.admin_token)) as client:
            handle = client.collection(rows)
            query = handle.order_by("code").values_list("code", flat=True)[:4]
            streamed = [code async for code in query]
            listed = await query.all()
            latest = await handle.latest("code")
            return streamed, listed, latest["code"]

    streamed, listed, latest = asyncio.run(scenario())
    assert streamed == listed == ["c0", "c1", "c10", "c100"]
    assert latest == "c99"
