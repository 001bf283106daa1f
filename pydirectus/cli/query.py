"""`pydirectus query`: run a query and print every matching item, streamed page by page."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import add_command, connect
from .output import FORMATS
from .querying import add_query_options

EXAMPLES = """
pydirectus query articles --filter views__gt=10 --exclude status=draft --sort -views
pydirectus query articles --fields title,author.name --limit 20 --format csv
pydirectus query articles --filter 'status__in=published,review' --format jsonl | jq .title
pydirectus query articles --filter '{"tags": {"_contains": "python"}}' --format json
"""


def add_parser(subparsers: Any) -> None:
    """Add the `query` command."""
    parser = add_command(subparsers, "query", "print the items of a collection that match",
                         EXAMPLES)
    add_query_options(parser)
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="table (fitted to the terminal; the default), json, jsonl or csv")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the items as they arrive."""
    from .output import write_rows
    from .querying import bound_query

    with connect(args) as client:
        query = bound_query(client, args)
        count = write_rows(query, sys.stdout, args.format,
                           columns=[f for v in args.fields for f in v.split(",") if f])
    sys.stdout.flush()
    if args.format == "table":
        print(f"({count} {'item' if count == 1 else 'items'})", file=sys.stderr)
    return 0
