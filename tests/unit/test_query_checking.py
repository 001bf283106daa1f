"""Names checked against the schema before sending: unknown fields with a suggestion,
functions on the wrong type, aggregates and group-bys over relational paths."""

from __future__ import annotations

import pytest

from pydirectus.errors import InvalidQuery
from pydirectus.query import Q, Query, Schema
from pydirectus.query.checking import check_query

RELATIONS = [
    {"collection": "articles", "field": "author", "related_collection": "authors",
     "meta": {"one_field": "articles"}},
    {"collection": "comments", "field": "article", "related_collection": "articles",
     "meta": {"one_field": "comments"}},
]
FIELDS = [
    {"collection": c, "field": f, "type": t, "schema": {"is_primary_key": f == "id"}}
    for c, fs in {
        "articles": {"id": "integer", "title": "string", "date": "dateTime", "views": "integer",
                     "author": "integer", "comments": "alias", "data": "json"},
        "authors": {"id": "integer", "name": "string", "articles": "alias"},
        "comments": {"id": "integer", "text": "string", "article": "integer"},
    }.items()
    for f, t in fs.items()
]
SCHEMA = Schema.from_directus("articles", RELATIONS, FIELDS)


def test_schema_from_directus_knows_types_and_keys() -> None:
    assert SCHEMA.primary_key() == "id"
    assert SCHEMA.field_types("authors") == {"id": "integer", "name": "string",
                                             "articles": "alias"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (Query().filter(titel="x"), "filter: no field 'titel' in 'articles'; did you mean"),
        (Query().sort("-titel"), "sort: no field 'titel' in 'articles'; did you mean 'title'?"),
        (Query().fields("id", "tilte"), "fields: no field 'tilte' in 'articles'"),
        (Query().fields("author__nmae"), "no field 'nmae' in 'authors'; did you mean 'name'?"),
        (Query().filter(author__nmae="x"), "no field 'nmae' in 'authors'"),
        (Query().exclude(comments__txt="x"), "no field 'txt' in 'comments'; did you mean 'text'?"),
        (Query().filter(comments__some__txt="x"), "no field 'txt' in 'comments'"),
        (Query().group_by("stauts"), "group_by: no field 'stauts' in 'articles'"),
        (Query().aggregate(sum="veiws"), "aggregate sum: no field 'veiws' in 'articles'"),
        (Query().alias(w="auther"), "alias: no field 'auther' in 'articles'"),
        (Query().deep(comments=Query().filter(txt="x")), "no field 'txt' in 'comments'"),
        (Query().deep(autor=Query()), "deep: no field 'autor' in 'articles'"),
        (Query().filter(title__year=2024), "year() does not apply to articles.title, a string"),
        (Query().sort("title__month"), "month() does not apply to articles.title"),
        (Query().filter(views__count__gt=1), "count() does not apply to articles.views"),
        (Query().filter(title__name="x"), "articles.title is a string field, not a relation"),
        (Query().aggregate(sum="author__age"), "relational path; Directus 12 answers aggregate"),
        (Query().group_by("author__name"), "relational path; Directus 12 answers group_by"),
    ],
)
def test_bad_names_are_refused_with_the_reason(query: Query, message: str) -> None:
    with pytest.raises(InvalidQuery) as info:
        check_query(query, SCHEMA)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "query",
    [
        Query().filter(title="x", date__year=2024, comments__count__gt=1, author__name="a"),
        Query().filter(Q(pk=1) | ~Q(comments__text="x")).exclude(comments__some__text="y"),
        Query().fields("*", "author.*", "comments.text", "data.some.key", "count(comments)"),
        Query().sort("-author__name", "date__year").alias(w="title").group_by("date__year"),
        Query().aggregate(count="*", sum="views").deep(comments=Query().sort("-text")),
        Query().filter({"json(data, a.b)": {"_eq": 1}}).fields("$thumbnail"),
    ],
)
def test_good_names_pass(query: Query) -> None:
    check_query(query, SCHEMA)


def test_unknown_collections_are_left_to_the_server() -> None:
    check_query(Query().filter(anything="x").sort("whatever"), SCHEMA.at("elsewhere"))
    check_query(Query().filter(titel="x"), None)  # no schema: only schema-free checks
    with pytest.raises(InvalidQuery, match="relational path"):
        check_query(Query().aggregate(max="author.name"), None)
