"""Run the `pydirectus` command line as a subprocess against the test server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydirectus import DirectusClient

CONNECTION_ENV = ("DIRECTUS_URL", "DIRECTUS_TOKEN", "DIRECTUS_EMAIL", "DIRECTUS_PASSWORD")
#: the checkout whose pydirectus is under test: a subprocess run in another directory
#: imports it, not whatever copy the environment has installed
SOURCE_ROOT = str(Path(__file__).resolve().parents[2])


def run_cli(url: str | None, token: str | None, *args: str, cwd: Path | None = None,
            columns: int = 120, env: dict[str, str] | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m pydirectus ARGS` with DIRECTUS_URL/DIRECTUS_TOKEN set (None: unset)."""
    environ = {k: v for k, v in os.environ.items() if k not in CONNECTION_ENV}
    if url is not None:
        environ["DIRECTUS_URL"] = url
    if token is not None:
        environ["DIRECTUS_TOKEN"] = token
    environ["COLUMNS"] = str(columns)
    environ["PYTHONPATH"] = os.pathsep.join(
        [SOURCE_ROOT, *filter(None, [environ.get("PYTHONPATH")])])
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "pydirectus", *args], env=environ, cwd=cwd,
                          capture_output=True, text=True, timeout=300, input=stdin,
                          check=False)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """Assert the command failed with exactly one line on stderr and no traceback."""
    assert result.returncode != 0, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("pydirectus"), lines[0]
    return lines[0]


def token_of(client: object) -> str:
    """Return the static token a test client holds (test helpers only)."""
    token: str = client.auth._token  # type: ignore[attr-defined]
    return token


FIELDS: dict[str, Any] = {
    "title": {"type": "string", "schema": {"is_nullable": False}, "meta": {}},
    "views": "integer",
    "price": "float",
    "ok": {"type": "boolean", "schema": {}, "meta": {"special": ["cast-boolean"]}},
    "data": {"type": "json", "schema": {}, "meta": {"special": ["cast-json"]}},
    "when": "dateTime",
    "day": "date",
    "status": "string",
    "body": "text",
}


def rows(n: int) -> list[dict[str, Any]]:
    """Return n rows exercising every CSV hazard: commas, quotes, newlines, unicode, nulls, JSON."""
    return [{
        "title": f"Title {i}, \"quoted\"" if i % 5 == 0 else f"Title {i} ✓",
        "views": None if i % 7 == 0 else i * 10,
        "price": None if i % 4 == 0 else i / 4,
        "ok": None if i % 6 == 0 else i % 2 == 0,
        "data": None if i % 3 == 0 else {"n": i, "tags": ["a", "b"][: i % 3], "x": None},
        "when": f"2024-0{i % 9 + 1}-1{i % 10}T12:3{i % 6}:00",
        "day": None if i % 8 == 0 else f"2023-1{i % 3}-2{i % 10}",
        "status": ["draft", "published", "review"][i % 3],
        "body": f"line one\nline two of {i}" if i % 2 else None,
    } for i in range(1, 46)]


def everything(client: DirectusClient, name: str) -> list[dict[str, Any]]:
    """Return every item of a collection, by key."""
    return list(client.collection(name).sort("id"))
