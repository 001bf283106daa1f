"""DirectusClient: owns one Transport, hands out handles, keeps the seed's methods."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import TYPE_CHECKING

import requests

from .auth import DirectusAuth, StaticToken
from .client_args import resolve_client_args, warn_if_insecure
from .collection import DEFAULT_PAGE_SIZE
from .errors import InsecureTransportWarning, UsageError
from .face import ClientFace, QueryLike, Server
from .transport import (
    DEFAULT_TIMEOUT,
    RetryPolicy,
    SharedPoolSession,
    TimeoutSpec,
    Transport,
)

if TYPE_CHECKING:
    from .realtime import Realtime

__all__ = ["DirectusClient", "InsecureTransportWarning", "QueryLike", "Server"]


class DirectusClient(ClientFace):
    """A client for one Directus instance over one requests.Session (the sync face).

    >>> client = DirectusClient("http://127.0.0.1:8055", auth=StaticToken("..."))
    >>> client = DirectusClient(hostname="http://...", static_token="...")   # seed style
    >>> client = DirectusClient("http://...", "a@b.c", "secret")    # seed's positional order
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
        timeout: TimeoutSpec = DEFAULT_TIMEOUT,
        verify: bool | str | None = None,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so sharing is safe
        session: requests.Session | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        prefetch: bool = True,
        lean_path: bool = True,
    ) -> None:
        """Connect to the Directus at `url` (the seed's `hostname`); nothing is sent yet.

        The positional order after `url` is the seed's (pydirectus 0.2): `username`,
        `password`, `static_token`, `ssl_verify`, `logger`. `verify` (or the seed's
        `ssl_verify`) is True, False or a CA bundle path; given neither, the session's own
        setting holds, which is on for the session the client makes (the seed's was off).
        `logger` receives this client's log lines instead of the `pydirectus` logger.
        `prefetch` (on by default): iterating a query fetches the next page in the
        background while the loop works on the current one; False fetches each page
        only when the loop reaches it. `lean_path=False` sends every request through
        requests' ``Session.prepare_request`` and ``adapter.send`` (the lean path skips
        both for plain requests; see pydirectus.sender).
        """
        if not isinstance(prefetch, bool):
            raise UsageError(f"prefetch: expected True or False, got {prefetch!r}")
        args = resolve_client_args(
            url=url, hostname=hostname, auth=auth, username=username, password=password,
            static_token=static_token, verify=verify, ssl_verify=ssl_verify, logger=logger)
        base_url, auth = args.base_url, args.auth
        warn_if_insecure(base_url, auth, stacklevel=2)
        # verify=None: a session passed in keeps its own setting (a CA bundle, say); the
        # transport sends verify, timeouts and the User-Agent per request, never changing it.
        self.transport = Transport(base_url, auth=auth, timeout=timeout, verify=args.verify,
                                   retry=retry, session=session, logger=args.logger,
                                   prefetch=prefetch, lean=lean_path)
        self._lean_path = lean_path
        self._setup(self.transport, page_size)

    @property
    def realtime(self) -> Realtime:
        """Return the realtime subscriptions of this client (WebSocket /websocket; needs
        ``pip install 'pydirectus[realtime]'`` and a server with websockets enabled)."""
        realtime: Realtime | None = self.__dict__.get("_realtime")
        if realtime is None:
            from .core.realtime import WEBSOCKETS_SYNC
            from .extras import require
            from .realtime import Realtime

            require(WEBSOCKETS_SYNC, "client.realtime")
            realtime = Realtime(self)
            self.__dict__["_realtime"] = realtime
        return realtime

    def close(self) -> None:
        """Close the realtime socket, log out a password session and close the HTTP
        session (only one the client made)."""
        realtime = self.__dict__.get("_realtime")
        if realtime is not None:
            realtime.close()
        self.transport.close()

    def __enter__(self) -> DirectusClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # Per-call credentials.

    def with_auth(self, auth: DirectusAuth) -> DirectusClient:
        """Return a client that acts through `auth` but shares this client's connection pool."""
        if not isinstance(auth, DirectusAuth):
            raise UsageError(f"auth: expected StaticToken, Password or another DirectusAuth, "
                             f"got {type(auth).__name__}")
        return DirectusClient(self.url, auth=auth, timeout=self.transport.timeout,
                              verify=self.transport.verify, retry=self.transport.retry,
                              session=SharedPoolSession(self.transport.session),
                              page_size=self.page_size, logger=self.transport.log,
                              prefetch=self.transport.prefetch, lean_path=self._lean_path)

    def with_token(self, token: str) -> DirectusClient:
        """Return a client that sends `token` (an end user's, say) over this client's pool."""
        return self.with_auth(StaticToken(token))

