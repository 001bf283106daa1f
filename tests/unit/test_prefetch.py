"""Prefetch: one page ahead on a background thread, errors in order, nothing left behind."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import closing

import pytest

from pydirectus.prefetch import Prefetch


class Boom(Exception):
    pass


class Source:
    """A page generator that records what it fetched, on which thread, and how it ended."""

    def __init__(self, pages: int, fail_at: int | None = None, delay: float = 0.0) -> None:
        self.pages = pages
        self.fail_at = fail_at
        self.delay = delay
        self.fetched: list[int] = []
        self.threads: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.closed = False
        self.live = 0
        self.most_live = 0

    def page(self, number: int) -> Page:
        return Page(self, number)

    def __call__(self) -> Iterator[Page]:
        try:
            for number in range(self.pages):
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
                time.sleep(self.delay)
                self.fetched.append(number)
                self.threads.append(threading.current_thread().name)
                self.in_flight -= 1
                if number == self.fail_at:
                    raise Boom(number)
                yield self.page(number)
        finally:
            self.closed = True


class Page:
    def __init__(self, source: Source, number: int) -> None:
        self.source, self.number = source, number
        source.live += 1
        source.most_live = max(source.most_live, source.live)

    def __del__(self) -> None:
        self.source.live -= 1


def prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "pydirectus-prefetch"]


def test_every_page_in_order_one_ahead() -> None:
    source = Source(5, delay=0.01)
    seen = []
    for page in Prefetch(source()):
        # While the caller holds page k, page k+1 is fetched and nothing further.
        time.sleep(0.05)
        assert source.fetched[-1] == min(page.number + 1, 4)
        seen.append(page.number)
        del page
    assert seen == [0, 1, 2, 3, 4]
    assert source.threads[0] == threading.current_thread().name  # the first: no thread
    assert set(source.threads[1:]) == {"pydirectus-prefetch"}
    assert source.most_in_flight == 1 and source.most_live <= 2 and source.closed
    assert prefetch_threads() == []


def test_an_error_surfaces_where_its_page_belongs() -> None:
    source = Source(5, fail_at=2)
    pages = Prefetch(source())
    assert next(pages).number == 0
    time.sleep(0.05)  # page 1 fetched; the fetch of page 2 not started yet
    assert next(pages).number == 1
    time.sleep(0.05)  # the fetch of page 2 failed in the background: not raised yet
    with pytest.raises(Boom, match="2"):
        next(pages)
    with pytest.raises(StopIteration):
        next(pages)
    assert source.fetched == [0, 1, 2] and source.closed and prefetch_threads() == []


def test_an_error_of_the_first_page_is_raised_at_once() -> None:
    source = Source(3, fail_at=0)
    with pytest.raises(Boom):
        next(Prefetch(source()))
    assert source.closed and source.fetched == [0]


@pytest.mark.parametrize("how", ["break", "exception", "garbage"])
def test_leaving_early_stops_with_at_most_one_fetch_more(how: str) -> None:
    source = Source(100, delay=0.02)
    if how == "break":
        with closing(Prefetch(source())) as pages:
            for page in pages:
                if page.number == 2:
                    break
    elif how == "exception":
        with pytest.raises(KeyError), closing(Prefetch(source())) as pages:
            for page in pages:
                if page.number == 2:
                    raise KeyError(page.number)
    else:
        pages = Prefetch(source())
        next(pages), next(pages), next(pages)
        del pages
        gc.collect()
    # Pages 0-2 were used; page 3 may have been in flight; nothing after it.
    assert source.fetched in ([0, 1, 2], [0, 1, 2, 3])
    assert source.closed and source.in_flight == 0
    assert prefetch_threads() == []


def test_closing_waits_for_the_fetch_in_flight() -> None:
    source = Source(3, delay=0.2)
    pages = Prefetch(source())
    next(pages)
    started = time.monotonic()
    pages.close()
    assert time.monotonic() - started >= 0.1  # it waited for page 1 rather than leave it
    assert source.fetched == [0, 1] and source.closed and prefetch_threads() == []
    with pytest.raises(StopIteration):
        next(pages)


def test_an_empty_source() -> None:
    source = Source(0)
    assert list(Prefetch(source())) == [] and source.closed


def test_a_plain_iterator_without_close() -> None:
    assert list(Prefetch(iter([1, 2, 3]))) == [1, 2, 3]
    assert prefetch_threads() == []


def test_one_thread_fetches_every_later_page() -> None:
    fetched_on: list[int] = []

    def pages() -> Iterator[int]:
        for number in range(6):
            fetched_on.append(threading.get_ident())
            yield number

    assert list(Prefetch(pages())) == list(range(6))
    assert fetched_on[0] == threading.get_ident()
    assert len(set(fetched_on[1:])) == 1 and fetched_on[1] != fetched_on[0]
    assert prefetch_threads() == []
