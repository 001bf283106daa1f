"""The type generator: a pure function from a Directus schema to a module of TypedDicts."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import typing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from pydirectus.typegen import SCALARS, SchemaError, generate_models

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def field(collection: str, name: str, type: str = "string", *, nullable: bool = True,
          pk: bool = False, interface: str | None = None, options: Any = None,
          special: list[str] | None = None) -> dict[str, Any]:
    schema = None if type == "alias" else {"is_nullable": nullable and not pk,
                                           "is_primary_key": pk}
    return {"collection": collection, "field": name, "type": type, "schema": schema,
            "meta": {"interface": interface, "options": options, "special": special}}


def relation(many: str, field: str, one: str | None, one_field: str | None = None,
             allowed: list[str] | None = None) -> dict[str, Any]:
    return {"collection": many, "field": field, "related_collection": one,
            "meta": {"one_field": one_field, "one_allowed_collections": allowed}}


def collection(name: str, note: str | None = None, table: bool = True) -> dict[str, Any]:
    return {"collection": name, "meta": {"note": note}, "schema": {"name": name} if table else None}


def blog() -> dict[str, Any]:
    """A schema with every field type and every relation kind."""
    fields = [
        field("articles", "id", "integer", pk=True),
        *(field("articles", f"f_{t.lower()}", t) for t in SCALARS),
        field("articles", "status", nullable=False, interface="select-dropdown",
              options={"choices": [{"text": "Draft", "value": "draft"},
                                   {"text": "Live", "value": "published"}]}),
        field("articles", "labels", "json", interface="select-multiple-checkbox",
              options={"choices": [{"text": "A", "value": "a"}, {"text": "B", "value": "b"}]}),
        field("articles", "mood", interface="select-dropdown",
              options={"choices": [{"text": "x", "value": "x"}], "allowOther": True}),
        field("articles", "author", "integer"),
        field("articles", "owner", "uuid"),
        field("articles", "cover", "uuid"),
        field("articles", "folder", "uuid"),
        field("articles", "role", "uuid"),
        field("articles", "tags", "alias", special=["m2m"]),
        field("articles", "divider", "alias", special=["alias", "no-data"]),
        field("authors", "id", "integer", pk=True),
        field("authors", "name", nullable=False),
        field("authors", "articles", "alias", special=["o2m"]),
        field("tags", "id", "uuid", pk=True),
        field("tags", "label"),
        field("articles_tags", "id", "integer", pk=True),
        field("articles_tags", "articles_id", "integer"),
        field("articles_tags", "tags_id", "uuid"),
        field("pages", "id", "integer", pk=True),
        field("pages", "blocks", "alias", special=["m2a"]),
        field("pages_blocks", "id", "integer", pk=True),
        field("pages_blocks", "pages_id", "integer"),
        field("pages_blocks", "item", "string"),
        field("pages_blocks", "collection", "string"),
    ]
    relations = [
        relation("articles", "author", "authors", "articles"),
        relation("articles", "owner", "directus_users"),
        relation("articles", "cover", "directus_files"),
        relation("articles", "folder", "directus_folders"),
        relation("articles", "role", "directus_roles"),
        relation("articles_tags", "articles_id", "articles", "tags"),
        relation("articles_tags", "tags_id", "tags"),
        relation("pages_blocks", "pages_id", "pages", "blocks"),
        relation("pages_blocks", "item", None, allowed=["tags", "authors"]),
    ]
    collections = [collection(n) for n in
                   ("articles", "authors", "tags", "articles_tags", "pages", "pages_blocks")]
    collections += [collection("directus_users"), collection("a_folder", table=False)]
    return {"collections": collections, "fields": fields, "relations": relations}


def annotations(source: str) -> dict[str, dict[str, str]]:
    """Return class -> field -> annotation text, read back from the generated source."""
    result: dict[str, dict[str, str]] = {}
    current = None
    lines = iter(source.splitlines())
    for line in lines:
        if line.startswith("class "):
            current = line[len("class "):line.index("(")]
            result[current] = {}
        elif current and line.startswith("    ") and ": " in line and '"""' not in line:
            name, annotation = line.strip().split(": ", 1)
            if annotation == "(":
                members = []
                for inner in lines:
                    if inner.strip() == ")":
                        break
                    members.append(inner.strip().removeprefix("| "))
                annotation = " | ".join(members)
            result[current][name] = annotation
    return result


