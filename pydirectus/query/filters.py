"""Filter trees: ``Q`` objects, their nodes, negation, and Directus filter JSON.

A filter is a tree of frozen nodes:

``Cond``   a condition on a field of the current collection, maybe under a function;
``Rel``    a plain relational path segment: ``child`` holds for the related item(s);
``Quant``  ``_some`` / ``_none`` over a one-to-many field, with a filter for its items;
``Not``    the complement of a ``Cond`` (``<complement> OR _null``) or of a ``Rel``;
``And`` / ``Or``  flattened, without duplicates, never empty or single.

**Plain relational paths.** Through a many-to-one field a condition reads the related
row (all NULL when there is no related item). Through a one-to-many field it means
"some related item matches". ``&`` merges ``Rel`` nodes on the same field into one
(``Q(comments__a=1) & Q(comments__b=2)`` means one comment with both), as Django does
inside one ``filter()`` call. For independent matches say ``__some__``:
``Q(comments__some__a=1) & Q(comments__some__b=2)``.

Directus 12 runs plain paths as LEFT JOINs, one per path for the whole filter, so the
compiler (``_Compiler``) only emits a plain one-to-many path where that means the same:
it uses ``_some`` (or ANDs in ``count(field) > 0``) where a condition holds on the row of
NULLs joined when nothing is related, or where conditions on one path sit in different
operands of an ``&``; it refuses (``InvalidQuery``) what Directus cannot say, such as
``_none`` of several ANDed conditions, which Directus 12 silently skips.

**Negation is exact complement.** ``~`` is pushed through ``&``/``|`` (De Morgan) and
quantifiers (``_some`` <-> ``_none``) as it is applied; a ``Cond`` becomes its
complement (``_null`` <-> ``_nnull``, ``_empty`` <-> ``_nempty``) or a ``Not`` compiling
to ``<complement> OR _null``, since Directus's negative operators skip NULL. A negated
``Rel`` stays a ``Not`` until compile time, because only a ``Schema`` tells a
many-to-one field (complement the condition under the path) from a one-to-many one
(``_none`` of the condition); compiling it without one raises ``SchemaRequired``, as
does any path whose compiled form depends on the kind. The complement of an ``Or`` of
negated paths on one field needs independent matches, so those ``Rel`` nodes are
marked ``independent`` (not merged) and compile to ``_some`` with a schema.

Canonical forms, so that equal meaning built the same way compares equal and
``parse_filter(compile_filter(node)) == node``: ``eq None`` is ``null True``; flags are
stored as True (``null False`` is ``nnull True``); ``f <op> v OR f _null`` for a
NULL-skipping operator on a plain field is stored as ``Not(f <complement> v)``; ``Q()``
is neutral to both ``&`` and ``|`` (Django's convention). Directus reads only the first
key of a nested object and no ``_and``/``_or`` below a field, so compiled filters give
every condition its own object and join them with ``_and``.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from pydirectus.errors import InvalidQuery, SchemaRequired
from pydirectus.query.lookups import (
    FUNCTIONS,
    LOOKUPS,
    OPERATORS,
    QUANTIFIERS,
    RAW_FUNCTIONS,
    REFUSED,
    JSONObject,
    make_condition_value,
    suggest,
    to_json,
    transposed,
    unknown_operator,
)

if TYPE_CHECKING:
    from pydirectus.query.schema import Relation, Schema

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
    "compile_filter",
    "make_and",
    "make_or",
    "negate",
    "node_repr",
    "parse_filter",
    "parse_lookup",
]


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
    #: must not share a related item with other conditions on ``field``
    independent: bool = False


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


def make_and(nodes: Iterable[Node]) -> Node:
    """Return the conjunction of nodes: flattened, ``Rel`` merged per field, deduplicated."""
    out: list[Node] = []
    merge_at: dict[str, int] = {}

    def add(n: Node) -> None:
        if type(n) is And:
            for c in n.children:
                add(c)
            return
        if type(n) is Rel and not n.independent:
            i = merge_at.get(n.field)
            if i is not None:
                prev = out[i]
                assert isinstance(prev, Rel)
                out[i] = Rel(n.field, make_and((prev.child, n.child)))
                return
            merge_at[n.field] = len(out)
        out.append(n)

    for n in nodes:
        add(n)
    unique = list(dict.fromkeys(out))
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


def _fold_nulls(children: list[Node]) -> list[Node]:
    """Rewrite ``f <op> v OR f _null`` as ``Not(f <complement op> v)``: same rows, one form."""
    nulls = {
        (c.field, c.func): i for i, c in enumerate(children) if type(c) is Cond and c.op == "null"
    }
    if not nulls:
        return children
    out: list[Node | None] = list(children)
    for i, c in enumerate(children):
        if type(c) is not Cond or c.op == "null":
            continue
        j = nulls.get((c.field, c.func))
        entry = OPERATORS[c.op]
        comp = entry.complement
        if j is None or out[j] is None or comp is None or not entry.complement_needs_null:
            continue
        back = OPERATORS.get(comp)
        if back is None or back.complement != c.op or not back.complement_needs_null:
            continue
        # The pair takes the place of its first member.
        out[min(i, j)] = Not(Cond(c.field, c.func, comp, c.value))
        out[max(i, j)] = None
    return [n for n in out if n is not None]


def negate(node: Node) -> Node:
    """Return the node matching exactly the rows ``node`` does not (NULLs included)."""
    t = type(node)
    if t is Cond:
        assert isinstance(node, Cond)
        entry = OPERATORS[node.op]
        if entry.complement is None or entry.complement not in OPERATORS:
            raise InvalidQuery(
                f"lookup {_cond_text(node)!r}: operator {node.op!r} has no known "
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
        parts: list[Node] = []
        for c in node.children:
            n = negate(c)
            parts.extend(n.children if type(n) is And else (n,))
        # Each part came from its own alternative, so paths on one field must match
        # independently: keep Directus from folding them into one related item.
        fields = [p.field for p in parts if type(p) is Rel]
        shared = {f for f in fields if fields.count(f) > 1}
        return make_and(
            attrs.evolve(p, independent=True) if type(p) is Rel and p.field in shared else p
            for p in parts
        )
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


# -------------------------------------------------------------------------- parsing


def _cond(field: str, func: str | None, op: str, value: Any, where: str) -> Cond:
    op, value = make_condition_value(where, op, value)
    return Cond(field, func, op, value)


def _nest(path: Iterable[str], node: Node) -> Node:
    for seg in reversed(list(path)):
        node = Rel(seg, node)
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
    if isinstance(value, Q):
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
                parts.append(make_and(subs))
            elif subs and EMPTY not in subs:
                parts.append(make_or(subs))
            # else: Directus treats an `_or` holding `{}` (or nothing) as matching all.
        elif not isinstance(key, str) or not key:
            raise InvalidQuery(f"{where}: empty or non-str field name {key!r}")
        elif key.startswith("_"):
            raise InvalidQuery(f"{where}: operator {key!r} needs a field")
        else:
            parts.append(_parse_field(key, value, (), where))
    return make_and(parts)


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
                parts.append(Rel(field, sub))
    return make_and(parts)


# ------------------------------------------------------------------------ compiling


def _value_json(value: Any) -> Any:
    t = type(value)
    return to_json(value) if t is tuple or t is JSONObject else value


def _cond_json(key: str, op: str, value: Any) -> dict[str, Any]:
    if op == "nicontains":
        # Directus 12 refuses `_nicontains` on every field type; `_nistarts_with` with a
        # leading `%` yields the identical SQL, LOWER(col) NOT LIKE '%value%'.
        return {key: {"_nistarts_with": "%" + value}}
    return {key: {"_" + op: _value_json(value)}}


def _complement_json(c: Cond, with_null: bool) -> dict[str, Any]:
    entry = OPERATORS[c.op]
    assert entry.complement is not None
    neg = _cond_json(c.key, entry.complement, c.value)
    if not (with_null and entry.complement_needs_null):
        return neg
    return {"_or": [neg, {c.key: {"_null": True}}]}


def _cond_text(c: Cond) -> str:
    return "__".join((c.field, *((c.func,) if c.func else ()), c.op))


def _rel_text(node: Node) -> str:
    """Return a lookup-like name for error messages."""
    if type(node) is Rel:
        assert isinstance(node, Rel)
        return f"{node.field}__{_rel_text(node.child)}"
    if type(node) is Cond:
        assert isinstance(node, Cond)
        return _cond_text(node)
    return "..."


def _needs_schema(rel: Rel) -> SchemaRequired:
    text = _rel_text(rel)
    rest = text[len(rel.field) + 2 :]
    return SchemaRequired(
        f"filter {text!r}: negating a condition behind relation {rel.field!r} needs to "
        f"know whether {rel.field!r} is many-to-one or one-to-many. Say it is one-to-many "
        f"with '{rel.field}__some__{rest}' (negates to __none__), or compile with a "
        "schema: to_dict(schema=...) / to_params(schema=...) (the client passes it for you)"
    )


def _raw_conjuncts(node: Node, out: list[Any]) -> None:
    if type(node) is And:
        assert isinstance(node, And)
        for c in node.children:
            _raw_conjuncts(c, out)
    elif type(node) is Rel:
        assert isinstance(node, Rel)
        inner: list[Any] = []
        _raw_conjuncts(node.child, inner)
        out.extend({node.field: part} for part in inner)
    else:
        out.append(_json(node))


def _json(node: Node) -> Any:
    """Return a node's filter JSON as written, unchecked (``repr`` spells nodes with it)."""
    t = type(node)
    if t is Cond:
        assert isinstance(node, Cond)
        return _cond_json(node.key, node.op, node.value)
    if t is And or t is Rel:
        parts: list[Any] = []
        _raw_conjuncts(node, parts)
        if len(parts) == 1:
            return parts[0]
        return {"_and": parts} if parts else {}
    if t is Or:
        assert isinstance(node, Or)
        return {"_or": [_json(c) for c in node.children]}
    if t is Not:
        assert isinstance(node, Not)
        if type(node.child) is Rel:
            raise _needs_schema(node.child)
        assert isinstance(node.child, Cond)
        return _complement_json(node.child, True)
    assert isinstance(node, Quant)
    return {node.field: {"_" + node.kind: _json(node.child)}}


