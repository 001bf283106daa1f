"""Collection handles and the lazy item queries bound to them: one definition, both faces.

``client.collection("articles")`` is a ``Collection``; its chain methods return an
``ItemQuery``, which holds a ``Query`` and runs only when
iterated or asked for a result. Reads page transparently; writes batch.

Every method that talks to Directus builds a plan (``pydirectus.core``) and hands it
to the face's runner: the sync client's returns the result, the async client's an
awaitable (``await coll.get(pk)``, ``async for row in q``). Django's QuerySet vocabulary
(``get(**lookups)``, ``get_or_create``, ``in_bulk``, ``values_list``, ...) is built on
the same plans.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import attrs

from . import frames
from .checks import (
    check_batch_size,
    check_bool,
    check_data,
    check_items,
    check_key,
    check_keys,
    check_name,
    check_positive_int,
    check_query,
    fields_params,
    query_params,
)
from .core import plans
from .core.batches import chunks, write_in_batches
from .core.columns import frame_stream
from .core.plans import Plan, Runner, encode_segment
from .core.reads import ReadPath, ReadRules, collect
from .core.schema import CollectionInfo, SchemaCache
from .errors import (
    APIError,
    BatchWriteError,
    InvalidQuery,
    InvalidRequest,
    MultipleItemsFound,
    NotFound,
    PermissionDenied,
    SchemaRequired,
    UsageError,
)
from .query import Q, Query
from .query.bound import BoundChain
from .query.parts import BY_NAME, field_path, names

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl
    import pyarrow as pa

# BatchWriteError lives in pydirectus.errors; it stays importable from here.
__all__ = ["BatchWriteError", "Collection", "CollectionInfo", "ItemQuery", "Page", "Settled",
           "Singleton", "ValuesQuery"]

T = TypeVar("T", bound=Mapping[str, Any])
R = TypeVar("R")

DEFAULT_PAGE_SIZE = 1000
DEFAULT_BATCH_SIZE = 1000
#: keys per request of in_bulk(); long lists go out as SEARCH through the read path
IN_BULK_BATCH = 500
_MISSING: Any = object()
_EXACT = ("__eq", "__exact")


@attrs.frozen
class Page(Generic[T]):
    """One window of items with Directus's counts (``meta=total_count,filter_count``)."""

    items: list[T]
    total_count: int | None
    filter_count: int | None


@attrs.frozen
class Settled:
    """Which of a BatchWriteError's uncertain rows landed (``Collection.settle``).

    ``landed`` and ``not_landed`` hold the error's ``uncertain`` entries (input items, or
    keys) in input order: send ``not_landed`` again, never ``landed``.
    """

    landed: list[Any]
    not_landed: list[Any]


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _value_at(row: Mapping[str, Any], path: str) -> Any:
    """Return the value at a dotted path of a row (None where a relation is empty)."""
    value: Any = row
    for seg in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(seg)
    return value


def _scalar(value: Any, what: str) -> Any:
    # A key of the dict in_bulk returns, and a value a filter can match: a JSON scalar.
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        raise UsageError(f"{what}: expected a str or a number, got {value!r}")
    return value


def _not_unique(exc: APIError) -> bool:
    return isinstance(exc, InvalidRequest) and exc.code == "RECORD_NOT_UNIQUE"


def _describe(qs: Sequence[Any], lookups: Mapping[str, Any]) -> str:
    parts = [repr(q) for q in qs] + [f"{k}={v!r}" for k, v in lookups.items()]
    return ", ".join(parts)


def check_concurrency(concurrency: Any) -> int:
    """Return how many batches may be in flight at once (a positive int)."""
    return check_positive_int(concurrency, "concurrency")


class _Lazy:
    """No truth value and no len(): either would be a request hidden in an ``if``."""

    __slots__ = ()

    def __bool__(self) -> bool:
        raise TypeError("a lazy query has no truth value (that would be a hidden request): "
                        "use .exists()")

    def __len__(self) -> int:
        raise TypeError("a lazy query has no len() (that would be a hidden request): "
                        "use .count()")


