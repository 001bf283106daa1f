"""The TUS upload plan over scripted answers: offsets, headers, and when it resumes."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pydirectus import DirectusClient, StaticToken, Upload
from pydirectus.core.exchange import RetryPolicy
from pydirectus.core.plans import Call, Plan, Wait
from pydirectus.errors import (
    ConnectError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    ResponseInfo,
    ResumableUploadsUnavailable,
    ServerError,
    UsageError,
)
from pydirectus.multipart import file_parts
from pydirectus.progress import Reporter
from pydirectus.resumable import (
    check_chunk_size,
    metadata_header,
    resumable_part,
    resume_route,
    resume_url_of,
    upload_plan,
)

BASE = "http://127.0.0.1:8055"
RETRY = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.02, total=1.0)
FILE_ID = "6636f984-0db2-49b9-a147-e43df2a130bd"
LOCATION = "http://directus.example:8055/files/tus/a3eaeb8d"
ROUTE = ("files", "tus", "a3eaeb8d")


class Reply:
    """An answer as the core reads one."""

    def __init__(self, status: int, headers: dict[str, str] | None = None,
                 body: Any = None) -> None:
        self.status_code = status
        self.headers = headers or {}
        self.content = b"" if body is None else json.dumps(body).encode()
        self.encoding = "utf-8"
        self.reason = ""
        self.url = "http://directus.example:8055/files/tus"
        self.request = None
        self.text = self.content.decode()

    def json(self) -> Any:
        return json.loads(self.content)

    def close(self) -> None:
        pass


def created() -> Reply:
    return Reply(201, {"Location": LOCATION, "Tus-Resumable": "1.0.0"})


def where(offset: int, size: int = 10) -> Reply:
    meta = f"filename_download {base64.b64encode(b'a.bin').decode()}," \
           f"id {base64.b64encode(FILE_ID.encode()).decode()}"
    return Reply(200, {"Upload-Offset": str(offset), "Upload-Length": str(size),
                       "Upload-Metadata": meta})


def acked(offset: int, file_id: str | None = None) -> Reply:
    headers = {"Upload-Offset": str(offset)}
    if file_id:
        headers["Directus-File-Id"] = file_id
    return Reply(204, headers)


Answer = Reply | Exception | Callable[[Call], Reply | Exception]


def drive(plan: Plan[Any], answers: list[Answer]) -> tuple[Any, list[Any]]:
    """Answer each Call with the next scripted answer (a Wait with None); return the
    plan's result and every instruction it yielded."""
    seen: list[Any] = []
    script: Iterator[Answer] = iter(answers)
    reply: Any = None
    failure: Exception | None = None
    while True:
        try:
            instruction = plan.throw(failure) if failure is not None else plan.send(reply)
        except StopIteration as done:
            assert next(script, None) is None, "answers left over"
            return done.value, seen
        seen.append(instruction)
        reply, failure = None, None
        if isinstance(instruction, Wait):
            continue
        assert isinstance(instruction, Call), instruction
        answer = next(script)
        if callable(answer) and not isinstance(answer, Exception | Reply):
            answer = answer(instruction)
        if isinstance(answer, Exception):
            failure = answer
        else:
            reply = answer


def part(source: Any = b"0123456789", **data: Any) -> Any:
    return resumable_part(file_parts([Upload(source, "a.bin", None, data or None)], None,
                                     listed=False)[0])


def calls(seen: list[Any]) -> list[str]:
    return [f"{i.method} {i.path}" if isinstance(i, Call) else "wait" for i in seen]


def patches(seen: list[Any]) -> list[tuple[str, bytes]]:
    return [(i.headers["Upload-Offset"], i.data.getvalue()) for i in seen
            if isinstance(i, Call) and i.method == "PATCH"]


def plan(source: Any = b"0123456789", chunk: int | None = 4,
         progress: Reporter | None = None, resume: tuple[str, ...] | None = None,
         **data: Any) -> Plan[Any]:
    return upload_plan(part(source, **data), chunk_size=chunk, retry=RETRY,
                       progress=progress or Reporter(None), base_url=BASE, resume=resume)


