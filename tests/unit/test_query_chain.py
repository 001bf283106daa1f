"""Query chaining, compiling to dict / GET params, parsing back, and bad input."""

from __future__ import annotations

import pickle
from typing import Any

import attrs
import pytest

from pydirectus.errors import InvalidQuery
from pydirectus.query import CURRENT_USER, Now, Q, Query, query_to_params


def test_contract_example() -> None:
    q = Query().filter(author__eq="Beff Jezos").limit(10).sort("-date")
    assert q.to_params() == {
        "filter": '{"author":{"_eq":"Beff Jezos"}}',
        "limit": "10",
        "sort": "-date",
    }
    assert q.to_dict() == {
        "filter": {"author": {"_eq": "Beff Jezos"}},
        "limit": 10,
        "sort": ["-date"],
    }
    assert Query.from_dict(q.to_dict()) == q
    assert Query.from_params(q.to_params()) == q


def test_chain_methods_return_new_queries() -> None:
    base = Query()
    steps = [
        base.filter(a=1),
        base.exclude(a=1),
        base.fields("id"),
        base.sort("id"),
        base.limit(1),
        base.offset(1),
        base.page(2),
        base.search("x"),
        base.meta("*"),
        base.aggregate(count="*"),
        base.group_by("a"),
        base.deep(comments=Query()),
        base.alias(w="author"),
        base.version("v1"),
        base.backlink(False),
        base[1:2],
    ]
    for q in steps:
        assert q is not base and q != base
    assert base == Query() and base.to_dict() == {}
    assert hash(steps[0]) == hash(Query().filter(a=1))


def test_queries_and_qs_are_frozen_hashable_and_picklable() -> None:
    q = Query().filter(Q(a=1) | ~Q(author__name="x")).deep(c=Query().limit(1)).limit(3)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        q._limit = 4  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Q(a=1).node = Q(b=2).node  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(q)) == q
    assert (
        len({q, Query().filter(Q(a=1) | ~Q(author__name="x")).deep(c=Query().limit(1)).limit(3)})
        == 1
    )


def test_filter_and_exclude_add() -> None:
    q = Query().filter(a=1).filter(b=2).exclude(c=3)
    assert q.to_dict()["filter"] == {
        "_and": [
            {"a": {"_eq": 1}},
            {"b": {"_eq": 2}},
            {"_or": [{"c": {"_neq": 3}}, {"c": {"_null": True}}]},
        ]
    }
    assert q == Query().filter(Q(a=1) & Q(b=2) & ~Q(c=3))


def test_exclude_negates_its_arguments_together() -> None:
    q = Query().exclude(a=1, b__null=True)
    assert q.to_dict()["filter"] == {
        "_or": [{"_or": [{"a": {"_neq": 1}}, {"a": {"_null": True}}]}, {"b": {"_nnull": True}}]
    }


def test_empty_q_adds_nothing() -> None:
    assert Query().filter(Q()) == Query()
    assert Query().exclude(Q()) == Query()
    assert Query().filter() == Query()
    assert Query().filter(Q(), a=1) == Query().filter(a=1)
    assert Query().filter({}) == Query()


def test_replacing_parts() -> None:
    q = Query().fields("a", "b").fields("c").sort("x").sort("-y", "z").limit(5).limit(7)
    assert q.to_dict() == {"fields": ["c"], "sort": ["-y", "z"], "limit": 7}
    assert q.fields().sort().limit(None).to_dict() == {}
    q = Query().offset(3).page(2).search("a").version("v").backlink(True)
    assert q.offset(None).page(None).search(None).version(None).backlink(None) == Query()


def test_adding_keyed_parts() -> None:
    q = (
        Query()
        .aggregate(count="*", sum=["price", "qty"])
        .aggregate(sum="total", avg_distinct="x")
        .alias(a="one")
        .alias(b="two", a="three")
        .deep(comments=Query().limit(1))
        .deep(tags=Query().limit(2))
        .deep(comments=Query().limit(3))
    )
    assert q.to_dict() == {
        "deep": {"comments": {"_limit": 3}, "tags": {"_limit": 2}},
        "alias": {"a": "three", "b": "two"},
        "aggregate": {"count": ["*"], "sum": ["total"], "avgDistinct": ["x"]},
    }


