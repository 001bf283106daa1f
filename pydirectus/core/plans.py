"""Plans and the instructions they yield: the one vocabulary between the core and a face.

A plan is a generator: ``reply = yield Call(...)`` asks the face to send a call and
resumes with the reply, or with the error raised at the ``yield`` (so ``try``/``except``
around it works as around a blocking call). Besides calls, the transport's own plan
(``pydirectus.core.exchange``) yields ``Attempt`` (one request on the wire),
``Wait`` (sleep before a retry) and ``Exclusive`` (run a sub-plan holding a
lock, e.g. one token refresh for many threads or tasks). A face's driver answers each:
the sync one by blocking, the async one by awaiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Mapping
from itertools import repeat
from typing import Any, Final, Protocol, TypeVar
from urllib.parse import quote

import attrs

from ..encoding import UNDECODED, check_unicode, fast_loads
from ..errors import ServerError, UsageError, WireFailure
from ..redact import mask, redact_text

__all__ = [
    "ANY",
    "COUNT",
    "IDEMPOTENT_METHODS",
    "KEY",
    "KEYS",
    "NOTHING",
    "OBJECT",
    "OBJECTS",
    "OBJECTS_OR_NOTHING",
    "OBJECT_OR_NOTHING",
    "ROWS",
    "TEXT",
    "Attempt",
    "Call",
    "Exclusive",
    "Gather",
    "LockSlot",
    "Plan",
    "Reply",
    "Runner",
    "Shape",
    "Wait",
    "WireFailure",  # defined in pydirectus.errors, with the rest of the tree
    "data",
    "decode_json",
    "done",
    "encode_segment",
    "request",
    "resume",
    "send",
    "send_json",
    "shape_of",
    "unwrap",
    "whole_number",
    "wrong_shape",
]

R = TypeVar("R")
#: a plan: yields instructions, receives their results, returns R
Plan = Generator[Any, Any, R]

IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "SEARCH"})


class Reply(Protocol):
    """What the core reads of an HTTP answer (a requests.Response has all of it)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def encoding(self) -> str | None: ...

    @property
    def request(self) -> Any:  # .method, .url, .path_url, .headers
        ...

    @property
    def content(self) -> bytes: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...

    def close(self) -> None: ...


class Runner(Protocol):
    """What a handle asks of its face: drive a plan, iterate a page stream.

    The sync face returns results; the async face returns awaitables and async iterators
    (its handles are typed by the Protocols in ``pydirectus.aio.typing``).
    """

    base_url: str
    #: the auth strategy (a pydirectus.auth.DirectusAuth) or None
    auth: Any
    prefetch: bool
    #: True for the sync face (run() returns the result), False for the async face
    blocking: bool

    def run(self, plan: Plan[R]) -> R:
        """Drive a plan to its result."""
        ...

    def rows(self, pages: Plan[None], prefetch: bool) -> Any:
        """Iterate the rows of a page stream (plans yielding calls and Rows)."""
        ...


def encode_segment(segment: str | int) -> str:
    """Percent-encode one path segment so no id can climb to another route."""
    if isinstance(segment, bool) or not isinstance(segment, str | int):
        raise UsageError(f"path segment {segment!r}: expected a str or int")
    text = str(segment)
    if text in ("", ".", ".."):
        raise UsageError(f"path segment {text!r}: an id or name must not be empty, '.' or '..'")
    check_unicode(text, "path segment")
    return quote(text, safe="")


def _masked(value: Any) -> str:
    return repr(mask(value))


@attrs.frozen
class Call:
    """A request built but not sent: method, path segments, query parameters and body."""

    method: str
    segments: tuple[str | int, ...]
    # Bodies, parameters and headers can hold passwords and tokens: masked in the repr.
    params: Mapping[str, str] | None = attrs.field(default=None, repr=_masked)
    json: Any = attrs.field(default=None, repr=_masked)
    data: Any = attrs.field(default=None, repr=_masked)
    files: Any = attrs.field(default=None, repr=False)
    # A zero-argument callable that builds a fresh body for each attempt (a replayable
    # upload); when set it replaces `data`. A plain one-shot stream in `data` is not replayable.
    body_factory: Callable[[], Any] | None = attrs.field(default=None, repr=False)
    headers: Mapping[str, str] | None = attrs.field(default=None, repr=_masked)
    stream: bool = False
    authenticate: bool = True
    # DELETE of one id is idempotent too; the caller says so, as only it knows the path shape.
    idempotent: bool | None = None
    # Redirects of GET and HEAD are followed (within one origin while credentials go along);
    # False: never (auth calls, whose bodies hold passwords and tokens). Writes never are.
    follow_redirects: bool = True

    def __attrs_post_init__(self) -> None:
        # A lone surrogate in a parameter or header would fail deep in the sender as a
        # UnicodeEncodeError: refuse it here, before anything is sent.
        for where, values in (("query parameter", self.params), ("header", self.headers)):
            for key, value in (values or {}).items():
                if isinstance(key, str) and isinstance(value, str):
                    check_unicode(key, f"{where} name")
                    check_unicode(value, f"{where} {key!r}")

    @property
    def retryable(self) -> bool:
        """Return whether re-sending after the server may have seen it is harmless."""
        if self.idempotent is not None:
            return self.idempotent
        return self.method in IDEMPOTENT_METHODS

    @property
    def path(self) -> str:
        """Return the encoded path, e.g. /items/articles/1."""
        return "/" + "/".join(encode_segment(segment) for segment in self.segments)


