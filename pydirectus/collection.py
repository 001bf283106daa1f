"""Collection handles and the lazy item queries bound to them.

``client.collection("articles")`` is a :class:`Collection`; its chain methods return an
:class:`ItemQuery`, which holds a :class:`~pydirectus.query.Query` and runs only when
iterated or asked for a result. Reads page transparently; writes batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import attrs

from .batches import chunks, write_in_batches
from .checks import (
    check_batch_size,
    check_data,
    check_items,
    check_key,
    check_keys,
    check_name,
    fields_params,
    query_params,
)
from .errors import (
    APIError,
    BatchWriteError,
    InvalidQuery,
    NotFound,
    PermissionDenied,
    SchemaRequired,
)
from .handle_methods import HandleMethods
from .query import Query
from .reads import ReadPath
from .schema_cache import CollectionInfo
from .transport import encode_segment
from .values import could_change, needs_field_types, typed_aggregate, typed_items

if TYPE_CHECKING:
    from .query import Q
    from .schema_cache import SchemaCache
    from .transport import Transport

# BatchWriteError lives in pydirectus.errors; it stays importable from here.
__all__ = ["BatchWriteError", "Collection", "CollectionInfo", "ItemQuery", "Page", "Singleton"]

T = TypeVar("T", bound=Mapping[str, Any])

DEFAULT_PAGE_SIZE = 1000
DEFAULT_BATCH_SIZE = 1000


@attrs.frozen
class Page(Generic[T]):
    """One window of items with Directus's counts (``meta=total_count,filter_count``)."""

    items: list[T]
    total_count: int | None
    filter_count: int | None


