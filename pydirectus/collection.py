"""Collection handles and the lazy item queries bound to them.

``client.collection("articles")`` is a :class:`Collection`; its chain methods return an
:class:`ItemQuery`, which holds a :class:`~pydirectus.query.Query` and runs only when
iterated or asked for a result. Reads page transparently; writes batch.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlencode

import attrs

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
    DirectusError,
    InvalidQuery,
    NotFound,
    PermissionDenied,
    SchemaRequired,
)
from .handle_methods import HandleMethods
from .query import Query, query_to_params
from .transport import Call, encode_segment, unwrap
from .values import needs_field_types, typed_aggregate, typed_item

if TYPE_CHECKING:
    from .query import Q
    from .schema_cache import SchemaCache
    from .transport import Transport

__all__ = ["BatchWriteError", "Collection", "ItemQuery", "Page", "Singleton"]

T = TypeVar("T", bound=Mapping[str, Any])

DEFAULT_PAGE_SIZE = 1000
DEFAULT_BATCH_SIZE = 1000
# Beyond this many bytes of query string, reads go out as SEARCH with the query in the body:
# proxies and servers commonly cap a request line at 8 KiB.
MAX_QUERY_STRING = 6000


class BatchWriteError(DirectusError):
    """A batch write failed part-way: ``written`` made it, ``not_written`` did not."""

    def __init__(self, message: str, written: list[Any], not_written: list[Any],
                 cause: APIError) -> None:
        super().__init__(message)
        self.written = written
        self.not_written = not_written
        self.cause = cause


@attrs.frozen
class Page(Generic[T]):
    """One page of items with Directus's counts (``meta=total_count,filter_count``)."""

    items: list[T]
    total_count: int | None
    filter_count: int | None


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


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

    # Terminal operations.

    def _compiled(self, query: Query | None = None) -> dict[str, Any]:
        return self._handle._compile(self._query if query is None else query)

    def fetch(self) -> Any:
        """Return the data of exactly one GET (or SEARCH) /items/{collection}, no paging."""
        data, _ = self._handle._read(self._compiled())
        return data

    def __iter__(self) -> Iterator[T]:
        """Iterate every match via GET /items/{collection}, one page at a time."""
        return self._handle._iterate(self._compiled())

    def all(self) -> list[T]:
        """Return every match as a list (pages through GET /items/{collection})."""
        return list(self)

    def first(self) -> T | None:
        """Return the first match or None (GET /items/{collection} with limit 1)."""
        compiled = self._compiled()
        compiled["limit"] = 1
        compiled.pop("page", None)
        data, _ = self._handle._read(compiled)
        return data[0] if data else None

    def count(self) -> int:
        """Return how many items match (one GET /items/{collection}?aggregate[count]=*)."""
        compiled = self._compiled()
        for key in ("limit", "offset", "page", "sort", "fields", "meta", "groupBy", "alias",
                    "deep"):
            compiled.pop(key, None)
        compiled["aggregate"] = {"count": ["*"]}
        data, _ = self._handle._read(compiled)
        return int(data[0]["count"]) if data else 0

    def exists(self) -> bool:
        """Return whether anything matches (GET /items/{collection} with limit 1)."""
        compiled = self._compiled()
        compiled.update(limit=1, fields=[self._handle._info().primary_key])
        compiled.pop("page", None)
        data, _ = self._handle._read(compiled)
        return bool(data)

    def with_meta(self) -> Page[T]:
        """Return one page with total_count and filter_count (one GET /items/{collection})."""
        compiled = self._compiled()
        compiled["meta"] = ["total_count", "filter_count"]
        data, meta = self._handle._read(compiled)
        return Page(list(data), _int_or_none(meta.get("total_count")),
                    _int_or_none(meta.get("filter_count")))

    def get(self, pk: str | int) -> T:
        """Return one matching item from GET /items/{collection}/{pk}, else raise NotFound."""
        key = check_key(pk)
        compiled = self._compiled()
        # Directus ANDs a filter with the key on single-item reads, as Django's get() does.
        params = query_to_params({k: v for k, v in compiled.items() if k in (
            "filter", "fields", "deep", "alias", "version", "backlink")})
        try:
            item: T = self._handle._transport.data(
                "GET", *self._handle.route, key, params=params or None, expect=dict)
        except PermissionDenied as denied:
            raise self._handle._missing_or_denied(key, denied, "filter" in params) from None
        return self._handle._typed(item)  # type: ignore[no-any-return]