class _Handle(_Lazy, BoundChain["ItemQuery[T]"], Generic[T]):
    """What a collection handle and its bound queries share: the chain and every read.

    The chain methods of the query parameters come from BoundChain (one per row of
    pydirectus.query.parts); filter, exclude and query are here, as ``pk`` is resolved
    by the handle.
    """

    __slots__ = ()
    _handle: Collection[T]
    _query: Query

    def _rebind(self, query: Query) -> ItemQuery[T]:
        return ItemQuery(self._handle, query)

    _bind = _rebind

    def _run(self, plan: Plan[R]) -> R:
        return self._handle._runner.run(plan)

    @property
    def _reads(self) -> ReadPath:
        return self._handle._path

    def _compiled(self, query: Query | None = None) -> Plan[dict[str, Any]]:
        return self._reads.compile(self._query if query is None else query)

    # ------------------------------------------------------------------ chaining

    def _resolve_pk(self, lookups: Mapping[str, Any]) -> Plan[dict[str, Any]]:
        # ``pk`` names the primary key (Django's alias); the handle knows which field it is.
        if not any(k == "pk" or k.startswith("pk__") for k in lookups):
            return dict(lookups)
        pk = yield from self._primary_key()
        return {(pk + k[2:] if k == "pk" or k.startswith("pk__") else k): v
                for k, v in lookups.items()}

    def _primary_key(self) -> Plan[str]:
        # Learned from what the token may read, else SchemaRequired says how to name it
        # (PermissionDenied when the token may not read the collection at all).
        return (yield from self._reads.primary_key_to_read("a primary-key lookup"))

    def _lookups(self, lookups: Mapping[str, Any]) -> dict[str, Any]:
        # A chain method must not send: ``pk`` resolves from what is known, else from one
        # request of the sync face (the async face names the key or passes it to get()).
        if not any(k == "pk" or k.startswith("pk__") for k in lookups):
            return dict(lookups)
        known = self._reads.known_primary_key()
        if known is not None:
            return {(known + k[2:] if k == "pk" or k.startswith("pk__") else k): v
                    for k, v in lookups.items()}
        if not self._handle._runner.blocking:
            raise UsageError(
                f"pk: the primary key of {self._handle.name!r} is not known yet, and a chain "
                f"method does not send: name it (client.collection({self._handle.name!r}, "
                f"pk='<field>')), or read once first (await ....get(pk=...) learns it)")
        return self._run(self._resolve_pk(lookups))

    def filter(self, *qs: Q | Mapping[str, Any], **lookups: Any) -> ItemQuery[T]:
        """Add conditions (AND) that items must match; ``pk`` names the primary key."""
        return self._bind(self._query.filter(*qs, **self._lookups(lookups)))

    def exclude(self, *qs: Q | Mapping[str, Any], **lookups: Any) -> ItemQuery[T]:
        """Add conditions (AND NOT) that items must not match, nulls counted as not matching."""
        return self._bind(self._query.exclude(*qs, **self._lookups(lookups)))

    def query(self, query: Query | Mapping[str, Any]) -> ItemQuery[T]:
        """Merge a Query (or Directus query dict) into the bound one: see ``Query.merge``."""
        if not isinstance(query, Query | Mapping):
            raise InvalidQuery(f"query: expected a Query or a dict, got {type(query).__name__}")
        return self._bind(self._query.merge(query))

    def compile(self, query: Query | Mapping[str, Any]) -> dict[str, Any]:
        """Return the Directus query object of a Query (or query dict) for this collection
        (names checked where the schema is known; GET /relations read once where negation
        needs it)."""
        return self._run(self._reads.compile(check_query(query)))

    def to_dict(self) -> dict[str, Any]:
        """Return the Directus query object, compiled with the client's schema (for presets)."""
        return self._run(self._compiled())

    def __getitem__(self, item: int | slice) -> Any:
        """Return item ``i`` (one GET /items/{collection}), or a narrower query for a slice."""
        if isinstance(item, slice):
            return BoundChain.__getitem__(self, item)
        if isinstance(item, bool) or not isinstance(item, int):
            raise InvalidQuery(f"index: expected an int or a slice, got {item!r}")
        if item < 0:
            raise InvalidQuery(
                f"index {item}: negative indexes are not supported (they would need a "
                "count first); sort the other way (sort('-...')) and index from the start"
            )
        return self._run(self._index(item))

    def _index(self, item: int) -> Plan[T]:
        rows = yield from self._fetch_plan(self._query[item:item + 1])
        if not rows:
            raise IndexError(f"index {item} is past the end of the query")
        found: T = rows[0]
        return found


    # ------------------------------------------------------------------ reads

    def _fetch_plan(self, query: Query | None = None) -> Plan[Any]:
        compiled = yield from self._compiled(query)
        data, _ = yield from self._reads.fetch(compiled)
        return data

    def fetch(self) -> list[T]:
        """Return the window's items from GET (or SEARCH) /items/{collection}.

        With no limit this is Directus's own answer to one request (its default page);
        with a limit, or limit(-1), every match of the window, paged past the server's cap.
        An aggregate's data is its rows (every group), not items; a collection that turns
        out to be a singleton answers its one object (use ``client.singleton()``).
        """
        return cast("list[T]", self._run(self._fetch_plan()))

    def __iter__(self) -> Iterator[T]:
        """Iterate every match of the window via GET /items/{collection}, page by page.

        The next page is fetched in the background while the loop works on this one,
        unless the client was made with prefetch=False (see ``iterator``).
        """
        return self.iterator()

    def __aiter__(self) -> AsyncIterator[T]:
        """Iterate (``async for``, async face) like ``__iter__``: one page fetched ahead."""
        return cast("AsyncIterator[T]", self.iterator())

    def iterator(self, *, prefetch: bool | None = None) -> Iterator[T]:
        """Iterate like iter(query) (GET /items/{collection}); prefetch=False: each page is
        fetched only when the loop reaches it; None: the client's setting."""
        rows: Iterator[T] = self._handle._runner.rows(self._pages(self._query),
                                                      self._prefetch(prefetch))
        return rows

    def _prefetch(self, prefetch: bool | None) -> bool:
        if prefetch is not None and not isinstance(prefetch, bool):
            raise UsageError(f"prefetch: expected True, False or None, got {prefetch!r}")
        return self._handle._runner.prefetch if prefetch is None else prefetch

    # ------------------------------------------------------------------ tables

    def _frame_stream(self) -> Plan[None]:
        compiled = yield from self._compiled()
        yield from frame_stream(self._reads, compiled)

    def _table(self, convert: frames.Convert, prefetch: bool | None) -> Any:
        return frames.read_table(self._handle._runner, self._frame_stream(),
                                 self._prefetch(prefetch), convert)

    def iter_batches(self, *, prefetch: bool | None = None) -> Iterator[pa.RecordBatch]:
        """Iterate every match of the window as pyarrow record batches, one per page of
        GET /items/{collection} (the first always comes, empty when nothing matches); the
        schema as to_arrow()'s. Needs ``pip install 'pydirectus[arrow]'``."""
        return cast("Iterator[pa.RecordBatch]", frames.iter_batches(
            self._handle._runner, self._frame_stream(), self._prefetch(prefetch)))

    def to_arrow(self, *, prefetch: bool | None = None) -> pa.Table:
        """Return every match of the window as a pyarrow Table, read page by page from
        GET /items/{collection}; column types from the field types (pydirectus.frames).
        Needs ``pip install 'pydirectus[arrow]'``."""
        return cast("pa.Table", self._table(frames.to_arrow(), prefetch))

    def to_pandas(self, *, dtype_backend: str | None = None,
                  prefetch: bool | None = None) -> pd.DataFrame:
        """Return every match of the window as a pandas DataFrame, read page by page from
        GET /items/{collection} through Arrow; ``dtype_backend`` as pandas' readers take
        it (None, "numpy_nullable", "pyarrow"). Needs ``pip install 'pydirectus[pandas]'``."""
        return cast("pd.DataFrame", self._table(frames.to_pandas(dtype_backend), prefetch))

    def to_polars(self, *, prefetch: bool | None = None) -> pl.DataFrame:
        """Return every match of the window as a polars DataFrame, read page by page from
        GET /items/{collection} through Arrow. Needs ``pip install 'pydirectus[polars]'``."""
        return cast("pl.DataFrame", self._table(frames.to_polars(), prefetch))

    def _pages(self, query: Query) -> Plan[None]:
        compiled = yield from self._compiled(query)
        yield from self._reads.pages(compiled)

    def _all(self, query: Query) -> Plan[list[T]]:
        compiled = yield from self._compiled(query)
        rows, _ = yield from collect(self._reads.pages(compiled))
        return rows

    def all(self) -> list[T]:
        """Return every match of the window as a list (pages through GET /items/{collection})."""
        return self._run(self._all(self._query))

    def _read(self, terminal: str) -> Plan[Any]:
        compiled = yield from self._compiled()
        return (yield from getattr(self._reads, terminal)(compiled))

    def first(self) -> T | None:
        """Return the window's first match or None (GET /items/{collection}, one row)."""
        return cast("T | None", self._run(self._read("first")))

    def last(self) -> T | None:
        """Return the window's last match or None (GET /items/{collection} in reverse order).

        An unordered query is ordered by primary key; a window that does not start at
        the first match also costs one count.
        """
        return cast("T | None", self._run(self._read("last")))

    def latest(self, *fields: str) -> T:
        """Return the window's last item by ``fields`` (Django's latest(); ``"-f"`` reverses),
        else by the query's sort, else by primary key: GET /items/{collection}, one row.
        NotFound when nothing matches."""
        return self._run(self._extreme(fields, "latest"))

    def earliest(self, *fields: str) -> T:
        """Return the window's first item by ``fields`` (Django's earliest()), else by the
        query's sort, else by primary key: GET /items/{collection}, one row. NotFound when
        nothing matches."""
        return self._run(self._extreme(fields, "earliest"))

    def _extreme(self, fields: Sequence[str], which: str) -> Plan[T]:
        keys = list(names(f"{which}()", fields)) if fields else list(
            getattr(self._query, BY_NAME["sort"].attr))
        if not keys:
            keys = [(yield from self._primary_key())]
        if which == "latest":
            keys = [key[1:] if key.startswith("-") else f"-{key}" for key in keys]
        compiled = yield from self._compiled(self._query.sort(*keys))
        row = yield from self._reads.first(compiled)
        if row is None:
            raise NotFound(404, "ITEM_NOT_FOUND",
                           f"{which}(): no item in {self._handle.name!r} matches the query",
                           {"collection": self._handle.name}, None)
        return cast("T", row)

    def count(self) -> int:
        """Return how many matches the window holds (GET /items/{collection}?aggregate)."""
        return cast(int, self._run(self._read("count")))

    def exists(self) -> bool:
        """Return whether the window holds any match (GET /items/{collection}, one row)."""
        return cast(bool, self._run(self._read("exists")))

    def _with_meta(self) -> Plan[Page[T]]:
        compiled = yield from self._compiled()
        data, meta = yield from self._reads.fetch(compiled, meta=("total_count", "filter_count"))
        items: list[T] = list(data or []) if isinstance(data, list) else [data]
        return Page(items, _int_or_none(meta.get("total_count")),
                    _int_or_none(meta.get("filter_count")))

    def with_meta(self) -> Page[T]:
        """Return the window's items with total_count and filter_count (GET /items/{c}?meta)."""
        return self._run(self._with_meta())

    # --------------------------------------------------------------- one item

    def get(self, key: Any = _MISSING, /, *qs: Q | Mapping[str, Any], **lookups: Any) -> T:
        """Return the one item matching a key or lookups; NotFound if none, MultipleItemsFound
        if several. ``get(pk)`` reads GET /items/{collection}/{pk}; ``get(**lookups)`` and
        ``get(Q)`` read GET /items/{collection} with limit 2."""
        return self._run(self._get(key, *qs, **lookups))

    def _get(self, key: Any = _MISSING, /, *qs: Q | Mapping[str, Any],
             **lookups: Any) -> Plan[T]:
        if key is not _MISSING and not isinstance(key, Q | Mapping):
            if qs or lookups:
                raise InvalidQuery("get(): give a key or lookups, not both (use pk=... with "
                                   "other lookups)")
            checked = check_key(key)
            compiled = yield from self._compiled()
            item: T = yield from self._reads.get(compiled, checked)
            return item
        if key is not _MISSING:
            qs = (key, *qs)
        if not qs and not lookups:
            raise InvalidQuery("get(): expected a key, a Q or lookups")
        resolved = yield from self._resolve_pk(lookups)
        rows = list((yield from self._fetch_plan(self._query.filter(*qs, **resolved)[:2]))
                    or [])
        if not rows:
            raise NotFound(404, "ITEM_NOT_FOUND",
                           f"no item in {self._handle.name!r} matches {_describe(qs, lookups)}",
                           {"collection": self._handle.name}, None)
        if len(rows) > 1:
            pk = yield from self._primary_key()
            raise MultipleItemsFound(
                f"more than one item in {self._handle.name!r} matches "
                f"{_describe(qs, lookups)}", [row.get(pk) for row in rows])
        found: T = rows[0]
        return found

    def _create_data(self, lookups: Mapping[str, Any], defaults: Mapping[str, Any] | None,
                     ) -> Plan[dict[str, Any]]:
        data: dict[str, Any] = {}
        for key, value in (yield from self._resolve_pk(lookups)).items():
            # Only exact lookups on the collection's own fields say what to create.
            name = next((key[: -len(s)] for s in _EXACT if key.endswith(s)), key)
            if "__" not in name:
                data[name] = value
        if defaults is not None:
            if not isinstance(defaults, Mapping):
                raise UsageError(f"defaults: expected a dict, got {type(defaults).__name__}")
            data.update(defaults)
        return data

    def get_or_create(self, defaults: Mapping[str, Any] | None = None,
                      **lookups: Any) -> tuple[T, bool]:
        """Return (item, False) for the one match, else create it from the exact lookups and
        ``defaults`` and return (item, True). GET then POST /items/{collection}; a create
        refused as RECORD_NOT_UNIQUE (someone else created it meanwhile) reads again."""
        return self._run(self._get_or_create(defaults, lookups))

    def _get_or_create(self, defaults: Mapping[str, Any] | None,
                       lookups: Mapping[str, Any]) -> Plan[tuple[T, bool]]:
        if not lookups:
            raise InvalidQuery("get_or_create(): expected lookups")
        data = yield from self._create_data(lookups, defaults)
        try:
            return (yield from self._get(**lookups)), False
        except NotFound:
            pass
        try:
            return (yield from self._handle._create(data, None)), True
        except APIError as exc:
            if not _not_unique(exc):
                raise
        return (yield from self._get(**lookups)), False

    def update_or_create(self, defaults: Mapping[str, Any] | None = None, *,
                         create_defaults: Mapping[str, Any] | None = None,
                         **lookups: Any) -> tuple[T, bool]:
        """Update the one match with ``defaults`` and return (item, False), else create it
        from the exact lookups and ``create_defaults`` (default: ``defaults``) and return
        (item, True). GET, then PATCH or POST /items/{collection}; a create refused as
        RECORD_NOT_UNIQUE (a concurrent create) reads the winner and updates it."""
        return self._run(self._update_or_create(defaults, create_defaults, lookups))

    def _update_or_create(self, defaults: Mapping[str, Any] | None,
                          create_defaults: Mapping[str, Any] | None,
                          lookups: Mapping[str, Any]) -> Plan[tuple[T, bool]]:
        if not lookups:
            raise InvalidQuery("update_or_create(): expected lookups")
        changes = dict(check_data(defaults, "defaults")) if defaults is not None else {}
        if create_defaults is not None:
            check_data(create_defaults, "create_defaults")
        data = yield from self._create_data(
            lookups, defaults if create_defaults is None else create_defaults)
        for attempt in (1, 2):
            try:
                found = yield from self._get(**lookups)
            except NotFound:
                if attempt == 2:
                    raise
            else:
                if not changes:
                    return found, False
                pk = yield from self._primary_key()
                key = found.get(pk)
                if key is None:
                    raise InvalidQuery(f"update_or_create(): the match came back without its "
                                       f"primary key {pk!r}; include it in fields()")
                return (yield from self._handle._update(key, changes, None)), False
            try:
                return (yield from self._handle._create(data, None)), True
            except APIError as exc:
                if not _not_unique(exc):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # --------------------------------------------------------------- many items

    def in_bulk(self, keys: Iterable[Any] | None = None, *, field_name: str = "pk",
                batch_size: int = IN_BULK_BATCH) -> dict[Any, T]:
        """Return {key: item} for the given keys (all matches if None), one GET (or SEARCH)
        /items/{collection} per batch of keys; ``field_name`` must be unique."""
        check_positive_int(batch_size, "batch_size")
        if not isinstance(field_name, str) or not field_name:
            raise UsageError(f"field_name: expected a field name, got {field_name!r}")
        if keys is not None and (isinstance(keys, str | bytes | Mapping) or not isinstance(
                keys, Iterable)):
            raise UsageError(f"in_bulk(): expected an iterable of keys, got {keys!r}")
        field_path(field_name)  # a bad name is refused here, not when the plan runs
        checked = None if keys is None else [
            check_key(key, f"in_bulk key [{index}]") if field_name == "pk"
            else _scalar(key, f"in_bulk key [{index}]") for index, key in enumerate(keys)]
        return self._run(self._in_bulk(checked, field_name, batch_size))

    def _in_bulk(self, keys: list[Any] | None, field_name: str,
                 batch_size: int) -> Plan[dict[Any, T]]:
        field = (yield from self._primary_key()) if field_name == "pk" else field_path(
            field_name)
        lookup = field.replace(".", "__")
        if keys is None:
            rows = yield from self._all(self._query)
            return {_value_at(row, field): row for row in rows}
        wanted = list(dict.fromkeys(keys))
        out: dict[Any, T] = {}
        for start in range(0, len(wanted), batch_size):
            batch = wanted[start:start + batch_size]
            for row in (yield from self._all(self._query.filter(**{f"{lookup}__in": batch}))):
                out[_value_at(row, field)] = row
        return out

    def values_list(self, *fields: str, flat: bool = False,
                    named: bool = False) -> ValuesQuery:
        """Return a lazy query of tuples of the given fields per match (single values with
        ``flat=True``, namedtuples with ``named=True``), read from GET /items/{collection}
        when iterated or asked for ``all()``: ``[:3]`` reads three rows."""
        if not names("values_list()", fields):
            raise InvalidQuery("values_list(): name the fields to return")
        check_bool(flat, "flat")
        check_bool(named, "named")
        if flat and named:
            raise InvalidQuery("values_list(): flat=True and named=True cannot go together")
        shape = "flat" if flat else "named" if named else "tuple"
        values = _values_query(self._bind(self._query), fields, shape, "values_list()")
        if flat and len(values._paths) != 1:
            raise InvalidQuery(f"values_list(flat=True) takes one field, got "
                               f"{len(values._paths)}")
        return values

    def values(self, *fields: str) -> ValuesQuery:
        """Return a lazy query of a dict of the given fields (keyed as given) per match, read
        from GET /items/{collection} when iterated or asked for ``all()``; without fields,
        the items as they come."""
        return _values_query(self._bind(self._query), fields, "dict", "values()")


