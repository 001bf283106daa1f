"""What every command shares: connection options, the client they build, one-line errors."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from ..errors import CommandError

if TYPE_CHECKING:
    from ..client import DirectusClient

__all__ = [
    "EXIT_ERROR",
    "EXIT_USAGE",
    "CommandError",
    "Parser",
    "add_command",
    "add_global_options",
    "bad_argument",
    "connect",
    "describe",
    "exit_status",
    "fail",
    "path_argument",
    "report_error",
]

# Exit statuses (README "Command line"): 0 done, EXIT_ERROR when something failed or a row
# was refused, EXIT_USAGE when the command line itself is wrong (argparse's own status),
# 130 when interrupted.
EXIT_ERROR = 1
EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (the usage stays in --help)."""

    def error(self, message: str) -> NoReturn:
        """Print a one-line error naming --help and exit with status 2."""
        self.exit(EXIT_USAGE, _writable(
            f"{self.prog}: error: {message} (see {self.prog} --help)\n"))


def path_argument(text: str) -> str:
    """Check a file path argument (``-`` stands for stdin or stdout): argparse turns the
    refusal (empty, a NUL, too long, not encodable) into a usage error, exit status 2."""
    from ..checks import check_path
    from ..errors import UsageError

    if text != "-":
        try:
            check_path(text, "path")
        except UsageError as refused:
            raise argparse.ArgumentTypeError(str(refused).removeprefix("path: ")) from None
    return text


def fail(message: str) -> NoReturn:
    """Stop the command with a one-line message."""
    raise CommandError(message)


def bad_argument(message: str) -> NoReturn:
    """Stop the command with a one-line message: the command line is wrong (exit status 2)."""
    raise CommandError(message, status=EXIT_USAGE)


def exit_status(exc: BaseException) -> int:
    """Return the exit status for an error that stopped a command."""
    from ..errors import SchemaRequired, UsageError

    if isinstance(exc, CommandError):
        return exc.status
    # The library's own checks of what the command line gave (a lookup, a field name, a
    # size) refuse it before anything is written. A missing primary key is not the
    # command line's fault: the token may not read the schema.
    if isinstance(exc, UsageError) and not isinstance(exc, SchemaRequired):
        return EXIT_USAGE
    return EXIT_ERROR


def add_global_options(parser: argparse.ArgumentParser, *, suppress: bool = True) -> None:
    """Add --url/--token/--email/--debug (on the top level and again on each command)."""
    # On the commands the defaults are suppressed, so `pydirectus --url X query ...` and
    # `pydirectus query ... --url X` both work without one overwriting the other.
    default: Any = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("connection")
    group.add_argument("--url", default=default,
                       help="the Directus base URL (default: $DIRECTUS_URL)")
    group.add_argument("--token", default=default,
                       help="a static token (default: $DIRECTUS_TOKEN, which keeps it out of "
                            "the process list)")
    group.add_argument("--email", default=default,
                       help="log in as this user (default: $DIRECTUS_EMAIL); the password "
                            "comes from $DIRECTUS_PASSWORD or is asked for")
    group.add_argument("--debug", action="store_true",
                       default=argparse.SUPPRESS if suppress else False,
                       help="show tracebacks and log every request to stderr")


def add_command(subparsers: Any, name: str, help: str, examples: str,
                description: str | None = None) -> argparse.ArgumentParser:
    """Add a command's parser with its examples in --help and the shared options."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=help, description=description or help,
        epilog="examples:\n" + "\n".join(f"  {line}" for line in examples.strip().splitlines()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_global_options(parser)
    return parser


def connect(args: argparse.Namespace) -> DirectusClient:
    """Return a client from --url/--token/--email or the DIRECTUS_* environment."""
    from ..auth import Password, StaticToken
    from ..client import DirectusClient

    if getattr(args, "debug", False):
        import logging

        logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                            format="%(name)s: %(message)s")
        logging.getLogger("pydirectus").setLevel(logging.DEBUG)
    url = args.url or os.environ.get("DIRECTUS_URL")
    if not url:
        bad_argument("no server: pass --url or set DIRECTUS_URL")
    token = args.token
    email = args.email
    if token and email:
        bad_argument("pass either --token or --email, not both")
    if not token and not email:
        token = os.environ.get("DIRECTUS_TOKEN")
        email = None if token else os.environ.get("DIRECTUS_EMAIL")
    auth: StaticToken | Password | None = None
    if token:
        auth = StaticToken(token)
    elif email:
        password = os.environ.get("DIRECTUS_PASSWORD")
        if not password:
            import getpass

            try:
                password = getpass.getpass(f"Password for {email}: ")
            except EOFError:
                # No terminal and nothing on stdin (cron, CI, a pipe): say what to set
                # rather than a bare EOFError.
                bad_argument(f"--email {email}: no password: set DIRECTUS_PASSWORD (or run "
                             f"it on a terminal to be asked)")
        auth = Password(email, password)
    return DirectusClient(url, auth=auth)


def describe(exc: BaseException) -> str:
    """Return one line saying what went wrong, for the user rather than the developer."""
    from ..errors import APIError, DirectusError

    if isinstance(exc, CommandError):
        text = str(exc)
    elif isinstance(exc, APIError):
        text = str(exc)
        if exc.reason and exc.reason not in text:
            text += f" ({exc.reason})"
    elif isinstance(exc, DirectusError):
        text = str(exc)
    elif isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split()) or type(exc).__name__


def report_error(prog: str, exc: BaseException) -> None:
    """Print the one-line error on stderr (scrubbed: an error from outside our tree may
    quote a token or a password)."""
    from ..redact import redact_text

    print(_writable(redact_text(f"{prog}: error: {describe(exc)}")), file=sys.stderr)


def _writable(text: str) -> str:
    # An argument that was not UTF-8 arrives with its bytes escaped (lone surrogates),
    # which a strict stderr cannot write: show them as backslash escapes instead.
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode()