def _query_string_may_exceed(params: Mapping[str, str], limit: int) -> bool:
    # A character percent-encodes to at most 12 bytes (4 UTF-8 bytes, %XX each): a cheap
    # bound spares most reads the cost of encoding the query string only to measure it.
    return sum(12 * (len(key) + len(value)) + 2 for key, value in params.items()) > limit


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

    def update(self, data: Mapping[str, Any], *, fields: Sequence[str] | None = None) -> list[T]:
        """Update every match with PATCH /items/{collection} {query, data}; return them."""
        body = {"query": self._mutation_query(), "data": dict(check_data(data))}
        updated: list[T] = self._handle._transport.data(
            "PATCH", *self._handle.route, params=fields_params(fields), json=body)
        return updated

    def delete(self) -> int:
        """Delete every match (keys read, then DELETE /items/{collection}); return the count."""
        self._handle._refuse_singleton("delete")
        pk = self._handle._info().primary_key
        keys = [row[pk] for row in self.fields(pk)]
        return self._handle.delete_many(keys)

    def _mutation_query(self) -> dict[str, Any]:
        self._handle._refuse_singleton("update")
        compiled = self._compiled()
        # Directus applies its default limit (100) to query-based writes: lift it.
        compiled.setdefault("limit", -1)
        return {k: v for k, v in compiled.items() if k in ("filter", "search", "limit", "offset",
                                                            "sort", "page")}


@attrs.frozen
class CollectionInfo:
    """What a handle needs to know of a collection: its primary key and singleton flag."""

    name: str
    primary_key: str
    singleton: bool


