"""Multipart upload bodies built on the fly: one or more files, each after its own fields.

Directus reads a multipart body in order and applies the fields read so far to the next
file, then starts afresh (``multipartHandler`` in its files controller): so each file's
fields come right before it. File parts are read lazily in blocks, so no file is held in
memory. A body made from paths, bytes or seekable files can be built again for a re-send
(after a token refresh or a retry); one from a one-shot stream cannot.

One body serves both faces: requests reads it as a file (``read()``, with ``len()`` when
every size is known) or iterates it; aiohttp iterates it with ``async for``, which also
takes a file part given as an async iterator of bytes (the async face only).
"""

from __future__ import annotations

import io
import mimetypes
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from .checks import check_data, check_path
from .core import plans
from .core.plans import Call, Plan, Shape, unwrap
from .encoding import check_unicode, dumps, to_json
from .errors import UsageError
from .progress import ProgressArg, Reporter, check_progress, reporter

if TYPE_CHECKING:
    from .core.plans import Runner

__all__ = ["AsyncSource", "FilePart", "MultipartStream", "Source", "Upload", "UploadBody",
           "file_parts", "send_parts", "send_parts_plan"]

#: what the async face also uploads from: an async iterator (or iterable) of bytes
AsyncSource = AsyncIterator[bytes]
Source = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | AsyncSource
BLOCK = 1 << 20


@attrs.frozen
class Upload:
    """One file of a multi-file upload: its source and, optionally, its own name, type, fields."""

    source: Source
    filename: str | None = None
    content_type: str | None = None
    data: Mapping[str, Any] | None = None


@attrs.frozen
class FilePart:
    """A checked file part: its fields, how to open its bytes, and what is known about them."""

    fields: Mapping[str, str]
    filename: str
    content_type: str
    size: int | None
    open: Callable[[], Any]  # a binary file, or an async iterator of bytes (streams_async)
    owned: bool  # open() returns a handle we must close
    replayable: bool
    streams_async: bool = False  # an async iterator of bytes: async face only


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")


def _field_text(where: str, value: Any) -> str:
    # The one encoder of write data (datetime, Decimal, UUID, ... converted; NaN refused);
    # a value that is a string once converted goes as it is, not as a JSON string.
    plain = to_json(value, where)
    return plain if isinstance(plain, str) else dumps(plain, where)


def _reopener(handle: IO[bytes], start: int) -> Callable[[], IO[bytes]]:
    def rewind() -> IO[bytes]:
        handle.seek(start)
        return handle
    return rewind


def _is_async(source: Any) -> bool:
    # An async iterator of bytes (not a file object that also iterates).
    return hasattr(source, "__aiter__") and not callable(getattr(source, "read", None))


def _source(source: Any, where: str, allow_async: bool
            ) -> tuple[Callable[[], Any], str | None, int | None, bool, bool]:
    """Return (opener, name or None, size or None, owned, replayable) for a source."""
    if _is_async(source):
        if not allow_async:
            raise UsageError(f"{where}: an async iterator of bytes is for the async client "
                             f"(pydirectus.aio); pass a path, bytes or a binary file object")
        return (lambda: source), None, None, False, False
    if isinstance(source, str | os.PathLike):
        path = check_path(source, where)
        try:
            size = path.stat().st_size if path.is_file() else None
        except OSError as failure:
            raise UsageError(f"{where}: {str(path)!r} cannot be read ({failure.strerror})"
                             ) from None
        if size is None:
            raise UsageError(f"{where}: {str(path)!r} is not a file")
        return (lambda: path.open("rb")), path.name, size, True, True
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        return (lambda: io.BytesIO(data)), None, len(data), False, True
    if not callable(getattr(source, "read", None)):
        also = ", an async iterator of bytes" if allow_async else ""
        raise UsageError(f"{where}: expected a path, bytes{also} or a binary file object, got "
                         f"{type(source).__name__}")
    name = Path(str(getattr(source, "name", "") or "")).name or None
    try:
        if source.seekable():
            start = source.tell()
            size = source.seek(0, io.SEEK_END) - start
            source.seek(start)
            return _reopener(source, start), name, size, False, True
    except (AttributeError, OSError, ValueError):
        pass
    return (lambda: source), name, None, False, False


