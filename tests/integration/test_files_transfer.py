"""Several files per request, progress, zips, folder paths and all-or-nothing downloads."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pydirectus import DirectusClient, Password, RetryPolicy, StaticToken, Upload, UsageError
from pydirectus.errors import ConnectError, InvalidRequest, PermissionDenied, Timeout
from pydirectus.testing import DirectusServer
from pydirectus.testing.access import AccessGrants
from tests.faults import Fault, FaultProxy

TOKEN_EXPIRED = (b'{"errors":[{"message":"Token expired.",'
                 b'"extensions":{"code":"TOKEN_EXPIRED"}}]}')
FAST = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05, total=10.0)


@pytest.fixture
def cleanup(directus_client: DirectusClient) -> Iterator[dict[str, list[str]]]:
    """Collect file and folder ids made by a test; delete them afterwards."""
    made: dict[str, list[str]] = {"files": [], "folders": []}
    yield made
    if made["files"]:
        directus_client.files.delete_many(made["files"])
    # Children before parents: folders were recorded in creation order.
    for folder in reversed(made["folders"]):
        directus_client.folders.delete(folder)


class Calls:
    """A progress callable that records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int | None]] = []

    def __call__(self, done: int, total: int | None) -> None:
        self.calls.append((done, total))

    def check(self, total: int) -> None:
        assert self.calls[0] == (0, total)
        assert self.calls[-1] == (total, total)
        assert sum(1 for done, _ in self.calls if done == total) == 1, self.calls
        dones = [done for done, _ in self.calls]
        assert dones == sorted(dones)


def test_several_files_in_one_request_with_their_own_metadata(
        directus: DirectusServer, directus_client: DirectusClient,
        cleanup: dict[str, list[str]], tmp_path: Path) -> None:
    folder = directus_client.folders.create({"name": "batch"})
    cleanup["folders"].append(folder["id"])
    on_disk = tmp_path / "notes.md"
    on_disk.write_bytes(b"# notes\n")
    stream = io.BytesIO(b"--skip--" + b"stream body")
    stream.seek(8)
    with FaultProxy(directus.url, lifetime=30) as proxy, \
            DirectusClient(proxy.url, auth=StaticToken(directus.admin_token)) as client:
        records = client.files.upload([
            Upload(b"second", filename="b.txt", data={"title": "Bee", "tags": ["x"]}),
            on_disk,
            Upload(stream, filename="c.bin", content_type="application/x-custom",
                   data={"description": "from a stream"}),
            Upload(b"first", filename="a.txt", data={"title": "Ay"}),
        ], data={"folder": folder["id"], "description": "shared"})
        # One request for the four files; besides it at most the field types, read once
        # per client to type the records (PostgreSQL sends filesize as a string).
        assert [s.method for s in proxy.seen if s.path.startswith("/files")] == ["POST"]
        assert {s.path.split("?")[0] for s in proxy.seen} <= {"/files",
                                                               "/fields/directus_files"}
    cleanup["files"].extend(r["id"] for r in records)
    assert [r["filename_download"] for r in records] == ["b.txt", "notes.md", "c.bin", "a.txt"]
    assert [r["title"] for r in records] == ["Bee", "Notes", "C", "Ay"]
    assert [r["description"] for r in records] == ["shared", "shared", "from a stream", "shared"]
    assert records[0]["tags"] == ["x"]
    assert records[1]["type"] == "text/markdown"
    assert records[2]["type"] == "application/x-custom"
    assert {r["folder"] for r in records} == {folder["id"]}
    contents = [directus_client.files.read_bytes(r["id"]) for r in records]
    assert contents == [b"second", b"# notes\n", b"stream body", b"first"]


def test_alike_files_come_back_in_order(directus_client: DirectusClient,
                                        cleanup: dict[str, list[str]]) -> None:
    # Same name and size: only the upload order tells them apart.
    records = directus_client.files.upload([Upload(b"one", filename="same.txt"),
                                            Upload(b"two", filename="same.txt"),
                                            Upload(b"six", filename="same.txt")])
    cleanup["files"].extend(r["id"] for r in records)
    assert [directus_client.files.read_bytes(r["id"]) for r in records] == [
        b"one", b"two", b"six"]


