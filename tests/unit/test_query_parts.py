"""The table of query parts (pydirectus.query.parts.PARTS) and what it drives.

Query's attributes, its chain methods' add-or-replace, merge(), the read path's key lists
and BoundChain's chain methods all follow the one table; these tests hold them to it.
"""

from __future__ import annotations

import inspect
from typing import Any

import attrs
import pytest

import pydirectus.query
from pydirectus.query import Q, Query
from pydirectus.query.bound import BoundChain
from pydirectus.query.parts import (
    BY_KEY,
    BY_NAME,
    COUNT_KEYS,
    ITEM_READ_KEYS,
    PARTS,
    SHAPE_KEYS,
    WINDOW_KEYS,
    Chain,
    Role,
    keys_for,
)

#: per part: the arguments of two different settings of it
SETTINGS: dict[str, tuple[tuple[tuple[Any, ...], dict[str, Any]], ...]] = {
    "filter": (((Q(a=1),), {}), ((Q(b=2),), {})),
    "fields": ((("id", "title"), {}), (("author__name",), {})),
    "sort": ((("-date",), {}), (("title", "id"), {})),
    "limit": (((10,), {}), ((-1,), {})),
    "offset": (((5,), {}), ((0,), {})),
    "page": (((2,), {}), ((3,), {})),
    "search": ((("ann",), {}), (("bob",), {})),
    "meta": ((("total_count",), {}), (("*",), {})),
    "deep": (((), {"comments": Query().limit(5)}), ((), {"tags": Query().sort("name")})),
    "alias": (((), {"writer": "author"}), ((), {"headline": "title"})),
    "aggregate": (((), {"count": "*"}), ((), {"sum": ["views"]})),
    "group_by": ((("date__year",), {}), (("status",), {})),
    "version": ((("draft",), {}), (("v2",), {})),
    "backlink": (((True,), {}), ((False,), {})),
}


def _set(q: Query, name: str, which: int) -> Query:
    args, kwargs = SETTINGS[name][which]
    result: Query = getattr(q, name)(*args, **kwargs)
    return result


def test_every_part_has_settings_here() -> None:
    assert list(SETTINGS) == [p.name for p in PARTS]


def test_the_table_names_each_part_once() -> None:
    assert len(BY_KEY) == len(BY_NAME) == len(PARTS)
    assert BY_NAME["group_by"].key == "groupBy"
    assert all(p.key == p.name for p in PARTS if p.name != "group_by")


def test_query_attributes_are_the_parts_in_table_order() -> None:
    defaults = {f.name: f.default for f in attrs.fields(Query)}
    assert list(defaults) == [p.attr for p in PARTS]
    for part in PARTS:
        if part.kind is not None:
            assert defaults[part.attr] == part.kind.empty, part.name


@pytest.mark.parametrize("part", PARTS, ids=lambda p: p.name)
def test_query_chain_method_docstring_says_add_or_replace(part: Any) -> None:
    doc = inspect.getdoc(getattr(Query, part.name))
    assert doc is not None and doc.startswith(part.chain.value + " "), doc


@pytest.mark.parametrize("part", PARTS, ids=lambda p: p.name)
def test_chain_adds_or_replaces_as_the_table_says(part: Any) -> None:
    first = _set(Query(), part.name, 0)
    both = _set(first, part.name, 1)
    second = _set(Query(), part.name, 1)
    if part.chain is Chain.ADD:
        assert both != second
        assert part.key in both.to_dict()
        # What the first call set is still there.
        for key, value in first.to_dict()[part.key].items() if part.key != "filter" else ():
            assert both.to_dict()[part.key][key] == value
    else:
        assert both == second


@pytest.mark.parametrize("part", PARTS, ids=lambda p: p.name)
def test_merge_adds_or_replaces_as_the_table_says(part: Any) -> None:
    first = _set(Query(), part.name, 0)
    second = _set(Query(), part.name, 1)
    chained = _set(first, part.name, 1)
    assert first.merge(second) == chained
    assert first.merge(Query()) == first
    assert Query().merge(first) == first


@pytest.mark.parametrize("part", PARTS, ids=lambda p: p.name)
def test_each_part_is_written_under_its_directus_key(part: Any) -> None:
    q = _set(Query(), part.name, 0)
    assert list(q.to_dict()) == [part.key]
    assert list(q.to_params()) == [part.key]
    assert Query.from_dict(q.to_dict()) == q
    assert Query.from_params(q.to_params()) == q
    assert repr(q).startswith(f"Query().{part.name}(")


