"""Resumable (TUS) uploads against a real Directus with TUS_ENABLED, on the test's face."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pydirectus import DirectusClient, RetryPolicy, StaticToken
from pydirectus.errors import ConnectError, PermissionDenied
from pydirectus.testing import DirectusServer
from pydirectus.testing.access import AccessGrants
from tests.faults import Fault, FaultProxy

FAST = RetryPolicy(attempts=4, backoff=0.05, max_backoff=0.2, total=30.0)
MIB = 1024 * 1024
BIG = 200 * MIB


@pytest.fixture
def uploaded(directus_client: DirectusClient) -> Iterator[list[str]]:
    """Collect the ids of files a test made; delete them afterwards."""
    made: list[str] = []
    yield made
    if made:
        directus_client.files.delete_many(made)


@pytest.fixture(scope="module")
def big_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A 200 MiB file, written a MiB at a time (no two MiB alike), and its sha256."""
    path = tmp_path_factory.mktemp("tus") / "big.bin"
    digest = hashlib.sha256()
    noise = os.urandom(MIB)
    with path.open("wb") as out:
        for index in range(BIG // MIB):
            block = index.to_bytes(8, "big") + noise[8:]
            digest.update(block)
            out.write(block)
    return path, digest.hexdigest()


def _sha256_of(client: DirectusClient, file_id: str) -> str:
    digest = hashlib.sha256()
    for block in client.files.iter_bytes(file_id, chunk_size=MIB):
        digest.update(block)
    return digest.hexdigest()


def test_a_small_upload_gives_the_record_a_plain_upload_gives(
        directus_client: DirectusClient, uploaded: list[str]) -> None:
    folder = directus_client.folders.create({"name": "tus-small"})
    try:
        fields = {"title": "Grüße, TUS 世界", "folder": folder["id"], "tags": ["a", "b"],
                  "description": "resumable"}
        record = directus_client.files.upload(b"hello tus", filename="héllo, tus.txt", data=fields,
                                              resumable=True)
        uploaded.append(record["id"])
        plain = directus_client.files.upload(b"hello tus", filename="héllo, tus.txt", data=fields)
        uploaded.append(plain["id"])
        for name in ("title", "folder", "tags", "description", "filename_download", "type",
                     "filesize"):
            assert record[name] == plain[name], name
        assert record["type"] == "text/plain"
        assert set(record) == set(plain)
        assert record["tus_id"] is None
        assert directus_client.files.read_bytes(record["id"]) == b"hello tus"
    finally:
        directus_client.files.delete_many(uploaded)
        uploaded.clear()
        directus_client.folders.delete(folder["id"])


def test_multi_chunk_uploads_in_the_servers_chunks_or_the_callers(
        directus: DirectusServer, directus_client: DirectusClient,
        make_client: Callable[..., DirectusClient],
        uploaded: list[str], tmp_path: Path) -> None:
    source = tmp_path / "nine.bin"
    data = os.urandom(9 * MIB + 5)
    source.write_bytes(data)
    done: list[tuple[int, int | None]] = []
    with FaultProxy(directus.url, lifetime=60) as proxy:
        client = make_client(proxy.url, auth=StaticToken(directus.admin_token))
        record = client.files.upload(source, resumable=True,
                                     progress=lambda d, t: done.append((d, t)))
        uploaded.append(record["id"])
        # The server's TUS_CHUNK_SIZE (Directus's default, 8 MiB) read from /server/info.
        server_chunks = [s.body_length for s in proxy.requests_to("/files/tus/", "PATCH")]
        proxy.clear()
        again = client.files.upload(source, filename="again.bin", resumable=True,
                                    chunk_size=4 * MIB)
        uploaded.append(again["id"])
        caller_chunks = [s.body_length for s in proxy.requests_to("/files/tus/", "PATCH")]
        assert not proxy.requests_to("/server/info")  # the caller's size: no need to ask
    assert server_chunks == [8 * MIB, MIB + 5]
    assert caller_chunks == [4 * MIB, 4 * MIB, MIB + 5]
    assert done == [(0, len(data)), (8 * MIB, len(data)), (len(data), len(data))]
    assert record["filename_download"] == "nine.bin"
    assert int(record["filesize"]) == int(again["filesize"]) == len(data)
    assert directus_client.files.read_bytes(again["id"]) == data


def test_a_200_mb_upload_cut_twice_completes_in_bounded_memory(
        directus: DirectusServer, directus_client: DirectusClient,
        make_client: Callable[..., DirectusClient], uploaded: list[str],
        big_source: tuple[Path, str]) -> None:
    path, digest = big_source
    with FaultProxy(directus.url, lifetime=300) as proxy:
        # Two chunks cut mid-body (the 4th and the 15th PATCH): the server keeps what came.
        proxy.add(Fault.forward_part_then_reset(0.5, method="PATCH", path="/files/tus/",
                                                skip=3),
                  Fault.forward_part_then_reset(0.3, method="PATCH", path="/files/tus/",
                                                skip=10))
        client = make_client(proxy.url, auth=StaticToken(directus.admin_token), retry=FAST)
        tracemalloc.start()
        try:
            record = client.files.upload(path, resumable=True)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        uploaded.append(record["id"])
        cut = [s for s in proxy.seen if s.fault == "forward_part_then_reset"]
        heads = proxy.requests_to("/files/tus/", "HEAD")
    assert len(cut) == 2
    assert len(heads) == 3  # one after creation (the file id), one per cut
    assert int(record["filesize"]) == BIG
    assert _sha256_of(directus_client, record["id"]) == digest
    # One 8 MiB chunk at a time (the proxy in this process holds another while it relays).
    assert peak < 48 * MIB, peak


def test_an_upload_given_up_is_resumed_by_another_client(
        directus: DirectusServer, directus_client: DirectusClient,
        make_client: Callable[..., DirectusClient], uploaded: list[str],
        tmp_path: Path) -> None:
    source = tmp_path / "three.bin"
    data = os.urandom(3 * MIB)
    source.write_bytes(data)
    with FaultProxy(directus.url, lifetime=60) as proxy:
        # The first chunk lands; the next is cut as often as the policy tries it.
        proxy.add(Fault.reset(method="PATCH", path="/files/tus/", skip=1,
                              times=FAST.attempts))
        first = make_client(proxy.url, auth=StaticToken(directus.admin_token), retry=FAST)
        with pytest.raises(ConnectError) as raised:
            first.files.upload(source, resumable=True, chunk_size=MIB)
        resume_url = raised.value.resume_url
        assert resume_url is not None and resume_url.startswith(f"{proxy.url}/files/tus/")
        proxy.clear()
        # Another client (another process, say) sends on from the server's offset.
        second = make_client(proxy.url, auth=StaticToken(directus.admin_token))
        record = second.files.upload(source, resumable=True, chunk_size=MIB,
                                     resume_url=resume_url)
        sent = [(s.method, s.headers.get("Upload-Offset")) for s in proxy.seen
                if s.path.startswith("/files/tus/")]
    uploaded.append(record["id"])
    assert sent == [("HEAD", None), ("PATCH", str(MIB)), ("PATCH", str(2 * MIB))]
    assert record["filename_download"] == "three.bin"
    assert directus_client.files.read_bytes(record["id"]) == data


def test_api_only_and_public_tokens(directus_client: DirectusClient, uploaded: list[str]
                                    ) -> None:
    with AccessGrants(directus_client) as grants:
        try:
            # Directus writes the record at creation and at each PATCH (update), and
            # resuming reads it (HEAD).
            api = grants.api_client({"directus_files": ["create", "read", "update"]})
            record = api.files.upload(b"api-only resumable", filename="api.txt",
                                      data={"title": "Api"}, resumable=True, chunk_size=5)
            uploaded.append(record["id"])
            assert record["title"] == "Api"
            assert int(record["filesize"]) == 18
            assert directus_client.files.read_bytes(record["id"]) == b"api-only resumable"

            # (A token without update is refused at creation too, but Directus 12.4.0 then
            # leaves an unfinished record, unlisted until its TUS cleanup, that keeps its
            # user from being deleted: not tried here.)

            public = grants.public_client({"directus_files": ["read"]})
            with pytest.raises(PermissionDenied):
                public.files.upload(b"nope", filename="public.txt", resumable=True)
        finally:
            # Files point at the users who uploaded them: delete them before the users.
            if uploaded:
                directus_client.files.delete_many(uploaded)
                uploaded.clear()


def test_progress_and_fields_types_on_the_record(directus_client: DirectusClient,
                                                 uploaded: list[str]) -> None:
    seen: list[Any] = []
    record = directus_client.files.upload(b"x" * 10, filename="p.bin", resumable=True,
                                          chunk_size=4, progress=lambda d, t: seen.append(d))
    uploaded.append(record["id"])
    assert seen == [0, 4, 8, 10]
    same = directus_client.files.get(record["id"])
    assert record == same  # typed as a read types it
