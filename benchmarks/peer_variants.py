"""Worker-side variants for the Python peers, run by the peers' own virtualenv.

Each one uses the peer's documented API as its source shows it (directus-sdk-py 1.1.0:
``DirectusClient.get_item/get_items/create_item/bulk_insert``, a new ``requests`` call
per request and SEARCH for lists; py-directus 0.0.30: ``await Directus(url, token=...)``,
``collection(name).filter/fields/sort/limit/aggregate/read/create`` over one httpx
``AsyncClient``). What a peer has no API for is listed in ``unsupported``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from benchmarks import spec

Block = Callable[[], Any]
NO_ITERATOR = "no iterator (no paging API)"
WRITE_TIMEOUT = 300.0


def _list_query(limit: int) -> dict[str, Any]:
    return {"filter": spec.list_filter(), "fields": list(spec.LIST_FIELDS),
            "sort": list(spec.LIST_SORT), "limit": limit}


class DirectusSdkPyVariant:
    """directus-sdk-py: requests-based, one module-level requests call per request."""

    unsupported: ClassVar[dict[str, str]] = {"iterate": NO_ITERATOR}

    def __init__(self) -> None:
        from directus_sdk_py import DirectusClient

        self.factory = DirectusClient
        self.client: Any = None

    def setup(self, url: str, token: str, page_size: int) -> None:
        """Make the client with a static token."""
        self.client = self.factory(url, token=token)

    def close(self) -> None:
        """Nothing to close: the peer keeps no session."""

    def op_warm(self, calls: int, args: dict[str, Any]) -> Block:
        """One small read."""
        return lambda: self.client.get_items(args["collection"], {"query": {"limit": 1}})

    def op_read_one(self, calls: int, args: dict[str, Any]) -> Block:
        """``get_item(collection, id)`` per call."""
        name, ids = args["collection"], args["ids"]
        return lambda: sum(self.client.get_item(name, ids[i % len(ids)])["id"]
                           for i in range(calls))

    def op_list_100(self, calls: int, args: dict[str, Any]) -> Block:
        """``get_items(collection, {"query": {...}})`` per call (a SEARCH request)."""
        name = args["collection"]

        def block() -> dict[str, int]:
            total = signature = 0
            for _ in range(calls):
                rows = self.client.get_items(name, {"query": _list_query(spec.LIST_LIMIT)})
                total += len(rows)
                signature = sum(row["id"] for row in rows)
            return {"n": total, "sig": signature}
        return block

    def op_count(self, calls: int, args: dict[str, Any]) -> Block:
        """``get_items`` with an aggregate query (the peer has no count helper)."""
        name = args["collection"]
        query = {"query": {"filter": spec.count_filter(), "aggregate": {"count": "*"}}}
        return lambda: sum(int(self.client.get_items(name, query)[0]["count"])
                           for _ in range(calls))

    def op_fetch_set(self, calls: int, args: dict[str, Any]) -> Block:
        """``get_items`` with limit -1, then len()."""
        name, query = args["collection"], {"query": {"filter": spec.count_filter(), "limit": -1}}
        return lambda: sum(len(self.client.get_items(name, query)) for _ in range(calls))

    def op_create_many(self, calls: int, args: dict[str, Any]) -> Block:
        """``bulk_insert(collection, items, interval=BATCH_SIZE)`` (returns nothing)."""
        name, items = args["collection"], spec.bulk_items(args["count"], args["tag"])
        return lambda: self.client.bulk_insert(name, items, interval=spec.BATCH_SIZE)

    def op_create_single(self, calls: int, args: dict[str, Any]) -> Block:
        """``create_item`` once per item."""
        name, items = args["collection"], spec.bulk_items(args["count"], args["tag"])
        return lambda: sum(1 for item in items
                           if self.client.create_item(name, item)["data"]["id"])


    def op_upload(self, calls: int, args: dict[str, Any]) -> Block:
        """``upload_file(path)``; with its default ``data`` it also PATCHes the type."""
        return lambda: self.client.upload_file(args["path"])["id"]

    def op_download(self, calls: int, args: dict[str, Any]) -> Block:
        """``download_file(id, path)`` (reads the whole body into memory, then writes)."""
        def block() -> int:
            self.client.download_file(args["file_id"], args["dest"])
            return os.path.getsize(args["dest"])
        return block


class PyDirectusVariant:
    """py-directus: async over one httpx.AsyncClient; each block runs in one event loop."""

    unsupported: ClassVar[dict[str, str]] = {"iterate": NO_ITERATOR}

    def __init__(self) -> None:
        from py_directus import Directus, F

        self.factory, self.F = Directus, F
        self.loop = asyncio.new_event_loop()
        self.directus: Any = None

    def _run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coroutine)

    def setup(self, url: str, token: str, page_size: int) -> None:
        """``await Directus(url, token=..., connection=...)`` inside the worker's loop.

        The documented ``connection=`` carries a longer timeout than httpx's default 5 s,
        which one POST of 10,000 items exceeds (Directus takes about 20 s for it).
        """
        import httpx

        async def connect() -> Any:
            return await self.factory(url, token=token,
                                      connection=httpx.AsyncClient(timeout=WRITE_TIMEOUT))
        self.directus = self._run(connect())

    def close(self) -> None:
        """Close the httpx client and the loop."""
        if self.directus is not None:
            self._run(self.directus.close_connection())
        self.loop.close()

    def _block(self, body: Callable[[], Coroutine[Any, Any, Any]]) -> Block:
        return lambda: self._run(body())

    def op_warm(self, calls: int, args: dict[str, Any]) -> Block:
        """One small read."""
        async def body() -> Any:
            return (await self.directus.collection(args["collection"]).limit(1).read()).items
        return self._block(body)

    def op_read_one(self, calls: int, args: dict[str, Any]) -> Block:
        """``await collection(name).read(id)`` per call."""
        name, ids = args["collection"], args["ids"]

        async def body() -> int:
            total = 0
            for i in range(calls):
                response = await self.directus.collection(name).read(ids[i % len(ids)])
                total += response.item["id"]
            return total
        return self._block(body)

    def op_list_100(self, calls: int, args: dict[str, Any]) -> Block:
        """filter/fields/sort/limit, then ``read()`` (a SEARCH request) per call."""
        name, F = args["collection"], self.F

        async def body() -> dict[str, int]:
            total = signature = 0
            for _ in range(calls):
                request = (self.directus.collection(name)
                           .filter(F(status=spec.STATUS) & F(views__gte=spec.VIEWS_MIN))
                           .fields(*spec.LIST_FIELDS).sort("views", asc=False).sort("id")
                           .limit(spec.LIST_LIMIT))
                rows = (await request.read()).items or []
                total += len(rows)
                signature = sum(row["id"] for row in rows)
            return {"n": total, "sig": signature}
        return self._block(body)

    def op_count(self, calls: int, args: dict[str, Any]) -> Block:
        """``filter(...).aggregate(count="*").read()``."""
        name = args["collection"]

        async def body() -> int:
            total = 0
            for _ in range(calls):
                response = await (self.directus.collection(name).filter(status=spec.STATUS)
                                  .aggregate(count="*").read())
                total += int(response.items[0]["count"])
            return total
        return self._block(body)

    def op_fetch_set(self, calls: int, args: dict[str, Any]) -> Block:
        """``filter(...).limit(-1).read()``, then len()."""
        name = args["collection"]

        async def body() -> int:
            total = 0
            for _ in range(calls):
                response = await (self.directus.collection(name).filter(status=spec.STATUS)
                                  .limit(-1).read())
                total += len(response.items or [])
            return total
        return self._block(body)

    def op_create_many(self, calls: int, args: dict[str, Any]) -> Block:
        """``create(list)``: the peer sends the whole list in one POST (it has no batching)."""
        name, items = args["collection"], spec.bulk_items(args["count"], args["tag"])

        async def body() -> int:
            return len((await self.directus.collection(name).create(items)).items or [])
        return self._block(body)

    def op_create_single(self, calls: int, args: dict[str, Any]) -> Block:
        """``create(dict)`` once per item."""
        name, items = args["collection"], spec.bulk_items(args["count"], args["tag"])

        async def body() -> int:
            created = 0
            for item in items:
                created += bool((await self.directus.collection(name).create(item)).item["id"])
            return created
        return self._block(body)


    def op_upload(self, calls: int, args: dict[str, Any]) -> Block:
        """``await upload_file(path)`` (httpx multipart)."""
        async def body() -> str:
            return str((await self.directus.upload_file(args["path"])).item["id"])
        return self._block(body)

    def op_download(self, calls: int, args: dict[str, Any]) -> Block:
        """``await download_file(id)``; it saves into the user's downloads folder."""
        async def body() -> int:
            response = await self.directus.download_file(args["file_id"])
            if response.status_code != 200:
                raise RuntimeError(f"download_file got HTTP {response.status_code}: it sends "
                                   "no access token with this request")
            return len(response.content)
        return self._block(body)


def make(name: str) -> DirectusSdkPyVariant | PyDirectusVariant:
    """Return the variant called `name`."""
    if name == "directus_sdk_py":
        return DirectusSdkPyVariant()
    return PyDirectusVariant()
