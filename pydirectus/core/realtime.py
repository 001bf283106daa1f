"""Realtime (Directus's /websocket), sans I/O: messages, replies, subscriptions, gaps.

Both faces (``pydirectus.realtime``, ``pydirectus.aio.realtime``) own a socket and
a clock; this module owns every decision. A face feeds ``RealtimeProtocol`` what
happened (connected, a text frame, a quiet interval, the socket closed) and carries out
the actions it returns: ``Send`` a frame, ``Deliver`` an event to a
subscription, ``Fail`` one (or all), ``Renew`` the token, ``Reconnect``.

Guarantees the faces build on (where the SDK's users lost messages):

- a subscription's events are queued from the moment its subscribe is sent, so nothing
  arriving before the caller iterates is lost;
- with a token, nothing is subscribed before the server acknowledged the auth message
  (a subscribe processed before it would run with the Public policy's rights);
- the token is renewed on the socket before it expires; a TOKEN_EXPIRED from the server
  (the socket ran as Public for a moment, so events may have been dropped) and a lost
  socket both end in a reconnect, a resubscribe with the same uids, and one ``gap``
  event per subscription naming the interval in which changes may have been missed.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import itertools
import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import attrs

from ..encoding import dumps
from ..errors import (
    APIError,
    AuthenticationError,
    ConnectError,
    DirectusError,
    PermissionDenied,
    SchemaRequired,
    ServerError,
    UsageError,
    error_class_for,
)
from ..query import Q, Query
from ..redact import redact_text
from .plans import Plan
from .reads import ReadPath
from .schema import SchemaCache

__all__ = [
    "EVENTS",
    "WEBSOCKETS_ASYNCIO",
    "WEBSOCKETS_SYNC",
    "Deliver",
    "Fail",
    "RealtimeEvent",
    "RealtimeOptions",
    "RealtimeProtocol",
    "Reconnect",
    "Renew",
    "Send",
    "SubscriptionSpec",
    "access_token_plan",
    "catch_up_plan",
    "caught_up",
    "check_subscription",
    "compiled_query_plan",
    "configured",
    "connect_failed",
    "error_from_message",
    "failure_text",
    "not_enabled",
    "realtime_url",
    "renewed_token_plan",
    "subscription_path",
    "token_claims",
    "token_lifetime",
    "typed_event_plan",
]

#: the events a subscription may be limited to (None: all of them)
EVENTS: Final = ("create", "update", "delete")
#: the kinds of RealtimeEvent.event
EVENT_KINDS: Final = ("init", "create", "update", "delete", "gap")
#: Directus's statuses for its error codes: a realtime reply carries the code alone
_STATUS_OF_CODE: Final = {"FORBIDDEN": 403, "INVALID_PAYLOAD": 400, "INVALID_QUERY": 400,
                          "TOKEN_EXPIRED": 401, "AUTH_FAILED": 401, "AUTH_TIMEOUT": 401,
                          "INVALID_CREDENTIALS": 401, "INVALID_TOKEN": 403,
                          "REQUESTS_EXCEEDED": 429, "SERVICE_UNAVAILABLE": 503,
                          "COLLECTION_INACTIVE": 403, "ROUTE_NOT_FOUND": 404}
#: renew the token on the socket when this share of its lifetime is left
RENEW_LEFT_SHARE: Final = 1 / 3
#: a token is not renewed sooner after its iat (a JWT's times are whole seconds)
SAME_SECOND: Final = 1.05
#: how soon a renewal that returned the same token is tried again
RENEW_RETRY: Final = 0.25
#: the shortest wait for a frame (a deadline just passed must not spin the reader)
MIN_WAIT: Final = 0.01
_uids = itertools.count(1)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@attrs.frozen
class RealtimeEvent:
    """One realtime event of a subscription.

    ``event`` is "init" (the subscription is live; ``data`` holds the matching rows when it
    listens to every event), "create", "update", "delete" (``data`` holds the deleted keys)
    or "gap": the stream was down from ``since`` to ``until`` (UTC) and changes in between
    may have been missed (``data``: the rows of a fresh init, if any). Rows delivered by
    catch-up after a gap are "update" events with ``catch_up=True``.
    """

    event: str
    collection: str
    uid: str
    data: list[Any] = attrs.field(factory=list)
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    catch_up: bool = False


@attrs.frozen
class RealtimeOptions:
    """How a realtime connection behaves (``client.realtime.configure(...)``).

    ``heartbeat``: after this many quiet seconds the client pings; a socket quiet for
    ``heartbeat + pong_timeout`` is taken for dead and replaced. ``reconnect_backoff``:
    the first and the longest wait between reconnect attempts (doubling in between);
    ``reconnect_attempts``: how many failed attempts in a row end the subscriptions with
    ConnectError (None: keep trying). ``connect_timeout``: for the opening handshake and
    for a subscription's acknowledgement. ``catch_up_margin``: catch-up re-reads rows
    changed up to this many seconds before the gap began (for clocks that differ).
    """

    heartbeat: float = 15.0
    pong_timeout: float = 10.0
    reconnect_backoff: tuple[float, float] = (0.25, 10.0)
    reconnect_attempts: int | None = None
    connect_timeout: float = 30.0
    catch_up_margin: float = 5.0
    path: str = "websocket"

    def __attrs_post_init__(self) -> None:
        for name in ("heartbeat", "pong_timeout", "connect_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not (
                    0 < value < float("inf")):
                raise UsageError(f"{name}: expected a positive number of seconds, got {value!r}")
        margin = self.catch_up_margin
        if isinstance(margin, bool) or not isinstance(margin, int | float) or not (
                0 <= margin < float("inf")):
            raise UsageError(f"catch_up_margin: expected seconds >= 0, got {margin!r}")
        backoff = self.reconnect_backoff
        if not (isinstance(backoff, tuple) and len(backoff) == 2 and all(
                isinstance(v, int | float) and not isinstance(v, bool) and 0 < v < float("inf")
                for v in backoff) and backoff[0] <= backoff[1]):
            raise UsageError(f"reconnect_backoff: expected (first, longest) seconds with "
                             f"0 < first <= longest, got {backoff!r}")
        attempts = self.reconnect_attempts
        if attempts is not None and (isinstance(attempts, bool) or not isinstance(attempts, int)
                                     or attempts < 1):
            raise UsageError(f"reconnect_attempts: expected a whole number >= 1 or None, "
                             f"got {attempts!r}")
        if not isinstance(self.path, str) or not self.path.strip("/"):
            raise UsageError(f"path: expected the server's WEBSOCKETS_REST_PATH, got "
                             f"{self.path!r}")

    def backoff(self, failures: int) -> float:
        """Return the wait before reconnect attempt number ``failures + 1``."""
        first, longest = self.reconnect_backoff
        return float(min(longest, first * 2 ** max(0, failures - 1))) if failures else 0.0


@attrs.frozen
class SubscriptionSpec:
    """What one subscription asks for (checked; ``query`` as Directus's query object)."""

    uid: str
    collection: str
    event: str | None
    query: Query
    item: str | int | None
    catch_up: tuple[str, ...]

    def message(self, compiled: Mapping[str, Any] | None) -> dict[str, Any]:
        """Return the subscribe message (``compiled``: the query as Directus takes it)."""
        message: dict[str, Any] = {"type": "subscribe", "collection": self.collection,
                                   "uid": self.uid}
        if self.event is not None:
            message["event"] = self.event
        if compiled:
            message["query"] = dict(compiled)
        if self.item is not None:
            message["item"] = self.item
        return message


def check_subscription(collection: Any, query: Query, event: Any, item: Any,
                       catch_up: Any) -> SubscriptionSpec:
    """Return the spec of a subscription (``query`` already checked: a Query), or raise
    UsageError naming what is wrong."""
    if not isinstance(collection, str) or not collection.strip():
        raise UsageError(f"subscribe: collection must be a non-empty string, got {collection!r}")
    if event is not None and event not in EVENTS:
        hint = f" (did you mean {event[:-1]!r}?)" if isinstance(event, str) and (
            event[:-1] in EVENTS) else ""
        raise UsageError(f"subscribe: event must be one of {', '.join(map(repr, EVENTS))} or "
                         f"None (every event), got {event!r}{hint}")
    if item is not None and (isinstance(item, bool) or not isinstance(item, str | int) or (
            isinstance(item, str) and not item)):
        raise UsageError(f"subscribe: item must be a primary key (a string or an int), got "
                         f"{item!r}")
    fields: tuple[str, ...]
    if catch_up is None:
        fields = ()
    elif isinstance(catch_up, str):
        fields = (catch_up,)
    elif isinstance(catch_up, Sequence) and all(isinstance(f, str) for f in catch_up):
        fields = tuple(catch_up)
    else:
        raise UsageError(f"subscribe: catch_up must be a field name (e.g. 'date_updated'), "
                         f"a list of them, or None, got {catch_up!r}")
    for field in fields:
        if not field or "." in field or not field.replace("_", "a").isalnum():
            raise UsageError(f"subscribe: catch_up names a field of the collection, got "
                             f"{field!r}")
    if fields and collection.startswith("directus_"):
        raise UsageError(f"subscribe: catch_up reads /items/{collection} again after a gap; "
                         f"{collection} is a system collection")
    uid = f"pydirectus-{os.getpid()}-{next(_uids)}"
    return SubscriptionSpec(uid, collection, event, query, item, fields)


def subscription_path(spec: SubscriptionSpec, schema: SchemaCache, page_size: int) -> ReadPath:
    """Return the read path that types a subscription's rows and reads its catch-up."""
    return ReadPath(spec.collection, ("items", spec.collection), schema, page_size)


def compiled_query_plan(spec: SubscriptionSpec, path: ReadPath) -> Plan[dict[str, Any] | None]:
    """Plan: check that the token may read the collection (GET /items/{collection} of no
    rows), then return the query as Directus's query object (None: no query).

    Directus accepts a subscription to one event of a collection the token may not read,
    then refuses each event: the check says so before subscribing.
    """
    if not spec.collection.startswith("directus_"):
        try:
            yield from path.check_readable()
        except PermissionDenied as denied:
            raise type(denied)(denied.status, denied.code, f"realtime: cannot subscribe to "
                               f"{spec.collection!r}: {denied.message}",
                               denied.extensions) from None
    if not spec.query.to_params():
        return None
    compiled: dict[str, Any] = yield from path.compile(spec.query)
    return compiled


def realtime_url(base_url: str, path: str) -> str:
    """Return the ws:// (wss://) URL of the server's realtime endpoint."""
    scheme, rest = base_url.split("://", 1)
    ws_scheme = "wss" if scheme.lower() == "https" else "ws"
    return f"{ws_scheme}://{rest.rstrip('/')}/{path.strip('/')}"


# Actions a face carries out.


@attrs.frozen
class Send:
    """Send this text frame."""

    text: str


@attrs.frozen
class Deliver:
    """Queue this event for the subscription ``uid``."""

    uid: str
    event: RealtimeEvent


@attrs.frozen
class Fail:
    """End the subscription ``uid`` (None: every one) with this error."""

    uid: str | None
    error: DirectusError


@attrs.frozen
class Renew:
    """Get a fresh token (``renewed_token_plan``) and pass it to ``reauthenticate``
    (``refused``: the server refused the current one)."""

    refused: bool = False


@attrs.frozen
class Reconnect:
    """Close the socket (why: for the log); the face reconnects and calls ``connected``."""

    why: str


Action = Send | Deliver | Fail | Renew | Reconnect


def error_from_message(message: Mapping[str, Any], what: str) -> APIError:
    """Return the pydirectus error for a ``status: "error"`` reply (code and message kept)."""
    error = message.get("error")
    error = error if isinstance(error, Mapping) else {}
    code = error.get("code") if isinstance(error.get("code"), str) else None
    text = error.get("message") if isinstance(error.get("message"), str) else "(no message)"
    status = _STATUS_OF_CODE.get(code or "", 400)
    kind = AuthenticationError if code in ("AUTH_FAILED", "AUTH_TIMEOUT") else (
        error_class_for(status, code))
    return kind(status, code, f"realtime {what}: {text}", {"code": code} if code else {})


def token_lifetime(token: str | None) -> float | None:
    """Return the lifetime (exp - iat, seconds) a JWT access token states, None if none."""
    claims = token_claims(token)
    return None if claims is None else claims[1] - claims[0]


def token_claims(token: str | None) -> tuple[float, float] | None:
    """Return a JWT access token's (iat, exp) in POSIX seconds, None if it states none."""
    if not token or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(claims, dict):
        return None
    exp, iat = claims.get("exp"), claims.get("iat")
    if isinstance(exp, int | float) and isinstance(iat, int | float) and exp > iat:
        return float(iat), float(exp)
    return None


class _HeaderCarrier:
    """What an auth strategy's ``__call__`` writes its header on (no HTTP request made)."""

    def __init__(self, token: str | None = None) -> None:
        self.headers: dict[str, str] = (
            {} if token is None else {"Authorization": f"Bearer {token}"})


class _Refused:
    """A stand-in for the refused reply a strategy's recover_plan reads the token from."""

    def __init__(self, token: str | None) -> None:
        self.request = _HeaderCarrier(token)


def _bearer_of(auth: Any) -> str | None:
    # A strategy that holds its token names it (Password and its kinds: Session sends it as
    # a cookie, which the socket's auth message cannot carry, so the header would show
    # none and the socket would silently run as Public); others show it on a request.
    held = getattr(auth, "access_token", None)
    if isinstance(held, str) and held:
        return held
    carrier = _HeaderCarrier()
    auth(carrier)
    header = carrier.headers.get("Authorization", "")
    return header.removeprefix("Bearer ") or None


def access_token_plan(auth: Any) -> Plan[str | None]:
    """Plan: the access token the client's auth sends now (logging in first if needed)."""
    if auth is None:
        return None
    yield from auth.prepare_plan()
    return _bearer_of(auth)


def renewed_token_plan(auth: Any, stale: str | None) -> Plan[str | None]:
    """Plan: a token renewed in place of ``stale`` (as after a 401 TOKEN_EXPIRED: Password
    refreshes unless another thread or task already did); None when the strategy cannot
    renew it (a StaticToken)."""
    if auth is None:
        return None
    renewed = yield from auth.recover_plan(_Refused(stale))
    return _bearer_of(auth) if renewed else None


@attrs.define
class _Subscription:
    spec: SubscriptionSpec
    compiled: dict[str, Any] | None
    # "pending": sent, not acknowledged; "live"; "down": to resubscribe (a gap to tell)
    state: str = "pending"
    down_since: dt.datetime | None = None
    acknowledged: bool = False


class RealtimeProtocol:
    """The state of one realtime connection and every subscription on it (see module)."""

    def __init__(self, options: RealtimeOptions) -> None:
        self.options = options
        self._subs: dict[str, _Subscription] = {}
        self.open = False
        self.authenticated = False
        self._token: str | None = None
        self._renew_at: float | None = None
        self._renewing = False
        self._auth_retried = False
        self._last_heard = 0.0
        self._last_heard_at: dt.datetime | None = None
        self._pinged = False

    # What the caller does.

    def subscribe(self, spec: SubscriptionSpec, compiled: dict[str, Any] | None
                  ) -> list[Action]:
        """Register a subscription; its subscribe goes out now if the socket is ready."""
        self._subs[spec.uid] = _Subscription(spec, compiled or None)
        return [self._subscribe_message(spec.uid)] if self._ready() else []

    def unsubscribe(self, uid: str) -> list[Action]:
        """Forget a subscription; tell the server if the socket is up."""
        sub = self._subs.pop(uid, None)
        if sub is None or not self._ready():
            return []
        return [Send(dumps({"type": "unsubscribe", "uid": uid}))]

    @property
    def token(self) -> str | None:
        """Return the access token the socket was last authenticated with."""
        return self._token

    @property
    def subscriptions(self) -> list[str]:
        """Return the uids of the registered subscriptions."""
        return list(self._subs)

    # What the socket does.

    def connected(self, token: str | None, now: float) -> list[Action]:
        """The socket is open: authenticate (with a token), else subscribe everything."""
        self.open = True
        self.authenticated = False
        self._renewing = False
        self._hear(now)
        self._token = token
        if token is not None:
            return [Send(dumps({"type": "auth", "access_token": token}))]
        return self._subscribe_all()

    def disconnected(self) -> None:
        """The socket is gone: every subscription is to be made again, with a gap."""
        if not self.open:
            return
        self.open = self.authenticated = False
        self._renew_at = None
        since = self._last_heard_at or _utcnow()
        for sub in self._subs.values():
            if sub.state == "live":
                sub.state, sub.down_since = "down", since
            elif sub.state == "pending" and sub.acknowledged:
                sub.state = "down"
            # pending and never acknowledged: simply sent again

    def received(self, text: str, now: float) -> list[Action]:
        """Handle one text frame from the server."""
        self._hear(now)
        try:
            message = json.loads(text)
        except ValueError:
            return [Reconnect(f"the server sent a frame that is not JSON: {text[:80]!r}")]
        if not isinstance(message, dict):
            return []
        kind = message.get("type")
        if kind == "ping":
            return [Send(dumps({"type": "pong"}))]
        if kind == "pong":
            return []
        if kind == "auth":
            return self._auth_reply(message, now)
        uid = message.get("uid")
        sub = self._subs.get(uid) if isinstance(uid, str) else None
        if message.get("status") == "error":
            return self._error_reply(message, sub)
        if kind != "subscription" or sub is None:
            return []  # an unsubscribed uid's late event, or a message of another feature
        return self._event(sub, message)

    def tick(self, now: float) -> list[Action]:
        """Time passed without a frame: ping, renew the token, or give the socket up."""
        if not self.open:
            return []
        quiet = now - self._last_heard
        if quiet >= self.options.heartbeat + self.options.pong_timeout:
            return [Reconnect(f"no frame from the server in {quiet:.1f} s (heartbeat)")]
        actions: list[Action] = []
        if quiet >= self.options.heartbeat and not self._pinged:
            self._pinged = True
            actions.append(Send(dumps({"type": "ping"})))
        if self._renew_at is not None and now >= self._renew_at and not self._renewing:
            self._renewing = True
            actions.append(Renew(refused=False))
        return actions

    def wait(self, now: float) -> float:
        """Return how long the face may wait for a frame before calling ``tick``."""
        deadline = self._last_heard + (self.options.pong_timeout + self.options.heartbeat
                                       if self._pinged else self.options.heartbeat)
        if self._renew_at is not None and not self._renewing:
            deadline = min(deadline, self._renew_at)
        return max(MIN_WAIT, deadline - now)

    def reauthenticate(self, token: str | None, now: float, refused: bool = False
                       ) -> list[Action]:
        """Send a renewed token on the socket (None: the auth cannot renew it: with the
        current one refused, every subscription fails; else it serves until it expires)."""
        if not self.open:
            return []
        if token is not None and token == self._token and not refused:
            self._renew_at, self._renewing = now + RENEW_RETRY, False  # the same: again soon
            return []
        if token is None:
            self._renew_at = None
            if not refused:
                return []
            return [Fail(None, AuthenticationError(
                401, "AUTH_FAILED", "realtime: the server refused the access token and the "
                "client's auth cannot renew it (an expired token in a StaticToken?)",
                {"code": "AUTH_FAILED"}))]
        self._token = token
        self._renew_at = None
        return [Send(dumps({"type": "auth", "access_token": token}))]

    # Replies.

    def _hear(self, now: float) -> None:
        self._last_heard = now
        self._last_heard_at = _utcnow()
        self._pinged = False

    def _ready(self) -> bool:
        return self.open and (self.authenticated or self._token is None)

    def _subscribe_message(self, uid: str) -> Send:
        sub = self._subs[uid]
        return Send(dumps(sub.spec.message(sub.compiled)))

    def _subscribe_all(self) -> list[Action]:
        return [self._subscribe_message(uid) for uid in self._subs]

    def _schedule_renewal(self, now: float) -> None:
        claims = token_claims(self._token)
        self._renewing = False
        if claims is None:
            self._renew_at = None
            return
        iat, exp = claims
        # Renewed with a third of its lifetime left (time for a refresh and the server's
        # answer on a loaded machine), but not within the second it was issued in: JWTs
        # count whole seconds, and a refresh then signs the very same token again.
        renew_wall = max(iat + SAME_SECOND, exp - (exp - iat) * RENEW_LEFT_SHARE)
        self._renew_at = now + max(0.0, renew_wall - time.time())

    def _auth_reply(self, message: Mapping[str, Any], now: float) -> list[Action]:
        if message.get("status") == "ok":
            first = not self.authenticated
            self.authenticated = True
            self._auth_retried = False
            self._schedule_renewal(now)
            return self._subscribe_all() if first else []
        error = error_from_message(message, "auth")
        if error.code == "AUTH_FAILED" and self._token is not None and not self._auth_retried:
            # A token fresh by our clock may be expired by the server's (whole-second
            # expiry): renew it once before giving up.
            self._auth_retried = True
            self._renewing = True
            return [Renew(refused=True)]
        if error.code == "TOKEN_EXPIRED":
            # The server now treats the socket as Public until it hears a new token:
            # events in between may have been dropped. A fresh socket tells them as a gap.
            return [Reconnect("the server said the access token expired")]
        if error.code == "AUTH_TIMEOUT":
            return [Reconnect("the server timed the re-authentication out")]
        return [Fail(None, error)]

    def _error_reply(self, message: Mapping[str, Any], sub: _Subscription | None
                     ) -> list[Action]:
        what = str(message.get("type") or "message")
        if sub is None:
            error = error_from_message(message, what)
            if what in ("subscribe", "unsubscribe"):
                return []  # about a subscription already ended
            # A frame refused whole (rate limited, unparsable): the pending subscribes may
            # be among them; their acknowledgement will not come.
            pending = [uid for uid, s in self._subs.items() if s.state != "live"]
            return [Fail(uid, error) for uid in pending]
        error = error_from_message(message, f"subscribe to {sub.spec.collection!r}")
        if sub.state == "live":
            # Directus could not build one event for this subscription (its payload read
            # failed): that event is lost; the caller hears it as an error.
            return [Fail(sub.spec.uid, error)]
        self._subs.pop(sub.spec.uid, None)
        return [Fail(sub.spec.uid, error)]

    def _event(self, sub: _Subscription, message: Mapping[str, Any]) -> list[Action]:
        kind = message.get("event")
        spec = sub.spec
        if kind == "unsubscribe":
            return []
        data = _rows(message.get("data"))
        if kind == "init":
            sub.acknowledged = True
            if sub.state == "down":
                since, sub.down_since = sub.down_since, None
                sub.state = "live"
                return [Deliver(spec.uid, RealtimeEvent("gap", spec.collection, spec.uid, data,
                                                        since=since, until=_utcnow()))]
            sub.state = "live"
            return [Deliver(spec.uid, RealtimeEvent("init", spec.collection, spec.uid, data))]
        if kind not in EVENTS:
            return []
        return [Deliver(spec.uid, RealtimeEvent(str(kind), spec.collection, spec.uid, data))]


def _rows(data: Any) -> list[Any]:
    # An item subscription gets one object (or, for a delete, the key), not a list.
    if data is None:
        return []
    return data if isinstance(data, list) else [data]


#: the python-websockets client modules of each face (the ``realtime`` extra)
WEBSOCKETS_SYNC = "websockets.sync.client"
WEBSOCKETS_ASYNCIO = "websockets.asyncio.client"


def configured(current: RealtimeOptions, changes: dict[str, Any]) -> RealtimeOptions:
    """Return the options with ``realtime.configure(**changes)`` applied, or raise
    UsageError naming an unknown option."""
    known = {field.name for field in attrs.fields(RealtimeOptions)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise UsageError(f"realtime.configure: unknown option(s) {', '.join(unknown)}; "
                         f"expected some of {', '.join(sorted(known))}")
    if "reconnect_backoff" in changes and isinstance(changes["reconnect_backoff"], list):
        changes["reconnect_backoff"] = tuple(changes["reconnect_backoff"])
    return attrs.evolve(current, **changes)


def typed_event_plan(event: RealtimeEvent, path: ReadPath) -> Plan[RealtimeEvent]:
    """Plan: the event with its rows typed as REST reads type them (pydirectus.values),
    and a delete's keys typed as the primary key."""
    if not event.data:
        return event
    if event.event == "delete":
        return (yield from _typed_keys(event, path))
    rows = [row for row in event.data if isinstance(row, Mapping)]
    if len(rows) != len(event.data):
        return event
    data = yield from path.typed(list(event.data))
    return attrs.evolve(event, data=list(data))


def _typed_keys(event: RealtimeEvent, path: ReadPath) -> Plan[RealtimeEvent]:
    """Plan: a delete event with its keys typed as the primary key field. Directus sends
    the keys of ``DELETE /items/{collection}/{pk}`` as the URL spelled them ("8") and
    those of a batch delete as stored (8): typed, both compare equal to a read's key."""
    if not any(isinstance(key, str) for key in event.data):
        return event
    key = path.known_primary_key()
    if key is None:
        try:
            key = yield from path.primary_key("realtime delete keys")
        except SchemaRequired:  # the token may not learn the key: leave the keys as sent
            return event
    rows = yield from path.typed([{key: value} for value in event.data])
    return attrs.evolve(event, data=[row[key] for row in rows])


def catch_up_plan(spec: SubscriptionSpec, path: ReadPath, since: dt.datetime,
                  margin: float) -> Plan[list[Any]]:
    """Plan: the rows of the subscription's query whose catch-up fields changed since
    ``since - margin`` (every page, typed as REST reads)."""
    start = since - dt.timedelta(seconds=margin)
    changed = [Q(**{f"{field}__gte": start}) for field in spec.catch_up]
    condition = changed[0]
    for more in changed[1:]:
        condition = condition | more
    query = spec.query.filter(condition)
    compiled = yield from path.compile(query)
    if spec.item is not None:
        key = yield from path.primary_key("catch_up")
        compiled = {**compiled, "filter": {"_and": [compiled["filter"],
                                                    {key: {"_eq": spec.item}}]}}
    compiled = {**compiled, "limit": -1}
    compiled.pop("offset", None)
    compiled.pop("page", None)
    rows, _ = yield from path.fetch(compiled)
    return list(rows) if isinstance(rows, list) else [rows]


def caught_up(gap: RealtimeEvent, rows: Iterable[Any]) -> list[RealtimeEvent]:
    """Return the events catch-up delivers after a gap: one ``update`` per row read."""
    return [RealtimeEvent("update", gap.collection, gap.uid, [row], catch_up=True)
            for row in rows]


def failure_text(exc: BaseException) -> str:
    """Return a short, scrubbed description of why a socket failed."""
    return redact_text(f"{type(exc).__name__}: {exc}")[:300]


def not_enabled(url: str, status: int) -> APIError:
    """Return the error for a server that refused the websocket upgrade."""
    if status == 404:
        return ServerError(503, "SERVICE_UNAVAILABLE",
                           f"realtime: {url} answered 404: realtime is not enabled on this "
                           f"server (it needs WEBSOCKETS_ENABLED=true and "
                           f"WEBSOCKETS_REST_ENABLED=true)", {"status": status})
    if status in (401, 403):
        return AuthenticationError(status, None, f"realtime: {url} refused the connection "
                                   f"with {status} (a WEBSOCKETS_REST_AUTH=strict server, a "
                                   f"connection limit, or a disallowed origin)",
                                   {"status": status})
    return ServerError(status, None, f"realtime: {url} answered {status} to the websocket "
                       f"upgrade", {"status": status})


def connect_failed(url: str, why: str) -> ConnectError:
    """Return the error for a realtime socket that could not be opened."""
    return ConnectError(f"realtime: could not connect to {url}: {why}")
