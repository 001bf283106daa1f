"""The main job on the embedded default: a local Directus, seeded, running the README.

    python -m pydirectus.testing.demo [README.md]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from .examples import readme_examples, run_examples, seed_articles
from .server import DirectusServer

MODELS_HEAD_LINES = 30


def main(argv: list[str] | None = None) -> int:
    """Start Directus, seed `articles`, run the README's examples and the command line."""
    args = sys.argv[1:] if argv is None else argv
    readme = Path(args[0] if args else "README.md")
    if not readme.is_file():
        print(f"demo: {readme} not found; run from the repository root", file=sys.stderr)
        return 2
    started = time.monotonic()
    print("Starting a local Directus (the first run installs it: a few minutes)...", flush=True)
    # The README's resumable upload needs TUS, its realtime example websockets.
    with DirectusServer(tus=True, websockets=True) as server:
        print(f"Directus is up at {server.url} after {time.monotonic() - started:.1f} s; "
              "seeding `articles`.", flush=True)
        seed_articles(server.url, server.admin_token)
        namespace = {
            "url": server.url,
            "token": server.admin_token,
            "email": server.admin_email,
            "password": server.admin_password,
        }
        examples = readme_examples(readme)
        run_examples(examples, namespace, echo=lambda text: print(text, flush=True))
        show_command_line(server)
    print(f"\nRan {len(examples)} README examples in {time.monotonic() - started:.1f} s; "
          "the server is stopped.")
    return 0


def show_command_line(server: DirectusServer) -> None:
    """Run one `pydirectus query` and `pydirectus types`, printing the output (models' head)."""
    env = {**os.environ, "DIRECTUS_URL": server.url, "DIRECTUS_TOKEN": server.admin_token,
           "COLUMNS": "100"}
    commands = (
        (["query", "articles", "--fields", "title,author,views", "--sort", "-views",
          "--limit", "4"], None),
        (["types", "--collection", "articles"], MODELS_HEAD_LINES),
    )
    for arguments, head in commands:
        print(f"\n$ pydirectus {' '.join(arguments)}", flush=True)
        result = subprocess.run([sys.executable, "-m", "pydirectus", *arguments], env=env,
                                capture_output=True, text=True, timeout=120, check=False)
        lines = result.stdout.splitlines()
        print("\n".join(lines[:head] if head else lines))
        if head and len(lines) > head:
            print(f"... ({len(lines) - head} more lines)")
        if result.returncode != 0:
            raise RuntimeError(f"pydirectus {arguments[0]} failed: {result.stderr.strip()}")


if __name__ == "__main__":
    raise SystemExit(main())
