"""Write a file all or nothing: the one home of the package's atomic file write.

Downloads (``download``) and the command line's output files (``cli``) write through
:func:`write_atomically`: a temporary file beside the destination, renamed over it only
once the writer has finished, so a failure leaves an existing file untouched and no
partial file behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TextIO, TypeVar, overload

__all__ = ["write_atomically"]

T = TypeVar("T")


@overload
def write_atomically(path: str | os.PathLike[str], write: Callable[[IO[bytes]], T], *,
                     encoding: None = None) -> T: ...


@overload
def write_atomically(path: str | os.PathLike[str], write: Callable[[TextIO], T], *,
                     encoding: str) -> T: ...


def write_atomically(path: str | os.PathLike[str], write: Callable[[Any], T], *,
                     encoding: str | None = None) -> T:
    """Call write(file) on a new file beside path, then rename it over path; return its result.

    The file is binary, or text in `encoding` (newlines written as given). It is created
    exclusively (``O_EXCL``: never written through a file or link someone else put there),
    with the mode ``open()`` would give the destination, and a file replaced keeps its
    permissions. Anything raised (an interrupt too) removes it and leaves path as it was.
    """
    destination = Path(path)
    partial = destination.with_name(f".{destination.name}.{secrets.token_hex(4)}.part")
    try:
        mode: int | None = stat.S_IMODE(destination.stat().st_mode)
    except FileNotFoundError:
        mode = None
    # 0o666 less the umask, as open() would give the destination itself.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    text = encoding is not None
    try:
        # open() closes fd itself if it fails (an unknown encoding).
        with open(fd, "w" if text else "wb", encoding=encoding,
                  newline="" if text else None) as out:
            result = write(out)
        if mode is not None:
            os.chmod(partial, mode)
        os.replace(partial, destination)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    return result
