"""The handle's whole surface under the tokens real apps run on: admin, API-only, Public.

The API-only user's policy has CRUD on the collection and no app access, so it may not read
/collections, /fields or /relations; Public may only read. Nothing but the operation's own
permission may be needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pydirectus import BatchWriteError, DirectusClient, NotFound, PermissionDenied, UsageError
from pydirectus.testing.access import AccessGrants, TokenClients
from tests.faults import FaultProxy

SEED = [{"title": f"t{i:02d}", "views": i % 5 if i % 7 else None,
         "status": "published" if i % 3 else "draft"} for i in range(30)]


@pytest.fixture
def seeded(token_clients: TokenClients) -> TokenClients:
    token_clients.admin.collection(token_clients.collection).create_many(SEED)
    return token_clients


def _handle(client: DirectusClient, name: str, page_size: int = 4) -> Any:
    client.page_size = page_size  # small pages: every read below pages
    return client.collection(name)


@pytest.mark.parametrize("who", ["admin", "api", "public"])
def test_reads_need_only_read_permission(seeded: TokenClients, who: str) -> None:
    client = dict(seeded.items())[who]
    handle = _handle(client, seeded.collection)
    expected = sorted(row["title"] for row in SEED)
    assert sorted(item["title"] for item in handle) == expected
    assert [i["title"] for i in handle.sort("title").all()] == expected
    assert handle.count() == 30
    assert handle.filter(status="draft").count() == 10
    assert handle.exists() and not handle.filter(title="nope").exists()
    assert handle.sort("title").first()["title"] == "t00"
    assert handle.sort("title").last()["title"] == "t29"
    assert handle.last()["title"] == "t29"  # unordered: by primary key
    assert handle.sort("title")[10:20].count() == 10
    assert [i["title"] for i in handle.sort("title")[27:40]] == ["t27", "t28", "t29"]
    assert handle.sort("title").limit(10).page(3).first()["title"] == "t20"
    assert handle.sort("title")[5:8].last()["title"] == "t07"
    page = handle.sort("title").limit(5).with_meta()
    assert [i["title"] for i in page.items] == expected[:5]
    assert page.filter_count == 30
    one = handle.filter(title="t03").first()
    assert handle.get(one["id"])["title"] == "t03"
    with pytest.raises(NotFound):
        handle.get(10**6)
    assert len(handle.limit(-1).fetch()) == 30
    assert len(handle.fetch()) == 30
    # fetch() asks for a window in one request; iterating pages it by 4: the same order,
    # ties (and NULLs) broken the same way.
    window = handle.sort("views")[3:25]
    assert [i["id"] for i in window.fetch()] == [i["id"] for i in window]
    groups = handle.aggregate(count="*").group_by("views").sort("views").all()
    # NULL's group comes first on SQLite, last on PostgreSQL.
    assert sorted((g["views"] if g["views"] is not None else -1, int(g["count"]))
                  for g in groups) == [(-1, 5), (0, 5), (1, 5), (2, 5), (3, 5), (4, 5)]
    assert client.read_items(seeded.collection, {"limit": -1, "fields": ["title"]})[0] == {
        "title": "t00"}
    assert client.read_item(seeded.collection, one["id"])["title"] == "t03"
    # Nulls sort where the database puts them, and keyset paging follows.
    by_views = [i["title"] for i in handle.sort("views", "title")]
    assert len(by_views) == 30 and len(set(by_views)) == 30


@pytest.mark.parametrize("who", ["admin", "api"])
def test_writes_need_only_write_permission(seeded: TokenClients, who: str) -> None:
    client = dict(seeded.items())[who]
    handle = _handle(client, seeded.collection)
    made = handle.create({"title": "new"})
    assert handle.update(made["id"], {"views": 99})["views"] == 99
    handle.delete(made["id"])
    with pytest.raises(NotFound):
        handle.update(made["id"], {"views": 1})
    with pytest.raises(NotFound):
        handle.delete(made["id"])
    many = handle.create_many([{"title": f"m{i}"} for i in range(9)], batch_size=4)
    keys = [m["id"] for m in many]
    assert len(handle.update_many(keys, {"status": "bulk"}, batch_size=4)) == 9
    assert len(handle.update_batch([{"id": k, "views": 7} for k in keys], batch_size=4)) == 9
    assert handle.filter(status="bulk", views=7).count() == 9
    assert len(handle.filter(status="bulk").update({"views": 8})) == 9
    assert handle.delete_many([*keys[:3], 10**6, 10**6 + 1]) == 3
    assert handle.filter(status="bulk").delete() == 6
    assert handle.count() == 30
    item = client.create_item(seeded.collection, {"title": "seed"})
    assert client.update_item(seeded.collection, item["id"], {"views": 3})["views"] == 3
    client.delete_item(seeded.collection, item["id"])


def test_public_writes_are_refused(seeded: TokenClients) -> None:
    handle = _handle(seeded.public, seeded.collection)
    some = handle.first()
    with pytest.raises(BatchWriteError) as refused:
        handle.create_many([{"title": "x"}])
    assert isinstance(refused.value.cause, PermissionDenied) and refused.value.written == []
    for write in (lambda: handle.create({"title": "x"}),
                  lambda: handle.update(some["id"], {"title": "x"}),
                  lambda: handle.delete(some["id"]),
                  lambda: seeded.public.create_item(seeded.collection, {"title": "x"})):
        with pytest.raises(PermissionDenied):
            write()
    # Filtered writes find their matches (read is allowed), then the batch is refused.
    for batched in (lambda: handle.filter(title="t01").update({"title": "x"}),
                    lambda: handle.filter(title="t01").delete()):
        with pytest.raises(BatchWriteError) as refused:
            batched()
        assert isinstance(refused.value.cause, PermissionDenied)
        assert refused.value.written == [] and len(refused.value.not_written) == 1
    assert handle.count() == 30


def test_no_schema_permission_is_asked_for(seeded: TokenClients, directus: Any,
                                           make_client: Callable[..., DirectusClient]) -> None:
    # Every request of a new client of the API-only token, as a proxy in front of Directus
    # receives it.
    with FaultProxy(directus.url, lifetime=120) as proxy:
        api = make_client(proxy.url, auth=seeded.api.auth)

        def session_calls() -> list[str]:
            return [f"{seen.method} {seen.path.split('?')[0]}" for seen in proxy.seen]

        handle = _handle(api, seeded.collection)
        handle.create({"title": "x"})
        handle.filter(title="x").update({"views": 1})
        # no read before a create
        assert session_calls()[0] == f"POST /items/{seeded.collection}"
        assert len(handle.all()) == 31 and handle.exists()
        # What the token may not read is asked once per client, then learned from GraphQL.
        learned = [c for c in session_calls() if not c.startswith(("GET /items", "POST /items",
                                                                   "PATCH /items"))]
        assert learned == [f"GET /fields/{seeded.collection}", "POST /graphql"]
        proxy.clear()
        assert _handle(api, seeded.collection).sort("views").last() is not None
        assert all(c.startswith("GET /items") for c in session_calls())
        api.close()


def test_pk_can_be_named_when_nothing_tells_it(directus_client: DirectusClient,
                                              make_collection: Callable[..., str]) -> None:
    name = make_collection({"n": "integer"}, pk="uuid")
    directus_client.collection(name).create_many([{"n": i} for i in range(5)])
    with AccessGrants(directus_client) as grants:
        public = grants.public_client({name: "read"})
        handle = public.collection(name, pk="id")
        handle.page_size = 2
        assert sorted(i["n"] for i in handle) == [0, 1, 2, 3, 4]
        assert handle.sort("n").last()["n"] == 4


def test_relational_exclude_works_without_relations_access(
        directus_client: DirectusClient, make_collection: Callable[..., str],
        directus: Any) -> None:
    # The token may not read /relations: the kinds come from /server/specs/oas (what
    # says what is missing where nothing tells: tests/integration/test_token_relations.py).
    from pydirectus.testing import CollectionFactory

    authors = make_collection({"name": "string"}, prefix="authors")
    posts = make_collection({"title": "string"}, prefix="posts")
    factory = CollectionFactory(directus.url, directus.admin_token)
    factory.many_to_one(posts, "author", authors)
    factory.session.close()
    with AccessGrants(directus_client) as grants:
        api = grants.api_client({posts: "read", authors: "read"})
        directus_client.collection(posts).create_many([{"title": "a"}, {"title": "b"}])
        assert [p["title"] for p in api.collection(posts).exclude(author__name="Ann").sort(
            "title").fields("title")] == ["a", "b"]
        assert api.collection(posts).filter(author__name="Ann").all() == []


def test_singleton_through_collection(token_clients: TokenClients,
                                      make_collection: Callable[..., str]) -> None:
    admin = token_clients.admin
    name = make_collection({"site_name": "string"}, prefix="single", singleton=True)
    admin.singleton(name).update({"site_name": "Mine"})
    with AccessGrants(admin) as grants:
        for client in (admin, grants.api_client({name: ["read", "update"]}),
                       grants.public_client({name: "read"})):
            handle = client.collection(name)
            assert handle.all() == [handle.fetch()]
            assert handle.fetch()["site_name"] == "Mine"
            assert handle.first()["site_name"] == "Mine"
            with pytest.raises(UsageError, match="singleton"):
                handle.create({"site_name": "nope"})
