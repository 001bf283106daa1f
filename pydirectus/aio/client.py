"""AsyncDirectusClient: the sync client's handles and methods, awaited, over aiohttp.

The handles are the sync client's own (one definition each): their methods build plans
(``pydirectus.core``) that this client's ``AsyncTransport``
drives as coroutines, so ``await coll.get(pk)`` does what ``coll.get(pk)`` does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

import aiohttp

from ..auth import DirectusAuth, StaticToken
from ..client_args import resolve_client_args, warn_if_insecure
from ..collection import DEFAULT_PAGE_SIZE
from ..core.exchange import RetryPolicy
from ..errors import UsageError
from ..face import ClientFace, QueryLike
from .transport import AsyncTransport

if TYPE_CHECKING:
    from ..models import File
    from .realtime import AsyncRealtime
    from .typing import AsyncCollection, AsyncServer, AsyncSingleton

__all__ = ["AsyncDirectusClient"]

T = TypeVar("T", bound=Mapping[str, Any])
#: connect and read timeouts, as the sync client's
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)


class AsyncDirectusClient(ClientFace):
    """A client for one Directus instance over one aiohttp session (the async face).

    >>> async with AsyncDirectusClient("http://127.0.0.1:8055", auth=StaticToken("...")) as c:
    ...     article = await c.collection("articles").get(1)
    ...     async for row in c.collection("articles").filter(views__gt=10):
    ...         ...

    The constructor takes the sync client's arguments (the seed's spellings too); a
    ``session`` given is an ``aiohttp.ClientSession`` the client uses but does not close.
    Nothing is sent, and no session is made, until the first call.
    """

    def __init__(
        self,
        url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        static_token: str | None = None,
        ssl_verify: bool | str | None = None,
        logger: logging.Logger | None = None,
        *,
        auth: DirectusAuth | None = None,
        hostname: str | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        verify: bool | str | None = None,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so sharing is safe
        session: aiohttp.ClientSession | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        prefetch: bool = True,
    ) -> None:
        """Connect to the Directus at `url` (the seed's `hostname`); nothing is sent yet."""
        if not isinstance(prefetch, bool):
            raise UsageError(f"prefetch: expected True or False, got {prefetch!r}")
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise UsageError(f"session: expected an aiohttp.ClientSession, got "
                             f"{type(session).__name__}")
        args = resolve_client_args(
            url=url, hostname=hostname, auth=auth, username=username, password=password,
            static_token=static_token, verify=verify, ssl_verify=ssl_verify, logger=logger)
        warn_if_insecure(args.base_url, args.auth, stacklevel=2)
        self.transport = AsyncTransport(
            args.base_url, auth=args.auth, timeout=timeout,
            verify=True if args.verify is None else args.verify, retry=retry,
            session=session, logger=args.logger, prefetch=prefetch)
        self._setup(self.transport, page_size)

    @property
    def realtime(self) -> AsyncRealtime:
        """Return the realtime subscriptions of this client (WebSocket /websocket; needs
        ``pip install 'pydirectus[realtime]'`` and a server with websockets enabled)."""
        realtime: AsyncRealtime | None = self.__dict__.get("_realtime")
        if realtime is None:
            from ..core.realtime import WEBSOCKETS_ASYNCIO
            from ..extras import require
            from .realtime import AsyncRealtime

            require(WEBSOCKETS_ASYNCIO, "client.realtime")
            realtime = AsyncRealtime(self)
            self.__dict__["_realtime"] = realtime
        return realtime

    async def close(self) -> None:
        """Close the realtime socket, log out a password session and close the aiohttp
        session (only one made here)."""
        realtime = self.__dict__.get("_realtime")
        if realtime is not None:
            await realtime.close()
        await self.transport.close()

    async def __aenter__(self) -> AsyncDirectusClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def with_auth(self, auth: DirectusAuth) -> AsyncDirectusClient:
        """Return a client that acts through `auth` over this client's aiohttp session
        (made now if it was not yet; closing the new client leaves it open)."""
        if not isinstance(auth, DirectusAuth):
            raise UsageError(f"auth: expected StaticToken, Password or another DirectusAuth, "
                             f"got {type(auth).__name__}")
        return AsyncDirectusClient(self.url, auth=auth, timeout=self.transport.timeout,
                                   verify=self.transport.verify, retry=self.transport.retry,
                                   session=self.transport.sender.session(),
                                   page_size=self.page_size, logger=self.transport.log,
                                   prefetch=self.transport.prefetch)

    def with_token(self, token: str) -> AsyncDirectusClient:
        """Return a client that sends `token` (an end user's, say) over this client's session."""
        return self.with_auth(StaticToken(token))

    if TYPE_CHECKING:
        # The shared methods, as this face returns them (awaitables); see ClientFace.
        server: AsyncServer  # type: ignore[assignment]

        @overload  # type: ignore[override]
        def collection(self, name: str, *, pk: str | None = None,
                       singleton: bool | None = None) -> AsyncCollection[dict[str, Any]]: ...
        @overload
        def collection(self, name: str, item_type: type[T], *, pk: str | None = None,
                       singleton: bool | None = None) -> AsyncCollection[T]: ...
        def collection(self, name: str, item_type: type[Any] | None = None, *,
                       pk: str | None = None,
                       singleton: bool | None = None) -> AsyncCollection[Any]: ...

        @overload  # type: ignore[override]
        def singleton(self, name: str) -> AsyncSingleton[dict[str, Any]]: ...
        @overload
        def singleton(self, name: str, item_type: type[T]) -> AsyncSingleton[T]: ...
        def singleton(self, name: str, item_type: type[Any] | None = None
                      ) -> AsyncSingleton[Any]: ...

        async def read_items(  # type: ignore[override]
                self, collection: str, query: QueryLike = None) -> list[dict[str, Any]]: ...
        async def read_item(  # type: ignore[override]
                self, collection: str, id: str | int,
                query: QueryLike = None) -> dict[str, Any]: ...
        async def create_item(  # type: ignore[override]
                self, collection: str, data: Mapping[str, Any]) -> dict[str, Any]: ...
        async def update_item(  # type: ignore[override]
                self, collection: str, id: str | int,
                data: Mapping[str, Any]) -> dict[str, Any]: ...
        async def delete_item(  # type: ignore[override]
                self, collection: str, id: str | int) -> None: ...
        async def read_files(  # type: ignore[override]
                self, query: QueryLike = None) -> list[File]: ...
        async def read_file(  # type: ignore[override]
                self, id: str, query: QueryLike = None) -> File: ...
        async def create_file(  # type: ignore[override]
                self, file_data: Mapping[str, Any]) -> File: ...
        async def update_file(  # type: ignore[override]
                self, id: str, data: Mapping[str, Any]) -> File: ...
        async def delete_file(self, id: str) -> None: ...  # type: ignore[override]
        async def request(
                self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None, headers: Mapping[str, str] | None = None) -> Any: ...
        async def graphql(  # type: ignore[override]
                self, query: str, variables: Mapping[str, Any] | None = None, *,
                system: bool = False, operation_name: str | None = None) -> dict[str, Any]: ...
