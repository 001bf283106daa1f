"""Run the Markdown examples (the README, the documentation pages) against a live Directus.

Fences that run:

- ```python blocks run in order in one namespace per page holding ``url``, ``token``,
  ``email`` and ``password`` of the server, printing what each expression returns as a
  REPL would. Top-level ``await`` works (as in ``python -m asyncio``): one event loop
  serves the page. An expression whose line ends ``# -> text`` must have ``repr`` equal
  to ``text`` (also inside a ``with``, a loop or a function), so an answer a page shows
  is an answer the library gives.
- ```python title="tests/test_posts.py" blocks are files: written under the page's work
  folder, not run in the namespace. When a page has test files, pytest runs that folder
  (in a subprocess, pointed at the same server through ``PYDIRECTUS_TEST_URL``) and every
  test in it must pass.
- ```console blocks run each ``$ `` command line (``\\`` continues a line) in bash in the
  work folder with ``DIRECTUS_URL`` and ``DIRECTUS_TOKEN`` set; it must exit 0. The lines
  that are not commands show output and are not compared.

Other fences (```py, ```sh, ```toml, ...) are illustrations. Fences may be indented (in a
tab or an admonition). The demo and the test suite both use this, so the pages cannot
drift from what the library does.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import functools
import inspect
import os
import pprint
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import requests

__all__ = ["ARTICLES", "Example", "markdown_examples", "readme_examples", "run_examples",
           "run_page", "seed_articles"]

_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>python|console)(?P<info>[^\n`]*)\n"
    r"(?P<code>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL)
_TITLE = re.compile(r"""title=["']([^"']+)["']""")
_SHOWN = re.compile(r"#\s*->\s*(.+?)\s*$")

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
    """One runnable block of a Markdown file: its code, kind, file title and first line."""

    def __init__(self, code: str, line: int, kind: str = "python",
                 title: str | None = None) -> None:
        self.code = code
        self.line = line
        self.kind = kind
        self.title = title

    def __repr__(self) -> str:
        return f"<Example ({self.kind}) at line {self.line}>"


def markdown_examples(path: Path) -> list[Example]:
    """Return the runnable blocks (```python, ```console) of a Markdown file, in order."""
    text = path.read_text()
    found = []
    for match in _FENCE.finditer(text):
        indent = match.group("indent")
        code = match.group("code")
        if indent:
            code = textwrap.dedent(code)
        title = _TITLE.search(match.group("info"))
        found.append(Example(code, text.count("\n", 0, match.start("code")) + 1,
                             kind=match.group("lang"), title=title.group(1) if title else None))
    return found


def readme_examples(path: Path) -> list[Example]:
    """Return the ```python blocks of a Markdown file (no file blocks), in order."""
    return [e for e in markdown_examples(path) if e.kind == "python" and e.title is None]


def run_examples(
    examples: list[Example],
    namespace: dict[str, Any],
    echo: Callable[[str], None] = print,
    filename: str = "README.md",
) -> None:
    """Execute ```python examples in one namespace; echo each expression's value like a REPL."""
    with _page_loop() as loop:
        for example in examples:
            _run_python(example, namespace, echo, f"{filename}, block at line {example.line}", loop)


@contextlib.contextmanager
def _page_loop() -> Iterator[asyncio.AbstractEventLoop]:
    # One event loop serves a page's top-level awaits, so an async client made in one
    # block is used in the next.
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


_CHECK = "__pydirectus_shown__"


