"""Plans and the instructions they yield: the one vocabulary between the core and a face.

A plan is a generator: ``reply = yield Call(...)`` asks the face to send a call and
resumes with the reply, or with the error raised at the ``yield`` (so ``try``/``except``
around it works as around a blocking call). Besides calls, the transport's own plan
(:mod:`pydirectus.core.exchange`) yields :class:`Attempt` (one request on the wire),
:class:`Wait` (sleep before a retry) and :class:`Exclusive` (run a sub-plan holding a
lock, e.g. one token refresh for many threads or tasks). A face's driver answers each:
the sync one by blocking, the async one by awaiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Mapping
from typing import Any, Final, Protocol, TypeVar
from urllib.parse import quote

import attrs

from ..encoding import UNDECODED, fast_loads
from ..errors import ServerError, UsageError, WireFailure
from ..redact import mask, redact_text

__all__ = [
    "IDEMPOTENT_METHODS",
    "Attempt",
    "Call",
    "Exclusive",
    "Gather",
    "LockSlot",
    "Plan",
    "Reply",
    "Runner",
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
    "unwrap",
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
    (its handles are typed by the Protocols in :mod:`pydirectus.aio.typing`).
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


# Plans over one call.

def send(call: Call) -> Plan[Reply]:
    """Send a call; return the reply (errors raise at the yield)."""
    reply: Reply = yield call
    return reply


def send_json(call: Call) -> Plan[Any]:
    """Send a call; return its decoded JSON body (None for an empty answer)."""
    reply: Reply = yield call
    return decode_json(reply, call)


def data(method: str, *segments: str | int, params: Mapping[str, str] | None = None,
         json: Any = None, idempotent: bool | None = None, authenticate: bool = True,
         expect: type | tuple[type, ...] | None = None) -> Plan[Any]:
    """Send a JSON call; return the envelope's ``data`` (None for 204 No Content).

    ``expect`` is the type ``data`` must have; any other shape raises ServerError.
    """
    call = Call(method, segments, params=params, json=json, idempotent=idempotent,
                authenticate=authenticate)
    reply: Reply = yield call
    body = decode_json(reply, call)
    if body is None and expect is None:
        return None  # 204 No Content: a write with nothing to say
    return unwrap(body, call, expect, reply)


def request(method: str, *segments: str | int, params: Mapping[str, str] | None = None,
            json: Any = None, idempotent: bool | None = None,
            authenticate: bool = True) -> Plan[Any]:
    """Send a JSON call; return the decoded body (None for an empty answer)."""
    return (yield from send_json(Call(method, segments, params=params, json=json,
                                      idempotent=idempotent, authenticate=authenticate)))


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


def unwrap(body: Any, call: Call, expect: type | tuple[type, ...] | None = None,
           response: Any = None) -> Any:
    """Return the ``data`` of a Directus envelope, or raise ServerError naming the route.

    ``expect`` is the type(s) ``data`` must have (list for a collection read, dict for one
    item); an answer of another shape is the server's (or a proxy's) fault.
    """
    status = response.status_code if response is not None else 200
    if not isinstance(body, dict) or "data" not in body:
        raise ServerError(status, None, f"{call.method} {call.path}: expected a JSON object "
                          f"with 'data', got {_shape(body)}", None, response)
    found = body["data"]
    if expect is not None and not isinstance(found, expect):
        kinds = expect if isinstance(expect, tuple) else (expect,)
        wanted = " or ".join(_KIND_NAMES.get(kind, kind.__name__) for kind in kinds)
        raise ServerError(status, None, f"{call.method} {call.path}: expected 'data' to be "
                          f"{wanted}, got {_shape(found)}", None, response)
    return found


_KIND_NAMES: Final[Mapping[type, str]] = {dict: "an object", list: "a list"}


def _shape(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return f"an object with keys {sorted(value)[:5]!r}" if value else "an empty object"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__} ({str(value)[:40]!r})"
