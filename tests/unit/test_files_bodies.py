"""Transform parameters, multipart bodies (read by either face), download sinks and progress
reports, without a server."""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import io
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from pydirectus import InvalidQuery, Upload, UsageError
from pydirectus.download import BytesSink, FileSink, PathSink, drain, drain_async
from pydirectus.multipart import UploadBody, file_parts
from pydirectus.progress import Reporter, reporter
from pydirectus.transforms import transform_params


def test_transform_params_use_directus_names() -> None:
    assert transform_params({"width": 32, "height": 10, "fit": "Cover", "quality": 80,
                             "format": "WEBP", "without_enlargement": True,
                             "focal_point_x": 0, "key": "thumb", "download": True}) == {
        "width": "32", "height": "10", "fit": "cover", "quality": "80", "format": "webp",
        "withoutEnlargement": "true", "focal_point_x": "0", "key": "thumb",
        "download": "true"}
    # False and None mean "not asked": Directus reads any withoutEnlargement value as true.
    assert transform_params({"without_enlargement": False, "download": False,
                             "width": None}) == {}
    assert transform_params({"transforms": [["blur", 2.5], ("resize", {"width": 3})]}) == {
        "transforms": '[["blur",2.5],["resize",{"width":3}]]'}


def _body(parts: list[Any], **kwargs: Any) -> tuple[UploadBody, bytes]:
    body = UploadBody(file_parts(parts, kwargs.get("data"), listed=True), Reporter(None))
    built = body.build()
    raw = b"".join(iter(built)) if not hasattr(built, "read") else built.read()
    return body, raw


def _parse(body: UploadBody, raw: bytes) -> list[tuple[str, str | None, bytes]]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {body.content_type}\r\n\r\n".encode() + raw)
    return [(part.get_param("name", header="content-disposition"), part.get_filename(),
             part.get_payload(decode=True)) for part in message.iter_parts()]


