"""Run the README's examples against a live Directus, printing what each expression returns.

Every fenced block opened with ```python runs, in order, in one namespace holding
``url``, ``token``, ``email`` and ``password`` of the server. Blocks opened with ```py
are illustrations and do not run. The demo and the test suite both use this, so the
README cannot drift from what the library does.
"""

from __future__ import annotations

import ast
import pprint
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

__all__ = ["ARTICLES", "Example", "readme_examples", "run_examples", "seed_articles"]

_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)

ARTICLES: list[dict[str, Any]] = [
    {"title": "Hello Directus", "author": "Beff Jezos", "views": 120, "status": "published",
     "date": "2024-01-15T09:00:00"},
    {"title": "Query builders", "author": "Ann Lee", "views": 45, "status": "published",
     "date": "2024-03-02T12:30:00"},
    {"title": "Draft thoughts", "author": "Beff Jezos", "views": 0, "status": "draft",
     "date": None},
    {"title": "Pagination done right", "author": "Ann Lee", "views": 300, "status": "published",
     "date": "2023-11-20T08:15:00"},
    {"title": "Negation is hard", "author": "Sam Ito", "views": None, "status": "review",
     "date": "2024-06-01T17:45:00"},
    {"title": "Batching writes", "author": "Beff Jezos", "views": 75, "status": "published",
     "date": "2024-02-10T10:00:00"},
]

ARTICLE_FIELDS = {
    "title": "string",
    "author": "string",
    "views": "integer",
    "status": "string",
    "date": "dateTime",
}


class Example:
    """One runnable README block and where it starts."""

    def __init__(self, code: str, line: int) -> None:
        self.code = code
        self.line = line

    def __repr__(self) -> str:
        return f"<Example at README line {self.line}>"


def readme_examples(path: Path) -> list[Example]:
    """Return the ```python blocks of a Markdown file, in order."""
    text = path.read_text()
    return [Example(m.group(1), text.count("\n", 0, m.start(1)) + 1) for m in _BLOCK.finditer(text)]


def run_examples(
    examples: list[Example],
    namespace: dict[str, Any],
    echo: Callable[[str], None] = print,
    filename: str = "README.md",
) -> None:
    """Execute the examples; echo each expression statement's value, like a REPL would."""
    for example in examples:
        where = f"{filename}, block at line {example.line}"
        tree = ast.parse(example.code, filename=where)
        for node in tree.body:
            source = ast.get_source_segment(example.code, node) or ""
            if isinstance(node, ast.Expr):
                code = compile(ast.Expression(node.value), where, "eval")
                value = eval(code, namespace)
                if value is not None:
                    echo(f">>> {source}\n{pprint.pformat(value, width=100, sort_dicts=False)}")
                else:
                    echo(f">>> {source}")
            else:
                exec(compile(ast.Module([node], []), where, "exec"), namespace)
                echo(f">>> {source}")


def seed_articles(url: str, token: str, name: str = "articles") -> None:
    """Create the `articles` collection the README talks about and fill it."""
    from .collections import CollectionFactory

    factory = CollectionFactory(url, token)
    factory._call("POST", "/collections", {
        "collection": name,
        "schema": {},
        "meta": {"icon": "article"},
        "fields": [
            {"field": "id", "type": "integer", "meta": {"hidden": True},
             "schema": {"is_primary_key": True, "has_auto_increment": True}},
            *({"field": f, "type": t, "schema": {}, "meta": {}} for f, t in ARTICLE_FIELDS.items()),
        ],
    })
    response = requests.post(f"{url}/items/{name}", json=ARTICLES,
                             headers={"Authorization": f"Bearer {token}"}, timeout=60)
    response.raise_for_status()
    factory.session.close()