class _ShownChecks(ast.NodeTransformer):
    """Turn each nested expression statement that ends ``# -> text`` into a check of it."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        shown = _SHOWN.search(self.lines[(node.end_lineno or node.lineno) - 1])
        if not shown:
            return node
        call = ast.Call(ast.Name(_CHECK, ast.Load()),
                        [node.value, ast.Constant(shown.group(1)), ast.Constant(node.lineno)], [])
        return ast.copy_location(ast.Expr(ast.copy_location(call, node)), node)


def _check_shown(where: str, value: Any, shown: str, line: int) -> None:
    if repr(value) != shown:
        raise AssertionError(f"{where}, line {line}: the page shows {shown} but the value is "
                             f"{value!r}")


def _run_python(example: Example, namespace: dict[str, Any], echo: Callable[[str], None],
                where: str, loop: asyncio.AbstractEventLoop) -> None:
    tree = ast.parse(example.code, filename=where)
    lines = example.code.splitlines()
    namespace[_CHECK] = functools.partial(_check_shown, where)
    for node in tree.body:
        source = ast.get_source_segment(example.code, node) or ""
        if isinstance(node, ast.Expr):
            code = compile(ast.Expression(node.value), where, "eval",
                           flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            value = eval(code, namespace)
            if inspect.iscoroutine(value) and code.co_flags & inspect.CO_COROUTINE:
                value = loop.run_until_complete(value)
            shown = _SHOWN.search(lines[(node.end_lineno or node.lineno) - 1])
            if shown:
                _check_shown(where, value, shown.group(1), node.lineno)
            if value is not None:
                echo(f">>> {source}\n{pprint.pformat(value, width=100, sort_dicts=False)}")
            else:
                echo(f">>> {source}")
        else:
            # Results shown inside a with, for, if or function body are checked where they
            # are computed.
            checked = ast.fix_missing_locations(_ShownChecks(lines).visit(node))
            code = compile(ast.Module([checked], []), where, "exec",
                           flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            result = eval(code, namespace)
            if inspect.iscoroutine(result):
                loop.run_until_complete(result)
            echo(f">>> {source}")


def run_page(
    path: Path,
    namespace: dict[str, Any],
    workdir: Path,
    env: Mapping[str, str],
    echo: Callable[[str], None] = print,
) -> int:
    """Run every runnable block of a page (see the module docstring); return how many ran.

    ``workdir`` is the page's current folder (the caller chdirs there) and holds its files;
    ``env`` is the environment of its console commands and its pytest run.
    """
    examples = markdown_examples(path)
    files = {e.title: e.code for e in examples if e.title is not None}
    for title, code in files.items():
        target = workdir / title
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code)
    with _page_loop() as loop:
        for example in examples:
            where = f"{path.name}, block at line {example.line}"
            if example.kind == "python" and example.title is None:
                _run_python(example, namespace, echo, where, loop)
            elif example.kind == "console":
                _run_console(example, workdir, env, echo, where)
    if any(Path(title).name.startswith("test_") for title in files):
        _run_tests(path, workdir, env, echo)
    return len(examples)


def _commands(code: str) -> list[str]:
    commands: list[str] = []
    pending: str | None = None
    for line in code.splitlines():
        if pending is not None:
            pending += "\n" + line
        elif line.startswith("$ "):
            pending = line[2:]
        else:
            continue
        if not pending.endswith("\\"):
            commands.append(pending)
            pending = None
    if pending is not None:
        commands.append(pending.rstrip("\\"))
    return commands


def _with_this_python(env: Mapping[str, str]) -> dict[str, str]:
    # The commands a page shows (pydirectus, pytest) are those of the Python running it,
    # also when its virtualenv is not activated (make test runs .venv/bin/python -m pytest).
    scripts = str(Path(sys.executable).parent)
    return {**env, "PATH": os.pathsep.join(filter(None, (scripts, env.get("PATH"))))}


def _run_console(example: Example, workdir: Path, env: Mapping[str, str],
                 echo: Callable[[str], None], where: str) -> None:
    for command in _commands(example.code):
        result = subprocess.run(["bash", "-c", command], cwd=workdir, env=_with_this_python(env),
                                capture_output=True, text=True, timeout=300, check=False)
        echo(f"$ {command}\n{result.stdout}{result.stderr}")
        if result.returncode != 0:
            raise AssertionError(f"{where}: `{command}` exited {result.returncode}:\n"
                                 f"{result.stdout}{result.stderr}")


def _run_tests(path: Path, workdir: Path, env: Mapping[str, str],
               echo: Callable[[str], None]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error",
         "-o", "addopts=", "--rootdir", str(workdir), str(workdir)],
        cwd=workdir, env=_with_this_python(env), capture_output=True, text=True, timeout=900,
        check=False)
    echo(f"$ pytest (the test files of {path.name})\n{result.stdout}{result.stderr}")
    if result.returncode != 0:
        raise AssertionError(f"{path.name}: its test files failed under pytest:\n"
                             f"{result.stdout}{result.stderr}")
    if " passed" not in result.stdout:
        raise AssertionError(f"{path.name}: pytest ran none of the page's tests")


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