def honoured(quantified: Any) -> bool:
    """Return whether Directus 12 applies a ``_some``/``_none`` holding this filter.

    Its query runner (``getOperation``) follows the first key of each object down to an
    operator and skips the whole condition when there is none: an empty filter, one that
    starts with ``_and``/``_or``, or one with several keys (made an ``_and`` first).
    """
    if not isinstance(quantified, Mapping) or len(quantified) != 1:
        return False
    ((key, value),) = quantified.items()
    if key in ("_and", "_or"):
        return False
    if key in ("_some", "_none"):
        return honoured(value)
    if key.startswith("_") or not isinstance(value, Mapping):
        return True
    return honoured(value)


def _nullable(node: Node) -> bool:
    """Return whether a node may hold on a row of NULLs (erring towards True)."""
    t = type(node)
    if t is Cond:
        assert isinstance(node, Cond)
        # count() of a one-to-many field is 0 there, which may well match.
        return node.op in ("null", "empty") or node.func == "count"
    if t is And:
        assert isinstance(node, And)
        return all(_nullable(c) for c in node.children)
    if t is Or:
        assert isinstance(node, Or)
        return any(_nullable(c) for c in node.children)
    if t is Rel:
        assert isinstance(node, Rel)
        return _nullable(node.child)
    return True  # Not: the complement OR _null; Quant: not inside a path


