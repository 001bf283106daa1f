"""Django-grade query semantics, pure side: windows, empty and any-iterable ``in``, the two
readings of a to-many path, ``__`` paths everywhere, consistent arguments, merge."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from pydirectus.errors import InvalidQuery, SchemaRequired
from pydirectus.query import Q, Query, Relation, Schema

from .query_reference import evaluate

SCHEMA = Schema(
    "articles",
    {
        "articles": {
            "author": Relation("m2o", "authors"),
            "comments": Relation("o2m", "comments"),
            "tags": Relation("o2m", "articles_tags"),
        },
        "articles_tags": {
            "tags_id": Relation("m2o", "tags"),
            "articles_id": Relation("m2o", "articles"),
        },
        "comments": {"author": Relation("m2o", "authors")},
    },
    primary_keys={"articles": "id", "authors": "uid", "comments": "id", "tags": "id"},
)

# ----------------------------------------------------------------------------- windows

ITEMS = list(range(100))


def _window(q: Query) -> list[int]:
    """Return the items of ITEMS a query's window selects (as Directus would)."""
    d = q.to_dict()
    limit = d.get("limit")
    start = d.get("offset", 0)
    if "page" in d:
        start = (d["page"] - 1) * limit
    stop = None if limit in (None, -1) else start + limit
    return ITEMS[start:stop]


#: (build a query, the same slicing applied to a Python list)
WINDOWS: list[tuple[Any, Any]] = [
    (lambda q: q[10:20], lambda xs: xs[10:20]),
    (lambda q: q[10:20][2:4], lambda xs: xs[10:20][2:4]),
    (lambda q: q[:10][5:], lambda xs: xs[:10][5:]),
    (lambda q: q.limit(10)[5:], lambda xs: xs[:10][5:]),
    (lambda q: q[5:][5:], lambda xs: xs[5:][5:]),
    (lambda q: q[5:][:5], lambda xs: xs[5:][:5]),
    (lambda q: q[10:20][15:30], lambda xs: xs[10:20][15:30]),
    (lambda q: q[10:20][:0], lambda xs: xs[10:20][:0]),
    (lambda q: q[10:5], lambda xs: xs[10:5]),
    (lambda q: q[10:20][3:1], lambda xs: xs[10:20][3:1]),
    (lambda q: q[0:50][10:40][5:10], lambda xs: xs[0:50][10:40][5:10]),
    (lambda q: q.limit(10).page(3)[2:4], lambda xs: xs[20:30][2:4]),
    (lambda q: q.limit(10).page(3)[5:], lambda xs: xs[20:30][5:]),
    (lambda q: q.offset(7)[:3], lambda xs: xs[7:][:3]),
    (lambda q: q.offset(7).limit(5)[1:], lambda xs: xs[7:12][1:]),
    (lambda q: q.limit(-1)[95:], lambda xs: xs[95:]),
    (lambda q: q[:], lambda xs: xs[:]),
    (lambda q: q[3:][:][2:4], lambda xs: xs[3:][:][2:4]),
]


@pytest.mark.parametrize(("build", "expected"), WINDOWS)
def test_windows_compose_like_python_slices(build: Any, expected: Any) -> None:
    assert _window(build(Query())) == expected(ITEMS)


def test_slice_of_a_window_is_offset_and_limit() -> None:
    assert Query()[10:20][2:4].to_dict() == {"offset": 12, "limit": 2}
    assert Query()[:10][5:].to_dict() == {"offset": 5, "limit": 5}
    assert Query().limit(10).page(3)[2:4].to_dict() == {"offset": 22, "limit": 2}


def test_negative_slices_are_refused_clearly() -> None:
    with pytest.raises(InvalidQuery, match="negative indexes"):
        Query()[-5:]


def test_slicing_a_page_without_limit_is_refused() -> None:
    with pytest.raises(InvalidQuery, match="page"):
        Query().page(2)[1:]


# ------------------------------------------------------------------------ in and nin


def _rows(values: list[Any]) -> list[dict[str, Any]]:
    return [{"id": i, "v": v} for i, v in enumerate(values)]


def test_empty_in_selects_nothing_and_empty_nin_everything() -> None:
    rows = _rows([None, 1, "", "a"])
    nothing = Query().filter(v__in=[]).to_dict()["filter"]
    everything = Query().filter(v__nin=[]).to_dict()["filter"]
    assert not any(evaluate(nothing, r) for r in rows)
    assert all(evaluate(everything, r) for r in rows)
    # negations are exact: exclude(in=[]) is everything, exclude(nin=[]) nothing
    assert Query().exclude(v__in=[]).to_dict() == Query().filter(v__nin=[]).to_dict()
    assert Query().exclude(v__nin=[]).to_dict() == Query().filter(v__in=[]).to_dict()
    assert ~Q(v__in=[]) == Q(v__nin=[])


