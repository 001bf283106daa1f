"""Files and folders: the /files and /folders handles, uploads, downloads, assets and zips.

Uploads stream from disk (or any binary file object; on the async face also an async
iterator of bytes) in a multipart body built on the fly (``multipart``), or resumably in
chunks over TUS (``resumable``); downloads stream
to disk in chunks, all or nothing (``download``); image transforms are checked before
sending (``transforms``). Nothing holds a file in memory except ``read_bytes()``, which is
for small files.

One definition serves both faces: what to send and how to read the answer are plans, the
body's bytes are read by the face's runner (``stream()`` and ``save()``: blocking with
requests, ``async for`` with aiohttp), so on the async face ``await files.upload(...)``,
``await files.download(id, path)`` and ``async for chunk in files.iter_bytes(id)``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict, cast, overload
from urllib.parse import urlencode

import attrs

from .checks import check_bool, check_data, check_key, check_text, check_url, check_uuid
from .collection import Collection
from .core import plans
from .core.exchange import RetryPolicy
from .core.plans import Call, Plan, Runner, encode_segment
from .core.reads import ReadRules
from .download import (
    CHUNK_SIZE,
    BytesSink,
    Destination,
    Download,
    check_destination,
    sink_for,
    streaming,
)
from .errors import PermissionDenied, UsageError
from .models import File, Folder
from .multipart import FilePart, MultipartStream, Source, Upload, file_parts, send_parts_plan
from .progress import ProgressArg, check_progress, reporter
from .resumable import check_chunk_size, resumable_part, resume_route
from .resumable import upload_plan as resumable_upload_plan
from .transforms import transform_params

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .core.schema import SchemaCache

__all__ = ["Files", "Folders", "MultipartStream", "Source", "Transforms", "Upload"]

# POST /files answers a list for several files, one object for one (nothing if unreadable).
_RECORDS_OR_ONE = attrs.evolve(plans.ROWS, description="a list of file records or one record",
                               empty=True)


class Transforms(TypedDict, total=False):
    """The /assets/{id} transform arguments, as keyword arguments (Directus's names in snake_case).

    width, height: pixels (positive ints); fit: cover, contain, inside, outside or fill;
    quality: 1-100; format: auto, jpg, jpeg, png, webp, tiff or avif; without_enlargement:
    never scale up; focal_point_x/y: the pixel to keep in view when cropping; key: a storage
    asset preset's key; transforms: Sharp operations, e.g. ``[["blur", 5], ["rotate", 90]]``;
    download: ask for ``Content-Disposition: attachment``.
    """

    width: int
    height: int
    fit: str
    quality: int
    format: str
    without_enlargement: bool
    focal_point_x: int
    focal_point_y: int
    key: str
    transforms: Sequence[Sequence[Any]]
    download: bool


class Files(Collection[File]):
    """The /files handle: query file records like items, upload, import and download bytes."""

    def __init__(self, transport: Runner, schema: SchemaCache, *,
                 page_size: int) -> None:
        super().__init__("directus_files", transport, schema, page_size=page_size,
                         route=("files",))

    def __repr__(self) -> str:
        return "<Files /files>"

    # A str or bytes is one source, though it is a Sequence too: this overload comes first.
    @overload
    def upload(  # type: ignore[overload-overlap]
            self, source: Source | Upload, *, filename: str | None = None,
            content_type: str | None = None, data: Mapping[str, Any] | None = None,
            progress: ProgressArg = None, resumable: bool = False,
            chunk_size: int | None = None, resume_url: str | None = None) -> File: ...

    @overload
    def upload(self, source: Sequence[Source | Upload], *, filename: None = None,
               content_type: None = None, data: Mapping[str, Any] | None = None,
               progress: ProgressArg = None, resumable: bool = False,
               chunk_size: None = None, resume_url: None = None) -> list[File]: ...

    def upload(self, source: Source | Upload | Sequence[Source | Upload], *,
               filename: str | None = None, content_type: str | None = None,
               data: Mapping[str, Any] | None = None,
               progress: ProgressArg = None, resumable: bool = False,
               chunk_size: int | None = None,
               resume_url: str | None = None) -> File | list[File]:
        """Upload one file, or a list of files in one request, with POST /files (streamed).

        ``resumable=True`` sends one file over TUS instead (POST /files/tus, then PATCH
        /files/tus/{id} per chunk of `chunk_size` bytes, by default the server's
        TUS_CHUNK_SIZE read from GET /server/info): an interrupted chunk is resumed from
        the offset the server acknowledged (HEAD), within the client's RetryPolicy
        attempts; memory holds one chunk. The source needs a known length (a path, bytes
        or a seekable file); a server without TUS_ENABLED raises
        ResumableUploadsUnavailable. An empty source goes as a plain upload (TUS has no
        empty uploads in Directus). An error raised after the upload was created carries
        ``resume_url``: pass it back (same source, same token's user, another process
        even) to send on from where the server stands; the fields are those it was
        created with.

        `data` sets fields (title, folder, ...) on every file; an ``Upload`` in the list
        carries a file's own filename, content type and fields (which win over `data`).
        `progress` is a callable ``(done_bytes, total_bytes_or_None)`` or True for a tqdm
        bar. A list returns the records in the order of the sources; each file of a list
        gets an id made here (``uuid4``, unless its data has one), so the token's policy must
        let it set ``id`` on directus_files. A token that may create files but not read them
        gets no record back from Directus: then a list returns ``{"id": ...}`` per file and
        one source an empty record. On the async face a source may also be an async
        iterator of bytes (sent chunked as it comes, never held whole).
        """
        allow_async = not self._runner.blocking
        resumable = check_bool(resumable, "resumable")
        chunk_size = check_chunk_size(chunk_size)
        for name, value in (("chunk_size", chunk_size), ("resume_url", resume_url)):
            if value is not None and not resumable:
                raise UsageError(f"{name}: only for resumable=True uploads (a plain upload "
                                 f"streams in one request)")
        resume = (None if resume_url is None
                  else resume_route(resume_url, self._runner.base_url))
        if isinstance(source, list | tuple):
            if resumable:
                raise UsageError("resumable=True: one source at a time (TUS sends one file "
                                 "per upload); call upload() for each")
            if filename is not None or content_type is not None:
                raise UsageError("filename/content_type: give them per file with Upload(...) "
                                 "when uploading a list")
            if not source:
                raise UsageError("source: expected at least one file, got an empty list")
            uploads = [_with_id(item if isinstance(item, Upload) else Upload(item))
                       for item in source]
            parts = file_parts(uploads, data, listed=True, allow_async=allow_async)
            check_progress(progress)
            return self._run(self._upload_many(parts, progress))
        if isinstance(source, Upload) and (filename is not None or content_type is not None):
            raise UsageError("filename/content_type: an Upload carries its own; pass them "
                             "to Upload(...)")
        upload = source if isinstance(source, Upload) else Upload(
            source, filename, content_type, None)  # type: ignore[arg-type]
        parts = file_parts([upload], data, listed=False, allow_async=allow_async)
        check_progress(progress)
        if resumable and parts[0].size != 0:
            return self._run(self._upload_resumable(resumable_part(parts[0]), chunk_size,
                                                    progress, resume))
        return self._run(self._upload_one(parts, progress))

    def _upload_resumable(self, part: FilePart, chunk_size: int | None,
                          progress: ProgressArg, resume: tuple[str, ...] | None
                          ) -> Plan[File]:
        # The transport's policy bounds the resumes too: the same budget as any retry.
        retry = getattr(self._runner, "retry", None) or RetryPolicy()
        file_id = yield from resumable_upload_plan(
            part, chunk_size=chunk_size, retry=retry, progress=reporter(progress, "upload"),
            base_url=self._runner.base_url, resume=resume)
        if file_id is None:
            return File()
        try:
            record = yield from self._typed(plans.data("GET", "files", file_id,
                                                       expect=plans.OBJECT))
        except PermissionDenied:
            return File(id=file_id)  # a token that may create files but not read them
        return cast("File", record)

    def _upload_many(self, parts: list[FilePart], progress: ProgressArg) -> Plan[list[File]]:
        # One record per file, or one object when Directus stored a single file.
        answer = yield from self._send_files("POST", ("files",), parts, progress, "upload",
                                             _RECORDS_OR_ONE)
        records = answer if isinstance(answer, list) else [answer] if answer else []
        by_id = {str(record.get("id")): record for record in records}
        # A token that may create files but not read them gets only the ids back.
        return [by_id.get(part.fields["id"], File(id=part.fields["id"])) for part in parts]

    def _upload_one(self, parts: list[FilePart], progress: ProgressArg) -> Plan[File]:
        record = yield from self._send_files("POST", ("files",), parts, progress, "upload",
                                             plans.OBJECT_OR_NOTHING)
        return cast("File", record) if record is not None else File()

    def replace(self, id: str, source: Source, *, filename: str | None = None,
                content_type: str | None = None, data: Mapping[str, Any] | None = None,
                progress: ProgressArg = None) -> File:
        """Replace a file's bytes (streamed) with PATCH /files/{id}; return the record."""
        key = check_key(id, "id")
        parts = file_parts([Upload(source, filename, content_type, data)], None, listed=False,
                           allow_async=not self._runner.blocking)
        check_progress(progress)
        return cast("File", self._run(self._send_files("PATCH", ("files", key), parts,
                                                       progress, "replace",
                                                       plans.OBJECT_OR_NOTHING)))

    def _send_files(self, method: str, route: tuple[str | int, ...],
                    parts: Sequence[FilePart], progress: ProgressArg, what: str,
                    expect: plans.Shape) -> Plan[Any]:
        # The records come back in the types a read gives (filesize: a string on PostgreSQL).
        return (yield from self._typed(send_parts_plan(method, route, parts, progress, what,
                                                       expect)))

    def import_url(self, url: str, *, data: Mapping[str, Any] | None = None) -> File:
        """Have Directus fetch a file from a URL with POST /files/import; return the record."""
        body: dict[str, Any] = {"url": check_url(url, "url")}
        if data is not None:
            body["data"] = dict(check_data(data))
        return cast("File", self._run(self._typed(plans.data(
            "POST", "files", "import", json=body, expect=plans.OBJECT_OR_NOTHING))))

    def _typed(self, records: Plan[Any]) -> Plan[Any]:
        """Return the records a plan answers in the types a read gives them."""
        answer = yield from records
        return (yield from self._path.typed(answer)) if answer else answer

    def _asset(self, id: str, transforms: Mapping[str, Any], chunk_size: int,
               progress: ProgressArg, what: str = "download") -> Download:
        call = Call("GET", ("assets", check_key(id, "id")),
                    params=transform_params(transforms) or None, stream=True)
        return Download(call, chunk_size, progress, what)

    def iter_bytes(self, id: str, *, chunk_size: int = CHUNK_SIZE, progress: ProgressArg = None,
                   **transforms: Unpack[Transforms]) -> Iterator[bytes]:
        """Stream a file's bytes (transformed, if asked) from GET /assets/{id} in chunks.

        Arguments are checked now; the request goes out on the first ``next()`` (the first
        step of ``async for`` on the async face, where this is an async iterator).
        """
        chunks: Iterator[bytes] = streaming(self._runner).stream(
            self._asset(id, transforms, chunk_size, progress))
        return chunks

    def read_bytes(self, id: str, *, progress: ProgressArg = None,
                   **transforms: Unpack[Transforms]) -> bytes:
        """Return a (small) file's bytes from GET /assets/{id}, transformed if asked."""
        download = self._asset(id, transforms, CHUNK_SIZE, progress)
        found: bytes = streaming(self._runner).save(download, BytesSink())
        return found

    def download(self, id: str, destination: Destination, *, chunk_size: int = CHUNK_SIZE,
                 progress: ProgressArg = None, **transforms: Unpack[Transforms]) -> int:
        """Stream a file from GET /assets/{id} to a path or binary file; return the bytes.

        A path is written all or nothing: to a temporary file beside it, renamed over it
        once every byte has arrived.
        """
        target = check_destination(destination)
        download = self._asset(id, transforms, chunk_size, progress)
        written: int = streaming(self._runner).save(download, sink_for(target))
        return written

    def download_zip(self, ids: Sequence[str], destination: Destination, *,
                     chunk_size: int = CHUNK_SIZE, progress: ProgressArg = None) -> int:
        """Stream a zip of several files from POST /assets/files to a path; return the bytes."""
        if isinstance(ids, str) or not isinstance(ids, Sequence) or not ids:
            raise UsageError(f"ids: expected a non-empty list of file ids, got {ids!r}")
        checked = [check_uuid(value, f"ids[{index}]") for index, value in enumerate(ids)]
        target = check_destination(destination)
        # It only reads, so a re-send is harmless.
        call = Call("POST", ("assets", "files"), json={"ids": checked}, stream=True,
                    idempotent=True)
        written: int = streaming(self._runner).save(
            Download(call, chunk_size, progress, "zip"), sink_for(target))
        return written

    def asset_url(self, id: str, *, filename: str | None = None,
                  access_token: str | None = None, **transforms: Unpack[Transforms]) -> str:
        """Return the URL of GET /assets/{id} (with transforms) for a page or template.

        The URL carries no credentials, so it works for files the Public policy may read.
        Pass `access_token` to put a token in the query string, and know that such a URL
        is a credential: it ends up in browser history, server and proxy logs and Referer
        headers, and anyone holding it acts as that token until it expires or is revoked.
        """
        segments = ["assets", encode_segment(check_key(id, "id"))]
        if filename is not None:
            if not isinstance(filename, str):
                raise UsageError(f"filename: expected a str, got {filename!r}")
            segments.append(encode_segment(filename))
        params = transform_params(transforms)
        if access_token is not None:
            params["access_token"] = check_text(access_token, "access_token")
        query = f"?{urlencode(params)}" if params else ""
        base_url: str = self._runner.base_url
        return f"{base_url}/{'/'.join(segments)}{query}"


def _with_id(upload: Upload) -> Upload:
    # Directus answers a multi-file upload in its own order, and files alike in name, size
    # and fields cannot be told apart afterwards: an id chosen here names each one.
    data = dict(upload.data) if isinstance(upload.data, Mapping) else upload.data
    if data is None or (isinstance(data, dict) and data.get("id") is None):
        data = {**(data or {}), "id": str(uuid.uuid4())}
    return attrs.evolve(upload, data=data)


class Folders(Collection[Folder]):
    """The /folders handle: folder records, queried and written like items."""

    def __init__(self, transport: Runner, schema: SchemaCache, *,
                 page_size: int) -> None:
        # Directus 12.4.0 answers a non-admin GET /folders list with a 500
        # (FoldersService.readByQuery writes to the frozen query object GET hands it);
        # SEARCH /folders carries the same query and works for every token.
        super().__init__("directus_folders", transport, schema, page_size=page_size,
                         route=("folders",), pk="id", singleton=False,
                         rules=ReadRules(search_only=True))

    def __repr__(self) -> str:
        return "<Folders /folders>"

    def ensure(self, path: str, *, parent: str | None = None) -> Folder:
        """Find or create each folder of a path like "media/2026/november"; return the last.

        Reads and creates through SEARCH and POST /folders, one level at a time, under
        `parent` (a folder id) or the root. Two clients racing on the same new path may
        both create a level (Directus does not keep folder names unique); later calls then
        all take the match with the lowest id.
        """
        if not isinstance(path, str) or not path.strip("/ "):
            raise UsageError(f"path: expected folder names separated by '/', got {path!r}")
        names = path.strip("/").split("/")
        for index, name in enumerate(names):
            if not name.strip():
                raise UsageError(f"path: folder name {index} of {path!r} is empty")
        return self._run(self._ensure(names, None if parent is None
                                      else check_uuid(parent, "parent")))

    def _ensure(self, names: list[str], parent_id: str | None) -> Plan[Folder]:
        current: Folder | None = None
        for name in names:
            found = yield from self._child(name, parent_id)
            if found is None:
                found = yield from self._create({"name": name, "parent": parent_id}, None)
            current = found
            parent_id = str(current["id"])
        assert current is not None
        return current

    def _child(self, name: str, parent: str | None) -> Plan[Folder | None]:
        found = yield from self.filter(name=name, parent=parent).sort("id")._read("first")
        return cast("Folder | None", found)

    def download_zip(self, id: str, destination: Destination, *, chunk_size: int = CHUNK_SIZE,
                     progress: ProgressArg = None) -> int:
        """Stream a zip of a folder and its subfolders from POST /assets/folder/{id}."""
        folder = check_uuid(id, "id")
        target = check_destination(destination)
        call = Call("POST", ("assets", "folder", folder), stream=True, idempotent=True)
        written: int = streaming(self._runner).save(
            Download(call, chunk_size, progress, "zip"), sink_for(target))
        return written
