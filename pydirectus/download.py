"""Downloads: what to ask for and where the bytes go, for both faces.

A ``Download`` holds a streamed download's decisions (the call, the chunk size, the
progress report); each face's runner reads the body (``runner.stream(download)``: the sync
``Transport`` with requests, the async one with aiohttp, each
mapping a body cut short (a reset, a stall past the read timeout, fewer bytes than
Content-Length) to ConnectError or Timeout) and pours it into a sink
(``runner.save(download, sink)``). A download to a path writes to a temporary file beside
the destination and renames it over the destination only when every byte has arrived, so
a failed download leaves an existing file untouched and no partial file behind.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Generator, Mapping
from pathlib import Path
from typing import IO, Any, Protocol, cast

from .atomic import AtomicFile
from .checks import check_path, check_positive_int
from .core import plans
from .core.plans import Call, Plan, Reply
from .errors import UsageError
from .progress import ProgressArg, Reporter, check_progress, reporter

__all__ = ["CHUNK_SIZE", "BytesSink", "Destination", "Download", "FileSink", "PathSink",
           "Sink", "Streaming", "check_chunk_size", "check_destination", "content_length",
           "drain", "drain_async", "sink_for", "streaming"]

Destination = str | os.PathLike[str] | IO[bytes]
CHUNK_SIZE = 1 << 20


def check_chunk_size(chunk_size: int) -> int:
    """Return chunk_size if it is a positive int, else raise UsageError naming it."""
    return check_positive_int(chunk_size, "chunk_size")


def check_destination(destination: Destination) -> Path | IO[bytes]:
    """Return the destination as a Path or a writable binary file; raise before any request."""
    if isinstance(destination, str | os.PathLike):
        path = check_path(destination, "destination")
        try:
            is_dir, parent_is_dir = path.is_dir(), path.parent.is_dir()
        except OSError as failure:
            raise UsageError(f"destination: {str(path)!r} cannot be written "
                             f"({failure.strerror})") from None
        if is_dir:
            raise UsageError(f"destination: {str(path)!r} is a directory; name the file")
        if not parent_is_dir:
            raise UsageError(f"destination: the folder {str(path.parent)!r} does not exist")
        return path
    if not hasattr(destination, "write"):
        raise UsageError(f"destination: expected a path or a binary file object, got "
                         f"{type(destination).__name__}")
    return destination


def content_length(headers: Mapping[str, str]) -> int | None:
    """Return the body's length from the headers, or None (unknown, or compressed)."""
    if headers.get("Content-Encoding", "identity") != "identity":
        return None  # the length on the wire, not of the decoded bytes
    try:
        length = int(headers["Content-Length"])
    except (KeyError, ValueError):
        return None
    return length if length >= 0 else None


class Download:
    """A streamed download: the call, how to read it, and its progress report.

    A face's runner drives ``plan`` to the streamed reply (body unread), reads the body
    in ``chunk_size`` chunks (mapping read failures of ``call``), hands each chunk to
    ``received``, calls ``finished`` after the last one and ``close`` however
    it ends. Made with checked arguments; nothing is sent (or drawn) until the plan runs.
    """

    def __init__(self, call: Call, chunk_size: int, progress: ProgressArg, what: str) -> None:
        self.call = call
        self.chunk_size = check_chunk_size(chunk_size)
        self._progress = check_progress(progress)
        self._what = what
        self._report: Reporter | None = None

    def plan(self) -> Plan[Reply]:
        """Send the call; return the reply with its body unread, the report started."""
        self._report = reporter(self._progress, self._what)
        reply = yield from plans.send(self.call)
        self._report.start(content_length(reply.headers))
        return reply

    def received(self, chunk: bytes) -> None:
        """Count a chunk of the body."""
        if self._report is not None:
            self._report.advance(len(chunk))

    def finished(self) -> None:
        """Report the end (every byte arrived)."""
        if self._report is not None:
            self._report.finish()

    def close(self) -> None:
        """Release the report (a tqdm bar), however the download ended."""
        if self._report is not None:
            self._report.close()


class Sink(Protocol):
    """Where a download's chunks go: written in order, then committed or aborted."""

    def write(self, chunk: bytes) -> None:
        """Take the next chunk."""

    def commit(self) -> Any:
        """Finish after the last chunk; return the download's result."""

    def abort(self) -> None:
        """Give up (an error, an interrupt): leave nothing half-written behind."""


class PathSink:
    """Write to a path all or nothing (``AtomicFile``, opened on
    the first chunk); commit() returns the bytes written."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: AtomicFile | None = None
        self.written = 0

    def _target(self) -> AtomicFile:
        if self._file is None:
            self._file = AtomicFile(self._path)
        return self._file

    def write(self, chunk: bytes) -> None:
        """Write a chunk to the temporary file."""
        self._target().file.write(chunk)
        self.written += len(chunk)

    def commit(self) -> int:
        """Rename the temporary file over the path; return the bytes written."""
        self._target().commit()
        return self.written

    def abort(self) -> None:
        """Remove the temporary file; the path stays as it was."""
        if self._file is not None:
            self._file.discard()


class FileSink:
    """Write to a binary file object (left open); commit() returns the bytes written."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self.written = 0

    def write(self, chunk: bytes) -> None:
        """Write a chunk to the file."""
        self._out.write(chunk)
        self.written += len(chunk)

    def commit(self) -> int:
        """Return the bytes written."""
        return self.written

    def abort(self) -> None:
        """Nothing to undo: the caller's file has what arrived."""


class BytesSink:
    """Keep the chunks in memory; commit() returns them joined (for small files)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, chunk: bytes) -> None:
        """Keep a chunk."""
        self._chunks.append(chunk)

    def commit(self) -> bytes:
        """Return the body."""
        return b"".join(self._chunks)

    def abort(self) -> None:
        """Drop what arrived."""
        self._chunks.clear()


def sink_for(destination: Path | IO[bytes]) -> PathSink | FileSink:
    """Return the sink of a checked destination (see check_destination)."""
    return PathSink(destination) if isinstance(destination, Path) else FileSink(destination)


def drain(chunks: Generator[bytes, None, None], sink: Sink) -> Any:
    """Pour chunks into a sink and commit it (abort on any error); return its result."""
    try:
        for chunk in chunks:
            sink.write(chunk)
        result = sink.commit()
    except BaseException:
        sink.abort()
        raise
    finally:
        chunks.close()  # a download left early still closes its response
    return result


async def drain_async(chunks: AsyncGenerator[bytes, None], sink: Sink) -> Any:
    """Pour an async stream of chunks into a sink, as ``drain`` does."""
    try:
        async for chunk in chunks:
            sink.write(chunk)
        result = sink.commit()
    except BaseException:
        sink.abort()
        raise
    finally:
        await chunks.aclose()
    return result


class Streaming(Protocol):
    """What a face's runner offers for streamed bodies (both runners have it)."""

    def stream(self, download: Download) -> Any:
        """Return the body's chunks: an iterator (sync face) or an async iterator."""

    def save(self, download: Download, sink: Sink) -> Any:
        """Stream the body into a sink; return its result (an awaitable on the async face)."""


def streaming(runner: Any) -> Streaming:
    """Return a face's runner as what streams bodies (chosen by the runner, not the face)."""
    if not callable(getattr(runner, "stream", None)) or not callable(
            getattr(runner, "save", None)):
        raise TypeError(f"{type(runner).__name__} cannot stream bodies (no stream()/save())")
    return cast("Streaming", runner)
