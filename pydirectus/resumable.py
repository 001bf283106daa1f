"""Resumable uploads over TUS 1.0.0: one plan, driven by either face's runner.

Directus 12.4.0 serves TUS at ``/files/tus`` when it runs with ``TUS_ENABLED=true``:
``POST /files/tus`` creates an upload (its length and the file's fields in
``Upload-Metadata``; the body is empty, as Directus offers no creation-with-upload), each
``PATCH /files/tus/{id}`` appends one chunk at ``Upload-Offset``, and ``HEAD
/files/tus/{id}`` says how many bytes the server holds. Its extensions are creation,
termination and expiration, not creation-defer-length: the length must be known before
the first byte, so a source of unknown length cannot go resumably. The last PATCH's
answer names the file (``Directus-File-Id``); from then on the upload id is gone (HEAD
answers 404), so the file id is read once, from the HEAD after creation, in case that
answer is lost.

An interrupted chunk (a dropped connection, a 409 offset conflict, a 423 lock, a 5xx)
is not re-sent blindly: the plan asks HEAD where the server stands and sends on from
there, at most ``RetryPolicy.attempts`` times in a row without progress, waiting the
policy's backoff between. Memory holds one chunk at a time, whatever the file's size.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from .core import plans
from .core.exchange import RetryPolicy
from .core.plans import Call, Plan, Reply, Wait
from .errors import (
    APIError,
    DirectusError,
    NotFound,
    ResumableUploadsUnavailable,
    ServerError,
    TransportError,
    UsageError,
)
from .multipart import FilePart
from .progress import Reporter
from .redact import redact_url

__all__ = ["DEFAULT_CHUNK_SIZE", "TUS_VERSION", "check_chunk_size", "metadata_header",
           "resumable_part", "resume_route", "resume_url_of", "upload_plan"]

TUS_VERSION: Final = "1.0.0"
#: Directus's own default TUS_CHUNK_SIZE (8 MiB): used when the server does not say its own
DEFAULT_CHUNK_SIZE: Final = 8 * 1024 * 1024
_OCTETS: Final = "application/offset+octet-stream"
#: Answers to a PATCH after which the upload is still there: ask HEAD and send on.
#: 409 offset conflict (a lost answer of a chunk that landed), 423 locked (the server
#: still holds the broken request's lock), 460 checksum mismatch, 5xx.
_RESUMED_STATUSES: Final = frozenset({409, 423, 460, 500, 502, 503, 504})
_GONE: Final = ("the server has no upload there any more (finished, expired after "
                "TUS_UPLOAD_EXPIRATION, or another user's)")


def check_chunk_size(value: Any) -> int | None:
    """Return a chunk size (a positive int of bytes) or None (the server's)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"chunk_size: expected a positive int of bytes (or None for the "
                         f"server's TUS_CHUNK_SIZE), got {value!r}")
    return value


def resumable_part(part: FilePart) -> FilePart:
    """Check a file part can go over TUS: a known length, re-readable, no chosen id."""
    if part.size is None or not part.replayable:
        raise UsageError(
            "source: a resumable upload needs a source of known length that can be read "
            "again from any offset (a path, bytes or a seekable binary file); Directus "
            "12.4.0's TUS does not offer Upload-Defer-Length. Pass resumable=False to send "
            "this source in one streamed request")
    if "id" in part.fields:
        # Directus reads an id in the metadata as "replace this existing file".
        raise UsageError("data['id']: a resumable upload gets its id from Directus; to "
                         "replace a file's bytes use files.replace(id, source)")
    for key in part.fields:
        if " " in key or "," in key:
            raise UsageError(f"data key {key!r}: TUS metadata keys cannot hold spaces or "
                             f"commas")
    return part


def metadata_header(part: FilePart) -> str:
    """Return the Upload-Metadata value: each field as ``key base64(value)``."""
    fields = {**part.fields, "filename_download": part.filename, "type": part.content_type}
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode('ascii')}"
                    for key, value in fields.items())


def _metadata(header: str | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in (header or "").split(","):
        key, _, value = pair.strip().partition(" ")
        try:
            found[key] = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            continue  # a value we cannot read is one we do not need
    return found


def _told(error: APIError, where: str, meaning: str | None = None) -> APIError:
    """Return the same error (class, status, code, answer) with a message saying what the
    TUS route said: it answers its refusals in plain text, which the tree quotes as
    "not a Directus error body", or (a HEAD) with no body at all."""
    if type(error).__init__ is not APIError.__init__:
        return error  # a subclass with fields of its own (none is raised on these routes)
    said = ""
    if error.code is None and error.response is not None:
        said = error.response.content[:300].decode("utf-8", "replace").strip()
    if not (meaning or said):
        return error
    clearer = type(error)(error.status, error.code,
                          f"{where}: {meaning or said}", error.extensions,
                          error.response)
    clearer.earlier_attempt_lost = error.earlier_attempt_lost
    return clearer


def _tus_headers(**more: str) -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, **more}


