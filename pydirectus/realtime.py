"""Realtime subscriptions, sync face: ``client.realtime`` over python-websockets.

One socket per client, read by one background thread; every subscription on it has its
own queue. The decisions (auth, heartbeat, resubscribe, gaps) are the core's
(``pydirectus.core.realtime``); this module owns the socket, the thread and the
queues. Needs the extra: ``pip install 'pydirectus[realtime]'``.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import queue
import threading
import time
from collections import deque
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .checks import check_query
from .core.reads import ReadPath
from .core.realtime import (
    WEBSOCKETS_SYNC,
    Deliver,
    Fail,
    RealtimeEvent,
    RealtimeOptions,
    RealtimeProtocol,
    Reconnect,
    Renew,
    Send,
    SubscriptionSpec,
    access_token_plan,
    catch_up_plan,
    caught_up,
    check_subscription,
    compiled_query_plan,
    configured,
    connect_failed,
    failure_text,
    not_enabled,
    realtime_url,
    renewed_token_plan,
    subscription_path,
    typed_event_plan,
)
from .errors import ConnectError, DirectusError, Timeout, UsageError
from .extras import require

if TYPE_CHECKING:
    from .face import ClientFace, QueryLike

__all__ = ["Realtime", "RealtimeEvent", "Subscription"]

#: what a subscription's queue holds after its last event
_CLOSED = object()


class Realtime:
    """``client.realtime``: subscriptions to Directus's realtime endpoint (/websocket).

    >>> with client.realtime.subscribe("posts", event="create") as sub:
    ...     for ev in sub:
    ...         print(ev.event, ev.data)

    Every subscription of a client shares one socket, opened by the first and closed by
    ``close`` (or ``client.close()``).
    """

    def __init__(self, client: ClientFace) -> None:
        self._client = client
        self.options = RealtimeOptions()
        self._connection: _Connection | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        state = "connected" if self._connection is not None else "idle"
        return f"<Realtime {self._client.url} {state}>"

    def configure(self, **options: Any) -> RealtimeOptions:
        """Set connection options (see RealtimeOptions: heartbeat, pong_timeout,
        reconnect_backoff, reconnect_attempts, connect_timeout, catch_up_margin, path);
        they apply to the next connection. Return the options now in force."""
        self.options = configured(self.options, options)
        return self.options

    def subscribe(self, collection: str, query: QueryLike = None, event: str | None = None,
                  item: str | int | None = None, *,
                  catch_up: str | list[str] | tuple[str, ...] | None = None) -> Subscription:
        """Return a subscription to ``collection`` over WebSocket /websocket (a context
        manager; the subscribe is sent on entering it).

        ``query``: a Query or a Directus query dict (filter, fields); ``event``: "create",
        "update", "delete" or None (every event); ``item``: one primary key. After the
        stream was down the iterator yields a ``gap`` event; with ``catch_up`` (a field
        such as "date_updated", or several, e.g. ("date_created", "date_updated")) the
        rows whose field changed since the gap began are then re-read through GET
        /items/{collection} and delivered as ``update`` events with ``catch_up=True``.
        Deletes made during a gap cannot be caught up: the gap event tells of them.
        """
        require(WEBSOCKETS_SYNC, "client.realtime")
        spec = check_subscription(collection, check_query(query, "subscribe: query"), event,
                                  item, catch_up)
        return Subscription(self, spec)

    def close(self) -> None:
        """Close the socket; every open subscription's iteration ends."""
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _open(self) -> _Connection:
        with self._lock:
            if self._connection is None or self._connection.closed:
                client = self._client
                self._connection = _Connection(client, self.options)
            return self._connection


