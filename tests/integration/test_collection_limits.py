"""A server with QUERY_LIMIT_MAX=100 (and GraphQL introspection off): nothing answers short.

Directus refuses a limit above QUERY_LIMIT_MAX with a 400 and quietly caps ``limit=-1``
(and a query-based PATCH) at it; the handle must cover every match regardless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pydirectus import DirectusClient, StaticToken
from pydirectus.errors import NotFound, ResumableUploadsUnavailable, SchemaRequired
from pydirectus.testing import CollectionFactory, DirectusServer
from pydirectus.testing.access import AccessGrants
from pydirectus.testing.pytest_plugin import running
from tests.faults import FaultProxy

ITEMS = 250


@pytest.fixture(scope="module")
def capped() -> Iterator[DirectusServer]:
    server = DirectusServer(env={"QUERY_LIMIT_MAX": "100", "GRAPHQL_INTROSPECTION": "false"})
    with running(server) as started:
        yield started


@pytest.fixture
def clients(capped: DirectusServer, make_client: Callable[..., DirectusClient]
            ) -> Iterator[dict[str, Any]]:
    factory = CollectionFactory(capped.url, capped.admin_token)
    name = factory({"n": "integer", "g": "integer"}, prefix="capped")
    with make_client(capped.url, auth=StaticToken(capped.admin_token)) as admin:
        admin.collection(name).create_many([{"n": i, "g": i} for i in range(ITEMS)],
                                           batch_size=100)
        with AccessGrants(admin) as grants:
            yield {"name": name, "admin": admin,
                   "api": grants.api_client({name: ["create", "read", "update", "delete"]}),
                   "public": grants.public_client({name: "read"})}
    factory.drop_all()


@pytest.mark.parametrize("who", ["admin", "api", "public"])
def test_reads_cover_every_match(clients: dict[str, Any], who: str) -> None:
    client: DirectusClient = clients[who]
    name = clients["name"]
    handle = client.collection(name, pk="id")  # nothing else tells these tokens the key
    assert handle.page_size == 1000  # more than the server allows: it adapts
    assert sorted(i["n"] for i in handle) == list(range(ITEMS))
    assert len(handle.limit(-1).fetch()) == ITEMS
    assert len(handle.limit(180).fetch()) == 180
    assert len(client.read_items(name, {"limit": -1})) == ITEMS
    assert len(handle.sort("-n").limit(150).with_meta().items) == 150
    assert len(handle.aggregate(count="*").group_by("g").all()) == ITEMS
    assert handle[100:300].count() == 150
    assert handle.sort("n")[240:].last()["n"] == ITEMS - 1


@pytest.mark.parametrize("who", ["admin", "api"])
def test_filtered_writes_cover_every_match(clients: dict[str, Any], who: str) -> None:
    client: DirectusClient = clients[who]
    handle = client.collection(clients["name"], pk="id")
    assert len(handle.filter(n__gte=0).update({"g": -1})) == ITEMS
    assert handle.filter(g=-1).count() == ITEMS
    assert handle.filter(g=-1).delete() == ITEMS
    assert handle.count() == 0


def test_unknowable_primary_key_is_asked_for(clients: dict[str, Any]) -> None:
    api: DirectusClient = clients["api"]
    handle = api.collection(clients["name"])
    # Iteration does without the key: offset paging in the order asked for.
    assert sorted(i["n"] for i in handle.sort("n")) == list(range(ITEMS))
    with pytest.raises(SchemaRequired, match=r"pk='<field>'"):
        handle.filter(n__lt=5).delete()
    assert handle.count() == ITEMS


def test_a_server_without_tus_refuses_resumable_uploads(
        capped: DirectusServer, make_client: Callable[..., DirectusClient]) -> None:
    # This module's server runs without TUS_ENABLED (the session's has it on): reused here
    # rather than starting one more. The refusal costs no request beyond the creation.
    with FaultProxy(capped.url, lifetime=60) as proxy:
        client = make_client(proxy.url, auth=StaticToken(capped.admin_token))
        with pytest.raises(ResumableUploadsUnavailable, match="TUS_ENABLED=true") as raised:
            client.files.upload(b"bytes", filename="a.txt", resumable=True, chunk_size=1024)
        assert [(s.method, s.path) for s in proxy.seen] == [("POST", "/files/tus")]
        assert client.files.filter(filename_download="a.txt").count() == 0
    assert isinstance(raised.value, NotFound)
    assert raised.value.code == "ROUTE_NOT_FOUND"
