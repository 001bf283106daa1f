"""The sync face's sender and driver: requests underneath, the core's decisions on top.

``Transport`` drives plans (``pydirectus.core.plans``) by blocking: a call runs
the core's exchange plan (``pydirectus.core.exchange``: retries, token renewal,
redirects, error mapping), whose attempts go out through the one requests sender
(``pydirectus.sender``, with its lean path) and whose waits sleep. Failures of requests
are mapped here to the pydirectus tree (``wrap_error``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from typing import TYPE_CHECKING, Any, Final, TypeVar

import requests
import urllib3.exceptions

from ._version import __version__
from .core import plans
from .core.exchange import (
    FOLLOWED_METHODS,
    MAX_REDIRECTS,
    NO_RETRY,
    Exchange,
    RetryPolicy,
    validate_base_url,
)
from .core.plans import (
    ANY,
    Attempt,
    Call,
    Exclusive,
    Gather,
    Plan,
    Shape,
    Wait,
    WireFailure,
    decode_json,
    encode_segment,
    resume,
    unwrap,
)
from .core.reads import Rows
from .download import Download, Sink, drain
from .errors import (
    ConnectError,
    Timeout,
    TLSError,
    TransportError,
)
from .prefetch import Prefetch
from .redact import SECRET_PARAMS, redact_text, redact_url
from .sender import LeanSender

if TYPE_CHECKING:
    from .auth import DirectusAuth

__all__ = [
    "DEFAULT_TIMEOUT",
    "FOLLOWED_METHODS",
    "MAX_REDIRECTS",
    "NO_RETRY",
    "Call",
    "RetryPolicy",
    "SharedPoolSession",
    "TimeoutSpec",
    "Transport",
    "decode_json",
    "encode_segment",
    "redact_url",
    "unwrap",
    "validate_base_url",
    "wrap_error",
]

log = logging.getLogger("pydirectus")

TimeoutSpec = float | tuple[float, float]
DEFAULT_TIMEOUT: Final[tuple[float, float]] = (10.0, 60.0)


NEVER_SENT: Final = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.NameResolutionError)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    # requests wraps urllib3 errors in args[0] (not __cause__); MaxRetryError keeps .reason.
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        if isinstance(cause, urllib3.exceptions.MaxRetryError) and cause.reason is not None:
            cause = cause.reason
            continue
        first_arg = cause.args[0] if cause.args else None
        cause = cause.__cause__ or (first_arg if isinstance(first_arg, BaseException) else None)


def _never_reached_server(exc: requests.RequestException) -> bool:
    # A refused connection or failed DNS lookup happens before a byte is sent,
    # so even a POST may be retried; anything later might have been processed.
    if isinstance(exc, requests.ConnectTimeout):
        return True
    return any(isinstance(cause, NEVER_SENT) for cause in _causes(exc))


def _read_timed_out(exc: requests.RequestException) -> bool:
    # A stall in the body (after the headers) reaches us as a requests.ConnectionError
    # wrapping urllib3's ReadTimeoutError, not as requests.ReadTimeout.
    return isinstance(exc, requests.ReadTimeout) or any(
        isinstance(cause, urllib3.exceptions.ReadTimeoutError) for cause in _causes(exc))


def wrap_error(exc: requests.RequestException, call: Call) -> TransportError:
    """Return the pydirectus TransportError for a requests failure of a call."""
    where = f"{call.method} {call.path}"
    if isinstance(exc, requests.exceptions.SSLError):
        return TLSError(f"{where}: TLS failed: {type(exc).__name__}")
    if isinstance(exc, requests.ConnectTimeout):
        return Timeout(f"{where}: connect timed out")
    if _read_timed_out(exc):
        return Timeout(f"{where}: read timed out")
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        # ChunkedEncodingError: the connection dropped in the middle of the body.
        return ConnectError(f"{where}: connection failed: {_reason(exc)}")
    return TransportError(f"{where}: {type(exc).__name__}: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    # urllib3 messages can repeat the URL, and a URL can carry an access_token.
    text = str(exc)
    for marker in SECRET_PARAMS:
        if f"{marker}=" in text:
            return type(exc).__name__
    return redact_text(text[:300])


def _detached(exc: requests.RequestException) -> requests.RequestException:
    """Return a copy of a requests error holding only its message.

    The original holds the PreparedRequest (the login body, the Authorization header)
    and urllib3's pool; an exception we raise must not reach them.
    """
    try:
        copy = type(exc)(_reason(exc))
    except Exception:  # an exception type with another constructor
        copy = requests.RequestException(_reason(exc))
    copy.request = copy.response = None
    return copy



R = TypeVar("R")


class SharedPoolSession(requests.Session):
    """A session with its own headers and cookies over another session's connection pools.

    Closing it leaves the pools open: they belong to the session it was made from.
    """

    def __init__(self, parent: requests.Session) -> None:
        super().__init__()
        for prefix, adapter in parent.adapters.items():
            self.mount(prefix, adapter)
        self.headers.update({k: v for k, v in parent.headers.items()
                             if k.lower() != "authorization"})
        self.proxies = dict(parent.proxies)
        self.trust_env = parent.trust_env
        self.cert = parent.cert

    def close(self) -> None:
        """Forget the borrowed adapters without closing their pools."""
        self.adapters.clear()


class Transport:
    """The sync face's driver: run plans, sending over one requests.Session.

    A session passed in is used, not changed: verify, proxies, the User-Agent and timeouts
    go with each request, and ``close()`` closes only a session the transport created.
    ``lean=False`` sends every request through ``Session.prepare_request`` and
    ``adapter.send`` (see ``pydirectus.sender``).
    """

    #: run() blocks and returns the plan's result
    blocking = True

    def __init__(
        self,
        base_url: str,
        *,
        auth: DirectusAuth | None = None,
        timeout: TimeoutSpec = DEFAULT_TIMEOUT,
        verify: bool | str | None = None,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so sharing is safe
        session: requests.Session | None = None,
        logger: logging.Logger | None = None,
        prefetch: bool = True,
        lean: bool = True,
    ) -> None:
        self.base_url = validate_base_url(base_url)
        # Every log line of this client (auth and schema cache too) goes through self.log.
        self.log = logger if logger is not None else log
        self.timeout = timeout
        self.retry = retry
        # Whether iterating a query fetches the next page in the background (prefetch.py).
        self.prefetch = prefetch
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        # Our User-Agent, unless the user's session names its own.
        agent = self.session.headers.get("User-Agent")
        headers: dict[str, str] = {}
        if agent is None or agent == requests.utils.default_user_agent():
            headers["User-Agent"] = (
                f"pydirectus/{__version__} {requests.utils.default_user_agent()}")
        # Proxies, CA bundle and netrc are read from the environment once per client and
        # host (later changes to the environment or session.proxies are not seen).
        # verify=None: the session's own setting (True for a session created here). Passed
        # explicitly, as requests lets REQUESTS_CA_BUNDLE override a session's CA bundle.
        if verify is None:
            verify = self.session.verify
        self.sender = LeanSender(self.session, self.base_url, verify, headers, lean=lean)
        self.exchange = Exchange(self.sender.prefix, headers=headers, retry=retry, auth=auth,
                                 log=self.log)
        self.auth = auth
        if auth is not None:
            auth.bind(self)

    def __repr__(self) -> str:
        return f"<Transport {redact_url(self.base_url)} auth={self.auth!r}>"

    @property
    def verify(self) -> bool | str:
        """Return the TLS verification each request uses (True, False or a CA bundle path)."""
        verify: bool | str | None = self.sender.verify
        return True if verify is None else verify

    def url(self, call: Call) -> str:
        """Return the absolute URL of a call (without its query string)."""
        return self.exchange.url(call)

    # Driving plans.

    def run(self, plan: Plan[R]) -> R:
        """Drive a plan to its result, blocking on each instruction it yields."""
        try:
            instruction = next(plan)
            while True:
                instruction = self._step(plan, instruction)
        except StopIteration as done:
            value: R = done.value
            return value

    def _step(self, plan: Plan[Any], instruction: Any) -> Any:
        """Answer one instruction, resume the plan with the outcome; return what it yields
        next (StopIteration when it is done)."""
        failure: Exception | None = None
        result: Any = None
        try:
            result = self._answer(instruction)
        except Exception as exc:
            failure = exc
        # Thrown outside the except block: the plan's own error gets no context.
        return resume(plan, result, failure)

    def _answer(self, instruction: Any) -> Any:
        if type(instruction) is Call:
            return self.send(instruction)
        if type(instruction) is Attempt:
            return self._attempt(instruction)
        if type(instruction) is Wait:
            time.sleep(instruction.seconds)
            return None
        if type(instruction) is Exclusive:
            with instruction.slot.sync_lock:
                return self.run(instruction.plan)
        if type(instruction) is Gather:
            # Each plan on a thread of its own; the session's pool is shared between them.
            with ThreadPoolExecutor(max_workers=len(instruction.plans),
                                    thread_name_prefix="pydirectus-batch") as pool:
                futures = [pool.submit(self.run, plan) for plan in instruction.plans]
                return [_outcome(future) for future in futures]
        raise TypeError(f"a plan yielded {instruction!r}, which the sync face cannot answer")

    def rows(self, pages: Plan[None], prefetch: bool) -> Iterator[Any]:
        """Iterate the rows of a page stream; prefetch: the next page is fetched on a
        background thread while the caller works on this one."""
        source = self._pages(pages)
        # Closed however the loop ends (break, an error, garbage collection): a page fetch
        # in flight is waited for, and nothing more is sent.
        with closing(Prefetch(source) if prefetch else source) as pages_read:
            for rows in pages_read:
                yield from rows

    def _pages(self, pages: Plan[None]) -> Generator[list[Any], None, None]:
        # Answer the stream's calls; hand out each page's rows as it comes.
        with closing(pages):
            item = next(pages, None)
            while item is not None:
                if type(item) is Rows:
                    yield item.rows
                    item = next(pages, None)
                    continue
                try:
                    item = self._step(pages, item)
                except StopIteration:
                    item = None

    def _attempt(self, attempt: Attempt) -> requests.Response:
        call = attempt.call
        prepared = self.sender.prepare(call.method, attempt.url, params=attempt.params,
                                       data=attempt.data, files=attempt.files,
                                       headers=attempt.headers, auth=attempt.auth,
                                       authenticate=call.authenticate,
                                       prepared_url=attempt.prepared_url)
        proxies = (self.sender.proxies if attempt.prepared_url
                   else self.sender.proxies_for(attempt.url))
        failure: requests.RequestException | None = None
        try:
            return self.sender.send(prepared, stream=call.stream, timeout=self.timeout,
                                    proxies=proxies)
        except requests.RequestException as exc:
            failure = exc
        # Raised outside the except block: the original (which holds the prepared request,
        # Authorization header and body included) is not its context.
        raise WireFailure(wrap_error(failure, call), never_sent=_never_reached_server(failure),
                          read_timed_out=_read_timed_out(failure), cause=_detached(failure))

    # Streamed bodies: the Download decides (pydirectus.download); reading is this face's.

    def stream(self, download: Download) -> Generator[bytes, None, None]:
        """Yield a streamed download's body in chunks; the request goes out on the first
        next(), and the response is closed however the loop ends."""
        try:
            # The replies this face's sender makes are requests.Responses.
            response: Any = self.run(download.plan())
            try:
                chunks = response.iter_content(download.chunk_size)
                while True:
                    # Only reading the body is guarded: an error of the progress callback
                    # (or of the code consuming the chunks) is not a transport error.
                    try:
                        chunk = next(chunks)
                    except StopIteration:
                        break
                    except STREAM_ERRORS as exc:
                        raise _stream_error(exc, download.call) from exc
                    download.received(chunk)
                    yield chunk
                download.finished()
            finally:
                response.close()
        finally:
            download.close()

    def save(self, download: Download, sink: Sink) -> Any:
        """Stream a download into a sink (a path all or nothing, a file, memory); return
        what the sink commits."""
        return drain(self.stream(download), sink)

    # Calls.

    def send(self, call: Call) -> requests.Response:
        """Send a call; retry what is safe; map failures to the pydirectus error tree."""
        # The replies this face's sender makes are requests.Responses.
        response: Any = self.run(self.exchange.run(call))
        return response  # type: ignore[no-any-return]

    def request(
        self,
        method: str,
        *segments: str | int,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        authenticate: bool = True,
    ) -> Any:
        """Send a JSON call and return the decoded body (None for an empty answer)."""
        return self.send_json(Call(method, segments, params=params, json=json,
                                   idempotent=idempotent, authenticate=authenticate))

    def send_json(self, call: Call) -> Any:
        """Send a call and return its decoded JSON body (None for an empty answer)."""
        return decode_json(self.send(call), call)

    def data(
        self,
        method: str,
        *segments: str | int,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        authenticate: bool = True,
        expect: Shape = ANY,
    ) -> Any:
        """Send a JSON call and return the envelope's `data` (None for 204 No Content).

        ``expect`` is the shape ``data`` must have (pydirectus.core.plans: OBJECT, OBJECTS,
        ROWS, KEYS, NOTHING, ...); any other shape raises ServerError.
        """
        return self.run(plans.data(method, *segments, params=params, json=json,
                                   idempotent=idempotent, authenticate=authenticate,
                                   expect=expect))

    def post_auth(self, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """POST /auth/{endpoint} without a bearer token and without following redirects.

        The narrow channel auth strategies use (login, refresh, logout); returns the
        envelope's data (None for 204).
        """
        return self.run(self.exchange.post_auth(endpoint, body))

    def auth_call(self, endpoint: str | tuple[str, ...], body: Mapping[str, Any], *,
                  cookie: tuple[str, str | None] | None = None
                  ) -> Plan[dict[str, Any] | None]:
        """Plan: POST /auth/{endpoint} without a bearer token, without following redirects
        (see Exchange.post_auth)."""
        return self.exchange.post_auth(endpoint, body, cookie=cookie)

    def close(self) -> None:
        """Log out the auth strategy (if it holds a session); close a session made here."""
        try:
            if self.auth is not None:
                self.run(self.auth.close_plan())
        finally:
            if self._owns_session:
                self.session.close()


# What reading a streamed body can raise: requests' wrappers (iter_content) and urllib3's own
# errors (reading response.raw), mapped to ConnectError or Timeout by wrap_error.
STREAM_ERRORS: Final = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)


def _stream_error(exc: BaseException, call: Call) -> TransportError:
    if isinstance(exc, requests.RequestException):
        return wrap_error(exc, call)
    # urllib3 (or the socket) raised while reading response.raw: wrap it as requests would.
    return wrap_error(requests.exceptions.ChunkedEncodingError(exc), call)


def _outcome(future: Future[Any]) -> Any:
    error = future.exception()
    return error if error is not None else future.result()