class _Inbox:
    """One subscription's queue, and whether the server acknowledged it."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.acknowledged = threading.Event()
        self.error: DirectusError | None = None


class _Connection:
    """One socket, its reader thread and the subscriptions on it."""

    def __init__(self, client: ClientFace, options: RealtimeOptions) -> None:
        self._ws_client = require(WEBSOCKETS_SYNC, "client.realtime")
        self._runner = client._runner
        self._auth = client._runner.auth
        self.url = realtime_url(client.url, options.path)
        self.options = options
        self.protocol = RealtimeProtocol(options)
        self._lock = threading.RLock()
        self._inboxes: dict[str, _Inbox] = {}
        self._socket: Any = None
        self._stop = threading.Event()
        self._replace = False
        self._thread: threading.Thread | None = None
        self.closed = False
        self._log = client._schema.log
        # websockets 17 warns when connect() is not a context manager unless legacy=True
        # (the socket outlives any one block here); earlier versions take no such flag.
        self._legacy = ({"legacy": True} if "legacy" in inspect.signature(
            self._ws_client.connect).parameters else {})
        self._closed_errors = (
            importlib.import_module("websockets.exceptions").ConnectionClosed, OSError)

    # The caller's side.

    def add(self, spec: SubscriptionSpec, compiled: dict[str, Any] | None) -> _Inbox:
        inbox = _Inbox()
        with self._lock:
            if self.closed:
                raise ConnectError("realtime: the connection is closed")
            self._inboxes[spec.uid] = inbox
            actions = self.protocol.subscribe(spec, compiled)
            if self._thread is None:
                try:
                    self._connect()  # the first socket: its failure raises here
                except BaseException:
                    self._inboxes.pop(spec.uid, None)
                    self.protocol.unsubscribe(spec.uid)
                    raise
                self._thread = threading.Thread(target=self._read, daemon=True,
                                                name="pydirectus-realtime")
                self._thread.start()
            else:
                self._carry_out(actions)
        return inbox

    def remove(self, uid: str) -> None:
        with self._lock:
            inbox = self._inboxes.pop(uid, None)
            if not self.closed:
                self._carry_out(self.protocol.unsubscribe(uid))
        if inbox is not None:
            inbox.queue.put(_CLOSED)

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self._stop.set()
            inboxes = list(self._inboxes.values())
            self._inboxes.clear()
            socket = self._socket
        if socket is not None:
            socket.close()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.options.connect_timeout)
        for inbox in inboxes:
            inbox.acknowledged.set()
            inbox.queue.put(_CLOSED)

    # The socket.

    def _connect(self) -> None:
        """Open a socket and hand it to the protocol (with the lock held)."""
        token = self._runner.run(access_token_plan(self._auth))
        exceptions = importlib.import_module("websockets.exceptions")
        try:
            socket = self._ws_client.connect(
                self.url, open_timeout=self.options.connect_timeout, ping_interval=None,
                close_timeout=2, max_size=None, user_agent_header="pydirectus",
                **self._legacy)
        except exceptions.InvalidStatus as exc:
            raise not_enabled(self.url, exc.response.status_code) from None
        except (OSError, TimeoutError, exceptions.WebSocketException) as exc:
            raise connect_failed(self.url, failure_text(exc)) from None
        self._socket = socket
        self._carry_out(self.protocol.connected(token, time.monotonic()))

    def _read(self) -> None:
        exceptions = importlib.import_module("websockets.exceptions")
        while not self._stop.is_set():
            if self._replace:
                self._reconnect()
                continue
            socket = self._socket
            try:
                text = socket.recv(timeout=self.protocol.wait(time.monotonic()))
            except TimeoutError:
                with self._lock:
                    self._carry_out(self.protocol.tick(time.monotonic()))
                continue
            except (exceptions.ConnectionClosed, OSError) as exc:
                if self._stop.is_set():
                    return
                self._log.debug("realtime socket lost (%s); reconnecting", failure_text(exc))
                self._reconnect()
                continue
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            with self._lock:
                self._carry_out(self.protocol.received(text, time.monotonic()))

    def _reconnect(self) -> None:
        self._replace = False
        with self._lock:
            socket = self._socket
            self.protocol.disconnected()
        with contextlib.suppress(Exception):
            socket.close()
        failures = 0
        while not self._stop.is_set():
            if self._stop.wait(self.options.backoff(failures)):
                return
            try:
                with self._lock:
                    if self.closed:
                        return
                    self._connect()
                return
            except DirectusError as exc:
                failures += 1
                limit = self.options.reconnect_attempts
                self._log.debug("realtime reconnect attempt %d failed: %s", failures, exc)
                if limit is not None and failures >= limit:
                    self._fail_all(ConnectError(
                        f"realtime: the connection to {self.url} was lost and {failures} "
                        f"reconnect attempt(s) failed; the last: {exc}"))
                    return

    def _carry_out(self, actions: list[Any]) -> None:
        """Carry out the protocol's actions (with the lock held)."""
        for action in actions:
            kind = type(action)
            if kind is Send:
                with contextlib.suppress(*self._closed_errors):  # recv notices it
                    self._socket.send(action.text)
            elif kind is Deliver:
                inbox = self._inboxes.get(action.uid)
                if inbox is not None:
                    inbox.queue.put(action.event)
                    inbox.acknowledged.set()
            elif kind is Fail:
                if action.uid is None:
                    self._fail_all(action.error)
                    return
                self._fail(action.uid, action.error)
            elif kind is Renew:
                self._renew(action.refused)
            elif kind is Reconnect:
                self._log.debug("realtime: %s; reconnecting", action.why)
                self._replace = True  # the reader replaces the socket

    def _renew(self, refused: bool) -> None:
        try:
            token = self._runner.run(renewed_token_plan(self._auth, self.protocol.token))
        except DirectusError as exc:
            self._fail_all(exc)
            return
        self._carry_out(self.protocol.reauthenticate(token, time.monotonic(), refused))

    def _fail(self, uid: str, error: DirectusError) -> None:
        inbox = self._inboxes.pop(uid, None)
        self.protocol.unsubscribe(uid)
        if inbox is not None:
            inbox.error = error
            inbox.queue.put(error)
            inbox.acknowledged.set()

    def _fail_all(self, error: DirectusError) -> None:
        for uid in list(self._inboxes):
            self._fail(uid, error)
        self.closed = True
        self._stop.set()
        with contextlib.suppress(Exception):
            self._socket.close()


