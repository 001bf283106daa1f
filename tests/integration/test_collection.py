"""Collection handles against the real Directus: paging, terminals, CRUD, batches, SEARCH."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any, TypedDict

import pytest

from pydirectus import DirectusClient, NotFound, PermissionDenied, Q, Query, UsageError
from pydirectus.collection import BatchWriteError, Page
from pydirectus.testing.dialects import nulls_sort_first
from pydirectus.transport import Call
from tests.faults import FaultProxy

FIELDS = {"title": "string", "views": "integer", "status": "string", "group": "integer"}


class Article(TypedDict, total=False):
    id: int
    title: str
    views: int | None
    status: str


@pytest.fixture
def articles(make_collection: Callable[..., str], directus_client: DirectusClient) -> str:
    name = make_collection(FIELDS, prefix="coll")
    directus_client.collection(name).create_many([
        {"title": "a", "views": 10, "status": "published", "group": 1},
        {"title": "b", "views": 20, "status": "draft", "group": 1},
        {"title": "c", "views": None, "status": "published", "group": 2},
        {"title": "d", "views": 40, "status": None, "group": 2},
        {"title": "e", "views": 50, "status": "published", "group": 2},
    ])
    return name


class Wire:
    """What went over the wire (method, path with query), as a proxy in front of Directus
    saw it: the count is the same whichever face sent it."""

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy

    @property
    def calls(self) -> list[tuple[str, str]]:
        return [(seen.method, seen.path) for seen in self.proxy.seen]


@pytest.fixture
def counting(directus: Any, make_client: Callable[..., DirectusClient]) -> Any:
    with FaultProxy(directus.url, lifetime=300) as proxy:
        client = make_client(proxy.url, static_token=directus.admin_token, page_size=2)
        yield client, Wire(proxy)
        client.close()


def titles(items: Any) -> list[str]:
    return [item["title"] for item in items]


def test_chain_is_lazy_and_iterates_every_match(counting: Any, articles: str) -> None:
    client, session = counting
    query = client.collection(articles).filter(views__gte=10).sort("title")
    assert session.calls == []
    assert titles(query) == ["a", "b", "d", "e"]
    # page_size=2: pages of 2, 2, then an empty one that ends the iteration.
    reads = [path for method, path in session.calls if path.startswith(f"/items/{articles}")]
    assert len(reads) == 3


def test_explicit_window_fetches_only_that_window(counting: Any, articles: str) -> None:
    client, session = counting
    handle = client.collection(articles)
    assert titles(handle.sort("title")[1:4]) == ["b", "c", "d"]
    assert titles(handle.sort("-title").limit(1)) == ["e"]
    assert titles(handle.sort("title").limit(2).page(2)) == ["c", "d"]
    item_reads = [p for m, p in session.calls if p.startswith(f"/items/{articles}?")]
    assert len(item_reads) == 2 + 1 + 1  # the 3-item window in pages of 2; then 1; then 1


def test_first_use_learns_the_key_in_one_request(counting: Any, articles: str) -> None:
    client, session = counting
    assert titles(client.collection(articles).sort("title").limit(3).fetch()) == [
        "a", "b", "c"]
    # GET /fields gives the key and the field types; a singleton shows in its answer.
    assert [path.split("?")[0] for _, path in session.calls] == [
        f"/fields/{articles}", f"/items/{articles}"]


def test_non_unique_sort_pages_without_skips(counting: Any, articles: str) -> None:
    client, _ = counting
    items = client.collection(articles).sort("group").fields("id", "group").all()
    assert sorted(i["id"] for i in items) == sorted({i["id"] for i in items})
    assert len(items) == 5
    assert [i["group"] for i in items] == [1, 1, 2, 2, 2]


def test_terminals(directus: Any, directus_client: DirectusClient, articles: str) -> None:
    handle = directus_client.collection(articles, Article)
    assert handle.count() == 5
    assert handle.filter(status="published").count() == 3
    assert handle.filter(views__gt=1000).count() == 0
    assert handle.filter(title="c").exists()
    assert not handle.filter(title="zzz").exists()
    first = handle.sort("-views").first()
    # "c" has no views: the database decides where NULLs go.
    top = "c" if nulls_sort_first(directus.database, descending=True) else "e"
    assert first is not None and first["title"] == top
    assert handle.filter(title="zzz").first() is None
    some = handle.filter(title="a").first()
    assert some is not None
    assert handle.get(some["id"])["title"] == "a"
    assert handle.fields("title").get(some["id"]) == {"title": "a"}
    assert handle.filter(status="published").get(some["id"])["title"] == "a"
    with pytest.raises(NotFound):
        handle.filter(status="draft").get(some["id"])  # exists, but does not match
    page = handle.sort("title").limit(2).with_meta()
    assert isinstance(page, Page)
    assert titles(page.items) == ["a", "b"]
    assert page.total_count == 5 and page.filter_count == 5
    assert handle.filter(status="published").limit(1).with_meta().filter_count == 3


def test_get_missing_item_is_not_found(directus_client: DirectusClient, articles: str) -> None:
    with pytest.raises(NotFound, match="no item 999999"):
        directus_client.collection(articles).get(999999)
    with pytest.raises(PermissionDenied, match="no_such_collection"):
        directus_client.collection("no_such_collection").get(1)
    # A forbidden (here: unknown) field is not a missing item.
    with pytest.raises(PermissionDenied, match="no_such_field"):
        directus_client.collection(articles).fields("no_such_field").get(1)


def test_unknown_collection_is_named(directus_client: DirectusClient) -> None:
    with pytest.raises(PermissionDenied, match='"no_such_collection"'):
        directus_client.collection("no_such_collection").create({"a": 1})


def test_aggregate_and_group_by(directus_client: DirectusClient, articles: str) -> None:
    handle = directus_client.collection(articles)
    grouped = handle.aggregate(count="*", sum="views").group_by("group").sort("group").all()
    assert [(g["group"], int(g["count"]), int(g["sum"]["views"])) for g in grouped] == [
        (1, 2, 30), (2, 3, 90)]
    totals = handle.aggregate(max="views", min="views").fetch()
    assert int(totals[0]["max"]["views"]) == 50 and int(totals[0]["min"]["views"]) == 10


def test_filtered_update_and_delete(directus_client: DirectusClient, articles: str) -> None:
    handle = directus_client.collection(articles)
    updated = handle.filter(status="published").update({"views": 1}, fields=["title", "views"])
    assert sorted(titles(updated)) == ["a", "c", "e"]
    assert all(item["views"] == 1 for item in updated)
    assert handle.filter(views=1).count() == 3
    # exclude() keeps the nulls: the draft and the item whose status is null.
    assert handle.exclude(status="published").delete() == 2
    assert sorted(titles(handle)) == ["a", "c", "e"]


def test_filtered_update_reaches_past_the_default_limit(
        directus_client: DirectusClient, make_collection: Callable[..., str]) -> None:
    handle = directus_client.collection(make_collection({"n": "integer"}, prefix="many"))
    handle.create_many([{"n": 0} for _ in range(250)], batch_size=100)
    assert len(handle.filter(n=0).update({"n": 1})) == 250
    assert handle.filter(n=1).count() == 250
    assert handle.filter(n=1).delete() == 250
    assert handle.count() == 0


def test_crud_and_batches(directus_client: DirectusClient, articles: str) -> None:
    handle = directus_client.collection(articles)
    created = handle.create({"title": "x", "views": 1}, fields=["id", "title"])
    assert set(created) == {"id", "title"}
    assert handle.update(created["id"], {"views": 2}, fields=["views"]) == {"views": 2}
    handle.delete(created["id"])
    assert not handle.filter(id=created["id"]).exists()

    many = handle.create_many([{"title": f"m{i}", "views": i} for i in range(7)], batch_size=3)
    assert titles(many) == [f"m{i}" for i in range(7)]
    keys = [item["id"] for item in many]
    changed = handle.update_many(keys[:3], {"status": "bulk"})
    assert sorted(item["id"] for item in changed) == keys[:3]
    per_item = handle.update_batch(
        [{"id": key, "views": 100 + n} for n, key in enumerate(keys)], batch_size=4)
    assert len(per_item) == 7
    assert [i["views"] for i in handle.filter(id__in=keys).sort("id")] == [
        100 + n for n in range(7)]
    assert handle.delete_many(keys, batch_size=5) == 7
    assert handle.filter(id__in=keys).count() == 0


def test_failing_batch_says_what_was_written(directus_client: DirectusClient,
                                             make_collection: Callable[..., str]) -> None:
    name = make_collection({"code": {"type": "string", "schema": {"is_unique": True}}},
                           prefix="uniq")
    handle = directus_client.collection(name)
    items = [{"code": f"c{i}"} for i in range(5)] + [{"code": "c0"}] + [{"code": "z"}]
    with pytest.raises(BatchWriteError) as raised:
        handle.create_many(items, batch_size=3)
    error = raised.value
    assert [i["code"] for i in error.written] == ["c0", "c1", "c2"]
    assert error.not_written == items[3:]
    assert "3 of 7" in str(error)
    # Directus writes a batch in one transaction: nothing of the failing batch landed.
    assert sorted(i["code"] for i in handle) == ["c0", "c1", "c2"]


def test_search_fallback_for_a_long_in_list(counting: Any, articles: str) -> None:
    client, session = counting
    handle = client.collection(articles)
    ids = [item["id"] for item in handle.fields("id")]
    wanted = ids[:2] + list(range(10_000, 13_000))
    assert len(wanted) > 3000
    found = handle.filter(id__in=wanted).fields("id").sort("id").all()
    assert [i["id"] for i in found] == sorted(ids[:2])
    assert ("SEARCH", f"/items/{articles}") in session.calls


def test_singleton(directus_client: DirectusClient, make_collection: Callable[..., str]) -> None:
    name = make_collection({"site_name": "string"}, prefix="single", singleton=True)
    settings = directus_client.singleton(name)
    settings.update({"site_name": "My site"})
    assert settings.get()["site_name"] == "My site"
    assert settings.get({"fields": ["site_name"]}) == {"site_name": "My site"}
    with pytest.raises(UsageError, match="singleton"):
        directus_client.collection(name).create({"site_name": "nope"})


@pytest.mark.parametrize(
    "call",
    [
        lambda h: h.create_many({"title": "not a list"}),
        lambda h: h.create_many([{"title": "ok"}, "not a dict"]),
        lambda h: h.create_many([{}], batch_size=0),
        lambda h: h.update(1, None),
        lambda h: h.update(None, {"title": "x"}),
        lambda h: h.update_many("1,2", {"title": "x"}),
        lambda h: h.update_batch([{"title": "no key"}]),
        lambda h: h.delete_many([1, None]),
        lambda h: h.filter(title="x").update("title"),
        lambda h: h.page(2).offset(3).all(),
        lambda h: h.page(2).all(),
        lambda h: h.create({"title": "x"}, fields=[]),
    ],
)
def test_bad_input_sends_no_write(counting: Any, articles: str, call: Any) -> None:
    client, session = counting
    with pytest.raises(UsageError):
        call(client.collection(articles))
    assert [m for m, _ in session.calls if m in ("POST", "PATCH", "DELETE")] == []


def test_schema_aware_exclude(directus_client: DirectusClient,
                              make_collection: Callable[..., str], directus: Any) -> None:
    authors = make_collection({"name": "string"}, prefix="authors")
    posts = make_collection({"title": "string"}, prefix="posts")
    from pydirectus.testing import CollectionFactory

    factory = CollectionFactory(directus.url, directus.admin_token)
    factory.many_to_one(posts, "author", authors, one_field="posts")
    ann, bob = directus_client.collection(authors).create_many([{"name": "Ann"}, {"name": "Bob"}])
    nobody = directus_client.collection(authors).create({"name": None})
    directus_client.collection(posts).create_many([
        {"title": "p1", "author": ann["id"]}, {"title": "p2", "author": bob["id"]},
        {"title": "p3", "author": None}, {"title": "p4", "author": ann["id"]}])
    directus_client.refresh_schema()
    post_handle = directus_client.collection(posts)
    # many-to-one: the complement keeps posts with no author.
    assert sorted(titles(post_handle.exclude(author__name="Ann"))) == ["p2", "p3"]
    assert sorted(titles(post_handle.filter(~Q(author__name="Ann")))) == ["p2", "p3"]
    # one-to-many: authors without any post by that title, including authors with no posts.
    author_handle = directus_client.collection(authors)
    names = sorted(str(a["name"]) for a in author_handle.exclude(posts__title="p1"))
    assert names == ["Bob", "None"]
    assert author_handle.exclude(posts__title="p1").count() == 2
    assert nobody["id"] in [a["id"] for a in author_handle.exclude(posts__title="p1")]
    factory.session.close()


def test_iteration_memory_is_bounded(directus_client: DirectusClient, directus: Any,
                                     make_collection: Callable[..., str],
                                     make_client: Callable[..., DirectusClient]) -> None:
    name = make_collection({"title": "string", "body": "text"}, prefix="big")
    handle = directus_client.collection(name)
    body = "x" * 200
    handle.create_many([{"title": f"t{i:05d}", "body": body} for i in range(5000)],
                       batch_size=1000)
    paged = make_client(directus.url, static_token=directus.admin_token, page_size=250)

    def peak(run: Callable[[], int]) -> tuple[int, int]:
        gc.collect()
        tracemalloc.start()
        try:
            seen = run()
            return seen, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    previous = [""]

    def iterate() -> int:
        count = 0
        for item in paged.collection(name).sort("title"):
            assert item["title"] > previous[0]  # in order, each exactly once
            previous[0] = item["title"]
            count += 1
        return count

    def read_all() -> int:
        body_ = directus_client.transport.send_json(
            Call("GET", ("items", name), params={"limit": "-1"}))
        return len(body_["data"])

    seen, paged_peak = peak(iterate)
    assert seen == 5000
    everything, whole_peak = peak(read_all)
    assert everything == 5000
    assert paged_peak < whole_peak / 4, (paged_peak, whole_peak)
    paged.close()


def test_query_presets_bind(directus: Any, directus_client: DirectusClient,
                            articles: str) -> None:
    preset = Query().filter(status="published").sort("-views").fields("title")
    stored = preset.to_dict()
    handle = directus_client.collection(articles)
    # "c" has no views: the database decides where NULLs go.
    order = ["c", "e", "a"] if nulls_sort_first(directus.database, descending=True) else [
        "e", "a", "c"]
    assert titles(handle.query(Query.from_dict(stored))) == order
    assert titles(handle.query(stored)) == order
    assert handle.query(preset).as_query == preset
