"""Hypothesis strategies for the query builder, shared with the differential tests.

The data model (``SCALARS``, ``RELATIONS``, ``SCHEMA``) is a small blog:

- ``articles``: title, views, rating, published, date; author (many-to-one ->
  authors), comments (one-to-many -> comments);
- ``authors``: name, age; publisher (many-to-one -> publishers);
- ``publishers``: name;
- ``comments``: text, score; author (many-to-one -> authors).

``conditions()`` draws ``Q`` trees over it (every operator valid for each field type,
Django aliases, functions, quantifiers, ``&``/``|``/``~``), ``rows()`` draws rows in
the shape ``query_reference.evaluate`` reads (NULLs, missing authors, empty comment
lists included), ``queries()`` draws whole ``Query`` objects. Values come from small
pools so that conditions and rows often meet.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from pydirectus.query import Q, Query, Relation, Schema

__all__ = [
    "RELATIONS",
    "SCALARS",
    "SCHEMA",
    "conditions",
    "leaf_conditions",
    "queries",
    "rows",
    "shared_paths",
    "values",
]

#: collection -> field -> type ("str", "int", "float", "bool", "date")
SCALARS: dict[str, dict[str, str]] = {
    "articles": {
        "title": "str",
        "views": "int",
        "rating": "float",
        "published": "bool",
        "date": "date",
    },
    "authors": {"name": "str", "age": "int"},
    "publishers": {"name": "str"},
    "comments": {"text": "str", "score": "int"},
}
#: collection -> field -> (kind, related collection)
RELATIONS: dict[str, dict[str, tuple[str, str]]] = {
    "articles": {"author": ("m2o", "authors"), "comments": ("o2m", "comments")},
    "authors": {"publisher": ("m2o", "publishers")},
    "comments": {"author": ("m2o", "authors")},
}
SCHEMA = Schema(
    "articles",
    {
        coll: {field: Relation(kind, related) for field, (kind, related) in fields.items()}  # type: ignore[arg-type]
        for coll, fields in RELATIONS.items()
    },
)

_POOLS: dict[str, list[Any]] = {
    "str": ["", "a", "A", "b", "ab", "aB", "ba"],
    "int": [-1, 0, 1, 2, 3],
    "float": [-1.5, 0.0, 0.5, 2.0],
    "bool": [True, False],
    "date": ["2023-12-31", "2024-01-01", "2024-02-29", "2024-06-15", "2025-01-05"],
    "year": [2023, 2024, 2025],
    "month": [1, 2, 6, 12],
    "day": [1, 5, 15, 29, 31],
    "weekday": [0, 1, 4, 6],
    "count": [0, 1, 2, 3],
}
_ORDERED = ["eq", "neq", "lt", "lte", "gt", "gte", "in", "nin", "between", "nbetween", "range"]
_FLAGS = ["null", "nnull", "isnull", "empty", "nempty"]
_PATTERNS = [
    "contains", "ncontains", "icontains", "nicontains",
    "starts_with", "nstarts_with", "istarts_with", "nistarts_with",
    "ends_with", "nends_with", "iends_with", "niends_with",
    "startswith", "istartswith", "endswith", "iendswith",
]  # fmt: skip
_OPERATORS: dict[str, list[str]] = {
    "str": ["eq", "neq", "exact", "in", "nin", *_FLAGS, *_PATTERNS],
    "int": [*_ORDERED, "null", "nnull", "isnull"],
    "float": [*_ORDERED, "null", "nnull"],
    "bool": ["eq", "neq", "null", "nnull"],
    "date": [*_ORDERED, "null", "nnull"],
    # function results: integers, never compared with None
    "year": _ORDERED,
    "month": _ORDERED,
    "day": _ORDERED,
    "weekday": _ORDERED,
    "count": _ORDERED,
}


def values(
    kind: str,
    op: str,
    pools: Mapping[str, Sequence[Any]] = _POOLS,
    nullable: Collection[str] = ("str", "int", "date"),
) -> st.SearchStrategy[Any]:
    """Return values an operator takes for a field type (``kind``), None where it may be."""
    pool = st.sampled_from(pools[kind])
    if op in ("null", "nnull", "isnull", "empty", "nempty"):
        return st.booleans()
    if op in ("in", "nin"):
        # empty too: in [] selects nothing, nin [] everything
        return st.lists(pool, min_size=0, max_size=3)
    if op in ("between", "nbetween", "range"):
        return st.lists(pool, min_size=2, max_size=2)
    if op in ("eq", "neq", "exact") and kind in nullable:
        return st.one_of(pool, st.none())
    return pool


#: a lookup prefix, the field type, and whether the path crosses a relation
_Path = tuple[str, str, bool]


def _paths(collection: str, depth: int = 2) -> list[_Path]:
    out: list[_Path] = [(field, kind, False) for field, kind in SCALARS[collection].items()]
    if collection == "articles":
        out += [(f"date__{fn}", fn, False) for fn in ("year", "month", "day", "weekday")]
        out.append(("comments__count", "count", False))
    if depth:
        for field, (_, related) in RELATIONS.get(collection, {}).items():
            out += [(f"{field}__{p}", k, True) for p, k, _ in _paths(related, depth - 1)]
    return out


def leaf_conditions(
    collection: str = "articles", *, schema_free: bool = False
) -> st.SearchStrategy[Q]:
    """Return single-lookup conditions on ``collection``.

    ``schema_free`` keeps to conditions that compile and negate without a schema: plain
    fields, functions, and one-to-many paths made explicit with ``__some__``/``__none__``
    (with no relational path inside: one holding for NULL needs the relation kind).
    """
    paths = [p for p in _paths(collection) if not (schema_free and p[2])]

    @st.composite
    def lookup(draw: Callable[..., Any]) -> Q:
        prefix, kind, _ = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(_OPERATORS[kind]))
        value = draw(values(kind, op))
        return Q(**{f"{prefix}__{op}": value})

    out: st.SearchStrategy[Q] = lookup()
    o2m = [f for f, (k, _) in RELATIONS.get(collection, {}).items() if k == "o2m"]
    if o2m:

        @st.composite
        def quantified(draw: Callable[..., Any]) -> Q:
            field = draw(st.sampled_from(o2m))
            quantifier = draw(st.sampled_from(["some", "none"]))
            related = RELATIONS[collection][field][1]
            if draw(st.booleans()):
                inner = draw(
                    st.one_of(
                        st.just(Q()),
                        conditions(related, schema_free=schema_free, max_leaves=3),
                    )
                )
                return Q(**{f"{field}__{quantifier}": inner})
            inner = [p for p in _paths(related, 1) if not (schema_free and p[2])]
            prefix, kind, _ = draw(st.sampled_from(inner))
            op = draw(st.sampled_from(_OPERATORS[kind]))
            value = draw(values(kind, op))
            return Q(**{f"{field}__{quantifier}__{prefix}__{op}": value})

        out = st.one_of(out, quantified())
    return out


def conditions(
    collection: str = "articles",
    *,
    schema_free: bool = False,
    max_leaves: int = 6,
    leaves: st.SearchStrategy[Q] | None = None,
) -> st.SearchStrategy[Q]:
    """Return ``Q`` trees of leaf conditions joined by ``&``, ``|`` and ``~``."""
    if leaves is None:
        leaves = leaf_conditions(collection, schema_free=schema_free)

    def extend(children: st.SearchStrategy[Q]) -> st.SearchStrategy[Q]:
        return st.one_of(
            st.tuples(children, children).map(lambda ab: ab[0] & ab[1]),
            st.tuples(children, children).map(lambda ab: ab[0] | ab[1]),
            children.map(lambda a: ~a),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)


def rows(collection: str = "articles", depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """Return rows of ``collection`` with NULLs, missing relations and empty lists."""
    fields: dict[str, st.SearchStrategy[Any]] = {
        field: st.one_of(st.none(), st.sampled_from(_POOLS[kind]))
        for field, kind in SCALARS[collection].items()
    }
    for field, (kind, related) in RELATIONS.get(collection, {}).items():
        if kind == "o2m":
            fields[field] = st.lists(rows(related, depth - 1), max_size=3) if depth else st.just([])
        elif depth:
            fields[field] = st.one_of(st.none(), rows(related, depth - 1))
        else:
            fields[field] = st.none()
    return st.fixed_dictionaries(fields)


def shared_paths() -> st.SearchStrategy[Q]:
    """Return conditions crowding a few relational fields of ``articles``.

    Trees of these stress how conditions on one relation combine: merged into one
    related item by ``&``, independent after negating an ``|``.
    """
    return st.sampled_from(
        [
            ("comments__text", "str"),
            ("comments__score", "int"),
            ("comments__author__name", "str"),
            ("comments__some__text", "str"),
            ("author__name", "str"),
            ("author__age", "int"),
            ("author__publisher__name", "str"),
        ]
    ).flatmap(
        lambda path: st.sampled_from(
            ["eq", "neq", "null", "in", "gt"]
            if path[1] == "int"
            else ["eq", "neq", "null", "icontains", "nicontains", "empty"]
        ).flatmap(lambda op: values(path[1], op).map(lambda v: Q(**{f"{path[0]}__{op}": v})))
    )


_NAMES = ["id", "title", "date", "author.name", "*", "comments.*", "year(date)"]


def queries(*, schema_free: bool = True, depth: int = 1) -> st.SearchStrategy[Query]:
    """Return whole queries: filter, fields, sort, pagination, aggregate, deep, ..."""

    @st.composite
    def build(draw: Callable[..., Any]) -> Query:
        q = Query()
        if draw(st.booleans()):
            q = q.filter(draw(conditions(schema_free=schema_free, max_leaves=4)))
        if draw(st.booleans()):
            q = q.exclude(draw(leaf_conditions(schema_free=True)))
        if draw(st.booleans()):
            q = q.fields(*draw(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=3)))
        if draw(st.booleans()):
            q = q.sort(
                *draw(
                    st.lists(
                        st.sampled_from(["date", "-date", "title", "-views"]),
                        min_size=1,
                        max_size=2,
                    )
                )
            )
        if draw(st.booleans()):
            q = q.limit(draw(st.integers(-1, 100)))
        if draw(st.booleans()):
            q = q.offset(draw(st.integers(0, 100)))
        if draw(st.booleans()):
            q = q.page(draw(st.integers(1, 10)))
        if draw(st.booleans()):
            q = q.search(draw(st.text(max_size=8)))
        if draw(st.booleans()):
            q = q.meta(
                *draw(
                    st.lists(
                        st.sampled_from(["total_count", "filter_count", "*"]),
                        min_size=1,
                        max_size=2,
                    )
                )
            )
        if draw(st.booleans()):
            q = q.aggregate(
                **draw(
                    st.dictionaries(
                        st.sampled_from(["count", "sum", "countDistinct", "avg", "max"]),
                        st.lists(st.sampled_from(["views", "rating", "*"]), min_size=1, max_size=2),
                        min_size=1,
                        max_size=2,
                    )
                )
            )
        if draw(st.booleans()):
            q = q.group_by(
                *draw(st.lists(st.sampled_from(["title", "year(date)"]), min_size=1, max_size=2))
            )
        if draw(st.booleans()):
            q = q.alias(
                **draw(
                    st.dictionaries(
                        st.sampled_from(["a", "b"]),
                        st.sampled_from(["title", "author"]),
                        min_size=1,
                    )
                )
            )
        if depth and draw(st.booleans()):
            q = q.deep(comments=draw(queries(schema_free=schema_free, depth=depth - 1)))
        if draw(st.booleans()):
            q = q.version(draw(st.sampled_from(["draft", "v2"])))
        if draw(st.booleans()):
            q = q.backlink(draw(st.booleans()))
        return q

    return build()
