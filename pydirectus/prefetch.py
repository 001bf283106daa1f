"""Fetch the next page on a background thread while the caller works on the current one.

``Prefetch`` wraps any page iterator (a generator that sends one request per page).
The first page is fetched on the caller's thread; after each page it hands out, one
background thread (the same one for the whole loop) fetches the next, so at most one
request is in flight and at most two pages are held. The page iterator still decides what
the next page is (keyset paging reads the last row of the page before), as it would run
sequentially.

- An error of a background fetch is raised where that page would have been returned,
  after every page before it.
- ``close()`` (called on ``break``, on an exception in the loop, and when the iterator is
  garbage-collected) waits for the fetch in flight, if any, and closes the page iterator:
  no thread is left behind and no request is sent after it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

__all__ = ["Prefetch"]

T = TypeVar("T")


class _Fetcher(Generic[T]):
    """One thread that runs next() of the page iterator each time it is asked to.

    It holds the page iterator and its own slots only, not the Prefetch: a Prefetch
    dropped by its caller can be collected (and close) while a fetch runs.
    """

    def __init__(self, pages: Iterator[T]) -> None:
        self._pages = pages
        self._wanted = threading.Semaphore(0)
        self._ready = threading.Semaphore(0)
        self._stop = threading.Event()
        self.asked = False  # a fetch was asked for and its result not yet taken
        self.page: T | None = None
        self.error: BaseException | None = None
        self.done = False
        # One thread for the whole loop: starting one per page costs the caller's process
        # a thread start and a few context switches per page.
        self.thread = threading.Thread(target=self._run, daemon=True,
                                       name="pydirectus-prefetch")
        self.thread.start()

    def _run(self) -> None:
        while True:
            self._wanted.acquire()
            if self._stop.is_set():
                return
            try:
                self.page = next(self._pages)
            except StopIteration:
                self.done = True
            except BaseException as exc:  # raised again on the caller's thread
                self.error = exc
            finished = self.done or self.error is not None
            stopping = self._stop.is_set()
            if stopping:
                self.page = None
                _close(self._pages)  # dropped while fetching: nobody else will close it
            self._ready.release()
            if finished or stopping:
                return

    def ask(self) -> None:
        """Start fetching the next page."""
        self.asked = True
        self._wanted.release()

    def result(self) -> T:
        """Wait for the page asked for; return it, or raise its error or StopIteration."""
        self._ready.acquire()
        self.asked = False
        if self.error is not None or self.done:
            self.thread.join()
            error, self.error = self.error, None
            if error is not None:
                raise error
            raise StopIteration
        page = self.page
        self.page = None
        return page  # type: ignore[return-value]  # set by _run when neither done nor error

    def stop(self) -> None:
        """Let the fetch in flight finish (its page dropped), then end the thread."""
        if self.thread is threading.current_thread():
            # Collected by the garbage collector on this very thread, mid-fetch: the
            # thread closes the page iterator and ends after this fetch.
            self._stop.set()
            return
        if self.asked:
            self._ready.acquire()
            self.asked = False
            self.page = None
        self._stop.set()
        self._wanted.release()
        self.thread.join()


def _close(pages: Iterator[object]) -> None:
    close = getattr(pages, "close", None)
    if close is not None:
        close()


class Prefetch(Iterator[T]):
    """Iterate pages, fetching each next page in the background while the caller works."""

    def __init__(self, pages: Iterator[T]) -> None:
        self._pages: Iterator[T] | None = pages
        self._fetcher: _Fetcher[T] | None = None

    def __iter__(self) -> Prefetch[T]:
        return self

    def __next__(self) -> T:
        pages = self._pages
        if pages is None:
            raise StopIteration
        fetcher = self._fetcher
        try:
            page = next(pages) if fetcher is None else fetcher.result()
        except BaseException:
            self._fetcher = None
            self._finish()
            raise
        if fetcher is None:
            fetcher = self._fetcher = _Fetcher(pages)
        fetcher.ask()
        return page

    def _finish(self) -> None:
        pages, self._pages = self._pages, None
        if pages is not None:
            _close(pages)

    def close(self) -> None:
        """Wait for the fetch in flight (its page is dropped) and close the page iterator."""
        fetcher, self._fetcher = self._fetcher, None
        if fetcher is not None:
            fetcher.stop()
            if fetcher.thread is threading.current_thread():
                self._pages = None  # the fetching thread closes it when its fetch ends
                return
        self._finish()

    def __enter__(self) -> Prefetch[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
