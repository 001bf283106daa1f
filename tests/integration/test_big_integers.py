"""An int past JavaScript's safe range (a snowflake id in a bigInteger field) keeps every digit.

Directus reads a JSON body's numbers as JavaScript numbers, which would store 2**60 + 1 as
2**60; the client sends such an int as the string of its digits, which Directus writes to the
column exactly and compares exactly in a filter. Each write path is checked through a filter
that tells the value from its rounded neighbour (stored too), on every database. Reads are
the database driver's: PostgreSQL's sends bigint as text (exact), SQLite's and MariaDB's a
JavaScript number (rounded), as the README's database differences say.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SNOWFLAKE = 2**60 + 1
ROUNDED = 2**60  # what a JavaScript number makes of SNOWFLAKE
#: how Directus spells that JavaScript number in JSON (its shortest digits, then zeros)
AS_JAVASCRIPT_SENDS = 1152921504606847000


def test_writes_and_filters_keep_every_digit(directus_client: Any,
                                             make_collection: Callable[..., str],
                                             directus_database: str) -> None:
    items = directus_client.collection(
        make_collection({"big": "bigInteger", "label": "string"}, prefix="snow"))
    items.create({"big": SNOWFLAKE, "label": "create"})
    made = items.create_many([
        {"big": SNOWFLAKE, "label": "create_many"}, {"big": ROUNDED, "label": "rounded"},
        {"big": -SNOWFLAKE, "label": "negative"}, {"label": "update"},
        {"label": "update_many"}, {"label": "update_batch"}])
    keys = {row["label"]: row["id"] for row in made}
    items.update(keys["update"], {"big": SNOWFLAKE})
    items.update_many([keys["update_many"]], {"big": SNOWFLAKE})
    items.update_batch([{"id": keys["update_batch"], "big": SNOWFLAKE}])

    def labels(**lookups: Any) -> list[str]:
        return sorted(items.filter(**lookups).values_list("label", flat=True))

    assert labels(big=SNOWFLAKE) == ["create", "create_many", "update", "update_batch",
                                     "update_many"]
    assert labels(big=ROUNDED) == ["rounded"]
    assert labels(big=-SNOWFLAKE) == ["negative"]
    assert labels(big__in=[-SNOWFLAKE, ROUNDED]) == ["negative", "rounded"]
    assert labels(big__gt=ROUNDED) == labels(big=SNOWFLAKE)

    read = items.filter(label="update_batch").values_list("big", flat=True).all()
    # The one rounding left is the read on SQLite and MariaDB (README: database differences).
    assert read == [SNOWFLAKE if directus_database == "postgresql" else AS_JAVASCRIPT_SENDS]


def test_a_long_int_in_other_fields(directus_client: Any,
                                    make_collection: Callable[..., str]) -> None:
    items = directus_client.collection(
        make_collection({"label": "string", "data": "json"}, prefix="snow"))
    made = items.create_many([{"label": SNOWFLAKE, "data": {"ids": [SNOWFLAKE, 1]}},
                              {"data": SNOWFLAKE}])
    labelled, bare = (items.get(row["id"]) for row in made)
    # A string field keeps the digits (a JSON number would store "1152921504606847000").
    assert labelled["label"] == "1152921504606846977"
    # Inside a json field's value the int stays a string, its digits kept: JSON in Directus
    # has no exact number that large. A whole json value Directus parses back to a number.
    assert labelled["data"] == {"ids": ["1152921504606846977", 1]}
    assert bare["data"] == AS_JAVASCRIPT_SENDS
