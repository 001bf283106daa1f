"""Files and folders against the real Directus: streamed upload and download, bounded memory."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pydirectus import DirectusClient, Upload, UsageError
from pydirectus.errors import NotFound, PermissionDenied

BIG = 32 * 1024 * 1024


@pytest.fixture
def uploaded(directus_client: DirectusClient) -> Iterator[list[str]]:
    ids: list[str] = []
    yield ids
    for file_id in ids:
        directus_client.files.delete(file_id)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("files") / "big.bin"
    digest = hashlib.sha256()
    block = os.urandom(1024 * 1024)
    with path.open("wb") as out:
        for n in range(BIG // len(block)):
            chunk = block[n:] + block[:n]
            out.write(chunk)
            digest.update(chunk)
    return path, digest.hexdigest()


def test_upload_bytes_with_fields_and_download(directus_client: DirectusClient,
                                               uploaded: list[str], tmp_path: Path) -> None:
    folder = directus_client.folders.create({"name": "reports"})
    try:
        record = directus_client.files.upload(
            b"hello, directus\n", filename="hello.txt",
            data={"title": "Greeting", "folder": folder["id"], "tags": ["a", "b"]})
        uploaded.append(record["id"])
        assert record["filename_download"] == "hello.txt"
        assert record["type"] == "text/plain"
        assert record["title"] == "Greeting"
        assert record["folder"] == folder["id"]
        assert int(record["filesize"] or 0) == 16
        assert b"".join(directus_client.files.iter_bytes(record["id"])) == b"hello, directus\n"
        target = tmp_path / "copy.txt"
        assert directus_client.files.download(record["id"], target) == 16
        assert target.read_bytes() == b"hello, directus\n"
        found = directus_client.files.filter(folder=folder["id"]).fields("id").all()
        assert found == [{"id": record["id"]}]
        assert directus_client.read_file(record["id"])["title"] == "Greeting"
    finally:
        directus_client.folders.delete(folder["id"])


def test_upload_from_an_unsized_stream_goes_chunked(directus_client: DirectusClient,
                                                    uploaded: list[str]) -> None:
    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.left = [b"x" * 70_000, b"y" * 10]

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            if not self.left:
                return 0
            chunk = self.left.pop(0)
            buffer[: len(chunk)] = chunk
            return len(chunk)

    record = directus_client.files.upload(io.BufferedReader(Pipe()), filename="pipe.bin")
    uploaded.append(record["id"])
    assert b"".join(directus_client.files.iter_bytes(record["id"])) == b"x" * 70_000 + b"y" * 10


def test_replace_bytes(directus_client: DirectusClient, uploaded: list[str]) -> None:
    record = directus_client.files.upload(b"v1", filename="doc.txt")
    uploaded.append(record["id"])
    directus_client.files.replace(record["id"], b"version two", filename="doc.txt")
    assert b"".join(directus_client.files.iter_bytes(record["id"])) == b"version two"


def test_large_upload_and_download_stream_in_bounded_memory(
        directus_client: DirectusClient, uploaded: list[str], big_file: tuple[Path, str],
        tmp_path: Path) -> None:
    path, digest = big_file
    tracemalloc.start()
    try:
        record = directus_client.files.upload(path)
        upload_peak = tracemalloc.get_traced_memory()[1]
        uploaded.append(record["id"])
        tracemalloc.reset_peak()
        target = tmp_path / "back.bin"
        written = directus_client.files.download(record["id"], target)
        download_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        pair = directus_client.files.upload([path, Upload(path, filename="again.bin")])
        pair_peak = tracemalloc.get_traced_memory()[1]
        uploaded.extend(r["id"] for r in pair)
        tracemalloc.reset_peak()
        zipped = directus_client.files.download_zip([r["id"] for r in pair], tmp_path / "p.zip")
        zip_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert int(record["filesize"] or 0) == BIG
    assert written == BIG
    assert hashlib.sha256(target.read_bytes()).hexdigest() == digest
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    # A 32 MiB file moves through a few MiB of buffers at most.
    assert upload_peak < 8 * 1024 * 1024, upload_peak
    assert download_peak < 8 * 1024 * 1024, download_peak
    # Two of them in one request, and a zip of both back.
    assert [int(r["filesize"] or 0) for r in pair] == [BIG, BIG]
    assert pair_peak < 8 * 1024 * 1024, pair_peak
    assert zipped > BIG and zip_peak < 8 * 1024 * 1024, zip_peak
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        for name in ("big.bin", "again.bin"):
            with archive.open(name) as member:
                digest_of = hashlib.sha256()
                while block := member.read(1 << 20):
                    digest_of.update(block)
                assert digest_of.hexdigest() == digest


def test_missing_file_and_bad_input(directus_client: DirectusClient, tmp_path: Path) -> None:
    with pytest.raises((NotFound, PermissionDenied)):
        b"".join(directus_client.files.iter_bytes("00000000-0000-0000-0000-000000000000"))
    with pytest.raises(NotFound):
        directus_client.files.get("00000000-0000-0000-0000-000000000000")
    with pytest.raises(UsageError, match="not a file"):
        directus_client.files.upload(tmp_path / "nope.bin")
    with pytest.raises(UsageError, match="source"):
        directus_client.files.upload(12345)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="data"):
        directus_client.files.upload(b"x", data={"title": object()})
    with pytest.raises(UsageError, match="url"):
        directus_client.files.import_url("ftp://example.com/x")
    with pytest.raises(UsageError, match="destination"):
        directus_client.files.download("abc", 42)  # type: ignore[arg-type]
