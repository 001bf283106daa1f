"""Filter trees: ``Q`` objects, their nodes, negation, and Directus filter JSON.

A filter is a tree of frozen nodes:

``Cond``   one condition: a relational ``path``, a field (maybe under a function),
           an operator and a value;
``And`` / ``Or``  their children, flattened, without duplicates, never empty or single;
``Quant``  ``_some`` / ``_none`` over a one-to-many field, with a filter for the related items;
``Not``    a negated condition whose complement cannot be written yet.

The tree is kept in negation normal form: ``~`` is pushed through ``&``/``|`` (De Morgan)
and quantifiers (``_some`` <-> ``_none``) as it is applied, and a condition on a field of
the queried collection becomes its complement (``_null`` <-> ``_nnull``) or a ``Not``
that compiles to ``<complement> OR _null``. A negated condition under a relational path
stays a ``Not`` until compile time, since only a ``Schema`` tells a many-to-one path
(complement the condition, keep the path) from a one-to-many one (``_some`` becomes
``_none``, condition kept).

Canonical forms, so that equal meaning built the same way compares equal and
``parse_filter(compile_filter(node)) == node``: ``eq None`` is ``null True``; flags are
stored as True (``null False`` is ``nnull True``); ``X OR field _null`` where X is a
null-skipping operator on a plain field is stored as ``Not(complement of X)``; ``Q()``
is neutral to both ``&`` and ``|``, as in Django. Directus itself reads only the first
key of a nested object, so compiled filters put every condition in its own object and
join them with ``_and``.
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
    "compile_filter",
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
    """One condition: ``path`` relations, then ``func(field)`` compared by ``op``."""

    path: tuple[str, ...]
    field: str
    func: str | None
    op: str
    value: Any = attrs.field(eq=_strict)

    @property
    def key(self) -> str:
        """Return the Directus key of the field, e.g. ``year(date)``."""
        return f"{self.func}({self.field})" if self.func else self.field


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
    """The complement of a condition (kept until compile time)."""

    child: Cond


@attrs.frozen
class Quant:
    """Some (``kind="some"``) or no (``"none"``) related item of ``field`` matches ``child``."""

    field: str
    kind: str
    child: Node


Node: TypeAlias = Cond | And | Or | Not | Quant

#: The empty filter: matches everything, neutral to ``&`` and ``|``.
EMPTY = And(())


# ---------------------------------------------------------------------- combination


def make_and(nodes: Iterable[Node]) -> Node:
    """Return the conjunction of nodes, flattened and without duplicates."""
    out: dict[Node, None] = {}
    for n in nodes:
        if type(n) is And:
            out.update(dict.fromkeys(n.children))
        else:
            out[n] = None
    if len(out) == 1:
        return next(iter(out))
    return And(tuple(out)) if out else EMPTY


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
        (c.field, c.func): i
        for i, c in enumerate(children)
        if type(c) is Cond and c.op == "null" and not c.path
    }
    if not nulls:
        return children
    out: list[Node | None] = list(children)
    for i, c in enumerate(children):
        if type(c) is not Cond or c.path or c.op == "null":
            continue
        j = nulls.get((c.field, c.func))
        entry = OPERATORS[c.op]
        comp = entry.complement
        if j is None or out[j] is None or comp is None or not entry.complement_needs_null:
            continue
        back = OPERATORS.get(comp)
        if back is None or back.complement != c.op or not back.complement_needs_null:
            continue
        out[i] = Not(Cond((), c.field, c.func, comp, c.value))
        out[j] = None
    return [n for n in out if n is not None]


def negate(node: Node) -> Node:
    """Return the node matching exactly the rows ``node`` does not (NULLs included)."""
    t = type(node)
    if t is Cond:
        assert isinstance(node, Cond)
        entry = OPERATORS[node.op]
        if entry.complement is None or entry.complement not in OPERATORS:
            raise InvalidQuery(
                f"lookup {_lookup_text(node)!r}: operator {node.op!r} has no known "
                "complement, so it cannot be negated"
            )
        if not node.path and not entry.complement_needs_null:
            return Cond((), node.field, node.func, entry.complement, node.value)
        return Not(node)
    if t is Not:
        assert isinstance(node, Not)
        return node.child
    if t is And:
        assert isinstance(node, And)
        return make_or(negate(c) for c in node.children) if node.children else EMPTY
    if t is Or:
        assert isinstance(node, Or)
        return make_and(negate(c) for c in node.children)
    assert isinstance(node, Quant)
    return Quant(node.field, "none" if node.kind == "some" else "some", node.child)


# -------------------------------------------------------------------------- parsing


def _cond(
    path: tuple[str, ...], field: str, func: str | None, op: str, value: Any, where: str
) -> Cond:
    op, value = make_condition_value(where, op, value)
    return Cond(path, field, func, op, value)


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
    frames: list[tuple[str, str]] = []
    scope: list[str] = []
    segments = parts if child is not None else parts[:-1]
    for seg in segments:
        if seg in QUANTIFIERS:
            if len(scope) != 1:
                raise InvalidQuery(
                    f"{where}: {seg!r} must come right after a one-to-many field of the "
                    "collection being filtered (or of the items inside an outer "
                    "__some__/__none__); Directus accepts _some/_none nowhere else"
                )
            frames.append((scope[0], seg))
            scope = []
        else:
            scope.append(seg)
    node: Node
    if child is not None:
        node = child
    else:
        field, func = parts[-1], None
        if len(scope) >= 1 and field in FUNCTIONS:
            func, field = field, scope.pop()
        elif scope and (hint := transposed(field, FUNCTIONS)):
            raise InvalidQuery(f"{where}: unknown function {field!r} (did you mean {hint!r}?)")
        if field in QUANTIFIERS:
            raise InvalidQuery(
                f"{where}: {field!r} must be followed by a field, or take a Q: '{key}=Q(...)'"
            )
        node = _cond(tuple(scope), field, func, op, value, where)
    for field, kind in reversed(frames):
        node = Quant(field, kind, node)
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
        return _cond(path, field, func, "eq", value, here)
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
            parts.append(Quant(field, k[1:], parse_filter(v, f"{here}.{k}")))
        elif k == "_and" or k == "_or":
            raise InvalidQuery(
                f"{here}: Directus ignores {k} inside a field; put it at the top of the "
                "filter (or inside _some/_none)"
            )
        elif k.startswith("_"):
            op = k[1:]
            if op not in OPERATORS:
                raise unknown_operator(f"{here}", k)
            if op in _LIST_OPERATORS and isinstance(v, str):
                v = v.split(",")  # Directus accepts CSV strings for these
            parts.append(_cond(path, field, func, op, v, f"{here}.{k}"))
        elif func:
            raise InvalidQuery(f"{here}: a function result has no fields ({k!r})")
        else:
            parts.append(_parse_field(k, v, (*path, field), where))
    return make_and(parts)


# ------------------------------------------------------------------------ compiling


def _value_json(value: Any) -> Any:
    t = type(value)
    return to_json(value) if t is tuple or t is JSONObject else value


def _cond_json(path: tuple[str, ...], key: str, op: str, value: Any) -> dict[str, Any]:
    if op == "nicontains":
        # Directus 12 refuses `_nicontains` on every field type; `_nistarts_with` with a
        # leading `%` yields the identical SQL, LOWER(col) NOT LIKE '%value%'.
        out: dict[str, Any] = {key: {"_nistarts_with": "%" + value}}
    else:
        out = {key: {"_" + op: _value_json(value)}}
    for seg in reversed(path):
        out = {seg: out}
    return out


def _complement_json(c: Cond, with_null: bool) -> dict[str, Any]:
    entry = OPERATORS[c.op]
    assert entry.complement is not None
    neg = _cond_json((), c.key, entry.complement, c.value)
    if not (with_null and entry.complement_needs_null):
        return neg
    return {"_or": [neg, {c.key: {"_null": True}}]}


def _lookup_text(c: Cond) -> str:
    return "__".join((*c.path, c.field, *((c.func,) if c.func else ()), c.op))


def _needs_schema(c: Cond) -> SchemaRequired:
    first = c.path[0]
    text = _lookup_text(c)
    rest = text[len(first) + 2 :]
    return SchemaRequired(
        f"filter {text!r}: negating a condition behind relation {first!r} needs to know "
        f"whether {first!r} is many-to-one or one-to-many. Say it is one-to-many with "
        f"'{first}__some__{rest}' (negates to __none__), or compile with a schema: "
        "to_dict(schema=...) / to_params(schema=...) (the client passes it for you)"
    )


def _json(node: Node) -> Any:
    t = type(node)
    if t is Cond:
        assert isinstance(node, Cond)
        return _cond_json(node.path, node.key, node.op, node.value)
    if t is And:
        assert isinstance(node, And)
        return {"_and": [_json(c) for c in node.children]} if node.children else {}
    if t is Or:
        assert isinstance(node, Or)
        return {"_or": [_json(c) for c in node.children]}
    if t is Not:
        assert isinstance(node, Not)
        if node.child.path:
            raise _needs_schema(node.child)
        return _complement_json(node.child, True)
    assert isinstance(node, Quant)
    return {node.field: {"_" + node.kind: _json(node.child)}}


class _SchemaCompiler:
    """Compile with relation kinds known: ``_some`` made explicit, negations resolved."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def node(self, node: Node, coll: str | None) -> Any:
        if coll is None:
            return _json(node)
        t = type(node)
        if t is Cond:
            assert isinstance(node, Cond)
            return self.positive(node, coll)
        if t is And:
            assert isinstance(node, And)
            return {"_and": [self.node(c, coll) for c in node.children]} if node.children else {}
        if t is Or:
            assert isinstance(node, Or)
            return {"_or": [self.node(c, coll) for c in node.children]}
        if t is Not:
            assert isinstance(node, Not)
            return self.negative(node.child, node.child, coll, True)
        assert isinstance(node, Quant)
        rel = self.schema.relation(node.field, coll)
        if rel is not None and rel.kind != "o2m":
            raise InvalidQuery(
                f"filter: {coll}.{node.field} is {_KIND_NAMES[rel.kind]}, but _{node.kind} "
                "needs a one-to-many field"
            )
        related = rel.related if rel is not None else None
        return {node.field: {"_" + node.kind: self.node(node.child, related)}}

    def positive(self, c: Cond, coll: str) -> Any:
        if c.path:
            rel = self.schema.relation(c.path[0], coll)
            if rel is not None and rel.kind == "o2m" and rel.related is not None:
                # Explicit `_some` keeps each condition its own EXISTS. Directus merges
                # plain one-to-many conditions under one `_and` into a single EXISTS
                # (same related item), which would not be the complement of the
                # `_none` alternatives negation produces.
                rest = attrs.evolve(c, path=c.path[1:])
                return {c.path[0]: {"_some": self.positive(rest, rel.related)}}
        return _cond_json(c.path, c.key, c.op, c.value)

    def negative(self, c: Cond, whole: Cond, coll: str | None, at_root: bool) -> Any:
        if not c.path:
            rel = self.schema.relation(c.field, coll) if coll is not None else None
            # count() of a one-to-many relation is a COUNT subquery: 0, never NULL.
            counted = c.func == "count" and rel is not None and rel.kind == "o2m"
            return _complement_json(c, not counted)
        seg = c.path[0]
        text = _lookup_text(whole)
        rel = self.schema.relation(seg, coll) if coll is not None else None
        if rel is None:
            raise InvalidQuery(
                f"filter {text!r}: cannot negate: the schema has no relation {coll}.{seg}"
            )
        rest = attrs.evolve(c, path=c.path[1:])
        if rel.kind == "o2m":
            if not at_root:
                raise InvalidQuery(
                    f"filter {text!r}: cannot negate: {seg!r} is one-to-many behind a "
                    "many-to-one path, and Directus accepts _none only on a one-to-many "
                    "field of the collection being filtered"
                )
            return {seg: {"_none": self.positive(rest, rel.related or "")}}
        if rel.kind == "m2a":
            raise InvalidQuery(
                f"filter {text!r}: cannot negate through the many-to-any field {seg!r}"
            )
        return _prefix(seg, self.negative(rest, whole, rel.related, False))


