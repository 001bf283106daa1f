"""Realtime subscriptions, async face: ``client.realtime`` over websockets' asyncio client.

One socket per client, read by one task; every subscription on it has its own queue and
is an async iterator. The decisions are the core's (``pydirectus.core.realtime``), as
on the sync face (``pydirectus.realtime``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from collections import deque
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..checks import check_query
from ..core.reads import ReadPath
from ..core.realtime import (
    WEBSOCKETS_ASYNCIO,
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
from ..errors import ConnectError, DirectusError, Timeout, UsageError
from ..extras import require

if TYPE_CHECKING:
    from ..face import ClientFace, QueryLike

__all__ = ["AsyncRealtime", "AsyncSubscription"]

_CLOSED = object()


class AsyncRealtime:
    """``client.realtime`` of the async face (see ``pydirectus.realtime.Realtime``).

    >>> async with client.realtime.subscribe("posts", event="update", item=42) as sub:
    ...     async for ev in sub:
    ...         print(ev.event, ev.data)
    """

    def __init__(self, client: ClientFace) -> None:
        self._client = client
        self.options = RealtimeOptions()
        self._connection: _Connection | None = None

    def __repr__(self) -> str:
        state = "connected" if self._connection is not None else "idle"
        return f"<AsyncRealtime {self._client.url} {state}>"

    def configure(self, **options: Any) -> RealtimeOptions:
        """Set connection options (as the sync face's); they apply to the next connection."""
        self.options = configured(self.options, options)
        return self.options

    def subscribe(self, collection: str, query: QueryLike = None, event: str | None = None,
                  item: str | int | None = None, *,
                  catch_up: str | list[str] | tuple[str, ...] | None = None
                  ) -> AsyncSubscription:
        """Return a subscription to ``collection`` over WebSocket /websocket (``async
        with`` it to subscribe); the arguments are the sync face's. Deletes made during a
        gap cannot be caught up: the gap event tells of them."""
        require(WEBSOCKETS_ASYNCIO, "client.realtime")
        spec = check_subscription(collection, check_query(query, "subscribe: query"), event,
                                  item, catch_up)
        return AsyncSubscription(self, spec)

    async def close(self) -> None:
        """Close the socket; every open subscription's iteration ends."""
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    def _open(self) -> _Connection:
        if self._connection is None or self._connection.closed:
            self._connection = _Connection(self._client, self.options)
        return self._connection


class _Inbox:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.acknowledged = asyncio.Event()
        self.error: DirectusError | None = None


class _Connection:
    """One socket, its reader task and the subscriptions on it."""

    def __init__(self, client: ClientFace, options: RealtimeOptions) -> None:
        self._ws_client = require(WEBSOCKETS_ASYNCIO, "client.realtime")
        self._exceptions = importlib.import_module("websockets.exceptions")
        self._runner: Any = client._runner
        self._auth = client._runner.auth
        self._log = client._schema.log
        self.url = realtime_url(client.url, options.path)
        self.options = options
        self.protocol = RealtimeProtocol(options)
        self._inboxes: dict[str, _Inbox] = {}
        self._socket: Any = None
        self._task: asyncio.Task[None] | None = None
        self._starting: asyncio.Lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._replace = False
        self.closed = False

    async def add(self, spec: SubscriptionSpec, compiled: dict[str, Any] | None) -> _Inbox:
        inbox = _Inbox()
        async with self._starting:
            if self.closed:
                raise ConnectError("realtime: the connection is closed")
            self._inboxes[spec.uid] = inbox
            actions = self.protocol.subscribe(spec, compiled)
            if self._task is None:
                try:
                    await self._connect()
                except BaseException:
                    self._inboxes.pop(spec.uid, None)
                    self.protocol.unsubscribe(spec.uid)
                    raise
                self._task = asyncio.get_running_loop().create_task(self._read())
            else:
                await self._carry_out(actions)
        return inbox

    async def remove(self, uid: str) -> None:
        inbox = self._inboxes.pop(uid, None)
        if not self.closed:
            await self._carry_out(self.protocol.unsubscribe(uid))
        if inbox is not None:
            inbox.queue.put_nowait(_CLOSED)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._stop.set()
        inboxes = list(self._inboxes.values())
        self._inboxes.clear()
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close()
        task = self._task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for inbox in inboxes:
            inbox.acknowledged.set()
            inbox.queue.put_nowait(_CLOSED)

    async def _connect(self) -> None:
        token = await self._runner.run(access_token_plan(self._auth))
        exceptions = self._exceptions
        try:
            socket = await self._ws_client.connect(
                self.url, open_timeout=self.options.connect_timeout, ping_interval=None,
                close_timeout=2, max_size=None, user_agent_header="pydirectus")
        except exceptions.InvalidStatus as exc:
            raise not_enabled(self.url, exc.response.status_code) from None
        except (OSError, TimeoutError, exceptions.WebSocketException) as exc:
            raise connect_failed(self.url, failure_text(exc)) from None
        self._socket = socket
        await self._carry_out(self.protocol.connected(token, time.monotonic()))

    async def _read(self) -> None:
        exceptions = self._exceptions
        while not self._stop.is_set():
            if self._replace:
                await self._reconnect()
                continue
            try:
                text = await asyncio.wait_for(self._socket.recv(),
                                              self.protocol.wait(time.monotonic()))
            except (TimeoutError, asyncio.TimeoutError):
                await self._carry_out(self.protocol.tick(time.monotonic()))
                continue
            except (exceptions.ConnectionClosed, OSError) as exc:
                if self._stop.is_set():
                    return
                self._log.debug("realtime socket lost (%s); reconnecting", failure_text(exc))
                await self._reconnect()
                continue
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            await self._carry_out(self.protocol.received(text, time.monotonic()))

    async def _reconnect(self) -> None:
        self._replace = False
        self.protocol.disconnected()
        with contextlib.suppress(Exception):
            await self._socket.close()
        failures = 0
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.options.backoff(failures))
            if self._stop.is_set():
                return
            try:
                await self._connect()
                return
            except DirectusError as exc:
                failures += 1
                limit = self.options.reconnect_attempts
                self._log.debug("realtime reconnect attempt %d failed: %s", failures, exc)
                if limit is not None and failures >= limit:
                    await self._fail_all(ConnectError(
                        f"realtime: the connection to {self.url} was lost and {failures} "
                        f"reconnect attempt(s) failed; the last: {exc}"))
                    return

    async def _carry_out(self, actions: list[Any]) -> None:
        for action in actions:
            kind = type(action)
            if kind is Send:
                # A lost socket is noticed by recv, which reconnects.
                with contextlib.suppress(self._exceptions.ConnectionClosed, OSError):
                    await self._socket.send(action.text)
            elif kind is Deliver:
                inbox = self._inboxes.get(action.uid)
                if inbox is not None:
                    inbox.queue.put_nowait(action.event)
                    inbox.acknowledged.set()
            elif kind is Fail:
                if action.uid is None:
                    await self._fail_all(action.error)
                    return
                self._fail(action.uid, action.error)
            elif kind is Renew:
                await self._renew(action.refused)
            elif kind is Reconnect:
                self._log.debug("realtime: %s; reconnecting", action.why)
                self._replace = True  # the reader replaces the socket

    async def _renew(self, refused: bool) -> None:
        try:
            token = await self._runner.run(renewed_token_plan(self._auth,
                                                              self.protocol.token))
        except DirectusError as exc:
            await self._fail_all(exc)
            return
        await self._carry_out(self.protocol.reauthenticate(token, time.monotonic(), refused))

    def _fail(self, uid: str, error: DirectusError) -> None:
        inbox = self._inboxes.pop(uid, None)
        self.protocol.unsubscribe(uid)
        if inbox is not None:
            inbox.error = error
            inbox.queue.put_nowait(error)
            inbox.acknowledged.set()

    async def _fail_all(self, error: DirectusError) -> None:
        for uid in list(self._inboxes):
            self._fail(uid, error)
        self.closed = True
        self._stop.set()
        with contextlib.suppress(Exception):
            await self._socket.close()


