"""What every variant asks of Directus: shared by the parent and all worker processes.

Standard library only: the peers' worker processes (a separate virtualenv) import it too.
"""

from __future__ import annotations

from typing import Any

# The read collection: READ_ITEMS items; half are published; views spread over 0..999.
READ_ITEMS = 20_000
STATUS = "published"
VIEWS_MIN = 500
LIST_LIMIT = 100
LIST_FIELDS = ("id", "title", "views")
LIST_SORT = ("-views", "id")
PAGE_SIZE = 1000
BATCH_SIZE = 1000


def views_of(index: int) -> int:
    """Return the views of the index-th seeded item (a fixed pseudo-random spread)."""
    return (index * 7919) % 1000


def read_item(index: int) -> dict[str, Any]:
    """Return the index-th item of the read collection."""
    return {
        "title": f"Item {index}",
        "views": views_of(index),
        "status": STATUS if index % 2 == 0 else "draft",
        "score": round(index / 7, 3),
    }


def bulk_items(count: int, tag: str) -> list[dict[str, Any]]:
    """Return `count` new items for the write workloads, marked with `tag`."""
    return [
        {"title": f"{tag} {i}", "views": views_of(i), "status": "draft", "score": i % 97}
        for i in range(count)
    ]


def list_filter() -> dict[str, Any]:
    """Return the list workload's filter as a raw Directus filter."""
    return {"status": {"_eq": STATUS}, "views": {"_gte": VIEWS_MIN}}


def count_filter() -> dict[str, Any]:
    """Return the count workload's filter as a raw Directus filter."""
    return {"status": {"_eq": STATUS}}


FIELDS = {"title": "string", "views": "integer", "status": "string", "score": "float"}