def test_bad_uploads_send_nothing(directus: DirectusServer, tmp_path: Path) -> None:
    with FaultProxy(directus.url, lifetime=30) as proxy, \
            DirectusClient(proxy.url, auth=StaticToken(directus.admin_token)) as client:
        files = client.files
        with pytest.raises(UsageError, match="empty list"):
            files.upload([])
        with pytest.raises(UsageError, match=r"source\[1\]"):
            files.upload([b"ok", tmp_path / "missing.bin"])
        with pytest.raises(UsageError, match=r"data\[1\]"):
            files.upload([b"ok", Upload(b"x", data={"title": object()})])
        with pytest.raises(UsageError, match=r"data\[0\]"):
            files.upload([Upload(b"x", data=["title"])])  # type: ignore[arg-type]
        with pytest.raises(UsageError, match="per file"):
            files.upload([b"a", b"b"], filename="x.txt")  # type: ignore[call-overload]
        with pytest.raises(UsageError, match="progress"):
            files.upload(b"x", progress="yes")  # type: ignore[arg-type]
        with pytest.raises(UsageError, match="chunk_size"):
            files.iter_bytes("abc", chunk_size=0)
        with pytest.raises(UsageError, match="destination"):
            files.download("abc", tmp_path / "no" / "such" / "folder.bin")
        with pytest.raises(UsageError, match="directory"):
            files.download("abc", tmp_path)
        with pytest.raises(UsageError, match=r"ids\[1\]"):
            files.download_zip(["7f3e0b5e-5f9e-4a55-9a8e-6d7e1c2b3a4f", "nope"],
                               tmp_path / "z.zip")
        with pytest.raises(UsageError, match="ids"):
            files.download_zip([], tmp_path / "z.zip")
        with pytest.raises(UsageError, match="path"):
            client.folders.ensure("media//2026")
        with pytest.raises(UsageError, match="path"):
            client.folders.ensure("/")
        with pytest.raises(UsageError, match="parent"):
            client.folders.ensure("media", parent="root")
        assert proxy.seen == []


def test_progress_reaches_the_total_exactly_once(
        directus_client: DirectusClient, cleanup: dict[str, list[str]], tmp_path: Path) -> None:
    payload = bytes(range(256)) * 12_000  # 3 MiB
    up = Calls()
    record = directus_client.files.upload(payload, filename="p.bin", progress=up)
    cleanup["files"].append(record["id"])
    up.check(len(payload))
    down = Calls()
    assert directus_client.files.download(record["id"], tmp_path / "p.bin", progress=down,
                                          chunk_size=64 * 1024) == len(payload)
    down.check(len(payload))
    assert len(down.calls) >= len(payload) // (64 * 1024)
    many = Calls()
    records = directus_client.files.upload([payload, Upload(b"tail", filename="t.txt")],
                                           progress=many)
    cleanup["files"].extend(r["id"] for r in records)
    many.check(len(payload) + 4)


def test_progress_of_a_stream_of_unknown_size_ends_with_its_size(
        directus_client: DirectusClient, cleanup: dict[str, list[str]]) -> None:
    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.left = [b"x" * 70_000, b"y" * 10]

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            if not self.left:
                return 0
            chunk = self.left.pop(0)
            buffer[: len(chunk)] = chunk
            return len(chunk)

    seen = Calls()
    record = directus_client.files.upload(io.BufferedReader(Pipe()), filename="pipe.bin",
                                          progress=seen)
    cleanup["files"].append(record["id"])
    assert seen.calls[0] == (0, None)
    assert seen.calls[-1] == (70_010, 70_010)
    assert all(total is None for _, total in seen.calls[:-1])


