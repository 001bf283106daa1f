"""Worker-side variants in the main virtualenv: pydirectus and the best raw requests code.

Each ``op_<workload>(calls, args)`` prepares outside the clock and returns the closure the
worker times; the closure returns a check value the parent verifies against its oracle.
Both variants import pydirectus, so one-shot workers start from the same resident memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import requests

from benchmarks import spec
from pydirectus import DirectusClient, StaticToken

Block = Callable[[], Any]
TIMEOUT = 60.0
CHUNK = 1 << 20


class PydirectusVariant:
    """pydirectus as documented: collection handles, chained queries, create_many."""

    unsupported: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        self.client: DirectusClient | None = None

    def setup(self, url: str, token: str, page_size: int) -> None:
        """Make the client (one requests.Session inside)."""
        self.client = DirectusClient(url, auth=StaticToken(token), page_size=page_size)

    def _client(self) -> DirectusClient:
        assert self.client is not None, "setup first"
        return self.client

    def close(self) -> None:
        """Close the client's session."""
        if self.client is not None:
            self.client.close()

    def op_warm(self, calls: int, args: dict[str, Any]) -> Block:
        """Open the connection and load the collection's schema (primary key)."""
        articles = self._client().collection(args["collection"])
        return lambda: articles.exists()

    def op_read_one(self, calls: int, args: dict[str, Any]) -> Block:
        """Read items by id with ``handle.get(pk)``; check: the sum of the ids read."""
        articles = self._client().collection(args["collection"])
        ids = args["ids"]

        def block() -> int:
            return sum(articles.get(ids[i % len(ids)])["id"] for i in range(calls))
        return block

    def op_list_100(self, calls: int, args: dict[str, Any]) -> Block:
        """Build the list query and fetch one page per call (query built inside the clock)."""
        articles = self._client().collection(args["collection"])

        def block() -> dict[str, int]:
            total = signature = 0
            for _ in range(calls):
                rows = (articles.filter(status=spec.STATUS, views__gte=spec.VIEWS_MIN)
                        .fields(*spec.LIST_FIELDS).sort(*spec.LIST_SORT)
                        .limit(spec.LIST_LIMIT).fetch())
                total += len(rows)
                signature = sum(row["id"] for row in rows)
            return {"n": total, "sig": signature}
        return block

    def op_list_prebuilt(self, calls: int, args: dict[str, Any]) -> Block:
        """Fetch the list query built once, outside the clock."""
        query = (self._client().collection(args["collection"])
                 .filter(status=spec.STATUS, views__gte=spec.VIEWS_MIN)
                 .fields(*spec.LIST_FIELDS).sort(*spec.LIST_SORT).limit(spec.LIST_LIMIT))

        def block() -> dict[str, int]:
            total = signature = 0
            for _ in range(calls):
                rows = query.fetch()
                total += len(rows)
                signature = sum(row["id"] for row in rows)
            return {"n": total, "sig": signature}
        return block

    def op_count(self, calls: int, args: dict[str, Any]) -> Block:
        """``handle.filter(...).count()``; check: the sum of the counts."""
        articles = self._client().collection(args["collection"])
        return lambda: sum(articles.filter(status=spec.STATUS).count() for _ in range(calls))

    def op_fetch_set(self, calls: int, args: dict[str, Any]) -> Block:
        """Fetch the whole filtered set in one request (limit -1) and count it."""
        articles = self._client().collection(args["collection"])
        return lambda: sum(len(articles.filter(status=spec.STATUS).limit(-1).fetch())
                           for _ in range(calls))

    def op_iterate(self, calls: int, args: dict[str, Any]) -> Block:
        """Iterate the whole collection (transparent paging); check: count and id sum."""
        articles = self._client().collection(args["collection"])

        def block() -> dict[str, int]:
            count = id_sum = 0
            for item in articles:
                count += 1
                id_sum += item["id"]
            return {"n": count, "sum": id_sum}
        return block

    def op_create_many(self, calls: int, args: dict[str, Any]) -> Block:
        """``create_many`` of the bulk items; check: how many came back."""
        articles = self._client().collection(args["collection"])
        items = spec.bulk_items(args["count"], args["tag"])
        return lambda: len(articles.create_many(items, batch_size=spec.BATCH_SIZE))

    def op_create_single(self, calls: int, args: dict[str, Any]) -> Block:
        """The seed-style loop: ``client.create_item`` once per item."""
        client = self._client()
        items = spec.bulk_items(args["count"], args["tag"])
        name = args["collection"]
        return lambda: sum(1 for item in items if client.create_item(name, data=item)["id"])


    def op_upload(self, calls: int, args: dict[str, Any]) -> Block:
        """``client.files.upload(path)`` (a streamed multipart body); check: the new id."""
        files, path = self._client().files, args["path"]
        return lambda: files.upload(path)["id"]

    def op_download(self, calls: int, args: dict[str, Any]) -> Block:
        """``client.files.download(id, path)`` (streamed in chunks); check: bytes written."""
        files = self._client().files
        return lambda: files.download(args["file_id"], args["dest"])


