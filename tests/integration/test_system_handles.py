"""System handles against the real Directus: CRUD over each system route, read-only and
singleton handles, and what a limited API-only user, the Public policy and with_token() see."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pydirectus import DirectusClient, NotFound, PermissionDenied, UsageError
from pydirectus.collection import Collection
from pydirectus.system import ReadOnlyError
from pydirectus.testing.access import AccessGrants
from pydirectus.testing.collections import unique_name as unique


@pytest.fixture(scope="module")
def world(directus_client: DirectusClient) -> Iterator[dict[str, Any]]:
    """Records the CRUD cases depend on: a policy, a role, a flow, a dashboard, a collection."""
    admin = directus_client
    name = unique("sys")
    admin.schema.define(name, {"title": "string", "sort": "integer"},
                        meta={"versioning": True, "sort_field": "sort"})
    item = admin.collection(name).create({"title": "first", "sort": 1})
    policy = admin.policies.create({"name": unique("pol"), "app_access": False})
    role = admin.roles.create({"name": unique("role")})
    flow = admin.flows.create({"name": unique("flow"), "trigger": "manual", "status": "inactive"})
    dashboard = admin.dashboards.create({"name": unique("dash")})
    me = admin.users.me(fields=["id"])["id"]
    yield {"collection": name, "item": str(item["id"]), "policy": policy["id"], "role": role["id"],
           "flow": flow["id"], "dashboard": dashboard["id"], "me": me}
    admin.dashboards.delete(dashboard["id"])
    admin.flows.delete(flow["id"])
    admin.roles.delete(role["id"])
    admin.policies.delete(policy["id"])
    admin.collections.delete(name)


# handle name -> (the body to create a record, the change to make, the field to check)
CASES: dict[str, Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, Any], str]]] = {
    "users": lambda w: ({"email": f"{unique('u')}@example.com", "password": "pw-123456"},
                        {"first_name": "Ada"}, "first_name"),
    "roles": lambda w: ({"name": unique("r")}, {"description": "changed"}, "description"),
    "policies": lambda w: ({"name": unique("p"), "app_access": False}, {"app_access": True},
                           "app_access"),
    "permissions": lambda w: ({"policy": w["policy"], "collection": w["collection"],
                               "action": "read", "fields": ["*"]},
                              {"action": "create", "fields": ["*"]}, "action"),
    "access": lambda w: ({"policy": w["policy"], "role": w["role"]}, {"sort": 3}, "sort"),
    "presets": lambda w: ({"collection": w["collection"], "bookmark": "b", "user": w["me"]},
                          {"bookmark": "renamed"}, "bookmark"),
    "comments": lambda w: ({"collection": w["collection"], "item": w["item"], "comment": "hi"},
                           {"comment": "edited"}, "comment"),
    "versions": lambda w: ({"key": unique("k"), "name": "Draft", "collection": w["collection"],
                            "item": w["item"]}, {"name": "Renamed"}, "name"),
    "shares": lambda w: ({"collection": w["collection"], "item": w["item"], "name": "s",
                          "role": w["role"]}, {"max_uses": 3}, "max_uses"),
    "notifications": lambda w: ({"recipient": w["me"], "subject": "hello"},
                                {"status": "archived"}, "status"),
    "flows": lambda w: ({"name": unique("f"), "trigger": "manual", "status": "inactive"},
                        {"description": "d"}, "description"),
    "operations": lambda w: ({"flow": w["flow"], "key": unique("op"), "type": "log",
                              "position_x": 1, "position_y": 1, "options": {"message": "x"}},
                             {"name": "Logger"}, "name"),
    "dashboards": lambda w: ({"name": unique("d")}, {"note": "n"}, "note"),
    "panels": lambda w: ({"dashboard": w["dashboard"], "type": "label", "position_x": 1,
                          "position_y": 1, "width": 4, "height": 4, "options": {"text": "t"}},
                         {"name": "Label"}, "name"),
    "translations": lambda w: ({"language": "en-US", "key": unique("t"), "value": "v"},
                               {"value": "w"}, "value"),
}


@pytest.mark.parametrize("handle_name", sorted(CASES))
def test_each_handle_lists_reads_creates_updates_and_deletes(
        directus_client: DirectusClient, world: dict[str, Any], handle_name: str) -> None:
    handle: Collection[Any] = getattr(directus_client, handle_name)
    body, change, field = CASES[handle_name](world)
    created = handle.create(body)
    pk = created["id"]
    try:
        assert handle.get(pk)["id"] == pk
        assert handle.filter(id=pk).count() == 1
        assert pk in [row["id"] for row in handle.fields("id")]
        updated = handle.update(pk, change)
        assert updated[field] == change[field]
        assert handle.filter(id=pk).fields(field).first() == {field: change[field]}
    finally:
        handle.delete(pk)
    assert not handle.filter(id=pk).exists()


def test_batches_and_query_writes_on_a_system_handle(directus_client: DirectusClient) -> None:
    key = unique("batch")
    translations = directus_client.translations
    created = translations.create_many(
        [{"language": language, "key": key, "value": str(n)}
         for n, language in enumerate(["en-US", "de-DE", "fr-FR", "es-ES", "it-IT"])],
        batch_size=2)
    assert len(created) == 5
    changed = translations.filter(key=key, value__in=["1", "2"]).update({"value": "x"})
    assert sorted(row["value"] for row in changed) == ["x", "x"]
    assert translations.filter(key=key).sort("value").fields("value").fetch()[-2:] == [
        {"value": "x"}, {"value": "x"}]
    assert translations.filter(key=key).delete() == 5
    assert translations.filter(key=key).count() == 0


def test_activity_and_revisions_read_but_refuse_writes(directus_client: DirectusClient,
                                                       world: dict[str, Any]) -> None:
    name = world["collection"]
    item = directus_client.collection(name).create({"title": "tracked"})
    directus_client.collection(name).update(item["id"], {"title": "tracked twice"})
    entries = directus_client.activity.filter(collection=name, item=str(item["id"])).sort(
        "id").fields("id", "action").fetch()
    assert [e["action"] for e in entries] == ["create", "update"]
    assert directus_client.activity.get(entries[0]["id"])["collection"] == name
    revision = directus_client.revisions.filter(collection=name, item=str(item["id"])).sort(
        "-id").first()
    assert revision is not None and revision["data"]["title"] == "tracked twice"
    assert directus_client.revisions.get(revision["id"])["delta"] == {"title": "tracked twice"}
    for handle in (directus_client.activity, directus_client.revisions):
        for write in (lambda h: h.create({}), lambda h: h.update(1, {}),
                      lambda h: h.delete(1), lambda h: h.delete_many([1]),
                      lambda h: h.filter(id=1).update({"a": 1}),
                      lambda h: h.filter(id=1).delete()):
            with pytest.raises(ReadOnlyError, match="read-only"):
                write(handle)
    assert directus_client.activity.filter(collection=name, item=str(item["id"])).count() == 2


def test_settings_singleton(directus_client: DirectusClient) -> None:
    before = directus_client.settings.get()["project_name"]
    try:
        assert directus_client.settings.update({"project_name": "Renamed"})["project_name"] == (
            "Renamed")
        assert directus_client.settings.get({"fields": ["project_name"]}) == {
            "project_name": "Renamed"}
    finally:
        directus_client.settings.update({"project_name": before})


def test_extensions_list_and_unknown_extension(directus_client: DirectusClient) -> None:
    assert directus_client.extensions.list() == []
    with pytest.raises(NotFound, match="extension: no installed extension 'nope'"):
        directus_client.extensions.update("nope", {"enabled": False})


def test_limited_user_sees_its_permissions_and_permission_denied(
        directus_client: DirectusClient, world: dict[str, Any], access_grants: AccessGrants,
) -> None:
    admin = directus_client
    preset = admin.presets.create({"collection": world["collection"], "bookmark": "shared"})
    with access_grants.api_client({"directus_presets": ["read"]}) as limited:
        me = limited.users.me()
        assert set(me) == {"id"}  # it may not read directus_users, so /users/me says only who
        assert limited.users.me()["id"] == admin.users.filter(id=me["id"]).first()["id"]
        assert preset["id"] in [p["id"] for p in limited.presets]
        assert limited.presets.get(preset["id"])["bookmark"] == "shared"
        assert limited.presets.filter(bookmark="shared").count() >= 1
        assert limited.permissions.me()["directus_presets"]["read"]["access"] == "full"
        assert limited.policies.me_globals() == {
            "app_access": False, "admin_access": False, "enforce_tfa": False}
        assert limited.roles.me() == []
        with pytest.raises(PermissionDenied) as denied:
            limited.users.fields("id").fetch()
        assert denied.value.reason is not None and "directus_users" in denied.value.reason
        with pytest.raises(PermissionDenied):
            limited.presets.create({"collection": world["collection"], "bookmark": "x"})
        with pytest.raises(PermissionDenied):
            limited.roles.create({"name": "nope"})
        with pytest.raises(PermissionDenied):
            limited.settings.update({"project_name": "nope"})
        with pytest.raises(PermissionDenied, match=r"clear_cache\(\) needs an admin token"):
            limited.utils.clear_cache()
        with pytest.raises(PermissionDenied) as admin_only:
            limited.schema.snapshot()
        assert admin_only.value.reason == "schema.snapshot() is for admins only"
    admin.presets.delete(preset["id"])


def test_user_allowed_to_read_users_gets_its_record(access_grants: AccessGrants) -> None:
    with access_grants.api_client({"directus_users": ["read"]}, name=unique("reader")) as reader:
        me = reader.users.me(fields=["id", "email"])
        assert me["email"].startswith("reader_")
        assert reader.users.get(me["id"])["email"] == me["email"]


def test_public_policy_reads_translations(directus_client: DirectusClient,
                                         access_grants: AccessGrants) -> None:
    key = unique("public")
    row = directus_client.translations.create({"language": "en-US", "key": key, "value": "p"})
    anonymous = DirectusClient(directus_client.url)
    with pytest.raises(PermissionDenied):
        anonymous.translations.filter(key=key).fetch()
    public = access_grants.public_client({"directus_translations": ["read"]})
    try:
        assert public.translations.filter(key=key).fields("value").fetch() == [{"value": "p"}]
        with pytest.raises(PermissionDenied):
            public.translations.update(row["id"], {"value": "q"})
    finally:
        directus_client.translations.delete(row["id"])
        anonymous.close()


# "The same pool" is the requests session's (the async face's with_token shares its
# aiohttp session, checked in tests/unit/test_aio_transport.py and test_aio.py).
@pytest.mark.sync_only
def test_with_token_acts_as_the_limited_user_over_the_same_pool(
        directus_client: DirectusClient) -> None:
    admin = directus_client
    # The limited policy and its user, made through the system handles themselves.
    policy = admin.policies.create({"name": unique("limited"), "app_access": False,
                                    "permissions": [{"collection": "directus_presets",
                                                     "action": "read", "fields": ["*"]}]})
    token = admin.utils.random_string(40)
    user_id = admin.users.create({"email": f"{unique('limited')}@example.com", "token": token,
                                  "policies": [{"policy": policy["id"]}]})["id"]
    assert admin.access.filter(user=user_id).fields("policy").fetch() == [
        {"policy": policy["id"]}]
    as_user = directus_client.with_token(token)
    assert as_user.transport.session.adapters["http://"] is (
        directus_client.transport.session.adapters["http://"])
    assert as_user.users.me()["id"] == user_id
    assert as_user.permissions.me().keys() == {"directus_presets"}
    with pytest.raises(PermissionDenied):
        as_user.roles.fields("id").fetch()
    as_user.close()
    # The admin client is untouched and its pool still open.
    assert directus_client.users.me(fields=["id"])["id"] != user_id
    assert directus_client.roles.fields("id").fetch()
    with pytest.raises(UsageError, match="auth"):
        directus_client.with_auth("token")  # type: ignore[arg-type]
    admin.users.delete(user_id)
    admin.policies.delete(policy["id"])
