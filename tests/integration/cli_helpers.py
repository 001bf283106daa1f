"""Run the `pydirectus` command line as a subprocess against the test server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CONNECTION_ENV = ("DIRECTUS_URL", "DIRECTUS_TOKEN", "DIRECTUS_EMAIL", "DIRECTUS_PASSWORD")


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