class _Reads(Generic[T]):
    """Chain methods and read-only terminal operations shared by handles and queries."""

    _handle: Collection[T]
    _query: Query

    def _bind(self, query: Query) -> ItemQuery[T]:
        return ItemQuery(self._handle, query)

    # Chain methods: each returns a new bound query; see Query for add/replace semantics.

    def query(self, query: Query | Mapping[str, Any]) -> ItemQuery[T]:
        """Replace the bound query with a Query (or Directus query dict) built elsewhere."""
        if isinstance(query, Query):
            return self._bind(query)
        if isinstance(query, Mapping):
            return self._bind(Query.from_dict(query))
        raise InvalidQuery(f"query: expected a Query or a dict, got {type(query).__name__}")

    def filter(self, *qs: Q | Mapping[str, Any], **lookups: Any) -> ItemQuery[T]:
        """Add conditions (AND) that items must match."""
        return self._bind(self._query.filter(*qs, **lookups))

    def exclude(self, *qs: Q | Mapping[str, Any], **lookups: Any) -> ItemQuery[T]:
        """Add conditions (AND NOT) that items must not match, nulls counted as not matching."""
        return self._bind(self._query.exclude(*qs, **lookups))

    def fields(self, *names: str) -> ItemQuery[T]:
        """Replace the fields to return."""
        return self._bind(self._query.fields(*names))

    def sort(self, *keys: str) -> ItemQuery[T]:
        """Replace the sort keys (prefix '-' for descending)."""
        return self._bind(self._query.sort(*keys))

    def limit(self, n: int) -> ItemQuery[T]:
        """Replace the limit (-1 means all)."""
        return self._bind(self._query.limit(n))

    def offset(self, n: int) -> ItemQuery[T]:
        """Replace the offset."""
        return self._bind(self._query.offset(n))

    def page(self, n: int) -> ItemQuery[T]:
        """Replace the page number (1-based; pages are `limit` items long)."""
        return self._bind(self._query.page(n))

    def search(self, text: str) -> ItemQuery[T]:
        """Replace the full-text search string."""
        return self._bind(self._query.search(text))

    def aggregate(self, **functions: Any) -> ItemQuery[T]:
        """Add aggregate functions, e.g. ``aggregate(count="*", sum=["price"])``."""
        return self._bind(self._query.aggregate(**functions))

    def group_by(self, *fields: str) -> ItemQuery[T]:
        """Replace the group-by fields (functions such as 'year(date)' allowed)."""
        return self._bind(self._query.group_by(*fields))

    def deep(self, **relations: Query) -> ItemQuery[T]:
        """Add nested queries for relational fields."""
        return self._bind(self._query.deep(**relations))

    def alias(self, **aliases: str) -> ItemQuery[T]:
        """Add field aliases (name -> field)."""
        return self._bind(self._query.alias(**aliases))

    def meta(self, *names: str) -> ItemQuery[T]:
        """Replace the metadata to ask for ('total_count', 'filter_count' or '*')."""
        return self._bind(self._query.meta(*names))

    def version(self, name: str) -> ItemQuery[T]:
        """Replace the content version to read."""
        return self._bind(self._query.version(name))

    def backlink(self, enabled: bool) -> ItemQuery[T]:
        """Replace whether '*.*' fields follow relations back to the parent."""
        return self._bind(self._query.backlink(enabled))

    def __getitem__(self, window: slice) -> ItemQuery[T]:
        """Return the query limited to a window, e.g. ``[20:30]`` (offset 20, limit 10)."""
        return self._bind(self._query[window])

    # Terminal operations: each goes through the handle's one read path (pydirectus.reads).

    def _compiled(self, query: Query | None = None) -> dict[str, Any]:
        return self._handle._compile(self._query if query is None else query)

    def fetch(self) -> Any:
        """Return the window's data from GET (or SEARCH) /items/{collection}.

        With no limit this is Directus's own answer to one request (its default page);
        with a limit, or limit(-1), every match of the window, paged past the server's cap.
        A singleton's data is its one object; an aggregate's, its rows (every group).
        """
        data, _ = self._handle._reads.fetch(self._compiled())
        return data

    def __iter__(self) -> Iterator[T]:
        """Iterate every match of the window via GET /items/{collection}, page by page.

        The next page is fetched in the background while the loop works on this one,
        unless the client was made with prefetch=False (see :meth:`iterator`).
        """
        return self.iterator()

    def iterator(self, *, prefetch: bool | None = None) -> Iterator[T]:
        """Iterate like iter(query) (GET /items/{collection}); prefetch=False: each page is
        fetched only when the loop reaches it; None: the client's setting."""
        if prefetch is not None and not isinstance(prefetch, bool):
            raise InvalidQuery(f"prefetch: expected True, False or None, got {prefetch!r}")
        reads = self._handle._reads
        return reads.rows(self._compiled(),
                          prefetch=reads.transport.prefetch if prefetch is None else prefetch)

    def all(self) -> list[T]:
        """Return every match of the window as a list (pages through GET /items/{collection})."""
        return list(self)

    def first(self) -> T | None:
        """Return the window's first match or None (GET /items/{collection}, one row)."""
        item: T | None = self._handle._reads.first(self._compiled())
        return item

    def last(self) -> T | None:
        """Return the window's last match or None (GET /items/{collection} in reverse order).

        An unordered query is ordered by primary key; a window that does not start at
        the first match also costs one count.
        """
        item: T | None = self._handle._reads.last(self._compiled())
        return item

    def count(self) -> int:
        """Return how many matches the window holds (GET /items/{collection}?aggregate)."""
        return self._handle._reads.count(self._compiled())

    def exists(self) -> bool:
        """Return whether the window holds any match (GET /items/{collection}, one row)."""
        return self._handle._reads.exists(self._compiled())

    def with_meta(self) -> Page[T]:
        """Return the window's items with total_count and filter_count (GET /items/{c}?meta)."""
        data, meta = self._handle._reads.fetch(self._compiled(),
                                               meta=("total_count", "filter_count"))
        items: list[T] = list(data or []) if isinstance(data, list) else [data]
        return Page(items, _int_or_none(meta.get("total_count")),
                    _int_or_none(meta.get("filter_count")))

    def get(self, pk: str | int) -> T:
        """Return one matching item from GET /items/{collection}/{pk}, else raise NotFound."""
        item: T = self._handle._reads.get(self._compiled(), check_key(pk))
        return self._handle._typed(item)  # type: ignore[no-any-return]


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