class PydirectusSeedVariant(PydirectusVariant):
    """pydirectus through the seed's methods: ``read_item`` and ``read_items`` with a dict."""

    def op_read_one(self, calls: int, args: dict[str, Any]) -> Block:
        """``client.read_item(collection, id)`` per call."""
        client, name, ids = self._client(), args["collection"], args["ids"]
        return lambda: sum(client.read_item(name, ids[i % len(ids)])["id"]
                           for i in range(calls))

    def op_list_100(self, calls: int, args: dict[str, Any]) -> Block:
        """``client.read_items(collection, query={...})`` per call."""
        client, name = self._client(), args["collection"]

        def block() -> dict[str, int]:
            total = signature = 0
            for _ in range(calls):
                rows = client.read_items(name, query={
                    "filter": spec.list_filter(), "fields": list(spec.LIST_FIELDS),
                    "sort": list(spec.LIST_SORT), "limit": spec.LIST_LIMIT})
                total += len(rows)
                signature = sum(row["id"] for row in rows)
            return {"n": total, "sig": signature}
        return block


class RawVariant:
    """The best plain requests code: one Session, the same requests pydirectus sends."""

    unsupported: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        self.session = requests.Session()
        self.url = ""
        self.page_size = spec.PAGE_SIZE

    def setup(self, url: str, token: str, page_size: int) -> None:
        """Remember the base URL; put the token on the session."""
        self.url = url.rstrip("/")
        self.page_size = page_size
        self.session.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        """Close the session."""
        self.session.close()

    def _data(self, response: requests.Response) -> Any:
        response.raise_for_status()
        return response.json()["data"]

    def op_warm(self, calls: int, args: dict[str, Any]) -> Block:
        """Open the connection."""
        url = f"{self.url}/items/{args['collection']}"
        return lambda: self._data(self.session.get(url, params={"limit": "1"}, timeout=TIMEOUT))

    def op_read_one(self, calls: int, args: dict[str, Any]) -> Block:
        """GET /items/{c}/{id} per call."""
        prefix, ids, get = f"{self.url}/items/{args['collection']}/", args["ids"], self.session.get
        return lambda: sum(self._data(get(prefix + str(ids[i % len(ids)]), timeout=TIMEOUT))["id"]
                           for i in range(calls))

    def _list(self, calls: int, url: str, params: Callable[[], dict[str, str]]) -> dict[str, int]:
        total = signature = 0
        for _ in range(calls):
            rows = self._data(self.session.get(url, params=params(), timeout=TIMEOUT))
            total += len(rows)
            signature = sum(row["id"] for row in rows)
        return {"n": total, "sig": signature}

    @staticmethod
    def _list_params() -> dict[str, str]:
        return {"filter": json.dumps(spec.list_filter()), "fields": ",".join(spec.LIST_FIELDS),
                "sort": ",".join(spec.LIST_SORT), "limit": str(spec.LIST_LIMIT)}

    def op_list_100(self, calls: int, args: dict[str, Any]) -> Block:
        """GET /items/{c} with the list parameters, built (json.dumps) per call."""
        url = f"{self.url}/items/{args['collection']}"
        return lambda: self._list(calls, url, self._list_params)

    def op_list_prebuilt(self, calls: int, args: dict[str, Any]) -> Block:
        """GET /items/{c} with the list parameters built once."""
        url, params = f"{self.url}/items/{args['collection']}", self._list_params()
        return lambda: self._list(calls, url, lambda: params)

    def op_count(self, calls: int, args: dict[str, Any]) -> Block:
        """GET /items/{c}?filter=...&aggregate[count]=*."""
        url = f"{self.url}/items/{args['collection']}"

        def block() -> int:
            total = 0
            for _ in range(calls):
                params = {"filter": json.dumps(spec.count_filter()), "aggregate[count]": "*"}
                total += int(self._data(self.session.get(url, params=params,
                                                         timeout=TIMEOUT))[0]["count"])
            return total
        return block

    def op_fetch_set(self, calls: int, args: dict[str, Any]) -> Block:
        """GET /items/{c}?filter=...&limit=-1 and len()."""
        url = f"{self.url}/items/{args['collection']}"

        def block() -> int:
            params = {"filter": json.dumps(spec.count_filter()), "limit": "-1"}
            return sum(len(self._data(self.session.get(url, params=params, timeout=TIMEOUT)))
                       for _ in range(calls))
        return block

    def op_iterate(self, calls: int, args: dict[str, Any]) -> Block:
        """The best paging loop: limit/offset, sorted by id, same page size, one Session."""
        url, size, get = f"{self.url}/items/{args['collection']}", self.page_size, self.session.get

        def page(offset: int) -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = self._data(get(
                url, params={"limit": str(size), "offset": str(offset), "sort": "id"},
                timeout=TIMEOUT))
            return rows

        def block() -> dict[str, int]:
            count = id_sum = offset = 0
            while True:
                rows = page(offset)
                for item in rows:
                    count += 1
                    id_sum += item["id"]
                if len(rows) < size:
                    return {"n": count, "sum": id_sum}
                offset += size
        return block

    def op_create_many(self, calls: int, args: dict[str, Any]) -> Block:
        """POST /items/{c} with the items in batches of BATCH_SIZE."""
        url = f"{self.url}/items/{args['collection']}"
        items, size = spec.bulk_items(args["count"], args["tag"]), spec.BATCH_SIZE

        def block() -> int:
            created: list[dict[str, Any]] = []
            for start in range(0, len(items), size):
                created.extend(self._data(self.session.post(url, json=items[start:start + size],
                                                            timeout=TIMEOUT)))
            return len(created)
        return block

    def op_create_single(self, calls: int, args: dict[str, Any]) -> Block:
        """POST /items/{c} once per item."""
        url, items = f"{self.url}/items/{args['collection']}", spec.bulk_items(args["count"],
                                                                               args["tag"])
        return lambda: sum(1 for item in items
                           if self._data(self.session.post(url, json=item, timeout=TIMEOUT))["id"])


    def op_upload(self, calls: int, args: dict[str, Any]) -> Block:
        """POST /files with requests' ``files=`` (which builds the body in memory)."""
        url, path = f"{self.url}/files", Path(args["path"])

        def block() -> str:
            with path.open("rb") as source:
                response = self.session.post(url, timeout=TIMEOUT, files={
                    "file": (path.name, source, "application/octet-stream")})
            return str(self._data(response)["id"])
        return block

    def op_download(self, calls: int, args: dict[str, Any]) -> Block:
        """GET /assets/{id} with stream=True, written to disk in 1 MiB chunks."""
        url, dest = f"{self.url}/assets/{args['file_id']}", Path(args["dest"])

        def block() -> int:
            written = 0
            with self.session.get(url, stream=True, timeout=TIMEOUT) as response, \
                    dest.open("wb") as out:
                response.raise_for_status()
                for chunk in response.iter_content(CHUNK):
                    written += out.write(chunk)
            return written
        return block


def make(name: str) -> PydirectusVariant | RawVariant:
    """Return the variant called `name`."""
    variants: dict[str, Callable[[], PydirectusVariant | RawVariant]] = {
        "pydirectus": PydirectusVariant, "pydirectus_seed": PydirectusSeedVariant,
        "raw": RawVariant}
    return variants[name]()