def _has_paths(node: Node) -> bool:
    """Return whether a node holds relational paths (outside quantifiers)."""
    t = type(node)
    if t is And or t is Or:
        assert isinstance(node, And | Or)
        return any(_has_paths(c) for c in node.children)
    return t is Rel or (t is Not and type(node.child) is Rel)  # type: ignore[union-attr]


_KIND_NAMES = {"m2o": "many-to-one", "o2m": "one-to-many", "m2a": "many-to-any"}
_SCHEMA_HINT = "compile with a schema: to_dict(schema=...) / to_params(schema=...)"
_Path: TypeAlias = tuple[str, ...]


class _Compiler:
    """Compile a node for Directus, with the relation kinds when a schema is given.

    Directus runs a filter as one query, a *scope* (``_some``/``_none`` open their own, as
    subqueries over the real related items). In a scope it LEFT JOINs each plain
    relational path once and keeps a row when *some* combination of joined rows passes
    the whole WHERE clause. Through many-to-one fields that is exactly the Q semantics (a
    missing item reads as NULLs). Through a one-to-many field it is "some related item
    matches" only when

    - the path's conditions cannot hold on the row of NULLs joined when nothing is
      related: otherwise ``count(field) > 0`` is ANDed in, or ``_some`` used; and
    - no ``&`` has conditions on the path in two of its operands (they would read the
      same joined item, as ``Rel`` nodes merged by ``make_and`` mean to, but these were
      not merged): those go to ``_some``, one subquery each.

    Directus skips a ``_some``/``_none`` holding several conditions, so a quantifier
    over anything that does not compile to one condition chain (or an ``_or`` of them,
    distributed) is refused. Without a schema every relational field may be one-to-many,
    so a case the two kinds compile differently raises ``SchemaRequired``.
    """

    def __init__(self, schema: Schema | None) -> None:
        self.schema = schema
        #: scope-root Rel nodes compiled as a quantifier -> their JSON
        self.decisions: dict[Node, Any] = {}
        #: how many count() guards were added
        self.guards = 0

    def relation(self, field: str, coll: str | None) -> Relation | None:
        if self.schema is None or coll is None:
            return None
        return self.schema.relation(field, coll)

    # ------------------------------------------------------------------ planning

    def scope(self, node: Node, coll: str | None) -> Any:
        """Compile a node as a filter of its own (the whole filter, or a quantifier's)."""
        saved, self.decisions = self.decisions, {}
        try:
            self.plan(node, coll)
            return self.json(node, coll, ())
        finally:
            self.decisions = saved

    def plan(self, node: Node, coll: str | None) -> None:
        """Pick the scope-root one-to-many paths to compile as _some; refuse the rest."""
        if not _has_paths(node):
            return
        conflicts: dict[_Path, tuple[Rel, str | None]] = {}
        self.occurrences(node, coll, (), conflicts)
        roots: list[tuple[Rel, Relation]] = []
        self._roots(node, coll, roots)
        for rel, r in roots:
            if rel not in self.decisions and (
                (rel.field,) in conflicts or _nullable(rel.child)
            ):
                try:
                    form = self.quantified(rel.field, "some", rel.child, r.related)
                except InvalidQuery:
                    form = None
                if form is not None:
                    self.decisions[rel] = form
        if self.decisions and conflicts:
            conflicts.clear()
            self.occurrences(node, coll, (), conflicts)
        for path, (rel, where) in conflicts.items():
            raise self._shared(path, rel, where)

    def _roots(self, node: Node, coll: str | None, out: list[tuple[Rel, Relation]]) -> None:
        t = type(node)
        if t is And or t is Or:
            assert isinstance(node, And | Or)
            for c in node.children:
                self._roots(c, coll, out)
        elif t is Rel:
            assert isinstance(node, Rel)
            r = self.relation(node.field, coll)
            if r is not None and r.kind == "o2m":
                out.append((node, r))

    def occurrences(
        self,
        node: Node,
        coll: str | None,
        path: _Path,
        conflicts: dict[_Path, tuple[Rel, str | None]],
    ) -> dict[_Path, tuple[Rel, str | None]]:
        """Return the plain joins of paths that may be one-to-many; note shared ones."""
        t = type(node)
        if t is And or t is Or:
            assert isinstance(node, And | Or)
            seen: dict[_Path, tuple[Rel, str | None]] = {}
            for c in node.children:
                if type(c) is Cond:
                    continue
                for p, info in self.occurrences(c, coll, path, conflicts).items():
                    if p in seen and t is And:
                        conflicts.setdefault(p, info)
                    seen.setdefault(p, info)
            return seen
        if t is Rel:
            assert isinstance(node, Rel)
            if not path and node in self.decisions:
                return {}
            r = self.relation(node.field, coll)
            key = (*path, node.field)
            inner = self.occurrences(node.child, r.related if r else None, key, conflicts)
            if r is None or r.kind == "o2m":
                inner[key] = (node, coll)
            return inner
        if t is Not and type(node.child) is Rel:  # type: ignore[union-attr]
            assert isinstance(node, Not) and isinstance(node.child, Rel)
            r = self.relation(node.child.field, coll)
            if r is not None and r.kind == "m2o":
                key = (*path, node.child.field)
                return self.occurrences(negate(node.child.child), r.related, key, conflicts)
        return {}  # conditions; quantifiers and _none run as subqueries

    def _shared(self, path: _Path, rel: Rel, coll: str | None) -> InvalidQuery:
        text = _rel_text(rel)
        r = self.relation(rel.field, coll)
        if self.schema is None:
            return SchemaRequired(
                f"filter {text!r}: several conditions through {rel.field!r} sit in "
                f"different operands of an AND (as after negating an OR), so each must "
                f"match on its own; through a one-to-many field Directus would check them "
                f"against the same item. Use __some__ for one-to-many paths, or "
                f"{_SCHEMA_HINT}"
            )
        where = f"{coll}.{rel.field}"
        if r is None:
            why = f"{where} is unknown to the schema"
        elif len(path) > 1:
            why = f"{where} is one-to-many behind a many-to-one path"
        else:
            why = f"Directus skips a _some holding several conditions ({text!r})"
        return InvalidQuery(
            f"filter {text!r}: conditions through {rel.field!r} in different operands of "
            "an AND must match independently, which needs _some on a one-to-many field of "
            f"the collection being filtered, but {why}"
        )

    # ----------------------------------------------------------------- compiling

    def quantified(self, field: str, kind: str, child: Node, related: str | None) -> Any:
        """Return ``{field: {_some|_none: ...}}`` in a form Directus applies, or None."""
        inner = self.scope(child, related)
        if not inner:
            return {f"count({field})": {"_gt": 0} if kind == "some" else {"_eq": 0}}
        if honoured(inner):
            return {field: {"_" + kind: inner}}
        alternatives = inner.get("_or") if len(inner) == 1 else None
        if alternatives and all(honoured(a) for a in alternatives):
            parts = [{field: {"_" + kind: a}} for a in alternatives]
            return {"_or": parts} if kind == "some" else {"_and": parts}
        return None

    def json(self, node: Node, coll: str | None, path: _Path) -> Any:
        t = type(node)
        if t is Cond:
            assert isinstance(node, Cond)
            return _cond_json(node.key, node.op, node.value)
        if t is And or t is Rel:
            parts: list[Any] = []
            guards = self.guards
            self.conjuncts(node, coll, path, parts)
            if self.guards != guards:
                # A count() guard may repeat a condition already there.
                parts = [p for i, p in enumerate(parts) if p not in parts[:i]]
            if len(parts) == 1:
                return parts[0]
            return {"_and": parts} if parts else {}
        if t is Or:
            assert isinstance(node, Or)
            return {"_or": [self.json(c, coll, path) for c in node.children]}
        if t is Not:
            assert isinstance(node, Not)
            return self.negative(node.child, coll, path)
        assert isinstance(node, Quant)
        rel = self.relation(node.field, coll)
        if rel is not None and rel.kind != "o2m":
            raise InvalidQuery(
                f"filter: {coll}.{node.field} is {_KIND_NAMES[rel.kind]}, but _{node.kind} "
                "needs a one-to-many field"
            )
        form = self.quantified(node.field, node.kind, node.child, rel.related if rel else None)
        if form is None or path:
            raise InvalidQuery(
                f"filter {node.field}__{node.kind}: Directus 12 applies _{node.kind} only "
                "to one condition (or an OR of single conditions) on a one-to-many field "
                "of the collection being filtered, and skips it otherwise; these "
                f"conditions are ANDed: {Q._wrap(node.child)!r}. Write them as plain "
                f"paths in one Q ({node.field}__a=..., {node.field}__b=...), which Directus "
                "checks against one related item"
            )
        return form

    def conjuncts(self, node: Node, coll: str | None, path: _Path, out: list[Any]) -> None:
        t = type(node)
        if t is And:
            assert isinstance(node, And)
            for c in node.children:
                self.conjuncts(c, coll, path, out)
        elif t is Rel:
            assert isinstance(node, Rel)
            form = None if path else self.decisions.get(node)
            if form is not None:
                out.append(form)
                return
            rel = self.relation(node.field, coll)
            guard = None
            if (rel is None or rel.kind == "o2m") and _nullable(node.child):
                if rel is None:
                    raise self._nullable_unknown(node, coll)
                # Nothing related joins a row of NULLs; the condition must not see it.
                guard = {f"count({node.field})": {"_gt": 0}}
                self.guards += 1
            inner: list[Any] = []
            self.conjuncts(node.child, rel.related if rel else None, (*path, node.field), inner)
            out.extend({node.field: part} for part in inner)
            if guard is not None:
                out.append(guard)
        else:
            out.append(self.json(node, coll, path))

    def _nullable_unknown(self, rel: Rel, coll: str | None) -> InvalidQuery:
        text = _rel_text(rel)
        if self.schema is None:
            rest = text[len(rel.field) + 2 :]
            return SchemaRequired(
                f"filter {text!r}: the condition behind relation {rel.field!r} also holds "
                "for NULL, which means a missing item through a many-to-one field but not "
                "through a one-to-many one (where Directus would match items with nothing "
                f"related). Say it is one-to-many with '{rel.field}__some__{rest}', or "
                f"{_SCHEMA_HINT} (the client passes it for you)"
            )
        return InvalidQuery(
            f"filter {text!r}: the condition behind {rel.field!r} also holds for NULL, and "
            f"{coll}.{rel.field} is unknown to the schema, so it cannot be compiled exactly"
        )

    def negative(self, child: Cond | Rel, coll: str | None, path: _Path) -> Any:
        if type(child) is Cond:
            assert isinstance(child, Cond)
            rel = self.relation(child.field, coll)
            # count() of a one-to-many relation is a COUNT subquery: 0, never NULL.
            counted = child.func == "count" and rel is not None and rel.kind == "o2m"
            return _complement_json(child, not counted)
        assert isinstance(child, Rel)
        if self.schema is None:
            raise _needs_schema(child)
        text = _rel_text(child)
        rel = self.relation(child.field, coll)
        if rel is None:
            raise InvalidQuery(
                f"filter {text!r}: cannot negate: the schema has no relation {coll}.{child.field}"
            )
        if rel.kind == "o2m":
            if path:
                raise InvalidQuery(
                    f"filter {text!r}: cannot negate: {child.field!r} is one-to-many "
                    "behind a many-to-one path, and Directus accepts _none only on a "
                    "one-to-many field of the collection being filtered"
                )
            form = self.quantified(child.field, "none", child.child, rel.related)
            if form is None:
                raise InvalidQuery(
                    f"filter {text!r}: cannot negate: the complement is _none of several "
                    f"conditions ANDed on one {child.field!r} item, and Directus 12 skips "
                    "a _none holding more than one condition. Negate them one by one "
                    f"(~Q({child.field}__a=...) | ~Q({child.field}__b=...)) if that is meant"
                )
            return form
        if rel.kind == "m2a":
            raise InvalidQuery(
                f"filter {text!r}: cannot negate through the many-to-any field {child.field!r}"
            )
        # Many-to-one: a missing related item reads as a row of NULLs, so the
        # complement of the condition under the same path is exact.
        inner = self.json(negate(child.child), rel.related, (*path, child.field))
        return _prefix(child.field, inner)