def _values_query(items: ItemQuery[Any], fields: Sequence[str], shape: str,
                  part: str) -> ValuesQuery:
    """Bind a shape to an item query, reading only the fields named (all without)."""
    paths = names(part, fields)
    # Keyed as given: one list argument gives its names.
    given: Sequence[Any] = fields
    if len(given) == 1 and isinstance(given[0], list | tuple):
        given = given[0]
    return ValuesQuery(items.fields(*paths) if paths else items, tuple(given), paths, shape)


@attrs.frozen(repr=False)
class ValuesQuery(_Lazy, BoundChain["ValuesQuery"]):
    """A lazy ``values()``/``values_list()`` query: an item query plus the shape of each row.

    Chain methods (``filter``, ``order_by``, a slice, ...) narrow it as they narrow the
    item query, so a window applies before anything is read; iterating (``async for`` on
    the async face), ``all()``, ``first()``, ``count()`` and ``exists()`` send.
    """

    _items: ItemQuery[Any]
    #: the names as given (dict keys, namedtuple fields) and their Directus paths
    _names: tuple[str, ...]
    _paths: tuple[str, ...]
    #: "dict", "tuple", "flat" or "named"
    _shape: str

    @property
    def _query(self) -> Query:  # type: ignore[override]
        return self._items.as_query

    def _rebind(self, query: Query) -> ValuesQuery:
        return attrs.evolve(self, items=self._items._rebind(query))

    def __repr__(self) -> str:
        return f"<ValuesQuery {self._shape} {list(self._names)} of {self._items!r}>"

    def _row(self, row: Mapping[str, Any]) -> Any:
        if not self._names:
            return dict(row)
        values = [_value_at(row, path) for path in self._paths]
        if self._shape == "flat":
            return values[0]
        if self._shape == "tuple":
            return tuple(values)
        if self._shape == "named":
            return namedtuple("Row", self._names, rename=True)(*values)
        return dict(zip(self._names, values, strict=True))

    def filter(self, *qs: Q | Mapping[str, Any], **lookups: Any) -> ValuesQuery:
        """Add conditions (AND) that items must match, as ``ItemQuery.filter``."""
        return attrs.evolve(self, items=self._items.filter(*qs, **lookups))

    def exclude(self, *qs: Q | Mapping[str, Any], **lookups: Any) -> ValuesQuery:
        """Add conditions (AND NOT) that items must not match, as ``ItemQuery.exclude``."""
        return attrs.evolve(self, items=self._items.exclude(*qs, **lookups))

    def __getitem__(self, item: int | slice) -> Any:
        """Return row ``i`` (one GET /items/{collection}), or a narrower query for a slice."""
        if isinstance(item, slice):
            return self._rebind(self._query[item])
        return self._items._run(self._index(item))

    def _index(self, item: int) -> Plan[Any]:
        return self._row((yield from self._items._index(item)))

    def __iter__(self) -> Iterator[Any]:
        """Iterate the rows' values, paging through GET /items/{collection}."""
        return map(self._row, self._items.iterator())

    def __aiter__(self) -> AsyncIterator[Any]:
        """Iterate (``async for``, async face) like ``__iter__``."""
        return self._arows(cast("AsyncIterator[Any]", self._items.iterator()))

    async def _arows(self, rows: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for row in rows:
            yield self._row(row)

    def all(self) -> list[Any]:
        """Return every match's values as a list (pages through GET /items/{collection})."""
        return self._items._run(self._all())

    def _all(self) -> Plan[list[Any]]:
        rows = yield from self._items._all(self._query)
        return [self._row(row) for row in rows]

    def first(self) -> Any:
        """Return the first match's values, or None (GET /items/{collection}, one row)."""
        return self._items._run(self._first())

    def _first(self) -> Plan[Any]:
        row = yield from self._items._read("first")
        return None if row is None else self._row(row)

    def count(self) -> int:
        """Return how many matches the window holds (GET /items/{collection}?aggregate)."""
        return self._items.count()

    def exists(self) -> bool:
        """Return whether the window holds any match (GET /items/{collection}, one row)."""
        return self._items.exists()



@attrs.frozen(repr=False)
class ItemQuery(_Handle[T]):
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
               batch_size: int = DEFAULT_BATCH_SIZE, concurrency: int = 1) -> list[T]:
        """Update every match of the window: keys read, then PATCH /items/{collection} per batch.

        Reading the keys first covers every match whatever the server's QUERY_LIMIT_MAX
        (Directus caps a query-based PATCH there silently). Returns the updated items.
        """
        body = dict(check_data(data))
        size = check_batch_size(batch_size)
        params = fields_params(fields)
        check_concurrency(concurrency)
        self._handle._refuse_singleton("update")
        return self._run(self._write_matches("PATCH", size, params, body, concurrency))

    def delete(self, *, batch_size: int = DEFAULT_BATCH_SIZE * 10,
               concurrency: int = 1) -> int:
        """Delete every match of the window (keys read, then DELETE /items/{c} per batch).

        Returns how many items were deleted: the keys read, each of which existed then.
        """
        size = check_batch_size(batch_size)
        check_concurrency(concurrency)
        self._handle._refuse_singleton("delete")
        return self._run(self._delete_matches(size, concurrency))

    def _keys(self, needed_for: str) -> Plan[list[Any]]:
        compiled = yield from self._compiled()
        return (yield from self._reads.keys(compiled, needed_for))

    def _write_matches(self, method: str, size: int, params: dict[str, str] | None,
                       body: dict[str, Any], concurrency: int) -> Plan[list[T]]:
        keys = yield from self._keys("a filtered update")
        return (yield from self._handle._write_keys(method, keys, size, params, body,
                                                    "updated", concurrency))

    def _delete_matches(self, size: int, concurrency: int) -> Plan[int]:
        keys = yield from self._keys("a filtered delete")
        yield from self._handle._write_keys("DELETE", keys, size, None, None, "deleted",
                                            concurrency)
        return len(keys)