@attrs.frozen(repr=False)
class ItemQuery(HandleMethods[T], _Reads[T]):
    """A lazy query bound to a collection; runs when iterated or asked for a result."""

    _handle: Collection[T]
    _query: Query = attrs.field(factory=Query)

    def __repr__(self) -> str:
        return f"<ItemQuery {self._handle.name!r} {self._query!r}>"

    @property
    def collection(self) -> Collection[T]:
        """Return the collection handle this query is bound to."""
        return self._handle

    @property
    def as_query(self) -> Query:
        """Return the bound Query (a plain value: store it, reuse it as a preset)."""
        return self._query

    def update(self, data: Mapping[str, Any], *, fields: Sequence[str] | None = None,
               batch_size: int = DEFAULT_BATCH_SIZE) -> list[T]:
        """Update every match of the window: keys read, then PATCH /items/{collection} per batch.

        Reading the keys first covers every match whatever the server's QUERY_LIMIT_MAX
        (Directus caps a query-based PATCH there silently). Returns the updated items.
        """
        body = dict(check_data(data))
        size = check_batch_size(batch_size)
        params = fields_params(fields)
        handle = self._handle
        handle._refuse_singleton("update")
        keys = handle._reads.keys(self._compiled(), "a filtered update")
        return handle._write_keys("PATCH", keys, size, params, body, "updated")

    def delete(self, *, batch_size: int = DEFAULT_BATCH_SIZE * 10) -> int:
        """Delete every match of the window (keys read, then DELETE /items/{c} per batch).

        Returns how many items were deleted: the keys read, each of which existed then.
        """
        size = check_batch_size(batch_size)
        handle = self._handle
        handle._refuse_singleton("delete")
        keys = handle._reads.keys(self._compiled(), "a filtered delete")
        handle._write_keys("DELETE", keys, size, None, None, "deleted")
        return len(keys)