def test_a_multi_chunk_upload_creates_then_sends_each_chunk_at_its_offset() -> None:
    done: list[tuple[int, int | None]] = []
    result, seen = drive(plan(progress=Reporter(lambda d, t: done.append((d, t))),
                              title="Ay, bee"),
                         [created(), where(0), acked(4), acked(8), acked(10, FILE_ID)])
    assert result == FILE_ID
    assert calls(seen) == ["POST /files/tus", "HEAD /files/tus/a3eaeb8d",
                           *["PATCH /files/tus/a3eaeb8d"] * 3]
    post = seen[0]
    assert post.headers["Tus-Resumable"] == "1.0.0"
    assert post.headers["Upload-Length"] == "10"
    assert post.data is None
    metadata = dict(pair.split(" ") for pair in post.headers["Upload-Metadata"].split(","))
    assert {key: base64.b64decode(value).decode() for key, value in metadata.items()} == {
        "title": "Ay, bee", "filename_download": "a.bin", "type": "application/octet-stream"}
    assert patches(seen) == [("0", b"0123"), ("4", b"4567"), ("8", b"89")]
    for patch in seen[2:]:
        assert patch.headers["Content-Type"] == "application/offset+octet-stream"
        assert patch.headers["Tus-Resumable"] == "1.0.0"
    # The next requests go to the upload id on this client's base URL, not Location's host.
    assert seen[2].segments == ROUTE
    assert done == [(0, 10), (4, 10), (8, 10), (10, 10)]


def test_the_chunk_size_is_the_servers_when_not_given() -> None:
    info = Reply(200, body={"data": {"uploads": {"tus": True, "chunkSize": 3}}})
    result, seen = drive(plan(chunk=None), [info, created(), where(0), acked(3), acked(6),
                                            acked(9), acked(10, FILE_ID)])
    assert result == FILE_ID
    assert calls(seen)[0] == "GET /server/info"
    assert [len(body) for _, body in patches(seen)] == [3, 3, 3, 1]
    # Public reads no uploads section: Directus's own default, 8 MiB, one chunk here.
    public = Reply(200, body={"data": {"project": {}}})
    _, seen = drive(plan(chunk=None), [public, created(), where(0), acked(10, FILE_ID)])
    assert patches(seen) == [("0", b"0123456789")]


def test_a_dropped_chunk_resumes_from_the_offset_the_server_acknowledges() -> None:
    done: list[tuple[int, int | None]] = []
    result, seen = drive(plan(progress=Reporter(lambda d, t: done.append((d, t)))), [
        created(), where(0), acked(4),
        ConnectError("connection reset"),  # the second chunk: part of it landed
        where(6),
        acked(10, FILE_ID)])
    assert result == FILE_ID
    assert calls(seen)[-4:] == ["PATCH /files/tus/a3eaeb8d", "wait",
                                "HEAD /files/tus/a3eaeb8d", "PATCH /files/tus/a3eaeb8d"]
    assert patches(seen) == [("0", b"0123"), ("4", b"4567"), ("6", b"6789")]
    assert [d for d, _ in done] == [0, 4, 6, 10]


@pytest.mark.parametrize("status", [409, 423, 502, 503])
def test_conflicts_locks_and_gateway_errors_are_resumed(status: int) -> None:
    refused = InvalidRequest(status, None, "Upload-Offset conflict") if status < 500 else (
        ServerError(status, None, "bad gateway"))
    result, seen = drive(plan(), [created(), where(0), refused, where(4), acked(8),
                                  acked(10, FILE_ID)])
    assert result == FILE_ID
    assert patches(seen) == [("0", b"0123"), ("4", b"4567"), ("8", b"89")]


def test_resumes_are_bounded_by_the_retry_policy() -> None:
    failures = [ConnectError(f"reset {n}") for n in range(RETRY.attempts)]
    with pytest.raises(ConnectError, match="reset 2") as raised:
        drive(plan(), [created(), where(0), failures[0], where(0), failures[1], where(0),
                       failures[2]])
    # The upload is still on the server: the error says where, on this client's base URL.
    assert raised.value.resume_url == f"{BASE}/files/tus/a3eaeb8d"


def test_an_upload_url_is_resumed_without_creating_another() -> None:
    result, seen = drive(plan(resume=ROUTE), [where(8), acked(10, FILE_ID)])
    assert result == FILE_ID
    assert calls(seen) == ["HEAD /files/tus/a3eaeb8d", "PATCH /files/tus/a3eaeb8d"]
    assert patches(seen) == [("8", b"89")]
    # Another source than the upload's: refused before sending any byte.
    with pytest.raises(UsageError, match="12 bytes long, the source 10"):
        drive(plan(resume=ROUTE), [where(0, size=12)])
    # A resumed upload needs its HEAD: a refusal is raised, not passed over.
    with pytest.raises(PermissionDenied):
        drive(plan(resume=ROUTE), [PermissionDenied(403, "FORBIDDEN", "no")])