def test_empty_in_on_a_to_many_path_means_no_related_item() -> None:
    flt = Q(comments__text__in=[]).to_dict(SCHEMA)
    row = {"comments": [{"text": "a"}, {"text": None}]}
    assert not evaluate(flt, row)
    assert evaluate(Q(author__name__nin=[]).to_dict(SCHEMA), {"author": None})
    # negated, it is every row, whatever the kind of the path
    for negated in (~Q(comments__text__in=[]), Q(comments__none__text__in=[])):
        flt = negated.to_dict(SCHEMA)
        assert flt == {"count(comments)": {"_gte": 0}}
        assert evaluate(flt, row) and evaluate(flt, {"comments": []})
    assert evaluate((~Q(author__name__in=[])).to_dict(SCHEMA), {"author": None})


@pytest.mark.parametrize(
    "values",
    [[3, 1, 2], (3, 1, 2), {3, 1, 2}, frozenset({2, 3, 1}), range(1, 4), (x for x in (3, 1, 2))],
)
def test_in_takes_any_iterable(values: Any) -> None:
    got = Query().filter(id__in=values).to_dict()["filter"]["id"]["_in"]
    assert sorted(got) == [1, 2, 3]


def test_sets_are_sorted_so_the_url_is_stable() -> None:
    a = Query().filter(id__in={"b", "a", "c"}).to_params()
    b = Query().filter(id__in={"c", "b", "a"}).to_params()
    assert a == b == {"filter": '{"id":{"_in":["a","b","c"]}}'}
    mixed = Query().filter(id__nin={2, "1", 1}).to_dict()["filter"]["id"]["_nin"]
    assert mixed == [1, 2, "1"]


def test_in_still_refuses_a_str_and_none_items() -> None:
    with pytest.raises(InvalidQuery, match="expected a list"):
        Q(id__in="123")
    with pytest.raises(InvalidQuery, match="None cannot be in the list"):
        Q(id__in={None, 1})


# --------------------------------------------------------------- to-many: two readings


def test_lookups_of_one_call_share_the_related_item() -> None:
    one = Query().filter(comments__text="a", comments__score=1).to_dict(SCHEMA)["filter"]
    assert evaluate(one, {"comments": [{"text": "a", "score": 1}]})
    assert not evaluate(one, {"comments": [{"text": "a", "score": 0}, {"text": "b", "score": 1}]})


def test_chained_filters_are_independent_related_items() -> None:
    chained = Query().filter(comments__text="a").filter(comments__score=1)
    combined = Query().filter(Q(comments__text="a") & Q(comments__score=1))
    assert chained == combined
    flt = chained.to_dict(SCHEMA)["filter"]
    assert flt == {
        "_and": [
            {"comments": {"_some": {"text": {"_eq": "a"}}}},
            {"comments": {"_some": {"score": {"_eq": 1}}}},
        ]
    }
    assert evaluate(flt, {"comments": [{"text": "a", "score": 0}, {"text": "b", "score": 1}]})
    assert not evaluate(flt, {"comments": [{"text": "a", "score": 0}]})


def test_chained_filters_on_a_many_to_many_path() -> None:
    q = Query().filter(tags__tags_id__name="python").filter(tags__tags_id__name="sql")
    flt = q.to_dict(SCHEMA)["filter"]
    both = {"tags": [{"tags_id": {"name": "python"}}, {"tags_id": {"name": "sql"}}]}
    assert evaluate(flt, both)
    assert not evaluate(flt, {"tags": [{"tags_id": {"name": "python"}}]})
    same = Query().filter(tags__tags_id__name="python", tags__tags_id__id=1)
    assert same.to_dict(SCHEMA)["filter"] == {
        "_and": [{"tags": {"tags_id": {"name": {"_eq": "python"}}}},
                 {"tags": {"tags_id": {"id": {"_eq": 1}}}}]
    }  # fmt: skip


def test_chained_filters_through_many_to_one_read_one_row() -> None:
    q = Query().filter(author__name="a").filter(author__age=3)
    assert q.to_dict(SCHEMA)["filter"] == {
        "_and": [{"author": {"name": {"_eq": "a"}}}, {"author": {"age": {"_eq": 3}}}]
    }
    with pytest.raises(SchemaRequired, match="one-to-many"):
        q.to_dict()  # without the schema the kind of 'author' decides


def test_one_call_keeps_a_plain_join_beside_independent_ones() -> None:
    q = Query().filter(comments__text="a", comments__score=1).filter(comments__text="b")
    assert q.to_dict(SCHEMA)["filter"] == {
        "_and": [
            {"comments": {"text": {"_eq": "a"}}},
            {"comments": {"score": {"_eq": 1}}},
            {"comments": {"_some": {"text": {"_eq": "b"}}}},
        ]
    }


