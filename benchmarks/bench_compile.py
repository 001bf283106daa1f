"""Time compiling queries to GET parameters (``Query.to_params``); not a test.

Run from the repository root: ``python -m benchmarks.bench_compile``.
"""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable

from pydirectus.query import Q, Query, Relation, Schema

REPEATS = 7


def typical() -> Query:
    """Return a typical list query: three filters, fields, sort and limit."""
    return (
        Query()
        .filter(status="published", views__gt=100, date__year=2024)
        .fields("id", "title", "author.name")
        .sort("-date")
        .limit(10)
    )


def large() -> Query:
    """Return a large query: 50 conditions (and/or/not) and a nested deep."""
    conditions = Q()
    for i in range(10):
        conditions &= Q(**{f"f{i}__gt": i, f"g{i}__in": [i, i + 1]}) | ~Q(**{f"h{i}": f"x{i}"})
        conditions &= ~Q(**{f"k{i}__icontains": "ab"}) & Q(**{f"m{i}__null": False})
    inner = Query().filter(text__icontains="spam").sort("-date").limit(5)
    deep = Query().filter(~Q(score__lt=3)).limit(20).deep(replies=inner)
    return (
        Query()
        .filter(conditions)
        .fields("*", "comments.*", "comments.replies.*")
        .sort("-date", "title")
        .limit(50)
        .deep(comments=deep)
    )


SCHEMA = Schema(
    "articles",
    {
        "articles": {"author": Relation("m2o", "authors"), "comments": Relation("o2m", "comments")},
        "comments": {"replies": Relation("o2m", "replies")},
    },
)


def measure(label: str, compile_once: Callable[[], object], number: int) -> None:
    """Print median and best µs per call over several timeit repeats."""
    runs = timeit.repeat(compile_once, number=number, repeat=REPEATS)
    per_call = [run / number * 1e6 for run in runs]
    print(
        f"{label:<50} median {statistics.median(per_call):8.2f} µs"
        f"   min {min(per_call):8.2f} µs   ({REPEATS} x {number} calls)"
    )


def main() -> None:
    """Run the benchmarks and print the results."""
    q_typical, q_large = typical(), large()
    measure("typical: to_params()", q_typical.to_params, 20_000)
    measure("typical: to_params(schema)", lambda: q_typical.to_params(SCHEMA), 20_000)
    measure("typical: to_dict()", q_typical.to_dict, 20_000)
    measure("typical: build + to_params()", lambda: typical().to_params(), 2_000)
    measure("large (50 conditions, nested deep): to_params()", q_large.to_params, 1_000)
    measure("large: to_params(schema)", lambda: q_large.to_params(SCHEMA), 1_000)


if __name__ == "__main__":
    main()
