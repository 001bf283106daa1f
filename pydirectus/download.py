"""Downloads: stream a response body in chunks, and write it to disk all or nothing.

A body cut short (a reset, a stall past the read timeout, fewer bytes than Content-Length)
raises ConnectError or Timeout, never a raw requests/urllib3 exception. A download to a
path writes to a temporary file beside the destination and renames it over the destination
only when every byte has arrived, so a failed download leaves an existing file untouched
and no partial file behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import requests
import urllib3.exceptions

from .atomic import write_atomically
from .checks import check_positive_int
from .errors import UsageError
from .progress import Reporter
from .transport import Call, wrap_error

if TYPE_CHECKING:
    from .transport import Transport

__all__ = ["CHUNK_SIZE", "Destination", "body_chunks", "check_chunk_size", "check_destination",
           "save", "stream"]

Destination = str | os.PathLike[str] | IO[bytes]
CHUNK_SIZE = 1 << 20

# What reading a streamed body can raise: requests' wrappers (iter_content) and urllib3's own
# errors (reading response.raw), mapped to ConnectError or Timeout by wrap_error.
STREAM_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)


def check_chunk_size(chunk_size: int) -> int:
    """Return chunk_size if it is a positive int, else raise UsageError naming it."""
    return check_positive_int(chunk_size, "chunk_size")


def check_destination(destination: Destination) -> Path | IO[bytes]:
    """Return the destination as a Path or a writable binary file; raise before any request."""
    if isinstance(destination, str | os.PathLike):
        path = Path(destination)
        if path.is_dir():
            raise UsageError(f"destination: {str(path)!r} is a directory; name the file")
        if not path.parent.is_dir():
            raise UsageError(f"destination: the folder {str(path.parent)!r} does not exist")
        return path
    if not hasattr(destination, "write"):
        raise UsageError(f"destination: expected a path or a binary file object, got "
                         f"{type(destination).__name__}")
    return destination


def _content_length(response: requests.Response) -> int | None:
    if response.headers.get("Content-Encoding", "identity") != "identity":
        return None  # the length on the wire, not of the decoded bytes
    try:
        length = int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None
    return length if length >= 0 else None


def _stream_error(exc: BaseException, call: Call) -> Exception:
    if isinstance(exc, requests.RequestException):
        return wrap_error(exc, call)
    # urllib3 (or the socket) raised while reading response.raw: wrap it as requests would.
    return wrap_error(requests.exceptions.ChunkedEncodingError(exc), call)


def body_chunks(response: requests.Response, call: Call, chunk_size: int,
                progress: Reporter) -> Iterator[bytes]:
    """Yield a streamed response's body in chunks, then close it; map read errors."""
    try:
        progress.start(_content_length(response))
        chunks = response.iter_content(chunk_size)
        while True:
            # Only reading the body is guarded: an error from the progress callback (or
            # the code consuming the chunks) is not a transport error.
            try:
                chunk = next(chunks)
            except StopIteration:
                break
            except STREAM_ERRORS as exc:
                raise _stream_error(exc, call) from exc
            progress.advance(len(chunk))
            yield chunk
        progress.finish()
    finally:
        response.close()


def stream(transport: Transport, call: Call, chunk_size: int,
           progress: Reporter) -> Iterator[bytes]:
    """Send a streamed call and yield its body in chunks; close the reporter either way."""
    try:
        response = transport.send(call)
        yield from body_chunks(response, call, chunk_size, progress)
    finally:
        progress.close()


def save(chunks: Iterator[bytes], destination: Path | IO[bytes]) -> int:
    """Write chunks to a file object, or to a path all or nothing; return the bytes written."""
    try:
        if isinstance(destination, Path):
            return _replace(chunks, destination)
        return _copy(chunks, destination)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # a generator left early still closes its response


def _replace(chunks: Iterator[bytes], destination: Path) -> int:
    return write_atomically(destination, lambda out: _copy(chunks, out))


def _copy(chunks: Iterator[bytes], out: IO[bytes]) -> int:
    written = 0
    for chunk in chunks:
        out.write(chunk)
        written += len(chunk)
    return written