class AsyncSubscription:
    """One subscription (``async with`` it to subscribe; ``async for`` its events)."""

    def __init__(self, realtime: AsyncRealtime, spec: SubscriptionSpec) -> None:
        self._realtime = realtime
        self.spec = spec
        self._connection: _Connection | None = None
        self._inbox: _Inbox | None = None
        self._ahead: deque[RealtimeEvent] = deque()
        self._path: ReadPath | None = None

    def __repr__(self) -> str:
        return (f"<AsyncSubscription {self.spec.collection!r} event={self.spec.event!r} "
                f"uid={self.spec.uid!r}>")

    @property
    def uid(self) -> str:
        """Return the uid the server knows this subscription by."""
        return self.spec.uid

    async def __aenter__(self) -> AsyncSubscription:
        client = self._realtime._client
        self._path = subscription_path(self.spec, client._schema, client.page_size)
        runner: Any = client._runner
        compiled = await runner.run(compiled_query_plan(self.spec, self._path))
        connection = self._realtime._open()
        inbox = await connection.add(self.spec, compiled)
        self._connection, self._inbox = connection, inbox
        timeout = connection.options.connect_timeout
        try:
            await asyncio.wait_for(inbox.acknowledged.wait(), timeout)
        except (TimeoutError, asyncio.TimeoutError):
            await connection.remove(self.spec.uid)
            raise Timeout(f"realtime: the server did not acknowledge the subscription to "
                          f"{self.spec.collection!r} within {timeout:g} s") from None
        if inbox.error is not None:
            raise inbox.error
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        """Unsubscribe (the socket stays open for the client's other subscriptions)."""
        if self._connection is not None:
            await self._connection.remove(self.spec.uid)

    def __aiter__(self) -> AsyncSubscription:
        return self

    async def __anext__(self) -> RealtimeEvent:
        event = await self._next(None)
        if event is None:  # closed
            raise StopAsyncIteration
        return event

    async def next_event(self, timeout: float | None = None) -> RealtimeEvent:
        """Return the next event; wait at most ``timeout`` seconds (builtin TimeoutError
        when nothing came; a closed subscription raises ConnectError)."""
        event = await self._next(timeout)
        if event is None:
            raise ConnectError(f"realtime: the subscription to {self.spec.collection!r} "
                               f"is closed")
        return event

    async def _next(self, timeout: float | None) -> RealtimeEvent | None:
        """Return the next event, None once the subscription is closed."""
        if self._ahead:
            return self._ahead.popleft()
        inbox = self._inbox
        if inbox is None:
            raise UsageError("realtime: enter the subscription first: "
                             "async with client.realtime.subscribe(...) as sub")
        if inbox.error is not None and inbox.queue.empty():
            raise inbox.error
        try:
            item = await asyncio.wait_for(inbox.queue.get(), timeout)
        except (TimeoutError, asyncio.TimeoutError):
            raise TimeoutError(f"no realtime event for {self.spec.collection!r} within "
                               f"{timeout:g} s") from None
        if item is _CLOSED:
            inbox.queue.put_nowait(_CLOSED)  # every later call ends too
            return None
        if isinstance(item, DirectusError):
            raise item
        assert self._path is not None
        runner: Any = self._realtime._client._runner
        event: RealtimeEvent = await runner.run(typed_event_plan(item, self._path))
        if event.event == "gap" and self.spec.catch_up and event.since is not None:
            margin = self._connection.options.catch_up_margin if self._connection else 0.0
            try:
                rows = await runner.run(catch_up_plan(self.spec, self._path, event.since,
                                                      margin))
            except DirectusError:
                self._ahead.appendleft(event)
                raise
            self._ahead.extend(caught_up(event, rows))
        return event