@pytest.fixture(scope="module")
def source() -> str:
    return generate_models(blog(), version="12.4.0", generated_at=WHEN)


@pytest.mark.parametrize(("directus_type", "python"), [
    ("string", "str"), ("text", "str"), ("integer", "int"), ("bigInteger", "int"),
    ("float", "float"), ("decimal", "Decimal"), ("boolean", "bool"), ("date", "str"),
    ("dateTime", "str"), ("time", "str"), ("timestamp", "str"), ("json", "Any"),
    ("uuid", "str"), ("hash", "str"), ("csv", "list[str]"), ("geometry", "dict[str, Any]"),
])
def test_each_directus_type_maps_to_its_python_type(source: str, directus_type: str,
                                                    python: str) -> None:
    got = annotations(source)["Article"][f"f_{directus_type.lower()}"]
    assert got == (python if python == "Any" else f"{python} | None")


def test_keys_and_not_null_fields_are_not_optional_values(source: str) -> None:
    article = annotations(source)["Article"]
    assert article["id"] == "int"
    assert annotations(source)["Author"]["name"] == "str"
    assert annotations(source)["Tag"]["id"] == "str"


def test_choices_become_literal_aliases(source: str) -> None:
    assert 'ArticleStatus = Literal["draft", "published"]' in source
    assert 'ArticleLabels = Literal["a", "b"]' in source
    article = annotations(source)["Article"]
    assert article["status"] == "ArticleStatus"
    assert article["labels"] == "list[ArticleLabels] | None"
    assert article["mood"] == "str | None"   # other values allowed: no Literal


def test_relations_are_the_key_or_the_record(source: str) -> None:
    found = annotations(source)
    article = found["Article"]
    assert article["author"] == "int | Author | None"
    assert article["owner"] == "str | models.User | None"
    assert article["cover"] == "str | models.File | None"
    assert article["folder"] == "str | models.Folder | None"
    assert article["role"] == "str | dict[str, Any] | None"
    assert found["Author"]["articles"] == "list[int | Article]"
    assert article["tags"] == "list[int | ArticlesTag]"
    assert found["ArticlesTag"]["tags_id"] == "str | Tag | None"
    assert found["Page"]["blocks"] == "list[int | PagesBlock]"
    assert found["PagesBlock"]["item"] == "str | Author | Tag | None"
    assert "divider" not in article


def test_system_and_folder_collections_get_no_class(source: str) -> None:
    classes = set(annotations(source))
    assert classes == {"Article", "ArticlesTag", "Author", "Page", "PagesBlock", "Tag"}


def test_imports_only_what_the_module_uses(source: str) -> None:
    assert "from decimal import Decimal\nfrom typing import Any, Literal, TypedDict\n" in source
    assert "\nfrom pydirectus import models\n" in source
    plain = generate_models({"collections": [collection("plain")],
                             "fields": [field("plain", "id", "integer", pk=True)],
                             "relations": []}, generated_at=WHEN)
    assert "from typing import TypedDict\n" in plain
    assert "Decimal" not in plain and "models" not in plain


def test_header_names_the_version_and_the_time(source: str) -> None:
    assert "Generated from Directus 12.4.0 at 2026-01-02T03:04:05Z" in source.split("\n\n")[1]
    unknown = generate_models(blog(), generated_at=WHEN)
    assert "Directus (version not readable)" in unknown


def test_output_is_deterministic_whatever_the_input_order() -> None:
    schema = blog()
    first = generate_models(schema, version="1", generated_at=WHEN)
    rng = random.Random(7)
    for _ in range(5):
        shuffled = {key: rng.sample(rows, len(rows)) for key, rows in schema.items()}
        assert generate_models(shuffled, version="1", generated_at=WHEN) == first


def test_only_the_named_collections_and_unknown_names_refused() -> None:
    source = generate_models(blog(), collections=["authors"], generated_at=WHEN)
    assert set(annotations(source)) == {"Author"}
    # A relation to a collection left out is typed loosely rather than dangling.
    assert annotations(source)["Author"]["articles"] == "list[int | dict[str, Any]]"
    with pytest.raises(SchemaError, match="'nope'"):
        generate_models(blog(), collections=["nope"])


