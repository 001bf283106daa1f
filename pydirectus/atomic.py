"""Write a file all or nothing: the one home of the package's atomic file write.

Downloads (``download``, on both faces) and the command line's output files (``cli``)
write through ``AtomicFile`` (or ``write_atomically``, its one-call form): a
temporary file beside the destination, renamed over it only once the writer has
finished, so a failure leaves an existing file untouched and no partial file behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TextIO, TypeVar, overload

__all__ = ["AtomicFile", "write_atomically"]

T = TypeVar("T")


class AtomicFile:
    """A new file beside `path`, open for writing: ``commit`` renames it over `path`,
    ``discard`` removes it.

    The file is binary, or text in `encoding` (newlines written as given). It is created
    exclusively (``O_EXCL``: never written through a file or link someone else put there),
    with the mode ``open()`` would give the destination, and a file replaced keeps its
    permissions.
    """

    def __init__(self, path: str | os.PathLike[str], *, encoding: str | None = None) -> None:
        self.destination = Path(path)
        self.partial = self.destination.with_name(
            f".{self.destination.name}.{secrets.token_hex(4)}.part")
        try:
            self._mode: int | None = stat.S_IMODE(self.destination.stat().st_mode)
        except FileNotFoundError:
            self._mode = None
        # 0o666 less the umask, as open() would give the destination itself.
        fd = os.open(self.partial,
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        text = encoding is not None
        try:
            # open() closes fd itself if it fails (an unknown encoding).
            self.file: IO[Any] = open(fd, "w" if text else "wb", encoding=encoding,  # noqa: SIM115
                                      newline="" if text else None)
        except BaseException:
            with contextlib.suppress(OSError):
                self.partial.unlink()
            raise

    def commit(self) -> None:
        """Close the file and rename it over the destination (removed if that fails)."""
        try:
            self.file.close()
            if self._mode is not None:
                os.chmod(self.partial, self._mode)
            os.replace(self.partial, self.destination)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Close and remove the file; the destination stays as it was."""
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(OSError):
            self.partial.unlink()


@overload
def write_atomically(path: str | os.PathLike[str], write: Callable[[IO[bytes]], T], *,
                     encoding: None = None) -> T: ...


@overload
def write_atomically(path: str | os.PathLike[str], write: Callable[[TextIO], T], *,
                     encoding: str) -> T: ...


def write_atomically(path: str | os.PathLike[str], write: Callable[[Any], T], *,
                     encoding: str | None = None) -> T:
    """Call write(file) on a new file beside path, then rename it over path; return its result.

    See ``AtomicFile``. Anything raised (an interrupt too) removes the new file and
    leaves path as it was.
    """
    target = AtomicFile(path, encoding=encoding)
    try:
        result = write(target.file)
    except BaseException:
        target.discard()
        raise
    target.commit()
    return result