def test_every_aggregate_function_and_alias() -> None:
    q = Query().aggregate(
        count="*",
        countDistinct="a",
        count_distinct="a2",
        countAll="*",
        count_all="*",
        sum="b",
        sumDistinct="c",
        sum_distinct="c2",
        avg="d",
        avgDistinct="e",
        avg_distinct="e2",
        min="f",
        max="g",
    )
    assert q.to_dict()["aggregate"] == {
        "count": ["*"],
        "countDistinct": ["a2"],
        "countAll": ["*"],
        "sum": ["b"],
        "sumDistinct": ["c2"],
        "avg": ["d"],
        "avgDistinct": ["e2"],
        "min": ["f"],
        "max": ["g"],
    }


def test_full_query_to_dict_and_params() -> None:
    q = (
        Query()
        .filter(status="published")
        .fields("id", "title", "author.name")
        .sort("-date", "title")
        .limit(-1)
        .offset(20)
        .page(3)
        .search("hello, world")
        .meta("total_count", "filter_count")
        .deep(comments=Query().filter(approved=True).sort("-date").limit(5))
        .alias(writer="author")
        .aggregate(count="*", sum=["price", "qty"])
        .group_by("year(date)", "status")
        .version("draft")
        .backlink(False)
    )
    assert q.to_dict() == {
        "filter": {"status": {"_eq": "published"}},
        "fields": ["id", "title", "author.name"],
        "sort": ["-date", "title"],
        "limit": -1,
        "offset": 20,
        "page": 3,
        "search": "hello, world",
        "meta": ["total_count", "filter_count"],
        "deep": {
            "comments": {"_filter": {"approved": {"_eq": True}}, "_sort": ["-date"], "_limit": 5}
        },
        "alias": {"writer": "author"},
        "aggregate": {"count": ["*"], "sum": ["price", "qty"]},
        "groupBy": ["year(date)", "status"],
        "version": "draft",
        "backlink": False,
    }
    assert q.to_params() == {
        "filter": '{"status":{"_eq":"published"}}',
        "fields": "id,title,author.name",
        "sort": "-date,title",
        "limit": "-1",
        "offset": "20",
        "page": "3",
        "search": "hello, world",
        "meta": "total_count,filter_count",
        "deep": '{"comments":{"_filter":{"approved":{"_eq":true}},"_sort":["-date"],"_limit":5}}',
        "alias": '{"writer":"author"}',
        "aggregate": '{"count":["*"],"sum":["price","qty"]}',
        "groupBy": "year(date),status",
        "version": "draft",
        "backlink": "false",
    }
    assert Query.from_dict(q.to_dict()) == q
    assert Query.from_params(q.to_params()) == q


def test_nested_deep() -> None:
    inner = Query().filter(text__icontains="spam").limit(2)
    q = Query().deep(comments=Query().search("x").page(2).deep(replies=inner))
    expected = {
        "comments": {
            "_page": 2,
            "_search": "x",
            "replies": {"_filter": {"text": {"_icontains": "spam"}}, "_limit": 2},
        }
    }
    assert q.to_dict() == {"deep": expected}
    assert Query.from_dict({"deep": expected}) == q
    assert Query.from_params(q.to_params()) == q


def test_slicing() -> None:
    assert Query()[20:30].to_dict() == {"offset": 20, "limit": 10}
    assert Query()[5:].to_dict() == {"offset": 5}
    assert Query()[:10].to_dict() == {"limit": 10}
    assert Query()[10:5].to_dict() == {"offset": 10, "limit": 0}
    assert Query().limit(7)[5:].to_dict() == {"offset": 5, "limit": 2}
    assert Query()[:] == Query()
    assert Query()[0:1:1].to_dict() == {"offset": 0, "limit": 1}


