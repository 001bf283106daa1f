"""The one read path of every handle: windows, paging, SEARCH, singletons, server limits.

Every read a handle makes (fetch, iteration, first/last, count, exists, with_meta, get,
aggregates, and the key reads behind filtered update/delete) goes through
:class:`ReadPath`. It

- honours the query's window (``limit``/``offset``/``page``, or a slice): ``count()``
  counts at most the window, ``first()`` is the window's first item;
- pages by key (keyset) where the order allows: the sort fields plus the primary key as a
  tie-break become a Directus filter "after the last row seen", with NULLs placed as the
  database places them; so edits while iterating neither skip nor repeat items, and a
  page costs the same wherever it is. It falls back to offset paging where a key cannot
  be compared (string, uuid or boolean sort fields or primary key, relational or function
  sort keys, grouped aggregates) or the primary key cannot be learned;
- adapts the page size to the server's ``QUERY_LIMIT_MAX`` (learned from the 400 that a
  larger limit gets), so ``limit(-1)`` and unbounded reads cover every match;
- sends the query as SEARCH with a JSON body when the query string would be too long;
- knows a singleton's shape (one object, not a list).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import closing
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import attrs

from .errors import InvalidQuery, InvalidRequest, NotFound, PermissionDenied, SchemaRequired
from .prefetch import Prefetch
from .query import query_to_params
from .transport import Call, unwrap

if TYPE_CHECKING:
    from .schema_cache import CollectionInfo, SchemaCache
    from .transport import Transport

__all__ = ["MAX_QUERY_STRING", "ReadPath", "Window", "keyset_filter"]

# Beyond this many bytes of query string, reads go out as SEARCH with the query in the body:
# proxies and servers commonly cap a request line at 8 KiB.
MAX_QUERY_STRING = 6000
# What a window keeps of a query; the rest says what to read, not where.
WINDOW_KEYS = ("limit", "offset", "page")
#: the limit an unbounded fetch() sends until the server's cap is known (2**31 - 1: a
#: LIMIT every database accepts); a capped Directus answers it with a 400 naming its cap
UNCAPPED_PROBE = 2**31 - 1
_PLAIN_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LIMIT_CAP = re.compile(r'"limit" must be less than or equal to (\d+)')
_OPERATOR_REFUSED = re.compile(r'does not contain the "_(gt|lt|eq|null|nnull)" filter operator')


@attrs.frozen
class Window:
    """Which matches a query selects: skip ``start`` of them, then at most ``size`` (None: all)."""

    start: int = 0
    size: int | None = None

    @classmethod
    def of(cls, compiled: Mapping[str, Any]) -> Window:
        """Return the window of a compiled query (limit -1 or none: to the end)."""
        limit, offset, page = (compiled.get(key) for key in WINDOW_KEYS)
        if page is not None and offset is not None:
            raise InvalidQuery("a query with both page and offset is ambiguous: use one")
        if page is not None:
            if limit is None or int(limit) < 0:
                raise InvalidQuery("page(n) needs limit(size) to say where page n starts")
            return cls((int(page) - 1) * int(limit), int(limit))
        size = None if limit is None or int(limit) < 0 else int(limit)
        return cls(int(offset or 0), size)

    def within(self, skip: int = 0, size: int | None = None) -> Window:
        """Return the part of this window that skips `skip` and keeps at most `size`."""
        left = None if self.size is None else max(self.size - skip, 0)
        if size is not None:
            left = size if left is None else min(left, size)
        return Window(self.start + skip, left)

    def count(self, total: int) -> int:
        """Return how many of `total` matches fall in the window."""
        inside = max(total - self.start, 0)
        return inside if self.size is None else min(inside, self.size)


@attrs.frozen
class SortKey:
    """One key of a total order: a field and its direction."""

    field: str
    descending: bool = False

    @classmethod
    def parse(cls, key: str) -> SortKey:
        """Return the key for Directus's spelling ("-date" sorts descending)."""
        return cls(key[1:], True) if key.startswith("-") else cls(key)

    def spelled(self) -> str:
        """Return Directus's spelling of the key."""
        return f"-{self.field}" if self.descending else self.field

    def reversed(self) -> SortKey:
        """Return the key sorting the other way."""
        return SortKey(self.field, not self.descending)


