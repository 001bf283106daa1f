"""Seed the local Directus and compute the oracle every variant's result is checked against.

The oracle uses plain requests once, outside any timing; expected values also follow from
the seeded data (spec.py), so a broken variant cannot look fast.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests

from benchmarks import spec
from pydirectus.testing import CollectionFactory

TIMEOUT = 300.0
READ_ONE_IDS = 50


@dataclass
class Dataset:
    """The seeded collections and what reads of them must return."""

    url: str
    token: str
    reads: str = ""
    bulk: str = ""
    ids: list[int] = field(default_factory=list)
    list_signature: int = 0
    published: int = 0

    def args(self, collection: str | None = None) -> dict[str, Any]:
        """Return the arguments every worker op receives."""
        step = max(1, len(self.ids) // READ_ONE_IDS)
        return {
            "collection": collection or self.reads,
            "ids": self.ids[::step][:READ_ONE_IDS],
            "list_filter": spec.list_filter(),
            "list_fields": list(spec.LIST_FIELDS),
            "list_sort": list(spec.LIST_SORT),
            "list_limit": spec.LIST_LIMIT,
            "count_filter": spec.count_filter(),
        }

    def expected(self, workload: str, calls: int) -> Any:
        """Return the check value a correct variant returns for a read workload."""
        ids = self.args()["ids"]
        if workload == "read_one":
            return sum(ids[i % len(ids)] for i in range(calls))
        if workload in ("list_100", "list_prebuilt"):
            return {"n": calls * spec.LIST_LIMIT, "sig": self.list_signature}
        if workload in ("count", "fetch_set"):
            return calls * self.published
        if workload == "iterate":
            return {"n": len(self.ids), "sum": sum(self.ids)}
        if workload == "warm":
            return None
        raise KeyError(workload)


class Admin:
    """Plain-requests access for seeding and checking (never timed)."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request; return the envelope's data."""
        response = self.session.request(method, self.url + path, timeout=TIMEOUT, **kwargs)
        if not response.ok:
            raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text[:300]}")
        return response.json().get("data") if response.content else None

    def count(self, collection: str, filter_: dict[str, Any] | None = None) -> int:
        """Return how many items a collection holds (matching a filter)."""
        params = {"aggregate[count]": "*"}
        if filter_:
            params["filter"] = json.dumps(filter_)
        return int(self.call("GET", f"/items/{collection}", params=params)[0]["count"])

    def close(self) -> None:
        """Close the session."""
        self.session.close()


def seed(url: str, token: str) -> Dataset:
    """Create and fill the read collection; create the empty bulk collection."""
    factory = CollectionFactory(url, token)
    admin = Admin(url, token)
    data = Dataset(url, token)
    data.reads = factory(spec.FIELDS, prefix="bench_reads")
    # Seeding is set-up, not measured: skip activity and revisions to make it quick.
    admin.call("PATCH", f"/collections/{data.reads}", json={"meta": {"accountability": None}})
    for start in range(0, spec.READ_ITEMS, spec.BATCH_SIZE):
        batch = [spec.read_item(i) for i in range(start, start + spec.BATCH_SIZE)]
        admin.call("POST", f"/items/{data.reads}", json=batch, params={"fields": "id"})
    rows = admin.call("GET", f"/items/{data.reads}",
                      params={"fields": "id", "limit": "-1", "sort": "id"})
    data.ids = [row["id"] for row in rows]
    data.published = admin.count(data.reads, spec.count_filter())
    first_page = admin.call("GET", f"/items/{data.reads}", params={
        "filter": json.dumps(spec.list_filter()), "fields": ",".join(spec.LIST_FIELDS),
        "sort": ",".join(spec.LIST_SORT), "limit": str(spec.LIST_LIMIT)})
    data.list_signature = sum(row["id"] for row in first_page)
    expected_published = sum(1 for i in range(spec.READ_ITEMS) if i % 2 == 0)
    if len(data.ids) != spec.READ_ITEMS or data.published != expected_published:
        raise RuntimeError(f"seeding went wrong: {len(data.ids)} items, {data.published} "
                           f"published (expected {spec.READ_ITEMS}, {expected_published})")
    # The write workloads use a collection as Directus makes it: activity and revisions on.
    data.bulk = factory(spec.FIELDS, prefix="bench_bulk")
    admin.close()
    return data
