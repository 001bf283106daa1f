"""``Q`` objects: filter conditions combined with ``&``, ``|`` and ``~``.

The machinery sits in modules by job: ``nodes`` (the tree and how nodes combine),
``parsing`` (lookups and raw filter objects), ``negation`` (exact complements),
``raw`` (nodes written as filter JSON as they stand), ``compiling`` (Directus filter JSON,
exactly as Directus runs it) and ``rendering`` (``repr``). This module keeps the public
``Q`` and re-exports the names other modules and tests use.

**Two readings of a to-many path, as in Django.** Conditions given together, in one
``Q(...)`` or one ``filter()`` call, refer to the same related item; separate ``Q``
objects (``&``) and separate ``filter()`` calls each have their own:

- ``Q(comments__a=1, comments__b=2)``: one comment with both;
- ``Q(comments__a=1) & Q(comments__b=2)``: a comment with ``a=1`` and a comment (maybe
  the same, maybe another) with ``b=2``.

Through a many-to-one field both readings select the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from pydirectus.query.compiling import compile_filter
from pydirectus.query.negation import make_quant, negate
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
    make_and,
    make_or,
)
from pydirectus.query.parsing import combine, parse_filter, parse_lookup
from pydirectus.query.rendering import node_repr, q_repr

if TYPE_CHECKING:
    from pydirectus.query.schema import Schema

__all__ = [
    "EMPTY",
    "And",
    "Cond",
    "Node",
    "Not",
    "Or",
    "Q",
    "Quant",
    "Rel",
    "combine",
    "compile_filter",
    "make_and",
    "make_or",
    "make_quant",
    "negate",
    "node_repr",
    "parse_filter",
    "parse_lookup",
]


def _operand(other: Any) -> Node | None:
    if isinstance(other, Filter):
        return other.node
    if isinstance(other, Mapping):
        return parse_filter(other)
    return None


@attrs.frozen(init=False, repr=False)
class Q(Filter):
    """A filter condition: ``Q(field__op=value, ...)``, combined with ``&``, ``|``, ``~``.

    Several lookups (and positional Q objects or raw Directus filter dicts) AND together;
    the lookups of one ``Q`` share one related item per to-many path, separate ``Q``
    objects do not. ``Q()`` matches everything and is neutral:
    ``Q() & A == A == Q() | A``, ``~Q() == Q()``. ``~A`` selects exactly the rows ``A``
    does not, rows with NULLs included. A raw filter dict combines too: ``Q(a=1) | {...}``.
    """

    node: Node

    def __init__(self, *args: Q | Mapping[str, Any], **lookups: Any) -> None:
        self.__attrs_init__(combine("Q", args, lookups))

    @classmethod
    def _wrap(cls, node: Node) -> Q:
        q = cls.__new__(cls)
        q.__attrs_init__(node)
        return q

    @classmethod
    def from_dict(cls, filter: Mapping[str, Any]) -> Q:
        """Parse a Directus filter object."""
        return cls._wrap(parse_filter(filter))

    def to_dict(self, schema: Schema | None = None) -> dict[str, Any]:
        """Return the Directus filter object (``{}`` for ``Q()``)."""
        return compile_filter(self.node, schema)

    def __and__(self, other: Q | Mapping[str, Any]) -> Q:
        node = _operand(other)
        if node is None:
            return NotImplemented
        return Q._wrap(make_and((self.node, node)))

    def __rand__(self, other: Mapping[str, Any]) -> Q:
        node = _operand(other)
        if node is None:
            return NotImplemented
        return Q._wrap(make_and((node, self.node)))

    def __or__(self, other: Q | Mapping[str, Any]) -> Q:
        node = _operand(other)
        if node is None:
            return NotImplemented
        return Q._wrap(make_or((self.node, node)))

    def __ror__(self, other: Mapping[str, Any]) -> Q:
        node = _operand(other)
        if node is None:
            return NotImplemented
        return Q._wrap(make_or((node, self.node)))

    def __invert__(self) -> Q:
        return Q._wrap(negate(self.node))

    def __repr__(self) -> str:
        return q_repr(self.node)