def _prefix(seg: str, obj: dict[str, Any]) -> dict[str, Any]:
    # Keep every condition its own object, joined by _and/_or at the top.
    if "_or" in obj:
        alternatives: list[Any] = []
        for o in obj["_or"]:
            p = _prefix(seg, o)
            alternatives.extend(p.get("_or", (p,)))
        return {"_or": alternatives}
    if "_and" in obj:
        return {"_and": [_prefix(seg, o) for o in obj["_and"]]}
    return {seg: obj}


def compile_filter(node: Node, schema: Schema | None = None) -> dict[str, Any]:
    """Return the Directus filter object for a node (``{}`` for the empty filter)."""
    coll = schema.collection if schema is not None else None
    out: dict[str, Any] = _Compiler(schema).scope(node, coll)
    return out


# ---------------------------------------------------------------------------- repr


def _value_repr(value: Any) -> str:
    if type(value) is tuple:
        return "[" + ", ".join(_value_repr(v) for v in value) + "]"
    return repr(value)


def _leaves(node: Node, prefix: str = "") -> list[tuple[str, Any, Node]] | None:
    """Return ``(lookup, value, node)`` triples spelling a node as Q kwargs, if they can."""
    t = type(node)
    if t is Cond:
        assert isinstance(node, Cond)
        return [(prefix + _cond_text(node), node.value, node)]
    if t is Rel:
        assert isinstance(node, Rel)
        if node.independent:
            return None
        inner = _leaves(node.child, f"{prefix}{node.field}__")
        return [(k, v, Rel(node.field, n)) for k, v, n in inner] if inner is not None else None
    if t is And:
        assert isinstance(node, And)
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
        return [(head, Q._wrap(node.child), node)]
    return None


