"""Filter trees written as Directus filter JSON just as they stand, unchecked.

The spelling that ``compiling`` builds on (each condition its own object, joined by
``_and``/``_or`` at the top, a path distributed over them), and what ``rendering`` writes
inside ``Q({...})`` for a node that lookups cannot say. Nothing here knows a schema: the
complement of a relational path depends on the relation's kind, so a negated path raises
``SchemaRequired``.
"""

from __future__ import annotations

from typing import Any

from pydirectus.errors import SchemaRequired
from pydirectus.query.lookups import OPERATORS, JSONObject, to_json
from pydirectus.query.nodes import And, Cond, Node, Not, Or, Quant, Rel, rel_text

__all__ = ["complement_json", "cond_json", "needs_schema", "prefix", "raw_json"]


def _value_json(value: Any) -> Any:
    t = type(value)
    return to_json(value) if t is tuple or t is JSONObject else value


def cond_json(key: str, op: str, value: Any) -> dict[str, Any]:
    """Return ``{key: {_op: value}}``, in a form Directus 12 accepts."""
    if op == "nicontains":
        # Directus 12 refuses `_nicontains` on every field type; `_nistarts_with` with a
        # leading `%` yields the identical SQL, LOWER(col) NOT LIKE '%value%'.
        return {key: {"_nistarts_with": "%" + value}}
    return {key: {"_" + op: _value_json(value)}}


def complement_json(c: Cond, key: str, with_null: bool) -> dict[str, Any]:
    """Return the complement of a condition (``OR key _null`` where NULL rows must count)."""
    entry = OPERATORS[c.op]
    assert entry.complement is not None
    neg = cond_json(key, entry.complement, c.value)
    if not (with_null and entry.complement_needs_null):
        return neg
    return {"_or": [neg, {key: {"_null": True}}]}


def needs_schema(rel: Rel) -> SchemaRequired:
    """Return the error for negating a relational path whose kind is unknown."""
    text = rel_text(rel)
    rest = text[len(rel.field) + 2 :]
    return SchemaRequired(
        f"filter {text!r}: negating a condition behind relation {rel.field!r} needs to "
        f"know whether {rel.field!r} is many-to-one or one-to-many. Say it is one-to-many "
        f"with '{rel.field}__some__{rest}' (negates to __none__), or compile with a "
        "schema: to_dict(schema=...) / to_params(schema=...) (the client passes it for you)"
    )


def prefix(seg: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Return ``obj`` behind the path segment ``seg``, distributed over its ``_and``/``_or``."""
    # Keep every condition its own object, joined by _and/_or at the top.
    if "_or" in obj:
        alternatives: list[Any] = []
        for o in obj["_or"]:
            p = prefix(seg, o)
            alternatives.extend(p.get("_or", (p,)))
        return {"_or": alternatives}
    if "_and" in obj:
        return {"_and": [prefix(seg, o) for o in obj["_and"]]}
    return {seg: obj}


def raw_json(node: Node) -> Any:
    """Return a node's filter JSON as written, unchecked (a negated path needs a schema)."""
    t = type(node)
    if t is Cond:
        assert isinstance(node, Cond)
        return cond_json(node.key, node.op, node.value)
    if t is And or t is Rel:
        parts: list[Any] = []
        _conjuncts(node, parts)
        if len(parts) == 1:
            return parts[0]
        return {"_and": parts} if parts else {}
    if t is Or:
        assert isinstance(node, Or)
        return {"_or": [raw_json(c) for c in node.children]}
    if t is Not:
        assert isinstance(node, Not)
        child = node.child
        if type(child) is Rel:
            assert isinstance(child, Rel)
            raise needs_schema(child)
        assert isinstance(child, Cond)
        return complement_json(child, child.key, True)
    assert isinstance(node, Quant)
    return {node.field: {"_" + node.kind: raw_json(node.child)}}


def _conjuncts(node: Node, out: list[Any]) -> None:
    t = type(node)
    if t is And:
        assert isinstance(node, And)
        for c in node.children:
            _conjuncts(c, out)
    elif t is Rel:
        assert isinstance(node, Rel)
        inner: list[Any] = []
        _conjuncts(node.child, inner)
        out.extend(prefix(node.field, part) for part in inner)
    else:
        out.append(raw_json(node))