def test_resume_urls_are_this_clients() -> None:
    assert resume_route(f"{BASE}/files/tus/abc", BASE) == ("files", "tus", "abc")
    # A password in the base URL stays out of the error; the URL it names still resumes.
    secret_base = "http://user:hunter2@127.0.0.1:8055"
    named = resume_url_of(("files", "tus", "abc"), secret_base)
    assert "hunter2" not in named
    assert resume_route(named, secret_base) == ("files", "tus", "abc")
    for bad in (None, 5, f"{BASE}/files/tus/", f"{BASE}/files/tus/a/b",
                "http://elsewhere:8055/files/tus/abc", f"{BASE}/files/abc"):
        with pytest.raises(UsageError, match="resume_url"):
            resume_route(bad, BASE)


def test_progress_between_failures_resets_the_count() -> None:
    # Five failures in all, never more than two in a row: it completes.
    drop = ConnectError("reset")
    result, seen = drive(plan(chunk=2), [
        created(), where(0),
        drop, where(0), acked(2),
        drop, where(2), drop, where(3), acked(5),
        drop, where(5), acked(7),
        drop, where(8), acked(10, FILE_ID)])
    assert result == FILE_ID
    assert sum(1 for i in seen if isinstance(i, Wait)) == 5


def test_a_refusal_that_is_not_an_interruption_is_raised_at_once() -> None:
    with pytest.raises(PermissionDenied):
        drive(plan(), [created(), where(0), PermissionDenied(403, "FORBIDDEN", "no")])


def test_a_lost_answer_to_the_last_chunk_still_returns_the_file() -> None:
    # The upload id is gone once the file is complete: HEAD answers 404.
    result, seen = drive(plan(), [created(), where(0), acked(4), acked(8),
                                  ConnectError("reset"), NotFound(404, None, "not found")])
    assert result == FILE_ID
    assert calls(seen)[-2:] == ["wait", "HEAD /files/tus/a3eaeb8d"]
    # Before the last chunk, a 404 is an expired or unknown upload: raised.
    with pytest.raises(NotFound, match=r"HEAD /files/tus/\{id\}: the server has no upload"):
        drive(plan(), [created(), where(0), ConnectError("reset"),
                       NotFound(404, None, "not found")])


def test_a_token_that_may_not_read_files_uploads_without_the_early_head() -> None:
    result, seen = drive(plan(), [created(), PermissionDenied(403, "FORBIDDEN", "no"),
                                  acked(4), acked(8), acked(10, FILE_ID)])
    assert result == FILE_ID
    assert patches(seen) == [("0", b"0123"), ("4", b"4567"), ("8", b"89")]
    # It learns no id until the end: no answer, no id.
    result, _ = drive(plan(chunk=10), [created(), PermissionDenied(403, "FORBIDDEN", "no"),
                                       acked(10)])
    assert result is None


def test_a_server_without_tus_says_so() -> None:
    missing = NotFound(404, "ROUTE_NOT_FOUND", "Route /files/tus doesn't exist.")
    with pytest.raises(ResumableUploadsUnavailable, match="TUS_ENABLED=true") as raised:
        drive(plan(), [missing])
    assert isinstance(raised.value, NotFound)
    assert raised.value.code == "ROUTE_NOT_FOUND"
    assert raised.value.__cause__ is missing


def test_a_creation_whose_answer_is_lost_is_tried_again() -> None:
    result, seen = drive(plan(chunk=10), [ConnectError("reset"), created(), where(0),
                                          acked(10, FILE_ID)])
    assert result == FILE_ID
    assert calls(seen)[:3] == ["POST /files/tus", "wait", "POST /files/tus"]


@pytest.mark.parametrize("answer", [
    Reply(201, {}),  # no Location
    Reply(201, {"Location": "http://x/files/"}),
])
def test_a_creation_answer_without_an_upload_url_is_a_server_error(answer: Reply) -> None:
    with pytest.raises(ServerError, match="Location"):
        drive(plan(), [answer])


