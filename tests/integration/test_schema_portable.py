"""Schema as code that copies across databases: File/Image/Files fields, foreign keys typed
as the keys they point at, required fields enforced by Directus, and a blog schema copied
from the run's database to a fresh server on each database and back, with nothing left to
change either way (through the API and the CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pydirectus import DirectusClient, StaticToken, UsageError
from pydirectus.errors import InvalidRequest
from pydirectus.system import Field, File, Files, Image, ManyToMany, ManyToOne, OneToMany
from pydirectus.testing import DATABASES
from pydirectus.testing.access import AccessGrants
from pydirectus.testing.collections import unique_name as unique
from pydirectus.testing.pytest_plugin import chosen_database, running
from pydirectus.testing.server import DirectusServer

from .cli_helpers import run_cli

# The databases a schema is copied to (and back from), one server each: SQLite always (a
# uuid foreign key even reads back as a string there), and each other database but the
# run's own. Over the three runs (SQLite, PostgreSQL, MariaDB) every pair goes both ways.
TARGET_DATABASES = ("sqlite", "postgresql", "mariadb")
TEXT = b"a file\n"


def test_target_databases_are_ones_the_test_server_starts() -> None:
    assert set(TARGET_DATABASES) <= set(DATABASES)


def _define_blog(client: Any) -> dict[str, str]:
    names = {key: unique(key) for key in ("authors", "series", "tags", "posts", "comments")}
    schema = client.schema
    schema.define(names["authors"], {"name": Field("string", required=True, length=80)})
    schema.define(names["series"], {"title": "string"}, pk="uuid")
    schema.define(names["tags"], {"label": "string"})
    schema.define(names["posts"], {
        "title": Field("string", required=True), "views": Field("integer", default=0),
        "author": ManyToOne(names["authors"], reverse="posts"),
        "cover": File(), "banner": Image(), "gallery": Files(),
        "series": ManyToOne(names["series"], reverse="posts"),
        "tags": ManyToMany(names["tags"], reverse="posts"),
    })
    schema.define(names["comments"], {"body": "text"})
    schema.add_relation(names["posts"], "comments", OneToMany(names["comments"], field="post"))
    names["posts_tags"] = f"{names['posts']}_{names['tags']}"
    names["posts_files"] = f"{names['posts']}_files"
    return names


def _drop_blog(client: Any, names: dict[str, str]) -> None:
    client.schema.drop(*names.values())


def _fields(client: Any, collection: str) -> dict[str, tuple[str, tuple[str, ...], str | None]]:
    return {f["field"]: (f["type"], tuple((f["meta"] or {}).get("special") or ()),
                         (f["meta"] or {}).get("interface"))
            for f in client.fields.all(collection)}


def _fill_and_read(client: Any, names: dict[str, str]) -> None:
    # Every foreign key takes a real key on this database (PostgreSQL checks their types).
    cover, photo = (client.files.upload(TEXT, filename=name, content_type="text/plain")
                    for name in ("cover.png", "photo.png"))
    author = client.collection(names["authors"]).create({"name": "Ann"})
    series = client.collection(names["series"]).create({"title": "Schemas"})
    tag = client.collection(names["tags"]).create({"label": "py"})
    post = client.collection(names["posts"]).create({
        "title": "Hello", "author": author["id"], "cover": cover["id"], "banner": photo["id"],
        "series": series["id"], "gallery": {"create": [{"directus_files_id": photo["id"]}]},
        "tags": {"create": [{f"{names['tags']}_id": tag["id"]}]},
        "comments": {"create": [{"body": "first"}]}})
    read = client.collection(names["posts"]).fields(
        "views", "author.name", "cover.filename_download", "banner.id", "series.title",
        "gallery.directus_files_id.filename_download", f"tags.{names['tags']}_id.label",
        "comments.body").get(post["id"])
    assert read == {
        "views": 0, "author": {"name": "Ann"}, "cover": {"filename_download": "cover.png"},
        "banner": {"id": photo["id"]}, "series": {"title": "Schemas"},
        "gallery": [{"directus_files_id": {"filename_download": "photo.png"}}],
        "tags": [{f"{names['tags']}_id": {"label": "py"}}], "comments": [{"body": "first"}]}
    assert client.collection(names["series"]).fields("posts.title").get(series["id"]) == {
        "posts": [{"title": "Hello"}]}


def test_file_image_and_files_make_what_the_app_makes(directus_client: Any) -> None:
    names = _define_blog(directus_client)
    try:
        posts = _fields(directus_client, names["posts"])
        # The "file" special makes even SQLite report the char(36) column as a uuid.
        assert posts["cover"] == ("uuid", ("file",), "file")
        assert posts["banner"] == ("uuid", ("file",), "file-image")
        assert posts["gallery"] == ("alias", ("files",), "files")
        assert posts["author"] == ("integer", ("m2o",), "select-dropdown-m2o")
        assert posts["series"][1:] == (("m2o",), "select-dropdown-m2o")
        junction = _fields(directus_client, names["posts_files"])
        assert junction["directus_files_id"][:2] == ("uuid", ("file",))
        assert junction[f"{names['posts']}_id"][:2] == ("integer", ("m2o",))
        relations = {(r["field"], r["related_collection"], (r["meta"] or {}).get("one_field"))
                     for r in directus_client.relations.all(names["posts_files"])}
        assert relations == {(f"{names['posts']}_id", names["posts"], "gallery"),
                             ("directus_files_id", "directus_files", None)}
        _fill_and_read(directus_client, names)
    finally:
        _drop_blog(directus_client, names)


def test_file_helpers_check_their_arguments() -> None:
    with pytest.raises(UsageError, match=r"^File on_delete: expected one of SET NULL"):
        File(on_delete="EXPLODE")
    with pytest.raises(UsageError, match=r"^Image on_delete"):
        Image(on_delete="")
    with pytest.raises(UsageError, match="Files junction"):
        Files(junction="")
    with pytest.raises(UsageError, match="required field cannot be nullable"):
        Field("string", required=True, nullable=True)
    assert Field("string", required=True).to_dict("a")["schema"]["is_nullable"] is False
    assert Field("string", nullable=False).to_dict("a")["meta"]["required"] is False


def test_required_fields_are_enforced_for_api_writes(
        directus_client: Any, access_grants: AccessGrants) -> None:
    name = unique("required")
    directus_client.schema.define(name, {
        "title": Field("string", required=True), "rank": Field("integer", required=True),
        "level": Field("integer", required=True, default=1), "note": "string"})
    try:
        grant = {name: ["create", "read", "update"]}
        with access_grants.api_client(grant) as api, access_grants.public_client(grant) as public:
            for client in (directus_client, api, public):
                items = client.collection(name)
                for body, field, why in (({"rank": 1}, "title", "Value is required"),
                                         ({"title": "t"}, "rank", "Value is required"),
                                         ({"title": None, "rank": 1}, "title", "can't be null"),
                                         ({"title": "", "rank": 1}, "title", "can't be empty")):
                    with pytest.raises(InvalidRequest, match="FAILED_VALIDATION") as refused:
                        items.create(body)
                    assert f'field "{field}"' in str(refused.value) and why in str(
                        refused.value)
                # A default stands in for a missing value; an update need not carry them.
                made = items.create({"title": "t", "rank": 2})
                assert made["level"] == 1
                assert items.update(made["id"], {"note": "n"})["note"] == "n"
                with pytest.raises(InvalidRequest, match=r'field "rank".*can.t be null'):
                    items.update(made["id"], {"rank": None})
    finally:
        directus_client.schema.drop(name)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Copy to each database but the run's own: over the three runs, every ordered pair
    (a copy within one database is test_system_schema's round trip)."""
    if "target_database" in metafunc.fixturenames:
        own = chosen_database(metafunc.config)
        metafunc.parametrize("target_database", [
            target for target in TARGET_DATABASES if target != own])