def file_parts(uploads: Sequence[Upload], common: Mapping[str, Any] | None, *,
               listed: bool, allow_async: bool = False) -> list[FilePart]:
    """Check every upload (sources, names, fields) and return its parts, before any request.

    `listed`: the caller passed a list, so errors name the file's index in it.
    `allow_async`: a source may be an async iterator of bytes (the async face's runner).
    """
    shared = dict(check_data(common)) if common is not None else {}
    parts: list[FilePart] = []
    for index, upload in enumerate(uploads):
        at = f"[{index}]" if listed else ""
        opener, name, size, owned, replayable = _source(upload.source, f"source{at}",
                                                        allow_async)
        data = {**shared, **check_data(upload.data if upload.data is not None else {},
                                       f"data{at}")}
        for key in data:
            if not isinstance(key, str) or not key:
                raise UsageError(f"data{at}: field names must be non-empty str, got {key!r}")
            check_unicode(key, f"data{at} key")
        fields = {key: _field_text(f"data{at}[{key!r}]", value) for key, value in data.items()}
        filename = upload.filename or name or "upload.bin"
        if not isinstance(filename, str) or not filename.strip():
            raise UsageError(f"filename{at}: expected a non-empty str, got {filename!r}")
        check_unicode(filename, f"filename{at}")
        if upload.content_type is not None and (
                not isinstance(upload.content_type, str) or "/" not in upload.content_type
                or not upload.content_type.isprintable() or not upload.content_type.isascii()):
            raise UsageError(f"content_type{at}: expected a media type such as 'image/png', "
                             f"got {upload.content_type!r:.60}")
        content_type = (upload.content_type or mimetypes.guess_type(filename)[0]
                        or "application/octet-stream")
        parts.append(FilePart(fields, filename, content_type, size, opener, owned, replayable,
                              streams_async=_is_async(upload.source)))
    return parts


class MultipartStream:
    """A multipart/form-data body that opens and reads its file parts lazily, in order.

    It has a length when every file's size is known (so requests sends Content-Length), and
    reads in whatever block size the HTTP layer asks for (``read()``, the sync face), or
    yields blocks to ``async for`` (the async face).
    """

    def __init__(self, parts: Sequence[FilePart], boundary: str, progress: Reporter) -> None:
        self._progress = progress
        # No tell()/seek(): requests would take a failing tell() for "all read" and send
        # Content-Length 0.
        self._pending: list[bytes | FilePart] = []
        length: int | None = 0
        for part in parts:
            head = b"".join(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"'
                f"\r\n\r\n".encode() + value.encode() + b"\r\n"
                for name, value in part.fields.items())
            head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                     f'filename="{_quote(part.filename)}"\r\nContent-Type: {part.content_type}'
                     f"\r\n\r\n").encode()
            self._pending += [head, part, b"\r\n"]
            length = None if length is None or part.size is None else (
                length + len(head) + part.size + 2)
        tail = f"--{boundary}--\r\n".encode()
        self._pending.append(tail)
        self._length = None if length is None else length + len(tail)
        self._open: Any = None
        self._owned = False
        self._buffer = b""

    @property
    def length(self) -> int | None:
        """Return the body's length in bytes, or None when a file's size is unknown."""
        return self._length

    def __len__(self) -> int:
        if self._length is None:
            raise TypeError("a file's size is unknown; the body is sent chunked")
        return self._length

    def _next_part(self) -> bytes | None:
        # The next piece of the body: bytes of headers, or None once a file part is open.
        item = self._pending.pop(0)
        if isinstance(item, bytes):
            return item
        self._open, self._owned = item.open(), item.owned
        return None

    def _next_block(self, wanted: int) -> bytes:
        while True:
            if self._open is not None:
                if not callable(getattr(self._open, "read", None)):
                    raise UsageError("source: an async iterator of bytes is read by the async "
                                     "client only (pydirectus.aio)")
                block = self._open.read(wanted)
                if block:
                    self._progress.advance(len(block))
                    return bytes(block)
                self._close_part()
            if not self._pending:
                return b""
            head = self._next_part()
            if head is not None:
                return head

    def read(self, size: int | None = -1) -> bytes:
        """Return up to `size` bytes of the body (all that is left for -1 or None)."""
        wanted = BLOCK if size is None or size < 0 else size
        out = bytearray(self._buffer)
        self._buffer = b""
        while size is None or size < 0 or len(out) < wanted:
            block = self._next_block(wanted)
            if not block:
                break
            out += block
        if size is not None and size >= 0 and len(out) > size:
            self._buffer = bytes(out[size:])
            del out[size:]
        return bytes(out)

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(BLOCK):
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """Yield the body in blocks (``async for``): files read a block at a time, async
        iterators of bytes as they come."""
        if self._buffer:
            block, self._buffer = self._buffer, b""
            yield block
        try:
            while self._open is not None or self._pending:
                if self._open is None:
                    head = self._next_part()
                    if head is not None:
                        yield head
                    continue
                if callable(getattr(self._open, "read", None)):
                    # A file (or bytes): one block per step, the event loop is not held long.
                    block = self._next_block(BLOCK)
                    if block:
                        yield block
                    continue
                async for piece in self._open:
                    if not isinstance(piece, bytes | bytearray | memoryview):
                        raise UsageError(f"source: an async iterator of bytes yielded "
                                         f"{type(piece).__name__}")
                    if piece:
                        self._progress.advance(len(piece))
                        yield bytes(piece)
                self._close_part()
        finally:
            self._close_part()

    def _close_part(self) -> None:
        if self._open is not None and self._owned:
            self._open.close()
        self._open, self._owned = None, False

    def close(self) -> None:
        """Close a file this body opened (a path); leave the caller's file objects open."""
        self._close_part()
        self._pending.clear()