def _spells(key: str, value: Any, node: Node) -> bool:
    try:
        return parse_lookup(key, value if isinstance(value, Q) else to_json(value)) == node
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
    return f"Q({_json(node)!r})"


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
        # Alone, an independent path means what a plain one does.
        return _atom(attrs.evolve(node, independent=False)), 3
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
    independent: dict[str, list[Rel]] = {}

    def flush() -> None:
        nonlocal group, keys
        if group:
            pieces.append(_atom(make_and(group)))
        group, keys = [], set()

    for c in node.children:
        if isinstance(c, Rel) and c.independent:
            independent.setdefault(c.field, []).append(c)
            continue
        names = _spellable(c)
        if names is not None and len(set(names)) == len(names):
            if keys & set(names):
                flush()
            group.append(c)
            keys |= set(names)
            continue
        flush()
        text, prec = _expr(c) if names is None else (_atom(c), 3)
        pieces.append(text if prec >= 2 else f"({text})")
    flush()
    for rels in independent.values():
        # Independent paths arise from negating an OR of negated paths; rebuild them so.
        alternatives = " | ".join("~" + _atom(attrs.evolve(r, independent=False)) for r in rels)
        pieces.append(f"~({alternatives})")
    return " & ".join(pieces), (3 if len(pieces) == 1 else 2)


