"""The one read path of every handle: windows, paging, SEARCH, singletons, server limits.

Every read a handle makes (fetch, iteration, first/last, count, exists, with_meta, get,
aggregates, and the key reads behind filtered update/delete) goes through
``ReadPath``. It

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
- knows a singleton's shape (one object, not a list);
- gives every answer the same Python types on every database (``pydirectus.values``),
  and turns a refusal caused by a bad name into an InvalidQuery naming it.

Every method that reads is a plan (see ``pydirectus.core.plans``). Page streams
(``ReadPath.pages``) yield calls and, between them, ``Rows``: the sync face
iterates them with a background prefetch thread, the async face with a prefetch task.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Generator, Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import attrs

from ..errors import (
    APIError,
    IncompleteRead,
    InvalidQuery,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    SchemaRequired,
    ServerError,
)
from ..query import COUNT_KEYS, ITEM_READ_KEYS, WINDOW_KEYS, Query, query_to_params
from ..query.checking import check_query
from ..values import could_change, needs_field_types, typed_aggregate, typed_items
from . import plans
from .plans import (
    COUNT,
    KEY,
    OBJECT,
    ROWS,
    Call,
    Plan,
    Shape,
    shape_of,
    unwrap,
    whole_number,
    wrong_shape,
)
from .schema import CollectionInfo, SchemaCache

__all__ = ["MAX_QUERY_STRING", "ReadPath", "ReadRules", "Rows", "Window", "collect",
           "keyset_filter", "pages_whole"]

# Beyond this many bytes of query string, reads go out as SEARCH with the query in the body:
# proxies and servers commonly cap a request line at 8 KiB.
MAX_QUERY_STRING = 6000
#: the limit an unbounded fetch() sends until the server's cap is known (2**31 - 1: a
#: LIMIT every database accepts); a capped Directus answers it with a 400 naming its cap
UNCAPPED_PROBE = 2**31 - 1
_PLAIN_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LIMIT_CAP = re.compile(r'"limit" must be less than or equal to (\d+)')
# What the query compiler says of a relational field its schema does not hold.
_UNKNOWN_RELATION = re.compile(r"unknown to the schema|the schema has no relation")
#: meta's total_count and filter_count: whole numbers, when asked for
COUNT_VALUE = Shape("whole numbers", lambda value: value is None or whole_number(value))
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
class Rows:
    """One page of a page stream: its rows, and Directus's meta (on the first page only)."""

    rows: list[Any]
    meta: dict[str, Any]


#: a page stream: yields instructions (calls) and Rows, returns nothing
Pages = Generator[Any, Any, None]

#: the meta a page stream asks for on its first page to know when it has read everything
EXPECTED_META = "filter_count"


@attrs.define
class _Tally:
    """How many rows a page stream read, and how many its first page's filter_count promised.

    A page that comes back short ends a stream: without a count, an answer cut short (a
    proxy's ``{"data": []}``) would end it silently. The count rides on the first page's
    request (``meta=filter_count``): no extra request unless the stream ends short of it.
    An answer without the count (a stand-in for Directus) is not checked.
    """

    window: Window
    caller_meta: tuple[str, ...]
    expected: int | None = None
    read: int = 0
    first: bool = True

    def page(self, count: int, meta: dict[str, Any]) -> dict[str, Any]:
        """Count a page's rows; return its meta as the caller asked for it."""
        self.read += count
        if not self.first:
            return meta
        self.first = False
        total = meta.get(EXPECTED_META)
        if isinstance(total, int | str) and str(total).isdigit():
            self.expected = self.window.count(int(total))
        if EXPECTED_META in self.caller_meta or "*" in self.caller_meta:
            return meta
        return {k: v for k, v in meta.items() if k != EXPECTED_META}


