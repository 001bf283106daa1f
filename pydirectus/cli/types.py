"""`pydirectus types`: TypedDicts for a project's collections, generated from its live schema."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..atomic import write_atomically
from .common import add_command, connect, fail, path_argument

if TYPE_CHECKING:
    from ..client import DirectusClient

EXAMPLES = """
pydirectus types -o models.py
pydirectus types --collection articles --collection authors -o models.py
pydirectus types --from schema.json -o models.py     # from a saved `schema snapshot`
then, in Python:
  from models import Article
  articles = client.collection("articles", Article)   # Collection[Article]
"""


def add_parser(subparsers: Any) -> None:
    """Add the `types` command."""
    parser = add_command(subparsers, "types", "generate TypedDicts from the live schema",
                         EXAMPLES,
                         description="Generate a Python module with one TypedDict per "
                                     "collection, read from the server's schema (needs a "
                                     "token that may read collections, fields and relations).")
    parser.add_argument("-c", "--collection", action="append", default=[], metavar="NAME",
                        help="only these collections (comma-separated or repeated; default: "
                             "all but directus_*)")
    parser.add_argument("-o", "--output", type=path_argument, metavar="FILE", default="-",
                        help="where to write the module (default: stdout)")
    parser.add_argument("--from", dest="source", type=path_argument, metavar="SNAPSHOT",
                        help="read a saved schema snapshot instead of a server")
    parser.set_defaults(run=run)


def read_schema(client: DirectusClient) -> dict[str, Any]:
    """Return collections, fields and relations from GET /collections, /fields, /relations."""
    from ..errors import PermissionDenied

    readers: dict[str, Callable[[], Sequence[Any]]] = {
        "collections": lambda: client.collections.all(system=True),
        "fields": client.fields.all, "relations": client.relations.all}
    schema: dict[str, Any] = {}
    for route, read in readers.items():
        try:
            schema[route] = read()
        except PermissionDenied as denied:
            fail(f"this token may not read the schema (GET /{route}: {denied}); `types` needs "
                 "an admin token or a policy with app access, or --from a saved snapshot")
    return schema


def server_version(client: DirectusClient) -> str | None:
    """Return Directus's version from /server/info (only admins are told it)."""
    from ..errors import APIError

    try:
        version = client.server.info().get("version")
    except APIError:
        return None
    return version if isinstance(version, str) else None


def run(args: argparse.Namespace) -> int:
    """Read the schema, generate the module, write it."""
    from ..typegen import SchemaError, generate_models

    wanted = [n.strip() for v in args.collection for n in v.split(",") if n.strip()] or None
    if args.source:
        with open(args.source, encoding="utf-8") as handle:
            try:
                schema = json.load(handle)
            except ValueError as exc:
                fail(f"{args.source}: not JSON ({exc})")
        version = (schema.get("data", schema) if isinstance(schema, dict) else {}).get(
            "directus")
    else:
        with connect(args) as client:
            schema = read_schema(client)
            version = server_version(client)
    try:
        source = generate_models(schema, collections=wanted, version=version)
    except SchemaError as exc:
        fail(str(exc))
    if args.output == "-":
        sys.stdout.write(source)
    else:
        write_atomically(args.output, lambda out: out.write(source), encoding="utf-8")
        count = source.count("(TypedDict, total=False)") + source.count("= TypedDict(")
        print(f"wrote {count} {'model' if count == 1 else 'models'} to {args.output}",
              file=sys.stderr)
    return 0
