"""The async face's driver: run the core's plans by awaiting, over the aiohttp sender.

The same plans the sync ``Transport`` blocks on run here as
coroutines: a call runs the core's exchange plan (retries, token renewal, redirects,
error mapping), attempts go through ``AioSender``, waits are
``asyncio.sleep``, ``Exclusive`` takes an ``asyncio.Lock``
(one token refresh for many waiting tasks) and ``Gather``
runs its plans as tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp

from ..core import plans
from ..core.exchange import Exchange, RetryPolicy, validate_base_url
from ..core.plans import (
    ANY,
    Attempt,
    Call,
    Exclusive,
    Gather,
    Plan,
    Shape,
    Wait,
    decode_json,
    resume,
)
from ..core.reads import Rows
from ..download import Download, Sink, drain_async
from ..redact import redact_url
from .sender import READ_ERRORS, USER_AGENT, AioReply, AioSender, read_failure

if TYPE_CHECKING:
    from ..auth import DirectusAuth

__all__ = ["AsyncTransport"]

log = logging.getLogger("pydirectus")
R = TypeVar("R")


class AsyncTransport:
    """Drive plans as coroutines over one aiohttp session."""

    #: run() returns an awaitable, not the result
    blocking = False

    def __init__(self, base_url: str, *, auth: DirectusAuth | None,
                 timeout: float | tuple[float, float], verify: bool | str,
                 retry: RetryPolicy, session: aiohttp.ClientSession | None,
                 logger: logging.Logger | None, prefetch: bool) -> None:
        self.base_url = validate_base_url(base_url)
        self.log = logger if logger is not None else log
        self.timeout = timeout
        self.retry = retry
        self.verify = verify
        self.prefetch = prefetch
        self.sender = AioSender(session, verify=verify, timeout=timeout)
        self.exchange = Exchange(self.base_url, headers={"User-Agent": USER_AGENT},
                                 retry=retry, auth=auth, log=self.log)
        self.auth = auth
        if auth is not None:
            auth.bind(self)

    def __repr__(self) -> str:
        return f"<AsyncTransport {redact_url(self.base_url)} auth={self.auth!r}>"

    # Driving plans.

    async def run(self, plan: Plan[R]) -> R:
        """Drive a plan to its result, awaiting each instruction it yields."""
        try:
            instruction = next(plan)
            while True:
                # _step's body, inlined: an await less per instruction (measured in
                # benchmarks/async_client.py), on the path of every call.
                failure: Exception | None = None
                result: Any = None
                try:
                    result = await self._answer(instruction)
                except Exception as exc:
                    failure = exc
                # Caught here, in this coroutine: a StopIteration must not leave one.
                instruction = resume(plan, result, failure)
        except StopIteration as done:
            value: R = done.value
            return value
        finally:
            # Cancelled (or failed) mid-plan: let the plan's own cleanup run now.
            plan.close()

    async def _step(self, plan: Plan[Any], instruction: Any) -> Any:
        """Answer one instruction, resume the plan with the outcome; return what it yields
        next, or _Finished with its result. (A StopIteration must not leave a coroutine:
        Python turns it into a RuntimeError.)"""
        failure: Exception | None = None
        result: Any = None
        try:
            result = await self._answer(instruction)
        except Exception as exc:
            failure = exc
        try:
            return resume(plan, result, failure)
        except StopIteration as done:
            return _Finished(done.value)

    async def _answer(self, instruction: Any) -> Any:
        kind = type(instruction)
        if kind is Call:
            return await self.send(instruction)
        if kind is Attempt:
            return await self.sender.attempt(instruction)
        if kind is Wait:
            await asyncio.sleep(instruction.seconds)
            return None
        if kind is Exclusive:
            slot = instruction.slot
            if slot.async_lock is None:
                slot.async_lock = asyncio.Lock()
            async with slot.async_lock:
                return await self.run(instruction.plan)
        if kind is Gather:
            return list(await asyncio.gather(*(self.run(p) for p in instruction.plans),
                                             return_exceptions=True))
        raise TypeError(f"a plan yielded {instruction!r}, which the async face cannot answer")

    def rows(self, pages: Plan[None], prefetch: bool) -> AsyncIterator[Any]:
        """Iterate (``async for``) the rows of a page stream; prefetch: the next page is
        fetched by a task while the caller works on this one."""
        return _rows(_PageStream(self, pages), prefetch)

    # Streamed bodies: the Download decides (pydirectus.download); reading is this face's.

    async def stream(self, download: Download) -> AsyncGenerator[bytes, None]:
        """Yield (``async for``) a streamed download's body in chunks; the request goes out
        on the first one, and the reply is released however the loop ends."""
        try:
            # The replies this face's sender makes are AioReplies.
            reply: AioReply = await self.run(download.plan())  # type: ignore[arg-type]
            chunks = reply.iter_chunks(download.chunk_size)
            try:
                while True:
                    # Only reading the body is guarded: an error of the progress callback
                    # (or of the code consuming the chunks) is not a transport error.
                    failure: Exception | None = None
                    try:
                        chunk = await chunks.__anext__()
                    except StopAsyncIteration:
                        break
                    except READ_ERRORS as exc:
                        failure = read_failure(exc, download.call)
                    if failure is not None:
                        raise failure  # outside the except block: no aiohttp context
                    download.received(chunk)
                    yield chunk
                download.finished()
            finally:
                await chunks.aclose()
                reply.close()
        finally:
            download.close()

    async def save(self, download: Download, sink: Sink) -> Any:
        """Stream a download into a sink (a path all or nothing, a file, memory); return
        what the sink commits."""
        return await drain_async(self.stream(download), sink)

    # Calls.

    async def send(self, call: Call) -> AioReply:
        """Send a call; retry what is safe; map failures to the pydirectus error tree."""
        # The replies this face's sender makes are AioReplies.
        reply: Any = await self.run(self.exchange.run(call))
        return reply  # type: ignore[no-any-return]

    async def request(self, method: str, *segments: str | int,
                      params: Mapping[str, str] | None = None, json: Any = None,
                      idempotent: bool | None = None, authenticate: bool = True) -> Any:
        """Send a JSON call and return the decoded body (None for an empty answer)."""
        return await self.run(plans.request(method, *segments, params=params, json=json,
                                            idempotent=idempotent, authenticate=authenticate))

    async def send_json(self, call: Call) -> Any:
        """Send a call and return its decoded JSON body (None for an empty answer)."""
        return decode_json(await self.send(call), call)

    async def data(self, method: str, *segments: str | int,
                   params: Mapping[str, str] | None = None, json: Any = None,
                   idempotent: bool | None = None, authenticate: bool = True,
                   expect: Shape = ANY) -> Any:
        """Send a JSON call and return the envelope's `data` (None for 204 No Content)."""
        return await self.run(plans.data(method, *segments, params=params, json=json,
                                         idempotent=idempotent, authenticate=authenticate,
                                         expect=expect))

    def auth_call(self, endpoint: str | tuple[str, ...], body: Mapping[str, Any], *,
                  cookie: tuple[str, str | None] | None = None
                  ) -> Plan[dict[str, Any] | None]:
        """Plan: POST /auth/{endpoint} without a bearer token, without following redirects
        (see Exchange.post_auth)."""
        return self.exchange.post_auth(endpoint, body, cookie=cookie)

    async def close(self) -> None:
        """Log out the auth strategy (if it holds a session); close a session made here."""
        try:
            if self.auth is not None:
                await self.run(self.auth.close_plan())
        finally:
            await self.sender.close()