def _offset(reply: Reply, call: Call, low: int, high: int) -> int:
    """Return the Upload-Offset an answer carries, checked to lie in [low, high]."""
    text = reply.headers.get("Upload-Offset")
    if text is None or not text.isascii() or not text.isdigit() or not (
            low <= int(text) <= high):
        raise ServerError(reply.status_code, None,
                          f"{call.method} {call.path}: expected an Upload-Offset between "
                          f"{low} and {high}, got {text!r}", None, reply)
    return int(text)


def _chunk_size_of_server() -> Plan[int]:
    """Plan: the server's TUS_CHUNK_SIZE from GET /server/info (shown to users only)."""
    info = yield from plans.data("GET", "server", "info", expect=plans.OBJECT)
    uploads = info.get("uploads")
    size = uploads.get("chunkSize") if isinstance(uploads, Mapping) else None
    if isinstance(size, int) and not isinstance(size, bool) and size > 0:
        return size
    return DEFAULT_CHUNK_SIZE


def _create(part: FilePart, retry: RetryPolicy) -> Plan[tuple[str, ...]]:
    """Plan: POST /files/tus; return the upload's route (files, tus, id)."""
    headers = _tus_headers(**{"Upload-Length": str(part.size),
                              "Upload-Metadata": metadata_header(part)})
    failures = 0
    while True:
        call = Call("POST", ("files", "tus"), headers=headers)
        try:
            reply: Reply = yield call
        except NotFound as missing:
            raise ResumableUploadsUnavailable(
                missing.status, missing.code,
                "the server does not offer resumable uploads: POST /files/tus is not a route; "
                "start Directus with TUS_ENABLED=true, or upload with resumable=False",
                missing.extensions, missing.response) from missing
        except APIError as refused:
            raise _told(refused, "POST /files/tus") from refused
        except TransportError:
            # An upload created twice leaves the first unfinished; Directus deletes it
            # when it expires (TUS_UPLOAD_EXPIRATION).
            failures += 1
            if failures >= retry.attempts:
                raise
            yield Wait(retry.delay(failures, None))
            continue
        location = reply.headers.get("Location") or ""
        upload_id = urlsplit(location).path.rpartition("/files/tus/")[2]
        if not upload_id or "/" in upload_id:
            raise ServerError(reply.status_code, None,
                              f"POST /files/tus: expected a Location ending /files/tus/{{id}}, "
                              f"got {location[:200]!r}", None, reply)
        # Directus writes Location with its PUBLIC_URL; the id alone is taken, so the next
        # requests go where this client points (a proxy, a tunnel) with its credentials.
        return ("files", "tus", upload_id)


def _head(route: tuple[str, ...], size: int) -> Plan[tuple[int, str | None]]:
    """Plan: HEAD the upload; return the bytes the server holds and the file id."""
    call = Call("HEAD", route, headers=_tus_headers())
    reply: Reply = yield call
    length = reply.headers.get("Upload-Length")
    if length is not None and length != str(size):
        raise UsageError(f"resume_url: that upload is {length:.20} bytes long, the source "
                         f"{size}: resume it with the source it was created with")
    offset = _offset(reply, call, 0, size)
    return offset, _metadata(reply.headers.get("Upload-Metadata")).get("id")


def resume_url_of(route: tuple[str, ...], base_url: str) -> str:
    """Return the URL an error names an upload by: on the client's base URL, without a
    password the base URL may hold (errors carry no secrets)."""
    return f"{redact_url(base_url)}/{'/'.join(route)}"


def resume_route(resume_url: Any, base_url: str) -> tuple[str, ...]:
    """Return the route of an upload URL this client handed out (``error.resume_url``)."""
    for base in (base_url, redact_url(base_url)):
        prefix = f"{base}/files/tus/"
        upload_id = resume_url[len(prefix):] if isinstance(resume_url, str) and (
            resume_url.startswith(prefix)) else ""
        if upload_id and "/" not in upload_id:
            return ("files", "tus", upload_id)
    raise UsageError(f"resume_url: expected {redact_url(base_url)}/files/tus/<upload id> (a "
                     f"failed resumable upload's error.resume_url), got {resume_url!r:.120}")