class _Chunked:
    """A body of unknown length: iterated (``for`` or ``async for``), sent chunked.

    It has no ``len()`` and no ``read()``, so requests sends it with
    ``Transfer-Encoding: chunked`` and the transport knows it cannot be sent twice.
    """

    def __init__(self, stream: MultipartStream) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._stream)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()


class UploadBody:
    """Builds the multipart body of an upload, afresh for each attempt when it can."""

    def __init__(self, parts: Sequence[FilePart], progress: Reporter) -> None:
        self.parts = tuple(parts)
        self.boundary = f"pydirectus-{secrets.token_hex(16)}"
        self.replayable = all(part.replayable for part in self.parts)
        sizes = [part.size for part in self.parts]
        self.total: int | None = None if None in sizes else sum(s or 0 for s in sizes)
        self._progress = progress
        self._current: MultipartStream | None = None

    @property
    def content_type(self) -> str:
        """Return the Content-Type header value, boundary included."""
        return f"multipart/form-data; boundary={self.boundary}"

    def build(self) -> MultipartStream | _Chunked:
        """Return a fresh body (files reopened or rewound); chunked when a size is unknown."""
        self.close()
        self._current = MultipartStream(self.parts, self.boundary, self._progress)
        self._progress.start(self.total)
        return self._current if self._current.length is not None else _Chunked(self._current)

    def close(self) -> None:
        """Close what the last body opened."""
        if self._current is not None:
            self._current.close()
            self._current = None


def send_parts_plan(method: str, route: tuple[str | int, ...], parts: Sequence[FilePart],
                    progress: ProgressArg = None, what: str = "upload",
                    expect: Shape | None = None) -> Plan[Any]:
    """Plan: send file parts as one multipart request; return the decoded JSON answer (or
    None), or with ``expect`` the envelope's data of that shape (else ServerError).
    `progress` is checked by the caller (check_progress) before the plan is built."""
    report = reporter(progress, what)
    body = UploadBody(parts, report)
    headers = {"Content-Type": body.content_type}
    try:
        # A body that can be built again is, for each attempt (after a token refresh, a
        # retry); a one-shot stream goes once, and the transport refuses to re-send it.
        call = (Call(method, route, body_factory=body.build, headers=headers)
                if body.replayable else Call(method, route, data=body.build(), headers=headers))
        answer = yield from plans.send_json(call)
        report.finish()
    finally:
        body.close()
        report.close()
    return answer if expect is None else unwrap(answer, call, expect)


def send_parts(runner: Runner, method: str, route: tuple[str | int, ...],
               parts: Sequence[FilePart], progress: ProgressArg = None, what: str = "upload"
               ) -> Any:
    """Send file parts as one multipart request with the face's runner; return the decoded
    JSON answer (or None; an awaitable of it on the async face)."""
    return runner.run(send_parts_plan(method, route, parts, check_progress(progress), what))