def test_progress_true_needs_tqdm_or_says_how(directus_client: DirectusClient,
                                              cleanup: dict[str, list[str]],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    try:
        import tqdm  # noqa: F401
    except ImportError:
        with pytest.raises(UsageError, match=r"pydirectus\[progress\]"):
            directus_client.files.upload(b"x", progress=True)
        return
    record = directus_client.files.upload(b"x" * 50_000, filename="bar.bin", progress=True)
    cleanup["files"].append(record["id"])
    assert directus_client.files.read_bytes(record["id"], progress=True) == b"x" * 50_000
    assert "upload" in capsys.readouterr().err


def test_folders_ensure_finds_or_creates_the_path(directus_client: DirectusClient,
                                                  cleanup: dict[str, list[str]]) -> None:
    folders = directus_client.folders
    root = folders.create({"name": "ensure-root"})
    cleanup["folders"].append(root["id"])
    first = folders.ensure("media/2026/november", parent=root["id"])
    chain = [first]
    while chain[-1]["parent"] != root["id"]:
        chain.append(folders.get(chain[-1]["parent"]))
    cleanup["folders"].extend(f["id"] for f in reversed(chain))
    assert [f["name"] for f in chain] == ["november", "2026", "media"]
    again = folders.ensure("/media/2026/november/", parent=root["id"])
    assert again["id"] == first["id"]
    sibling = folders.ensure("media/2026/december", parent=root["id"])
    cleanup["folders"].append(sibling["id"])
    assert sibling["parent"] == chain[1]["id"]
    assert folders.filter(parent=root["id"]).count() == 1


def test_zip_of_files_and_of_a_folder(directus_client: DirectusClient,
                                      cleanup: dict[str, list[str]], tmp_path: Path) -> None:
    top = directus_client.folders.ensure("zip-top")
    cleanup["folders"].append(top["id"])
    inner = directus_client.folders.ensure("inner", parent=top["id"])
    cleanup["folders"].append(inner["id"])
    records = directus_client.files.upload([
        Upload(b"alpha" * 1000, filename="a.txt", data={"folder": top["id"]}),
        Upload(bytes(range(256)), filename="b.bin", data={"folder": inner["id"]}),
    ])
    cleanup["files"].extend(r["id"] for r in records)
    seen = Calls()
    size = directus_client.files.download_zip([r["id"] for r in records],
                                              tmp_path / "files.zip", progress=seen)
    assert size == (tmp_path / "files.zip").stat().st_size and seen.calls[-1] == (size, size)
    with zipfile.ZipFile(tmp_path / "files.zip") as archive:
        assert sorted(archive.namelist()) == ["a.txt", "b.bin"]
        assert archive.read("a.txt") == b"alpha" * 1000
        assert archive.read("b.bin") == bytes(range(256))
    directus_client.folders.download_zip(top["id"], tmp_path / "folder.zip")
    with zipfile.ZipFile(tmp_path / "folder.zip") as archive:
        assert sorted(archive.namelist()) == ["zip-top/", "zip-top/a.txt", "zip-top/inner/",
                                              "zip-top/inner/b.bin"]
        assert archive.read("zip-top/a.txt") == b"alpha" * 1000
        assert archive.read("zip-top/inner/b.bin") == bytes(range(256))
    # Directus says INVALID_PAYLOAD "No files found" when no id matches a readable file.
    with pytest.raises(InvalidRequest, match="No files"):
        directus_client.files.download_zip(["00000000-0000-4000-8000-000000000000"],
                                           tmp_path / "none.zip")
    assert not (tmp_path / "none.zip").exists()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("fault", ["cut", "stall", "missing"])
def test_a_failed_download_leaves_the_destination_as_it_was(
        directus: DirectusServer, directus_client: DirectusClient,
        cleanup: dict[str, list[str]], tmp_path: Path, fault: str) -> None:
    record = directus_client.files.upload(b"new contents" * 100, filename="n.txt")
    cleanup["files"].append(record["id"])
    target = tmp_path / "report.txt"
    target.write_bytes(b"the old report")
    target.chmod(0o640)
    file_id = "00000000-0000-4000-8000-000000000000" if fault == "missing" else record["id"]
    expected = {"cut": ConnectError, "stall": Timeout, "missing": PermissionDenied}[fault]
    with FaultProxy(directus.url, lifetime=30) as proxy, \
            DirectusClient(proxy.url, auth=StaticToken(directus.admin_token),
                           timeout=(2.0, 0.5), retry=FAST) as client:
        if fault != "missing":
            proxy.add(Fault.stall_body(0 if fault == "cut" else 2.0, method="GET",
                                       path="/assets/", times=None))
        with pytest.raises(expected):
            client.files.download(file_id, target)
        with pytest.raises(expected):
            b"".join(client.files.iter_bytes(file_id))
        sink = io.BytesIO()
        with pytest.raises(expected):
            client.files.download(file_id, sink)
    assert target.read_bytes() == b"the old report"
    assert _leftovers(tmp_path) == ["report.txt"]
    # And when it works, the file is replaced whole.
    assert directus_client.files.download(record["id"], target) == 1200
    assert target.read_bytes() == b"new contents" * 100
    assert _leftovers(tmp_path) == ["report.txt"]
    assert target.stat().st_mode & 0o777 == 0o640


# The async face runs the progress callback on the event loop, where a KeyboardInterrupt
# ends the loop (as it ends asyncio.run): the test bridge cannot carry on from that.
@pytest.mark.sync_only
def test_a_download_stopped_by_the_caller_leaves_nothing(
        directus_client: DirectusClient, cleanup: dict[str, list[str]], tmp_path: Path) -> None:
    record = directus_client.files.upload(b"z" * 300_000, filename="z.bin")
    cleanup["files"].append(record["id"])

    def stop(done: int, total: int | None) -> None:
        if done > 100_000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        directus_client.files.download(record["id"], tmp_path / "z.bin", progress=stop,
                                       chunk_size=50_000)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("kind", ["path", "bytes", "seekable", "several"])
def test_an_upload_is_sent_again_whole_after_a_token_refresh(
        directus: DirectusServer, directus_client: DirectusClient,
        cleanup: dict[str, list[str]], tmp_path: Path, kind: str) -> None:
    payload = bytes(range(256)) * 400
    path = tmp_path / "replay.bin"
    path.write_bytes(payload)
    handle = io.BytesIO(b"HEADER" + payload)
    handle.seek(6)
    source: Any = {"path": path, "bytes": payload, "seekable": handle,
                   "several": [path, payload]}[kind]
    with FaultProxy(directus.url, lifetime=30) as proxy, \
            DirectusClient(proxy.url, auth=Password(directus.admin_email,
                                                    directus.admin_password)) as client:
        proxy.add(Fault.status(401, TOKEN_EXPIRED, method="POST", path="/files"))
        answer = client.files.upload(source, filename=None)
        posts = proxy.requests_to("/files", "POST")
        assert len(posts) == 2 and posts[0].fault == "status" and posts[1].fault is None
    records = answer if isinstance(answer, list) else [answer]
    cleanup["files"].extend(r["id"] for r in records)
    for record in records:
        assert int(record["filesize"] or 0) == len(payload)
        assert directus_client.files.read_bytes(record["id"]) == payload



def test_api_only_and_public_tokens(directus_client: DirectusClient,
                                    cleanup: dict[str, list[str]], tmp_path: Path) -> None:
    with AccessGrants(directus_client) as grants:
        try:
            _as_users(grants, directus_client, cleanup, tmp_path)
        finally:
            # Files point at the users who uploaded them: delete them before the users.
            directus_client.files.delete_many(cleanup["files"])
            cleanup["files"].clear()


def _as_users(grants: AccessGrants, directus_client: DirectusClient, cleanup: dict[str, list[str]],
              tmp_path: Path) -> None:
    crud = ("create", "read", "update", "delete")
    api = grants.api_client({"directus_files": crud, "directus_folders": crud})
    folder = api.folders.ensure("api-only/uploads")
    parent = api.folders.get(folder["parent"])
    cleanup["folders"] += [parent["id"], folder["id"]]
    assert api.folders.ensure("api-only/uploads")["id"] == folder["id"]
    # Lists of folders go out as SEARCH: Directus 12.4.0 fails a non-admin GET /folders.
    assert [f["name"] for f in api.folders.filter(parent=parent["id"]).fields("name")] == [
        "uploads"]
    assert api.folders.filter(name="api-only").count() >= 1
    assert any(f["id"] == folder["id"] for f in api.folders.iterator(prefetch=False))
    seen = Calls()
    records = api.files.upload([Upload(b"api one", filename="one.txt"),
                                Upload(b"api two", filename="two.txt",
                                       data={"title": "Second"})],
                               data={"folder": folder["id"]}, progress=seen)
    cleanup["files"].extend(r["id"] for r in records)
    seen.check(14)
    assert [r["title"] for r in records] == ["One", "Second"]
    assert api.files.download(records[1]["id"], tmp_path / "two.txt") == 7
    assert (tmp_path / "two.txt").read_bytes() == b"api two"
    api.folders.download_zip(parent["id"], tmp_path / "api.zip")
    with zipfile.ZipFile(tmp_path / "api.zip") as archive:
        assert archive.read("api-only/uploads/two.txt") == b"api two"

    # A token that may create files but not read them still learns the ids.
    writer = grants.api_client({"directus_files": ["create"]})
    blind = writer.files.upload([b"w1", b"w2"])
    cleanup["files"].extend(r["id"] for r in blind)
    assert [directus_client.files.read_bytes(r["id"]) for r in blind] == [b"w1", b"w2"]
    with pytest.raises(PermissionDenied):
        writer.files.read_bytes(blind[0]["id"])

    public = grants.public_client({"directus_files": ["read"]})
    assert public.files.read_bytes(records[0]["id"]) == b"api one"
    public.files.download_zip([r["id"] for r in records], tmp_path / "public.zip")
    with zipfile.ZipFile(tmp_path / "public.zip") as archive:
        assert sorted(archive.namelist()) == ["one.txt", "two.txt"]
    with pytest.raises(PermissionDenied):
        public.files.upload(b"nope")
    with pytest.raises(PermissionDenied):
        public.folders.ensure("public-cannot")


def test_errors_of_the_progress_callable_are_its_own(
        directus_client: DirectusClient, cleanup: dict[str, list[str]], tmp_path: Path) -> None:
    record = directus_client.files.upload(b"q" * 10_000, filename="q.bin")
    cleanup["files"].append(record["id"])

    def broken(done: int, total: int | None) -> None:
        if done:
            raise OSError("the caller's disk is full")

    with pytest.raises(OSError, match="caller's disk") as caught:
        directus_client.files.download(record["id"], tmp_path / "q.bin", progress=broken)
    assert not isinstance(caught.value, ConnectError | Timeout)
    assert _leftovers(tmp_path) == []
    with pytest.raises(UsageError, match="Upload"):
        directus_client.files.upload(Upload(b"x"), filename="y.txt")
