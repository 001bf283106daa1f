"""Iteration with prefetch, as an API-only user through the fault proxy that counts requests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pydirectus import DirectusClient
from pydirectus.testing import DirectusServer
from pydirectus.testing.access import AccessGrants
from pydirectus.testing.bridge import pending_tasks
from tests.faults import FaultProxy


@pytest.fixture
def proxy(directus: DirectusServer) -> Iterator[FaultProxy]:
    with FaultProxy(directus.url, lifetime=90) as running:
        yield running


@pytest.fixture
def items(make_collection: Callable[..., str], directus_client: DirectusClient) -> str:
    name = make_collection({"n": "integer"}, prefix="pre")
    directus_client.collection(name).create_many([{"n": i % 7} for i in range(120)])
    return name


@pytest.fixture
def user_via(directus_client: DirectusClient, proxy: FaultProxy, items: str,
             make_client: Callable[..., DirectusClient],
             ) -> Iterator[Callable[..., DirectusClient]]:
    """Return a factory of clients (of the test's face) of an API-only user (read, delete)
    going through the proxy."""
    with AccessGrants(directus_client) as grants:
        api = grants.api_client({items: ("read", "delete")})

        def make(**options: object) -> DirectusClient:
            return make_client(proxy.url, auth=api.transport.auth, page_size=20, **options)

        yield make


def prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "pydirectus-prefetch"]


def left_behind(client: DirectusClient) -> list[Any]:
    """Return what an iteration left running: prefetch threads (sync face), tasks on the
    client's loop (async face)."""
    return [*prefetch_threads(), *pending_tasks(client)]


def page_reads(proxy: FaultProxy, name: str) -> int:
    return len(proxy.requests_to(f"/items/{name}", method="GET"))


@pytest.mark.parametrize("sort", [(), ("-n",)])
def test_deleting_while_iterating_visits_every_item(user_via: Callable[..., DirectusClient],
                                                    proxy: FaultProxy, items: str,
                                                    sort: tuple[str, ...]) -> None:
    client = user_via()
    assert client.transport.prefetch  # on by default
    handle = client.collection(items)
    seen: list[int] = []
    for item in handle.sort(*sort).fields("id", "n"):
        seen.append(item["id"])
        if len(seen) % 10 == 0:  # the page after this one may already be on its way
            client.transport.data("DELETE", "items", items, json=seen[-10:])
    assert len(seen) == 120 and len(set(seen)) == 120
    assert handle.count() == 0
    assert page_reads(proxy, items) >= 6  # 20 a page: it did page
    assert left_behind(client) == []


@pytest.mark.parametrize("prefetch", [True, False])
def test_leaving_early_sends_at_most_one_page_request_more(
        user_via: Callable[..., DirectusClient], proxy: FaultProxy, items: str,
        prefetch: bool, directus_face: str) -> None:
    client = user_via(prefetch=prefetch)
    handle = client.collection(items).sort("id")
    proxy.seen.clear()
    for item in handle:
        if item["n"] == 4:  # in the first page
            break
    time.sleep(0.5)  # anything still to be sent would arrive now
    assert left_behind(client) == []
    # The page in use, and with prefetch the one fetched ahead: the sync face waits for it
    # and drops it; the async face cancels it, sent or not yet.
    if prefetch and directus_face == "async":
        assert page_reads(proxy, items) in (1, 2)
    else:
        assert page_reads(proxy, items) == (2 if prefetch else 1)


def test_per_query_switch_and_its_errors(user_via: Callable[..., DirectusClient],
                                         proxy: FaultProxy, items: str,
                                         make_client: Callable[..., DirectusClient]) -> None:
    client = user_via()
    handle = client.collection(items).sort("id")
    rows = handle.iterator(prefetch=False)
    proxy.seen.clear()
    next(rows)
    time.sleep(0.3)
    assert page_reads(proxy, items) == 1 and left_behind(client) == []
    rows.close()  # type: ignore[attr-defined]
    assert len(list(handle.iterator(prefetch=True))) == 120
    with pytest.raises(Exception, match="prefetch"):
        handle.iterator(prefetch="yes")  # type: ignore[arg-type]
    with pytest.raises(Exception, match="prefetch"):
        make_client(proxy.url, prefetch=1)