@attrs.frozen
class Attempt:
    """One request on the wire (one hop: the exchange plan decides about redirects).

    ``url`` is the prefix plus the encoded path (``prepared_url``) or a redirect's
    Location as the server wrote it. ``auth`` is the strategy that sets the Authorization
    header (None: send none); its tokens are fresh by the time an attempt is yielded.
    """

    call: Call
    url: str
    params: Mapping[str, Any] | None = attrs.field(repr=False)
    headers: Mapping[str, str] = attrs.field(repr=False)
    data: Any = attrs.field(repr=False)
    files: Any = attrs.field(repr=False)
    auth: Any = attrs.field(repr=False)
    prepared_url: bool = True


@attrs.frozen
class Wait:
    """Sleep this many seconds (before a retry)."""

    seconds: float


class LockSlot:
    """A lock per face: a threading.Lock for the sync face, an asyncio.Lock made by the
    async driver on first use (kept in ``async_lock``)."""

    __slots__ = ("async_lock", "sync_lock")

    def __init__(self) -> None:
        self.sync_lock = threading.Lock()
        self.async_lock: Any = None


@attrs.frozen
class Gather:
    """Run these plans concurrently; the result is their outcomes in order, each a value or
    the exception it raised (sync face: threads; async face: tasks)."""

    plans: tuple[Plan[Any], ...] = attrs.field(repr=False)


@attrs.frozen
class Exclusive:
    """Run ``plan`` holding ``slot``'s lock; the result is the plan's."""

    slot: LockSlot
    plan: Plan[Any] = attrs.field(repr=False)


def resume(plan: Plan[Any], result: Any, failure: BaseException | None) -> Any:
    """Resume a plan with an instruction's result, or raise its failure at the ``yield``;
    return what the plan yields next (StopIteration when it is done)."""
    return plan.throw(failure) if failure is not None else plan.send(result)


def done(value: R) -> Plan[R]:
    """Plan that sends nothing and returns value (so an empty write is awaitable too)."""
    yield from ()
    return value


# What a route answers.

@attrs.frozen
class Shape:
    """The shape a route's ``data`` has: checked on every answer, so a proxy's or a broken
    server's other shape is a ServerError naming the route, never a wrong-typed result."""

    description: str
    accepts: Callable[[Any], bool] = attrs.field(repr=False)
    #: whether no content (204, or ``data: null``) is an answer too: returned as None
    empty: bool = False


