"""Progress reports for long transfers: a callable ``(done_bytes, total_bytes_or_None)`` or tqdm.

``progress=True`` draws a tqdm bar on stderr (``pip install "pydirectus[progress]"``);
a callable is called after each chunk with the bytes moved so far and the total when it
is known. The last call has ``done == total`` (for an unknown total, the final call passes
the bytes moved as the total), and it is made exactly once.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

from .errors import UsageError

__all__ = ["ProgressArg", "ProgressCallback", "Reporter", "check_progress", "reporter"]

ProgressCallback = Callable[[int, "int | None"], object]
ProgressArg = ProgressCallback | bool | None


class Reporter:
    """Count bytes for one transfer and pass them on to a callback."""

    def __init__(self, callback: ProgressCallback | None, close: Callable[[], object] | None = None
                 ) -> None:
        self._callback = callback
        self._close = close
        self.total: int | None = None
        self.done = 0
        self._finished = False

    def __bool__(self) -> bool:
        return self._callback is not None

    def start(self, total: int | None) -> None:
        """Begin (or, for a re-sent upload, begin again) at zero bytes of `total`."""
        self.total, self.done, self._finished = total, 0, False
        if self._callback is not None:
            self._callback(0, total)

    def advance(self, count: int) -> None:
        """Report `count` more bytes moved (a final done == total is left to finish())."""
        if self._callback is None or not count:
            return
        self.done += count
        if self.total is None or self.done < self.total:
            self._callback(self.done, self.total)

    def finish(self) -> None:
        """Report the end once: done == total (the bytes moved, when no total was known)."""
        if self._callback is not None and not self._finished:
            self._finished = True
            self._callback(self.done, self.done if self.total is None else self.total)

    def close(self) -> None:
        """Release what the reporter holds (a tqdm bar), success or not."""
        if self._close is not None:
            self._close()


def check_progress(progress: ProgressArg) -> ProgressArg:
    """Return a `progress=` argument if it is usable (True needs tqdm), else raise
    UsageError; nothing is drawn yet (see ``reporter``)."""
    if progress is None or progress is False:
        return progress
    if progress is True:
        _tqdm()
        return progress
    if not callable(progress):
        raise UsageError(f"progress: expected a callable (done_bytes, total_bytes_or_None) or "
                         f"True, got {type(progress).__name__}")
    return progress


def reporter(progress: ProgressArg, what: str) -> Reporter:
    """Return a Reporter for a `progress=` argument; check it before anything is sent."""
    check_progress(progress)
    if progress is None or progress is False:
        return Reporter(None)
    if progress is True:
        return _tqdm_reporter(what)
    return Reporter(progress)


def _tqdm() -> Any:
    try:
        return importlib.import_module("tqdm").tqdm
    except ImportError:
        raise UsageError("progress=True draws a bar with tqdm, which is not installed: "
                         "pip install 'pydirectus[progress]' (or pass a callable "
                         "(done_bytes, total_bytes_or_None))") from None


def _tqdm_reporter(what: str) -> Reporter:
    tqdm = _tqdm()
    bar = tqdm(total=None, unit="B", unit_scale=True, unit_divisor=1024, desc=what,
               file=sys.stderr, leave=False)

    def update(done: int, total: int | None) -> None:
        if total != bar.total:
            bar.reset(total=total)
        bar.update(done - bar.n)

    return Reporter(update, bar.close)