class _Finished:
    """What _step returns when the plan is done: its result."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _PageStream:
    """A page stream driven one page at a time (the plan keeps its place between pages)."""

    def __init__(self, transport: AsyncTransport, pages: Generator[Any, Any, None]) -> None:
        self._transport = transport
        self._pages = pages
        self._next: Any = None
        self._started = False
        self.done = False

    async def page(self) -> list[Any] | None:
        """Return the next page's rows, or None at the end."""
        if self.done:
            return None
        try:
            item = self._next if self._started else next(self._pages)
            self._started = True
            while type(item) is not Rows:
                item = await self._transport._step(self._pages, item)
                if type(item) is _Finished:
                    self.done = True
                    return None
            self._next = None
            rows: list[Any] = item.rows
            self._advance()
            return rows
        except StopIteration:
            self.done = True
            return None
        except BaseException:
            self.close()
            raise

    def _advance(self) -> None:
        # Move past the Rows just handed out, to the stream's next instruction.
        try:
            self._next = next(self._pages)
        except StopIteration:
            self.done = True

    def close(self) -> None:
        """Close the plan (nothing more is sent)."""
        self.done = True
        self._pages.close()


async def _rows(stream: _PageStream, prefetch: bool) -> AsyncIterator[Any]:
    ahead: asyncio.Task[list[Any] | None] | None = None
    try:
        page = await stream.page()
        while page is not None:
            if prefetch and not stream.done:
                ahead = asyncio.ensure_future(stream.page())
            for row in page:
                yield row
            if ahead is not None:
                page, ahead = await ahead, None
            else:
                page = await stream.page()
    finally:
        # Ended early (break, an error, cancellation): the page in flight is cancelled
        # and awaited, so no task or connection is left behind.
        if ahead is not None:
            ahead.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await ahead
        stream.close()