def _is_key(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def _objects(value: Any) -> bool:
    # map() keeps the walk over a page of rows in C: a 1000-row page costs microseconds.
    return isinstance(value, list) and all(map(isinstance, value, repeat(dict)))


def _count(value: Any) -> bool:
    if not _objects(value) or len(value) > 1:
        return False
    if not value:
        return True
    return whole_number(value[0].get("count"))


def whole_number(value: Any) -> bool:
    """Return whether a count is a whole number: an int, or a string of digits (PostgreSQL
    answers a bigint count as text)."""
    return (isinstance(value, int) and not isinstance(value, bool) and value >= 0) or (
        isinstance(value, str) and value.isascii() and value.isdigit())


def _keys(value: Any) -> bool:
    return isinstance(value, list) and all(_is_key(item) for item in value)


#: one object (an item, a record, /users/me)
OBJECT: Final = Shape("an object", lambda value: isinstance(value, dict))
#: one object, or nothing (a write the token may not read back)
OBJECT_OR_NOTHING: Final = attrs.evolve(OBJECT, description="an object or nothing",
                                        empty=True)
#: a list of objects (items, records)
OBJECTS: Final = Shape("a list of objects", _objects)
#: a list of objects, or nothing (a batch write the token may not read back)
OBJECTS_OR_NOTHING: Final = attrs.evolve(OBJECTS, description="a list of objects or nothing",
                                         empty=True)
#: a collection read: a list of objects (rows, aggregate groups), or a singleton's object
ROWS: Final = Shape("a list of objects (or a singleton's object)",
                    lambda value: isinstance(value, dict) or _objects(value))
#: an aggregate count: one row whose count is a whole number (none when nothing matches)
COUNT: Final = Shape("a list holding one object with a whole-number count", _count)
#: a list of primary keys
KEYS: Final = Shape("a list of keys", _keys)
#: one primary key (a string or an integer)
KEY: Final = Shape("a key (a string or an integer)", _is_key)
#: a string
TEXT: Final = Shape("a string", lambda value: isinstance(value, str))
#: nothing (204 No Content): a write that answers no data
NOTHING: Final = Shape("nothing (204 No Content)", lambda value: False, empty=True)
#: any data, or nothing: a route whose answer is the caller's (a flow, a custom endpoint)
ANY: Final = Shape("anything", lambda value: True, empty=True)


# Plans over one call.

def send(call: Call) -> Plan[Reply]:
    """Send a call; return the reply (errors raise at the yield)."""
    reply: Reply = yield call
    return reply


def send_json(call: Call) -> Plan[Any]:
    """Send a call; return its decoded JSON body (None for an empty answer)."""
    reply: Reply = yield call
    return decode_json(reply, call)


def data(method: str, *segments: str | int, expect: Shape,
         params: Mapping[str, str] | None = None, json: Any = None,
         idempotent: bool | None = None, authenticate: bool = True) -> Plan[Any]:
    """Send a JSON call; return the envelope's ``data`` (None for 204 No Content).

    ``expect`` is the shape the route answers (OBJECT, OBJECTS, ROWS, KEYS, NOTHING, ...);
    any other answer raises ServerError naming the route, what was expected and what came.
    """
    call = Call(method, segments, params=params, json=json, idempotent=idempotent,
                authenticate=authenticate)
    reply: Reply = yield call
    return unwrap(decode_json(reply, call), call, expect, reply)


def request(method: str, *segments: str | int, params: Mapping[str, str] | None = None,
            json: Any = None, idempotent: bool | None = None,
            authenticate: bool = True, expect: Shape | None = None) -> Plan[Any]:
    """Send a JSON call; return the decoded body (None for an empty answer).

    ``expect``: the shape of the whole body, for routes that answer no envelope
    (/server/health, /server/specs/oas); another shape raises ServerError.
    """
    call = Call(method, segments, params=params, json=json, idempotent=idempotent,
                authenticate=authenticate)
    reply: Reply = yield call
    body = decode_json(reply, call)
    if expect is not None and not (expect.accepts(body) or (body is None and expect.empty)):
        raise wrong_shape(call, expect, "no content" if body is None else shape_of(body),
                          reply, reply.status_code, what="the body")
    return body


# Reading answers.

def decode_json(response: Reply, call: Call) -> Any:
    """Decode a successful JSON body (None for an empty one); a non-JSON body is a server error."""
    content = response.content
    if response.status_code == 204 or not content:
        return None
    if response.encoding is None or response.encoding.lower() in ("utf-8", "utf8"):
        decoded = fast_loads(content)
        if decoded is not UNDECODED:
            return decoded
    try:
        return response.json()
    except ValueError:
        pass  # raised below, outside this block: the decode error holds the whole body
    excerpt = redact_text(response.content[:200].decode("utf-8", "replace"))
    raise ServerError(response.status_code, None,
                      f"{call.method} {call.path}: expected JSON, got {excerpt!r}",
                      None, response)


def unwrap(body: Any, call: Call, expect: Shape = ANY, response: Any = None) -> Any:
    """Return the ``data`` of a Directus envelope if it has the shape ``expect`` names, else
    raise ServerError naming the route, what was expected and what came.

    ``body`` is the decoded JSON (None for 204 No Content, which only a shape that allows
    nothing accepts); an answer of another shape is the server's (or a proxy's) fault.
    """
    status = response.status_code if response is not None else 200
    if body is None:
        if expect.empty:
            return None  # 204 No Content: a write with nothing to say
        raise wrong_shape(call, expect, "no content", response, status)
    if not isinstance(body, dict) or "data" not in body:
        raise ServerError(status, None, f"{call.method} {call.path}: expected a JSON object "
                          f"with 'data', got {shape_of(body)}", None, response)
    found = body["data"]
    if found is None and expect.empty:
        return None
    if not expect.accepts(found):
        raise wrong_shape(call, expect, shape_of(found), response, status)
    return found


def wrong_shape(call: Call, expect: Shape, got: str, response: Any = None,
                status: int = 200, *, what: str = "'data'") -> ServerError:
    """Return the ServerError for an answer of the wrong shape, naming the route."""
    return ServerError(status, None, f"{call.method} {call.path}: expected {what} to be "
                       f"{expect.description}, got {got}", None, response)


_NONE: Final = object()


def shape_of(value: Any) -> str:
    """Return a short description of a JSON value's shape, for an error message."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return f"an object with keys {sorted(value)[:5]!r}" if value else "an empty object"
    if isinstance(value, list):
        odd = next((item for item in value if not isinstance(item, dict)), _NONE)
        if odd is _NONE:
            first = f" (the first with keys {sorted(value[0])[:5]!r})" if value else ""
            return f"a list of {len(value)} objects{first}"
        return f"a list holding {shape_of(odd)}"
    kind = type(value).__name__
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} ({redact_text(str(value)[:40])!r})"