_KIND_NAMES = {"m2o": "many-to-one", "o2m": "one-to-many", "m2a": "many-to-any"}


def _prefix(seg: str, obj: dict[str, Any]) -> dict[str, Any]:
    # Directus ignores `_and`/`_or` below a field, so the path goes inside them.
    if "_or" in obj:
        return {"_or": [_prefix(seg, o) for o in obj["_or"]]}
    if "_and" in obj:
        return {"_and": [_prefix(seg, o) for o in obj["_and"]]}
    return {seg: obj}


def compile_filter(node: Node, schema: Schema | None = None) -> dict[str, Any]:
    """Return the Directus filter object for a node (``{}`` for the empty filter)."""
    if schema is None:
        out: dict[str, Any] = _json(node)
        return out
    compiled: dict[str, Any] = _SchemaCompiler(schema).node(node, schema.collection)
    return compiled


# ---------------------------------------------------------------------------- repr


def _value_repr(value: Any) -> str:
    if type(value) is tuple:
        return "[" + ", ".join(_value_repr(v) for v in value) + "]"
    return repr(value)


def _kwarg(node: Node) -> tuple[str, Any] | None:
    """Return ``(lookup, value)`` spelling a Cond/Quant chain, if a lookup can spell it."""
    prefix: list[str] = []
    n = node
    while type(n) is Quant:
        assert isinstance(n, Quant)
        prefix += [n.field, n.kind]
        n = n.child
    if type(n) is Cond:
        assert isinstance(n, Cond)
        key, value = "__".join((*prefix, _lookup_text(n))), n.value
    elif prefix:
        key, value = "__".join(prefix), Q._wrap(n)
    else:
        return None
    try:
        same = parse_lookup(key, to_json(value) if not isinstance(value, Q) else value) == node
    except InvalidQuery:
        same = False
    return (key, value) if same else None