def node_repr(node: Node) -> str:
    """Return Python source that rebuilds the node as Q objects."""
    return _expr(node)[0]


# ------------------------------------------------------------------------------- Q


def combine(where: str, qs: Iterable[Any], lookups: Mapping[str, Any]) -> Node:
    """AND together Q objects, raw Directus filter dicts and lookups into one node."""
    nodes: list[Node] = []
    for q in qs:
        if isinstance(q, Q):
            nodes.append(q.node)
        elif isinstance(q, Mapping):
            nodes.append(parse_filter(q))
        else:
            raise InvalidQuery(
                f"{where}(): expected Q objects or filter dicts, got {type(q).__name__}"
            )
    nodes.extend(parse_lookup(key, value) for key, value in lookups.items())
    return make_and(nodes)


@attrs.frozen(init=False, repr=False)
class Q:
    """A filter condition: ``Q(field__op=value, ...)``, combined with ``&``, ``|``, ``~``.

    Several lookups (and positional Q objects or raw Directus filter dicts) AND together.
    ``Q()`` matches everything and is neutral: ``Q() & A == A == Q() | A``, ``~Q() == Q()``.
    ``~A`` selects exactly the rows ``A`` does not, rows with NULLs included.
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

    def __and__(self, other: Q) -> Q:
        if not isinstance(other, Q):
            return NotImplemented
        return Q._wrap(make_and((self.node, other.node)))

    def __or__(self, other: Q) -> Q:
        if not isinstance(other, Q):
            return NotImplemented
        return Q._wrap(make_or((self.node, other.node)))

    def __invert__(self) -> Q:
        return Q._wrap(negate(self.node))

    def __repr__(self) -> str:
        text, prec = _expr(self.node)
        return text if prec == 3 else f"({text})"