class Collection(HandleMethods[T], _Reads[T]):
    """A handle on /items/{name}: chain a query, iterate it, and write items.

    Nothing here needs schema-read permission: the primary key and the singleton flag are
    learned from what the token may read (see pydirectus.schema_cache), or given with
    ``pk=`` / ``singleton=``.
    """

    def __init__(self, name: str, transport: Transport, schema: SchemaCache, *,
                 page_size: int = DEFAULT_PAGE_SIZE,
                 route: tuple[str, ...] | None = None,
                 pk: str | None = None,
                 singleton: bool | None = None) -> None:
        encode_segment(check_name(name))
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise InvalidQuery(f"page_size: expected a positive int, got {page_size!r}")
        if pk is not None and (not isinstance(pk, str) or not pk.strip()):
            raise InvalidQuery(f"pk: expected the primary key's field name, got {pk!r}")
        if singleton is not None and not isinstance(singleton, bool):
            raise InvalidQuery(f"singleton: expected True or False, got {singleton!r}")
        self.name = name
        # System collections live at their own routes: directus_files at /files, ...
        self.route = route or ("items", name)
        self._transport = transport
        self._schema = schema
        self._reads = ReadPath(name, self.route, transport, schema, page_size,
                               primary_key=pk, singleton=singleton, send=self._read)
        self._handle = self
        self._query = Query()

    def __repr__(self) -> str:
        return f"<Collection {self.name!r}>"

    @property
    def page_size(self) -> int:
        """Return how many items one read asks for (capped by the server's QUERY_LIMIT_MAX)."""
        return self._reads.page_size

    @page_size.setter
    def page_size(self, size: int) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise InvalidQuery(f"page_size: expected a positive int, got {size!r}")
        self._reads.page_size = size

    def _info(self) -> CollectionInfo:
        return self._reads.info()

    # Hooks of the read path: a handle on a route that answers in its own way overrides
    # _read (one request); everything else reads through it.

    def _read(self, compiled: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        try:
            data, meta = self._reads.request(compiled)
        except APIError as refusal:
            self._explain(compiled, refusal)  # InvalidQuery when a name is at fault
            raise
        return self._typed(data, "aggregate" in compiled or "groupBy" in compiled), meta

    def _iterate(self, compiled: Mapping[str, Any]) -> Iterator[T]:
        return self._reads.rows(compiled)

    def _missing_or_denied(self, key: str | int, denied: PermissionDenied,
                           filtered: bool) -> PermissionDenied | NotFound:
        return self._reads.missing_or_denied(key, denied, filtered)

    def _compile(self, query: Query) -> dict[str, Any]:
        try:
            compiled: dict[str, Any] = query.to_dict()
        except SchemaRequired as needed:
            # Only negated relational paths need the relations: fetch them (once) then.
            try:
                schema = self._schema.relations_from(self.name)
            except PermissionDenied:
                message = str(needed).replace(
                    "(the client passes it for you)",
                    "(this client asked: the token may not read /relations; grant it read "
                    "on directus_relations, or spell the path as above)")
                raise SchemaRequired(message) from None
            compiled = query.to_dict(schema=schema)
        if "page" in compiled and "offset" in compiled:
            raise InvalidQuery("a query with both page and offset is ambiguous: use one")
        return compiled

    def _typed(self, data: Any, aggregate: bool = False) -> Any:
        # The same Python types on every database (see pydirectus.values); the field
        # types are fetched once, and only when some value could change. Once they are
        # known, only the numeric fields are visited.
        if aggregate:
            rows = data if isinstance(data, list) else [data]
            kinds = self._schema.field_types(self.name) if needs_field_types(rows) else {}
            for row in rows:
                typed_aggregate(row, kinds)
            return data
        items = data if isinstance(data, list) else [data]
        types = self._schema.known_field_types(self.name)
        if types is None:
            if not could_change(items):
                return data
            types = self._schema.field_types(self.name)
        if types:
            missing = {key for item in items[:1] if isinstance(item, dict) for key in item
                       if key not in types}
            if missing and could_change([{key: item.get(key) for key in missing}
                                         for item in items if isinstance(item, dict)]):
                # A field added since the types were read (by another client, or through
                # another instance behind the same load balancer): read them again.
                types = self._schema.field_types(self.name, missing=missing)
            typed_items(items, types)
        return data

    # Writing.

    def _refuse_singleton(self, action: str) -> None:
        # Only what is already known: a write never waits on a schema read.
        if self.route[0] == "items" and self._reads.known_singleton():
            raise InvalidQuery(f"collection {self.name!r} is a singleton: {action} it with "
                               f"client.singleton({self.name!r})")

    def _singleton_refused(self, error: NotFound, action: str) -> InvalidQuery | NotFound:
        # Directus answers a write to /items/{singleton} with ROUTE_NOT_FOUND.
        if self.route[0] == "items" and error.code == "ROUTE_NOT_FOUND":
            self._schema.remember(self.name, singleton=True)
            return InvalidQuery(f"collection {self.name!r} is a singleton: {action} it with "
                                f"client.singleton({self.name!r})")
        return error

    def create(self, data: Mapping[str, Any], *, fields: Sequence[str] | None = None) -> T:
        """Create one item with POST /items/{collection}; return it."""
        body = dict(check_data(data))
        params = fields_params(fields)
        self._refuse_singleton("create")
        try:
            created: T = self._transport.data("POST", *self.route, params=params, json=body)
        except NotFound as missing:
            raise self._singleton_refused(missing, "create") from None
        return self._typed(created)  # type: ignore[no-any-return]

    def create_many(self, items: Iterable[Mapping[str, Any]], *,
                    batch_size: int = DEFAULT_BATCH_SIZE,
                    fields: Sequence[str] | None = None) -> list[T]:
        """Create items with one POST /items/{collection} per batch; return them in order.

        A failing batch raises BatchWriteError with what was written, what was not, and
        (after a connection failure) the batch that may or may not have landed.
        """
        checked = check_items(items, "items")
        size = check_batch_size(batch_size)
        params = fields_params(fields)
        if not checked:
            return []
        self._refuse_singleton("create")
        return self._write_items("POST", checked, size, params, "create")

    def _write_items(self, method: str, items: Sequence[Mapping[str, Any]], size: int,
                     params: dict[str, str] | None, verb: str) -> list[T]:
        def send(batch: Sequence[Mapping[str, Any]]) -> list[T]:
            answer: list[T] = self._transport.data(method, *self.route, params=params,
                                                   json=list(batch))
            return self._typed(answer)  # type: ignore[no-any-return]

        return write_in_batches(send, items, size, what=f"{verb} in {self.name!r}",
                                idempotent=False)

    def update(self, pk: str | int, data: Mapping[str, Any], *,
               fields: Sequence[str] | None = None) -> T:
        """Update one item with PATCH /items/{collection}/{pk}; return it, NotFound if missing.

        Returns an empty dict when the token may update the item but not read it back.
        """
        key, body = check_key(pk), dict(check_data(data))
        params = fields_params(fields)
        self._refuse_singleton("update")
        try:
            updated: T | None = self._transport.data("PATCH", *self.route, key, params=params,
                                                     json=body)
        except PermissionDenied as denied:
            # Directus refuses a missing item to non-admin tokens like a forbidden one.
            if self._reads.item_exists(key) is False:
                raise self._reads.missing(key, False, denied.response) from None
            raise
        # 204: an admin's PATCH of a missing item, or a token that may not read it back.
        if updated is None:
            if self._reads.item_exists(key) is False:
                raise self._reads.missing(key, False)
            return cast("T", {})
        return self._typed(updated)  # type: ignore[no-any-return]

    def update_many(self, keys: Iterable[str | int], data: Mapping[str, Any], *,
                    fields: Sequence[str] | None = None,
                    batch_size: int = DEFAULT_BATCH_SIZE) -> list[T]:
        """Apply the same change to items with PATCH /items/{collection} {keys, data} per batch."""
        checked, body = check_keys(keys), dict(check_data(data))
        size = check_batch_size(batch_size)
        params = fields_params(fields)
        if not checked:
            return []
        self._refuse_singleton("update")
        return self._write_keys("PATCH", checked, size, params, body, "updated")

    def _write_keys(self, method: str, keys: Sequence[str | int], size: int,
                    params: dict[str, str] | None, data: dict[str, Any] | None,
                    verb: str) -> list[T]:
        # Deleting keys twice is harmless, so the transport may retry a DELETE; a PATCH may
        # run flows and hooks, so, like every write, it is not retried.
        idempotent = method == "DELETE"

        def send(batch: Sequence[str | int]) -> list[T] | None:
            body: Any = list(batch) if data is None else {"keys": list(batch), "data": data}
            answer: list[T] | None = self._transport.data(method, *self.route, params=params,
                                                          json=body, idempotent=idempotent)
            return self._typed(answer) if answer else answer

        return write_in_batches(send, keys, size, what=f"{verb} in {self.name!r}",
                                idempotent=idempotent)

    def update_batch(self, items: Iterable[Mapping[str, Any]], *,
                     batch_size: int = DEFAULT_BATCH_SIZE,
                     fields: Sequence[str] | None = None) -> list[T]:
        """Update items that each carry their primary key, one PATCH per batch."""
        checked = check_items(items, "items")
        size = check_batch_size(batch_size)
        params = fields_params(fields)
        if not checked:
            return []
        pk = self._reads.primary_key("update_batch()")
        for index, item in enumerate(checked):
            check_key(item.get(pk), f"items[{index}].{pk}")
        self._refuse_singleton("update")
        return self._write_items("PATCH", checked, size, params, "update")

    def delete(self, pk: str | int) -> None:
        """Delete one item with DELETE /items/{collection}/{pk}; NotFound if it is not there.

        Directus deletes a missing item for an admin token without a word, so the item is
        looked up first (one read) when the token may read the collection.
        """
        key = check_key(pk)
        self._refuse_singleton("delete")
        if self._reads.item_exists(key) is False:
            raise self._reads.missing(key, False)
        try:
            self._transport.data("DELETE", *self.route, key, idempotent=True)
        except PermissionDenied as denied:
            if self._reads.item_exists(key) is False:
                raise self._reads.missing(key, False, denied.response) from None
            raise

    def delete_many(self, keys: Iterable[str | int], *,
                    batch_size: int = DEFAULT_BATCH_SIZE * 10) -> int:
        """Delete items by key with one DELETE /items/{collection} per batch; return a count.

        The count is of keys that existed: each batch is first read back (one read of the
        keys) when the token may read the collection; a token that may not read it is
        refused missing keys by Directus, so then every key sent was deleted.
        """
        checked = check_keys(keys)
        size = check_batch_size(batch_size)
        if not checked:
            return 0
        self._refuse_singleton("delete")
        existing = self._existing(checked, size)
        self._write_keys("DELETE", existing, size, None, None, "deleted")
        return len(existing)

    def _existing(self, keys: list[str | int], size: int) -> list[str | int]:
        try:
            pk = self._reads.primary_key("delete_many()")
        except SchemaRequired:
            return keys
        found: set[Any] = set()
        try:
            for batch in chunks(keys, size):
                found.update(row[pk] for row in self._reads.rows(
                    {"filter": {pk: {"_in": list(batch)}}, "fields": [pk]}))
        except PermissionDenied:
            return keys
        # Keys may be given as text ("5") for an integer key, and come back as numbers.
        present = {str(value) for value in found}
        return [key for key in keys if str(key) in present]


class Singleton(Generic[T]):
    """A handle on a singleton collection: one item at /items/{name}."""

    def __init__(self, name: str, transport: Transport) -> None:
        encode_segment(check_name(name, "singleton"))
        self.name = name
        self.route = ("items", name)
        self._transport = transport

    def __repr__(self) -> str:
        return f"<Singleton {self.name!r}>"

    def get(self, query: Query | Mapping[str, Any] | None = None) -> T:
        """Return the singleton's item from GET /items/{name}."""
        item: T = self._transport.data("GET", *self.route, params=query_params(query),
                                       expect=dict)
        return item

    def update(self, data: Mapping[str, Any], *, fields: Sequence[str] | None = None) -> T:
        """Update the singleton's item with PATCH /items/{name}; return it."""
        body = dict(check_data(data))
        item: T = self._transport.data("PATCH", *self.route,
                                       params=fields_params(fields), json=body)
        return item

