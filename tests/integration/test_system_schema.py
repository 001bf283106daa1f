"""Schema as code against real Directus servers: define() with relations, the schema cache
kept fresh, a snapshot/diff/apply round trip to a second server, and on that second server
(which runs a small endpoint extension) the extensions handle and client.request()."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pydirectus import DirectusClient, NotFound, PermissionDenied, StaticToken, UsageError
from pydirectus.errors import InvalidRequest
from pydirectus.system import Field, ManyToMany, ManyToOne, OneToMany
from pydirectus.testing.access import AccessGrants
from pydirectus.testing.collections import unique_name as unique
from pydirectus.testing.pytest_plugin import running
from pydirectus.testing.server import DirectusServer

EXTENSION = "directus-extension-hello"
ENDPOINT = """export default {
  id: 'hello',
  handler: (router) => {
    router.get('/', (req, res) => res.json(
      { user: req.accountability?.user ?? null, q: req.query }));
    router.post('/echo/:name', (req, res) => res.json({ name: req.params.name, got: req.body }));
    router.get('/text', (req, res) => res.type('text/plain').send('plain text'));
    router.get('/empty', (req, res) => res.status(204).end());
    router.get('/teapot', (req, res) => res.status(418).json(
      { errors: [{ message: 'I am a teapot', extensions: { code: 'TEAPOT' } }] }));
    router.get('/private', (req, res) => req.accountability?.user ? res.json({ ok: true })
      : res.status(403).json(
        { errors: [{ message: 'Sign in', extensions: { code: 'FORBIDDEN' } }] }));
  },
};
"""


@pytest.fixture(scope="module")
def second(tmp_path_factory: pytest.TempPathFactory,
           directus_database: str) -> Iterator[DirectusClient]:
    """A second, fresh Directus with one endpoint extension installed."""
    root = tmp_path_factory.mktemp("extensions")
    # Directus also resolves extensions from the project's package.json: give it one.
    (root / "package.json").write_text(json.dumps({"name": "project", "version": "1.0.0"}))
    folder = root / EXTENSION
    folder.mkdir()
    (folder / "package.json").write_text(json.dumps({
        "name": EXTENSION, "version": "1.0.0", "type": "module",
        "directus:extension": {"type": "endpoint", "path": "index.js", "source": "index.js",
                               "host": "^12.0.0"}}))
    (folder / "index.js").write_text(ENDPOINT)
    # On the run's database: Directus refuses a snapshot from another vendor.
    server = DirectusServer(database=directus_database, env={
        "EXTENSIONS_PATH": str(root), "PACKAGE_FILE_LOCATION": str(root)})
    with running(server), DirectusClient(server.url, auth=StaticToken(server.admin_token)) as c:
        yield c


@pytest.fixture(scope="module")
def blog(directus_client: DirectusClient) -> Iterator[dict[str, str]]:
    """A blog schema made with define(): every kind of relation, typed fields."""
    admin = directus_client
    names = {key: unique(key) for key in ("authors", "tags", "posts", "threads", "replies")}
    admin.schema.define(names["authors"], {"name": Field("string", required=True, length=80)})
    admin.schema.define(names["tags"], {"label": Field("string", unique=True)}, pk="uuid")
    admin.schema.define(names["replies"], {"body": "text"})
    admin.schema.define(names["posts"], {
        "title": "string", "views": Field("integer", default=0), "data": "json",
        "published": "boolean", "rating": {"type": "float", "meta": {"note": "a raw body"}},
        "author": ManyToOne(names["authors"], reverse="posts"),
        "tags": ManyToMany(names["tags"], reverse="posts"),
    }, meta={"note": "made by define()"})
    admin.schema.define(names["threads"], {
        "subject": "string", "replies": OneToMany(names["replies"], field="thread")})
    yield names
    # Referencing collections first: PostgreSQL enforces the foreign keys (SQLite does not).
    admin.schema.drop(names["replies"], names["threads"], f"{names['posts']}_{names['tags']}",
                      names["posts"], names["tags"], names["authors"])


def _shape(client: DirectusClient, names: dict[str, str]) -> dict[str, Any]:
    wanted = set(names.values()) | {f"{names['posts']}_{names['tags']}"}
    fields = sorted((f["collection"], f["field"], f["type"], tuple((f["meta"] or {}).get(
        "special") or ())) for f in client.fields.all() if f["collection"] in wanted)
    relations = sorted((r["collection"], r["field"], r["related_collection"],
                        (r["meta"] or {}).get("one_field"), (r["meta"] or {}).get(
                            "junction_field")) for r in client.relations.all()
                       if r["collection"] in wanted)
    collections = sorted(c["collection"] for c in client.collections.all()
                         if c["collection"] in wanted)
    return {"collections": collections, "fields": fields, "relations": relations}


def _fill_and_read(client: DirectusClient, names: dict[str, str]) -> None:
    author = client.collection(names["authors"]).create({"name": "Ann"})
    tag = client.collection(names["tags"]).create({"label": unique("py")})
    post = client.collection(names["posts"]).create({
        "title": "Hello", "data": {"k": [1, 2]}, "published": True, "author": author["id"],
        "tags": {"create": [{f"{names['tags']}_id": tag["id"]}]}})
    assert post["views"] == 0 and post["data"] == {"k": [1, 2]} and post["published"] is True
    read = client.collection(names["posts"]).fields(
        "title", "author.name", f"tags.{names['tags']}_id.label").get(post["id"])
    assert read["author"] == {"name": "Ann"}
    assert read["tags"] == [{f"{names['tags']}_id": {"label": tag["label"]}}]
    assert client.collection(names["authors"]).fields("posts.title").get(author["id"]) == {
        "posts": [{"title": "Hello"}]}
    assert client.collection(names["tags"]).fields(f"posts.{names['posts']}_id.title").get(
        tag["id"]) == {"posts": [{f"{names['posts']}_id": {"title": "Hello"}}]}
    thread = client.collection(names["threads"]).create(
        {"subject": "s", "replies": {"create": [{"body": "first"}, {"body": "second"}]}})
    assert sorted(r["body"] for r in client.collection(names["threads"]).fields(
        "replies.body").get(thread["id"])["replies"]) == ["first", "second"]


def test_define_builds_collections_fields_and_relations(directus_client: DirectusClient,
                                                        blog: dict[str, str]) -> None:
    shape = _shape(directus_client, blog)
    junction = f"{blog['posts']}_{blog['tags']}"
    assert (blog["posts"], "tags", "alias", ("m2m",)) in shape["fields"]
    assert (blog["authors"], "posts", "alias", ("o2m",)) in shape["fields"]
    assert (blog["posts"], "data", "json", ("cast-json",)) in shape["fields"]
    assert (blog["tags"], "id", "uuid", ("uuid",)) in shape["fields"]
    # SQLite stores a uuid key as char(36): Directus reports the foreign key as a string.
    assert [f[3] for f in shape["fields"] if f[:2] == (junction, f"{blog['tags']}_id")] == [
        ("m2o",)]
    assert shape["relations"] == sorted([
        (blog["posts"], "author", blog["authors"], "posts", None),
        (junction, f"{blog['posts']}_id", blog["posts"], "tags", f"{blog['tags']}_id"),
        (junction, f"{blog['tags']}_id", blog["tags"], "posts", f"{blog['posts']}_id"),
        (blog["replies"], "thread", blog["threads"], "replies", None),
    ])
    assert directus_client.collections.get(blog["posts"])["meta"]["note"] == "made by define()"
    assert directus_client.fields.get(blog["posts"], "rating")["meta"]["note"] == "a raw body"
    title = directus_client.fields.get(blog["authors"], "name")
    assert title["schema"]["max_length"] == 80 and title["meta"]["required"] is True
    _fill_and_read(directus_client, blog)


def test_define_refuses_bad_specs_before_creating_anything(
        directus_client: DirectusClient) -> None:
    name = unique("never")
    with pytest.raises(UsageError, match="related collection 'missing_x'"):
        directus_client.schema.define(name, {"owner": ManyToOne("missing_x")})
    with pytest.raises(PermissionDenied):
        directus_client.collections.get(name)


def test_schema_changes_refresh_the_clients_schema_cache(directus_client: DirectusClient,
                                                         blog: dict[str, str]) -> None:
    posts = directus_client.collection(blog["posts"])
    # A negated relational path makes the client fetch (and cache) the relations.
    assert posts.exclude(author__name="nobody").count() == posts.count()
    reviews = unique("reviews")
    directus_client.schema.define(reviews, {"stars": "integer"})
    directus_client.schema.add_relation(reviews, "post",
                                        ManyToOne(blog["posts"], reverse="reviews"))
    try:
        post = posts.create({"title": "reviewed"})
        directus_client.collection(reviews).create({"stars": 5, "post": post["id"]})
        # "reviews" is one-to-many: its complement is "no review has 5 stars".
        kept = posts.exclude(reviews__stars=5).fields("id").fetch()
        assert {"id": post["id"]} not in kept and len(kept) == posts.count() - 1
    finally:
        directus_client.fields.delete(blog["posts"], "reviews")
        directus_client.collections.delete(reviews)


def test_fields_and_relations_crud(directus_client: DirectusClient,
                                   blog: dict[str, str]) -> None:
    fields, relations = directus_client.fields, directus_client.relations
    made = fields.create(blog["replies"], Field("string", note="who"), name="signature")
    assert made["meta"]["note"] == "who"
    assert fields.update(blog["replies"], "signature", {"meta": {"note": "signed by"}})[
        "meta"]["note"] == "signed by"
    assert "signature" in [f["field"] for f in fields.all(blog["replies"])]
    fields.delete(blog["replies"], "signature")
    assert "signature" not in [f["field"] for f in fields.all(blog["replies"])]
    relation = relations.get(blog["posts"], "author")
    assert relation["related_collection"] == blog["authors"]
    assert relations.update(blog["posts"], "author", {"schema": {"on_delete": "CASCADE"}})[
        "schema"]["on_delete"] == "CASCADE"
    assert [r["field"] for r in relations.all(blog["replies"])] == ["thread"]


def test_api_only_token_is_refused_the_schema(directus_client: DirectusClient,
                                              blog: dict[str, str]) -> None:
    with AccessGrants(directus_client) as grants, \
            grants.api_client({blog["posts"]: ["read"]}) as reader:
        for read in (lambda: reader.fields.all(blog["posts"]),
                     lambda: reader.relations.all(), lambda: reader.schema.snapshot(),
                     lambda: reader.collections.create({"collection": "x"})):
            with pytest.raises(PermissionDenied):
                read()
        # The items themselves (and their relational reads) work without the schema.
        assert reader.collection(blog["posts"]).fields("title").fetch() is not None


def test_schema_round_trip_to_a_second_server(directus_client: DirectusClient,
                                              blog: dict[str, str],
                                              second: DirectusClient) -> None:
    applied = directus_client.schema.copy_to(second.schema)
    assert applied is not None and applied["diff"]["collections"]
    assert _shape(second, blog) == _shape(directus_client, blog)
    _fill_and_read(second, blog)
    # Nothing left to change; a diff made before a change on the target is refused.
    assert second.schema.diff(directus_client.schema.snapshot()) is None
    extra = unique("extra")
    directus_client.schema.define(extra, {"n": "integer"})
    try:
        diff = second.schema.diff(directus_client.schema.snapshot())
        assert diff is not None
        second.schema.define(unique("meanwhile"), {"m": "string"})
        with pytest.raises(InvalidRequest) as stale:
            second.schema.apply(diff)
        assert stale.value.reason is not None and "hash" in stale.value.reason
        second.schema.apply(second.schema.diff(directus_client.schema.snapshot()) or {})
        assert extra in [c["collection"] for c in second.collections.all()]
    finally:
        directus_client.collections.delete(extra)


def test_extensions_list_disable_and_enable(second: DirectusClient) -> None:
    [installed] = second.extensions.list()
    assert installed["schema"]["type"] == "endpoint"
    assert second.extensions.get(EXTENSION)["id"] == installed["id"]
    assert second.extensions.disable(EXTENSION)["meta"]["enabled"] is False
    try:
        with pytest.raises(NotFound):
            _eventually(lambda: second.request("GET", "hello"), NotFound)
    finally:
        assert second.extensions.enable(installed["id"])["meta"]["enabled"] is True
    assert _eventually(lambda: second.request("GET", "hello"), None)["user"]
    with pytest.raises(NotFound, match=f"installed: {EXTENSION}"):
        second.extensions.get("hello")


def _eventually(call: Any, expected_error: type[Exception] | None) -> Any:
    # The extension manager reloads in the background after a change.
    deadline = time.monotonic() + 20
    while True:
        try:
            result = call()
        except Exception as error:
            if expected_error is not None and isinstance(error, expected_error):
                raise
            if time.monotonic() > deadline:
                raise
        else:
            if expected_error is None or time.monotonic() > deadline:
                return result
        time.sleep(0.2)


def test_request_calls_a_custom_endpoint(second: DirectusClient, tmp_path: Path) -> None:
    me = second.users.me(fields=["id"])["id"]
    assert second.request("GET", "hello", params={"a": 1}) == {"user": me, "q": {"a": "1"}}
    assert second.request("post", "/hello/echo/a b/", json={"x": [1]}) == {
        "name": "a b", "got": {"x": [1]}}
    assert second.request("GET", "hello/text") == "plain text"
    assert second.request("GET", "hello/empty") is None
    with pytest.raises(InvalidRequest, match="418 TEAPOT: I am a teapot"):
        second.request("GET", "hello/teapot")
    with pytest.raises(NotFound, match="ROUTE_NOT_FOUND"):
        second.request("GET", "hello/nothing-here")
    with DirectusClient(second.url) as anonymous:
        assert anonymous.request("GET", "hello")["user"] is None
        with pytest.raises(PermissionDenied, match="Sign in"):
            anonymous.request("GET", "hello/private")
    # The web-app case: answer with the end user's token over the same pool.
    with AccessGrants(second) as grants, grants.api_client({}) as user:
        user_id = user.users.me()["id"]
        as_user = second.with_token(user.auth._token)  # type: ignore[union-attr]
        assert as_user.request("GET", "hello/private") == {"ok": True}
        assert as_user.request("GET", "hello")["user"] == user_id
        assert second.request("GET", "hello")["user"] == me


def _assert_dropped(client: DirectusClient, names: list[str]) -> None:
    for name in names:
        with pytest.raises((NotFound, PermissionDenied)):
            client.collections.get(name)
    assert [r for r in client.relations.all()
            if r["collection"] in names or r["related_collection"] in names] == []
    assert [f for f in client.fields.all() if f["collection"] in names] == []


def test_drop_deletes_the_many_side_first_whatever_the_order_given(
        directus_client: DirectusClient) -> None:
    admin = directus_client
    authors, articles, notes = unique("authors"), unique("articles"), unique("notes")
    admin.schema.define(authors, {"name": "string"})
    admin.schema.define(articles, {"title": "string",
                                   "author": ManyToOne(authors, reverse="articles")})
    admin.schema.define(notes, {"text": "string"})
    admin.schema.add_relation(authors, "notes", OneToMany(notes, field="author"))
    ann = admin.collection(authors).create({"name": "Ann"})
    admin.collection(articles).create({"title": "t", "author": ann["id"]})
    admin.collection(notes).create({"text": "n", "author": ann["id"]})
    # The one side first: PostgreSQL refuses to drop a table a foreign key points at.
    admin.schema.drop(authors, articles, notes)
    _assert_dropped(admin, [authors, articles, notes])


def test_drop_deletes_a_junction_before_both_sides(directus_client: DirectusClient) -> None:
    admin = directus_client
    tags, posts = unique("tags"), unique("posts")
    admin.schema.define(tags, {"label": "string"}, pk="uuid")
    admin.schema.define(posts, {"title": "string", "tags": ManyToMany(tags, reverse="posts")})
    junction = f"{posts}_{tags}"
    tag = admin.collection(tags).create({"label": "py"})
    admin.collection(posts).create({"title": "t",
                                    "tags": {"create": [{f"{tags}_id": tag["id"]}]}})
    assert admin.collection(junction).count() == 1
    admin.schema.drop(tags, posts, junction)
    _assert_dropped(admin, [tags, posts, junction])


def test_drop_deletes_self_references_and_cycles_first(directus_client: DirectusClient) -> None:
    admin = directus_client
    people, tree, left, right = (unique(n) for n in ("people", "tree", "left", "right"))
    admin.schema.define(people, {"name": "string"})
    # Directus 12.4 cannot drop a collection holding a relation to itself (a 500 on
    # either database) until that relation is gone.
    admin.schema.define(tree, {"name": "string"})
    admin.schema.add_relation(tree, "parent", ManyToOne(tree, reverse="children"))
    admin.schema.define(left, {"owner": ManyToOne(people)})
    admin.schema.define(right, {"left": ManyToOne(left, reverse="rights")})
    admin.schema.add_relation(left, "right", ManyToOne(right))
    root = admin.collection(tree).create({"name": "root"})
    admin.collection(tree).create({"name": "leaf", "parent": root["id"]})
    one = admin.collection(left).create({"owner": admin.collection(people).create({})["id"]})
    other = admin.collection(right).create({"left": one["id"]})
    admin.collection(left).update(one["id"], {"right": other["id"]})
    admin.schema.drop(people, tree, left, right)
    _assert_dropped(admin, [people, tree, left, right])


def test_drop_refuses_a_missing_collection_before_dropping_any(
        directus_client: DirectusClient) -> None:
    admin = directus_client
    kept = unique("kept")
    admin.schema.define(kept, {"name": "string"})
    with pytest.raises(UsageError, match=r"no collection named 'never_dropped_x'.*nothing"):
        admin.schema.drop(kept, "never_dropped_x")
    assert admin.collections.get(kept)["collection"] == kept
    admin.schema.drop(kept, kept)
    _assert_dropped(admin, [kept])


def test_drop_needs_an_admin_token(directus_client: DirectusClient) -> None:
    admin = directus_client
    kept = unique("kept")
    admin.schema.define(kept, {"name": "string"})
    schema_reader = {kept: ["read", "delete"], "directus_collections": ["read"],
                     "directus_relations": ["read"]}
    with AccessGrants(admin) as grants, \
            grants.api_client({kept: ["read", "create", "update", "delete"]}) as api, \
            grants.api_client(schema_reader) as reader, \
            grants.public_client({kept: ["read", "delete"]}) as public:
        for client in (api, public):
            with pytest.raises(PermissionDenied, match="directus_collections"):
                client.schema.drop(kept)
        # A token that may read the schema gets as far as the DELETE, and is told why.
        with pytest.raises(PermissionDenied, match=r"schema\.drop\(\) needs an admin token"):
            reader.schema.drop(kept)
    assert admin.collections.get(kept)["collection"] == kept
    admin.schema.drop(kept)
    _assert_dropped(admin, [kept])
