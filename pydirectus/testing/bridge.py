"""Drive the async face with sync code: one scenario, two faces, for tests.

``SyncOverAsync(AsyncDirectusClient(...))`` looks like a ``DirectusClient``:
it runs an event loop on a thread of its own and hands every call of the async client to
it. A method whose result is awaitable is awaited on that loop and its result returned;
handles, bound queries and other objects that talk to Directus come back wrapped the same
way, so ``client.collection("a").filter(x=1).count()`` is an int, ``for row in query`` pulls
``__anext__`` on the loop, ``query[2:5]`` is a (wrapped) bound query and ``query[3]`` an item.
Exceptions propagate unchanged (the very exception the async face raised).

>>> with SyncOverAsync(AsyncDirectusClient(url, auth=StaticToken(token))) as client:
...     client.collection("articles").get(1)

``face_client("async", url, ...)`` makes one (``face_client("sync", ...)`` a plain
DirectusClient), which is how the pytest plugin runs the same scenarios on both faces
(``--directus-face``). Calls from the loop's own thread (code that a plan runs, say)
cannot block on the loop: they get a RuntimeError instead of a deadlock.

Each bridge owns one thread and one loop: ``close()`` closes the async client (a
password session logs out), cancels what is left on the loop and ends the thread.
Clients the wrapped client hands out (``with_token``) share its loop; closing them
closes only them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
from collections.abc import Callable, Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from pydirectus import DirectusClient

__all__ = ["FACES", "SyncOverAsync", "face_client", "face_of", "pending_tasks"]

#: the faces a client can have
FACES = ("sync", "async")

_NOTHING = object()


class _Loop:
    """An event loop running on a thread of its own until stop()."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.closed = False
        #: tasks started here and not awaited by anyone (kept referenced until done)
        self.background: set[asyncio.Future[Any]] = set()
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._main, name="pydirectus-bridge", daemon=True)
        self.thread.start()

    def _main(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            try:
                # Whatever is left (an abandoned iteration's page, say) is cancelled and
                # awaited, suspended async generators are closed: nothing outlives the loop.
                left = asyncio.all_tasks(loop)
                for task in left:
                    task.cancel()
                if left:
                    loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    def on_loop_thread(self) -> bool:
        return threading.current_thread() is self.thread

    def run(self, make: Callable[[], Any]) -> Any:
        """Call `make` on the loop; await its result if it is awaitable; return that."""
        if self.on_loop_thread():
            # Code run by the loop itself (a plan, a callback): it cannot wait for the loop.
            result = make()
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()
                raise RuntimeError(
                    "SyncOverAsync: a call that must be awaited was made on the bridge's own "
                    "loop thread (from code the async face runs); use another client there")
            return result

        async def call() -> Any:
            result = make()
            if inspect.isawaitable(result):
                result = await result
            return result

        with self._lock:
            if self.closed:
                raise RuntimeError("SyncOverAsync: the client is closed")
            future = asyncio.run_coroutine_threadsafe(call(), self.loop)
        try:
            return self._result(future)
        except concurrent.futures.CancelledError:
            raise
        except BaseException:
            # An exception of the call is re-raised as is; an interrupt of the waiting thread
            # (KeyboardInterrupt) cancels the call on the loop.
            if not future.done():
                future.cancel()
            raise

    def _result(self, future: concurrent.futures.Future[Any]) -> Any:
        # Wait for the call, but not for ever on a loop whose thread has died (an exception
        # such as KeyboardInterrupt raised by a callback ends run_forever).
        while True:
            try:
                return future.result(timeout=0.5)
            except concurrent.futures.TimeoutError:
                if future.done():
                    return future.result()
                if not self.thread.is_alive():
                    raise RuntimeError("SyncOverAsync: the event loop's thread has ended (an "
                                       "exception such as KeyboardInterrupt escaped on it); "
                                       "make a new client") from None

    def stop(self) -> None:
        """Stop the loop (after what is queued), clean it up and end its thread."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self.loop.call_soon_threadsafe(self.loop.stop)
        if not self.on_loop_thread():
            self.thread.join()


def _is_live(value: Any) -> bool:
    """Whether a value talks to Directus through the async runner: wrap it."""
    if isinstance(value, _Proxy | type) or value is None:
        return False
    if type(value).__module__.startswith("pydirectus.aio"):
        return True  # the client, its transport
    # Handles and bound queries hold the runner (or their handle); async iterables too.
    return any(hasattr(value, name) for name in ("_runner", "_transport", "_handle",
                                                  "__aiter__"))


def _unwrap(value: Any) -> Any:
    return object.__getattribute__(value, "_bridge_target") if isinstance(value, _Proxy) else value


class _Proxy:
    """The sync API of an object of the async face (see the module docstring)."""

    __slots__ = ("_bridge_loop", "_bridge_target")

    _bridge_loop: _Loop
    _bridge_target: Any

    def __init__(self, target: Any, loop: _Loop) -> None:
        object.__setattr__(self, "_bridge_target", target)
        object.__setattr__(self, "_bridge_loop", loop)

    # What each value of the async face becomes.

    def _bridge_wrap(self, value: Any) -> Any:
        loop: _Loop = object.__getattribute__(self, "_bridge_loop")
        return _wrap(value, loop)

    def _bridge_call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop: _Loop = object.__getattribute__(self, "_bridge_loop")
        args = tuple(_unwrap(a) for a in args)
        kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
        return _wrap(loop.run(lambda: function(*args, **kwargs)), loop)

    # Attributes: methods are called on the loop (and awaited), values wrapped.

    def __getattr__(self, name: str) -> Any:
        target = object.__getattribute__(self, "_bridge_target")
        value = getattr(target, name)
        if inspect.isroutine(value):  # a method (not a callable object: an auth strategy)
            call = object.__getattribute__(self, "_bridge_call")

            def method(*args: Any, **kwargs: Any) -> Any:
                return call(value, *args, **kwargs)

            method.__name__ = name
            method.__doc__ = getattr(value, "__doc__", None)
            return method
        return self._bridge_wrap(value)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_bridge_target"), name, _unwrap(value))

    def __delattr__(self, name: str) -> None:
        delattr(object.__getattribute__(self, "_bridge_target"), name)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(proxy, Collection) holds, as on the sync face
        return type(object.__getattribute__(self, "_bridge_target"))

    def __dir__(self) -> list[str]:
        return dir(object.__getattribute__(self, "_bridge_target"))

    # Protocols.

    def __iter__(self) -> Iterator[Any]:
        target = object.__getattribute__(self, "_bridge_target")
        loop: _Loop = object.__getattribute__(self, "_bridge_loop")
        if hasattr(target, "__aiter__"):
            return _pull(loop.run(target.__aiter__), loop)
        return iter(target)

    def __getitem__(self, item: Any) -> Any:
        target = object.__getattribute__(self, "_bridge_target")
        return self._bridge_call(target.__getitem__, item)

    def __len__(self) -> int:
        return len(object.__getattribute__(self, "_bridge_target"))

    def __bool__(self) -> bool:
        return bool(object.__getattribute__(self, "_bridge_target"))

    def __contains__(self, item: Any) -> bool:
        return _unwrap(item) in object.__getattribute__(self, "_bridge_target")

    def __eq__(self, other: object) -> bool:
        return bool(object.__getattribute__(self, "_bridge_target") == _unwrap(other))

    def __ne__(self, other: object) -> bool:
        return bool(object.__getattribute__(self, "_bridge_target") != _unwrap(other))

    def __hash__(self) -> int:
        return hash(object.__getattribute__(self, "_bridge_target"))

    def __repr__(self) -> str:
        return repr(object.__getattribute__(self, "_bridge_target"))

    def __str__(self) -> str:
        return str(object.__getattribute__(self, "_bridge_target"))

    def __enter__(self) -> Any:
        target = object.__getattribute__(self, "_bridge_target")
        if hasattr(target, "__aenter__"):
            entered = self._bridge_call(target.__aenter__)
            return self if _unwrap(entered) is target else entered
        return self._bridge_call(target.__enter__)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        target = object.__getattribute__(self, "_bridge_target")
        if hasattr(target, "__aexit__"):
            self._bridge_call(target.__aexit__, exc_type, exc, tb)
        else:
            self._bridge_call(target.__exit__, exc_type, exc, tb)


def _wrap(value: Any, loop: _Loop) -> Any:
    if value is None or isinstance(value, _Proxy):
        return value
    if hasattr(value, "__anext__") and not hasattr(value, "__aenter__"):
        return _pull(value, loop)  # an async iterator: a sync one over it
    # (One that is also an async context manager, a realtime subscription, is proxied:
    # ``with`` enters it on the loop, ``for`` pulls its events, its methods are awaited.)
    if _is_live(value):
        return _Proxy(value, loop)
    return value


def _pull(iterator: Any, loop: _Loop) -> Generator[Any, None, None]:
    """Iterate an async iterator from sync code: each ``__anext__`` runs on the loop.

    Leaving early (break, close(), an error, garbage collection) closes the async iterator
    on the loop (``aclose``): its page in flight is cancelled there.
    """

    async def step() -> Any:
        try:
            return await iterator.__anext__()
        except StopAsyncIteration:
            return _NOTHING

    finished = False
    try:
        while True:
            item = loop.run(step)
            if item is _NOTHING:
                finished = True
                return
            yield _wrap(item, loop)
    finally:
        close = getattr(iterator, "aclose", None)
        if not finished and close is not None and not loop.closed:
            if loop.on_loop_thread():  # collected by code the loop runs: close it there
                task = asyncio.ensure_future(close())
                loop.background.add(task)
                task.add_done_callback(loop.background.discard)
            else:
                loop.run(close)


class SyncOverAsync(_Proxy):
    """An AsyncDirectusClient driven from sync code, on a loop thread of its own."""

    __slots__ = ()

    def __init__(self, client: Any) -> None:
        from pydirectus.aio import AsyncDirectusClient

        if not isinstance(client, AsyncDirectusClient):
            raise TypeError(f"client: expected an AsyncDirectusClient, got "
                            f"{type(client).__name__}")
        super().__init__(client, _Loop())

    def close(self) -> None:
        """Close the async client (log out, close its session) and end the loop's thread."""
        loop: _Loop = object.__getattribute__(self, "_bridge_loop")
        if loop.closed:
            return
        try:
            loop.run(object.__getattribute__(self, "_bridge_target").close)
        finally:
            loop.stop()

    def __enter__(self) -> SyncOverAsync:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def pending_tasks(client: Any) -> list[asyncio.Task[Any]]:
    """Return the tasks left on a bridged client's loop (none for a sync client)."""
    if not isinstance(client, _Proxy):
        return []
    loop: _Loop = object.__getattribute__(client, "_bridge_loop")
    if loop.closed:
        return []

    def tasks() -> list[asyncio.Task[Any]]:
        current = asyncio.current_task()
        return [t for t in asyncio.all_tasks() if t is not current and not t.done()]

    found: list[asyncio.Task[Any]] = loop.run(tasks)
    return found


def face_of(client: Any) -> str:
    """Return "async" for a bridged client (or anything it handed out), else "sync"."""
    return "async" if isinstance(client, _Proxy) else "sync"


def face_client(face: str, *args: Any, **kwargs: Any) -> DirectusClient:
    """Return a client of the face: a DirectusClient, or SyncOverAsync(AsyncDirectusClient)
    made with the same arguments (the sync API either way)."""
    if face == "sync":
        from pydirectus import DirectusClient

        return DirectusClient(*args, **kwargs)
    if face == "async":
        from pydirectus.aio import AsyncDirectusClient

        # Made first: a refused argument raises before any loop thread starts.
        client = AsyncDirectusClient(*args, **kwargs)
        return cast("DirectusClient", SyncOverAsync(client))
    raise ValueError(f"face: expected one of {FACES}, got {face!r}")
