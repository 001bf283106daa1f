"""Property tests: round trips, and exclude(A) selecting exactly the rows filter(A) does not."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pydirectus.errors import InvalidQuery, SchemaRequired
from pydirectus.query import Q, Query

from .query_reference import evaluate
from .query_strategies import SCHEMA, conditions, queries, rows, shared_paths

PROPERTY = settings(max_examples=100, deadline=None)


def _filter(q: Query, **kwargs: Any) -> dict[str, Any]:
    out: dict[str, Any] = q.to_dict(**kwargs).get("filter", {})
    return out


class Refused(Exception):
    """The compiler refused a query Directus cannot run exactly (that is allowed)."""


def _compiled(q: Query, **kwargs: Any) -> dict[str, Any]:
    try:
        return _filter(q, **kwargs)
    except SchemaRequired:
        raise
    except InvalidQuery as exc:
        raise Refused from exc


@PROPERTY
@given(queries())
def test_from_dict_inverts_to_dict(q: Query) -> None:
    try:
        d = q.to_dict()
    except InvalidQuery:
        return  # refused: Directus cannot run it exactly
    assert Query.from_dict(d) == q


@PROPERTY
@given(queries())
def test_from_params_inverts_to_params(q: Query) -> None:
    try:
        params = q.to_params()
    except InvalidQuery:
        return  # refused: Directus cannot run it exactly
    assert all(isinstance(v, str) for v in params.values())
    assert Query.from_params(params) == q


@PROPERTY
@given(queries(schema_free=False))
def test_repr_rebuilds_the_query(q: Query) -> None:
    from pydirectus.query import CURRENT_USER, Now  # noqa: F401  (names repr may use)

    assert eval(repr(q)) == q


@PROPERTY
@given(conditions())
def test_double_negation_is_identity(a: Q) -> None:
    assert ~~a == a
    try:
        compiled = a.to_dict(schema=SCHEMA)
    except InvalidQuery:
        return
    assert (~~a).to_dict(schema=SCHEMA) == compiled


def _assert_partitions(a: Q, sample: list[dict[str, Any]]) -> None:
    """Check that filter(a) and exclude(a) split every row between them (unless refused)."""
    try:
        included = _compiled(Query().filter(a), schema=SCHEMA)
        excluded = _compiled(Query().exclude(a), schema=SCHEMA)
    except Refused:
        return
    for row in sample:
        assert evaluate(included, row) != evaluate(excluded, row), (included, excluded, row)


@PROPERTY
@given(conditions(), st.lists(rows(), min_size=1, max_size=6))
def test_exclude_selects_the_complement(a: Q, sample: list[dict[str, Any]]) -> None:
    _assert_partitions(a, sample)


@PROPERTY
@given(conditions(), st.lists(rows(), min_size=1, max_size=6))
def test_schema_free_compiles_agree_with_schema_compiles(
    a: Q, sample: list[dict[str, Any]]
) -> None:
    try:
        plain = [_compiled(Query().filter(a)), _compiled(Query().exclude(a))]
    except (SchemaRequired, Refused):
        return
    with_schema = [
        _filter(Query().filter(a), schema=SCHEMA),
        _filter(Query().exclude(a), schema=SCHEMA),
    ]
    for row in sample:
        assert [evaluate(f, row) for f in plain] == [evaluate(f, row) for f in with_schema]


@PROPERTY
@given(conditions(schema_free=True), st.lists(rows(), min_size=1, max_size=4))
def test_schema_free_conditions_negate_without_a_schema(a: Q, sample: list[dict[str, Any]]) -> None:
    try:
        included, excluded = _compiled(Query().filter(a)), _compiled(Query().exclude(a))
    except Refused:
        return
    for row in sample:
        assert evaluate(included, row) != evaluate(excluded, row)


@PROPERTY
@given(conditions(max_leaves=3), conditions(max_leaves=3), st.lists(rows(), min_size=1, max_size=4))
def test_or_matches_either(a: Q, b: Q, sample: list[dict[str, Any]]) -> None:
    try:
        fa, fb = a.to_dict(schema=SCHEMA), b.to_dict(schema=SCHEMA)
    except InvalidQuery:
        return
    either = (a | b).to_dict(schema=SCHEMA)
    for row in sample:
        assert evaluate(either, row) == (evaluate(fa, row) or evaluate(fb, row))


@PROPERTY
@given(conditions(leaves=shared_paths()), st.lists(rows(), min_size=1, max_size=6))
def test_exclude_selects_the_complement_on_shared_paths(a: Q, sample: list[dict[str, Any]]) -> None:
    _assert_partitions(a, sample)