def test_a_blog_schema_copies_to_another_database_and_back(
        directus: DirectusServer, directus_client: Any, target_database: str,
        tmp_path: Path) -> None:
    names = _define_blog(directus_client)
    try:
        # A sync target either way: the run's face copies to it, and diffs and applies
        # its snapshot (an async client's copy_to is awaited and takes a sync target).
        with running(DirectusServer(database=target_database)) as server, \
                DirectusClient(server.url, auth=StaticToken(server.admin_token)) as target:
            # No force: a snapshot from another database is ported to the target's terms.
            applied = directus_client.schema.copy_to(target.schema)
            assert applied is not None
            assert directus_client.schema.copy_to(target.schema) is None
            assert target.schema.diff(directus_client.schema.snapshot()) is None
            _fill_and_read(target, names)

            # Back: fields added to a collection that exists on the other side (no longer
            # created with their collection, where Directus would fix a uuid's type itself).
            target.schema.add_relation(names["posts"], "hero", Image())
            target.schema.add_relation(names["posts"], "sequel", ManyToOne(names["series"]))
            back = directus_client.schema.diff(target.schema.snapshot())
            assert back is not None
            directus_client.schema.apply(back)
            assert directus_client.schema.diff(target.schema.snapshot()) is None
            assert target.schema.diff(directus_client.schema.snapshot()) is None
            sequel = directus_client.collection(names["series"]).create({"title": "Two"})
            photo = directus_client.files.upload(TEXT, filename="hero.png",
                                                 content_type="text/plain")
            post = directus_client.collection(names["posts"]).create(
                {"title": "Again", "hero": photo["id"], "sequel": sequel["id"]})
            assert directus_client.collection(names["posts"]).fields(
                "hero.filename_download", "sequel.title").get(post["id"]) == {
                "hero": {"filename_download": "hero.png"}, "sequel": {"title": "Two"}}

            # The CLI diffs a snapshot file from the other database the same way.
            snap = run_cli(directus.url, directus.admin_token, "schema", "snapshot", "-o",
                           "schema.json", cwd=tmp_path)
            assert snap.returncode == 0, snap.stderr
            same = run_cli(server.url, server.admin_token, "schema", "apply", "schema.json",
                           cwd=tmp_path)
            assert same.returncode == 0, same.stderr
            assert same.stderr.strip() == "the schemas match: nothing to apply"
    finally:
        _drop_blog(directus_client, names)
