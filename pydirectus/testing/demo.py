"""The main job on the embedded default: a local Directus, seeded, running the README.

    python -m pydirectus.testing.demo [README.md]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .examples import readme_examples, run_examples, seed_articles
from .server import DirectusServer


def main(argv: list[str] | None = None) -> int:
    """Start Directus, seed `articles`, run the README's examples and print their results."""
    args = sys.argv[1:] if argv is None else argv
    readme = Path(args[0] if args else "README.md")
    if not readme.is_file():
        print(f"demo: {readme} not found; run from the repository root", file=sys.stderr)
        return 2
    started = time.monotonic()
    print("Starting a local Directus (the first run installs it: a few minutes)...", flush=True)
    with DirectusServer() as server:
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
    print(f"\nRan {len(examples)} README examples in {time.monotonic() - started:.1f} s; "
          "the server is stopped.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