@pytest.mark.parametrize("offset", ["4", "11", "abc", None])
def test_an_offset_out_of_range_is_a_server_error(offset: str | None) -> None:
    # A PATCH of bytes 4..8 must move the offset forward, to at most the length.
    headers = {} if offset is None else {"Upload-Offset": offset}
    with pytest.raises(ServerError, match="Upload-Offset"):
        drive(plan(), [created(), where(0), acked(4), Reply(204, headers)])


def test_a_file_object_is_read_from_where_it_stood() -> None:
    handle = io.BytesIO(b"skip:0123456789")
    handle.seek(5)
    result, seen = drive(plan(handle), [created(), where(0), acked(4), acked(8),
                                        acked(10, FILE_ID)])
    assert result == FILE_ID
    assert b"".join(body for _, body in patches(seen)) == b"0123456789"
    assert not handle.closed  # the caller's


def test_a_source_that_shrinks_mid_upload_is_refused() -> None:
    handle = io.BytesIO(b"0123456789")
    upload = plan(handle)

    def shrink(call: Call) -> Reply:
        handle.truncate(6)
        return acked(4)

    with pytest.raises(UsageError, match="changed during the upload"):
        drive(upload, [created(), where(0), shrink])


class OneShot(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return 0


def test_sources_and_arguments_are_checked_before_sending() -> None:
    with pytest.raises(UsageError, match="known length"):
        part(io.BufferedReader(OneShot()))
    with pytest.raises(UsageError, match="gets its id from Directus"):
        part(id=FILE_ID)
    with pytest.raises(UsageError, match="spaces or commas"):
        part(**{"my field": 1})
    for bad in (0, -1, True, 1.5, "8mb"):
        with pytest.raises(UsageError, match="chunk_size"):
            check_chunk_size(bad)
    assert check_chunk_size(None) is None and check_chunk_size(5) == 5
    assert "filename_download YS5iaW4=" in metadata_header(part())


def test_upload_arguments_are_checked_before_any_request() -> None:
    # Nothing listens on port 9: a request would be a ConnectError, not a UsageError.
    with DirectusClient("http://127.0.0.1:9", auth=StaticToken("t")) as client:
        with pytest.raises(UsageError, match="resumable: expected True or False"):
            client.files.upload(b"x", resumable="yes")  # type: ignore[arg-type]
        with pytest.raises(UsageError, match="one source at a time"):
            client.files.upload([b"x", b"y"], resumable=True)
        with pytest.raises(UsageError, match="only for resumable=True"):
            client.files.upload(b"x", chunk_size=4)
        with pytest.raises(UsageError, match="resume_url: only for resumable=True"):
            client.files.upload(b"x", resume_url="http://127.0.0.1:9/files/tus/a")
        with pytest.raises(UsageError, match="resume_url: expected"):
            client.files.upload(b"x", resumable=True, resume_url="http://x/files/tus/a")
        with pytest.raises(UsageError, match="chunk_size"):
            client.files.upload(b"x", resumable=True, chunk_size=0)
        with pytest.raises(UsageError, match="known length"):
            client.files.upload(io.BufferedReader(OneShot()), resumable=True)


def text_refusal(cls: type[Any], status: int, text: bytes) -> Any:
    # TUS routes answer refusals in plain text (HEAD: no body at all).
    answer = ResponseInfo(status, "", LOCATION, {"Content-Type": "text/plain"}, text, None)
    return cls(status, None, f"not a Directus error body: {text!r}", None, answer)


def test_refusals_in_plain_text_say_what_the_server_said() -> None:
    refused = text_refusal(PermissionDenied, 403, b"You don't have permission to access "
                                                  b"collection \"directus_files\"\n")
    with pytest.raises(PermissionDenied) as raised:
        drive(plan(), [created(), where(0), refused])
    assert str(raised.value) == ('403: PATCH /files/tus/{id}: You don\'t have permission to '
                                 'access collection "directus_files"')
    assert raised.value.__cause__ is refused
    assert raised.value.resume_url == f"{BASE}/files/tus/a3eaeb8d"
    with pytest.raises(PermissionDenied, match="POST /files/tus: You don't have"):
        drive(plan(), [refused])
    # An upload that is gone (finished, expired): HEAD answers 404 with no body.
    with pytest.raises(NotFound, match="resume_url: the server has no upload there any more"):
        drive(plan(resume=ROUTE), [text_refusal(NotFound, 404, b"")])
