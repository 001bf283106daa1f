"""`pydirectus schema`: snapshot, diff and apply, to copy a schema between Directus instances."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import Any

from ..atomic import write_atomically
from .common import add_command, connect, fail, path_argument

EXAMPLES = """
pydirectus schema snapshot -o schema.json                      # on the source
pydirectus --url https://staging.example.com schema diff schema.json -o diff.json
pydirectus --url https://staging.example.com schema apply diff.json
pydirectus --url https://staging.example.com schema apply schema.json   # diff and apply
"""


def add_parser(subparsers: Any) -> None:
    """Add the `schema` command and its snapshot/diff/apply subcommands."""
    parser = add_command(subparsers, "schema", "snapshot, diff and apply a schema (admin)",
                         EXAMPLES,
                         description="Copy a schema from one Directus to another: take a "
                                     "snapshot on the source, diff it against the target, "
                                     "apply the diff there. Needs an admin token.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    snapshot = add_command(actions, "snapshot", "write this server's schema as JSON",
                           "pydirectus schema snapshot -o schema.json")
    snapshot.add_argument("-o", "--output", default="-", type=path_argument, metavar="FILE",
                          help="where to write it (default: stdout)")
    snapshot.set_defaults(run=run_snapshot)
    diff = add_command(actions, "diff", "show what would make this server match a snapshot",
                       "pydirectus schema diff schema.json -o diff.json")
    diff.add_argument("snapshot", type=path_argument, metavar="SNAPSHOT",
                      help="a file from `schema snapshot`")
    diff.add_argument("-o", "--output", default="-", type=path_argument, metavar="FILE",
                      help="where to write the diff (default: stdout)")
    diff.add_argument("--force", action="store_true",
                      help="diff even across Directus versions (a snapshot from another "
                           "database is ported to this one's terms without it)")
    diff.set_defaults(run=run_diff)
    apply = add_command(actions, "apply", "apply a diff (or a snapshot) to this server",
                        "pydirectus schema apply diff.json\n"
                        "pydirectus schema apply schema.json --force")
    apply.add_argument("file", type=path_argument, metavar="FILE",
                       help="a diff from `schema diff`, or a snapshot (diffed first)")
    apply.add_argument("--force", action="store_true",
                       help="with a snapshot: diff even across Directus versions")
    apply.set_defaults(run=run_apply)


def _load(path: str, what: str) -> dict[str, Any]:
    try:
        with (open(path, encoding="utf-8") if path != "-" else sys.stdin) as handle:
            value = json.load(handle)
    except ValueError as exc:
        fail(f"{path}: not JSON ({exc})")
    if isinstance(value, dict) and isinstance(value.get("data"), dict):
        value = value["data"]  # a raw API answer, envelope and all
    if not isinstance(value, dict):
        fail(f"{path}: expected a JSON object ({what})")
    return value


def _write(path: str, value: Any) -> None:
    text = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    if path == "-":
        sys.stdout.write(text)
    else:
        write_atomically(path, lambda out: out.write(text), encoding="utf-8")


def summarize(diff: Mapping[str, Any]) -> str:
    """Return e.g. '2 collections, 5 fields, 1 relation' for a diff's changes."""
    changes = diff.get("diff") or {}
    parts = []
    for key, one in (("collections", "collection"), ("fields", "field"),
                     ("relations", "relation")):
        count = len(changes.get(key) or [])
        parts.append(f"{count} {one if count == 1 else key}")
    return ", ".join(parts)


def run_snapshot(args: argparse.Namespace) -> int:
    """Write GET /schema/snapshot to a file or stdout."""
    with connect(args) as client:
        snapshot = client.schema.snapshot()
    _write(args.output, snapshot)
    if args.output != "-":
        count = len(snapshot.get("collections") or [])
        print(f"wrote the schema of {count} {'collection' if count == 1 else 'collections'} "
              f"to {args.output}", file=sys.stderr)
    return 0


def run_diff(args: argparse.Namespace) -> int:
    """Write the diff from this server's schema to the snapshot's, if they differ."""
    snapshot = _load(args.snapshot, "a snapshot")
    with connect(args) as client:
        diff = client.schema.diff(snapshot, force=args.force)
    if diff is None:
        print("the schemas match: nothing to apply", file=sys.stderr)
        return 0
    _write(args.output, diff)
    print(f"differences: {summarize(diff)}", file=sys.stderr)
    return 0


def run_apply(args: argparse.Namespace) -> int:
    """Apply a diff, or diff a snapshot against this server and apply that."""
    loaded = _load(args.file, "a diff or a snapshot")
    with connect(args) as client:
        if "hash" in loaded and "diff" in loaded:
            diff: dict[str, Any] | None = loaded
        elif "collections" in loaded:
            diff = client.schema.diff(loaded, force=args.force)
        else:
            fail(f"{args.file}: neither a diff ({{hash, diff}}) nor a snapshot")
        if diff is None:
            print("the schemas match: nothing to apply", file=sys.stderr)
            return 0
        client.schema.apply(diff)
    print(f"applied: {summarize(diff)}", file=sys.stderr)
    return 0
