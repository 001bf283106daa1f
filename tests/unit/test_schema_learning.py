"""Schema.from_openapi and Schema.from_graphql: relation kinds and field types from the
documents Directus 12.4 shows a token refused /fields and /relations (shapes as it sends
them: a many-to-one is oneOf [key, $ref]; GraphQL wraps list types in NON_NULL)."""

from __future__ import annotations

from typing import Any

import pytest

from pydirectus import InvalidQuery, Q, Query
from pydirectus.query.schema import Relation, Schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


OAS: dict[str, Any] = {"openapi": "3.0.1", "components": {"schemas": {
    "Files": {"type": "object", "x-collection": "directus_files", "properties": {
        "id": {"type": "string"}, "filesize": {"type": "integer"},
        "folder": {"oneOf": [{"type": "string"}, _ref("Folders")]}}},
    "Folders": {"type": "object", "x-collection": "directus_folders",
                "properties": {"id": {"type": "string"}}},
    "Query": {"type": "object", "properties": {"fields": {"type": "array"}}},
    "ItemsAuthors": {"type": "object", "x-collection": "authors", "properties": {
        "id": {"nullable": False, "type": "integer"}, "name": {"type": "string"},
        "posts": {"type": "array", "items": {"oneOf": [{"type": "integer"},
                                                       _ref("ItemsPosts")]}}}},
    "ItemsPosts": {"type": "object", "x-collection": "posts", "properties": {
        "id": {"type": "integer"}, "views": {"type": "integer", "format": "int64"},
        "ratio": {"type": "number", "format": "float"}, "price": {"type": "number"},
        "flag": {"type": "boolean"}, "data": {"nullable": True},
        "labels": {"type": "array", "items": {"type": "string"}},
        "day": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "date-time"},
        "clock": {"type": "string", "format": "time"},
        "stamp": {"type": "string", "format": "timestamp"},
        "ident": {"type": "string", "format": "uuid"},
        "cover": {"type": "string"},  # a file the token may not read: no $ref
        "author": {"nullable": True, "oneOf": [{"type": "integer"}, _ref("ItemsAuthors")]},
        "tags": {"type": "array", "items": {"oneOf": [{"type": "integer"},
                                                      _ref("ItemsPostsTags")]}},
        "any": {"oneOf": [{"type": "string"}, _ref("ItemsAuthors"), _ref("ItemsTags")]}}},
    "ItemsPostsTags": {"type": "object", "x-collection": "posts_tags", "properties": {
        "id": {"type": "integer"},
        "posts_id": {"oneOf": [{"type": "integer"}, _ref("ItemsPosts")]},
        "tags_id": {"oneOf": [{"type": "string", "format": "uuid"}, _ref("ItemsTags")]}}},
    "ItemsTags": {"type": "object", "x-collection": "tags", "properties": {
        "id": {"type": "string", "format": "uuid"}}},
}}}


def test_openapi_gives_relation_kinds_and_field_types() -> None:
    schema = Schema.from_openapi("posts", OAS)
    assert schema.relation("author") == Relation("m2o", "authors")
    assert schema.relation("tags") == Relation("o2m", "posts_tags")
    assert schema.relation("posts", "authors") == Relation("o2m", "posts")
    assert schema.relation("tags_id", "posts_tags") == Relation("m2o", "tags")
    assert schema.relation("folder", "directus_files") == Relation("m2o", "directus_folders")
    assert schema.relation("any") == Relation("m2a", None)
    assert schema.relation("cover") is None
    assert schema.field_types() == {
        "id": "integer", "views": "bigInteger", "ratio": "float", "price": "decimal",
        "flag": "boolean", "data": "json", "labels": "csv", "day": "date", "at": "dateTime",
        "clock": "time", "stamp": "timestamp", "ident": "uuid", "cover": "string",
        "author": "integer", "tags": "alias", "any": "string"}
    assert schema.field_types("posts_tags") == {"id": "integer", "posts_id": "integer",
                                                "tags_id": "uuid"}
    assert schema.field_types("directus_files")["filesize"] == "integer"
    assert schema.field_types("Query") is None  # no x-collection: not a collection


