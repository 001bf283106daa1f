"""The extra system routes against the real Directus: versions, flows, presets as queries,
shares, utilities, specs, invitations, registration, two-factor auth and item permissions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pydirectus import (
    AuthenticationError,
    DirectusClient,
    InvalidQuery,
    NotFound,
    Password,
    PermissionDenied,
    Query,
    UsageError,
)
from pydirectus.errors import InvalidRequest
from pydirectus.system import ManyToOne
from pydirectus.testing.access import AccessGrants
from pydirectus.testing.collections import unique_name as unique
from pydirectus.testing.server import DirectusServer


@pytest.fixture(scope="module")
def blog(directus_client: DirectusClient) -> Iterator[dict[str, str]]:
    """authors <- posts (many-to-one, versioned, manually sorted), built with define()."""
    admin = directus_client
    authors, posts = unique("authors"), unique("posts")
    admin.schema.define(authors, {"name": "string"})
    admin.schema.define(posts, {"title": "string", "views": "integer", "sort": "integer",
                                "author": ManyToOne(authors, reverse="posts")},
                        meta={"versioning": True, "sort_field": "sort"})
    yield {"authors": authors, "posts": posts}
    admin.schema.drop(posts, authors)


def test_versions_save_compare_promote_and_read_at_a_version(
        directus_client: DirectusClient, blog: dict[str, str]) -> None:
    posts = directus_client.collection(blog["posts"])
    post = posts.create({"title": "v1", "views": 1})
    version = directus_client.versions.create({"key": "draft", "name": "Draft",
                                               "collection": blog["posts"],
                                               "item": str(post["id"])})
    saved = directus_client.versions.save(version["id"], {"title": "v2"})
    assert (saved["title"], saved["views"]) == ("v2", 1)
    assert posts.get(post["id"])["title"] == "v1"
    assert posts.query(Query().version("draft")).fields("title").get(post["id"])["title"] == "v2"
    assert directus_client.versions.item(version["id"], fields=["title"])["title"] == "v2"
    compared = directus_client.versions.compare(version["id"])
    assert compared["outdated"] is False
    assert compared["current"]["title"] == "v2" and compared["main"]["title"] == "v1"
    assert directus_client.versions.promote(version["id"], compared["mainHash"]) == str(post["id"])
    assert posts.get(post["id"])["title"] == "v2"
    missing = "6b3c5f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    with pytest.raises(NotFound, match=f"id: no version '{missing}'"):
        directus_client.versions.compare(missing)
    with pytest.raises(UsageError, match="id: expected a UUID"):
        directus_client.versions.compare("draft")


def test_versions_promote_with_a_stale_hash_is_refused(
        directus_client: DirectusClient, blog: dict[str, str]) -> None:
    posts = directus_client.collection(blog["posts"])
    post = posts.create({"title": "main", "views": 1})
    version = directus_client.versions.create({"key": "stale", "collection": blog["posts"],
                                               "item": str(post["id"])})
    directus_client.versions.save(version["id"], {"views": 2})
    old_hash = directus_client.versions.compare(version["id"])["mainHash"]
    posts.update(post["id"], {"title": "main changed"})
    assert directus_client.versions.compare(version["id"])["outdated"] is True
    with pytest.raises(InvalidRequest, match="VERSION_HASH_MISMATCH"):
        directus_client.versions.promote(version["id"], old_hash)


def _flow(admin: DirectusClient, options: dict[str, Any], operation: dict[str, Any],
          trigger: str = "webhook") -> str:
    flow = admin.flows.create({"name": unique("flow"), "trigger": trigger, "status": "active",
                               "accountability": "all", "options": options})
    step = admin.operations.create({"flow": flow["id"], "key": unique("op"), "position_x": 19,
                                    "position_y": 1, **operation})
    admin.flows.update(flow["id"], {"operation": step["id"]})
    return str(flow["id"])


def test_flow_with_a_webhook_trigger_creates_an_item(
        directus_client: DirectusClient, blog: dict[str, str], access_grants: AccessGrants) -> None:
    admin = directus_client
    flow = _flow(admin, {"method": "POST", "return": "$last"}, {
        "type": "item-create", "options": {
            "collection": blog["authors"], "permissions": "$full",
            "payload": {"name": "{{$trigger.body.name}}"}}})
    echo = _flow(admin, {"method": "GET"}, {
        "type": "transform", "options": {"json": {"got": "{{$trigger.query.q}}"}}})
    try:
        created = admin.flows.trigger(flow, {"name": "From a flow"})
        assert admin.collection(blog["authors"]).filter(name="From a flow").fields(
            "id").fetch() == [{"id": created[0]}]
        assert admin.flows.trigger(echo, params={"q": "hi"}) == {"got": "hi"}
        # A token that may not read the flow still runs it: POST with a body, else GET.
        with access_grants.api_client({blog["authors"]: ["read"]}) as reader:
            assert reader.flows.trigger(echo, params={"q": "api"}) == {"got": "api"}
            reader.flows.trigger(flow, {"name": "By the API user"})
            assert reader.collection(blog["authors"]).filter(name="By the API user").count() == 1
        with pytest.raises(PermissionDenied, match=r"no active webhook or manual flow .* POST"):
            admin.flows.trigger(echo, method="POST")  # not how the flow is configured
        with pytest.raises(UsageError, match="data"):
            admin.flows.trigger(echo, {"a": 1})
        with pytest.raises(UsageError, match="flow_id"):
            admin.flows.trigger("not-a-uuid")
    finally:
        admin.flows.delete_many([flow, echo])


def test_manual_flow_runs_on_the_chosen_items(directus_client: DirectusClient,
                                              blog: dict[str, str]) -> None:
    flow = _flow(directus_client, {"collections": [blog["authors"]], "requireSelection": True},
                 {"type": "transform", "options": {"json": {"keys": "{{$trigger.body.keys}}"}}},
                 trigger="manual")
    try:
        author = directus_client.collection(blog["authors"]).create({"name": "Manual"})
        result = directus_client.flows.trigger(flow, collection=blog["authors"],
                                               keys=[author["id"]])
        assert result == {"keys": [author["id"]]}
    finally:
        directus_client.flows.delete(flow)


def test_a_bookmark_saved_like_the_app_runs_as_the_same_query(
        directus_client: DirectusClient, blog: dict[str, str], access_grants: AccessGrants) -> None:
    admin = directus_client
    posts = admin.collection(blog["posts"])
    posts.create_many([{"title": f"p{n}", "views": n} for n in range(6)])
    me = admin.users.me(fields=["id"])["id"]
    # What the app sends when a user saves a bookmark of the tabular layout.
    raw = admin.presets.create({
        "bookmark": "Popular", "user": me, "role": None, "collection": blog["posts"],
        "layout": "tabular", "search": "p",
        "filter": {"_and": [{"views": {"_gte": 2}}]},
        "layout_query": {"tabular": {"sort": ["-views"], "fields": ["title", "views"],
                                     "page": 1, "limit": 3}},
        "layout_options": {"tabular": {"widths": {}}}})
    query = admin.presets.to_query(raw["id"])
    raw_answer = admin.transport.data("GET", "items", blog["posts"], params={
        "filter": json.dumps(raw["filter"]), "search": "p", "sort": "-views",
        "fields": "title,views", "page": "1", "limit": "3"})
    assert posts.query(query).fetch() == raw_answer
    assert [row["views"] for row in raw_answer] == [5, 4, 3]
    # Read by a user who may read presets and posts only: the conversion needs nothing more.
    reader_permissions = {"directus_presets": ["read"], blog["posts"]: ["read"]}
    with access_grants.api_client(reader_permissions) as reader:
        global_raw = admin.presets.create({**{k: raw[k] for k in (
            "collection", "layout", "search", "filter", "layout_query")},
            "bookmark": "For everyone", "user": None})
        assert reader.collection(blog["posts"]).query(
            reader.presets.to_query(global_raw["id"])).fetch() == raw_answer


def test_a_query_saved_as_a_bookmark_reads_back_equal(
        directus_client: DirectusClient, blog: dict[str, str]) -> None:
    admin = directus_client
    query = (Query().filter(views__gt=1).exclude(title__icontains="draft")
             .search("p").sort("-views", "title").fields("id", "title").limit(25))
    saved = admin.presets.from_query(blog["posts"], query, "Busy posts")
    assert saved["user"] == admin.users.me(fields=["id"])["id"]
    assert saved["layout_query"] == {"tabular": {"fields": ["id", "title"],
                                                 "sort": ["-views", "title"], "limit": 25}}
    assert admin.presets.to_query(saved["id"]) == query
    assert admin.presets.to_query(saved) == query
    shared = admin.presets.from_query(blog["posts"], Query().filter(views=3), "Mine", user=None)
    assert shared["user"] is None and admin.presets.to_query(shared) == Query().filter(views=3)
    with pytest.raises(InvalidQuery, match="offset"):
        admin.presets.from_query(blog["posts"], query.offset(5), "No offsets")


def test_share_info_is_public(directus_client: DirectusClient, blog: dict[str, str]) -> None:
    post = directus_client.collection(blog["posts"]).create({"title": "shared"})
    share = directus_client.shares.create({"collection": blog["posts"], "item": str(post["id"]),
                                           "name": "link", "max_uses": 5})
    with DirectusClient(directus_client.url) as anonymous:
        info = anonymous.shares.info(share["id"])
    assert (info["item"], info["max_uses"], info["times_used"]) == (str(post["id"]), 5, 0)
    directus_client.shares.delete(share["id"])
    with pytest.raises(PermissionDenied, match="does not exist, has expired or is used up"):
        directus_client.shares.info(share["id"])


def test_utils_sort_random_string_revert_and_cache(
        directus_client: DirectusClient, blog: dict[str, str], access_grants: AccessGrants) -> None:
    admin = directus_client
    value = admin.utils.random_string(12)
    assert len(value) == 12 and value != admin.utils.random_string(12)
    posts = admin.collection(blog["posts"])
    made = posts.create_many([{"title": f"s{n}", "sort": n} for n in (1, 2, 3)])
    first, _, third = (row["id"] for row in made)
    admin.utils.sort(blog["posts"], third, first)
    ids = [row["id"] for row in made]
    assert [row["id"] for row in posts.filter(id__in=ids).sort("sort").fields("id")] == [
        third, first, made[1]["id"]]
    posts.update(first, {"title": "changed"})
    revision = admin.revisions.filter(collection=blog["posts"], item=str(first)).sort(
        "id").first()
    assert revision is not None
    admin.utils.revert(revision["id"])
    assert posts.get(first)["title"] == "s1"
    admin.utils.clear_cache()
    admin.utils.clear_cache(system=True)
    with access_grants.api_client({blog["posts"]: ["read"]}) as reader:
        with pytest.raises(PermissionDenied):
            reader.utils.clear_cache()
        with pytest.raises(PermissionDenied):
            reader.utils.sort(blog["posts"], third, first)


def test_import_json_and_csv_files_and_export(directus_client: DirectusClient,
                                              blog: dict[str, str], tmp_path: Any) -> None:
    admin = directus_client
    authors = admin.collection(blog["authors"])
    admin.utils.import_file(blog["authors"], io.BytesIO(b'[{"name":"J1"},{"name":"J2"}]'),
                            filename="authors.json")
    csv_path = tmp_path / "authors.csv"
    csv_path.write_text("name\nC1\nC2\n")
    admin.utils.import_file(blog["authors"], csv_path)
    assert {"J1", "J2", "C1", "C2"} <= {row["name"] for row in authors.fields("name")}
    report = admin.utils.import_items({blog["authors"]: [{"name": "B1"}]})
    assert report["applied"] is True and authors.filter(name="B1").count() == 1
    title = unique("export")
    admin.utils.export(blog["authors"], Query().filter(name__in=["J1", "J2"]).fields("name"),
                       "json", {"title": title})
    # Directus exports after answering, inside a transaction that reads the collection: wait
    # for its file (a loaded CI machine can take long), so the module's teardown never drops
    # a table an export is still reading (a DROP would wait behind it, holding locks).
    deadline = time.monotonic() + 120
    while not (files := admin.files.filter(title=title).fields("id").fetch()):
        assert time.monotonic() < deadline, "the export file never appeared"
        time.sleep(0.2)
    exported = json.loads(b"".join(admin.files.iter_bytes(files[0]["id"])))
    assert sorted(row["name"] for row in exported) == ["J1", "J2"]
    admin.files.delete(files[0]["id"])


def test_specs_and_auth_providers(directus_client: DirectusClient,
                                  blog: dict[str, str], access_grants: AccessGrants) -> None:
    spec = directus_client.server.specs_openapi()
    assert spec["openapi"].startswith("3") and f"/items/{blog['posts']}" in spec["paths"]
    assert f"type {blog['posts']}" in directus_client.server.specs_graphql()
    assert "type directus_users" in directus_client.server.specs_graphql("system")
    with access_grants.api_client({blog["authors"]: ["read"]}) as reader:
        paths = reader.server.specs_openapi()["paths"]
        assert f"/items/{blog['authors']}" in paths and f"/items/{blog['posts']}" not in paths
    assert directus_client.authentication.providers() == []


def test_item_permissions_of_the_current_user(directus_client: DirectusClient,
                                              blog: dict[str, str],
                                              access_grants: AccessGrants) -> None:
    post = directus_client.collection(blog["posts"]).create({"title": "mine"})
    assert directus_client.permissions.item(blog["posts"], post["id"])["update"]["access"]
    with access_grants.api_client({blog["posts"]: ["read", "update"]}) as editor:
        rights = editor.permissions.item(blog["posts"], post["id"])
        assert rights["update"]["access"] is True and rights["delete"]["access"] is False


def _secret(server: DirectusServer) -> str:
    assert server.workdir is not None
    env = dict(line.split("=", 1) for line in (server.workdir / ".env").read_text().splitlines())
    return env["SECRET"]


def _jwt(payload: dict[str, Any], secret: str) -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = part(json.dumps(payload).encode())
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{part(signature)}"


def _totp(secret: str) -> str:
    # A code made in the last seconds of its 30 s step may reach Directus in the next step,
    # where it is refused (INVALID_OTP, seen on a loaded machine): wait for a fresh step.
    left = 30 - time.time() % 30
    if left < 5:
        time.sleep(left + 0.1)
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 15
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def test_invite_accept_and_two_factor_auth(directus: DirectusServer,
                                           directus_client: DirectusClient) -> None:
    admin = directus_client
    email = f"{unique('invitee')}@example.com"
    policy = admin.policies.create({"name": unique("self"), "app_access": False, "permissions": [
        {"collection": "directus_users", "action": action, "fields": ["*"], "permissions": {}}
        for action in ("read", "update")]})
    role = admin.roles.create({"name": unique("invitees"), "policies": [{"policy": policy["id"]}]})
    try:
        admin.users.invite(email, role["id"])
        invited = admin.users.filter(email=email).fields("id", "status", "role").first()
        assert invited is not None and invited["status"] == "invited"
        # The emailed token is a JWT signed with the project's secret.
        token = _jwt({"email": email, "scope": "invite", "iss": "directus",
                      "exp": int(time.time()) + 600}, _secret(directus))
        admin.users.accept_invite(token, "first-password-1")
        assert admin.users.get(invited["id"])["status"] == "active"
        with DirectusClient(admin.url, auth=Password(email, "first-password-1")) as user:
            assert user.users.me(fields=["email"])["email"] == email
            assert [r["id"] for r in user.roles.me()] == [role["id"]]
            assert user.users.update_me({"first_name": "Ivy"})["first_name"] == "Ivy"
            setup = user.users.generate_tfa("first-password-1")
            assert setup["otpauth_url"].startswith("otpauth://")
            user.users.enable_tfa(setup["secret"], _totp(setup["secret"]))
        with pytest.raises(AuthenticationError, match="INVALID_OTP"), \
                DirectusClient(admin.url, auth=Password(email, "first-password-1")) as no_otp:
            no_otp.users.me()
        with DirectusClient(admin.url, auth=Password(email, "first-password-1",
                                                      otp=_totp(setup["secret"]))) as user:
            user.users.disable_tfa(_totp(setup["secret"]))
        with DirectusClient(admin.url, auth=Password(email, "first-password-1")) as user:
            user.users.generate_tfa("first-password-1")
        admin.users.disable_tfa(user=invited["id"])
        with pytest.raises(AuthenticationError):
            admin.users.accept_invite("not-a-token", "x")
        with AccessGrants(admin) as grants, grants.api_client({"directus_presets": ["read"]}) \
                as limited, pytest.raises(PermissionDenied, match="may not create users"):
            limited.users.invite(f"{unique('nope')}@example.com", role["id"])
        assert admin.users.filter(email__starts_with="nope_").count() == 0
    finally:
        admin.users.filter(email=email).delete()
        admin.roles.delete(role["id"])
        admin.policies.delete(policy["id"])


def test_register_and_password_request(directus_client: DirectusClient) -> None:
    admin = directus_client
    role = admin.roles.create({"name": unique("registered")})
    email = f"{unique('reg')}@example.com"
    before = admin.settings.get({"fields": ["public_registration", "public_registration_role",
                                            "public_registration_verify_email"]})
    try:
        with DirectusClient(admin.url) as anonymous:
            with pytest.raises(PermissionDenied):
                anonymous.users.register(email, "reg-password-1")
            admin.settings.update({"public_registration": True,
                                   "public_registration_role": role["id"],
                                   "public_registration_verify_email": False})
            anonymous.users.register(email, "reg-password-1", first_name="Reg")
            anonymous.authentication.password_request(email)
            anonymous.authentication.password_request("nobody@example.com")
            with pytest.raises(AuthenticationError, match="INVALID_TOKEN"):
                anonymous.authentication.password_reset("a.b.c", "new-password-2")
        user = admin.users.filter(email=email).fields("status", "role", "first_name").first()
        assert user == {"status": "active", "role": role["id"], "first_name": "Reg"}
        with DirectusClient(admin.url, auth=Password(email, "reg-password-1")) as registered:
            assert registered.users.me()["id"]
    finally:
        admin.settings.update(dict(before))
        admin.users.filter(email=email).delete()
        admin.roles.delete(role["id"])