def collect(pages: Pages, limit: int | None = None) -> Plan[tuple[list[Any], dict[str, Any]]]:
    """Plan: run a page stream, passing its calls up; return its rows (at most ``limit``)
    and the first page's meta. The stream is closed when the limit is reached."""
    rows: list[Any] = []
    meta: dict[str, Any] | None = None
    with _closing(pages):
        item = next(pages, None)
        while item is not None:
            if type(item) is Rows:
                if meta is None:
                    meta = item.meta
                rows.extend(item.rows)
                if limit is not None and len(rows) >= limit:
                    return rows[:limit], meta
                item = next(pages, None)
                continue
            item = yield from _pass_up(pages, item)
    return rows, meta or {}


def pages_whole(pages: Pages) -> Pages:
    """Page stream: the same pages, each handed out as one row (its list of rows), so a
    face's row iterator (and its prefetch) hands a consumer whole pages."""
    with _closing(pages):
        item = next(pages, None)
        while item is not None:
            if type(item) is Rows:
                yield Rows([item.rows], item.meta)
                item = next(pages, None)
                continue
            item = yield from _pass_up(pages, item)


def _pass_up(pages: Pages, call: Any) -> Plan[Any]:
    """Pass one call of a page stream up and its answer (or error) back down; return what
    the stream yields next (None at its end)."""
    failure: Exception | None = None
    result: Any = None
    try:
        result = yield call
    except Exception as exc:
        failure = exc
    try:
        return plans.resume(pages, result, failure)
    except StopIteration:
        return None


class _closing:
    """Close a generator however the block ends (a limit reached, an error)."""

    def __init__(self, gen: Generator[Any, Any, Any]) -> None:
        self.gen = gen

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        self.gen.close()


@attrs.frozen
class ReadRules:
    """How a route answers reads, where it differs from /items (given by its handle).

    ``drop_system_rows``: rows flagged ``"system": true`` without an id are left out
    (/permissions appends the app's built-in permissions to every page);
    ``count_by_keys``: the route does not aggregate, so count() counts the keys read;
    ``search_only``: every read goes out as SEARCH (a route whose GET is broken).
    """

    drop_system_rows: bool = False
    count_by_keys: bool = False
    search_only: bool = False


@attrs.frozen
class _Plan:
    """How one read pages: the total order, extra fields to fetch and strip, the mode."""

    order: tuple[SortKey, ...]
    added_fields: tuple[str, ...]
    keyset: bool