def test_repr_keeps_the_two_readings_apart() -> None:
    two = Q(comments__text="x") & Q(comments__score=2)
    assert repr(two) == "(Q(comments__text__eq='x') & Q(comments__score__eq=2))"
    one = Q(comments__text="x", comments__score=2)
    assert repr(one) == "Q(comments__text__eq='x', comments__score__eq=2)"
    q = Query().filter(comments__text="x").filter(comments__score=2, title="x")
    assert eval(repr(q)) == q


# ------------------------------------------------------------------- field paths, pk


@pytest.mark.parametrize(
    ("method", "args", "expected"),
    [
        ("sort", ("-author__name", "date__year"), {"sort": ["-author.name", "year(date)"]}),
        ("fields", ("author__name", "author__*"), {"fields": ["author.name", "author.*"]}),
        ("fields", (["id", "title"],), {"fields": ["id", "title"]}),
        ("sort", (["-date", "id"],), {"sort": ["-date", "id"]}),
        ("group_by", (["date__year", "author__name"],), {"groupBy": ["year(date)", "author.name"]}),
        ("sort", ("author.born__x",), {"sort": ["author.born__x"]}),
    ],
)
def test_double_underscore_paths_everywhere(method: str, args: Any, expected: Any) -> None:
    assert getattr(Query(), method)(*args).to_dict() == expected


def test_paths_in_aggregate_alias_and_deep() -> None:
    q = Query().aggregate(sum="author__age").alias(writer="author__name")
    assert q.to_dict() == {"alias": {"writer": "author.name"}, "aggregate": {"sum": ["author.age"]}}
    deep = Query().deep(author__books=Query().limit(2)).to_dict()
    assert deep == {"deep": {"author": {"books": {"_limit": 2}}}}


def test_pk_stands_for_the_primary_key() -> None:
    q = Query().filter(pk__in=[1, 2]).exclude(author__pk=3)
    assert q.to_dict(SCHEMA)["filter"] == {
        "_and": [
            {"id": {"_in": [1, 2]}},
            {"_or": [{"author": {"uid": {"_neq": 3}}}, {"author": {"uid": {"_null": True}}}]},
        ]
    }
    with pytest.raises(SchemaRequired, match="primary key"):
        Query().filter(pk=1).to_dict()


# -------------------------------------------------------------- consistent arguments


def test_deep_takes_a_query_or_a_dict() -> None:
    expected = {"deep": {"comments": {"_limit": 5, "_sort": ["-date"]}}}
    assert Query().deep(comments=Query().limit(5).sort("-date")).to_dict() == expected
    assert Query().deep(comments={"_limit": 5, "_sort": ["-date"]}).to_dict() == expected
    assert Query().deep(comments={"limit": 5, "sort": "-date"}).to_dict() == expected


def test_q_combines_with_a_raw_filter_dict() -> None:
    raw = {"status": {"_eq": "draft"}}
    assert Q(a=1) & raw == Q(a=1) & Q(status="draft")
    assert raw & Q(a=1) == Q(status="draft") & Q(a=1)
    assert Q(a=1) | raw == Q(a=1) | Q(status="draft")
    assert raw | Q(a=1) == Q(status="draft") | Q(a=1)


def test_merge_ands_filters_and_lets_the_other_set_parts() -> None:
    base = Query().filter(a=1).sort("x").limit(10).alias(w="author")
    other = Query().filter(b=2).fields("id").alias(v="title")
    merged = base.merge(other)
    expected = Query().filter(a=1).filter(b=2).fields("id").sort("x").limit(10)
    assert merged == expected.alias(w="author", v="title")
    assert base.merge({"limit": 5, "filter": {"c": {"_eq": 3}}}).to_dict() == {
        "filter": {"_and": [{"a": {"_eq": 1}}, {"c": {"_eq": 3}}]},
        "sort": ["x"],
        "limit": 5,
        "alias": {"w": "author"},
    }
    assert Query().offset(5).merge(Query().page(2)).to_dict() == {"page": 2}
    with pytest.raises(InvalidQuery, match="merge"):
        base.merge(3)  # type: ignore[arg-type]


# -------------------------------------------------------------------- presets, import


def test_compiled_dict_round_trips_with_relational_negation() -> None:
    q = Query().exclude(comments__text="x").exclude(author__name="y").filter(pk=3).limit(5)
    d = q.to_dict(SCHEMA)
    assert Query.from_dict(d).to_dict(SCHEMA) == d
    plain = Query().exclude(comments__text="x").filter(title="t").sort("-date").to_dict(SCHEMA)
    assert Query.from_dict(plain).to_dict() == plain


def test_importing_the_query_package_loads_no_client() -> None:
    code = (
        "import sys, pydirectus.query, pydirectus.errors\n"
        "bad = [m for m in ('requests', 'pydirectus.client', 'pydirectus.transport',"
        " 'pydirectus.collection') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "import pydirectus\n"
        "assert pydirectus.DirectusClient.__name__ == 'DirectusClient'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
