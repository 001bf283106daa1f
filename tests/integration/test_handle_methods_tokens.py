"""Django's handle methods under the tokens real apps run on: an API-only user and Public.

``test_handle_methods`` runs them as admin; here the same vocabulary (iteration across
pages with and without prefetch, values_list, values, in_bulk, get, first/last,
count/exists, get_or_create, update_or_create, the delete of a window) runs as an API-only
user (a policy with no app access, so no /collections, /fields or /relations) and as the
Public policy. A token whose policy lacks the action gets PermissionDenied and nothing is
written: the admin client checks the server afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from pydirectus import (
    BatchWriteError,
    DirectusClient,
    MultipleItemsFound,
    NotFound,
    PermissionDenied,
    Q,
)
from pydirectus.testing.access import TokenClients
from tests.faults import FaultProxy

SEED = [{"title": f"t{i:02d}", "views": i % 6, "status": "published" if i % 3 else "draft"}
        for i in range(24)]
PAGE = 4
WHO = ["api", "public"]


def _titles(rows: Any) -> list[str]:
    return [row["title"] for row in rows]


def _expected(status: str | None = None, views: int | None = None) -> list[dict[str, Any]]:
    return [row for row in SEED if status in (None, row["status"])
            and views in (None, row["views"])]


@pytest.fixture
def seeded(token_clients: TokenClients) -> TokenClients:
    token_clients.admin.collection(token_clients.collection).create_many(SEED)
    return token_clients


def _handle(client: DirectusClient, name: str) -> Any:
    handle = client.collection(name)
    handle.page_size = PAGE  # small pages: every read of many items below pages
    return handle


@pytest.fixture
def proxy(directus: Any) -> Iterator[FaultProxy]:
    """A proxy in front of Directus that records every request (whichever face sent it)."""
    with FaultProxy(directus.url, lifetime=300) as running:
        yield running


def _sent(proxy: FaultProxy) -> list[tuple[str, str]]:
    """Return (method, path) of every request the proxy received since it was cleared."""
    return [(seen.method, seen.path.split("?")[0]) for seen in proxy.seen]


def _page_reads(proxy: FaultProxy, name: str) -> int:
    return _sent(proxy).count(("GET", f"/items/{name}"))


def _reads_after_the_first_row(rows: Iterable[Any], proxy: FaultProxy, name: str,
                               ahead: bool) -> int:
    """Take the first row of an iteration and wait: return how many pages were read. With
    prefetch the next page is on its way before the loop asks for it (2), else not (1)."""
    proxy.clear()
    iterator = iter(rows)
    next(iterator)
    deadline = time.monotonic() + (5.0 if ahead else 0.5)
    while time.monotonic() < deadline and _page_reads(proxy, name) < 2:
        time.sleep(0.02)
    time.sleep(0.1)  # nor a third
    reads = _page_reads(proxy, name)
    iterator.close()  # type: ignore[attr-defined]
    return reads


def _admin_rows(seeded: TokenClients) -> list[dict[str, Any]]:
    return seeded.admin.collection(seeded.collection).sort("id").all()


# ------------------------------------------------------------------------ reads


@pytest.mark.parametrize("prefetch", [True, False], ids=["prefetch", "no-prefetch"])
@pytest.mark.parametrize("who", WHO)
def test_iteration_reads_every_page(seeded: TokenClients, who: str, prefetch: bool,
                                    proxy: FaultProxy,
                                    make_client: Callable[..., DirectusClient]) -> None:
    token = dict(seeded.items())[who]
    published = sorted(_expected("published"), key=lambda r: (-r["views"], r["title"]))
    name = seeded.collection
    with make_client(proxy.url, auth=token.auth, page_size=PAGE, prefetch=prefetch) as client:
        query = client.collection(name).filter(status="published").sort("-views", "title")
        assert _titles(item for item in query) == _titles(published)
        assert _page_reads(proxy, name) >= len(published) // PAGE >= 3
        # With prefetch the page after the one in hand is fetched before the loop asks.
        assert _reads_after_the_first_row(query, proxy, name, prefetch) == (
            2 if prefetch else 1)
        # The per-loop switch overrides the client's setting.
        assert _titles(query.iterator(prefetch=not prefetch)) == _titles(published)
        assert _reads_after_the_first_row(query.iterator(prefetch=not prefetch), proxy, name,
                                          not prefetch) == (1 if prefetch else 2)
        # A window pages too, and stops at its end.
        assert _titles(query[3:13]) == _titles(published[3:13])
        assert _titles(query.exclude(views__gte=4)) == _titles(
            [r for r in published if r["views"] < 4])


@pytest.mark.parametrize("who", WHO)
def test_values_list_values_and_in_bulk(seeded: TokenClients, who: str) -> None:
    handle = _handle(dict(seeded.items())[who], seeded.collection)
    admin = _admin_rows(seeded)
    ids = handle.sort("id").values_list("id", flat=True).all()
    assert ids == [row["id"] for row in admin]
    assert handle.sort("-title").values_list("title", flat=True).all() == sorted(
        _titles(SEED), reverse=True)
    pairs = handle.filter(status="published").sort("views", "title").values_list(
        "title", "views").all()
    assert pairs == sorted(((r["title"], r["views"]) for r in _expected("published")),
                           key=lambda p: (p[1], p[0]))
    assert handle.filter(views=2).sort("-title").values("title", "status").all() == [
        {"title": r["title"], "status": r["status"]}
        for r in sorted(_expected(views=2), key=lambda r: r["title"], reverse=True)]
    whole = handle.filter(status="draft").sort("id").values().all()
    assert whole == [row for row in admin if row["status"] == "draft"]
    bulk = handle.in_bulk([*ids[:7], 10**6], batch_size=3)
    assert sorted(bulk) == ids[:7]
    assert [bulk[row["id"]] for row in admin[:7]] == admin[:7]
    assert {k: v["views"] for k, v in handle.in_bulk(["t03", "t10", "nope"],
                                                      field_name="title").items()} == {
        "t03": 3, "t10": 4}
    assert handle.in_bulk([]) == {}
    assert handle.in_bulk() == {row["id"]: row for row in admin}
    drafts = handle.filter(status="draft").in_bulk()
    assert sorted(drafts) == [row["id"] for row in admin if row["status"] == "draft"]


@pytest.mark.parametrize("who", WHO)
def test_get_first_last_count_exists(seeded: TokenClients, who: str) -> None:
    handle = _handle(dict(seeded.items())[who], seeded.collection)
    one = handle.get(title="t05")
    assert (one["title"], one["views"], one["status"]) == ("t05", 5, "published")
    assert handle.get(Q(title="t05") & Q(views=5))["id"] == one["id"]
    assert handle.get(Q(title="t05") | Q(title="zz"), status="published")["id"] == one["id"]
    assert handle.get(pk=one["id"])["title"] == "t05"
    assert handle.filter(status="published").get(views=5, title__startswith="t0")["id"] == (
        one["id"])
    with pytest.raises(NotFound, match="title='nope'"):
        handle.get(title="nope")
    with pytest.raises(NotFound):
        handle.get(pk=10**6)
    with pytest.raises(NotFound):
        handle.filter(status="draft").get(title="t05")  # exists, but not in the filter
    with pytest.raises(MultipleItemsFound) as many:
        handle.get(views=1)
    admin_ids = {row["id"] for row in _admin_rows(seeded) if row["views"] == 1}
    assert len(many.value.keys) == 2 and set(many.value.keys) <= admin_ids
    with pytest.raises(MultipleItemsFound):
        handle.get(Q(title="t01") | Q(title="t02"))

    drafts = handle.filter(status="draft").sort("title")
    draft_titles = sorted(_titles(_expected("draft")))
    assert drafts.first()["title"] == draft_titles[0]
    assert drafts.last()["title"] == draft_titles[-1]
    assert drafts[2:5].first()["title"] == draft_titles[2]
    assert drafts[2:5].last()["title"] == draft_titles[4]
    assert handle.filter(views__gte=4).sort("-views", "-title").first()["title"] == "t23"
    assert handle.filter(title="nope").first() is None
    assert handle.filter(title="nope").last() is None
    assert drafts.count() == len(draft_titles) == 8
    assert drafts[2:5].count() == 3 and drafts[6:20].count() == 2
    assert handle.filter(Q(views=0) | Q(views=5)).count() == 8
    assert drafts.exists() and drafts[7:].exists() and not drafts[8:].exists()
    assert not handle.filter(status="draft", views=1).exists()


# ------------------------------------------------------------------------ writes


def test_get_or_create_update_or_create_and_window_delete(seeded: TokenClients) -> None:
    handle = _handle(seeded.api, seeded.collection)
    admin = seeded.admin.collection(seeded.collection)
    found, created = handle.get_or_create(title="t01", defaults={"views": 99})
    assert (found["title"], found["views"], created) == ("t01", 1, False)
    assert handle.get_or_create(pk=found["id"])[0]["title"] == "t01"
    made, created = handle.get_or_create(title="new", defaults={"views": 7})
    assert created and (made["title"], made["views"]) == ("new", 7)
    again, created = handle.get_or_create(title="new", defaults={"views": 8})
    assert not created and again["id"] == made["id"] and again["views"] == 7
    updated, created = handle.update_or_create(title="new", defaults={"views": 9})
    assert not created and updated["id"] == made["id"] and updated["views"] == 9
    fresh, created = handle.update_or_create(title="up", status="draft",
                                             defaults={"views": 1}, create_defaults={"views": 2})
    assert created and (fresh["title"], fresh["status"], fresh["views"]) == ("up", "draft", 2)
    with pytest.raises(MultipleItemsFound):
        handle.get_or_create(views=3, defaults={"title": "dup"})
    with pytest.raises(MultipleItemsFound):
        handle.update_or_create(views=3, defaults={"title": "dup"})
    assert admin.get(made["id"])["views"] == 9
    assert admin.get(fresh["id"])["views"] == 2
    assert admin.count() == 26 and not admin.filter(title="dup").exists()

    drafts = sorted([*_titles(_expected("draft")), "up"])
    assert handle.filter(status="draft").sort("title")[2:7].delete() == 5
    assert sorted(_titles(admin.filter(status="draft"))) == drafts[:2] + drafts[7:]
    assert handle.filter(status="nothing").delete() == 0
    assert admin.count() == 21


# ------------------------------------------------------------------ refusals


def _seeded_with(make_token_clients: Callable[..., TokenClients],
                 actions: list[str]) -> TokenClients:
    """Seed a collection (as admin) whose API-only user and Public hold just these actions."""
    clients = make_token_clients(api_actions=actions, public_actions=actions)
    clients.admin.collection(clients.collection).create_many(SEED)
    return clients


def _untouched(seeded: TokenClients) -> None:
    """Assert the collection holds exactly the seed, as the admin reads it."""
    rows = _admin_rows(seeded)
    assert [{k: row[k] for k in ("title", "views", "status")} for row in rows] == SEED


@pytest.mark.parametrize("who", WHO)
def test_read_only_tokens_are_refused_writes(
    make_token_clients: Callable[..., TokenClients], who: str,
) -> None:
    seeded = _seeded_with(make_token_clients, ["read"])
    handle = _handle(dict(seeded.items())[who], seeded.collection)
    # What only reads works ...
    assert handle.get_or_create(title="t01", defaults={"views": 99}) == (
        handle.get(title="t01"), False)
    assert handle.update_or_create(title="t01")[1] is False  # nothing to change: no PATCH
    # ... what must write is refused, and nothing is written.
    with pytest.raises(PermissionDenied):
        handle.get_or_create(title="nope", defaults={"views": 1})
    with pytest.raises(PermissionDenied):
        handle.update_or_create(title="nope", defaults={"views": 1})
    with pytest.raises(PermissionDenied):
        handle.update_or_create(title="t01", defaults={"views": 42})
    with pytest.raises(BatchWriteError) as refused:
        handle.filter(status="draft").sort("title")[1:4].delete()
    assert isinstance(refused.value.cause, PermissionDenied)
    assert refused.value.written == [] and len(refused.value.not_written) == 3
    _untouched(seeded)


@pytest.mark.parametrize("who", WHO)
def test_writes_a_token_may_not_read_back_return_empty_records(
    make_token_clients: Callable[..., TokenClients], who: str,
) -> None:
    # Directus answers them 204: create() and update(pk) return the dict they promise (empty),
    # never None, and the item is written all the same.
    clients = make_token_clients(api_actions=["create", "update"],
                                 public_actions=["create", "update"])
    writer = dict(clients.items())[who]
    handle = writer.collection(clients.collection)
    assert handle.create({"title": "blind", "views": 1}) == {}
    assert writer.create_item(clients.collection, {"title": "seed style", "views": 2}) == {}
    admin = clients.admin.collection(clients.collection)
    made = admin.get(title="blind")
    assert made["views"] == 1 and admin.get(title="seed style")["views"] == 2
    assert handle.update(made["id"], {"views": 3}) == {}
    assert admin.get(made["id"])["views"] == 3


@pytest.mark.parametrize("who", WHO)
def test_tokens_without_read_are_refused_everything(
    make_token_clients: Callable[..., TokenClients], who: str, proxy: FaultProxy,
    make_client: Callable[..., DirectusClient],
) -> None:
    # Every action but read: get_or_create and friends must not create, update or delete
    # blindly after a refused read, and what needs the primary key says the token may not
    # read (GraphQL hides the collection), not that a schema fact is missing.
    seeded = _seeded_with(make_token_clients, ["create", "update", "delete"])
    # The token's client, through the proxy that records what is sent.
    client = make_client(proxy.url, auth=dict(seeded.items())[who].auth)
    proxy.clear()
    handle = _handle(client, seeded.collection)
    refused: list[Callable[[], Any]] = [
        lambda: list(handle.filter(status="draft").sort("title")),
        lambda: list(handle.iterator(prefetch=False)),
        lambda: handle.values_list("title", flat=True).all(),
        lambda: list(handle.values_list("title", "views")),
        lambda: handle.values("title").first(),
        lambda: handle.values().all(),
        lambda: handle.in_bulk(["t01"], field_name="title"),
        lambda: handle.in_bulk([1, 2]),
        lambda: handle.in_bulk(),
        lambda: handle.get(title="t01"),
        lambda: handle.get(Q(title="t01")),
        lambda: handle.get(pk=1),
        lambda: handle.first(),
        lambda: handle.last(),
        lambda: handle.sort("title").last(),
        lambda: handle.count(),
        lambda: handle.exists(),
        lambda: handle.get_or_create(title="t01"),
        lambda: handle.get_or_create(title="nope", defaults={"views": 1}),
        lambda: handle.get_or_create(pk=1, defaults={"title": "nope"}),
        lambda: handle.update_or_create(title="t01", defaults={"views": 42}),
        lambda: handle.update_or_create(title="nope", defaults={"views": 1}),
        lambda: handle.filter(status="draft")[0:3].delete(),
    ]
    for index, call in enumerate(refused):
        with pytest.raises(PermissionDenied):
            call()
        assert not [c for c in _sent(proxy) if c[0] != "GET" and c[1].startswith("/items")], (
            index)
    _untouched(seeded)
