"""Progress on stderr: a tqdm bar when tqdm is installed, else a counter; only on a terminal."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any

__all__ = ["Progress"]

REDRAW_SECONDS = 0.2


class Progress:
    """Count units of work on stderr while a command runs; silent when stderr is not a tty."""

    def __init__(self, description: str, total: int | None = None, *, unit: str = "rows",
                 enabled: bool = True) -> None:
        self.description = description
        self.unit = unit
        self.done = 0
        self._bar: Any = None
        self._shown = enabled and sys.stderr.isatty()
        self._last = 0.0
        if self._shown:
            try:
                from tqdm import tqdm  # type: ignore[import-untyped]
            except ImportError:
                return
            self._bar = tqdm(total=total, desc=description, unit=f" {unit}", file=sys.stderr,
                             leave=False)

    def update(self, n: int = 1) -> None:
        """Add n finished units."""
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self._shown and time.monotonic() - self._last >= REDRAW_SECONDS:
            self._last = time.monotonic()
            sys.stderr.write(f"\r{self.description}: {self.done} {self.unit}")
            sys.stderr.flush()

    def close(self) -> None:
        """Remove the bar or counter line."""
        if self._bar is not None:
            self._bar.close()
        elif self._shown and self._last:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
