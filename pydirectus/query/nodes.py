"""Filter trees: the frozen nodes a ``Q`` holds, and how they combine.

``Cond``   a condition on a field of the current collection, maybe under a function;
``Rel``    a plain relational path segment: ``child`` holds for the related item(s);
``Quant``  ``_some`` / ``_none`` over a one-to-many field, with a filter for its items;
``Not``    the complement of a ``Cond`` (``<complement> OR _null``) or of a ``Rel``;
``And`` / ``Or``  flattened, without duplicates, never empty or single.

Through a many-to-one field a ``Rel`` reads the related row (all NULL when there is no
related item); through a one-to-many field it means "some related item matches". Each
``Rel`` node has a related item of its own: ``Q(comments__a=1) & Q(comments__b=2)`` (like
two ``filter()`` calls) asks for some comment with ``a=1`` and some comment, maybe another,
with ``b=2``. The lookups of one ``Q(...)`` or ``filter()`` call merge into one ``Rel`` per
field (``make_and(..., same_item=True)``): ``Q(comments__a=1, comments__b=2)`` asks for
one comment with both, as Django does within one ``filter()`` call. A raw filter object
is read as Directus reads it, one related item per path.

Canonical forms, so that equal meaning built the same way compares equal: ``eq None`` is
``null True``; flags are stored as True (``null False`` is ``nnull True``); ``f <op> v OR
f _null`` for a NULL-skipping operator is stored as ``Not(f <complement> v)``; ``Q()`` is
neutral to both ``&`` and ``|`` (Django's convention).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeAlias

import attrs

from pydirectus.query.lookups import OPERATORS, JSONObject

__all__ = [
    "EMPTY",
    "And",
    "Cond",
    "Filter",
    "Node",
    "Not",
    "Or",
    "Quant",
    "Rel",
    "cond_text",
    "make_and",
    "make_or",
    "never",
    "rel_text",
]


class Filter:
    """Anything holding a filter tree in ``node`` (``Q``): lookups accept it as a value."""

    __slots__ = ()
    node: Node


def _strict(value: Any) -> Any:
    # 1 == 1.0 == True in Python, but they are different JSON values (and differ on
    # PostgreSQL), so conditions compare their values together with the types.
    t = type(value)
    if t is tuple or t is JSONObject:
        return (t, tuple(_strict(v) for v in value))
    return (t, value)


@attrs.frozen
class Cond:
    """``func(field) <op> value`` on the current collection (``func`` may be None)."""

    field: str
    func: str | None
    op: str
    value: Any = attrs.field(eq=_strict)

    @property
    def key(self) -> str:
        """Return the Directus key of the field, e.g. ``year(date)``."""
        return f"{self.func}({self.field})" if self.func else self.field


@attrs.frozen
class Rel:
    """``child`` holds for the item(s) related through ``field`` (a plain path)."""

    field: str
    child: Node


@attrs.frozen
class And:
    """All children match."""

    children: tuple[Node, ...]


@attrs.frozen
class Or:
    """At least one child matches."""

    children: tuple[Node, ...]


@attrs.frozen
class Not:
    """The rows the child does not match (rows with NULLs included)."""

    child: Cond | Rel


@attrs.frozen
class Quant:
    """Some (``kind="some"``) or no (``"none"``) item related through ``field`` matches."""

    field: str
    kind: str
    child: Node


Node: TypeAlias = Cond | Rel | And | Or | Not | Quant

#: The empty filter: matches everything, neutral to ``&`` and ``|``.
EMPTY = And(())


# ---------------------------------------------------------------------- combination


def make_and(nodes: Iterable[Node], *, same_item: bool = False) -> Node:
    """Return the conjunction of nodes, flattened and deduplicated.

    With ``same_item`` the ``Rel`` nodes on one field merge into one, so that their
    conditions hold for the same related item (the lookups of one ``filter()`` call, or
    the keys of one raw filter object); otherwise each keeps its own related item.
    """
    out: list[Node] = []
    merge_at: dict[str, int] = {}

    def add(n: Node) -> None:
        if type(n) is And:
            for c in n.children:
                add(c)
            return
        if same_item and type(n) is Rel:
            i = merge_at.get(n.field)
            if i is not None:
                prev = out[i]
                assert isinstance(prev, Rel)
                out[i] = Rel(n.field, make_and((prev.child, n.child), same_item=True))
                return
            merge_at[n.field] = len(out)
        out.append(n)

    for n in nodes:
        add(n)
    unique = _fold_not_nulls(list(dict.fromkeys(out)))
    if len(unique) == 1:
        return unique[0]
    return And(tuple(unique)) if unique else EMPTY


def make_or(nodes: Iterable[Node]) -> Node:
    """Return the disjunction of nodes, flattened; empty nodes are dropped (Django's way)."""
    out: dict[Node, None] = {}
    for n in nodes:
        if type(n) is Or:
            out.update(dict.fromkeys(n.children))
        elif n != EMPTY:
            out[n] = None
    children = _fold_nulls(list(out))
    if len(children) == 1:
        return children[0]
    return Or(tuple(children)) if children else EMPTY


def _fold(children: list[Node], marker: str, fold: Callable[[Node], Cond | Not | None],
          ) -> list[Node]:
    """Replace each pair of a node and ``f <marker> True`` on its field by ``fold(node)``.

    ``fold`` returns the one node meaning the same as the pair, or None to keep both; the
    pair takes the place of its first member.
    """
    marks = {(c.field, c.func): i for i, c in enumerate(children)
             if type(c) is Cond and c.op == marker}
    if not marks:
        return children
    out: list[Node | None] = list(children)
    for i, n in enumerate(children):
        folded = fold(n)
        if folded is None:
            continue
        c = folded.child if type(folded) is Not else folded
        j = marks.get((c.field, c.func))  # type: ignore[union-attr]
        if j is None or out[j] is None or out[i] is None:
            continue
        out[min(i, j)] = folded
        out[max(i, j)] = None
    return [n for n in out if n is not None]


def _complement_skipping_nulls(node: Node) -> Cond | None:
    # Not(f <op> v) is `f <complement> v OR f _null`; `f _nnull` ANDed removes the NULLs,
    # which the complement skips anyway.
    if type(node) is not Not or type(node.child) is not Cond:
        return None
    c = node.child
    comp = OPERATORS[c.op].complement
    return Cond(c.field, c.func, comp, c.value) if comp is not None else None


def _complement_with_nulls(node: Node) -> Not | None:
    # `f <op> v OR f _null`, <op> skipping NULLs, is the complement of its complement.
    if type(node) is not Cond or node.op == "null":
        return None
    entry = OPERATORS[node.op]
    comp = entry.complement
    if comp is None or not entry.complement_needs_null:
        return None
    back = OPERATORS.get(comp)
    if back is None or back.complement != node.op or not back.complement_needs_null:
        return None
    return Not(Cond(node.field, node.func, comp, node.value))


def _fold_not_nulls(children: list[Node]) -> list[Node]:
    """Rewrite ``f _nnull AND Not(f <op> v)`` as ``f <complement op> v``: same rows, one form."""
    return _fold(children, "nnull", _complement_skipping_nulls)


def _fold_nulls(children: list[Node]) -> list[Node]:
    """Rewrite ``f <op> v OR f _null`` as ``Not(f <complement op> v)``: same rows, one form."""
    return _fold(children, "null", _complement_with_nulls)


def never(node: Node) -> bool:
    """Return whether a node is ``f _null AND f _nnull`` (an empty ``in``): no row matches."""
    if type(node) is not And:
        return False
    flags = {(c.field, c.func, c.op) for c in node.children if type(c) is Cond}
    return any((f, fn, "nnull") in flags for f, fn, op in flags if op == "null")


# ------------------------------------------------------------------------ text


def cond_text(c: Cond) -> str:
    return "__".join((c.field, *((c.func,) if c.func else ()), c.op))


def rel_text(node: Node) -> str:
    """Return a lookup-like name for error messages."""
    if type(node) is Rel:
        assert isinstance(node, Rel)
        return f"{node.field}__{rel_text(node.child)}"
    if type(node) is Cond:
        assert isinstance(node, Cond)
        return cond_text(node)
    return "..."