def test_each_file_comes_after_its_own_fields(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG...")
    body, raw = _body([Upload(b"one", filename="a.txt", data={"title": "A", "tags": ["x"]}),
                       Upload(path)], data={"folder": "f"})
    assert _parse(body, raw) == [
        ("folder", None, b"f"), ("title", None, b"A"), ("tags", None, b'["x"]'),
        ("file", "a.txt", b"one"), ("folder", None, b"f"), ("file", "photo.png", b"\x89PNG..."),
    ]
    assert body.total == 3 + 7
    assert len(body.build()) == len(raw)  # type: ignore[arg-type]


def test_a_body_is_built_again_whole(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"p" * 5000)
    handle = io.BytesIO(b"skip" + b"s" * 3000)
    handle.seek(4)
    body = UploadBody(file_parts([Upload(path), Upload(b"b" * 10), Upload(handle)], None,
                                 listed=True), Reporter(None))
    assert body.replayable
    first = body.build()
    assert not isinstance(first, io.IOBase)
    one = b"".join(iter(first))
    # Read in small odd blocks the second time, as an HTTP layer may.
    second: Any = body.build()
    blocks = []
    while block := second.read(333):
        assert len(block) <= 333
        blocks.append(block)
    assert b"".join(blocks) == one and len(one) == len(second)
    body.close()


def test_a_one_shot_stream_is_not_replayable() -> None:
    class OneShot(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            return 0

    body = UploadBody(file_parts([Upload(io.BufferedReader(OneShot()))], None, listed=False),
                      Reporter(None))
    assert not body.replayable and body.total is None
    built = body.build()
    with pytest.raises(TypeError):
        len(built)  # type: ignore[arg-type]


def test_a_path_opened_for_the_body_is_closed(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"x" * 100)
    opened: list[Any] = []
    real_open = Path.open

    def spy(self: Path, *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, *args, **kwargs)
        opened.append(handle)
        return handle

    monkeypatch.setattr(Path, "open", spy)
    body = UploadBody(file_parts([Upload(path)], None, listed=False), Reporter(None))
    body.build().read(1000)  # type: ignore[union-attr]
    body.build().read(1000)  # type: ignore[union-attr]
    body.close()
    assert len(opened) == 2 and all(handle.closed for handle in opened)


def test_reporter_ends_exactly_once() -> None:
    calls: list[tuple[int, int | None]] = []
    report = reporter(lambda done, total: calls.append((done, total)), "x")
    report.start(10)
    for _ in range(5):
        report.advance(2)
    report.finish()
    report.finish()
    assert calls == [(0, 10), (2, 10), (4, 10), (6, 10), (8, 10), (10, 10)]
    calls.clear()
    report.start(None)
    report.advance(3)
    report.finish()
    assert calls == [(0, None), (3, None), (3, 3)]


def test_progress_true_without_tqdm_says_how(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(UsageError, match=r"pip install 'pydirectus\[progress\]'"):
        reporter(True, "upload")
    with pytest.raises(UsageError, match="progress"):
        reporter(42, "upload")  # type: ignore[arg-type]
    assert not reporter(None, "x") and not reporter(False, "x")


def test_field_values_are_sent_as_directus_reads_them() -> None:
    import datetime as dt
    import decimal
    import uuid

    when = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone.utc)
    key = uuid.UUID("7f3e0b5e-5f9e-4a55-9a8e-6d7e1c2b3a4f")
    body, raw = _body([Upload(b"x", filename="x.txt", data={
        "when": when, "folder": key, "price": decimal.Decimal("1.10"), "n": 3, "ok": False,
        "none": None, "tags": ("a", "b"), "meta": {"at": when}})])
    assert _parse(body, raw)[:-1] == [
        ("when", None, b"2026-11-30T12:00:00+00:00"),
        ("folder", None, b"7f3e0b5e-5f9e-4a55-9a8e-6d7e1c2b3a4f"),
        ("price", None, b"1.10"), ("n", None, b"3"), ("ok", None, b"false"),
        ("none", None, b"null"), ("tags", None, b'["a","b"]'),
        ("meta", None, b'{"at":"2026-11-30T12:00:00+00:00"}'),
    ]
    with pytest.raises(InvalidQuery, match=r"data\[0\]\['n'\]"):
        _body([Upload(b"x", data={"n": float("nan")})])


def _gather(body: Any) -> bytes:
    async def collect() -> bytes:
        return b"".join([block async for block in body])

    return asyncio.run(collect())


def test_the_async_face_reads_the_same_body(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"p" * 5000)
    parts = [Upload(path), Upload(b"b" * 10, data={"title": "B"}), Upload(io.BytesIO(b"s" * 7))]
    body = UploadBody(file_parts(parts, {"folder": "f"}, listed=True), Reporter(None))
    sync = body.build().read()  # type: ignore[union-attr]
    built = body.build()
    assert _gather(built) == sync and len(built) == len(sync)  # type: ignore[arg-type]
    body.close()


def test_an_async_iterator_is_a_one_shot_part_of_the_async_face() -> None:
    async def blocks() -> AsyncIterator[bytes]:
        for block in (b"ab", b"", bytearray(b"cd"), b"e"):
            yield block

    with pytest.raises(UsageError, match="async client"):
        file_parts([Upload(blocks())], None, listed=False)
    seen: list[tuple[int, int | None]] = []
    report = Reporter(lambda done, total: seen.append((done, total)))
    parts = file_parts([Upload(blocks(), filename="x.bin")], None, listed=False,
                       allow_async=True)
    body = UploadBody(parts, report)
    assert not body.replayable and body.total is None
    built = body.build()
    assert not hasattr(built, "read") and not hasattr(built, "__len__")
    _, _, payload = _parse(body, _gather(built))[0]
    assert payload == b"abcde"
    report.finish()
    assert seen == [(0, None), (2, None), (4, None), (5, None), (5, 5)]


def test_sinks_write_all_or_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def chunks(fail: bool) -> Iterator[bytes]:
        yield b"new "
        if fail:
            raise OSError("cut short")
        yield b"bytes"

    with pytest.raises(OSError, match="cut short"):
        drain(chunks(True), PathSink(target))
    assert target.read_bytes() == b"old" and sorted(tmp_path.iterdir()) == [target]
    assert drain(chunks(False), PathSink(target)) == 9 and target.read_bytes() == b"new bytes"
    assert drain(chunks(False), BytesSink()) == b"new bytes"
    out = io.BytesIO()
    assert drain(chunks(False), FileSink(out)) == 9 and out.getvalue() == b"new bytes"

    async def stream(fail: bool) -> AsyncGenerator[bytes, None]:
        for chunk in chunks(fail):
            yield chunk

    empty = tmp_path / "empty.bin"
    assert asyncio.run(drain_async(stream(False), PathSink(empty))) == 9
    with pytest.raises(OSError, match="cut short"):
        asyncio.run(drain_async(stream(True), PathSink(target)))
    assert target.read_bytes() == b"new bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.bin", "out.bin"]