class Collection(_Handle[T]):
    """A handle on /items/{name}: chain a query, iterate it, and write items.

    Nothing here needs schema-read permission: the primary key and the singleton flag are
    learned from what the token may read (see pydirectus.core.schema), or given with
    ``pk=`` / ``singleton=``.
    """

    def __init__(self, name: str, transport: Runner, schema: SchemaCache, *,
                 page_size: int = DEFAULT_PAGE_SIZE,
                 route: tuple[str, ...] | None = None,
                 pk: str | None = None,
                 singleton: bool | None = None,
                 rules: ReadRules = ReadRules()) -> None:  # noqa: B008 - frozen
        encode_segment(check_name(name))
        check_positive_int(page_size, "page_size")
        if pk is not None and (not isinstance(pk, str) or not pk.strip()):
            raise UsageError(f"pk: expected the primary key's field name, got {pk!r}")
        if singleton is not None:
            check_bool(singleton, "singleton")
        self.name = name
        # System collections live at their own routes: directus_files at /files, ...
        self.route = route or ("items", name)
        # The face's runner (the sync Transport, or the async one): it drives the plans.
        self._runner = transport
        self._schema = schema
        self._path = ReadPath(name, self.route, schema, page_size, primary_key=pk,
                              singleton=singleton, rules=rules)
        self._handle = self
        self._query = Query()

    def __repr__(self) -> str:
        return f"<Collection {self.name!r}>"

    @property
    def page_size(self) -> int:
        """Return how many items one read asks for (capped by the server's QUERY_LIMIT_MAX)."""
        return self._path.page_size

    @page_size.setter
    def page_size(self, size: int) -> None:
        self._path.page_size = check_positive_int(size, "page_size")

    # Writing.

    def _refuse_singleton(self, action: str) -> None:
        # Only what is already known: a write never waits on a schema read.
        if self.route[0] == "items" and self._path.known_singleton():
            raise UsageError(f"collection {self.name!r} is a singleton: {action} it with "
                             f"client.singleton({self.name!r})")

    def _singleton_refused(self, error: NotFound, action: str) -> UsageError | NotFound:
        # Directus answers a write to /items/{singleton} with ROUTE_NOT_FOUND.
        if self.route[0] == "items" and error.code == "ROUTE_NOT_FOUND":
            self._schema.remember(self.name, singleton=True)
            return UsageError(f"collection {self.name!r} is a singleton: {action} it with "
                              f"client.singleton({self.name!r})")
        return error

    def create(self, data: Mapping[str, Any], *, fields: Sequence[str] | None = None) -> T:
        """Create one item with POST /items/{collection}; return it.

        Returns an empty dict when the token may create the item but not read it back.
        """
        body = dict(check_data(data))
        params = fields_params(fields)
        return self._run(self._create(body, params))

    def _create(self, body: dict[str, Any], params: dict[str, str] | None) -> Plan[T]:
        self._refuse_singleton("create")
        try:
            created = yield from plans.data("POST", *self.route, params=params, json=body,
                                            expect=plans.OBJECT_OR_NOTHING)
        except NotFound as missing:
            error = missing
        else:
            if created is None:  # 204: the token may create the item but not read it back
                return cast("T", {})
            return cast("T", (yield from self._path.typed(created)))
        raise self._singleton_refused(error, "create") from None

    def create_many(self, items: Iterable[Mapping[str, Any]], *,
                    batch_size: int = DEFAULT_BATCH_SIZE,
                    fields: Sequence[str] | None = None, concurrency: int = 1) -> list[T]:
        """Create items with one POST /items/{collection} per batch; return them in order.

        ``concurrency``: how many batches are in flight at once. A failing batch raises
        BatchWriteError with what was written, what was not, and (after a connection
        failure) the batch that may or may not have landed.
        """
        checked = check_items(items, "items")
        size = check_batch_size(batch_size)
        params = fields_params(fields)
        check_concurrency(concurrency)
        if not checked:
            return self._run(plans.done([]))
        self._refuse_singleton("create")
        return self._run(self._write_items("POST", checked, size, params, "create",
                                           concurrency))

    def _write_items(self, method: str, items: Sequence[Mapping[str, Any]], size: int,
                     params: dict[str, str] | None, verb: str,
                     concurrency: int = 1) -> Plan[list[T]]:
        def send(batch: Sequence[Mapping[str, Any]]) -> Plan[list[T]]:
            answer = yield from plans.data(method, *self.route, params=params,
                                           json=list(batch), expect=plans.OBJECTS_OR_NOTHING)
            return cast("list[T]", (yield from self._path.typed(answer)))

        return (yield from write_in_batches(send, items, size, what=f"{verb} in {self.name!r}",
                                            operation=verb, concurrency=concurrency))

    def update(self, pk: str | int, data: Mapping[str, Any], *,
               fields: Sequence[str] | None = None) -> T:
        """Update one item with PATCH /items/{collection}/{pk}; return it, NotFound if missing.

        Returns an empty dict when the token may update the item but not read it back.
        """
        key, body = check_key(pk), dict(check_data(data))
        params = fields_params(fields)
        self._refuse_singleton("update")
        return self._run(self._update(key, body, params))

    def _update(self, key: str | int, body: dict[str, Any],
                params: dict[str, str] | None) -> Plan[T]:
        denied: PermissionDenied | None = None
        try:
            updated = yield from plans.data("PATCH", *self.route, key, params=params, json=body,
                                            expect=plans.OBJECT_OR_NOTHING)
        except PermissionDenied as refusal:
            denied = refusal
        if denied is not None:
            yield from self._refused(key, denied)
        # 204: an admin's PATCH of a missing item, or a token that may not read it back.
        if updated is None:
            if (yield from self._path.item_exists(key)) is False:
                raise self._path.missing(key, False)
            return cast("T", {})
        return cast("T", (yield from self._path.typed(updated)))

    def update_many(self, keys: Iterable[str | int], data: Mapping[str, Any], *,
                    fields: Sequence[str] | None = None,
                    batch_size: int = DEFAULT_BATCH_SIZE, concurrency: int = 1) -> list[T]:
        """Apply the same change to items with PATCH /items/{collection} {keys, data} per batch
        (``concurrency`` batches in flight at once)."""
        checked, body = check_keys(keys), dict(check_data(data))
        size = check_batch_size(batch_size)
        params = fields_params(fields)
        check_concurrency(concurrency)
        if not checked:
            return self._run(plans.done([]))
        self._refuse_singleton("update")
        return self._run(self._write_keys("PATCH", checked, size, params, body, "updated",
                                          concurrency))

    def _write_keys(self, method: str, keys: Sequence[str | int], size: int,
                    params: dict[str, str] | None, data: dict[str, Any] | None,
                    verb: str, concurrency: int = 1) -> Plan[list[T]]:
        # Deleting keys twice is harmless, so the transport may retry a DELETE; a PATCH may
        # run flows and hooks, so, like every write, it is not retried.
        idempotent = method == "DELETE"
        shape = plans.NOTHING if method == "DELETE" else plans.OBJECTS_OR_NOTHING

        def send(batch: Sequence[str | int]) -> Plan[list[T] | None]:
            body: Any = list(batch) if data is None else {"keys": list(batch), "data": data}
            answer = yield from plans.data(method, *self.route, params=params, json=body,
                                           idempotent=idempotent, expect=shape)
            if idempotent:
                # Directus answers a DELETE with 204: what landed is the batch's keys.
                return cast("list[T]", list(batch))
            if not answer:
                return cast("list[T] | None", answer)
            return cast("list[T]", (yield from self._path.typed(answer)))

        return (yield from write_in_batches(
            send, keys, size, what=f"{verb} in {self.name!r}",
            operation="delete" if idempotent else "update", concurrency=concurrency,
            changes=data))

    def update_batch(self, items: Iterable[Mapping[str, Any]], *,
                     batch_size: int = DEFAULT_BATCH_SIZE,
                     fields: Sequence[str] | None = None, concurrency: int = 1) -> list[T]:
        """Update items that each carry their primary key: one PATCH /items/{collection} per
        batch of items (``concurrency`` batches in flight at once); return them in order."""
        checked = check_items(items, "items")
        size = check_batch_size(batch_size)
        params = fields_params(fields)
        check_concurrency(concurrency)
        if not checked:
            return self._run(plans.done([]))
        return self._run(self._update_batch(checked, size, params, concurrency))

    def _update_batch(self, checked: list[Mapping[str, Any]], size: int,
                      params: dict[str, str] | None, concurrency: int) -> Plan[list[T]]:
        pk = yield from self._path.primary_key("update_batch()")
        for index, item in enumerate(checked):
            check_key(item.get(pk), f"items[{index}].{pk}")
        self._refuse_singleton("update")
        return (yield from self._write_items("PATCH", checked, size, params, "update",
                                             concurrency))

    def delete(self, pk: str | int) -> None:
        """Delete one item with DELETE /items/{collection}/{pk}; NotFound if it is not there.

        Directus deletes a missing item for an admin token without a word, so the item is
        looked up first (one read) when the token may read the collection.
        """
        key = check_key(pk)
        self._refuse_singleton("delete")
        return self._run(self._delete(key))

    def _delete(self, key: str | int) -> Plan[None]:
        if (yield from self._path.item_exists(key)) is False:
            raise self._path.missing(key, False)
        denied: PermissionDenied | None = None
        try:
            yield from plans.data("DELETE", *self.route, key, idempotent=True,
                                  expect=plans.NOTHING)
        except PermissionDenied as refusal:
            denied = refusal
        if denied is not None:
            yield from self._refused(key, denied)

    def _refused(self, key: str | int, denied: PermissionDenied) -> Plan[None]:
        # Directus refuses a write of a missing item to non-admin tokens like a forbidden
        # one: NotFound when the token may read the collection and the item is not there.
        if (yield from self._path.item_exists(key)) is False:
            raise self._path.missing(key, False, denied.response) from None
        raise denied

    def delete_many(self, keys: Iterable[str | int], *,
                    batch_size: int = DEFAULT_BATCH_SIZE * 10, concurrency: int = 1) -> int:
        """Delete items by key with one DELETE /items/{collection} per batch; return a count.

        The count is of keys that existed: each batch is first read back (one read of the
        keys) when the token may read the collection; a token that may not read it is
        refused missing keys by Directus, so then every key sent was deleted.
        """
        checked = check_keys(keys)
        size = check_batch_size(batch_size)
        check_concurrency(concurrency)
        if not checked:
            return self._run(plans.done(0))
        self._refuse_singleton("delete")
        return self._run(self._delete_many(checked, size, concurrency))

    def _delete_many(self, keys: list[str | int], size: int, concurrency: int) -> Plan[int]:
        existing = yield from self._existing(keys, size)
        yield from self._write_keys("DELETE", existing, size, None, None, "deleted",
                                    concurrency)
        return len(existing)

    def _existing(self, keys: list[str | int], size: int) -> Plan[list[str | int]]:
        try:
            pk = yield from self._path.primary_key("delete_many()")
        except SchemaRequired:
            return keys
        found: set[Any] = set()
        try:
            for batch in chunks(keys, size):
                rows, _ = yield from collect(self._path.pages(
                    {"filter": {pk: {"_in": list(batch)}}, "fields": [pk]}))
                found.update(self._path.keys_of(rows, pk))
        except PermissionDenied:
            return keys
        # Keys may be given as text ("5") for an integer key, and come back as numbers.
        present = {str(value) for value in found}
        return [key for key in keys if str(key) in present]


    # Settling what a lost answer left open.

    def settle(self, error: BatchWriteError, *, match: str | None = None) -> Settled:
        """Say which of a BatchWriteError's ``uncertain`` rows landed, by reading them back by
        key from GET /items/{collection} (one read per 500 keys).

        Deletes: a key no longer there landed. Updates: an item holding every value asked
        landed. Creates: an item found by its primary key (or by ``match``, a unique field
        the input items carry) landed; input without either cannot be settled by key and
        raises UsageError. Needs read permission on the collection.
        """
        if not isinstance(error, BatchWriteError):
            raise UsageError(f"settle(): expected a BatchWriteError, got {type(error).__name__}")
        if match is not None and (not isinstance(match, str) or not match):
            raise UsageError(f"match: expected a field name, got {match!r}")
        if error.operation not in ("create", "update", "delete"):
            raise UsageError(f"settle(): the error does not say which write it reports "
                             f"(operation={error.operation!r})")
        return self._run(self._settle(error, match))

    def _settle(self, error: BatchWriteError, match: str | None) -> Plan[Settled]:
        uncertain = list(error.uncertain)
        if not uncertain:
            return Settled([], [])
        if error.operation == "delete":
            found = yield from self._read_by_key(None, uncertain, ())
            return _split(uncertain, [str(key) not in found for key in uncertain])
        if error.operation == "create":
            field = match or (yield from self._path.primary_key("settle()"))
            for index, item in enumerate(uncertain):
                if not isinstance(item, Mapping) or item.get(field) is None:
                    raise UsageError(
                        f"settle(): uncertain[{index}] has no {field!r}, so whether it landed "
                        f"cannot be read by key: pass match='<a unique field the items "
                        f"carry>', or give the primary key in the input")
            found = yield from self._read_by_key(field, [i[field] for i in uncertain], ())
            return _split(uncertain, [str(item[field]) in found for item in uncertain])
        pk = yield from self._path.primary_key("settle()")
        if error.changes is not None:
            asked = [(key, error.changes) for key in uncertain]
        else:  # update_batch: each item carries its key and its changes
            asked = [(item[pk], {k: v for k, v in item.items() if k != pk})
                     for item in uncertain]
        wanted = sorted({name for _, changes in asked for name in changes})
        found = yield from self._read_by_key(pk, [key for key, _ in asked], wanted)
        return _split(uncertain, [str(key) in found and all(
            found[str(key)].get(name) == value for name, value in changes.items())
            for key, changes in asked])

    def _read_by_key(self, field: str | None, keys: list[Any], wanted: Sequence[str]
                     ) -> Plan[dict[str, Mapping[str, Any]]]:
        """Return {str(key): row} for the keys present (``field`` None: the primary key)."""
        name = field or (yield from self._path.primary_key("settle()"))
        found: dict[str, Mapping[str, Any]] = {}
        for batch in chunks(keys, IN_BULK_BATCH):
            query = Query().filter(**{f"{name}__in": list(batch)}).fields(name, *wanted)
            for row in (yield from self._all(query)):
                found[str(row.get(name))] = row
        return found