@pytest.mark.parametrize(
    "index", [slice(-1, None), slice(None, -2), slice(0, 10, 2), slice("a", 2)]
)
def test_bad_slices(index: slice) -> None:
    with pytest.raises(InvalidQuery, match="slice"):
        Query()[index]


def test_integer_index_is_refused() -> None:
    with pytest.raises(InvalidQuery, match="slices only"):
        Query()[3]  # type: ignore[index]


def test_repr_is_readable_and_rebuilds() -> None:
    q = Query().filter(Q(author__eq="x")).sort("-date").limit(10)
    assert repr(q) == "Query().filter(Q(author__eq='x')).sort('-date').limit(10)"
    q = (
        Query()
        .filter(Q(a=1) | ~Q(b__in=[1, 2]), c__year=2024)
        .exclude(comments__some__text="x")
        .fields("id")
        .deep(**{"comments": Query().limit(1), "odd key": Query()})
        .alias(w="author")
        .aggregate(count="*")
        .meta("*")
        .backlink(True)
    )
    text = repr(q)
    assert text == (
        "Query().filter((Q(a__eq=1) | ~Q(b__in=[1, 2])) & Q(c__year__eq=2024, "
        "comments__none__text__eq='x')).fields('id').meta('*')"
        ".deep(comments=Query().limit(1), **{'odd key': Query()}).alias(w='author')"
        ".aggregate(count=['*']).backlink(True)"
    )
    assert eval(text) == q


@pytest.mark.parametrize(
    "q",
    [
        Q(),
        Q(a=1),
        Q(a=1, b=2) | Q(c=3),
        ~(Q(a=1) | Q(b=2)),
        Q(a=1) & (Q(b=2) | Q(c=3)),
        Q(comments__some=Q(a=1) | Q(b=2)),
        Q(comments__none=Q()),
        Q({"status": {"in": {"_eq": 1}}}),
        Q({"some": {"_eq": 1}}),
        Q({"date": {"year": {"_eq": 1}}}),
        ~Q({"x": {"some": {"_eq": 1}}}),
        Q(**{"weird field": 1}),
        Q(a=Now("-1 day"), b=CURRENT_USER),
        Q(a=1) & Q(a=2),
    ],
    ids=repr,
)
def test_q_repr_round_trips(q: Q) -> None:
    assert eval(repr(q)) == q


def test_from_dict_reads_user_json() -> None:
    user = {
        "status": "published",  # shorthand for _eq
        "views": {"_gt": 10, "_lt": 100},  # several operators: AND
        "author": {"name": {"_icontains": "ann"}, "age": {"_gte": 18}},
        "_or": [{"year(date)": {"_eq": 2024}}, {"comments": {"_some": {"text": {"_null": True}}}}],
        "count(comments)": {"_gt": 2},
    }
    q = Query.from_dict({"filter": user})
    assert q == Query().filter(
        Q(status="published", views__gt=10, views__lt=100)
        & Q(author__name__icontains="ann", author__age__gte=18)
        & (Q(date__year=2024) | Q(comments__some__text__null=True))
        & Q(comments__count__gt=2)
    )
    assert Query.from_dict(q.to_dict()) == q


def test_from_dict_reads_presets_and_csv_strings() -> None:
    preset = {
        "id": 1,
        "collection": "articles",
        "search": None,
        "layout": "tabular",
        "layout_query": {"tabular": {"sort": ["-date"], "fields": ["id", "title"], "limit": 25}},
        "filter": {"_and": [{"owner": {"_eq": "$CURRENT_USER"}}, {"status": {"_in": "a,b"}}]},
    }
    q = Query.from_preset(preset)
    assert q == (
        Query()
        .filter(owner=CURRENT_USER, status__in=["a", "b"])
        .fields("id", "title")
        .sort("-date")
        .limit(25)
    )
    assert Query.from_dict({"filter": preset["filter"], "sort": "-date,title", "search": None}) == (
        Query().filter(owner=CURRENT_USER, status__in=["a", "b"]).sort("-date", "title")
    )
    assert Query.from_preset({"filter": None, "search": "x"}) == Query().search("x")