def keyset_filter(keys: Sequence[SortKey], values: Sequence[Any],
                  nulls_before: Sequence[bool | None]) -> dict[str, Any]:
    """Return the Directus filter for "after the row with these key values" in this order.

    ``nulls_before[i]`` says whether NULLs sort before values for key i in its direction
    (None: no NULLs can occur there). For each key i the filter allows rows equal on the
    keys before i and after the row on key i: greater (or less, descending), or NULL when
    NULLs come after values; after a NULL, any value when NULLs come first.
    """
    alternatives: list[dict[str, Any]] = []
    for index, key in enumerate(keys):
        value = values[index]
        if value is None:
            step: dict[str, Any] | None = (
                {key.field: {"_nnull": True}} if nulls_before[index] else None)
        else:
            beyond: dict[str, Any] = {key.field: {"_lt" if key.descending else "_gt": value}}
            step = ({"_or": [beyond, {key.field: {"_null": True}}]}
                    if nulls_before[index] is False else beyond)
        if step is not None:
            equal = [{k.field: {"_null": True} if v is None else {"_eq": v}}
                     for k, v in zip(keys[:index], values[:index], strict=True)]
            alternatives.append({"_and": [*equal, step]} if equal else step)
    if not alternatives:
        # Nothing sorts after this row: a filter no row matches.
        return {keys[-1].field: {"_null": True, "_nnull": True}}
    return alternatives[0] if len(alternatives) == 1 else {"_or": alternatives}


def _and(*filters: Any) -> dict[str, Any] | None:
    present = [f for f in filters if f]
    if not present:
        return None
    return present[0] if len(present) == 1 else {"_and": present}


def _query_string_may_exceed(params: Mapping[str, str], limit: int) -> bool:
    # A character percent-encodes to at most 12 bytes (4 UTF-8 bytes, %XX each): a cheap
    # bound spares most reads the cost of encoding the query string only to measure it.
    return sum(12 * (len(key) + len(value)) + 2 for key, value in params.items()) > limit


@attrs.frozen
class _Plan:
    """How one read pages: the total order, extra fields to fetch and strip, the mode."""

    order: tuple[SortKey, ...]
    added_fields: tuple[str, ...]
    keyset: bool