def upload_plan(part: FilePart, *, chunk_size: int | None, retry: RetryPolicy,
                progress: Reporter, base_url: str,
                resume: tuple[str, ...] | None = None) -> Plan[str | None]:
    """Plan: upload one checked part (see ``resumable_part``) over TUS, resuming after
    interruptions; return the new file's id (None when the token may not learn it).

    `resume`: the route of an upload created earlier (``resume_route``), sent on from
    where the server stands instead of creating one. A failure after creation carries
    ``resume_url`` for that.
    """
    size = part.size
    assert size is not None and size > 0, "resumable_part() and a non-empty source first"
    chunk = chunk_size if chunk_size is not None else (yield from _chunk_size_of_server())
    route = resume if resume is not None else (yield from _create(part, retry))
    try:
        file_id = yield from _upload(part, size, route, chunk, retry, progress,
                                     resumed=resume is not None)
    except DirectusError as failure:
        if not isinstance(failure, UsageError):
            failure.resume_url = resume_url_of(route, base_url)
        raise
    return file_id


def _upload(part: FilePart, size: int, route: tuple[str, ...], chunk: int,
            retry: RetryPolicy, progress: Reporter, *, resumed: bool) -> Plan[str | None]:
    file_id: str | None = None
    offset = 0
    try:
        # The file's id, while the upload still has one to say: the final PATCH's answer
        # carries it too, but if that answer is lost the upload id is already gone.
        offset, file_id = yield from _head(route, size)
    except APIError as refused:
        if resumed:
            gone = _GONE if refused.status in (404, 410) else None
            raise _told(refused, "resume_url", gone) from refused
        if refused.status != 403:
            raise _told(refused, "HEAD /files/tus/{id}") from refused
        # A token that may create files but not read them: no HEAD, so no resuming.
    handle = part.open()
    try:
        base = handle.tell()
        progress.start(size)
        progress.advance(offset)
        file_id = yield from _send_chunks(handle, base, route, size, chunk, offset, file_id,
                                          retry, progress)
        progress.finish()
    finally:
        if part.owned:
            handle.close()
        progress.close()
    return file_id


def _send_chunks(handle: Any, base: int, route: tuple[str, ...], size: int, chunk: int,
                 offset: int, file_id: str | None, retry: RetryPolicy,
                 progress: Reporter) -> Plan[str | None]:
    """Plan: PATCH chunks from `offset` to the end, asking HEAD after each interruption."""
    failures = 0
    known = True  # whether `offset` is what the server acknowledged last
    sent_last = False  # whether the last attempt carried the file's last byte
    while True:
        if not known:
            try:
                found, file_id_now = yield from _head(route, size)
            except NotFound as missing:
                if sent_last and file_id is not None:
                    return file_id  # the last chunk landed; its answer was lost
                raise _told(missing, "HEAD /files/tus/{id}", _GONE) from missing
            except (TransportError, APIError) as failure:
                failures = yield from _another_try(failure, failures, retry, "HEAD")
                continue
            progress.advance(max(found - offset, 0))
            offset, known = found, True
            file_id = file_id or file_id_now
        if offset >= size:
            return file_id
        length = min(chunk, size - offset)
        sent_last = offset + length == size
        try:
            reply, new_offset = yield from _patch(handle, base, route, offset, length)
        except (TransportError, APIError) as failure:
            failures = yield from _another_try(failure, failures, retry, "PATCH")
            known = False
            continue
        progress.advance(new_offset - offset)
        offset, failures = new_offset, 0
        file_id = reply.headers.get("Directus-File-Id") or file_id


def _patch(handle: Any, base: int, route: tuple[str, ...], offset: int, length: int
           ) -> Plan[tuple[Reply, int]]:
    """Plan: PATCH `length` bytes of the source at `offset`; return the answer and the new
    offset. The chunk is this frame's alone: it is freed before the next is read."""
    handle.seek(base + offset)
    block = handle.read(length)
    if len(block) != length:
        raise UsageError(f"source: ended at byte {offset + len(block)}, short of the chunk "
                         f"that ends at {offset + length}; it changed during the upload")
    # A file object, not bytes: aiohttp sends it a block at a time instead of holding the
    # event loop for the whole chunk (requests sends either with Content-Length).
    call = Call("PATCH", route, data=io.BytesIO(block), headers=_tus_headers(**{
        "Upload-Offset": str(offset), "Content-Type": _OCTETS}))
    del block
    reply: Reply = yield call
    return reply, _offset(reply, call, offset + 1, offset + length)


def _another_try(failure: Exception, failures: int, retry: RetryPolicy, method: str
                 ) -> Plan[int]:
    """Plan: wait before asking where the upload stands, or re-raise: not resumable, or
    the policy's attempts spent without progress."""
    status = failure.status if isinstance(failure, APIError) else None
    if (status is not None and status not in _RESUMED_STATUSES) or (
            failures + 1 >= retry.attempts):
        if isinstance(failure, APIError):
            raise _told(failure, f"{method} /files/tus/{{id}}") from failure
        raise failure
    failures += 1
    retry_after = getattr(failure, "retry_after", None)
    yield Wait(retry.delay(failures, retry_after if isinstance(retry_after, float) else None))
    return failures
