"""Schema.from_directus reads GET /relations rows: m2o, o2m, m2m (via a junction), m2a."""

from __future__ import annotations

from typing import Any

import pytest

from pydirectus.errors import InvalidQuery
from pydirectus.query import Relation, Schema


def _meta(many: str, field: str, one: str | None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "id": 1,
        "many_collection": many,
        "many_field": field,
        "one_collection": one,
        "one_field": None,
        "one_collection_field": None,
        "one_allowed_collections": None,
        "junction_field": None,
        "sort_field": None,
        "one_deselect_action": "nullify",
    }
    meta.update(extra)
    return meta


def _schema(many: str, field: str, one: str | None) -> dict[str, Any]:
    return {
        "table": many,
        "column": field,
        "foreign_key_table": one,
        "foreign_key_column": "id",
        "constraint_name": f"{many}_{field}_foreign",
        "on_update": "NO ACTION",
        "on_delete": "SET NULL",
    }


RELATIONS_ROWS: list[dict[str, Any]] = [
    # many-to-one articles.author -> authors, with the alias authors.articles (o2m)
    {
        "collection": "articles",
        "field": "author",
        "related_collection": "authors",
        "schema": _schema("articles", "author", "authors"),
        "meta": _meta("articles", "author", "authors", one_field="articles"),
    },
    # many-to-one without an o2m alias on the other side
    {
        "collection": "articles",
        "field": "editor",
        "related_collection": "directus_users",
        "schema": _schema("articles", "editor", "directus_users"),
        "meta": _meta("articles", "editor", "directus_users"),
    },
    # a relation Directus found in the database but has no meta row for
    {
        "collection": "comments",
        "field": "article",
        "related_collection": "articles",
        "schema": _schema("comments", "article", "articles"),
        "meta": None,
    },
    # many-to-many articles.tags through the junction articles_tags
    {
        "collection": "articles_tags",
        "field": "articles_id",
        "related_collection": "articles",
        "schema": _schema("articles_tags", "articles_id", "articles"),
        "meta": _meta(
            "articles_tags", "articles_id", "articles", one_field="tags", junction_field="tags_id"
        ),
    },
    {
        "collection": "articles_tags",
        "field": "tags_id",
        "related_collection": "tags",
        "schema": _schema("articles_tags", "tags_id", "tags"),
        "meta": _meta("articles_tags", "tags_id", "tags", junction_field="articles_id"),
    },
    # many-to-any pages.blocks through pages_blocks.item -> headings | texts
    {
        "collection": "pages_blocks",
        "field": "pages_id",
        "related_collection": "pages",
        "schema": _schema("pages_blocks", "pages_id", "pages"),
        "meta": _meta(
            "pages_blocks", "pages_id", "pages", one_field="blocks", junction_field="item"
        ),
    },
    {
        "collection": "pages_blocks",
        "field": "item",
        "related_collection": None,
        "schema": None,
        "meta": _meta(
            "pages_blocks",
            "item",
            None,
            one_allowed_collections=["headings", "texts"],
            one_collection_field="collection",
            junction_field="pages_id",
        ),
    },
]


def test_from_directus_reads_every_relation_kind() -> None:
    schema = Schema.from_directus("articles", RELATIONS_ROWS)
    assert schema.collection == "articles"
    assert schema.relations == {
        "articles": {
            "author": Relation("m2o", "authors"),
            "editor": Relation("m2o", "directus_users"),
            "tags": Relation("o2m", "articles_tags"),
        },
        "authors": {"articles": Relation("o2m", "articles")},
        "comments": {"article": Relation("m2o", "articles")},
        "articles_tags": {
            "articles_id": Relation("m2o", "articles"),
            "tags_id": Relation("m2o", "tags"),
        },
        "pages_blocks": {
            "pages_id": Relation("m2o", "pages"),
            "item": Relation("m2a", None),
        },
        "pages": {"blocks": Relation("o2m", "pages_blocks")},
    }


def test_relation_lookup_and_at() -> None:
    schema = Schema.from_directus("articles", RELATIONS_ROWS)
    assert schema.relation("author") == Relation("m2o", "authors")
    assert schema.relation("tags") == Relation("o2m", "articles_tags")
    assert schema.relation("title") is None
    assert schema.relation("articles", "authors") == Relation("o2m", "articles")
    assert schema.relation("x", "nowhere") is None
    tags = schema.at("articles_tags")
    assert tags.collection == "articles_tags"
    assert tags.relations is schema.relations
    assert tags.relation("tags_id") == Relation("m2o", "tags")


def test_from_directus_accepts_any_iterable() -> None:
    schema = Schema.from_directus("authors", iter(RELATIONS_ROWS[:1]))
    assert schema.relation("articles") == Relation("o2m", "articles")
    assert Schema.from_directus("x", []).relations == {}


@pytest.mark.parametrize(
    "row", [None, {"collection": "a"}, {"field": "b"}, {"collection": 1, "field": "b"}]
)
def test_from_directus_rejects_malformed_rows(row: Any) -> None:
    with pytest.raises(InvalidQuery, match=r"Schema\.from_directus"):
        Schema.from_directus("a", [row])