class Collection(HandleMethods[T], _Reads[T]):
    """A handle on /items/{name}: chain a query, iterate it, and write items."""

    def __init__(self, name: str, transport: Transport, schema: SchemaCache, *,
                 page_size: int = DEFAULT_PAGE_SIZE,
                 route: tuple[str, ...] | None = None) -> None:
        encode_segment(check_name(name))
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise InvalidQuery(f"page_size: expected a positive int, got {page_size!r}")
        self.name = name
        # System collections live at their own routes: directus_files at /files, ...
        self.route = route or ("items", name)
        self.page_size = page_size
        self._transport = transport
        self._schema = schema
        self._handle = self
        self._query = Query()

    def __repr__(self) -> str:
        return f"<Collection {self.name!r}>"

    # Reading.

    def _info(self) -> CollectionInfo:
        return self._schema.collection(self.name)

    def _compile(self, query: Query) -> dict[str, Any]:
        try:
            compiled: dict[str, Any] = query.to_dict()
        except SchemaRequired as needed:
            # Only negated relational paths need the relations: fetch them (once) then.
            try:
                schema = self._schema.relations_from(self.name)
            except PermissionDenied:
                raise needed from None  # its message says how to do without the schema
            compiled = query.to_dict(schema=schema)
        if "page" in compiled and "offset" in compiled:
            raise InvalidQuery("a query with both page and offset is ambiguous: use one")
        return compiled

    def _read(self, compiled: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        params = query_to_params(compiled)
        if _query_string_may_exceed(params, MAX_QUERY_STRING) and (
                len(urlencode(params)) > MAX_QUERY_STRING):
            call = Call("SEARCH", self.route, json={"query": dict(compiled)})
        else:
            call = Call("GET", self.route, params=params)
        try:
            body = self._transport.send_json(call)
        except APIError as refusal:
            self._explain(compiled, refusal)  # InvalidQuery when a name is at fault
            raise
        # A list of items (an object when the collection is a singleton); anything else,
        # {"data": null} or a bare 42, is a server fault named by route, not a TypeError later.
        data = unwrap(body, call, (list, dict))
        meta = body.get("meta")
        aggregate = "aggregate" in compiled or "groupBy" in compiled
        return self._typed(data, aggregate), meta if isinstance(meta, dict) else {}

    def _typed(self, data: Any, aggregate: bool = False) -> Any:
        # The same Python types on every database (see pydirectus.values); the field
        # types are fetched once, and only when some value could change.
        if aggregate:
            rows = data if isinstance(data, list) else [data]
            types = self._schema.field_types(self.name) if needs_field_types(rows) else {}
            for row in rows:
                typed_aggregate(row, types)
        elif needs_field_types(data):
            types = self._schema.field_types(self.name)
            for item in data if isinstance(data, list) else [data]:
                typed_item(item, types)
        return data

    def _iterate(self, compiled: dict[str, Any]) -> Iterator[T]:
        if "aggregate" in compiled or "groupBy" in compiled:
            data, _ = self._read(compiled)
            yield from data
            return
        limit = compiled.pop("limit", None)
        page = compiled.pop("page", None)
        offset = int(compiled.pop("offset", 0))
        if page is not None:
            if limit in (None, -1):
                raise InvalidQuery("page(n) needs limit(size) to say where page n starts")
            offset = (int(page) - 1) * int(limit)
        remaining = None if limit in (None, -1) else int(limit)
        compiled = self._stable(compiled)
        while remaining is None or remaining > 0:
            size = self.page_size if remaining is None else min(self.page_size, remaining)
            data, _ = self._read({**compiled, "limit": size, "offset": offset})
            yield from data
            if len(data) < size:
                return
            offset += size
            if remaining is not None:
                remaining -= size

    def _stable(self, compiled: dict[str, Any]) -> dict[str, Any]:
        # Offset paging over a non-unique order can skip or repeat items between pages;
        # the primary key as the last sort key makes the order total.
        pk = self._info().primary_key
        sort = list(compiled.get("sort") or [])
        if pk not in (key.lstrip("-") for key in sort):
            sort.append(pk)
        return {**compiled, "sort": sort}

    def _missing_or_denied(self, key: str | int, denied: PermissionDenied,
                           filtered: bool) -> APIError:
        # Directus answers a bare FORBIDDEN for a missing item too. One with a reason names
        # what is forbidden (a field, the collection); without one, if the collection
        # itself is readable, the item is simply not there.
        if denied.reason is not None:
            return denied
        try:
            self._transport.data("GET", *self.route, params={"limit": "0"})
        except PermissionDenied:
            return denied
        what = " matching the query" if filtered else ""
        return NotFound(404, "ITEM_NOT_FOUND",
                        f"no item {key!r}{what} in collection {self.name!r}",
                        {"collection": self.name, "pk": key}, denied.response)

    # Writing.

    def _refuse_singleton(self, action: str) -> None:
        if self.route[0] == "items" and self._info().singleton:
            raise InvalidQuery(f"collection {self.name!r} is a singleton: {action} it with "
                               f"client.singleton({self.name!r})")

    def create(self, data: Mapping[str, Any], *, fields: Sequence[str] | None = None) -> T:
        """Create one item with POST /items/{collection}; return it."""
        body = dict(check_data(data))
        self._refuse_singleton("create")
        created: T = self._transport.data("POST", *self.route,
                                          params=fields_params(fields), json=body)
        return self._typed(created)  # type: ignore[no-any-return]

    def create_many(self, items: Iterable[Mapping[str, Any]], *,
                    batch_size: int = DEFAULT_BATCH_SIZE,
                    fields: Sequence[str] | None = None) -> list[T]:
        """Create items with one POST /items/{collection} per batch; return them in order."""
        checked = check_items(items, "items")
        size = check_batch_size(batch_size)
        params = fields_params(fields)
        if not checked:
            return []
        self._refuse_singleton("create")
        return self._batched("POST", checked, size, params, "created")

    def _batched(self, method: str, payload: Sequence[Any], size: int,
                 params: dict[str, str] | None, verb: str) -> list[T]:
        written: list[T] = []
        for start, batch in zip(itertools.count(0, size), _chunks(payload, size), strict=False):
            try:
                data = self._transport.data(method, *self.route, params=params,
                                            json=list(batch))
            except APIError as exc:
                raise BatchWriteError(
                    f"{len(written)} of {len(payload)} items {verb} in {self.name!r}; the batch "
                    f"starting at index {start} failed ({exc}) and it and the rest were not",
                    written, list(payload[start:]), exc) from exc
            written.extend(self._typed(data or []))
        return written

    def update(self, pk: str | int, data: Mapping[str, Any], *,
               fields: Sequence[str] | None = None) -> T:
        """Update one item with PATCH /items/{collection}/{pk}; return it."""
        key, body = check_key(pk), dict(check_data(data))
        self._refuse_singleton("update")
        updated: T = self._transport.data("PATCH", *self.route, key,
                                          params=fields_params(fields), json=body)
        return self._typed(updated)  # type: ignore[no-any-return]

    def update_many(self, keys: Iterable[str | int], data: Mapping[str, Any], *,
                    fields: Sequence[str] | None = None) -> list[T]:
        """Apply the same change to many items with PATCH /items/{collection} {keys, data}."""
        checked, body = check_keys(keys), dict(check_data(data))
        if not checked:
            return []
        self._refuse_singleton("update")
        updated: list[T] = self._transport.data(
            "PATCH", *self.route, params=fields_params(fields),
            json={"keys": checked, "data": body})
        return self._typed(updated)  # type: ignore[no-any-return]

    def update_batch(self, items: Iterable[Mapping[str, Any]], *,
                     batch_size: int = DEFAULT_BATCH_SIZE,
                     fields: Sequence[str] | None = None) -> list[T]:
        """Update items that each carry their primary key, one PATCH per batch."""
        checked = check_items(items, "items")
        size = check_batch_size(batch_size)
        params = fields_params(fields)
        if not checked:
            return []
        pk = self._info().primary_key
        for index, item in enumerate(checked):
            check_key(item.get(pk), f"items[{index}].{pk}")
        self._refuse_singleton("update")
        return self._batched("PATCH", checked, size, params, "updated")

    def delete(self, pk: str | int) -> None:
        """Delete one item with DELETE /items/{collection}/{pk}."""
        key = check_key(pk)
        self._refuse_singleton("delete")
        self._transport.data("DELETE", *self.route, key, idempotent=True)

    def delete_many(self, keys: Iterable[str | int], *,
                    batch_size: int = DEFAULT_BATCH_SIZE * 10) -> int:
        """Delete items by key with one DELETE /items/{collection} per batch; return the count."""
        checked = check_keys(keys)
        size = check_batch_size(batch_size)
        if not checked:
            return 0
        self._refuse_singleton("delete")
        for batch in _chunks(checked, size):
            # Deleting the same keys twice is harmless, so a retry is safe.
            self._transport.data("DELETE", *self.route, json=list(batch), idempotent=True)
        return len(checked)


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

