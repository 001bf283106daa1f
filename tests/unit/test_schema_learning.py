"""Schema.from_openapi and Schema.from_graphql: relation kinds and field types from the
documents Directus 12.4 shows a token refused /fields and /relations (shapes as it sends
them: a many-to-one is oneOf [key, $ref]; GraphQL wraps list types in NON_NULL)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from pydirectus import InvalidQuery, PermissionDenied, Q, Query
from pydirectus.core.plans import Call, Plan, resume
from pydirectus.core.schema import SchemaCache
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


# ------------------------------------------------- the cache, over a scripted server


class _Reply:
    """An HTTP answer as the core reads it."""

    def __init__(self, body: Any) -> None:
        self.status_code = 200
        self.headers = {"Content-Type": "application/json"}
        self.encoding = "utf-8"
        self.content = json.dumps(body).encode()

    def json(self) -> Any:
        return json.loads(self.content)


def _forbidden() -> PermissionDenied:
    return PermissionDenied(403, "FORBIDDEN", "You don't have permission", None, None)


class _Server:
    """Answers the core's calls as Directus does to an API-only token (no /fields, no
    /relations); records each call."""

    def __init__(self, spec: Any = OAS, graphql: Any = None) -> None:
        self.spec, self.graphql = spec, graphql
        self.calls: list[str] = []

    def answer(self, call: Call) -> Any:
        self.calls.append(f"{call.method} {call.path}")
        if call.path.startswith(("/fields", "/relations")):
            raise _forbidden()
        if call.path == "/server/specs/oas":
            if self.spec is None:
                raise _forbidden()
            return _Reply(self.spec)
        if call.path == "/graphql":
            if self.graphql is None:
                raise _forbidden()
            return _Reply({"data": self.graphql})
        raise AssertionError(f"unexpected call {call.path}")

    def run(self, plan: Plan[Any]) -> Any:
        result: Any = None
        failure: BaseException | None = None
        try:
            while True:
                call = resume(plan, result, failure)
                assert isinstance(call, Call)
                try:
                    result, failure = self.answer(call), None
                except PermissionDenied as refused:
                    result, failure = None, refused
        except StopIteration as done:
            return done.value


def test_the_cache_learns_relations_and_types_from_the_spec_once() -> None:
    server, cache = _Server(), SchemaCache(logging.getLogger("test"))
    schema = server.run(cache.relations_from("posts"))
    assert schema.relation("author") == Relation("m2o", "authors")
    assert server.run(cache.field_types("posts"))["views"] == "bigInteger"
    assert server.run(cache.field_types("directus_files"))["filesize"] == "integer"
    server.run(cache.relations_from("authors"))
    assert server.calls.count("GET /server/specs/oas") == 1
    assert server.calls.count("GET /relations") == 1  # refused once, not asked again


def test_a_collection_the_spec_lacked_is_read_again_once() -> None:
    server, cache = _Server(), SchemaCache(logging.getLogger("test"))
    server.run(cache.relations_from("posts"))
    later = {**OAS["components"]["schemas"], "ItemsReviews": {
        "type": "object", "x-collection": "reviews", "properties": {
            "stars": {"type": "integer", "format": "int64"},
            "post": {"oneOf": [{"type": "integer"}, _ref("ItemsPosts")]}}}}
    server.spec = {"components": {"schemas": later}}
    assert server.run(cache.relations_from("reviews")).relation("post") == Relation(
        "m2o", "posts")
    assert server.run(cache.field_types("reviews")) == {"stars": "bigInteger",
                                                        "post": "integer"}
    assert server.run(cache.field_types("nowhere")) == {}
    assert server.run(cache.field_types("nowhere")) == {}
    assert server.calls.count("GET /server/specs/oas") == 3  # first, reviews, nowhere


def test_graphql_tells_when_the_spec_is_refused_and_nothing_when_both_are() -> None:
    server, cache = _Server(spec=None, graphql=GRAPHQL), SchemaCache(logging.getLogger("t"))
    assert server.run(cache.relations_from("posts")).relation("author") == Relation(
        "m2o", "authors")
    assert server.run(cache.field_types("posts"))["views"] == "bigInteger"
    blind, cache = _Server(spec=None), SchemaCache(logging.getLogger("test"))
    assert blind.run(cache.relations_from("posts")) is None
    assert blind.run(cache.field_types("posts")) == {}
    assert blind.calls.count("GET /server/specs/oas") == 1