@pytest.mark.parametrize("bad", [[], {"collections": []}, {"collections": [], "fields": "x",
                                                             "relations": []}])
def test_what_is_not_a_schema_is_refused(bad: Any) -> None:
    with pytest.raises(SchemaError, match="schema"):
        generate_models(bad)


def test_names_singular_unique_and_clear_of_the_module_own_names() -> None:
    schema = {
        "collections": [collection(n) for n in
                        ("categories", "boxes", "status", "article", "articles", "any",
                         "2fa codes", "my-news", "decimal")],
        "fields": [field(n, "id", "integer", pk=True) for n in
                   ("categories", "boxes", "status", "article", "articles", "any",
                    "2fa codes", "my-news", "decimal")],
        "relations": [],
    }
    classes = set(annotations(generate_models(schema, generated_at=WHEN)))
    assert classes == {"Category", "Box", "Status", "Article", "Articles", "AnyItem",
                       "C2faCode", "MyNew", "DecimalItem"}


def test_keys_that_are_not_identifiers_use_the_functional_form() -> None:
    note = "Odd things, with a note long enough to need more than one comment line " * 2
    schema = {"collections": [collection("odd", note=note)],
              "fields": [field("odd", "id", "integer", pk=True), field("odd", "class"),
                         field("odd", "first-name"), field("odd", "ok", "integer")],
              "relations": []}
    source = generate_models(schema, generated_at=WHEN)
    assert 'Odd = TypedDict(\n    "Odd",' in source
    assert "# A row of odd: Odd things, with a note" in source
    assert max(len(line) for line in source.splitlines()) <= 88
    assert '"class": "str | None",' in source and '"first-name": "str | None",' in source
    namespace: dict[str, Any] = {}
    exec(compile(source, "models.py", "exec"), namespace)
    assert typing.is_typeddict(namespace["Odd"])
    assert set(namespace["Odd"].__optional_keys__) == {"id", "class", "first-name", "ok"}


def test_the_module_runs_and_its_classes_are_typeddicts(source: str) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(source, "models.py", "exec"), namespace)
    for name in annotations(source):
        assert typing.is_typeddict(namespace[name]), name
        assert namespace[name].__total__ is False


def test_long_lines_are_wrapped() -> None:
    values = [f"choice_number_{n}" for n in range(12)]
    schema = {"collections": [collection("long_names_here")],
              "fields": [field("long_names_here", "id", "integer", pk=True),
                         field("long_names_here", "a_field_with_a_name_long_enough_to_wrap",
                               "integer"),
                         field("long_names_here", "pick", interface="select-dropdown",
                               options={"choices": [{"value": v} for v in values]})],
              "relations": [relation("long_names_here", "a_field_with_a_name_long_enough_to_wrap",
                                     "long_names_here")]}
    source = generate_models(schema, generated_at=WHEN)
    assert max(len(line) for line in source.splitlines()) <= 88
    assert annotations(source)["LongNamesHere"]["a_field_with_a_name_long_enough_to_wrap"] == \
        "int | LongNamesHere | None"
    namespace: dict[str, Any] = {}
    exec(compile(source, "models.py", "exec"), namespace)
    assert typing.get_args(namespace["LongNamesHerePick"]) == tuple(values)


@pytest.mark.skipif(shutil.which("ruff", path=str(Path(sys.executable).parent)) is None,
                    reason="ruff is a dev dependency")
def test_ruff_accepts_the_output_as_it_is(source: str, tmp_path: Path) -> None:
    odd = generate_models({"collections": [collection("odd")],
                           "fields": [field("odd", "id", "integer", pk=True),
                                      field("odd", "from")], "relations": []},
                          generated_at=WHEN)
    for name, text in (("models.py", source), ("odd.py", odd)):
        path = tmp_path / name
        path.write_text(text)
        for command in (["check", "--select", "E,F,W,I,UP,B,SIM,RUF", "--line-length", "88"],
                        ["format", "--check"]):
            result = subprocess.run(
                [sys.executable, "-m", "ruff", *command, "--isolated", str(path)],
                capture_output=True, text=True, check=False)
            assert result.returncode == 0, (name, command, result.stdout + result.stderr)