class ReadPath:
    """Every read of one handle: one request (GET or SEARCH) or a window read page by page."""

    def __init__(self, name: str, route: tuple[str, ...], schema: SchemaCache, page_size: int,
                 *, primary_key: str | None = None, singleton: bool | None = None,
                 rules: ReadRules = ReadRules(),
                 log: logging.Logger | None = None) -> None:
        self.name = name
        self.route = route
        self.schema = schema
        self.page_size = page_size
        self.rules = rules
        self.log = log if log is not None else schema.log
        self._primary_key = primary_key
        self._singleton = singleton
        if primary_key is not None or singleton is not None:
            schema.remember(name, primary_key=primary_key, singleton=singleton)

    @property
    def items_route(self) -> bool:
        """Return whether this is a user collection at /items/{name}."""
        return self.route[0] == "items"

    # Facts about the collection.

    def info(self) -> Plan[CollectionInfo]:
        """Return what is known of the collection (learned once, explicit facts first)."""
        info = yield from self.schema.collection(self.name)
        if self._primary_key is not None:
            info = attrs.evolve(info, primary_key=self._primary_key)
        if self._singleton is not None:
            info = attrs.evolve(info, singleton=self._singleton)
        return info

    def primary_key(self, needed_for: str) -> Plan[str]:
        """Return the primary key's name, or raise SchemaRequired saying how to give it."""
        if self._primary_key is not None:
            return self._primary_key
        return (yield from self.schema.primary_key(self.name, needed_for=needed_for))

    def primary_key_to_read(self, needed_for: str) -> Plan[str]:
        """Return the primary key's name for a read; PermissionDenied if the token may not
        read the collection (GraphQL hides what it may not read: no key is learned then)."""
        try:
            return (yield from self.primary_key(needed_for))
        except SchemaRequired:
            yield from self.check_readable()
            raise

    def known_primary_key(self) -> str | None:
        """Return the primary key if given or already learned (no request)."""
        known = self.schema.known(self.name)
        return self._primary_key or (known.primary_key if known else None)

    def known_singleton(self) -> bool | None:
        """Return whether the collection is a singleton, if already known (no request)."""
        if self._singleton is not None:
            return self._singleton
        known = self.schema.known(self.name)
        return None if known is None else known.singleton

    # Compiling a query for this collection.

    def compile(self, query: Query) -> Plan[dict[str, Any]]:
        """Return the Directus query object for a Query: names checked where the schema is
        known, relations learned (once) only where a relational path needs their kinds."""
        if self.items_route:
            known = self.schema.known_fields(self.name)
            try:
                check_query(query, known)
            except InvalidQuery:
                if known is None:
                    raise
                # The schema may have changed since it was read: judge by today's.
                check_query(query, (yield from self.schema.fields_from(self.name,
                                                                       refresh=True)))
        try:
            compiled: dict[str, Any] = query.to_dict()
        except SchemaRequired as needed:
            schema = yield from self.schema.relations_from(self.name)
            if schema is None:
                asked = ("(this client asked: the token may not read /relations, and neither "
                         "/server/specs/oas nor GraphQL introspection answered it; grant it "
                         "read on directus_relations, or spell the path as above)")
                message = str(needed).replace("(the client passes it for you)", asked).replace(
                    "(the client passes it when the token may read /relations)", asked)
                raise SchemaRequired(message) from None
            try:
                compiled = query.to_dict(schema=schema)
            except InvalidQuery as refused:
                if not _UNKNOWN_RELATION.search(str(refused)):
                    raise
                # A relation made since the relations were read: judge by today's.
                fresh = yield from self.schema.relations_from(self.name, refresh=True)
                compiled = query.to_dict(schema=fresh if fresh is not None else schema)
        if "page" in compiled and "offset" in compiled:
            raise InvalidQuery("a query with both page and offset is ambiguous: use one")
        return compiled

    def explain(self, compiled: Mapping[str, Any], refusal: APIError) -> Plan[None]:
        """Raise InvalidQuery naming the bad name when a read was refused for one.

        Directus answers an unknown field with 403 (as if forbidden), a function on the
        wrong type with 400 and an aggregate over a relational path with 500. On such an
        answer the schema is read (GET /fields and /relations, once per client, when the
        token may) and the query checked; from then on names are checked before sending.
        """
        # A 5xx other than 500 (a 502/503/504: the server or a proxy is down or busy) says
        # nothing about the query's names, and reading the schema from it would only add
        # requests (and their retries) to a server already failing.
        about_the_query = (isinstance(refusal, PermissionDenied | InvalidRequest)
                           or (isinstance(refusal, ServerError) and refusal.status == 500))
        if not self.items_route or not about_the_query:
            return
        schema = yield from self.schema.fields_from(self.name)
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

    # Python types.

    def typed(self, data: Any, aggregate: bool = False) -> Plan[Any]:
        """Return data with the same Python types on every database (pydirectus.values).

        The field types are fetched once, and only when some value could change; once
        they are known, only the numeric fields are visited.
        """
        if aggregate:
            rows = data if isinstance(data, list) else [data]
            # Types read already are used (a float field's whole max, 2, is 2.0); else they
            # are fetched only when some value could change.
            kinds = yield from self.schema.known_field_types(self.name)
            if kinds is None:
                kinds = (yield from self.schema.field_types(self.name)) if needs_field_types(
                    rows) else {}
            for row in rows:
                typed_aggregate(row, kinds)
            return data
        items = data if isinstance(data, list) else [data]
        types = yield from self.schema.known_field_types(self.name)
        if types is None:
            if not could_change(items):
                return data
            types = yield from self.schema.field_types(self.name)
        if types:
            missing = {key for item in items[:1] if isinstance(item, dict) for key in item
                       if key not in types}
            if missing and could_change([{key: item.get(key) for key in missing}
                                         for item in items if isinstance(item, dict)]):
                # A field added since the types were read (by another client, or through
                # another instance behind the same load balancer): read them again.
                types = yield from self.schema.field_types(self.name, missing=missing)
            typed_items(items, types)
        return data

    # One request.

    def request(self, compiled: Mapping[str, Any], expect: Shape = ROWS
                ) -> Plan[tuple[Any, dict[str, Any]]]:
        """Send one read (SEARCH when the query string is too long); return data and meta
        (``data`` of the shape ``expect`` names, else ServerError)."""
        params = query_to_params(compiled)
        if self.rules.search_only or (_query_string_may_exceed(params, MAX_QUERY_STRING) and (
                len(urlencode(params)) > MAX_QUERY_STRING)):
            call = Call("SEARCH", self.route, json={"query": dict(compiled)})
        else:
            call = Call("GET", self.route, params=params)
        body = yield from plans.send_json(call)
        # A list of items (an object when the collection is a singleton); anything else,
        # {"data": null} or a bare 42, is a server fault named by route, not a TypeError later.
        data = unwrap(body, call, expect)
        meta = body.get("meta")
        if isinstance(meta, dict) and not all(COUNT_VALUE.accepts(meta.get(name))
                                              for name in ("total_count", "filter_count")):
            raise wrong_shape(call, COUNT_VALUE, shape_of(meta), what="'meta' counts")
        if self.items_route and "aggregate" not in compiled:
            # The answer's shape says what the collection is: a singleton answers an object.
            singleton = isinstance(data, dict)
            if self.known_singleton() is None:
                self.schema.remember(self.name, singleton=singleton)
        return data, meta if isinstance(meta, dict) else {}

    def send(self, compiled: Mapping[str, Any], expect: Shape = ROWS
             ) -> Plan[tuple[Any, dict[str, Any]]]:
        """One read as the handle answers it: the route's rules, names explained, typed."""
        aggregate = compiled.get("aggregate")
        if self.rules.count_by_keys and aggregate is not None:
            if aggregate != {"count": ["*"]} or "groupBy" in compiled:
                raise InvalidQuery(f"Directus does not aggregate /{'/'.join(self.route)}; "
                                   "count() is the one aggregate this handle supports")
            plain = {k: v for k, v in compiled.items() if k in ("filter", "search")}
            keys, _ = yield from collect(self.pages({**plain, "fields": ["id"]}))
            return [{"count": len(keys)}], {}
        failure: APIError | None = None
        try:
            data, meta = yield from self.request(compiled, expect)
        except APIError as refusal:
            failure = refusal
        if failure is not None:
            yield from self.explain(compiled, failure)  # InvalidQuery when a name is at fault
            raise failure
        if self.rules.drop_system_rows and isinstance(data, list):
            data = [row for row in data if not (isinstance(row, Mapping) and row.get("system")
                                                is True and "id" not in row)]
        typed = yield from self.typed(data, "aggregate" in compiled or "groupBy" in compiled)
        return typed, meta

    def _send_capped(self, compiled: dict[str, Any]
                     ) -> Plan[tuple[Any, dict[str, Any], int]]:
        # Learn QUERY_LIMIT_MAX from the 400 a larger limit gets, and retry within it;
        # return the limit that was used with the answer.
        while True:
            try:
                data, meta = yield from self.send(compiled)
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
              meta: Sequence[str] = ()) -> Pages:
        """Page stream: Rows page by page until the window is read; meta on the first only."""
        window = Window.of(compiled) if window is None else window
        base = {k: v for k, v in compiled.items() if k not in WINDOW_KEYS and k != "meta"}
        if meta:
            base["meta"] = list(meta)
        if "aggregate" in base and "groupBy" not in base:
            data, got = yield from self.send({**base, **_window_params(window)})
            yield Rows(list(data or []), got)
            return
        if "groupBy" in base:
            yield from self._offset_pages(base, window, None)
            return
        if self.known_singleton():
            data, got = yield from self.send(base)
            yield Rows([data] if isinstance(data, dict) else list(data or []), got)
            return
        plan = yield from self._plan(base)
        tally = None
        if self._counts_pages(window):
            tally = _Tally(window, tuple(meta))
            base["meta"] = list(dict.fromkeys([*meta, EXPECTED_META]))
        if plan is None or not plan.keyset:
            yield from self._offset_pages(base, window, plan, tally)
        else:
            yield from self._keyset_pages(base, window, plan, tally)

    def _counts_pages(self, window: Window) -> bool:
        """Return whether a read of this window asks for filter_count to check its end.

        Windows that one page holds (first(), exists(), a small limit) are not checked:
        the count would cost the database a scan on every such read. Rows this path drops
        (/permissions' built-in rows) would not match the count.
        """
        if self.rules.drop_system_rows:
            return False
        return window.size is None or window.size > self._page_size(None)

    def _ended_short(self, base: Mapping[str, Any], tally: _Tally | None) -> Plan[None]:
        """Raise IncompleteRead if a stream ended short of its first page's count.

        A short page before the count is reached is an answer cut short, unless items were
        deleted meanwhile: a second count (only on this rare path) tells the two apart.
        """
        if tally is None or tally.expected is None or tally.read >= tally.expected:
            return
        now = tally.window.count((yield from self.total(base)))
        if tally.read >= now:
            return
        at_start = "" if tally.expected == now else f" ({tally.expected} at the start)"
        raise IncompleteRead(
            f"reading {'/'.join(self.route)}: the pages ended after {tally.read} of "
            f"{now} items{at_start}; an answer was cut short", expected=now, got=tally.read)

    def _plan(self, base: Mapping[str, Any]) -> Plan[_Plan | None]:
        sort = [SortKey.parse(key) for key in base.get("sort") or ()]
        try:
            pk = yield from self.primary_key("paging in a stable order")
        except InvalidQuery:
            self.log.debug("%s: primary key unknown; paging by offset in the given order",
                           self.name)
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
        info = yield from self.info()
        comparable = plain and not any(
            info.orderable(k.field) is False or self.schema.is_unordered(self.name, k.field)
            for k in order)
        fields = list(base.get("fields") or ())
        added: tuple[str, ...] = ()
        # "*", "*.*", ... cover every top-level field; "author.*" does not.
        if fields and not any(str(f).startswith("*") for f in fields):
            added = tuple(dict.fromkeys(k.field for k in order if k.field not in fields))
        return _Plan(tuple(order), added, comparable)

    @staticmethod
    def _request(base: Mapping[str, Any], plan: _Plan | None) -> dict[str, Any]:
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

    def _offset_pages(self, base: dict[str, Any], window: Window, plan: _Plan | None,
                      tally: _Tally | None = None) -> Pages:
        query = self._request(base, plan)
        if "groupBy" in base and "sort" not in base:
            query["sort"] = list(base["groupBy"])  # a stable order for paging the groups
        position, remaining = window.start, window.size
        while remaining is None or remaining > 0:
            size = self._page_size(remaining)
            page = {**query, "limit": size}
            if position:
                page["offset"] = position
            data, got, size = yield from self._send_capped(page)
            rows = list(data or []) if not isinstance(data, dict) else [data]
            if tally is not None:
                got = tally.page(len(rows), got)
            yield Rows(self._strip(rows, plan), got)
            query.pop("meta", None)
            if isinstance(data, dict) or len(rows) < size:
                if not isinstance(data, dict):
                    yield from self._ended_short(base, tally)
                return
            position += len(rows)
            if remaining is not None:
                remaining -= len(rows)

    def _keyset_pages(self, base: dict[str, Any], window: Window, plan: _Plan,
                      tally: _Tally | None = None) -> Pages:
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
                    nulls = []
                    for index, key in enumerate(plan.order):
                        nulls.append((yield from self._nulls_before(
                            base, key, pk_key=index == len(plan.order) - 1)))
                after = keyset_filter(plan.order, last, nulls)
                page["filter"] = _and(base.get("filter"), after)
            try:
                data, got, size = yield from self._send_capped(page)
            except (InvalidRequest, InvalidQuery) as refused:
                # A refusal explained as InvalidQuery has the 400 as its cause.
                answer = refused if isinstance(refused, InvalidRequest) else refused.__cause__
                if last is None or not isinstance(answer, InvalidRequest) or (
                        not _OPERATOR_REFUSED.search(answer.message)):
                    raise
                yield from self._mark_unordered(plan, last)
                # The same total order by offset from here: no item skipped or repeated.
                offset_plan = attrs.evolve(plan, keyset=False)
                yield from self._offset_pages(base, window.within(seen), offset_plan, tally)
                return
            if isinstance(data, dict):  # a singleton after all
                yield Rows([data], got)
                return
            rows = list(data or [])
            if tally is not None:
                got = tally.page(len(rows), got)
            yield Rows(self._strip(rows, plan), got)
            query.pop("meta", None)
            if len(rows) < size:
                yield from self._ended_short(base, tally)
                return
            seen += len(rows)
            if remaining is not None:
                remaining -= len(rows)
            # A Decimal (a typed decimal field) goes back to Directus as its exact text.
            last = [str(v) if isinstance(v, Decimal) else v
                    for v in (rows[-1].get(key.field) for key in plan.order)]
            if any(isinstance(v, bool | dict | list) for v in last):
                yield from self._offset_pages(base, window.within(seen),
                                              attrs.evolve(plan, keyset=False), tally)
                return

    def _mark_unordered(self, plan: _Plan, last: Sequence[Any]) -> Plan[None]:
        # Directus does not say which field it refused: blame those not known comparable.
        info = yield from self.info()
        for key, value in zip(plan.order, last, strict=True):
            if info.orderable(key.field) is not True and not isinstance(value, int | float):
                self.schema.mark_unordered(self.name, key.field)

    def _nulls_before(self, base: Mapping[str, Any], key: SortKey, *, pk_key: bool
                      ) -> Plan[bool | None]:
        # Whether NULLs sort before values in this key's direction; None: no NULL matches.
        if pk_key:
            return None
        server = self.schema.server
        if server.nulls_first is None:
            probe = {"filter": _and(base.get("filter"), {key.field: {"_null": True}}),
                     "fields": [key.field], "limit": 1}
            if "search" in base:
                probe["search"] = base["search"]
            data, _ = yield from self.send(probe)
            if not data:
                return None
            data, _ = yield from self.send({
                "filter": base.get("filter"), "sort": [key.field], "fields": [key.field],
                "limit": 1, **({"search": base["search"]} if "search" in base else {})})
            first = data[0].get(key.field) if data else None
            if data and first is not None:
                server.nulls_first = False
            elif data:
                server.nulls_first = True
        if server.nulls_first is None:
            return None
        return server.nulls_first != key.descending

    # Terminal reads.

    def fetch(self, compiled: Mapping[str, Any], *, meta: Sequence[str] = ()
              ) -> Plan[tuple[Any, dict[str, Any]]]:
        """Return the window's data (an object for a singleton) and the first page's meta.

        With no limit the server's default page is the answer (one request, as Directus
        itself answers, ``page`` included), except for a grouped aggregate, whose every
        group is the answer (a summary cut at the default page would be wrong, not
        short); with a limit, or -1, every match of the window: in one request where the
        server's QUERY_LIMIT_MAX allows, else page by page in the same total order.
        """
        if compiled.get("limit") is None and (
                self.known_singleton() or "groupBy" not in compiled):
            return (yield from self.send({**compiled, **({"meta": list(meta)} if meta else {})}))
        first_meta: dict[str, Any] = {}
        collected: list[Any] = []
        answered = yield from self._one_request(compiled, meta)
        window: Window | None = None
        if answered is not None:
            collected, first_meta, complete = answered
            if complete:
                return collected, first_meta
            window = Window.of(compiled).within(len(collected))  # capped: page the rest
        rest, got = yield from collect(self.pages(compiled, window, meta=meta))
        if answered is None:
            first_meta = got
        collected.extend(rest)
        if self.known_singleton() and len(collected) == 1 and "aggregate" not in compiled:
            return collected[0], first_meta
        return collected, first_meta

    def _one_request(self, compiled: Mapping[str, Any], meta: Sequence[str]
                     ) -> Plan[tuple[Any, dict[str, Any], bool] | None]:
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
        plan = yield from self._plan(base)
        query = self._request(base, plan)
        tally = None
        if self._counts_pages(window):
            tally = _Tally(window, tuple(meta))
            query["meta"] = list(dict.fromkeys([*meta, EXPECTED_META]))
        elif meta:
            query["meta"] = list(meta)
        limit = window.size if window.size is not None else (-1 if cap == -1 else UNCAPPED_PROBE)
        query["limit"] = limit
        if window.start:
            query["offset"] = window.start
        data, got, used = yield from self._send_capped(query)
        if isinstance(data, dict):  # a singleton after all
            return data, got, True
        rows = self._strip(list(data or []), plan)
        if tally is not None:
            got = tally.page(len(rows), got)
        if used == limit:
            if limit == UNCAPPED_PROBE:
                self.schema.server.query_limit_max = -1  # it took the probe: no cap
            yield from self._ended_short(base, tally)
            return rows, got, True
        if len(rows) < used:  # cut to the cap: complete only if short of it
            yield from self._ended_short(base, tally)
            return rows, got, True
        return rows, got, False

    def first(self, compiled: Mapping[str, Any]) -> Plan[Any | None]:
        """Return the window's first row, or None."""
        rows, _ = yield from collect(self.pages(compiled, Window.of(compiled).within(size=1)),
                                     limit=1)
        return rows[0] if rows else None

    def last(self, compiled: Mapping[str, Any]) -> Plan[Any | None]:
        """Return the window's last row, or None (read from the end in reversed order)."""
        window = Window.of(compiled)
        sort = [SortKey.parse(key) for key in compiled.get("sort") or ()]
        if not sort:
            pk: str | None = yield from self.primary_key_to_read("last()")
        else:
            pk = yield from self._primary_key_if_known()
        if pk is not None and pk not in (key.field for key in sort):
            sort.append(SortKey(pk))
        reversed_query = {k: v for k, v in compiled.items() if k not in WINDOW_KEYS}
        reversed_query["sort"] = [key.reversed().spelled() for key in sort]
        from_end = 0
        if window.start or window.size is not None:
            total = yield from self.total(compiled)
            inside = window.count(total)
            if inside == 0:
                return None
            from_end = total - (window.start + inside)
        data, _ = yield from self.send({**reversed_query, "limit": 1,
                                        **({"offset": from_end} if from_end else {})})
        if isinstance(data, dict):
            return data
        return data[0] if data else None

    def _primary_key_if_known(self) -> Plan[str | None]:
        try:
            return (yield from self.primary_key("last()"))
        except InvalidQuery:
            return None

    def total(self, compiled: Mapping[str, Any]) -> Plan[int]:
        """Return how many items match, window aside (one aggregate count read)."""
        query = {k: v for k, v in compiled.items() if k in COUNT_KEYS}
        query["aggregate"] = {"count": ["*"]}
        data, _ = yield from self.send(query, COUNT)
        return int(data[0]["count"]) if data else 0

    def count(self, compiled: Mapping[str, Any]) -> Plan[int]:
        """Return how many matches the window holds: at most its size."""
        window = Window.of(compiled)
        return window.count((yield from self.total(compiled)))

    def exists(self, compiled: Mapping[str, Any]) -> Plan[bool]:
        """Return whether the window holds any match (one read of one row)."""
        query = dict(compiled)
        pk = self.known_primary_key()
        if pk is not None:
            query["fields"] = [pk]
        return (yield from self.first(query)) is not None

    def keys(self, compiled: Mapping[str, Any], needed_for: str) -> Plan[list[Any]]:
        """Return the primary keys of every match in the window (keyset paged)."""
        pk = yield from self.primary_key_to_read(needed_for)
        query = {k: v for k, v in compiled.items() if k not in ("fields", "deep", "alias")}
        query["fields"] = [pk]
        rows, _ = yield from collect(self.pages(query))
        return self.keys_of(rows, pk)

    def keys_of(self, rows: Sequence[Any], pk: str) -> list[Any]:
        """Return each row's primary key; a row without one (asked for with fields=[pk]) is
        the server's fault, raised as ServerError naming the route."""
        keys = [row.get(pk) for row in rows]
        if not all(KEY.accepts(key) for key in keys):
            odd = next(row for row, key in zip(rows, keys, strict=True) if not KEY.accepts(key))
            raise wrong_shape(Call("GET", self.route), KEY, shape_of(odd),
                              what=f"each row's {pk!r}")
        return keys

    def get(self, compiled: Mapping[str, Any], key: str | int) -> Plan[Any]:
        """Return one item by key (GET /items/{c}/{key}, or SEARCH when long), else NotFound."""
        query = {k: v for k, v in compiled.items() if k in ITEM_READ_KEYS}
        params = query_to_params(query)
        if _query_string_may_exceed(params, MAX_QUERY_STRING) and (
                len(urlencode(params)) > MAX_QUERY_STRING):
            pk = yield from self.primary_key("get() with a long query")
            found, _ = yield from self.send({**query, "filter": _and(
                query.get("filter"), {pk: {"_eq": key}}), "limit": 1})
            if found:
                return found[0]
            raise self.missing(key, "filter" in query)
        try:
            item = yield from plans.data("GET", *self.route, key, params=params or None,
                                         expect=OBJECT)
        except PermissionDenied as denied:
            refusal = denied
        else:
            return (yield from self.typed(item))
        raise (yield from self.missing_or_denied(key, refusal, "filter" in query)) from None

    def missing(self, key: str | int, filtered: bool, response: Any = None) -> NotFound:
        """Return the NotFound for an item that is not there (or does not match)."""
        what = " matching the query" if filtered else ""
        return NotFound(404, "ITEM_NOT_FOUND", f"no item {key!r}{what} in collection "
                        f"{self.name!r}", {"collection": self.name, "pk": key}, response)

    def missing_or_denied(self, key: str | int, denied: PermissionDenied,
                          filtered: bool) -> Plan[PermissionDenied | NotFound]:
        """Tell a missing item from a refused one after Directus said FORBIDDEN for it."""
        # Directus answers a bare FORBIDDEN for a missing item too. One with a reason names
        # what is forbidden (a field, the collection); without one, if the collection
        # itself is readable, the item is simply not there.
        if denied.reason is not None:
            return denied
        if (yield from self.readable()):
            return self.missing(key, filtered, denied.response)
        return denied

    def check_readable(self) -> Plan[None]:
        """Raise the server's PermissionDenied if this token may not read the collection
        (one read of no rows)."""
        yield from plans.data("GET", *self.route, params={"limit": "0"}, expect=ROWS)

    def readable(self) -> Plan[bool]:
        """Return whether this token may read the collection (one read of no rows)."""
        try:
            yield from self.check_readable()
        except PermissionDenied:
            return False
        return True

    def item_exists(self, key: str | int) -> Plan[bool | None]:
        """Return whether an item exists (None: this token may not read the collection)."""
        try:
            pk: str | None = yield from self.primary_key("an existence check")
        except InvalidQuery:
            pk = None
        try:
            if pk is not None:
                found, _ = yield from self.send({"filter": {pk: {"_eq": key}}, "fields": [pk],
                                                 "limit": 1})
                return bool(found)
            yield from plans.data("GET", *self.route, key, expect=OBJECT)
        except PermissionDenied as denied:
            if pk is None and denied.reason is None and (yield from self.readable()):
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

