"""Parsing: lookups (``author__name__icontains="ann"``) and raw Directus filter objects into nodes.

The lookups given together (one ``Q(...)`` or ``filter()`` call) share one related item
per relational path; a raw filter object is read as Directus reads it, one related item
per path. ``in``/``nin`` take any iterable; an empty one becomes a condition every field
type accepts (``in []`` selects nothing, ``nin []`` everything).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydirectus.errors import InvalidQuery
from pydirectus.query.lookups import (
    FUNCTIONS,
    LOOKUPS,
    OPERATORS,
    QUANTIFIERS,
    RAW_FUNCTIONS,
    REFUSED,
    make_condition_value,
    suggest,
    transposed,
    unknown_operator,
)
from pydirectus.query.negation import make_quant
from pydirectus.query.nodes import EMPTY, Cond, Filter, Node, Or, Rel, make_and, make_or

__all__ = ["combine", "parse_filter", "parse_lookup"]


def _cond(field: str, func: str | None, op: str, value: Any, where: str) -> Node:
    op, value = make_condition_value(where, op, value)
    if value == () and op in ("in", "nin"):
        # Directus refuses empty lists; `f IN ()` selects nothing and `f NOT IN ()`
        # everything, NULLs included: the same rows as these, which every field type takes.
        null, nnull = Cond(field, func, "null", True), Cond(field, func, "nnull", True)
        # Ordered so that each is the other's negation, node for node.
        return make_and((null, nnull)) if op == "in" else make_or((nnull, null))
    return Cond(field, func, op, value)


def _rel(field: str, node: Node) -> Node:
    # A path over an OR is the OR of the paths (some related item matches a or b, or
    # the related row does): one canonical form, with no OR below a field.
    if type(node) is Or:
        return make_or(Rel(field, c) for c in node.children)
    return Rel(field, node)


def _nest(path: Iterable[str], node: Node) -> Node:
    for seg in reversed(list(path)):
        node = _rel(seg, node)
    return node


def parse_lookup(key: Any, value: Any) -> Node:
    """Parse one ``field__op=value`` lookup into a node."""
    if not isinstance(key, str):
        raise InvalidQuery(f"lookup {key!r}: keys must be str")
    where = f"lookup {key!r}"
    if not key:
        raise InvalidQuery("lookup '': empty key")
    parts = key.split("__")
    if "" in parts:
        raise InvalidQuery(f"{where}: empty path segment")
    last = parts[-1]
    op = "eq"
    child: Node | None = None
    if len(parts) > 1:
        if last in QUANTIFIERS:
            child = _to_node(value, where)
        elif last in LOOKUPS:
            op = LOOKUPS[last].operator
            parts.pop()
        elif last in REFUSED:
            raise unknown_operator(where, last)
        elif last not in FUNCTIONS:
            hint = suggest(last, [*LOOKUPS, *FUNCTIONS])
            if hint:
                what = "function" if hint in FUNCTIONS else "operator"
                advice = (
                    ""
                    if transposed(last, FUNCTIONS)
                    else f"; if {last!r} is a field, name the operator: '{key}__eq'"
                )
                raise InvalidQuery(
                    f"{where}: unknown {what} {last!r} (did you mean {hint!r}?){advice}"
                )
    frames: list[tuple[list[str], str]] = []
    scope: list[str] = []
    for seg in parts if child is not None else parts[:-1]:
        if seg in QUANTIFIERS:
            if len(scope) != 1:
                raise InvalidQuery(
                    f"{where}: {seg!r} must come right after a one-to-many field of the "
                    "collection being filtered (or of the items inside an outer "
                    "__some__/__none__); Directus accepts _some/_none nowhere else"
                )
            frames.append((scope, seg))
            scope = []
        else:
            scope.append(seg)
    node: Node
    if child is not None:
        node = child
    else:
        field, func = parts[-1], None
        if scope and field in FUNCTIONS:
            func, field = field, scope.pop()
        elif scope and (hint := transposed(field, FUNCTIONS)):
            raise InvalidQuery(f"{where}: unknown function {field!r} (did you mean {hint!r}?)")
        if field in QUANTIFIERS:
            raise InvalidQuery(
                f"{where}: {field!r} must be followed by a field, or take a Q: '{key}=Q(...)'"
            )
        node = _nest(scope, _cond(field, func, op, value, where))
    for quant_scope, kind in reversed(frames):
        node = make_quant(quant_scope[0], kind, node)
    return node


def _to_node(value: Any, where: str) -> Node:
    if isinstance(value, Filter):
        return value.node
    if isinstance(value, Mapping):
        return parse_filter(value, where)
    raise InvalidQuery(f"{where}: expected a Q or a filter dict, got {type(value).__name__}")


_FUNCTION_KEY = re.compile(r"^([A-Za-z_]\w*)\((.*)\)$", re.DOTALL)
_LIST_OPERATORS = frozenset({"in", "nin", "between", "nbetween"})


def _split_function(key: str, where: str) -> tuple[str, str | None]:
    m = _FUNCTION_KEY.match(key)
    if m is None:
        return key, None
    name, inner = m.group(1), m.group(2)
    if name not in RAW_FUNCTIONS:
        hint = suggest(name, RAW_FUNCTIONS, cutoff=0.6)
        tail = f" (did you mean {hint!r}?)" if hint else ""
        raise InvalidQuery(f"{where}: unknown function {name!r}{tail}")
    if not inner:
        raise InvalidQuery(f"{where}: function {name!r} needs a field")
    return inner, name


def parse_filter(obj: Any, where: str = "filter") -> Node:
    """Parse a Directus filter object (as users and presets write it) into a node."""
    if not isinstance(obj, Mapping):
        raise InvalidQuery(f"{where}: expected a filter object, got {type(obj).__name__}")
    parts: list[Node] = []
    for key, value in obj.items():
        if key == "_and" or key == "_or":
            if not isinstance(value, list | tuple):
                raise InvalidQuery(f"{where}: {key} needs a list of filters")
            subs = [parse_filter(v, f"{where}.{key}[{i}]") for i, v in enumerate(value)]
            if key == "_and":
                parts.append(make_and(subs, same_item=True))
            elif subs and EMPTY not in subs:
                parts.append(make_or(subs))
            # else: Directus treats an `_or` holding `{}` (or nothing) as matching all.
        elif not isinstance(key, str) or not key:
            raise InvalidQuery(f"{where}: empty or non-str field name {key!r}")
        elif key.startswith("_"):
            raise InvalidQuery(f"{where}: operator {key!r} needs a field")
        else:
            parts.append(_parse_field(key, value, (), where))
    return make_and(parts, same_item=True)


def _parse_field(key: str, value: Any, path: tuple[str, ...], where: str) -> Node:
    here = f"{where} {'.'.join((*path, key))!r}"
    field, func = _split_function(key, here)
    if not isinstance(value, Mapping):
        # Directus reads `{"status": "draft"}` as `_eq`.
        return _cond(field, func, "eq", value, here)
    parts: list[Node] = []
    for k, v in value.items():
        if not isinstance(k, str) or not k:
            raise InvalidQuery(f"{here}: empty or non-str key {k!r}")
        if k == "_some" or k == "_none":
            if path or func:
                raise InvalidQuery(
                    f"{here}: Directus accepts {k} only on a one-to-many field of the "
                    "collection being filtered"
                )
            parts.append(make_quant(field, k[1:], parse_filter(v, f"{here}.{k}")))
        elif k == "_and" or k == "_or":
            raise InvalidQuery(
                f"{here}: Directus ignores {k} inside a field; put it at the top of the "
                "filter (or inside _some/_none)"
            )
        elif k.startswith("_"):
            op = k[1:]
            if op not in OPERATORS:
                raise unknown_operator(here, k)
            if op in _LIST_OPERATORS and isinstance(v, str):
                v = v.split(",")  # Directus accepts CSV strings for these
            parts.append(_cond(field, func, op, v, f"{here}.{k}"))
        elif func:
            raise InvalidQuery(f"{here}: a function result has no fields ({k!r})")
        else:
            sub = _parse_field(k, v, (*path, field), where)
            if sub != EMPTY:
                parts.append(_rel(field, sub))
    return make_and(parts, same_item=True)



def combine(where: str, qs: Iterable[Any], lookups: Mapping[str, Any]) -> Node:
    """AND together Q objects, raw Directus filter dicts and lookups (one related item per path)."""
    nodes: list[Node] = []
    for q in qs:
        if isinstance(q, Filter):
            nodes.append(q.node)
        elif isinstance(q, Mapping):
            nodes.append(parse_filter(q))
        else:
            raise InvalidQuery(
                f"{where}(): expected Q objects or filter dicts, got {type(q).__name__}"
            )
    # The lookups of one call share related items; separate Q objects do not.
    nodes.append(make_and((parse_lookup(k, v) for k, v in lookups.items()), same_item=True))
    return make_and(nodes)

