"""Fetch the next page on a background thread while the caller works on the current one.

:class:`Prefetch` wraps any page iterator (a generator that sends one request per page).
The first page is fetched on the caller's thread; after each page it hands out, one
background thread fetches the next, so at most one request is in flight and at most two
pages are held. The page iterator still decides what the next page is (keyset paging
reads the last row of the page before), as it would run sequentially.

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


class _Fetch(Generic[T]):
    """One next() of the page iterator, on its own thread; holds the page or the error."""

    __slots__ = ("done", "error", "page", "thread")

    def __init__(self, pages: Iterator[T]) -> None:
        self.page: T | None = None
        self.error: BaseException | None = None
        self.done = False
        # The thread holds the page iterator and this slot only, not the Prefetch: a
        # Prefetch dropped by its caller can be collected (and close) while this runs.
        self.thread = threading.Thread(target=self._run, args=(pages,), daemon=True,
                                       name="pydirectus-prefetch")
        self.thread.start()

    def _run(self, pages: Iterator[T]) -> None:
        try:
            self.page = next(pages)
        except StopIteration:
            self.done = True
        except BaseException as exc:  # raised again on the caller's thread
            self.error = exc

    def result(self) -> T:
        self.thread.join()
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        if self.done:
            raise StopIteration
        page = self.page
        self.page = None
        return page  # type: ignore[return-value]  # set by _run when neither done nor error


class Prefetch(Iterator[T]):
    """Iterate pages, fetching each next page in the background while the caller works."""

    def __init__(self, pages: Iterator[T]) -> None:
        self._pages: Iterator[T] | None = pages
        self._fetch: _Fetch[T] | None = None

    def __iter__(self) -> Prefetch[T]:
        return self

    def __next__(self) -> T:
        pages = self._pages
        if pages is None:
            raise StopIteration
        fetch, self._fetch = self._fetch, None
        try:
            page = next(pages) if fetch is None else fetch.result()
        except BaseException:
            self._finish()
            raise
        self._fetch = _Fetch(pages)
        return page

    def _finish(self) -> None:
        pages, self._pages = self._pages, None
        close = getattr(pages, "close", None)
        if close is not None:
            close()

    def close(self) -> None:
        """Wait for the fetch in flight (its page is dropped) and close the page iterator."""
        fetch, self._fetch = self._fetch, None
        if fetch is not None:
            if fetch.thread is threading.current_thread():
                return  # collected by the garbage collector on the fetching thread itself
            fetch.thread.join()
        self._finish()

    def __enter__(self) -> Prefetch[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
