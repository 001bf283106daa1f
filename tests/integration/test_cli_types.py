"""`pydirectus types` against a real Directus: the module passes ruff and mypy --strict."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pydirectus
from pydirectus import DirectusClient
from pydirectus.testing import DirectusServer
from pydirectus.testing.access import AccessGrants
from pydirectus.testing.collections import CollectionFactory

from .cli_helpers import one_line_error, run_cli, token_of

REPO = Path(pydirectus.__file__).resolve().parent.parent
TYPES = ["string", "text", "integer", "bigInteger", "float", "decimal", "boolean", "date",
         "dateTime", "time", "timestamp", "json", "uuid", "hash", "csv", "geometry"]
SPECIAL = {"boolean": ["cast-boolean"], "json": ["cast-json"], "csv": ["cast-csv"],
           "hash": ["hash"], "timestamp": ["cast-timestamp"]}
COLLECTIONS = ["cli_articles", "cli_authors", "cli_tags", "cli_articles_tags", "cli_pages",
               "cli_pages_blocks"]


def _pk(kind: str = "integer") -> dict[str, Any]:
    if kind == "uuid":
        return {"field": "id", "type": "uuid", "meta": {"special": ["uuid"]},
                "schema": {"is_primary_key": True, "length": 36}}
    return {"field": "id", "type": "integer", "meta": {},
            "schema": {"is_primary_key": True, "has_auto_increment": True}}


@pytest.fixture(scope="module")
def blog(directus: DirectusServer) -> Iterator[list[str]]:
    """A schema with every field type and every relation kind, under fixed names."""
    factory = CollectionFactory(directus.url, directus.admin_token)
    call = factory._call
    try:
        call("POST", "/collections", {"collection": "cli_authors", "schema": {}, "meta": {},
                                      "fields": [_pk(), {"field": "name", "type": "string",
                                                         "schema": {"is_nullable": False}}]})
        call("POST", "/collections", {"collection": "cli_tags", "schema": {}, "meta": {},
                                      "fields": [_pk("uuid"), {"field": "label",
                                                               "type": "string"}]})
        # Directus's geometry columns on PostgreSQL need PostGIS, which the local
        # PostgreSQL does not load: the type is covered on SQLite.
        types = [t for t in TYPES if not (t == "geometry" and directus.database == "postgresql")]
        fields = [_pk(), *({"field": f"f_{t.lower()}", "type": t, "schema": {},
                            "meta": {"special": SPECIAL.get(t)}} for t in types)]
        fields.append({"field": "status", "type": "string",
                       "schema": {"is_nullable": False, "default_value": "draft"},
                       "meta": {"interface": "select-dropdown", "options": {"choices": [
                           {"text": "Draft", "value": "draft"},
                           {"text": "Published", "value": "published"}]}}})
        call("POST", "/collections", {"collection": "cli_articles", "schema": {},
                                      "meta": {"note": "Posts on the blog"}, "fields": fields})
        factory.created.extend(["cli_authors", "cli_tags", "cli_articles"])
        for field, kind, related, one_field in (
                ("author", "integer", "cli_authors", "articles"),
                ("owner", "uuid", "directus_users", None),
                ("cover", "uuid", "directus_files", None)):
            call("POST", "/fields/cli_articles", {"field": field, "type": kind, "schema": {},
                                                  "meta": {"special": ["m2o"]}})
            call("POST", "/relations", {"collection": "cli_articles", "field": field,
                                        "related_collection": related,
                                        "meta": {"one_field": one_field},
                                        "schema": {"on_delete": "SET NULL"}})
        call("POST", "/fields/cli_authors", {"field": "articles", "type": "alias",
                                             "meta": {"special": ["o2m"]}})
        call("POST", "/collections", {"collection": "cli_articles_tags", "schema": {},
                                      "meta": {"hidden": True}, "fields": [
                                          _pk(), {"field": "cli_articles_id", "type": "integer"},
                                          {"field": "cli_tags_id", "type": "uuid"}]})
        factory.created.append("cli_articles_tags")
        call("POST", "/fields/cli_articles", {"field": "tags", "type": "alias",
                                              "meta": {"special": ["m2m"]}})
        call("POST", "/relations", {
            "collection": "cli_articles_tags", "field": "cli_articles_id",
            "related_collection": "cli_articles",
            "meta": {"one_field": "tags", "junction_field": "cli_tags_id"},
            "schema": {"on_delete": "SET NULL"}})
        call("POST", "/relations", {
            "collection": "cli_articles_tags", "field": "cli_tags_id",
            "related_collection": "cli_tags",
            "meta": {"junction_field": "cli_articles_id"}, "schema": {"on_delete": "SET NULL"}})
        # Many-to-any: pages hold blocks that are authors or tags.
        call("POST", "/collections", {"collection": "cli_pages", "schema": {}, "meta": {},
                                      "fields": [_pk(), {"field": "blocks", "type": "alias",
                                                         "meta": {"special": ["m2a"]}}]})
        call("POST", "/collections", {"collection": "cli_pages_blocks", "schema": {},
                                      "meta": {"hidden": True}, "fields": [
                                          _pk(), {"field": "cli_pages_id", "type": "integer"},
                                          {"field": "item", "type": "string"},
                                          {"field": "collection", "type": "string"}]})
        factory.created.extend(["cli_pages", "cli_pages_blocks"])
        call("POST", "/relations", {
            "collection": "cli_pages_blocks", "field": "item", "related_collection": None,
            "meta": {"one_allowed_collections": ["cli_authors", "cli_tags"],
                     "one_collection_field": "collection", "junction_field": "cli_pages_id"}})
        call("POST", "/relations", {
            "collection": "cli_pages_blocks", "field": "cli_pages_id",
            "related_collection": "cli_pages",
            "meta": {"one_field": "blocks", "junction_field": "item"},
            "schema": {"on_delete": "SET NULL"}})
        yield COLLECTIONS
    finally:
        factory.drop_all()


@pytest.fixture(scope="module")
def models_py(directus: DirectusServer, blog: list[str],
              tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("types")
    result = run_cli(directus.url, directus.admin_token, "types", "--collection",
                     ",".join(blog), "-o", "models.py", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "wrote 6 models to models.py"
    return folder / "models.py"


OK_PROGRAM = '''\
from __future__ import annotations

from pydirectus import DirectusClient
from pydirectus.collection import Collection

from models import CliArticle, CliArticleStatus, CliAuthor, CliPage


def summary(client: DirectusClient) -> list[str]:
    articles: Collection[CliArticle] = client.collection("cli_articles", CliArticle)
    lines: list[str] = []
    for article in articles.filter(status="published").fields("*", "author.*"):
        status: CliArticleStatus = article["status"]
        author = article.get("author")
        if isinstance(author, dict):
            name: str = author["name"]
            lines.append(name)
        views: int | None = article.get("f_integer")
        tags: list[str] | None = article.get("f_csv")
        lines.append(f"{status} {views} {tags}")
    authors = client.collection("cli_authors", CliAuthor)
    first = authors.first()
    if first is not None:
        lines.extend(str(a) for a in first.get("articles", []))
    for page in client.collection("cli_pages", CliPage).fields("blocks.item:cli_tags.id"):
        for block in page.get("blocks", []):
            if isinstance(block, dict):
                item = block.get("item")
                if isinstance(item, str):
                    lines.append(item)
                elif item is not None:
                    lines.append(str(item.get("id")))
    return lines
'''

WRONG_PROGRAM = '''\
from __future__ import annotations

from pydirectus import DirectusClient

from models import CliArticle, CliArticleStatus


def wrong(client: DirectusClient) -> None:
    for article in client.collection("cli_articles", CliArticle):
        article["no_such_field"]
        views: str = article["f_integer"]
        status: CliArticleStatus = "archived"
        print(views, status)
'''
WRONG_LINES = {10, 11, 12}


def test_generated_models_pass_ruff(models_py: Path) -> None:
    for command in (["check", "--select", "E,F,W,I,UP,B,SIM,RUF", "--line-length", "88"],
                    ["format", "--check"]):
        result = subprocess.run([sys.executable, "-m", "ruff", *command, "--isolated",
                                 str(models_py)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def test_generated_models_type_check_a_program_and_catch_a_wrong_one(models_py: Path) -> None:
    folder = models_py.parent
    (folder / "ok.py").write_text(OK_PROGRAM)
    (folder / "wrong.py").write_text(WRONG_PROGRAM)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "ok.py", "wrong.py",
         "models.py"],
        cwd=folder, capture_output=True, text=True, check=False,
        env={**os.environ, "MYPYPATH": str(REPO)})
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert errors, result.stdout
    assert all(line.startswith("wrong.py:") for line in errors), result.stdout
    assert {int(line.split(":")[1]) for line in errors} == WRONG_LINES, result.stdout


def test_generated_models_describe_what_directus_returns(
        models_py: Path, directus_client: DirectusClient) -> None:
    spec = importlib.util.spec_from_file_location("cli_models", models_py)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    source = models_py.read_text()
    assert "status: CliArticleStatus\n" in source
    assert "author: int | CliAuthor | None\n" in source
    assert "owner: str | models.User | None\n" in source
    assert "tags: list[int | CliArticlesTag]\n" in source
    assert "blocks: list[int | CliPagesBlock]\n" in source
    assert "item: str | CliAuthor | CliTag | None\n" in source
    assert '"""A row of cli_articles: Posts on the blog."""' in source
    author = directus_client.collection("cli_authors", module.CliAuthor).create(
        {"name": "Ann"})
    articles = directus_client.collection("cli_articles", module.CliArticle)
    created = articles.create({"status": "published", "author": author["id"],
                               "f_integer": 3, "f_csv": ["a", "b"], "f_json": {"k": 1}},
                              fields=["id"])
    # SQLite without SpatiaLite cannot read geometry columns back: ask for the rest.
    names = sorted(set(module.CliArticle.__optional_keys__) - {"f_geometry", "author"})
    item = articles.fields(*names, "author.*").get(created["id"])
    assert set(item) == {*names, "author"}
    assert set(item) <= set(module.CliArticle.__optional_keys__)
    assert set(item["author"]) <= set(module.CliAuthor.__optional_keys__)
    assert item["f_csv"] == ["a", "b"] and item["status"] == "published"


def test_types_with_a_token_that_cannot_read_the_schema(
        directus: DirectusServer, blog: list[str], directus_client: DirectusClient) -> None:
    with AccessGrants(directus_client) as grants:
        token = token_of(grants.api_client({"cli_articles": ["read"]}))
        line = one_line_error(run_cli(directus.url, token, "types"))
    assert "may not read the schema" in line and "GET /collections" in line


def test_types_from_a_saved_snapshot_needs_no_server(
        directus_client: DirectusClient, blog: list[str], tmp_path: Path) -> None:
    import json

    snapshot = directus_client.transport.data("GET", "schema", "snapshot")
    (tmp_path / "schema.json").write_text(json.dumps(snapshot))
    result = run_cli(None, None, "types", "--from", "schema.json", "--collection",
                     "cli_authors", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "class CliAuthor(TypedDict, total=False):" in result.stdout
    assert "Generated from Directus 12.4.0" in result.stdout