def test_parts_are_written_in_table_order_whatever_the_chain_order() -> None:
    q = Query()
    for part in reversed(PARTS):
        if part.name != "offset":  # page says where the window starts
            q = _set(q, part.name, 0)
    keys = [p.key for p in PARTS if p.name != "offset"]
    assert list(q.to_dict()) == keys
    assert list(q.to_params()) == keys
    assert Query.from_dict(q.to_dict()) == q
    assert eval(repr(q), {"Query": Query, "Q": Q}) == q


def test_key_lists_for_the_read_path() -> None:
    assert WINDOW_KEYS == ("limit", "offset", "page")
    assert ITEM_READ_KEYS == ("filter", "fields", "deep", "alias", "version", "backlink")
    assert COUNT_KEYS == ("filter", "search", "version")
    assert SHAPE_KEYS == ("fields", "deep", "alias", "backlink")
    assert keys_for(Role.GROUP) == ("aggregate", "groupBy")
    assert keys_for(Role.ORDER | Role.META) == ("sort", "meta")
    for name in ("WINDOW_KEYS", "ITEM_READ_KEYS", "COUNT_KEYS", "SHAPE_KEYS"):
        assert name in pydirectus.query.__all__
        assert getattr(pydirectus.query, name) is getattr(pydirectus.query.parts, name)


def test_every_part_plays_one_role() -> None:
    singles = list(Role)
    assert all(p.role in singles for p in PARTS)
    assert all(any(p.role is r for p in PARTS) for r in singles)


# ------------------------------------------------------------------ BoundChain


@attrs.frozen
class _Bound(BoundChain["_Bound"]):
    _query: Query = attrs.field(factory=Query)

    def _rebind(self, query: Query) -> _Bound:
        return _Bound(query)


_BOUND_PARTS = [p for p in PARTS if p.name != "filter"]


def test_bound_chain_covers_every_part_but_filter() -> None:
    own = {
        name
        for name, value in vars(BoundChain).items()
        if callable(value) and not name.startswith("_")
    }
    # Django's names for two of them: order_by (sort) and only (fields).
    assert own == {p.name for p in _BOUND_PARTS} | {"order_by", "only"}


@pytest.mark.parametrize(("alias", "name"), [("order_by", "sort"), ("only", "fields")])
def test_django_aliases_are_the_parts_they_name(alias: str, name: str) -> None:
    base = Query().filter(a=1).sort("b").fields("c")
    for args in (("-date", "author__name"), (["x", "y"],), ()):
        assert getattr(base, alias)(*args) == getattr(base, name)(*args)
        assert getattr(_Bound(base), alias)(*args)._query == getattr(base, name)(*args)
    assert Query().order_by("-date").to_params() == {"sort": "-date"}
    assert Query().only("title", "author__name").to_dict() == {
        "fields": ["title", "author.name"]}


@pytest.mark.parametrize("part", _BOUND_PARTS, ids=lambda p: p.name)
def test_bound_chain_method_matches_query(part: Any) -> None:
    method = getattr(BoundChain, part.name)
    doc = inspect.getdoc(method)
    assert doc is not None and doc.startswith(part.chain.value + " ") and "\n" not in doc
    mine = inspect.signature(method).parameters
    theirs = inspect.signature(getattr(Query, part.name)).parameters
    assert [(p.kind, p.annotation) for p in mine.values()] == [
        (p.kind, p.annotation) for p in theirs.values()
    ]
    base = Query().filter(a=1).limit(20)
    for which in (0, 1):
        args, kwargs = SETTINGS[part.name][which]
        got = getattr(_Bound(base), part.name)(*args, **kwargs)
        assert isinstance(got, _Bound)
        assert got._query == getattr(base, part.name)(*args, **kwargs)


def test_bound_chain_slices_and_chains() -> None:
    got = _Bound()[10:20][2:4].sort("-date").fields("id")
    assert got._query == Query()[10:20][2:4].sort("-date").fields("id")
    assert got._query.to_params() == {"fields": "id", "sort": "-date", "limit": "2", "offset": "12"}


def test_bound_chain_without_rebind_says_so() -> None:
    class Unbound(BoundChain[Any]):
        _query = Query()

    with pytest.raises(NotImplementedError):
        Unbound().limit(1)  # type: ignore[abstract]
