"""The query options shared by `query` and `export`: lookups on the command line."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from .common import bad_argument

if TYPE_CHECKING:
    from ..client import DirectusClient
    from ..collection import ItemQuery

__all__ = ["add_query_options", "bound_query", "parse_condition", "parse_value"]

# Lookups whose value is a list: `status__in=draft,review` or JSON `status__in=["a","b"]`.
LIST_LOOKUPS = frozenset({"in", "nin", "between", "nbetween", "range"})


def add_query_options(parser: argparse.ArgumentParser) -> None:
    """Add COLLECTION and the query options (filter, exclude, fields, sort, limit, ...)."""
    parser.add_argument("collection", help="the collection to read")
    group = parser.add_argument_group("query")
    group.add_argument("-f", "--filter", action="append", default=[], metavar="LOOKUP",
                       help="keep items matching FIELD__OP=VALUE (as in filter()); repeat to "
                            "AND; a JSON object is a raw Directus filter")
    group.add_argument("-x", "--exclude", action="append", default=[], metavar="LOOKUP",
                       help="drop items matching FIELD__OP=VALUE (as in exclude(): nulls "
                            "count as not matching)")
    group.add_argument("--fields", action="append", default=[], metavar="A,B",
                       help="the fields to return (comma-separated or repeated; "
                            "author.name expands a relation)")
    group.add_argument("--sort", action="append", default=[], metavar="KEY",
                       help="sort keys, '-' for descending (comma-separated or repeated)")
    group.add_argument("--limit", type=int, metavar="N", help="return at most N items")
    group.add_argument("--offset", type=int, metavar="N", help="skip the first N items")
    group.add_argument("--search", metavar="TEXT", help="Directus's full-text search")
    group.add_argument("--page-size", type=int, metavar="N",
                       help="items per request while streaming (default: the client's)")


def parse_value(text: str, lookup: str | None = None) -> Any:
    """Return a lookup value: JSON where it parses (10, true, null, [1,2], "x"), else text."""
    if lookup in LIST_LOOKUPS and not text.lstrip().startswith("["):
        return [parse_value(part) for part in text.split(",")] if text else []
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_condition(text: str, option: str = "--filter") -> dict[str, Any]:
    """Return {lookup: value} (or a raw filter dict) from FIELD__OP=VALUE or a JSON object."""
    if text.lstrip().startswith("{"):
        try:
            raw = json.loads(text)
        except ValueError as exc:
            bad_argument(f"{option} {text!r}: not a JSON object ({exc})")
        if not isinstance(raw, dict):
            bad_argument(f"{option} {text!r}: expected a JSON object")
        return raw
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        bad_argument(f"{option} {text!r}: expected FIELD__OP=VALUE, e.g. views__gt=10 or "
             "title__icontains=directus")
    return {key: parse_value(value, key.rpartition("__")[2] if "__" in key else None)}


def _names(values: list[str]) -> list[str]:
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def bound_query(client: DirectusClient, args: argparse.Namespace) -> ItemQuery[dict[str, Any]]:
    """Return the collection's query built from the options, with the library's own checks."""
    from ..checks import check_positive_int
    from ..query import Query

    if args.page_size is not None:
        client.page_size = check_positive_int(args.page_size, "--page-size")
    query = client.collection(args.collection).query(Query())
    for text in args.filter:
        condition = parse_condition(text, "--filter")
        query = query.filter(condition) if text.lstrip().startswith("{") else \
            query.filter(**condition)
    for text in args.exclude:
        condition = parse_condition(text, "--exclude")
        query = query.exclude(condition) if text.lstrip().startswith("{") else \
            query.exclude(**condition)
    fields, sort = _names(args.fields), _names(args.sort)
    if fields:
        query = query.fields(*fields)
    if sort:
        query = query.sort(*sort)
    if args.search is not None:
        query = query.search(args.search)
    if args.offset is not None:
        query = query.offset(args.offset)
    if args.limit is not None:
        query = query.limit(args.limit)
    return query
