"""The ``pydirectus`` command line: query, export and import data, generate types, copy a schema.

Each command lives in its own module with ``add_parser(subparsers)`` and ``run(args)``;
the modules import the client (and anything heavy) only inside ``run``, so that
``pydirectus --help`` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .common import Parser, add_global_options, exit_status, report_error

__all__ = ["main"]

# Command name -> module name; the order is the order of `pydirectus --help`.
COMMANDS = {
    "query": "query",
    "export": "export",
    "import": "import_",
    "types": "types",
    "schema": "schema",
    "files": "files",
}

# Options whose values may begin with "-" (a descending sort key).
DASH_VALUE_OPTIONS = frozenset({"--sort"})

EPILOG = """\
examples:
  export DIRECTUS_URL=https://cms.example.com DIRECTUS_TOKEN=...
  pydirectus query articles --filter views__gt=10 --sort -views --limit 5
  pydirectus export articles -o articles.jsonl
  pydirectus import articles articles.jsonl --upsert-on id --report import.log
  pydirectus types -o models.py
  pydirectus schema snapshot -o schema.json
  pydirectus files upload report.pdf --folder media/2026

Connection: --url/--token or DIRECTUS_URL/DIRECTUS_TOKEN; --email (or DIRECTUS_EMAIL)
logs in with a password read from DIRECTUS_PASSWORD or asked for (never an argument).
No token and no email: the request goes out as the Public policy.
"""


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for every command (imports each command module, all light)."""
    parser = Parser(
        prog="pydirectus",
        description="Query, export and import Directus data; generate typed models; "
                    "copy a schema between instances.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_global_options(parser, suppress=False)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module_name in COMMANDS.values():
        module = importlib.import_module(f"{__name__}.{module_name}")
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 on success)."""
    parser = build_parser()
    given = list(sys.argv[1:] if argv is None else argv)
    for arg in given:
        # argparse reads "--opt=--" as an empty list, not as the text "--".
        if arg.startswith("--") and arg.endswith("=--"):
            parser.error(f"argument {arg.split('=', 1)[0]}: expected a value, got '--'")
    args = parser.parse_args(_join_dash_values(given))
    try:
        status: int = args.run(args)
        return status
    except KeyboardInterrupt:
        print(f"{parser.prog} {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (`| head`) went away: not an error worth a message.
        _silence_stdout()
        return 0
    except Exception as exc:
        if getattr(args, "debug", False):
            raise
        report_error(f"{parser.prog} {args.command}", exc)
        return exit_status(exc)


def _join_dash_values(argv: Sequence[str]) -> list[str]:
    # `--sort -views` would read "-views" as an option; pass it as `--sort=-views`.
    joined: list[str] = []
    items = iter(argv)
    for arg in items:
        if arg in DASH_VALUE_OPTIONS:
            value = next(items, None)
            if value is None or value == "--":  # argparse says the value is missing
                joined.extend([arg] if value is None else [arg, value])
            else:
                joined.append(f"{arg}={value}")
        else:
            joined.append(arg)
    return joined


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