def _kwargs_text(items: list[tuple[str, Any]]) -> str:
    plain = [
        f"{k}={_value_repr(v)}" for k, v in items if k.isidentifier() and not keyword.iskeyword(k)
    ]
    odd = [
        f"{k!r}: {_value_repr(v)}"
        for k, v in items
        if not (k.isidentifier() and not keyword.iskeyword(k))
    ]
    if odd:
        plain.append("**{" + ", ".join(odd) + "}")
    return ", ".join(plain)


def _expr(node: Node) -> tuple[str, int]:
    """Return Python source for a node and its precedence (3 atom, 2 ``&``, 1 ``|``)."""
    if node == EMPTY:
        return "Q()", 3
    t = type(node)
    if t is Cond or t is Quant:
        kw = _kwarg(node)
        return (f"Q({_kwargs_text([kw])})" if kw else f"Q({_json(node)!r})"), 3
    if t is Not:
        assert isinstance(node, Not)
        kw = _kwarg(node.child)
        return (f"~Q({_kwargs_text([kw])})" if kw else f"~Q({_json(node.child)!r})"), 3
    if t is And:
        assert isinstance(node, And)
        pieces: list[str] = []
        group: list[tuple[str, Any]] = []
        for c in node.children:
            kw = _kwarg(c) if type(c) in (Cond, Quant) else None
            if kw is not None and kw[0] not in {k for k, _ in group}:
                group.append(kw)
                continue
            if group:
                pieces.append(f"Q({_kwargs_text(group)})")
                group = []
            if kw is not None:
                group.append(kw)
                continue
            text, prec = _expr(c)
            pieces.append(text if prec >= 2 else f"({text})")
        if group:
            pieces.append(f"Q({_kwargs_text(group)})")
        return " & ".join(pieces), (3 if len(pieces) == 1 else 2)
    assert isinstance(node, Or)
    texts = []
    for c in node.children:
        text, prec = _expr(c)
        texts.append(text if prec >= 3 else f"({text})")
    return " | ".join(texts), 1


def node_repr(node: Node) -> str:
    """Return Python source that rebuilds the node as Q objects."""
    return _expr(node)[0]


# ------------------------------------------------------------------------------- Q


@attrs.frozen(init=False, repr=False)
class Q:
    """A filter condition: ``Q(field__op=value, ...)``, combined with ``&``, ``|``, ``~``.

    Several lookups (and positional Q objects or raw Directus filter dicts) AND together.
    ``Q()`` matches everything and is neutral: ``Q() & A == A == Q() | A``, ``~Q() == Q()``.
    ``~A`` selects exactly the rows ``A`` does not, rows with NULLs included.
    """

    node: Node

    def __init__(self, *args: Q | Mapping[str, Any], **lookups: Any) -> None:
        parts: list[Node] = []
        for arg in args:
            if isinstance(arg, Q):
                parts.append(arg.node)
            elif isinstance(arg, Mapping):
                parts.append(parse_filter(arg))
            else:
                raise InvalidQuery(
                    f"Q(): expected Q objects or filter dicts, got {type(arg).__name__}"
                )
        for key, value in lookups.items():
            parts.append(parse_lookup(key, value))
        self.__attrs_init__(make_and(parts))

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
