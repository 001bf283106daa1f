"""Lookups compile to Directus filter JSON: every operator, alias, function, quantifier."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

import pytest

from pydirectus.errors import InvalidQuery
from pydirectus.query import (
    CURRENT_POLICIES,
    CURRENT_ROLE,
    CURRENT_ROLES,
    CURRENT_USER,
    Now,
    Q,
    Query,
    get_lookup,
    lookup_names,
    register_lookup,
)
from pydirectus.query.lookups import LOOKUPS, OPERATORS, REFUSED

GEO = {"type": "Point", "coordinates": [1.5, 2.0]}

LOOKUP_TABLE: list[tuple[str, Any, dict[str, Any]]] = [
    # a key with no operator means eq
    ("title", "x", {"title": {"_eq": "x"}}),
    ("title__eq", "x", {"title": {"_eq": "x"}}),
    ("title__neq", "x", {"title": {"_neq": "x"}}),
    ("views__lt", 1, {"views": {"_lt": 1}}),
    ("views__lte", 1, {"views": {"_lte": 1}}),
    ("views__gt", 1.5, {"views": {"_gt": 1.5}}),
    ("views__gte", 1, {"views": {"_gte": 1}}),
    ("id__in", [1, 2], {"id": {"_in": [1, 2]}}),
    ("id__in", (1, 2), {"id": {"_in": [1, 2]}}),
    ("id__nin", ["a"], {"id": {"_nin": ["a"]}}),
    ("title__null", True, {"title": {"_null": True}}),
    ("title__null", False, {"title": {"_nnull": True}}),
    ("title__nnull", True, {"title": {"_nnull": True}}),
    ("title__nnull", False, {"title": {"_null": True}}),
    ("title__contains", "a", {"title": {"_contains": "a"}}),
    ("title__ncontains", "a", {"title": {"_ncontains": "a"}}),
    ("title__icontains", "a", {"title": {"_icontains": "a"}}),
    # Directus 12 refuses _nicontains; _nistarts_with "%a" is the same SQL
    ("title__nicontains", "a", {"title": {"_nistarts_with": "%a"}}),
    ("title__starts_with", "a", {"title": {"_starts_with": "a"}}),
    ("title__nstarts_with", "a", {"title": {"_nstarts_with": "a"}}),
    ("title__istarts_with", "a", {"title": {"_istarts_with": "a"}}),
    ("title__nistarts_with", "a", {"title": {"_nistarts_with": "a"}}),
    ("title__ends_with", "a", {"title": {"_ends_with": "a"}}),
    ("title__nends_with", "a", {"title": {"_nends_with": "a"}}),
    ("title__iends_with", "a", {"title": {"_iends_with": "a"}}),
    ("title__niends_with", "a", {"title": {"_niends_with": "a"}}),
    ("views__between", [1, 5], {"views": {"_between": [1, 5]}}),
    ("views__nbetween", [1, 5], {"views": {"_nbetween": [1, 5]}}),
    ("title__empty", True, {"title": {"_empty": True}}),
    ("title__empty", False, {"title": {"_nempty": True}}),
    ("title__nempty", True, {"title": {"_nempty": True}}),
    ("area__intersects", GEO, {"area": {"_intersects": GEO}}),
    ("area__nintersects", GEO, {"area": {"_nintersects": GEO}}),
    ("area__intersects_bbox", GEO, {"area": {"_intersects_bbox": GEO}}),
    ("area__nintersects_bbox", GEO, {"area": {"_nintersects_bbox": GEO}}),
    # Django spellings
    ("title__exact", "x", {"title": {"_eq": "x"}}),
    ("title__isnull", True, {"title": {"_null": True}}),
    ("title__isnull", False, {"title": {"_nnull": True}}),
    ("views__range", (1, 5), {"views": {"_between": [1, 5]}}),
    ("title__startswith", "a", {"title": {"_starts_with": "a"}}),
    ("title__istartswith", "a", {"title": {"_istarts_with": "a"}}),
    ("title__endswith", "a", {"title": {"_ends_with": "a"}}),
    ("title__iendswith", "a", {"title": {"_iends_with": "a"}}),
    # None means NULL
    ("title", None, {"title": {"_null": True}}),
    ("title__neq", None, {"title": {"_nnull": True}}),
    # relations
    ("author__name__icontains", "ann", {"author": {"name": {"_icontains": "ann"}}}),
    ("author__publisher__name", "p", {"author": {"publisher": {"name": {"_eq": "p"}}}}),
    # functions
    ("date__year", 2024, {"year(date)": {"_eq": 2024}}),
    ("date__month__gte", 6, {"month(date)": {"_gte": 6}}),
    ("date__week", 3, {"week(date)": {"_eq": 3}}),
    ("date__day__lt", 10, {"day(date)": {"_lt": 10}}),
    ("date__weekday__in", [0, 6], {"weekday(date)": {"_in": [0, 6]}}),
    ("created__hour", 9, {"hour(created)": {"_eq": 9}}),
    ("created__minute__gt", 30, {"minute(created)": {"_gt": 30}}),
    ("created__second__lte", 5, {"second(created)": {"_lte": 5}}),
    ("comments__count__gt", 3, {"count(comments)": {"_gt": 3}}),
    ("author__birth__year", 1990, {"author": {"year(birth)": {"_eq": 1990}}}),
    # quantifiers
    ("comments__some__text", "x", {"comments": {"_some": {"text": {"_eq": "x"}}}}),
    ("comments__none__text", "x", {"comments": {"_none": {"text": {"_eq": "x"}}}}),
    (
        "comments__some__author__name__starts_with",
        "a",
        {"comments": {"_some": {"author": {"name": {"_starts_with": "a"}}}}},
    ),
    (
        "comments__some__replies__none__text",
        "x",
        {"comments": {"_some": {"replies": {"_none": {"text": {"_eq": "x"}}}}}},
    ),
    ("comments__some", Q(text="x"), {"comments": {"_some": {"text": {"_eq": "x"}}}}),
    # Directus 12 skips `_some`/`_none` holding {} or an _or: count() and one
    # quantifier per alternative say the same
    ("comments__none", Q(), {"count(comments)": {"_eq": 0}}),
    ("comments__some", Q(), {"count(comments)": {"_gt": 0}}),
    ("comments__none", {"text": "x"}, {"comments": {"_none": {"text": {"_eq": "x"}}}}),
    (
        "comments__some",
        Q(text="x") | Q(score__gt=1),
        {
            "_or": [
                {"comments": {"_some": {"text": {"_eq": "x"}}}},
                {"comments": {"_some": {"score": {"_gt": 1}}}},
            ]
        },
    ),
    (
        "comments__none",
        ~Q(text="x"),
        {
            "_and": [
                {"comments": {"_none": {"text": {"_neq": "x"}}}},
                {"comments": {"_none": {"text": {"_null": True}}}},
            ]
        },
    ),
    # dynamic variables
    ("published_on__lte", Now(), {"published_on": {"_lte": "$NOW"}}),
    ("published_on__gt", Now("-1 year"), {"published_on": {"_gt": "$NOW(-1 year)"}}),
    ("owner", CURRENT_USER, {"owner": {"_eq": "$CURRENT_USER"}}),
    ("role", CURRENT_ROLE, {"role": {"_eq": "$CURRENT_ROLE"}}),
    ("role__in", [CURRENT_ROLES], {"role": {"_in": ["$CURRENT_ROLES"]}}),
    ("policy__in", [CURRENT_POLICIES], {"policy": {"_in": ["$CURRENT_POLICIES"]}}),
    ("team", CURRENT_USER.field("team"), {"team": {"_eq": "$CURRENT_USER.team"}}),
    # Python values are normalised to strings
    ("day", dt.date(2024, 3, 5), {"day": {"_eq": "2024-03-05"}}),
    (
        "at__gte",
        dt.datetime(2024, 3, 5, 10, 30, tzinfo=dt.timezone.utc),
        {"at": {"_gte": "2024-03-05T10:30:00+00:00"}},
    ),
    ("at__lt", dt.time(10, 30), {"at": {"_lt": "10:30:00"}}),
    ("price", Decimal("1.50"), {"price": {"_eq": "1.50"}}),
    (
        "id",
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        {"id": {"_eq": "12345678-1234-5678-1234-567812345678"}},
    ),
    (
        "at__between",
        [dt.date(2024, 1, 1), dt.date(2024, 12, 31)],
        {"at": {"_between": ["2024-01-01", "2024-12-31"]}},
    ),
]


@pytest.mark.parametrize(("key", "value", "expected"), LOOKUP_TABLE, ids=lambda v: str(v)[:40])
def test_lookup_compiles(key: str, value: Any, expected: dict[str, Any]) -> None:
    assert Q(**{key: value}).to_dict() == expected
    assert Query().filter(**{key: value}).to_dict() == {"filter": expected}


def test_table_covers_every_lookup() -> None:
    used = {key.rsplit("__", 1)[-1] for key, _, _ in LOOKUP_TABLE}
    assert set(lookup_names()) <= used


class Color(enum.Enum):
    RED = "red"


class Odd(enum.Enum):
    THING = object()


class Level(enum.IntEnum):
    HIGH = 3


class Tag(str, enum.Enum):
    NEW = "new"


def test_enum_subclasses_are_stored_as_their_plain_value() -> None:
    assert Q(level=Level.HIGH).to_dict() == {"level": {"_eq": 3}}
    assert Q(tag=Tag.NEW).to_dict() == {"tag": {"_eq": "new"}}
    # A plain Enum is sent as its value, as in write data (pydirectus.encoding).
    assert Q(color=Color.RED).to_dict() == {"color": {"_eq": "red"}}
    with pytest.raises(InvalidQuery, match=r"'color'.*unsupported value type object"):
        Q(color=Odd.THING)


def test_several_kwargs_and_together() -> None:
    assert Q(a=1, b__gt=2).to_dict() == {"_and": [{"a": {"_eq": 1}}, {"b": {"_gt": 2}}]}


def test_filter_accepts_raw_dicts_for_fields_named_like_operators() -> None:
    raw = {"status": {"in": {"_eq": "x"}}}
    assert Query().filter(raw).to_dict() == {"filter": raw}
    # the lookup spelling with an explicit operator works too
    assert Q(status__in__eq="x").to_dict() == raw


def test_value_types_matter() -> None:
    assert Q(a=1) != Q(a=True)
    assert Q(a=1) != Q(a=1.0)
    assert Q(a=1) & Q(a=True) != Q(a=1)


def test_registry_entries() -> None:
    gt = get_lookup("gt")
    assert gt is not None
    assert (gt.operator, gt.complement, gt.complement_needs_null) == ("gt", "lte", True)
    null = get_lookup("isnull")
    assert null is not None
    assert (null.operator, null.complement, null.complement_needs_null) == ("null", "nnull", False)
    alias = get_lookup("startswith")
    assert alias is not None
    assert (alias.name, alias.operator, alias.complement) == (
        "startswith",
        "starts_with",
        "nstarts_with",
    )
    assert get_lookup("nope") is None
    for lookup in LOOKUPS.values():
        comp = lookup.complement
        assert comp is not None and OPERATORS[comp].complement == lookup.operator


@pytest.fixture
def restore_registry() -> Any:
    saved = (dict(LOOKUPS), dict(OPERATORS), dict(REFUSED))
    yield
    for target, old in zip((LOOKUPS, OPERATORS, REFUSED), saved, strict=True):
        target.clear()
        target.update(old)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("restore_registry")
def test_register_lookup_alias_and_new_operator() -> None:
    register_lookup("ne", "neq")
    assert Q(a__ne=1).to_dict() == {"a": {"_neq": 1}}
    register_lookup("ieq", complement="nieq")
    register_lookup("nieq", complement="ieq")
    assert Q(a__ieq="X").to_dict() == {"a": {"_ieq": "X"}}
    assert (~Q(a__ieq="X")).to_dict() == {"_or": [{"a": {"_nieq": "X"}}, {"a": {"_null": True}}]}
    register_lookup("similar")  # no complement: usable, not negatable
    assert Q(a__similar="x").to_dict() == {"a": {"_similar": "x"}}
    with pytest.raises(InvalidQuery, match="a__similar"):
        ~Q(a__similar="x")


@pytest.mark.usefixtures("restore_registry")
def test_register_lookup_with_validator() -> None:
    def only_ints(key: str, value: Any) -> Any:
        if type(value) is not int:
            raise InvalidQuery(f"{key}: ints only")
        return value

    register_lookup("bitand", validator=only_ints)
    assert Q(flags__bitand=4).to_dict() == {"flags": {"_bitand": 4}}
    with pytest.raises(InvalidQuery, match="lookup 'flags__bitand': ints only"):
        Q(flags__bitand="4")


@pytest.mark.parametrize("name", ["", "a__b", "Bad", "some", "year", 3])
def test_register_lookup_rejects_bad_names(name: Any) -> None:
    with pytest.raises(InvalidQuery):
        register_lookup(name)
