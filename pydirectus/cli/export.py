"""`pydirectus export`: write a collection (or a query's matches) to a JSONL, CSV, JSON or
Parquet file."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ..atomic import write_atomically
from .common import add_command, bad_argument, connect, fail, path_argument
from .querying import add_query_options

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO

    from ..client import DirectusClient
    from ..collection import ItemQuery
    from .aliases import ListFields

EXAMPLES = """
pydirectus export articles -o articles.jsonl
pydirectus export articles --filter status=published --fields id,title,views -o published.csv
pydirectus export articles --sort -date --limit 1000 -o recent.json
pydirectus export authors --with-relations -o authors.jsonl   # o2m/m2m key lists too
pydirectus export articles --format jsonl -o - | gzip > articles.jsonl.gz
pydirectus export articles -o articles.parquet   # typed columns (pydirectus[arrow])
"""

EXPORT_FORMATS = ("jsonl", "csv", "json", "parquet")


def add_parser(subparsers: Any) -> None:
    """Add the `export` command."""
    parser = add_command(subparsers, "export", "write the items of a collection to a file",
                         EXAMPLES,
                         description="Write the items of a collection (all, or a query's "
                                     "matches) to FILE, streaming page by page. The format "
                                     "follows the extension (.jsonl, .csv, .json, .parquet: "
                                     "columns typed by the field types). The file "
                                     "appears only when the export is complete: it holds "
                                     "at least as many items as were counted at the start, "
                                     "or the command fails and writes nothing. Without "
                                     "--fields it holds the collection's columns: what "
                                     "`pydirectus import` writes back.")
    add_query_options(parser)
    parser.add_argument("-o", "--output", required=True, type=path_argument, metavar="FILE",
                        help="where to write ('-' for stdout)")
    parser.add_argument("--format", choices=EXPORT_FORMATS,
                        help="jsonl, csv, json or parquet (default: from FILE's extension)")
    parser.add_argument("--with-relations", action="store_true",
                        help="also write the alias fields (o2m, m2m, m2a: lists of related "
                             "keys), which are not columns; --fields names fields itself")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or summary")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Stream the items into the file, then move it into place."""
    from .output import format_for_path, write_rows
    from .progress import Progress
    from .querying import bound_query

    to_stdout = args.output == "-"
    fmt = format_for_path(args.output, args.format or ("jsonl" if to_stdout else None),
                          EXPORT_FORMATS)
    columns = [f for v in args.fields for f in v.split(",") if f]
    if fmt == "parquet":
        if to_stdout:
            bad_argument("--format parquet writes a file: name it with -o FILE.parquet")
        from ..extras import require

        require("pyarrow")  # before connecting: a missing extra costs no request
    with connect(args) as client:
        query = bound_query(client, args)
        listed = None
        if not columns and not args.with_relations:
            columns, listed = _default_columns(client, args)
            query = query.fields(*columns) if columns else query
        rows = query if listed is None else listed.watch(query)
        # Counted under the same filter and window before the first page: the export is
        # judged complete against it (one request).
        expected = query.count()
        with Progress(f"export {args.collection}", expected,
                      enabled=not args.quiet) as progress:
            if fmt == "parquet":
                count = write_atomically(args.output, lambda out: check_complete(
                    args.collection, expected, write_parquet(query, out, progress.update),
                    args.output))
            elif to_stdout:
                count = write_rows(rows, sys.stdout, fmt, columns, progress.update)
                sys.stdout.flush()
                check_complete(args.collection, expected, count, None)
            else:
                count = write_atomically(args.output, lambda out: check_complete(
                    args.collection, expected, write_rows(rows, out, fmt, columns,
                                                          progress.update), args.output),
                    encoding="utf-8")
    if not args.quiet:
        where = "stdout" if to_stdout else args.output
        print(f"exported {count} {'item' if count == 1 else 'items'} of {args.collection} "
              f"to {where}", file=sys.stderr)
        if count > expected:
            print(f"note: {count - expected} more than the {expected} counted at the start "
                  f"(items created during the export)", file=sys.stderr)
    if listed is not None and listed.names:
        from .aliases import unknown_kinds_warning

        print(f"export {args.collection}: {unknown_kinds_warning(args.collection, listed.names)}",
              file=sys.stderr)
    return 0


def _default_columns(client: DirectusClient, args: argparse.Namespace
                     ) -> tuple[list[str], ListFields | None]:
    """Return the collection's columns (GET /fields/{collection}); when the token may not
    read them, no columns and a watch for the fields that hold lists (aliases or not)."""
    from .aliases import FieldRows, ListFields, field_kinds

    kinds = field_kinds(FieldRows(client, args.collection))
    if kinds is None:
        return [], ListFields()
    return list(kinds.columns), None


def check_complete(collection: str, expected: int, written: int, path: str | None) -> int:
    """Return written, or fail naming the shortfall if fewer than the starting count."""
    # Fewer rows than counted: an answer cut short, or items deleted during the export.
    # Either way the file is not what the count promised, so it is not moved into place.
    if written < expected:
        kept = "nothing written" if path else "stdout holds what was written"
        fail(f"export of {collection} incomplete: wrote {written} of the {expected} items "
             f"counted at the start ({expected - written} missing); {kept}")
    return written


def write_parquet(query: ItemQuery[Any], out: IO[bytes],
                  on_rows: Callable[[int], None] | None = None) -> int:
    """Write the query's matches to out as Parquet, a row group per page as it arrives
    (the column types of q.to_arrow()); return how many rows were written."""
    from ..extras import require

    parquet = require("pyarrow.parquet")
    count = 0
    writer = None
    try:
        for batch in query.iter_batches():
            if writer is None:  # the first batch always comes: it carries the schema
                writer = parquet.ParquetWriter(out, batch.schema)
            if batch.num_rows:
                writer.write_batch(batch)
                count += batch.num_rows
                if on_rows is not None:
                    on_rows(batch.num_rows)
    finally:
        if writer is not None:
            writer.close()
    return count
