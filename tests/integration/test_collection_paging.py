"""Paging that neither skips nor repeats, windows honoured, truthful batched writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pydirectus import BatchWriteError, DirectusClient, NotFound, StaticToken
from pydirectus.testing import DirectusServer
from pydirectus.transport import NO_RETRY
from tests.faults import Fault, FaultProxy


class Recording:
    """Each request's method, path and decoded query parameters, as a proxy in front of
    Directus received them (whichever face sent them)."""

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy

    @property
    def calls(self) -> list[tuple[str, str, dict[str, str]]]:
        calls = []
        for seen in list(self.proxy.seen):
            parts = urlsplit(seen.path)
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            calls.append((seen.method, parts.path, params))
        return calls

    def clear(self) -> None:
        """Forget what was recorded so far."""
        self.proxy.clear()


@pytest.fixture
def recorded(directus: DirectusServer, make_client: Callable[..., DirectusClient]
             ) -> Iterator[tuple[DirectusClient, Recording]]:
    with FaultProxy(directus.url, lifetime=300) as proxy:
        client = make_client(proxy.url, auth=StaticToken(directus.admin_token), page_size=50)
        yield client, Recording(proxy)
        client.close()


@pytest.fixture
def numbers(make_collection: Callable[..., str], directus_client: DirectusClient) -> str:
    name = make_collection({"n": "integer", "tag": "string"}, prefix="num")
    directus_client.collection(name).create_many(
        [{"n": i % 40 if i % 9 else None, "tag": f"x{i:03d}"} for i in range(300)])
    return name


def _reads(session: Recording, name: str) -> list[dict[str, str]]:
    return [params for method, path, params in session.calls
            if method == "GET" and path == f"/items/{name}"]


@pytest.mark.parametrize("sort", [(), ("-n",), ("n", "-id")])
def test_deleting_while_iterating_visits_every_item(recorded: Any, numbers: str,
                                                    sort: tuple[str, ...]) -> None:
    client, _ = recorded
    handle = client.collection(numbers)
    expected = handle.sort(*sort).fields("id").all() if sort else None
    seen: list[int] = []
    for item in handle.sort(*sort).fields("id", "n"):
        seen.append(item["id"])
        if len(seen) % 10 == 0:  # delete what was seen, ten at a time to keep this quick
            client.transport.data("DELETE", "items", numbers, json=seen[-10:])
    assert len(seen) == 300 and len(set(seen)) == 300
    if expected is not None:
        assert seen == [i["id"] for i in expected]
    assert handle.count() == 0


def test_inserting_while_iterating_neither_repeats_nor_skips(recorded: Any,
                                                             numbers: str) -> None:
    client, session = recorded
    handle = client.collection(numbers)
    originals = {i["id"] for i in handle.fields("id")}
    seen: list[int] = []
    for item in handle.sort("-n").fields("id", "n"):
        seen.append(item["id"])
        if len(seen) % 50 == 0:  # new items that sort before the cursor, and after it
            handle.create_many([{"n": 1000}, {"n": 1000}, {"n": -5}])
    assert originals <= set(seen)
    assert len(seen) == len(set(seen))
    # Key paging: every page after the first says where to start, no offset.
    pages = [p for p in _reads(session, numbers) if p.get("limit") == "50"][-6:]
    assert all("offset" not in p and ("_lt" in p["filter"] or "_gt" in p["filter"])
               for p in pages[1:])


def test_keyset_and_nulls_follow_the_database_order(recorded: Any, numbers: str,
                                                    directus_client: DirectusClient) -> None:
    client, _ = recorded
    for sort in (("n",), ("-n",), ("n", "-id"), ("-n", "tag")):
        paged = [i["id"] for i in client.collection(numbers).sort(*sort).fields("id")]
        whole = directus_client.transport.data("GET", "items", numbers, params={
            "sort": ",".join([*sort, "id"] if "id" not in " ".join(sort) else sort),
            "fields": "id", "limit": "-1"})
        assert paged == [i["id"] for i in whole], sort


def test_string_sort_falls_back_to_offset(recorded: Any, numbers: str) -> None:
    client, session = recorded
    tags = [i["tag"] for i in client.collection(numbers).sort("-tag").fields("tag")]
    assert tags == sorted(tags, reverse=True) and len(tags) == 300
    pages = _reads(session, numbers)
    assert any(p.get("offset") == "250" for p in pages)


def test_windows_are_honoured(recorded: Any, numbers: str) -> None:
    client, _ = recorded
    handle = client.collection(numbers).sort("tag")
    assert handle[10:20].count() == 10
    assert handle[295:400].count() == 5
    assert handle[400:].count() == 0 and not handle[400:].exists()
    assert handle[295:].exists()
    assert handle.limit(10).page(3).first()["tag"] == "x020"
    assert handle.limit(10).page(3).last()["tag"] == "x029"
    assert handle[290:].last()["tag"] == "x299"
    assert handle[295:310].last()["tag"] == "x299"
    assert handle.last()["tag"] == "x299"
    assert [i["tag"] for i in handle[120:180]] == [f"x{i:03d}" for i in range(120, 180)]
    page = handle[100:160].with_meta()
    assert len(page.items) == 60 and page.filter_count == 300
    assert len(handle.limit(-1).fetch()) == 300
    assert len(handle.fetch()) == 100  # no limit: Directus's own default page


def test_fetch_asks_for_the_window_in_one_request_where_the_server_allows(
        recorded: Any, numbers: str) -> None:
    client, session = recorded  # page_size=50: iteration pages, fetch() need not
    handle = client.collection(numbers)
    session.clear()
    assert len(handle.limit(-1).fetch()) == 300
    # Until the cap is known, the probe: a capped server would refuse it naming its cap.
    assert [p.get("limit") for p in _reads(session, numbers)] == ["2147483647"]
    assert handle._reads.schema.server.query_limit_max == -1
    session.clear()
    assert len(handle.filter(n__gte=0).limit(-1).fetch()) == len(
        [i for i in handle.filter(n__gte=0)])
    assert _reads(session, numbers)[0]["limit"] == "-1"
    session.clear()
    window = handle.sort("n")[10:250]
    rows = window.fetch()
    assert [(p.get("offset"), p.get("limit"), p.get("sort")) for p in _reads(session, numbers)
            ] == [("10", "240", "n,id")]  # the key breaks ties, as paging does
    assert [r["id"] for r in rows] == [r["id"] for r in window]  # the same order, paged
    assert len(_reads(session, numbers)) > 5


def test_every_group_of_a_grouped_aggregate(make_collection: Callable[..., str],
                                            directus_client: DirectusClient) -> None:
    name = make_collection({"g": "integer"}, prefix="groups")
    handle = directus_client.collection(name)
    handle.create_many([{"g": i % 250} for i in range(500)])
    groups = handle.aggregate(count="*").group_by("g").all()
    assert len(groups) == 250
    assert {g["g"] for g in groups} == set(range(250))
    assert all(int(g["count"]) == 2 for g in groups)
    assert len(handle.aggregate(count="*").group_by("g").limit(-1).fetch()) == 250


def test_get_with_a_long_in_bound(recorded: Any, numbers: str) -> None:
    client, session = recorded
    handle = client.collection(numbers)
    some = handle.filter(tag="x005").first()
    bound = handle.filter(id__in=[some["id"], *range(10**6, 10**6 + 800)])
    assert bound.get(some["id"])["tag"] == "x005"
    with pytest.raises(NotFound):
        bound.get(some["id"] + 1)
    assert ("SEARCH", f"/items/{numbers}") in [(m, p) for m, p, _ in session.calls]


def test_update_many_batches(recorded: Any, numbers: str) -> None:
    client, session = recorded
    handle = client.collection(numbers)
    keys = [i["id"] for i in handle.fields("id")]
    assert len(handle.update_many(keys, {"tag": "same"}, batch_size=120)) == 300
    patches = [c for c in session.calls if c[0] == "PATCH"]
    assert len(patches) == 3
    assert handle.filter(tag="same").count() == 300


def test_missing_keys_are_told(directus_client: DirectusClient, numbers: str) -> None:
    handle = directus_client.collection(numbers)
    with pytest.raises(NotFound, match="no item 999999"):
        handle.update(999999, {"n": 1})
    with pytest.raises(NotFound, match="no item 999999"):
        handle.delete(999999)
    with pytest.raises(NotFound):
        directus_client.update_item(numbers, 999999, {"n": 1})
    assert handle.delete_many([999998, 999999]) == 0
    one = handle.first()
    assert handle.delete_many([str(one["id"]), 999999]) == 1  # a key given as text
    assert handle.count() == 299


@pytest.mark.parametrize("fault", ["reset", "forward_then_reset"])
def test_connection_failure_on_batch_two(directus: DirectusServer, numbers: str,
                                         directus_client: DirectusClient, fault: str,
                                         make_client: Callable[..., DirectusClient]) -> None:
    path = f"/items/{numbers}"
    items = [{"tag": f"b{i}"} for i in range(7)]
    with FaultProxy(directus.url, lifetime=60) as proxy:
        proxy.add(Fault("pass", method="POST", path=path),
                  Fault(fault, method="POST", path=path))
        with make_client(proxy.url, auth=StaticToken(directus.admin_token),
                         retry=NO_RETRY) as client, pytest.raises(BatchWriteError) as raised:
            client.collection(numbers).create_many(items, batch_size=3)
    error = raised.value
    assert [i["tag"] for i in error.written] == ["b0", "b1", "b2"]
    assert error.uncertain == items[3:6]
    assert error.not_written == items[6:]
    assert "may or may not have landed" in str(error)
    landed = directus_client.collection(numbers).filter(tag__starts_with="b").count()
    assert landed == (3 if fault == "reset" else 6)


def test_refused_batch_two_is_not_written(directus_client: DirectusClient,
                                          make_collection: Callable[..., str]) -> None:
    name = make_collection({"code": {"type": "string", "schema": {"is_unique": True}}})
    items = [{"code": "a"}, {"code": "b"}, {"code": "a"}, {"code": "c"}]
    with pytest.raises(BatchWriteError) as raised:
        directus_client.collection(name).create_many(items, batch_size=2)
    assert [i["code"] for i in raised.value.written] == ["a", "b"]
    assert raised.value.not_written == items[2:] and raised.value.uncertain == []
