"""Files and folders: streaming upload and download, URL imports, and the /files, /folders handles.

Uploads stream from disk (or any binary file object) in a multipart body built on the fly,
and downloads stream to disk in chunks, so neither holds the file in memory.
"""

from __future__ import annotations

import io
import json
import mimetypes
import os
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .checks import check_data, check_key
from .collection import Collection
from .errors import InvalidQuery
from .models import File, Folder
from .transport import Call

if TYPE_CHECKING:
    from .schema_cache import SchemaCache
    from .transport import Transport

__all__ = ["Files", "Folders", "MultipartStream", "Source"]

Source = str | os.PathLike[str] | bytes | IO[bytes]
CHUNK_SIZE = 1 << 20


class MultipartStream:
    """A multipart/form-data body that reads its file part lazily.

    It has a length when the file's size is known (so requests sends Content-Length) and
    reads in whatever block size the HTTP layer asks for.
    """

    def __init__(self, fields: Mapping[str, str], file: IO[bytes], filename: str,
                 content_type: str, size: int | None) -> None:
        self.boundary = f"pydirectus-{secrets.token_hex(16)}"
        # No tell()/seek(): requests would take a failing tell() for "all read" and send
        # Content-Length 0. Directus reads the fields before the file: the file part must come last.
        head = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"'
            f"\r\n\r\n".encode() + value.encode() + b"\r\n"
            for name, value in fields.items()
        )
        head += (f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{_quote(filename)}"\r\nContent-Type: {content_type}\r\n\r\n'
                 ).encode()
        tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._parts: list[IO[bytes]] = [io.BytesIO(head), file, io.BytesIO(tail)]
        self._length = None if size is None else len(head) + size + len(tail)

    @property
    def content_type(self) -> str:
        """Return the Content-Type header value, boundary included."""
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        if self._length is None:
            raise TypeError("the file's size is unknown; the body is sent chunked")
        return self._length

    def read(self, size: int | None = -1) -> bytes:
        """Return up to `size` bytes of the body (all that is left for -1)."""
        wanted = -1 if size is None else size
        out = bytearray()
        while self._parts and (wanted < 0 or len(out) < wanted):
            chunk = self._parts[0].read(-1 if wanted < 0 else wanted - len(out))
            if chunk:
                out += chunk
            else:
                self._parts.pop(0)
        return bytes(out)

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(CHUNK_SIZE):
            yield chunk


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")


def _field_text(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool | int | float | dict | list):
        return json.dumps(value)
    raise InvalidQuery(f"data[{name!r}]: expected a str, number, bool, list or dict, "
                       f"got {type(value).__name__}")


def _open_source(source: Source, filename: str | None) -> tuple[IO[bytes], str, int | None, bool]:
    """Return (binary file, filename, size or None, whether we opened it)."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise InvalidQuery(f"source: {str(path)!r} is not a file")
        handle = path.open("rb")
        return handle, filename or path.name, os.fstat(handle.fileno()).st_size, True
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        return io.BytesIO(data), filename or "upload.bin", len(data), True
    if not hasattr(source, "read"):
        raise InvalidQuery(f"source: expected a path, bytes or a binary file object, got "
                           f"{type(source).__name__}")
    name = filename or Path(str(getattr(source, "name", "") or "upload.bin")).name
    size: int | None = None
    try:
        if source.seekable():
            position = source.tell()
            size = source.seek(0, io.SEEK_END) - position
            source.seek(position)
    except (AttributeError, OSError, ValueError):
        size = None
    return source, name, size, False


class Files(Collection[File]):
    """The /files handle: query file records like items, upload, import and download bytes."""

    def __init__(self, transport: Transport, schema: SchemaCache, *,
                 page_size: int) -> None:
        super().__init__("directus_files", transport, schema, page_size=page_size,
                         route=("files",))

    def __repr__(self) -> str:
        return "<Files /files>"

    def upload(self, source: Source, *, filename: str | None = None,
               content_type: str | None = None,
               data: Mapping[str, Any] | None = None) -> File:
        """Upload a file (streamed) with POST /files; `data` sets fields such as title, folder."""
        return self._send_file("POST", ("files",), source, filename, content_type, data)

    def replace(self, id: str, source: Source, *, filename: str | None = None,
                content_type: str | None = None,
                data: Mapping[str, Any] | None = None) -> File:
        """Replace a file's bytes (streamed) with PATCH /files/{id}; return the record."""
        return self._send_file("PATCH", ("files", check_key(id, "id")), source, filename,
                               content_type, data)

    def _send_file(self, method: str, route: tuple[str | int, ...], source: Source,
                   filename: str | None, content_type: str | None,
                   data: Mapping[str, Any] | None) -> File:
        fields = {name: _field_text(name, value)
                  for name, value in check_data(data if data is not None else {}).items()}
        handle, name, size, owned = _open_source(source, filename)
        try:
            guessed = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
            body = MultipartStream(fields, handle, name, guessed, size)
            headers = {"Content-Type": body.content_type}
            call = Call(method, route, data=body if size is not None else iter(body),
                        headers=headers)
            record: File = self._transport.send_json(call)["data"]
            return record
        finally:
            if owned:
                handle.close()

    def import_url(self, url: str, *, data: Mapping[str, Any] | None = None) -> File:
        """Have Directus fetch a file from a URL with POST /files/import; return the record."""
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise InvalidQuery(f"url: expected an http(s) URL, got {url!r}")
        body: dict[str, Any] = {"url": url}
        if data is not None:
            body["data"] = dict(check_data(data))
        record: File = self._transport.data("POST", "files", "import", json=body)
        return record

    def iter_bytes(self, id: str, *, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Stream a file's bytes from GET /assets/{id} in chunks."""
        call = Call("GET", ("assets", check_key(id, "id")), stream=True)
        response = self._transport.send(call)
        try:
            yield from response.iter_content(chunk_size)
        finally:
            response.close()

    def download(self, id: str, destination: str | os.PathLike[str] | IO[bytes], *,
                 chunk_size: int = CHUNK_SIZE) -> int:
        """Stream a file from GET /assets/{id} to a path or binary file; return the bytes."""
        chunks = self.iter_bytes(id, chunk_size=chunk_size)
        if isinstance(destination, str | os.PathLike):
            with Path(destination).open("wb") as out:
                return _copy(chunks, out)
        if not hasattr(destination, "write"):
            raise InvalidQuery(f"destination: expected a path or a binary file object, got "
                               f"{type(destination).__name__}")
        return _copy(chunks, destination)


def _copy(chunks: Iterator[bytes], out: IO[bytes]) -> int:
    written = 0
    for chunk in chunks:
        out.write(chunk)
        written += len(chunk)
    return written


class Folders(Collection[Folder]):
    """The /folders handle: folder records, queried and written like items."""

    def __init__(self, transport: Transport, schema: SchemaCache, *,
                 page_size: int) -> None:
        super().__init__("directus_folders", transport, schema, page_size=page_size,
                         route=("folders",))

    def __repr__(self) -> str:
        return "<Folders /folders>"
