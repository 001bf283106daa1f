"""Rendering filter trees as Python source: ``repr(Q)`` rebuilds the same tree.

Nodes are spelled as ``Q(lookup=value, ...)`` where lookups can say them (the lookups of
one ``Q`` share related items, so separate paths on one field get separate ``Q``
objects), and as ``Q({raw filter})`` otherwise.
"""

from __future__ import annotations

import keyword
from typing import Any

from pydirectus.errors import InvalidQuery
from pydirectus.query.lookups import to_json
from pydirectus.query.nodes import (
    EMPTY,
    And,
    Cond,
    Filter,
    Node,
    Not,
    Or,
    Quant,
    Rel,
    cond_text,
    make_and,
)
from pydirectus.query.parsing import parse_lookup
from pydirectus.query.raw import raw_json

__all__ = ["node_repr", "q_repr"]


class _Sub(Filter):
    """A sub-filter given as a lookup's value (``comments__some=Q(...)``)."""

    __slots__ = ("node",)

    def __init__(self, node: Node) -> None:
        self.node = node

    def __repr__(self) -> str:
        return q_repr(self.node)


def _value_repr(value: Any) -> str:
    if type(value) is tuple:
        return "[" + ", ".join(_value_repr(v) for v in value) + "]"
    return repr(value)


def _leaves(node: Node, prefix: str = "") -> list[tuple[str, Any, Node]] | None:
    """Return ``(lookup, value, node)`` triples spelling a node as Q kwargs, if they can."""
    t = type(node)
    if t is Cond:
        assert isinstance(node, Cond)
        return [(prefix + cond_text(node), node.value, node)]
    if t is Rel:
        assert isinstance(node, Rel)
        inner = _leaves(node.child, f"{prefix}{node.field}__")
        return [(k, v, Rel(node.field, n)) for k, v, n in inner] if inner is not None else None
    if t is And:
        assert isinstance(node, And)
        paths = [c.field for c in node.children if type(c) is Rel]
        if len(paths) != len(set(paths)):
            return None  # separate related items: lookups in one Q would share one
        out: list[tuple[str, Any, Node]] = []
        for c in node.children:
            sub = _leaves(c, prefix)
            if sub is None:
                return None
            out += sub
        return out
    if t is Quant:
        assert isinstance(node, Quant)
        head = f"{prefix}{node.field}__{node.kind}"
        inner = _leaves(node.child, head + "__")
        if inner is not None and len(inner) == 1:
            k, v, n = inner[0]
            return [(k, v, Quant(node.field, node.kind, n))]
        return [(head, _Sub(node.child), node)]
    return None


def _spells(key: str, value: Any, node: Node) -> bool:
    try:
        return parse_lookup(key, value if isinstance(value, Filter) else to_json(value)) == node
    except InvalidQuery:
        return False


def _kwargs_text(items: list[tuple[str, Any]]) -> str:
    def plain(k: str) -> bool:
        return k.isidentifier() and not keyword.iskeyword(k)

    out = [f"{k}={_value_repr(v)}" for k, v in items if plain(k)]
    odd = [f"{k!r}: {_value_repr(v)}" for k, v in items if not plain(k)]
    if odd:
        out.append("**{" + ", ".join(odd) + "}")
    return ", ".join(out)


def _atom(node: Node) -> str:
    """Return ``Q(...)`` source for a Cond, Rel or Quant (raw JSON when lookups can't say it)."""
    leaves = _leaves(node)
    if leaves and all(_spells(k, v, n) for k, v, n in leaves):
        keys = [k for k, _, _ in leaves]
        if len(set(keys)) == len(keys):
            return f"Q({_kwargs_text([(k, v) for k, v, _ in leaves])})"
    return f"Q({raw_json(node)!r})"


def _spellable(node: Node) -> list[str] | None:
    """Return the lookup keys spelling a node as Q kwargs, or None if they cannot."""
    if type(node) not in (Cond, Rel, Quant):
        return None
    leaves = _leaves(node)
    if not leaves or not all(_spells(k, v, n) for k, v, n in leaves):
        return None
    return [k for k, _, _ in leaves]


def _expr(node: Node) -> tuple[str, int]:
    """Return Python source for a node and its precedence (3 atom, 2 ``&``, 1 ``|``)."""
    if node == EMPTY:
        return "Q()", 3
    if isinstance(node, Cond | Quant):
        return _atom(node), 3
    if isinstance(node, Rel):
        return _atom(node), 3
    if isinstance(node, Not):
        return "~" + _atom(node.child), 3
    if isinstance(node, Or):
        texts = []
        for c in node.children:
            text, prec = _expr(c)
            texts.append(text if prec >= 3 else f"({text})")
        return " | ".join(texts), 1
    pieces: list[str] = []
    group: list[Node] = []
    keys: set[str] = set()
    paths: set[str] = set()

    def flush() -> None:
        nonlocal group, keys, paths
        if group:
            pieces.append(_atom(make_and(group)))
        group, keys, paths = [], set(), set()

    for c in node.children:
        names = _spellable(c)
        if names is not None and len(set(names)) == len(names):
            # Lookups in one Q share related items: a separate path starts a new Q.
            path = c.field if isinstance(c, Rel) else None
            if keys & set(names) or path in paths:
                flush()
            group.append(c)
            keys |= set(names)
            if path is not None:
                paths.add(path)
            continue
        flush()
        text, prec = _expr(c) if names is None else (_atom(c), 3)
        pieces.append(text if prec >= 2 else f"({text})")
    flush()
    return " & ".join(pieces), (3 if len(pieces) == 1 else 2)


def node_repr(node: Node) -> str:
    """Return Python source that rebuilds the node as Q objects."""
    return _expr(node)[0]



def q_repr(node: Node) -> str:
    """Return Python source for the node as one expression (parenthesised if needed)."""
    text, prec = _expr(node)
    return text if prec == 3 else f"({text})"