class ReadPath:
    """Every read of one handle: one request (GET or SEARCH) or a window read page by page."""

    def __init__(self, name: str, route: tuple[str, ...], transport: Transport,
                 schema: SchemaCache, page_size: int, *, primary_key: str | None = None,
                 singleton: bool | None = None,
                 send: Callable[[Mapping[str, Any]], tuple[Any, dict[str, Any]]] | None = None
                 ) -> None:
        self.name = name
        self.route = route
        self.transport = transport
        self.schema = schema
        self.page_size = page_size
        self._primary_key = primary_key
        self._singleton = singleton
        # Send every read as SEARCH (the query in the body), for routes whose GET is broken.
        self.search_only = False
        # Every read goes out through `send`: a handle may wrap it (a system route that
        # answers in its own way) and the whole read path follows.
        self.send = send or self.request
        if primary_key is not None or singleton is not None:
            schema.remember(name, primary_key=primary_key, singleton=singleton)

    # Facts about the collection.

    def info(self) -> CollectionInfo:
        """Return what is known of the collection (learned once, explicit facts first)."""
        info = self.schema.collection(self.name)
        if self._primary_key is not None:
            info = attrs.evolve(info, primary_key=self._primary_key)
        if self._singleton is not None:
            info = attrs.evolve(info, singleton=self._singleton)
        return info

    def primary_key(self, needed_for: str) -> str:
        """Return the primary key's name, or raise SchemaRequired saying how to give it."""
        if self._primary_key is not None:
            return self._primary_key
        return self.schema.primary_key(self.name, needed_for=needed_for)

    def primary_key_to_read(self, needed_for: str) -> str:
        """Return the primary key's name for a read; PermissionDenied if the token may not
        read the collection (GraphQL hides what it may not read: no key is learned then)."""
        try:
            return self.primary_key(needed_for)
        except SchemaRequired:
            self.check_readable()
            raise

    def known_singleton(self) -> bool | None:
        """Return whether the collection is a singleton, if already known (no request)."""
        if self._singleton is not None:
            return self._singleton
        known = self.schema.known(self.name)
        return None if known is None else known.singleton

    # One request.

    def request(self, compiled: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Send one read (SEARCH when the query string is too long); return data and meta."""
        params = query_to_params(compiled)
        if self.search_only or (_query_string_may_exceed(params, MAX_QUERY_STRING) and (
                len(urlencode(params)) > MAX_QUERY_STRING)):
            call = Call("SEARCH", self.route, json={"query": dict(compiled)})
        else:
            call = Call("GET", self.route, params=params)
        body = self.transport.send_json(call)
        # A list of items (an object when the collection is a singleton); anything else,
        # {"data": null} or a bare 42, is a server fault named by route, not a TypeError later.
        data = unwrap(body, call, (list, dict))
        meta = body.get("meta")
        if self.route[0] == "items" and "aggregate" not in compiled:
            # The answer's shape says what the collection is: a singleton answers an object.
            singleton = isinstance(data, dict)
            if self.known_singleton() is None:
                self.schema.remember(self.name, singleton=singleton)
        return data, meta if isinstance(meta, dict) else {}

    def _send_capped(self, compiled: dict[str, Any]) -> tuple[Any, dict[str, Any], int]:
        # Learn QUERY_LIMIT_MAX from the 400 a larger limit gets, and retry within it;
        # return the limit that was used with the answer.
        while True:
            try:
                data, meta = self.send(compiled)
                return data, meta, int(compiled["limit"])
            except InvalidRequest as refused:
                cap = self._cap_from(refused)
                limit = compiled.get("limit")
                if cap is None or limit is None or int(limit) <= cap or int(limit) < 0:
                    raise
                self.schema.server.query_limit_max = cap
                compiled = {**compiled, "limit": cap}

    @staticmethod
    def _cap_from(refused: InvalidRequest) -> int | None:
        match = _LIMIT_CAP.search(refused.reason or refused.message)
        return int(match.group(1)) if match else None

    def _page_size(self, remaining: int | None) -> int:
        size = self.page_size
        cap = self.schema.server.query_limit_max
        if cap is not None and cap > 0:
            size = min(size, cap)
        return size if remaining is None else max(min(size, remaining), 0)

    # A window, page by page.

    def pages(self, compiled: Mapping[str, Any], window: Window | None = None, *,
              meta: Sequence[str] = ()) -> Generator[tuple[list[Any], dict[str, Any]]]:
        """Yield (rows, meta) page by page until the window is read; meta on the first only."""
        window = Window.of(compiled) if window is None else window
        base = {k: v for k, v in compiled.items() if k not in WINDOW_KEYS and k != "meta"}
        if meta:
            base["meta"] = list(meta)
        if "aggregate" in base and "groupBy" not in base:
            data, got = self.send({**base, **_window_params(window)})
            yield list(data or []), got
            return
        if "groupBy" in base:
            yield from self._offset_pages(base, window, None)
            return
        if self.known_singleton():
            yield from self._singleton_page(base)
            return
        plan = self._plan(base)
        if plan is None or not plan.keyset:
            yield from self._offset_pages(base, window, plan)
        else:
            yield from self._keyset_pages(base, window, plan)

    def _singleton_page(self, base: dict[str, Any]) -> Iterator[tuple[list[Any], dict[str, Any]]]:
        data, got = self.send(base)
        yield ([data] if isinstance(data, dict) else list(data or [])), got

    def _plan(self, base: Mapping[str, Any]) -> _Plan | None:
        sort = [SortKey.parse(key) for key in base.get("sort") or ()]
        try:
            pk = self.primary_key("paging in a stable order")
        except InvalidQuery:
            self.transport.log.debug("%s: primary key unknown; paging by offset in the given "
                                     "order", self.name)
            return None
        order: list[SortKey] = []
        for key in sort:
            order.append(key)
            if key.field == pk:
                break
        else:
            order.append(SortKey(pk))
        aliases = set(base.get("alias") or ())
        plain = all(_PLAIN_FIELD.match(k.field) and k.field not in aliases for k in order)
        info = self.info()
        comparable = plain and not any(
            info.orderable(k.field) is False or self.schema.is_unordered(self.name, k.field)
            for k in order)
        fields = list(base.get("fields") or ())
        added: tuple[str, ...] = ()
        # "*", "*.*", ... cover every top-level field; "author.*" does not.
        if fields and not any(str(f).startswith("*") for f in fields):
            added = tuple(dict.fromkeys(k.field for k in order if k.field not in fields))
        return _Plan(tuple(order), added, comparable)

    def _request(self, base: Mapping[str, Any], plan: _Plan | None) -> dict[str, Any]:
        query = dict(base)
        if plan is not None:
            query["sort"] = [key.spelled() for key in plan.order]
            if plan.added_fields:
                query["fields"] = [*base.get("fields", ()), *plan.added_fields]
        return query

    @staticmethod
    def _strip(rows: list[Any], plan: _Plan | None) -> list[Any]:
        if plan is None or not plan.added_fields:
            return rows
        return [{k: v for k, v in row.items() if k not in plan.added_fields} for row in rows]

    def _offset_pages(self, base: dict[str, Any], window: Window, plan: _Plan | None
                      ) -> Iterator[tuple[list[Any], dict[str, Any]]]:
        query = self._request(base, plan)
        if "groupBy" in base and "sort" not in base:
            query["sort"] = list(base["groupBy"])  # a stable order for paging the groups
        position, remaining = window.start, window.size
        while remaining is None or remaining > 0:
            size = self._page_size(remaining)
            page = {**query, "limit": size}
            if position:
                page["offset"] = position
            data, got, size = self._send_capped(page)
            rows = list(data or []) if not isinstance(data, dict) else [data]
            yield self._strip(rows, plan), got
            query.pop("meta", None)
            if isinstance(data, dict) or len(rows) < size:
                return
            position += len(rows)
            if remaining is not None:
                remaining -= len(rows)

    def _keyset_pages(self, base: dict[str, Any], window: Window, plan: _Plan
                      ) -> Iterator[tuple[list[Any], dict[str, Any]]]:
        query = self._request(base, plan)
        remaining = window.size
        seen = 0
        last: list[Any] | None = None
        nulls: list[bool | None] | None = None
        while remaining is None or remaining > 0:
            size = self._page_size(remaining)
            page = {**query, "limit": size}
            if last is None:
                if window.start:
                    page["offset"] = window.start
            else:
                if nulls is None:
                    nulls = [self._nulls_before(base, key, pk_key=index == len(plan.order) - 1)
                             for index, key in enumerate(plan.order)]
                after = keyset_filter(plan.order, last, nulls)
                page["filter"] = _and(base.get("filter"), after)
            try:
                data, got, size = self._send_capped(page)
            except (InvalidRequest, InvalidQuery) as refused:
                # The handle may explain a refusal as InvalidQuery (its cause, the 400).
                answer = refused if isinstance(refused, InvalidRequest) else refused.__cause__
                if last is None or not isinstance(answer, InvalidRequest) or (
                        not _OPERATOR_REFUSED.search(answer.message)):
                    raise
                self._mark_unordered(plan, last)
                # The same total order by offset from here: no item skipped or repeated.
                offset_plan = attrs.evolve(plan, keyset=False)
                yield from self._offset_pages(base, window.within(seen), offset_plan)
                return
            if isinstance(data, dict):  # a singleton after all
                yield [data], got
                return
            rows = list(data or [])
            yield self._strip(rows, plan), got
            query.pop("meta", None)
            if len(rows) < size:
                return
            seen += len(rows)
            if remaining is not None:
                remaining -= len(rows)
            # A Decimal (a typed decimal field) goes back to Directus as its exact text.
            last = [str(v) if isinstance(v, Decimal) else v
                    for v in (rows[-1].get(key.field) for key in plan.order)]
            if any(isinstance(v, bool | dict | list) for v in last):
                yield from self._offset_pages(base, window.within(seen),
                                              attrs.evolve(plan, keyset=False))
                return

    def _mark_unordered(self, plan: _Plan, last: Sequence[Any]) -> None:
        # Directus does not say which field it refused: blame those not known comparable.
        info = self.info()
        for key, value in zip(plan.order, last, strict=True):
            if info.orderable(key.field) is not True and not isinstance(value, int | float):
                self.schema.mark_unordered(self.name, key.field)

    def _nulls_before(self, base: Mapping[str, Any], key: SortKey, *, pk_key: bool
                      ) -> bool | None:
        # Whether NULLs sort before values in this key's direction; None: no NULL matches.
        if pk_key:
            return None
        server = self.schema.server
        if server.nulls_first is None:
            probe = {"filter": _and(base.get("filter"), {key.field: {"_null": True}}),
                     "fields": [key.field], "limit": 1}
            if "search" in base:
                probe["search"] = base["search"]
            data, _ = self.send(probe)
            if not data:
                return None
            data, _ = self.send({"filter": base.get("filter"), "sort": [key.field],
                                 "fields": [key.field], "limit": 1,
                                 **({"search": base["search"]} if "search" in base else {})})
            first = data[0].get(key.field) if data else None
            if data and first is not None:
                server.nulls_first = False
            elif data:
                server.nulls_first = True
        if server.nulls_first is None:
            return None
        return server.nulls_first != key.descending

    # Terminal reads.

    def rows(self, compiled: Mapping[str, Any], window: Window | None = None, *,
             prefetch: bool = False) -> Iterator[Any]:
        """Yield every row of the window; prefetch: the next page is fetched in the background."""
        pages = self.pages(compiled, window)
        # Closed however the loop ends (break, an error, garbage collection): a page fetch
        # in flight is waited for, and nothing more is sent.
        with closing(Prefetch(pages) if prefetch else pages) as source:
            for rows, _ in source:
                yield from rows

    def fetch(self, compiled: Mapping[str, Any], *, meta: Sequence[str] = ()
              ) -> tuple[Any, dict[str, Any]]:
        """Return the window's data (an object for a singleton) and the first page's meta.

        With no limit the server's default page is the answer (one request, as Directus
        itself answers, ``page`` included); with a limit, or -1, every match of the
        window: in one request where the server's QUERY_LIMIT_MAX allows, else page by
        page in the same total order.
        """
        if compiled.get("limit") is None and (
                self.known_singleton() or "groupBy" not in compiled):
            data, got = self.send({**compiled, **({"meta": list(meta)} if meta else {})})
            return data, got
        first_meta: dict[str, Any] = {}
        collected: list[Any] = []
        answered = self._one_request(compiled, meta)
        window: Window | None = None
        if answered is not None:
            collected, first_meta, complete = answered
            if complete:
                return collected, first_meta
            window = Window.of(compiled).within(len(collected))  # capped: page the rest
        for index, (rows, got) in enumerate(self.pages(compiled, window, meta=meta)):
            if index == 0 and answered is None:
                first_meta = got
            collected.extend(rows)
        if self.known_singleton() and len(collected) == 1 and "aggregate" not in compiled:
            return collected[0], first_meta
        return collected, first_meta

    def _one_request(self, compiled: Mapping[str, Any], meta: Sequence[str]
                     ) -> tuple[Any, dict[str, Any], bool] | None:
        """Ask for the whole window in one request, as the server's cap allows.

        Return (rows, meta, complete), or None where the window is read page by page
        from the start (groups, aggregates, singletons, a window past a known cap).
        An unbounded window asks for UNCAPPED_PROBE rows until the server is known to
        have no cap: a capped Directus refuses that with a 400 naming its cap, where it
        would quietly cut ``limit=-1`` short.
        """
        if "aggregate" in compiled or "groupBy" in compiled or self.known_singleton():
            return None
        window = Window.of(compiled)
        cap = self.schema.server.query_limit_max
        if cap is not None and cap >= 0 and (window.size is None or window.size > cap):
            return None
        base = {k: v for k, v in compiled.items() if k not in WINDOW_KEYS and k != "meta"}
        plan = self._plan(base)
        query = self._request(base, plan)
        if meta:
            query["meta"] = list(meta)
        limit = window.size if window.size is not None else (-1 if cap == -1 else UNCAPPED_PROBE)
        query["limit"] = limit
        if window.start:
            query["offset"] = window.start
        data, got, used = self._send_capped(query)
        if isinstance(data, dict):  # a singleton after all
            return data, got, True
        rows = self._strip(list(data or []), plan)
        if used == limit:
            if limit == UNCAPPED_PROBE:
                self.schema.server.query_limit_max = -1  # it took the probe: no cap
            return rows, got, True
        return rows, got, len(rows) < used  # cut to the cap: complete only if short of it

    def first(self, compiled: Mapping[str, Any]) -> Any | None:
        """Return the window's first row, or None."""
        return next(self.rows(compiled, Window.of(compiled).within(size=1)), None)

    def last(self, compiled: Mapping[str, Any]) -> Any | None:
        """Return the window's last row, or None (read from the end in reversed order)."""
        window = Window.of(compiled)
        sort = [SortKey.parse(key) for key in compiled.get("sort") or ()]
        pk = self.primary_key_to_read("last()") if not sort else self._primary_key_if_known()
        if pk is not None and pk not in (key.field for key in sort):
            sort.append(SortKey(pk))
        reversed_query = {k: v for k, v in compiled.items() if k not in WINDOW_KEYS}
        reversed_query["sort"] = [key.reversed().spelled() for key in sort]
        from_end = 0
        if window.start or window.size is not None:
            total = self.total(compiled)
            inside = window.count(total)
            if inside == 0:
                return None
            from_end = total - (window.start + inside)
        data, _ = self.send({**reversed_query, "limit": 1,
                             **({"offset": from_end} if from_end else {})})
        if isinstance(data, dict):
            return data
        return data[0] if data else None

    def _primary_key_if_known(self) -> str | None:
        try:
            return self.primary_key("last()")
        except InvalidQuery:
            return None

    def total(self, compiled: Mapping[str, Any]) -> int:
        """Return how many items match, window aside (one aggregate count read)."""
        query = {k: v for k, v in compiled.items() if k in ("filter", "search", "version")}
        query["aggregate"] = {"count": ["*"]}
        data, _ = self.send(query)
        return int(data[0]["count"]) if data else 0

    def count(self, compiled: Mapping[str, Any]) -> int:
        """Return how many matches the window holds: at most its size."""
        window = Window.of(compiled)
        return window.count(self.total(compiled))

    def exists(self, compiled: Mapping[str, Any]) -> bool:
        """Return whether the window holds any match (one read of one row)."""
        query = dict(compiled)
        known = self.schema.known(self.name)
        pk = self._primary_key or (known.primary_key if known else None)
        if pk is not None:
            query["fields"] = [pk]
        return self.first(query) is not None

    def keys(self, compiled: Mapping[str, Any], needed_for: str) -> list[Any]:
        """Return the primary keys of every match in the window (keyset paged)."""
        pk = self.primary_key_to_read(needed_for)
        query = {k: v for k, v in compiled.items() if k not in ("fields", "deep", "alias")}
        query["fields"] = [pk]
        return [row[pk] for row in self.rows(query)]

    def get(self, compiled: Mapping[str, Any], key: str | int) -> Any:
        """Return one item by key (GET /items/{c}/{key}, or SEARCH when long), else NotFound."""
        query = {k: v for k, v in compiled.items() if k in (
            "filter", "fields", "deep", "alias", "version", "backlink")}
        params = query_to_params(query)
        if _query_string_may_exceed(params, MAX_QUERY_STRING) and (
                len(urlencode(params)) > MAX_QUERY_STRING):
            pk = self.primary_key("get() with a long query")
            found, _ = self.send({**query, "filter": _and(query.get("filter"),
                                                          {pk: {"_eq": key}}), "limit": 1})
            if found:
                return found[0]
            raise self.missing(key, "filter" in query)
        try:
            return self.transport.data("GET", *self.route, key, params=params or None,
                                       expect=dict)
        except PermissionDenied as denied:
            raise self.missing_or_denied(key, denied, "filter" in query) from None

    def missing(self, key: str | int, filtered: bool, response: Any = None) -> NotFound:
        """Return the NotFound for an item that is not there (or does not match)."""
        what = " matching the query" if filtered else ""
        return NotFound(404, "ITEM_NOT_FOUND", f"no item {key!r}{what} in collection "
                        f"{self.name!r}", {"collection": self.name, "pk": key}, response)

    def missing_or_denied(self, key: str | int, denied: PermissionDenied,
                          filtered: bool) -> PermissionDenied | NotFound:
        """Tell a missing item from a refused one after Directus said FORBIDDEN for it."""
        # Directus answers a bare FORBIDDEN for a missing item too. One with a reason names
        # what is forbidden (a field, the collection); without one, if the collection
        # itself is readable, the item is simply not there.
        if denied.reason is not None:
            return denied
        return self.missing(key, filtered, denied.response) if self.readable() else denied

    def check_readable(self) -> None:
        """Raise the server's PermissionDenied if this token may not read the collection
        (one read of no rows)."""
        self.transport.data("GET", *self.route, params={"limit": "0"})

    def readable(self) -> bool:
        """Return whether this token may read the collection (one read of no rows)."""
        try:
            self.check_readable()
        except PermissionDenied:
            return False
        return True

    def item_exists(self, key: str | int) -> bool | None:
        """Return whether an item exists (None: this token may not read the collection)."""
        try:
            pk = self.primary_key("an existence check")
        except InvalidQuery:
            pk = None
        try:
            if pk is not None:
                found, _ = self.send({"filter": {pk: {"_eq": key}}, "fields": [pk], "limit": 1})
                return bool(found)
            self.transport.data("GET", *self.route, key)
        except PermissionDenied as denied:
            if pk is None and denied.reason is None and self.readable():
                return False
            return None
        return True


def _window_params(window: Window) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if window.size is not None:
        params["limit"] = window.size
    if window.start:
        params["offset"] = window.start
    return params