def test_from_dict_or_with_empty_object_matches_all() -> None:
    assert Query.from_dict({"filter": {"_or": [{}, {"a": {"_eq": 1}}]}}) == Query()
    assert Query.from_dict({"filter": {"_and": [{}, {"a": {"_eq": 1}}]}}) == Query().filter(a=1)
    assert Query.from_dict({"filter": {"a": {}}}) == Query()


def test_from_params_splits_fields_outside_parentheses() -> None:
    q = Query.from_params({"fields": "id,json(data,a.b),x", "groupBy": "year(date)"})
    assert q == Query().fields("id", "json(data,a.b)", "x").group_by("year(date)")
    assert Query.from_params(q.to_params()) == q


def test_from_dict_splits_comma_joined_list_items() -> None:
    assert Query.from_dict({"fields": ["id,title", "author.name"]}) == Query().fields(
        "id", "title", "author.name"
    )


def test_meta_star() -> None:
    assert Query().meta("*").to_params() == {"meta": "*"}
    assert Query.from_params({"meta": "*"}) == Query().meta("*")


def test_query_to_params_accepts_dicts() -> None:
    assert query_to_params(
        {
            "filter": {"a": {"_eq": 1}},
            "fields": ["id", "title"],
            "sort": "-date",
            "limit": 10,
            "offset": None,
            "meta": ["total_count"],
            "deep": {"c": {"_limit": 1}},
            "alias": {"w": "author"},
            "aggregate": {"count": ["*"]},
            "groupBy": ("a", "b"),
            "backlink": True,
            "search": "x",
            "rating": 1.5,
        }
    ) == {
        "filter": '{"a":{"_eq":1}}',
        "fields": "id,title",
        "sort": "-date",
        "limit": "10",
        "meta": "total_count",
        "deep": '{"c":{"_limit":1}}',
        "alias": '{"w":"author"}',
        "aggregate": '{"count":["*"]}',
        "groupBy": "a,b",
        "backlink": "true",
        "search": "x",
        "rating": "1.5",
    }
    q = Query().filter(a=1).limit(2)
    assert query_to_params(q) == q.to_params()
    assert query_to_params({"filter": '{"a":1}'}) == {"filter": '{"a":1}'}
    with pytest.raises(InvalidQuery):
        query_to_params(["limit", 1])  # type: ignore[arg-type]
    with pytest.raises(InvalidQuery, match="'x'"):
        query_to_params({"x": object()})


def test_to_params_keeps_unicode_readable() -> None:
    assert Query().filter(name="Zoë").to_params() == {"filter": '{"name":{"_eq":"Zoë"}}'}


# ------------------------------------------------------------------- bad input