class Subscription:
    """One subscription (``with`` it to subscribe; iterate it for events)."""

    def __init__(self, realtime: Realtime, spec: SubscriptionSpec) -> None:
        self._realtime = realtime
        self.spec = spec
        self._connection: _Connection | None = None
        self._inbox: _Inbox | None = None
        self._ahead: deque[RealtimeEvent] = deque()
        self._path: ReadPath | None = None
        self._ended = False

    def __repr__(self) -> str:
        return (f"<Subscription {self.spec.collection!r} event={self.spec.event!r} "
                f"uid={self.spec.uid!r}>")

    @property
    def uid(self) -> str:
        """Return the uid the server knows this subscription by."""
        return self.spec.uid

    def __enter__(self) -> Subscription:
        client = self._realtime._client
        self._path = subscription_path(self.spec, client._schema, client.page_size)
        compiled = client._runner.run(compiled_query_plan(self.spec, self._path))
        connection = self._realtime._open()
        inbox = connection.add(self.spec, compiled)
        self._connection, self._inbox = connection, inbox
        timeout = connection.options.connect_timeout
        if not inbox.acknowledged.wait(timeout):
            connection.remove(self.spec.uid)
            raise Timeout(f"realtime: the server did not acknowledge the subscription to "
                          f"{self.spec.collection!r} within {timeout:g} s")
        if inbox.error is not None:
            raise inbox.error
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Unsubscribe (the socket stays open for the client's other subscriptions)."""
        self._ended = True
        if self._connection is not None:
            self._connection.remove(self.spec.uid)

    def __iter__(self) -> Iterator[RealtimeEvent]:
        while True:
            event = self._next(None)
            if event is None:  # closed
                return
            yield event

    def next_event(self, timeout: float | None = None) -> RealtimeEvent:
        """Return the next event; wait at most ``timeout`` seconds (builtin TimeoutError
        when nothing came; ConnectError once the subscription is closed)."""
        event = self._next(timeout)
        if event is None:
            raise ConnectError(f"realtime: the subscription to {self.spec.collection!r} "
                               f"is closed")
        return event

    def _next(self, timeout: float | None) -> RealtimeEvent | None:
        """Return the next event, None once the subscription is closed."""
        if self._ahead:
            return self._ahead.popleft()
        inbox = self._inbox
        if inbox is None:
            raise UsageError("realtime: enter the subscription first: "
                             "with client.realtime.subscribe(...) as sub")
        if inbox.error is not None and inbox.queue.empty():
            raise inbox.error
        try:
            item = inbox.queue.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no realtime event for {self.spec.collection!r} within "
                               f"{timeout:g} s") from None
        if item is _CLOSED:
            inbox.queue.put(_CLOSED)  # every later call ends too
            return None
        if isinstance(item, DirectusError):
            raise item
        assert self._path is not None
        runner = self._realtime._client._runner
        event: RealtimeEvent = runner.run(typed_event_plan(item, self._path))
        if event.event == "gap" and self.spec.catch_up and event.since is not None:
            margin = self._connection.options.catch_up_margin if self._connection else 0.0
            try:
                rows = runner.run(catch_up_plan(self.spec, self._path, event.since, margin))
            except DirectusError:
                self._ahead.appendleft(event)  # the gap is told next, without its rows
                raise
            self._ahead.extend(caught_up(event, rows))
        return event
