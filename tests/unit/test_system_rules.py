"""System handles' argument checks: bad input raises naming the argument, and nothing is sent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pydirectus import DirectusClient, InvalidQuery, Query, UsageError
from pydirectus.system import Field, ManyToOne, ReadOnlyError
from pydirectus.system.custom import split_path
from pydirectus.system.presets import preset_body
from pydirectus.transport import SharedPoolSession

from .test_client_rules import RecordingAdapter, recording_client

UUID = "6b3c5f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture
def wired() -> Iterator[tuple[DirectusClient, RecordingAdapter]]:
    client, adapter = recording_client()
    yield client, adapter
    assert adapter.sent == [], "bad input must be refused before anything is sent"


BAD: dict[str, tuple[Callable[[DirectusClient], Any], str]] = {
    "activity create": (lambda c: c.activity.create({"a": 1}), "read-only"),
    "activity query update": (lambda c: c.activity.filter(id=1).update({"a": 1}), "read-only"),
    "revisions delete": (lambda c: c.revisions.delete_many([1]), "read-only"),
    "flow id": (lambda c: c.flows.trigger("42"), "flow_id: expected a UUID"),
    "flow method": (lambda c: c.flows.trigger(UUID, method="PUT"), "method"),
    "flow GET body": (lambda c: c.flows.trigger(UUID, {"a": 1}, method="GET"), "data"),
    "flow params": (lambda c: c.flows.trigger(UUID, params={"a": [1]}), "params"),
    "version id": (lambda c: c.versions.compare("draft"), "id: expected a UUID"),
    "version save": (lambda c: c.versions.save(UUID, ["x"]), "delta"),  # type: ignore[arg-type]
    "promote hash": (lambda c: c.versions.promote(UUID, ""), "main_hash"),
    "promote fields": (lambda c: c.versions.promote(UUID, "h", fields="title"), "fields"),
    "share id": (lambda c: c.shares.info("abc"), "id: expected a UUID"),
    "share auth id": (lambda c: c.shares.authenticate("abc"), "share: expected a UUID"),
    "share auth password": (lambda c: c.shares.authenticate(UUID, ""), "password"),
    "share invite id": (lambda c: c.shares.invite("abc", "a@b.c"), "share: expected a UUID"),
    "share invite none": (lambda c: c.shares.invite(UUID, []), "emails"),
    "share invite email": (lambda c: c.shares.invite(UUID, ["a@b.c", "x"]), r"emails\[1\]"),
    "register verify": (lambda c: c.users.register_verify(""), "token"),
    "registry install": (lambda c: c.extensions.install("seo", UUID), "extension: expected"),
    "registry version": (lambda c: c.extensions.install(UUID, "1.0.0"), "version: expected"),
    "registry reinstall": (lambda c: c.extensions.reinstall(""), "extension"),
    "registry uninstall": (lambda c: c.extensions.uninstall("seo"), "extension: expected"),
    "registry sort": (lambda c: c.extensions.registry(sort="name"), "sort"),
    "registry type": (lambda c: c.extensions.registry(type="widget"), "type"),
    "registry by": (lambda c: c.extensions.registry(by="ann"), "by: expected"),
    "registry limit": (lambda c: c.extensions.registry(limit=-1), "limit"),
    "registry extension": (lambda c: c.extensions.registry_extension("seo"), "id: expected"),
    "registry account": (lambda c: c.extensions.registry_account(""), "id: expected"),
    "extension delete": (lambda c: c.extensions.delete(" "), "extension"),
    "collections update_many": (lambda c: c.collections.update_many({}), "changes"),
    "collections update_many meta": (lambda c: c.collections.update_many({"a": 1}),  # type: ignore[dict-item]
                                     r"changes\['a'\]"),
    "fields update_many": (lambda c: c.fields.update_many("a", []), "changes"),  # type: ignore[arg-type]
    "fields update_many rename": (lambda c: c.fields.update_many("a", {"t": {"field": "u"}}),
                                  "renamed"),
    "fields update_many collection": (lambda c: c.fields.update_many("", {"t": {}}),
                                      "collection"),
    "extension meta": (lambda c: c.extensions.update("x", "on"), "meta"),  # type: ignore[arg-type]
    "extension name": (lambda c: c.extensions.get(""), "extension"),
    "invite email": (lambda c: c.users.invite("nobody", UUID), "email"),
    "invite emails": (lambda c: c.users.invite(["a@b.c", "x"], UUID), r"email\[1\]"),
    "invite role": (lambda c: c.users.invite("a@b.c", "editors"), "role: expected a UUID"),
    "invite url": (lambda c: c.users.invite("a@b.c", UUID, "ftp://x"), "invite_url"),
    "accept": (lambda c: c.users.accept_invite("", "pw"), "token"),
    "register": (lambda c: c.users.register("a@b.c", ""), "password"),
    "tfa enable": (lambda c: c.users.enable_tfa("secret", ""), "otp"),
    "tfa other": (lambda c: c.users.disable_tfa("123", user=UUID), "otp"),
    "tfa user": (lambda c: c.users.disable_tfa(user="me"), "user: expected a UUID"),
    "update_me": (lambda c: c.users.update_me(["x"]), "data"),  # type: ignore[arg-type]
    "item permissions": (lambda c: c.permissions.item(""), "collection"),
    "permissions aggregate": (lambda c: c.permissions.aggregate(sum="id").fetch(), "aggregate"),
    "random length": (lambda c: c.utils.random_string(501), "length"),
    "sort item": (lambda c: c.utils.sort("articles", None, 2), "item"),  # type: ignore[arg-type]
    "revert": (lambda c: c.utils.revert("."), "revision"),  # type: ignore[arg-type]
    "import type": (lambda c: c.utils.import_file("a", b"x", filename="a.txt"), "JSON or CSV"),
    "import batches": (lambda c: c.utils.import_items({}), "batches"),
    "import mode": (lambda c: c.utils.import_items({"a": [{}]}, mode="upsert"), "mode"),
    "export format": (lambda c: c.utils.export("a", format="pdf"), "format"),
    "export query": (lambda c: c.utils.export("a", 3), "query"),  # type: ignore[arg-type]
    "password request": (lambda c: c.authentication.password_request("x"), "email"),
    "password reset": (lambda c: c.authentication.password_reset("t", ""), "password"),
    "graphql scope": (lambda c: c.server.specs_graphql("all"), "scope"),
    "preset query": (lambda c: c.presets.from_query("a", {"limit": 1}, "b"), "query"),  # type: ignore[arg-type]
    "preset offset": (lambda c: c.presets.from_query("a", Query().offset(5), "b"), "offset"),
    "preset deep": (lambda c: c.presets.from_query("a", Query().aggregate(count="*"), "b"),
                    "aggregate"),
    "preset bookmark": (lambda c: c.presets.from_query("a", Query(), ""), "bookmark"),
    "preset user": (lambda c: c.presets.from_query("a", Query(), "b", user="ann"), "user"),
    "define pk": (lambda c: c.schema.define("a", pk="serial"), "pk"),
    "define type": (lambda c: c.schema.define("a", {"t": "strng"}), "strng"),
    "define id": (lambda c: c.schema.define("a", {"id": "integer"}), "primary key"),
    "define spec": (lambda c: c.schema.define("a", {"t": 3}), r"fields\['t'\]"),
    "field spec": (lambda c: c.fields.create("a", {"type": "string"}), "spec"),
    "add_relation spec": (lambda c: c.schema.add_relation("a", "b", "m2o"), "spec"),  # type: ignore[arg-type]
    "add_relation field": (lambda c: c.schema.add_relation("a", "", ManyToOne("b")), "field"),
    "relation spec": (lambda c: c.relations.create({"collection": "a"}), "field"),
    "drop name": (lambda c: c.schema.drop("a", 3), r"collections\[1\]"),  # type: ignore[arg-type]
    "drop blank": (lambda c: c.schema.drop("a", " "), r"collections\[1\]"),
    "drop system": (lambda c: c.schema.drop("a", "directus_users"), "'directus_users'.*system"),
    "delete system collection": (lambda c: c.collections.delete("directus_notifications"),
                                 r"'directus_notifications'.*system collection.*Nothing was sent"),
    "delete system field": (lambda c: c.fields.delete("directus_users", "email"),
                            r"directus_users is a system collection.*allow_system=True"),
    "delete system relation": (lambda c: c.relations.delete("directus_users", "role"),
                               r"directus_users is a system collection.*allow_system=True"),
    "diff": (lambda c: c.schema.diff({"collections": []}), "snapshot"),
    "apply": (lambda c: c.schema.apply({"diff": {}}), "diff"),
    "request method": (lambda c: c.request("BREW", "coffee"), "method"),
    "request query": (lambda c: c.request("GET", "hello?x=1"), "params="),
    "request dots": (lambda c: c.request("GET", "a/../users"), "segments"),
    "request url": (lambda c: c.request("GET", "http://evil/x"), "relative"),
    "request headers": (lambda c: c.request("GET", "x", headers={"A": 1}), "headers"),  # type: ignore[dict-item]
    "request params": (lambda c: c.request("GET", "x", params={"a": None}), "params"),
}


#: the cases about a query (InvalidQuery); every other one is an argument misused (UsageError)
QUERY_CASES = frozenset({"export query", "permissions aggregate", "preset deep", "preset offset",
                         "preset query"})


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_before_sending(
        wired: tuple[DirectusClient, RecordingAdapter], case: str) -> None:
    call, message = BAD[case]
    with pytest.raises(UsageError, match=message) as caught:
        call(wired[0])
    assert isinstance(caught.value, InvalidQuery) == (case in QUERY_CASES), type(caught.value)


def test_drop_of_nothing_sends_nothing(wired: tuple[DirectusClient, RecordingAdapter]) -> None:
    wired[0].schema.drop()


def test_read_only_error_is_a_usage_error_not_an_invalid_query() -> None:
    assert issubclass(ReadOnlyError, UsageError) and not issubclass(ReadOnlyError, InvalidQuery)


def test_field_and_relation_values_check_themselves() -> None:
    with pytest.raises(UsageError, match="length"):
        Field("string", length=0)
    with pytest.raises(UsageError, match="on_delete"):
        ManyToOne("authors", on_delete="DROP")
    assert Field("json").to_dict("data") == {
        "field": "data", "type": "json", "schema": {"is_nullable": True, "is_unique": False},
        "meta": {"required": False, "hidden": False, "special": ["cast-json"]}}


def test_split_path_and_custom_request_shape() -> None:
    assert split_path("/my-endpoint/a b/") == ("my-endpoint", "a b")
    client, adapter = recording_client()
    # The recording adapter sends no Content-Type: a body that is not JSON comes back as text.
    assert client.request("post", "my-endpoint/a b", params={"n": 2}, json={"x": 1}) == (
        '{"data": {}}')
    sent = adapter.sent[-1]
    assert (sent.method, sent.path_url) == ("POST", "/my-endpoint/a%20b?n=2")
    assert sent.headers["Authorization"] == "Bearer tok"


def test_with_token_shares_the_pool_and_closing_it_keeps_the_pool() -> None:
    client, adapter = recording_client()
    other = client.with_token("s3cret-other")
    assert isinstance(other.transport.session, SharedPoolSession)
    other.users.me()
    assert adapter.sent[-1].headers["Authorization"] == "Bearer s3cret-other"
    other.close()
    client.users.me()
    assert adapter.sent[-1].headers["Authorization"] == "Bearer tok"
    assert "s3cret" not in repr(other)


def test_a_preset_row_stores_a_compiled_query() -> None:
    compiled = Query().filter(views__gt=1).search("x").sort("-views").fields("title").limit(
        5).to_dict()
    assert preset_body("articles", compiled, bookmark="Busy", layout="cards") == {
        "collection": "articles", "bookmark": "Busy", "layout": "cards",
        "filter": {"views": {"_gt": 1}}, "search": "x",
        "layout_query": {"cards": {"fields": ["title"], "sort": ["-views"], "limit": 5}}}
    assert Query.from_preset(preset_body("a", compiled, bookmark=None, layout="cards")) == (
        Query.from_dict(compiled))
    with pytest.raises(InvalidQuery, match="groupBy"):
        preset_body("a", Query().group_by("status").to_dict(), bookmark=None, layout="tabular")