def _split(entries: list[Any], landed: list[bool]) -> Settled:
    pairs = list(zip(entries, landed, strict=True))
    return Settled([e for e, yes in pairs if yes], [e for e, yes in pairs if not yes])


class Singleton(Generic[T]):
    """A handle on a singleton collection: one item at /items/{name}."""

    def __init__(self, name: str, transport: Runner, schema: SchemaCache, *,
                 route: tuple[str, ...] | None = None) -> None:
        encode_segment(check_name(name, "singleton"))
        self.name = name
        self.route = route or ("items", name)
        self._runner = transport
        self._path = ReadPath(name, self.route, schema, DEFAULT_PAGE_SIZE, singleton=True)

    def __repr__(self) -> str:
        return f"<Singleton {self.name!r}>"

    def get(self, query: Query | Mapping[str, Any] | None = None) -> T:
        """Return the singleton's item from GET /items/{name}."""
        return self._runner.run(self._get(query_params(query)))

    def _get(self, params: dict[str, str] | None) -> Plan[T]:
        item = yield from plans.data("GET", *self.route, params=params, expect=plans.OBJECT)
        return cast("T", (yield from self._path.typed(item)))

    def update(self, data: Mapping[str, Any], *, fields: Sequence[str] | None = None) -> T:
        """Update the singleton's item with PATCH /items/{name}; return it."""
        body = dict(check_data(data))
        return self._runner.run(self._update(body, fields_params(fields)))

    def _update(self, body: dict[str, Any], params: dict[str, str] | None) -> Plan[T]:
        item = yield from plans.data("PATCH", *self.route, params=params, json=body,
                                     expect=plans.OBJECT_OR_NOTHING)
        return cast("T", (yield from self._path.typed(item)))