BAD_LOOKUPS: list[tuple[dict[str, Any], str]] = [
    ({"views__gtt": 1}, "lookup 'views__gtt': unknown operator 'gtt' (did you mean 'gt'?)"),
    ({"date__yaer__gt": 1}, "lookup 'date__yaer__gt': unknown function 'yaer' (did you mean"),
    ({"date__mnoth": 1}, "lookup 'date__mnoth': unknown function 'mnoth'"),
    ({"title__isnul": True}, "did you mean 'isnull'"),
    ({"": 1}, "lookup '': empty key"),
    ({"a____b": 1}, "lookup 'a____b': empty path segment"),
    ({"a__": 1}, "lookup 'a__': empty path segment"),
    ({"__a": 1}, "lookup '__a': empty path segment"),
    ({"id__in": 1}, "lookup 'id__in': expected a list of values"),
    ({"id__in": "1,2"}, "lookup 'id__in': expected a list of values"),
    ({"id__in": [1, None]}, "lookup 'id__in': None cannot be in the list"),
    ({"id__in": [[1]]}, "lookup 'id__in'"),
    ({"v__between": [1]}, "lookup 'v__between': expected exactly two values"),
    ({"v__nbetween": [1, 2, 3]}, "lookup 'v__nbetween'"),
    ({"v__range": 5}, "lookup 'v__range'"),
    ({"v__between": [1, None]}, "lookup 'v__between'"),
    ({"a__null": "yes"}, "lookup 'a__null': expected True or False"),
    ({"a__nnull": 1}, "lookup 'a__nnull'"),
    ({"a__empty": None}, "lookup 'a__empty'"),
    ({"a__nempty": 0}, "lookup 'a__nempty'"),
    ({"a__isnull": "true"}, "lookup 'a__isnull'"),
    ({"a__gt": None}, "lookup 'a__gt': cannot compare with None"),
    ({"a__gt": [1]}, "lookup 'a__gt'"),
    ({"a__icontains": 5}, "lookup 'a__icontains': expected a str"),
    ({"a__contains": None}, "lookup 'a__contains'"),
    ({"a__eq": [1, 2]}, "lookup 'a__eq': expected a single value"),
    ({"a__eq": float("nan")}, "lookup 'a__eq'"),
    ({"a__eq": object()}, "lookup 'a__eq': unsupported value type object"),
    ({"a__intersects": 5}, "lookup 'a__intersects'"),
    ({"a__iexact": "x"}, "lookup 'a__iexact': operator 'iexact' is not supported"),
    ({"a__regex": "x"}, "lookup 'a__regex': operator 'regex' is not supported"),
    ({"some__a": 1}, "lookup 'some__a'"),
    ({"a__b__some__c": 1}, "lookup 'a__b__some__c': 'some' must come right after"),
    ({"a__some__none__c": 1}, "lookup 'a__some__none__c'"),
    ({"a__some__eq": 1}, "lookup 'a__some__eq'"),
    ({"a__some": 1}, "lookup 'a__some': expected a Q or a filter dict"),
    ({"a__year__some__b": 1}, "lookup 'a__year__some__b'"),
]


@pytest.mark.parametrize(("lookups", "message"), BAD_LOOKUPS, ids=lambda v: str(v)[:30])
def test_bad_lookups(lookups: dict[str, Any], message: str) -> None:
    for build in (lambda: Q(**lookups), lambda: Query().filter(**lookups)):
        with pytest.raises(InvalidQuery) as info:
            build()
        assert message in str(info.value)
        assert isinstance(info.value, ValueError)


def test_a_field_that_looks_like_a_typo_can_be_named_with_an_operator() -> None:
    with pytest.raises(InvalidQuery, match="'event__days__eq'"):
        Q(event__days=3)
    assert Q(event__days__eq=3).to_dict() == {"event": {"days": {"_eq": 3}}}
    assert Q(days=3).to_dict() == {"days": {"_eq": 3}}  # a single segment is always a field


BAD_FILTERS: list[tuple[Any, str]] = [
    ({"a": {"_gtt": 1}}, "filter 'a': unknown operator '_gtt'"),
    ({"_eq": 1}, "filter: operator '_eq' needs a field"),
    ({"": {"_eq": 1}}, "empty or non-str field name"),
    ({"_and": {"a": 1}}, "filter: _and needs a list"),
    ({"_or": [1]}, "filter._or[0]: expected a filter object"),
    ({"a": {"_and": [{"b": 1}]}}, "filter 'a': Directus ignores _and inside a field"),
    ({"a": {"b": {"_some": {"c": 1}}}}, "filter 'a.b': Directus accepts _some only"),
    ({"foo(a)": {"_eq": 1}}, "filter 'foo(a)': unknown function 'foo'"),
    ({"yeer(a)": {"_eq": 1}}, "did you mean 'year'"),
    ({"year()": {"_eq": 1}}, "function 'year' needs a field"),
    ({"year(a)": {"b": {"_eq": 1}}}, "a function result has no fields"),
    ({"a": {"_ieq": "x"}}, "filter 'a': operator '_ieq' is not supported"),
    ({"a": {"_gtt": 1}}, "filter 'a': unknown operator '_gtt' (did you mean '_gt'?)"),
    ({"a": {"_null": "true"}}, "filter 'a'._null: expected True or False"),
    (5, "filter: expected a filter object, got int"),
    ("not json", "filter: not valid JSON"),
]


