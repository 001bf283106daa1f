"""The system and files handles on the async face against the real Directus.

The handles are the sync client's own; here each scenario runs with ``AsyncDirectusClient``
(``asyncio.run``): several calls per method (plans), uploads streamed from an async
iterator, downloads streamed to disk or iterated with ``async for``, in bounded memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import tracemalloc
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from pydirectus import (
    DirectusClient,
    NotFound,
    PermissionDenied,
    Query,
    StaticToken,
    Upload,
    UsageError,
)
from pydirectus.aio import AsyncDirectusClient
from pydirectus.system import Field, ManyToOne
from pydirectus.testing.collections import unique_name as unique
from pydirectus.testing.server import DirectusServer

T = TypeVar("T")
MiB = 1024 * 1024
BIG = 24 * MiB
BLOCK = 256 * 1024


def run(directus: DirectusServer,
        scenario: Callable[[Any], Awaitable[T]]) -> T:
    """Run an async scenario with an admin AsyncDirectusClient, closed afterwards (typed Any:
    the system handles have no async Protocols yet)."""
    async def main() -> T:
        async with AsyncDirectusClient(directus.url,
                                       auth=StaticToken(directus.admin_token)) as client:
            return await scenario(client)

    return asyncio.run(main())


def test_access_reads_and_tools(directus: DirectusServer) -> None:
    async def scenario(client: Any) -> None:
        me = await client.users.me(fields=["id", "email"])
        assert me["email"] and me["id"]
        roles = await client.roles.me()
        assert isinstance(roles, list)
        flags = await client.policies.me_globals()
        assert flags["admin_access"] is True
        rights = await client.permissions.me()
        assert isinstance(rights, dict)
        role = await client.roles.create({"name": unique("aio-role")})
        policy = await client.policies.create(
            {"name": unique("aio-policy"), "app_access": False})
        try:
            assert (await client.roles.get(role["id"]))["name"] == role["name"]
            assert await client.policies.filter(
                name=policy["name"]).count() == 1
        finally:
            await client.roles.delete_many([role["id"]])
            await client.policies.delete_many([policy["id"]])
        value = await client.utils.random_string(20)
        assert isinstance(value, str) and len(value) == 20
        extensions = await client.extensions.list()
        assert isinstance(extensions, list)
        # get() reads the list first, then decides: a plan of its own.
        with pytest.raises(NotFound, match="no installed extension"):
            await client.extensions.get("no-such-extension")
        assert await client.authentication.providers() == []
        settings = await client.settings.get()
        assert "project_name" in settings
        # Argument checks raise at the call, before anything is built or sent.
        with pytest.raises(UsageError, match="length"):
            client.utils.random_string(0)

    run(directus, scenario)


def test_schema_presets_versions_and_flows(directus: DirectusServer) -> None:
    async def scenario(client: Any) -> None:
        authors, posts = unique("aio_authors"), unique("aio_posts")
        await client.schema.define(authors, {"name": "string"})
        # define() reads the related key type, then creates the collection, the alias
        # field and the relation: several calls in one plan.
        await client.schema.define(posts, {
            "title": "string", "views": "integer",
            "author": ManyToOne(authors, reverse="posts")}, meta={"versioning": True})
        try:
            relation = await client.relations.get(posts, "author")
            assert relation["related_collection"] == authors
            # Snapshot, a change, then diff and apply back to the snapshot.
            snapshot = await client.schema.snapshot()
            await client.fields.create(posts, Field("string"), name="extra")
            diff = await client.schema.diff(snapshot)
            assert diff is not None and diff["hash"]
            await client.schema.apply(diff)
            names = {row["field"] for row in await client.fields.all(posts)}
            assert "extra" not in names and {"title", "views", "author"} <= names
            # copy_to: snapshot here, diff and apply there (itself: nothing differs), also
            # to a sync client's schema.
            assert await client.schema.copy_to(client.schema) is None
            with DirectusClient(directus.url, auth=StaticToken(directus.admin_token)) as sync:
                assert await client.schema.copy_to(sync.schema) is None
                with pytest.raises(UsageError, match="async client"):
                    sync.schema.copy_to(client.schema)

            # Presets: a Query saved as the current user's bookmark, and read back.
            query = Query().filter(views__gt=2).sort("-views").fields("title", "views")
            saved = await client.presets.from_query(posts, query, "Busy")
            me = await client.users.me(fields=["id"])
            assert saved["user"] == me["id"] and saved["bookmark"] == "Busy"
            assert await client.presets.to_query(saved["id"]) == query
            assert await client.presets.to_query(saved) == query  # a record: no call
            await client.presets.delete_many([saved["id"]])

            # Versions: save, compare, read at the version, promote.
            table = client.collection(posts)
            post = await table.create({"title": "v1", "views": 1})
            version = await client.versions.create(
                {"key": "draft", "name": "Draft", "collection": posts,
                 "item": str(post["id"])})
            saved_item = await client.versions.save(version["id"], {"title": "v2"})
            assert (saved_item["title"], saved_item["views"]) == ("v2", 1)
            at_version = await client.versions.item(version["id"], fields=["title"])
            assert at_version["title"] == "v2"
            compared = await client.versions.compare(version["id"])
            assert compared["outdated"] is False and compared["main"]["title"] == "v1"
            promoted = await client.versions.promote(
                version["id"], compared["mainHash"])
            assert promoted == str(post["id"])
            assert (await table.get(post["id"]))["title"] == "v2"
            missing = "6b3c5f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
            with pytest.raises(NotFound, match=f"no version '{missing}'"):
                await client.versions.compare(missing)

            # Flows: the method is read from the flow first, then the trigger is sent.
            flow = await client.flows.create({
                "name": unique("aio-flow"), "trigger": "webhook", "status": "active",
                "accountability": "all", "options": {"method": "GET"}})
            try:
                step = await client.operations.create({
                    "flow": flow["id"], "key": unique("op"), "position_x": 19,
                    "position_y": 1, "type": "transform",
                    "options": {"json": {"got": "{{$trigger.query.q}}"}}})
                await client.flows.update(flow["id"], {"operation": step["id"]})
                got = await client.flows.trigger(flow["id"], params={"q": "aio"})
                assert got == {"got": "aio"}
                with pytest.raises(UsageError, match="data"):
                    await client.flows.trigger(flow["id"], {"a": 1})
            finally:
                await client.flows.delete_many([flow["id"]])
        finally:
            # drop() reads collections and relations, then deletes posts before authors.
            await client.schema.drop(authors, posts)
        left = {row["collection"] for row in await client.collections.all()}
        assert authors not in left and posts not in left

    run(directus, scenario)


async def _blocks(total: int, digest: Any) -> AsyncIterator[bytes]:
    """Yield `total` bytes in blocks made on the fly (never all in memory)."""
    sent = 0
    n = 0
    while sent < total:
        block = hashlib.sha256(n.to_bytes(8, "big")).digest() * (BLOCK // 32)
        block = block[: total - sent]
        digest.update(block)
        sent += len(block)
        n += 1
        await asyncio.sleep(0)
        yield block


def test_files_upload_and_download_stream(directus: DirectusServer, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(300_000))

    async def scenario(client: Any) -> None:
        files = client.files
        made: list[str] = []
        try:
            # From bytes, with fields.
            record = await files.upload(b"hello, async\n", filename="hello.txt",
                                        data={"title": "Async hello"})
            made.append(record["id"])
            assert (record["filename_download"], record["title"]) == ("hello.txt", "Async hello")
            assert await files.read_bytes(record["id"]) == b"hello, async\n"
            assert [chunk async for chunk in files.iter_bytes(
                record["id"])] == [b"hello, async\n"]
            # From a path, with progress; then replaced from a binary file object.
            seen: list[tuple[int, int | None]] = []
            from_path = await files.upload(
                source, progress=lambda done, total: seen.append((done, total)))
            made.append(from_path["id"])
            assert seen[0] == (0, 300_000) and seen[-1] == (300_000, 300_000)
            target = tmp_path / "back.bin"
            assert await files.download(from_path["id"], target) == 300_000
            assert target.read_bytes() == source.read_bytes()
            await files.replace(from_path["id"], io.BytesIO(b"replaced"),
                                filename="r.txt")
            assert await files.read_bytes(from_path["id"]) == b"replaced"
            # Several files in one request, in order.
            pair = await files.upload([b"one", Upload(b"two", filename="two.txt")])
            made.extend(r["id"] for r in pair)
            assert [await files.read_bytes(r["id"]) for r in pair] == [
                b"one", b"two"]
            # A zip of them, streamed to a path.
            zipped = tmp_path / "pair.zip"
            assert await files.download_zip([r["id"] for r in pair], zipped) > 0
            with zipfile.ZipFile(zipped) as archive:
                assert sorted(archive.read(name) for name in archive.namelist()) == [
                    b"one", b"two"]
            # Folders: ensure() finds or creates each level, and a folder's zip.
            path = f"{unique('aio')}/2026/december"
            folder = await client.folders.ensure(path)
            again = await client.folders.ensure(path)
            assert again["id"] == folder["id"]
            inside = await files.upload(b"in a folder", filename="in.txt",
                                        data={"folder": folder["id"]})
            made.append(inside["id"])
            folder_zip = tmp_path / "folder.zip"
            assert await client.folders.download_zip(folder["id"], folder_zip) > 0
            with zipfile.ZipFile(folder_zip) as archive:
                assert [archive.read(name) for name in archive.namelist()
                        if not name.endswith("/")] == [b"in a folder"]
            # A sync client refuses an async iterator before sending.
            with DirectusClient(directus.url, auth=StaticToken(directus.admin_token)) as sync, \
                    pytest.raises(UsageError, match="async client"):
                sync.files.upload(_blocks(10, hashlib.sha256()), filename="x.bin")
        finally:
            for file_id in made:
                await client.delete_file(file_id)

    run(directus, scenario)


def test_a_large_async_stream_moves_in_bounded_memory(directus: DirectusServer,
                                                      tmp_path: Path) -> None:
    async def scenario(client: Any) -> None:
        files = client.files
        sent = hashlib.sha256()
        tracemalloc.start()
        try:
            record = await files.upload(_blocks(BIG, sent), filename="big.bin")
            upload_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            target = tmp_path / "big.bin"
            written = await files.download(record["id"], target,
                                           chunk_size=256 * 1024)
            download_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            streamed = hashlib.sha256()
            count = 0
            async for chunk in files.iter_bytes(record["id"]):
                streamed.update(chunk)
                count += len(chunk)
            iterate_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        try:
            assert int(record["filesize"] or 0) == BIG
            assert written == BIG == count
            assert hashlib.sha256(target.read_bytes()).hexdigest() == sent.hexdigest()
            assert streamed.hexdigest() == sent.hexdigest()
            assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
            # 24 MiB through a few MiB of buffers at most.
            assert upload_peak < 4 * MiB, upload_peak
            assert download_peak < 4 * MiB, download_peak
            assert iterate_peak < 4 * MiB, iterate_peak
        finally:
            await client.delete_file(record["id"])

    run(directus, scenario)


def test_a_failed_async_download_leaves_the_file_as_it_was(directus: DirectusServer,
                                                           tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_bytes(b"keep me")

    async def scenario(client: Any) -> None:
        with pytest.raises((NotFound, PermissionDenied)):
            await client.files.download(
                "6b3c5f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", target)
        with pytest.raises(UsageError, match="destination"):
            client.files.download("6b3c5f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", tmp_path)
        record = await client.files.upload(b"x" * 100_000, filename="x.bin")
        try:
            def stop(done: int, total: int | None) -> None:
                if done:
                    raise RuntimeError("stop here")

            with pytest.raises(RuntimeError, match="stop here"):
                await client.files.download(record["id"], target, chunk_size=1024,
                                            progress=stop)
        finally:
            await client.delete_file(record["id"])

    run(directus, scenario)
    assert target.read_bytes() == b"keep me"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
