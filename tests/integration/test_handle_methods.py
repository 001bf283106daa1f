"""Django's vocabulary on a real Directus, as admin, an API-only user and Public.

get(**lookups), get_or_create, update_or_create (with a concurrent create on a unique
field), in_bulk (batched, SEARCH for long lists), values_list, values, q[i], bool/len,
query() merging, empty ``in``, and the two readings of to-many paths (one-to-many and
many-to-many) on the server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from pydirectus import DirectusClient, MultipleItemsFound, NotFound, Q, Query, StaticToken
from pydirectus.errors import InvalidQuery, PermissionDenied
from pydirectus.testing import CollectionFactory
from pydirectus.testing.access import AccessGrants, TokenClients

ROWS = [{"title": f"t{i}", "views": i % 4, "status": "draft" if i % 3 else "published"}
        for i in range(12)]


@pytest.fixture
def seeded(token_clients: TokenClients) -> TokenClients:
    token_clients.admin.collection(token_clients.collection).create_many(ROWS)
    return token_clients


def test_get_by_lookups_q_and_key(seeded: TokenClients) -> None:
    for label, client in seeded.items():
        items = client.collection(seeded.collection)
        one = items.get(title="t5")
        assert one["title"] == "t5", label
        assert items.get(Q(title="t5") & Q(views=1))["id"] == one["id"]
        assert items.get(one["id"])["title"] == "t5"
        assert items.get(pk=one["id"])["title"] == "t5"
        assert [r["title"] for r in items.filter(pk__in=[one["id"]]).fetch()] == ["t5"]
        assert items.filter(status="draft").get(title="t5")["id"] == one["id"]
        with pytest.raises(NotFound, match="title='nope'"):
            items.get(title="nope")
        with pytest.raises(MultipleItemsFound) as many:
            items.get(views=1)
        assert len(many.value.keys) == 2


def test_get_or_create_and_update_or_create(seeded: TokenClients) -> None:
    for label, client in _readers(seeded):
        items = client.collection(seeded.collection)
        found, created = items.get_or_create(title="t1", defaults={"views": 99})
        assert (found["title"], created) == ("t1", False), label
        made, created = items.get_or_create(title=f"new-{label}", defaults={"views": 7})
        assert created and made["views"] == 7
        again, created = items.get_or_create(title=f"new-{label}", defaults={"views": 8})
        assert not created and again["id"] == made["id"]
        updated, created = items.update_or_create(title=f"new-{label}", defaults={"views": 9})
        assert not created and updated["views"] == 9
        fresh, created = items.update_or_create(
            title=f"up-{label}", defaults={"views": 1}, create_defaults={"views": 2}
        )
        assert created and fresh["views"] == 2
    with pytest.raises(Exception):  # noqa: B017 - Public may only read
        seeded.public.collection(seeded.collection).get_or_create(title="nope")


def test_update_or_create_survives_a_concurrent_create(
    directus: Any, directus_client: DirectusClient, make_collection: Callable[..., str]
) -> None:
    name = make_collection({"slug": {"type": "string", "schema": {"is_unique": True},
                                     "meta": {}}, "views": "integer"})
    items = directus_client.collection(name)
    # Another client creates the item between our read and our create: Directus answers
    # RECORD_NOT_UNIQUE, and update_or_create reads the winner and updates it. (The read
    # is the handle's get plan, which both faces run; the other client is a sync one, as
    # the plan runs on the async face's event loop, which cannot wait for itself.)
    other = DirectusClient(directus.url, auth=StaticToken(directus.admin_token))
    real_get = items._get
    calls = {"n": 0}

    def late_get(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            other.collection(name).create({"slug": "s", "views": 1})
            raise NotFound(404, "ITEM_NOT_FOUND", "not yet", {}, None)
        return real_get(*args, **kwargs)

    items._get = late_get  # type: ignore[method-assign]
    item, created = items.update_or_create(slug="s", defaults={"views": 5})
    other.close()
    assert not created and item["views"] == 5
    assert [row["views"] for row in directus_client.collection(name)] == [5]
    # And for real, many at once: one row, no error.
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            directus_client.collection(name).get_or_create(slug="t", defaults={"views": i})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert directus_client.collection(name).filter(slug="t").count() == 1


def _readers(seeded: TokenClients) -> list[tuple[str, DirectusClient]]:
    # The admin here; the API-only user and the Public policy run these methods (and their
    # refusals) in test_handle_methods_tokens.py.
    return [("admin", seeded.admin)]


def test_in_bulk_values_list_and_values(seeded: TokenClients) -> None:
    for label, client in _readers(seeded):
        items = client.collection(seeded.collection)
        ids = items.sort("id").values_list("id", flat=True).all()
        assert len(ids) == 12, label
        bulk = items.in_bulk([*ids[:5], 999999], batch_size=2)
        assert sorted(bulk) == sorted(ids[:5])
        assert bulk[ids[0]]["title"] == "t0"
        assert items.in_bulk(["t3", "t4"], field_name="title")["t4"]["views"] == 0
        assert items.in_bulk([]) == {}
        pairs = items.filter(views=2).sort("title").values_list("title", "views").all()
        assert pairs == [("t10", 2), ("t2", 2), ("t6", 2)]
        assert items.sort("-id")[:2].values("title").all() == [{"title": "t11"}, {"title": "t10"}]


def test_in_bulk_of_a_long_list_goes_out_as_search(
    directus_client: DirectusClient, make_collection: Callable[..., str]
) -> None:
    items = directus_client.collection(make_collection({"n": "integer"}))
    created = items.create_many([{"n": i} for i in range(1500)])
    keys = [row["id"] for row in created]
    bulk = items.in_bulk([*keys, *range(10**6, 10**6 + 1500)], batch_size=2000)
    assert sorted(bulk) == sorted(keys)


def test_index_bool_len_and_windows(seeded: TokenClients) -> None:
    for label, client in seeded.items():
        items = client.collection(seeded.collection).sort("id")
        assert items[0]["title"] == "t0", label
        assert items[3]["title"] == "t3"
        assert items[2:8][1]["title"] == "t3"
        assert [r["title"] for r in items[2:8][1:3].fetch()] == ["t3", "t4"]
        assert [r["title"] for r in items[10:20][0:5].fetch()] == ["t10", "t11"]
        with pytest.raises(IndexError):
            items[12]
        with pytest.raises(IndexError):
            items[:3][3]
        with pytest.raises(InvalidQuery, match="negative"):
            items[-1]
        with pytest.raises(TypeError, match=r"exists\(\)"):
            bool(items)
        with pytest.raises(TypeError, match=r"count\(\)"):
            len(items)


def test_pk_in_q_objects_is_the_primary_key(seeded: TokenClients) -> None:
    items = seeded.admin.collection(seeded.collection)
    first = items.sort("id")[0]
    got = items.filter(Q(pk=first["id"]) | Q(title="t2")).sort("title").fetch()
    assert [r["title"] for r in got] == ["t0", "t2"]
    assert items.exclude(pk__lte=first["id"]).count() == 11


def test_query_merges_what_was_chained(seeded: TokenClients) -> None:
    items = seeded.api.collection(seeded.collection)
    q = items.filter(status="draft").query(Query().filter(views=1).sort("title"))
    assert [r["title"] for r in q.fetch()] == ["t1", "t5"]
    d = items.filter(status="draft").query({"filter": {"views": {"_eq": 2}}})
    assert sorted(r["title"] for r in d.fetch()) == ["t10", "t2"]


def test_empty_in_and_its_negation_on_the_server(seeded: TokenClients) -> None:
    for label, client in seeded.items():
        items = client.collection(seeded.collection)
        assert items.filter(id__in=[]).fetch() == [], label
        assert len(items.exclude(id__in=[]).fetch()) == 12
        assert len(items.filter(title__nin=set()).fetch()) == 12
        assert items.exclude(title__nin=()).fetch() == []
        assert len(items.filter(views__in=range(2)).fetch()) == 6


# ------------------------------------------------------- the two readings of to-many


@pytest.fixture
def tagged(directus: Any, directus_client: DirectusClient) -> Any:
    """articles -> comments (one-to-many) and articles <-> tags (many-to-many)."""
    factory = CollectionFactory(directus.url, directus.admin_token)
    try:
        articles = factory({"title": "string"}, prefix="darticles")
        comments = factory({"text": "string", "score": "integer"}, prefix="dcomments")
        tags = factory({"name": "string"}, prefix="dtags")
        junction = factory({}, prefix="darticles_tags")
        factory.many_to_one(comments, "article", articles, one_field="comments")
        factory.many_to_one(junction, "articles_id", articles, one_field="tags")
        factory.many_to_one(junction, "tags_id", tags)
        directus_client.refresh_schema()
        c = directus_client
        py, sql = (c.collection(tags).create({"name": n})["id"] for n in ("python", "sql"))
        both, only_py, _none = (c.collection(articles).create({"title": t})["id"]
                               for t in ("both", "py", "none"))
        c.collection(junction).create_many([
            {"articles_id": both, "tags_id": py}, {"articles_id": both, "tags_id": sql},
            {"articles_id": only_py, "tags_id": py},
        ])
        c.collection(comments).create_many([
            {"article": both, "text": "a", "score": 1}, {"article": both, "text": "b", "score": 2},
            {"article": only_py, "text": "a", "score": 2},
        ])
        grants = AccessGrants(directus_client)
        readable = {n: ["read"] for n in (articles, comments, tags, junction)}
        # Chained filters on one to-many path compile by the relation kinds: a token
        # that may read /relations gets them; one that may not learns them from
        # /server/specs/oas.
        api = grants.api_client({**readable, "directus_relations": ["read"]})
        blind = grants.api_client(readable)
        yield articles, {"admin": directus_client, "api": api, "blind": blind}, blind
        grants.revoke()
    finally:
        factory.drop_all()
        directus_client.refresh_schema()


def _titles(q: Any) -> list[str]:
    return sorted(row["title"] for row in q.fields("title").fetch())


def test_chained_filters_on_many_to_many_and_one_to_many(tagged: Any) -> None:
    articles, clients, blind = tagged
    some = blind.collection(articles).filter(comments__some__text="a")
    assert _titles(some.filter(comments__some__score=2)) == ["both", "py"]
    for label, client in clients.items():
        items = client.collection(articles)
        # many-to-many: separate calls, separate tags
        chained = items.filter(tags__tags_id__name="python").filter(tags__tags_id__name="sql")
        assert _titles(chained) == ["both"], label
        assert _titles(items.filter(Q(tags__tags_id__name="python")
                                    & Q(tags__tags_id__name="sql"))) == ["both"]
        # one call: the same tag must be both
        assert _titles(items.filter(tags__tags_id__name="python",
                                    tags__tags_id__name__in=["sql"])) == []
        # one-to-many: a comment "a" and a comment with score 2 ...
        assert _titles(items.filter(comments__text="a").filter(comments__score=2)) == [
            "both", "py"]
        # ... or one comment with both
        assert _titles(items.filter(comments__text="a", comments__score=2)) == ["py"]


# ------------------------------------------------------------------ checked names


def test_misspelt_names_get_a_suggestion_when_the_schema_is_readable(
    seeded: TokenClients,
) -> None:
    admin = seeded.admin.collection(seeded.collection)
    # The first refusal (Directus's 403 "field does not exist") is explained ...
    with pytest.raises(InvalidQuery, match=r"no field 'titel' in .*did you mean 'title'"):
        admin.filter(titel="t1").fetch()
    # ... and from then on names are checked before sending.
    with pytest.raises(InvalidQuery, match=r"sort: no field 'veiws'.*did you mean 'views'"):
        admin.sort("-veiws").fetch()
    with pytest.raises(InvalidQuery, match=r"year\(\) does not apply"):
        admin.filter(title__year=2024).fetch()
    assert admin.filter(title="t1").fields("title").fetch() == [{"title": "t1"}]
    # A field added since the schema was read is found by reading it again.
    seeded.admin.transport.data("POST", "fields", seeded.collection,
                                json={"field": "subtitle", "type": "string"})
    assert admin.filter(subtitle__null=True).count() == 12
    # A token that may not read the schema: the server decides, as before.
    for client in (seeded.api, seeded.public):
        with pytest.raises(PermissionDenied):
            client.collection(seeded.collection).filter(titel="t1").fetch()


def test_aggregates_over_relational_paths_are_refused_before_sending(tagged: Any) -> None:
    articles, clients, blind = tagged
    for client in (*clients.values(), blind):
        items = client.collection(articles)
        with pytest.raises(InvalidQuery, match="500"):
            items.aggregate(count="comments__text").fetch()
        with pytest.raises(InvalidQuery, match="relational path"):
            items.aggregate(count="*").group_by("comments__text").fetch()
        assert items.aggregate(count="*").fetch() == [{"count": 3}]


def test_a_bound_query_saves_relational_negation_as_a_preset(tagged: Any) -> None:
    articles, clients, _ = tagged
    items = clients["admin"].collection(articles)
    bound = items.exclude(comments__text="a").exclude(tags__tags_id__name="sql").sort("title")
    d = bound.to_dict()  # compiled with the client's schema: _none forms, no SchemaRequired
    assert d["filter"] == {"_and": [
        {"comments": {"_none": {"text": {"_eq": "a"}}}},
        {"tags": {"_none": {"tags_id": {"name": {"_eq": "sql"}}}}},
    ]}  # fmt: skip
    assert Query.from_dict(d).to_dict() == d
    again = items.query(d)
    assert again.to_dict() == d
    assert _titles(again) == _titles(bound) == ["none"]