@pytest.mark.parametrize(("raw", "message"), BAD_FILTERS, ids=lambda v: str(v)[:30])
def test_bad_filter_dicts(raw: Any, message: str) -> None:
    with pytest.raises(InvalidQuery) as info:
        Query.from_dict({"filter": raw})
    assert message in str(info.value)


BAD_PARTS: list[tuple[Any, str]] = [
    (lambda: Query().limit(-2), "limit: expected a count >= 0, or -1 for all, got -2"),
    (lambda: Query().limit(1.5), "limit: expected an int"),
    (lambda: Query().limit(True), "limit: expected an int"),
    (lambda: Query().offset(-1), "offset: expected >= 0, got -1"),
    (lambda: Query().page(0), "page: expected >= 1, got 0"),
    (lambda: Query().aggregate(median="x"), "aggregate 'median': unknown function"),
    (lambda: Query().aggregate(sum=[]), "aggregate 'sum'"),
    (lambda: Query().aggregate(sum=[1]), "aggregate 'sum': names must be str"),
    (lambda: Query().alias(**{"a.b": "x"}), "alias 'a.b': an alias name cannot"),
    (lambda: Query().alias(a=1), "alias 'a': expected a field name"),
    (lambda: Query().fields("id", 3), "fields: names must be str, got 3"),
    (lambda: Query().fields("a,b"), "fields: 'a,b' is not one name"),
    (lambda: Query().fields(""), "fields: '' is not one name"),
    (lambda: Query().sort(None), "sort: names must be str"),
    (lambda: Query().group_by(1), "group_by: names must be str"),
    (lambda: Query().meta("count"), "meta: unknown 'count'"),
    (lambda: Query().deep(comments=3), "deep 'comments': expected a Query or a dict, got int"),
    (lambda: Query().deep(_x=Query()), "deep '_x'"),
    (lambda: Query().filter(1), "filter(): expected Q objects or filter dicts, got int"),
    (lambda: Query().exclude("a=1"), "exclude(): expected Q objects or filter dicts, got str"),
    (lambda: Q(3), "Q(): expected Q objects or filter dicts, got int"),
    (lambda: Query().search(3), "search: expected a str"),
    (lambda: Query().version(1), "version: expected a str"),
    (lambda: Query().backlink("yes"), "backlink: expected True or False"),
    (lambda: Query.from_dict({"limits": 1}), "query: unknown key 'limits'"),
    (lambda: Query.from_dict({"fields": 3}), "fields: expected a list"),
    (lambda: Query.from_dict({"filter": "{bad"}), "filter: not valid JSON"),
    (lambda: Query.from_dict({"deep": {"c": 1}}), "deep 'c': expected an object"),
    (lambda: Query.from_dict({"deep": {"c": {"x": 1}}}), "deep 'x': expected an object"),
    (lambda: Query.from_params({"limit": "ten"}), "limit: expected an integer, got 'ten'"),
    (lambda: Query.from_params({"backlink": "yes"}), "backlink: expected 'true' or 'false'"),
    (lambda: Now(""), "Now(): expected an adjustment"),
    (lambda: Now("-1 day)"), "Now(): expected an adjustment"),
    (lambda: CURRENT_USER.field(""), "CURRENT_USER.field()"),
]


# Ids by message only: a lambda's repr holds its address, which differs between processes.
@pytest.mark.parametrize(("build", "message"), BAD_PARTS,
                         ids=lambda v: "" if callable(v) else str(v)[:40])
def test_bad_parts(build: Any, message: str) -> None:
    with pytest.raises(InvalidQuery) as info:
        build()
    assert message in str(info.value)


def test_q_operators_refuse_other_types() -> None:
    with pytest.raises(TypeError):
        Q(a=1) & 3  # type: ignore[operator]
    with pytest.raises(TypeError):
        Q(a=1) | 3  # type: ignore[operator]