def test_a_query_compiles_the_same_from_openapi_as_from_relations() -> None:
    relations = [
        {"collection": "posts", "field": "author", "related_collection": "authors",
         "meta": {"one_field": "posts"}},
        {"collection": "posts_tags", "field": "posts_id", "related_collection": "posts",
         "meta": {"one_field": "tags", "junction_field": "tags_id"}},
        {"collection": "posts_tags", "field": "tags_id", "related_collection": "tags",
         "meta": {"one_field": None, "junction_field": "posts_id"}},
    ]
    admin = Schema.from_directus("posts", relations)
    learned = Schema.from_openapi("posts", OAS)
    for query in (Query().exclude(author__name__startswith="A"),
                  Query().filter(~Q(tags__tags_id__id="x")),
                  Query().filter(tags__tags_id__id="x").filter(tags__id__gt=3)):
        assert query.to_dict(schema=learned) == query.to_dict(schema=admin)


def test_openapi_refuses_what_is_not_a_spec() -> None:
    with pytest.raises(InvalidQuery, match=r"components\.schemas"):
        Schema.from_openapi("x", {"openapi": "3.0.1"})


def _named(name: str, kind: str = "OBJECT") -> dict[str, Any]:
    return {"name": name, "kind": kind, "ofType": None}


def _wrap(kind: str, inner: dict[str, Any]) -> dict[str, Any]:
    return {"name": None, "kind": kind, "ofType": inner}


GRAPHQL: dict[str, Any] = {"__schema": {
    "queryType": {"fields": [
        {"name": "posts", "type": _wrap("NON_NULL", _wrap("LIST", _wrap(
            "NON_NULL", _named("posts"))))},
        {"name": "posts_by_id", "type": _named("posts")},
        {"name": "authors", "type": _wrap("NON_NULL", _wrap("LIST", _wrap(
            "NON_NULL", _named("authors"))))},
        {"name": "site", "type": _named("site")},  # a singleton
    ]},
    "types": [
        {"name": "posts", "kind": "OBJECT", "fields": [
            {"name": "id", "type": _wrap("NON_NULL", _named("ID", "SCALAR"))},
            {"name": "views", "type": _named("GraphQLBigInt", "SCALAR")},
            {"name": "n", "type": _named("Int", "SCALAR")},
            {"name": "ratio", "type": _named("Float", "SCALAR")},
            {"name": "flag", "type": _named("Boolean", "SCALAR")},
            {"name": "labels", "type": _wrap("LIST", _named("String", "SCALAR"))},
            {"name": "at", "type": _named("Date", "SCALAR")},
            {"name": "author", "type": _named("authors")},
            {"name": "cover", "type": _named("ID", "SCALAR")},
            {"name": "author_func", "type": _named("count_functions")}]},
        {"name": "authors", "kind": "OBJECT", "fields": [
            {"name": "id", "type": _wrap("NON_NULL", _named("ID", "SCALAR"))},
            {"name": "posts", "type": _wrap("LIST", _named("posts"))}]},
        {"name": "version_posts", "kind": "OBJECT", "fields": [
            {"name": "author", "type": _named("JSON", "SCALAR")}]},
        {"name": "site", "kind": "OBJECT", "fields": [
            {"name": "title", "type": _named("String", "SCALAR")}]},
    ]}}


def test_graphql_gives_relation_kinds_field_types_and_keys() -> None:
    schema = Schema.from_graphql("posts", GRAPHQL)
    assert schema.relation("author") == Relation("m2o", "authors")
    assert schema.relation("posts", "authors") == Relation("o2m", "posts")
    # An ID that is not the key (a uuid, a file the token may not read) says no type.
    assert schema.relation("cover") is None and schema.relation("author_func") is None
    assert schema.primary_key() == "id" and schema.primary_key("authors") == "id"
    assert schema.field_types() == {"id": "unknown", "views": "bigInteger", "n": "integer",
                                    "ratio": "float", "flag": "boolean", "labels": "csv",
                                    "at": "dateTime", "author": "unknown"}
    assert schema.field_types("site") == {"title": "string"}
    assert schema.field_types("version_posts") is None
    with pytest.raises(InvalidQuery, match="__schema"):
        Schema.from_graphql("posts", {"data": {}})
