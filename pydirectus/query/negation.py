"""Negation as exact complement: ``negate(node)`` selects exactly the rows ``node`` does not.

Directus has no ``_not``, so ``~`` is pushed through ``&``/``|`` (De Morgan) and quantifiers
(``_some`` <-> ``_none``) as it is applied; a ``Cond`` becomes its complement (``_null`` <->
``_nnull``, ``_empty`` <-> ``_nempty``) or a ``Not`` compiling to ``<complement> OR _null``,
since Directus's negative operators skip NULL. A negated ``Rel`` stays a ``Not`` until
compile time, because only a ``Schema`` tells a many-to-one field (complement the
condition under the path) from a one-to-many one (``_none`` of the condition).
"""

from __future__ import annotations

from pydirectus.errors import InvalidQuery
from pydirectus.query.lookups import OPERATORS
from pydirectus.query.nodes import (
    EMPTY,
    And,
    Cond,
    Node,
    Not,
    Or,
    Quant,
    Rel,
    cond_text,
    make_and,
    make_or,
    never,
)

__all__ = ["make_quant", "negate"]


def negate(node: Node) -> Node:
    """Return the node matching exactly the rows ``node`` does not (NULLs included)."""
    t = type(node)
    if t is Cond:
        assert isinstance(node, Cond)
        entry = OPERATORS[node.op]
        if entry.complement is None or entry.complement not in OPERATORS:
            raise InvalidQuery(
                f"lookup {cond_text(node)!r}: operator {node.op!r} has no known "
                "complement, so it cannot be negated"
            )
        if not entry.complement_needs_null:
            return Cond(node.field, node.func, entry.complement, node.value)
        return Not(node)
    if t is Rel:
        assert isinstance(node, Rel)
        return Not(Rel(node.field, node.child))
    if t is Not:
        assert isinstance(node, Not)
        return node.child
    if t is And:
        assert isinstance(node, And)
        return make_or(negate(c) for c in node.children) if node.children else EMPTY
    if t is Or:
        assert isinstance(node, Or)
        # Each part comes from its own alternative, so each keeps its own related item
        # (make_and does not merge paths).
        return make_and(negate(c) for c in node.children)
    assert isinstance(node, Quant)
    return make_quant(node.field, "none" if node.kind == "some" else "some", node.child)


def make_quant(field: str, kind: str, child: Node) -> Node:
    """Return ``_some``/``_none`` (``kind``) of ``child`` over ``field``, in a form Directus runs.

    Directus 12 *skips* a ``_some``/``_none`` whose filter is empty or starts with
    ``_and``/``_or`` (the condition then matches every row), so such quantifiers are
    rewritten into ones it applies: nothing inside means ``count(field)`` above 0 (or
    equal to 0); an OR inside becomes one quantifier per alternative (``_some`` of an OR is the
    OR of the ``_some``, ``_none`` of it the AND of the ``_none``); a negated condition is
    its complement OR ``_null``, treated the same way.
    """
    if child == EMPTY:
        return Cond(field, "count", "gt" if kind == "some" else "eq", 0)
    if never(child):
        # No related item matches (an empty `in`): a count says it in a form Directus runs.
        return Cond(field, "count", "lt" if kind == "some" else "gte", 0)
    alternatives: tuple[Node, ...] | None = None
    if type(child) is Or:
        alternatives = child.children
    elif type(child) is Not and type(child.child) is Cond:
        c = child.child
        comp = OPERATORS[c.op].complement
        assert comp is not None
        alternatives = (Cond(c.field, c.func, comp, c.value), Cond(c.field, c.func, "null", True))
    if alternatives is not None:
        parts = [make_quant(field, kind, a) for a in alternatives]
        return make_or(parts) if kind == "some" else make_and(parts)
    return Quant(field, kind, child)

