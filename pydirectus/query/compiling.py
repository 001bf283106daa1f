"""Compiling filter trees to Directus filter JSON, exactly as Directus 12 runs it.

Directus 12 runs plain paths as LEFT JOINs, one per path for the whole filter, so the
compiler (``_Compiler``) only emits a plain one-to-many path where that means the same:
it uses ``_some`` (or ANDs in ``count(field) > 0``) where a condition holds on the row of
NULLs joined when nothing is related, or where separate ``Rel`` nodes on one path must
each find their own related item; it refuses (``InvalidQuery``) what Directus cannot
say, such as ``_none`` of several ANDed conditions, which Directus 12 silently skips.
Without a ``Schema`` a path the two kinds compile differently raises ``SchemaRequired``.

Directus reads only the first key of a nested object and no ``_and``/``_or`` below a
field, so compiled filters give every condition its own object and join them with
``_and``. ``pk`` as a field name stands for the primary key the schema knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

from pydirectus.errors import InvalidQuery, SchemaRequired
from pydirectus.query.negation import negate
from pydirectus.query.nodes import (
    And,
    Cond,
    Node,
    Not,
    Or,
    Quant,
    Rel,
    cond_text,
    never,
    rel_text,
)
from pydirectus.query.raw import complement_json, cond_json, needs_schema, prefix
from pydirectus.query.rendering import q_repr

if TYPE_CHECKING:
    from pydirectus.query.schema import Relation, Schema

__all__ = ["PK", "compile_filter", "honoured"]

#: the field name standing for the primary key, as in Django
PK = "pk"


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

    def key(self, cond: Cond, coll: str | None) -> str:
        """Return the Directus key of a condition, ``pk`` read as the primary key."""
        if cond.field != PK:
            return cond.key
        pk = self.schema.primary_key(coll) if self.schema is not None and coll else None
        if pk is None:
            where = f"collection {coll!r}" if coll else "the collection"
            raise SchemaRequired(
                f"filter {cond_text(cond)!r}: 'pk' stands for the primary key of {where}, "
                f"which is unknown here; {_SCHEMA_HINT} knowing its primary key (the client "
                "passes it for you), or name the field"
            )
        return f"{cond.func}({pk})" if cond.func else pk

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
        text = rel_text(rel)
        r = self.relation(rel.field, coll)
        if self.schema is None:
            return SchemaRequired(
                f"filter {text!r}: conditions through {rel.field!r} come from separate "
                "filter() calls or Q objects (or a negated OR), so each finds its own "
                f"related item; that takes _some if {rel.field!r} is one-to-many and a "
                "plain path if it is many-to-one, and the kind is unknown here. Say "
                f"{rel.field}__some__... in each call if it is one-to-many, give the "
                f"conditions in one filter() call if it is many-to-one, or {_SCHEMA_HINT} "
                "(the client passes it when the token may read /relations)"
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
        if never(child):
            # `in []` on the related items: no item matches, so _some selects nothing and
            # _none everything, which a count says in a form Directus runs.
            return {f"count({field})": {"_lt": 0} if kind == "some" else {"_gte": 0}}
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
            return cond_json(self.key(node, coll), node.op, node.value)
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
                f"conditions are ANDed: {q_repr(node.child)}. Write them as plain "
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
            # Directus reads no _and/_or below a field: distribute the path over them.
            out.extend(prefix(node.field, part) for part in inner)
            if guard is not None:
                out.append(guard)
        else:
            out.append(self.json(node, coll, path))

    def _nullable_unknown(self, rel: Rel, coll: str | None) -> InvalidQuery:
        text = rel_text(rel)
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
            return complement_json(child, self.key(child, coll), not counted)
        assert isinstance(child, Rel)
        if self.schema is None:
            raise needs_schema(child)
        text = rel_text(child)
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
        return prefix(child.field, inner)


def compile_filter(node: Node, schema: Schema | None = None) -> dict[str, Any]:
    """Return the Directus filter object for a node (``{}`` for the empty filter)."""
    coll = schema.collection if schema is not None else None
    out: dict[str, Any] = _Compiler(schema).scope(node, coll)
    return out
