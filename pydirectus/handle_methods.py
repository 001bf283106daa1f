"""Django's QuerySet vocabulary on collection handles and bound queries.

``get(**lookups)``, ``get_or_create``, ``update_or_create``, ``in_bulk``, ``values_list``,
``values``, ``q[i]``, and no hidden requests from ``bool()``/``len()``. Everything here
is built on the handle's public chain and read methods (``filter``, ``fields``,
``fetch``, iteration, ``create``, ``update``), so it follows the one read path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .checks import check_key
from .errors import (
    APIError,
    InvalidQuery,
    InvalidRequest,
    MultipleItemsFound,
    NotFound,
    PermissionDenied,
    ServerError,
)
from .query import Q, Query
from .query.checking import check_query
from .query.parts import field_path

if TYPE_CHECKING:
    from .collection import Collection, ItemQuery

__all__ = ["HandleMethods"]

T = TypeVar("T", bound=Mapping[str, Any])

#: keys per request of in_bulk(); long lists go out as SEARCH through the read path
IN_BULK_BATCH = 500
_MISSING: Any = object()
_EXACT = ("__eq", "__exact")


def _value_at(row: Mapping[str, Any], path: str) -> Any:
    """Return the value at a dotted path of a row (None where a relation is empty)."""
    value: Any = row
    for seg in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(seg)
    return value


def _not_unique(exc: APIError) -> bool:
    return isinstance(exc, InvalidRequest) and exc.code == "RECORD_NOT_UNIQUE"


class HandleMethods(Generic[T]):
    """Django-style reads and writes of single items, mixed into handles and bound queries."""

    _handle: Collection[T]
    _query: Query

    if TYPE_CHECKING:

        def _bind(self, query: Query) -> ItemQuery[T]: ...
        def fetch(self) -> Any: ...

    def _compiled(self, query: Query | None = None) -> dict[str, Any]:
        # Names are checked before sending once the schema is known (see _explain).
        if self._handle.route[0] == "items":
            q = self._query if query is None else query
            cache, name = self._handle._schema, self._handle.name
            schema = cache.fields_from(name, fetch=False)
            try:
                check_query(q, schema)
            except InvalidQuery:
                if schema is None:
                    raise
                # The schema may have changed since it was read: judge by today's.
                check_query(q, cache.fields_from(name, refresh=True))
        compile_: Any = super()._compiled  # type: ignore[misc]
        compiled: dict[str, Any] = compile_(query)
        return compiled

    def _explain(self, compiled: Mapping[str, Any], refusal: APIError) -> None:
        """Raise InvalidQuery naming the bad name when a read was refused for one.

        Directus answers an unknown field with 403 (as if forbidden), a function on the
        wrong type with 400 and an aggregate over a relational path with 500. On such an
        answer the schema is read (GET /fields and /relations, once per client, when the
        token may) and the query checked; from then on names are checked before sending.
        """
        if self._handle.route[0] != "items" or not isinstance(
                refusal, PermissionDenied | InvalidRequest | ServerError):
            return
        schema = self._handle._schema.fields_from(self._handle.name)
        if schema is None:
            return
        try:
            query = Query.from_dict(compiled)
        except InvalidQuery:
            return
        try:
            check_query(query, schema)
        except InvalidQuery as exc:
            raise exc from refusal

    # ------------------------------------------------------------------ helpers

    def _primary_key(self) -> str:
        # Learned from what the token may read, else SchemaRequired says how to name it
        # (PermissionDenied when the token may not read the collection at all).
        return self._handle._reads.primary_key_to_read("a primary-key lookup")

    def _resolve_pk(self, lookups: Mapping[str, Any]) -> dict[str, Any]:
        # ``pk`` names the primary key (Django's alias); the handle knows which field it is.
        if not any(k == "pk" or k.startswith("pk__") for k in lookups):
            return dict(lookups)
        pk = self._primary_key()
        return {(pk + k[2:] if k == "pk" or k.startswith("pk__") else k): v
                for k, v in lookups.items()}

    def _matching(self, qs: Sequence[Any], lookups: Mapping[str, Any]) -> ItemQuery[T]:
        return self._bind(self._query.filter(*qs, **self._resolve_pk(lookups)))

    # ------------------------------------------------------------------ chaining

    def filter(self, *qs: Q | Mapping[str, Any], **lookups: Any) -> ItemQuery[T]:
        """Add conditions (AND) that items must match; ``pk`` names the primary key."""
        return self._matching(qs, lookups)

    def exclude(self, *qs: Q | Mapping[str, Any], **lookups: Any) -> ItemQuery[T]:
        """Add conditions (AND NOT) that items must not match, nulls counted as not matching."""
        return self._bind(self._query.exclude(*qs, **self._resolve_pk(lookups)))

    def query(self, query: Query | Mapping[str, Any]) -> ItemQuery[T]:
        """Merge a Query (or Directus query dict) into the bound one: see ``Query.merge``."""
        if not isinstance(query, Query | Mapping):
            raise InvalidQuery(f"query: expected a Query or a dict, got {type(query).__name__}")
        return self._bind(self._query.merge(query))

    def to_dict(self) -> dict[str, Any]:
        """Return the Directus query object, compiled with the client's schema (for presets)."""
        return self._compiled()

    def __getitem__(self, item: int | slice) -> Any:
        """Return item ``i`` (one GET /items/{collection}), or a narrower query for a slice."""
        if isinstance(item, slice):
            return self._bind(self._query[item])
        if isinstance(item, bool) or not isinstance(item, int):
            raise InvalidQuery(f"index: expected an int or a slice, got {item!r}")
        if item < 0:
            raise InvalidQuery(
                f"index {item}: negative indexes are not supported (they would need a "
                "count first); sort the other way (sort('-...')) and index from the start"
            )
        rows = self._bind(self._query[item:item + 1]).fetch()
        if not rows:
            raise IndexError(f"index {item} is past the end of the query")
        return rows[0]

    def __bool__(self) -> bool:
        raise TypeError("a lazy query has no truth value (that would be a hidden request): "
                        "use .exists()")

    def __len__(self) -> int:
        raise TypeError("a lazy query has no len() (that would be a hidden request): "
                        "use .count()")

    # --------------------------------------------------------------- one item

    def get(self, key: Any = _MISSING, /, *qs: Q | Mapping[str, Any], **lookups: Any) -> T:
        """Return the one item matching a key or lookups; NotFound if none, MultipleItemsFound
        if several. ``get(pk)`` reads GET /items/{collection}/{pk}; ``get(**lookups)`` and
        ``get(Q)`` read GET /items/{collection} with limit 2."""
        if key is not _MISSING and not isinstance(key, Q | Mapping):
            if qs or lookups:
                raise InvalidQuery("get(): give a key or lookups, not both (use pk=... with "
                                   "other lookups)")
            return self._get_by_key(check_key(key))
        if key is not _MISSING:
            qs = (key, *qs)
        if not qs and not lookups:
            raise InvalidQuery("get(): expected a key, a Q or lookups")
        rows = list(self._matching(qs, lookups)[:2].fetch() or [])
        if not rows:
            what = self._describe(qs, lookups)
            raise NotFound(404, "ITEM_NOT_FOUND",
                           f"no item in {self._handle.name!r} matches {what}",
                           {"collection": self._handle.name}, None)
        if len(rows) > 1:
            pk = self._primary_key()
            raise MultipleItemsFound(
                f"more than one item in {self._handle.name!r} matches "
                f"{self._describe(qs, lookups)}", [row.get(pk) for row in rows])
        item: T = rows[0]
        return item

    def _get_by_key(self, key: str | int) -> T:
        # The route read of the handle (GET /items/{collection}/{pk}).
        getter = super().get  # type: ignore[misc]
        item: T = getter(key)
        return item

    @staticmethod
    def _describe(qs: Sequence[Any], lookups: Mapping[str, Any]) -> str:
        parts = [repr(q) for q in qs] + [f"{k}={v!r}" for k, v in lookups.items()]
        return ", ".join(parts)

    def _create_data(self, lookups: Mapping[str, Any], defaults: Mapping[str, Any] | None,
                     ) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key, value in self._resolve_pk(lookups).items():
            # Only exact lookups on the collection's own fields say what to create.
            name = next((key[: -len(s)] for s in _EXACT if key.endswith(s)), key)
            if "__" not in name:
                data[name] = value
        if defaults is not None:
            if not isinstance(defaults, Mapping):
                raise InvalidQuery(f"defaults: expected a dict, got {type(defaults).__name__}")
            data.update(defaults)
        return data

    def get_or_create(self, defaults: Mapping[str, Any] | None = None,
                      **lookups: Any) -> tuple[T, bool]:
        """Return (item, False) for the one match, else create it from the exact lookups and
        ``defaults`` and return (item, True). GET then POST /items/{collection}; a create
        refused as RECORD_NOT_UNIQUE (someone else created it meanwhile) reads again."""
        if not lookups:
            raise InvalidQuery("get_or_create(): expected lookups")
        data = self._create_data(lookups, defaults)
        try:
            return self.get(**lookups), False
        except NotFound:
            pass
        try:
            return self._handle.create(data), True
        except APIError as exc:
            if not _not_unique(exc):
                raise
        return self.get(**lookups), False

    def update_or_create(self, defaults: Mapping[str, Any] | None = None, *,
                         create_defaults: Mapping[str, Any] | None = None,
                         **lookups: Any) -> tuple[T, bool]:
        """Update the one match with ``defaults`` and return (item, False), else create it
        from the exact lookups and ``create_defaults`` (default: ``defaults``) and return
        (item, True). GET, then PATCH or POST /items/{collection}; a create refused as
        RECORD_NOT_UNIQUE (a concurrent create) reads the winner and updates it."""
        if not lookups:
            raise InvalidQuery("update_or_create(): expected lookups")
        changes = dict(defaults or {})
        data = self._create_data(lookups, defaults if create_defaults is None else create_defaults)
        for attempt in (1, 2):
            try:
                found = self.get(**lookups)
            except NotFound:
                if attempt == 2:
                    raise
            else:
                key = found[self._primary_key()]
                if not changes:
                    return found, False
                return self._handle.update(key, changes), False
            try:
                return self._handle.create(data), True
            except APIError as exc:
                if not _not_unique(exc):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # --------------------------------------------------------------- many items

    def in_bulk(self, keys: Iterable[Any] | None = None, *, field_name: str = "pk",
                batch_size: int = IN_BULK_BATCH) -> dict[Any, T]:
        """Return {key: item} for the given keys (all matches if None), one GET (or SEARCH)
        /items/{collection} per batch of keys; ``field_name`` must be unique."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidQuery(f"batch_size: expected a positive int, got {batch_size!r}")
        if not isinstance(field_name, str) or not field_name:
            raise InvalidQuery(f"field_name: expected a field name, got {field_name!r}")
        field = self._primary_key() if field_name == "pk" else field_path(field_name)
        lookup = field.replace(".", "__")
        if keys is None:
            return {_value_at(row, field): row for row in self._bind(self._query)}
        if isinstance(keys, str | bytes | Mapping) or not isinstance(keys, Iterable):
            raise InvalidQuery(f"in_bulk(): expected an iterable of keys, got {keys!r}")
        wanted = list(dict.fromkeys(keys))
        if field_name == "pk":
            wanted = [check_key(k, "in_bulk key") for k in wanted]
        out: dict[Any, T] = {}
        for start in range(0, len(wanted), batch_size):
            batch = wanted[start:start + batch_size]
            for row in self._bind(self._query.filter(**{f"{lookup}__in": batch})):
                out[_value_at(row, field)] = row
        return out

    def values_list(self, *fields: str, flat: bool = False) -> list[Any]:
        """Return tuples of the given fields per match (single values with ``flat=True``),
        paging through GET /items/{collection}; ``__`` paths read related fields."""
        if not fields:
            raise InvalidQuery("values_list(): name the fields to return")
        if flat and len(fields) != 1:
            raise InvalidQuery(f"values_list(flat=True) takes one field, got {len(fields)}")
        paths = Query().fields(*fields).to_dict()["fields"]
        rows = self._bind(self._query.fields(*paths))
        if flat:
            return [_value_at(row, paths[0]) for row in rows]
        return [tuple(_value_at(row, p) for p in paths) for row in rows]

    def values(self, *fields: str) -> list[dict[str, Any]]:
        """Return a dict of the given fields (keyed as given) per match, paging through
        GET /items/{collection}; without fields, the items as they come."""
        if not fields:
            return [dict(row) for row in self._iter_rows(self._query)]
        paths = Query().fields(*fields).to_dict()["fields"]
        return [{name: _value_at(row, p) for name, p in zip(fields, paths, strict=True)}
                for row in self._iter_rows(self._query.fields(*paths))]

    def _iter_rows(self, query: Query) -> Iterator[T]:
        return iter(self._bind(query))
