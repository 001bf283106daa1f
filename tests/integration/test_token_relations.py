"""Relational queries give an API-only token and Public the admin's answers.

A blog schema (authors; posts with a many-to-one author and cover (a file), a
many-to-many to tags through a junction; comments with a many-to-one post and a score)
made with ``client.schema.define``. The admin reads ``/fields`` and ``/relations``; an
API-only user (a policy without app access, with read on these collections only) and
Public may not, so the client learns the relation kinds from ``/server/specs/oas`` (else
GraphQL introspection). Every query here whose compiled form depends on the kinds
(relational negation, chained filters on one to-many path, a preset holding a relational
exclude) and the ``__`` paths in sort and fields must answer the same for the three.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pydirectus import DirectusClient, InvalidQuery, Q, Query, SchemaRequired
from pydirectus.system import ManyToMany, ManyToOne
from pydirectus.testing.access import AccessGrants
from pydirectus.testing.collections import unique_name

from ..faults import Fault, FaultProxy

FORBIDDEN = b'{"errors":[{"message":"You don\'t have permission","extensions":' \
            b'{"code":"FORBIDDEN"}}]}'


@pytest.fixture(scope="module")
def blog(directus_client: DirectusClient) -> Iterator[dict[str, Any]]:
    """The blog schema with data, and clients: admin, API-only (read) and Public (read)."""
    admin = directus_client
    n = {key: unique_name(key) for key in ("authors", "tags", "posts", "comments")}
    admin.schema.define(n["authors"], {"name": "string", "age": "integer"})
    admin.schema.define(n["tags"], {"name": "string"})
    admin.schema.define(n["posts"], {
        "title": "string", "views": "bigInteger",
        "author": ManyToOne(n["authors"], reverse="posts"),
        "cover": ManyToOne("directus_files"),
        "tags": ManyToMany(n["tags"], reverse="posts")})
    admin.schema.define(n["comments"], {
        "body": "text", "score": "integer", "post": ManyToOne(n["posts"], reverse="comments")})
    junction = f"{n['posts']}_{n['tags']}"
    authors = admin.collection(n["authors"]).create_many([
        {"name": "Ann", "age": 30}, {"name": "Bob", "age": 41}, {"name": "Abe", "age": None},
        {"name": "Cid", "age": 25}])  # Cid writes nothing
    ids = [a["id"] for a in authors]
    tags = admin.collection(n["tags"]).create_many([{"name": "python"}, {"name": "sql"},
                                                     {"name": "go"}])
    tag_ids = [t["id"] for t in tags]
    link = f"{n['tags']}_id"
    posts = admin.collection(n["posts"]).create_many([
        {"title": "one", "views": 2**40, "author": ids[0],
         "tags": {"create": [{link: tag_ids[0]}, {link: tag_ids[1]}]}},
        {"title": "two", "views": 10, "author": ids[1], "tags": {"create": [{link: tag_ids[1]}]}},
        {"title": "three", "views": None, "author": ids[2]},
        {"title": "four", "views": 150, "author": None,
         "tags": {"create": [{link: tag_ids[0]}]}},
        {"title": "five", "views": 7, "author": ids[0], "tags": {"create": [{link: tag_ids[2]}]}},
        {"title": "six", "views": 0, "author": ids[1]},
    ])
    pids = [p["id"] for p in posts]
    admin.collection(n["comments"]).create_many([
        {"body": "great", "score": 5, "post": pids[0]},
        {"body": "meh", "score": 2, "post": pids[0]},
        {"body": "bad", "score": 1, "post": pids[1]},
        {"body": "good", "score": 4, "post": pids[2]},
        {"body": "fine", "score": 3, "post": pids[4]},
        {"body": "great too", "score": 4, "post": pids[4]},
        {"body": "lost", "score": 5, "post": None},
    ])
    readable = {name: "read" for name in (*n.values(), junction)}
    grants = AccessGrants(admin)
    try:
        yield {**n, "junction": junction, "grants": grants, "readable": readable,
               "clients": {"admin": admin, "api": grants.api_client(readable),
                           "public": grants.public_client(readable)}}
    finally:
        grants.revoke()
        admin.schema.drop(n["comments"], junction, n["posts"], n["tags"], n["authors"])


def _queries(blog: dict[str, Any]) -> dict[str, Callable[[DirectusClient], Any]]:
    """Return label -> a read whose compiled form depends on the relation kinds."""
    posts, authors, tags = blog["posts"], blog["authors"], blog["tags"]
    link = f"{tags}_id"

    def ids(handle: Any) -> list[Any]:
        return sorted(item["title"] for item in handle.fields("title"))

    return {
        "m2o exclude": lambda c: ids(c.collection(posts).exclude(author__name__startswith="A")),
        "o2m negation": lambda c: ids(c.collection(posts).filter(~Q(comments__score__gte=4))),
        "m2m exclude": lambda c: ids(c.collection(posts).exclude(
            **{f"tags__{link}__name": "python"})),
        "o2m exclude from the one side": lambda c: sorted(
            a["name"] for a in c.collection(authors).exclude(posts__views__gt=100).fields(
                "name")),
        "chained to-many": lambda c: ids(c.collection(posts).filter(
            comments__score__gte=4).filter(comments__body__startswith="g")),
        "chained to-many, negated": lambda c: ids(c.collection(posts).exclude(
            comments__score__gte=4).exclude(comments__body="meh")),
        "one call on a to-many path": lambda c: ids(c.collection(posts).filter(
            comments__score__gte=4, comments__body__startswith="great")),
        "__ in sort and fields": lambda c: c.collection(posts).filter(
            author__isnull=False).sort("author__name", "-views").fields(
                "title", "views", "author__name").all(),
        "m2o exclude, typed": lambda c: c.collection(posts).exclude(
            author__age__lt=35).sort("title").fields("title", "views").all(),
    }


@pytest.mark.parametrize("label", ["api", "public"])
def test_relational_queries_answer_as_for_the_admin(blog: dict[str, Any], label: str) -> None:
    client = blog["clients"][label]
    for name, read in _queries(blog).items():
        expected = read(blog["clients"]["admin"])
        assert read(client) == expected, name
        assert expected, f"{name}: an empty answer proves little"


def _trees(blog: dict[str, Any]) -> st.SearchStrategy[Q]:
    """Random Q trees over many-to-one, one-to-many and many-to-many paths."""
    link = f"{blog['tags']}_id"
    leaves = st.sampled_from([
        Q(author__name__startswith="A"), Q(author__age__lt=35), Q(author__isnull=True),
        Q(author__age=None), Q(comments__score__gte=4), Q(comments__body__startswith="g"),
        Q(comments__score__lt=2), Q(comments__body=None), Q(**{f"tags__{link}__name": "python"}),
        Q(**{f"tags__{link}__name__in": ["sql", "go"]}), Q(views__gt=5),
        Q(title__in=["one", "two", "six"]), Q(comments__some__score=5),
        Q(comments__none__body__startswith="g")])
    return st.recursive(leaves, lambda sub: st.one_of(
        st.tuples(sub, sub).map(lambda ab: ab[0] & ab[1]),
        st.tuples(sub, sub).map(lambda ab: ab[0] | ab[1]),
        sub.map(lambda a: ~a)), max_leaves=4)


def _answer(client: DirectusClient, posts: str, calls: list[tuple[str, Q]]) -> Any:
    """Return the titles a chain of filter()/exclude() calls selects, or the refusal."""
    handle: Any = client.collection(posts)
    for method, tree in calls:
        handle = getattr(handle, method)(tree)
    try:
        return sorted(p["title"] for p in handle.fields("title"))
    except InvalidQuery as refused:
        return type(refused).__name__, str(refused)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_relational_filters_answer_as_for_the_admin(blog: dict[str, Any],
                                                           data: st.DataObject) -> None:
    trees = _trees(blog)
    calls = data.draw(st.lists(st.tuples(st.sampled_from(["filter", "exclude"]), trees),
                               min_size=1, max_size=2))
    expected = _answer(blog["clients"]["admin"], blog["posts"], calls)
    assert _answer(blog["clients"]["api"], blog["posts"], calls) == expected
    assert _answer(blog["clients"]["public"], blog["posts"], calls) == expected


def test_the_answers_are_the_ones_the_data_holds(blog: dict[str, Any]) -> None:
    got = {name: read(blog["clients"]["api"]) for name, read in _queries(blog).items()}
    assert got["m2o exclude"] == sorted(["two", "four", "six"])
    assert got["o2m negation"] == sorted(["two", "four", "six"])
    assert got["m2m exclude"] == sorted(["two", "three", "five", "six"])
    assert got["o2m exclude from the one side"] == ["Abe", "Bob", "Cid"]
    assert got["chained to-many"] == sorted(["one", "three", "five"])
    assert got["chained to-many, negated"] == sorted(["two", "four", "six"])
    assert got["one call on a to-many path"] == sorted(["one", "five"])
    assert got["__ in sort and fields"][:2] == [
        {"title": "three", "views": None, "author": {"name": "Abe"}},
        {"title": "one", "views": 2**40, "author": {"name": "Ann"}}]
    assert got["m2o exclude, typed"] == [{"title": "four", "views": 150},
                                         {"title": "six", "views": 0},
                                         {"title": "three", "views": None},
                                         {"title": "two", "views": 10}]


def test_a_preset_holding_a_relational_exclude(blog: dict[str, Any]) -> None:
    admin, grants = blog["clients"]["admin"], blog["grants"]
    # Saving a bookmark takes create on directus_presets: a second API-only token has it.
    saver = grants.api_client({**blog["readable"], "directus_presets": ["create", "read"]})
    query = Query().exclude(author__name__startswith="An").filter(
        comments__score__gte=4).filter(comments__body__startswith="g").sort("title")
    saved = [client.presets.from_query(blog["posts"], query, unique_name("mark"))
             for client in (admin, saver)]
    try:
        assert saved[1]["filter"] == saved[0]["filter"]
        for client in (admin, saver, blog["clients"]["public"]):
            back = client.collection(blog["posts"]).query(admin.presets.to_query(saved[1]))
            assert [p["title"] for p in back.fields("title")] == ["three"]
    finally:
        admin.presets.delete_many([p["id"] for p in saved])


def test_the_spec_is_read_once_per_client(blog: dict[str, Any], directus: Any,
                                          make_client: Callable[..., DirectusClient]) -> None:
    with FaultProxy(directus.url, lifetime=120) as proxy:
        api = make_client(proxy.url, auth=blog["clients"]["api"].auth)
        for read in _queries(blog).values():
            read(api)
        learned = [f"{s.method} {s.path.split('?')[0]}" for s in proxy.seen
                   if not s.path.startswith("/items/")]
        assert learned.count("GET /server/specs/oas") == 1, learned
        assert "GET /relations" in learned  # asked once, refused
        assert learned.count("GET /relations") == 1, learned


def test_graphql_tells_when_the_spec_is_refused(blog: dict[str, Any], directus: Any,
                                                make_client: Callable[..., DirectusClient]
                                                ) -> None:
    expected = {name: read(blog["clients"]["admin"]) for name, read in _queries(blog).items()}
    with FaultProxy(directus.url, lifetime=120) as proxy:
        proxy.add(Fault.status(403, FORBIDDEN, {"Content-Type": "application/json"},
                               path="/server/specs", times=None))
        api = make_client(proxy.url, auth=blog["clients"]["api"].auth)
        for name, read in _queries(blog).items():
            assert read(api) == expected[name], name
        assert len(proxy.requests_to("/graphql", "POST")) >= 1


def test_schema_required_only_where_nothing_tells(blog: dict[str, Any], directus: Any,
                                                  make_client: Callable[..., DirectusClient]
                                                  ) -> None:
    with FaultProxy(directus.url, lifetime=120) as proxy:
        for path in ("/server/specs", "/graphql"):
            proxy.add(Fault.status(403, FORBIDDEN, {"Content-Type": "application/json"},
                                   path=path, times=None))
        api = make_client(proxy.url, auth=blog["clients"]["api"].auth)
        handle = api.collection(blog["posts"], pk="id")
        with pytest.raises(SchemaRequired, match="may not read /relations") as raised:
            handle.exclude(author__name__startswith="A").all()
        assert "/server/specs/oas" in str(raised.value)
        assert "the client passes it for you" not in str(raised.value)
        # What needs no kinds still works, and says the one-to-many form works too.
        assert [p["title"] for p in handle.filter(author__name="Ann").sort("title").fields(
            "title")] == ["five", "one"]
        assert sorted(p["title"] for p in handle.filter(
            comments__none__score__gte=4).fields("title")) == ["four", "six", "two"]


def test_a_collection_made_after_the_spec_was_read_is_learned(
        blog: dict[str, Any], directus_client: DirectusClient) -> None:
    admin, grants = directus_client, blog["grants"]
    api = grants.api_client(blog["readable"])
    assert api.collection(blog["posts"]).exclude(author__name="Bob").count() == 4  # spec read
    reviews = unique_name("reviews")
    admin.schema.define(reviews, {"stars": "bigInteger",
                                  "post": ManyToOne(blog["posts"], reverse="reviews")})
    try:
        policy = grants.policies[-1]
        admin.permissions.create({"policy": policy, "collection": reviews, "action": "read",
                                  "fields": ["*"], "permissions": {}, "validation": {}})
        admin.collection(reviews).create_many([
            {"stars": 2**35, "post": admin.collection(blog["posts"]).get(title="one")["id"]},
            {"stars": 1, "post": None}])
        handle = api.collection(reviews)
        assert [r["stars"] for r in handle.exclude(post__title="one").fields("stars")] == [1]
        (row,) = handle.aggregate(sum="stars").fetch()
        assert row == {"sum": {"stars": 2**35 + 1}}
    finally:
        admin.schema.drop(reviews)
