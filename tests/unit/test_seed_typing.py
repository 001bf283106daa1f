"""mypy --strict accepts code written for pydirectus 0.2 and rejects misuse of its TypedDicts.

CI's own mypy run covers only the package, so this runs mypy on the seed's code
(``tests/seed/readme.py``) and on snippets that must fail, with the project's settings.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api", reason="mypy comes with the dev extra")

ROOT = Path(__file__).resolve().parents[2]


def mypy(*paths: Path) -> tuple[str, int]:
    # The project's settings (strict, Python 3.10); explicit paths replace its `files`.
    stdout, stderr, status = mypy_api.run(
        ["--config-file", str(ROOT / "pyproject.toml"), "--no-error-summary",
         "--show-error-codes", *map(str, paths)])
    return stdout + stderr, status


def test_seed_code_type_checks() -> None:
    output, status = mypy(ROOT / "tests" / "seed" / "readme.py")
    assert status == 0, output


REJECTED = {
    "a str limit": ('q: Query = {"limit": "10"}', "typeddict-item"),
    "an unknown query key": ('q: Query = {"limits": 10}', "typeddict-unknown-key"),
    "an unknown operator": ('f: Filter = {"views": {"_gtt": 10}}', "dict-item"),
    "a list for _gt": ('f: Filter = {"views": {"_gt": [1, 2]}}', "dict-item"),
    "a set for _in": ('f: Filter = {"id": {"_in": {1, 2}}}', "dict-item"),
    "a str deep limit": ('d: DeepQuery = {"_limit": "5"}', "typeddict-item"),
    "a deep key without _": ('d: DeepQuery = {"limit": 5}', "typeddict-unknown-key"),
    "a str activity id": ('a: Activity = {"id": "7"}', "typeddict-item"),
    "an int as an item": ("i: Item = 3", "assignment"),
    "a query dict as the builder": ('b: Builder = {"limit": 1}', "assignment"),
    "a float for ssl_verify": ('DirectusClient("http://x", ssl_verify=1.5)', "arg-type"),
    "a str logger": ('DirectusClient("http://x", logger="app")', "arg-type"),
    "an auth object as username": ('DirectusClient("http://x", StaticToken("t"))', "arg-type"),
    "a File with a str width": ('f2: File = {"width": "1920"}', "typeddict-item"),
}


def test_misuse_is_rejected(tmp_path: Path) -> None:
    lines = [
        "from pydirectus import DirectusClient, StaticToken",
        "from pydirectus import Query as Builder",
        "from pydirectus.models import Activity, DeepQuery, File, Filter, Item, Query",
    ]
    where: dict[int, str] = {}
    for number, (what, (code, _)) in enumerate(REJECTED.items()):
        lines += ["", "", f"def case_{number}() -> None:", f"    {code}"]
        where[len(lines)] = what
    source = tmp_path / "misuse.py"
    source.write_text("\n".join(lines) + "\n")
    output, status = mypy(source)
    assert status == 1, output
    errors: dict[int, list[str]] = {}
    for line in output.splitlines():
        prefix, _, rest = line.partition(": error: ")
        if rest:
            errors.setdefault(int(prefix.rsplit(":", 1)[1]), []).append(rest)
    assert set(errors) <= set(where), output  # the imports and the rest type-check
    for line_number, what in where.items():
        code = REJECTED[what][1]
        assert line_number in errors, f"mypy accepted {what}:\n{output}"
        assert any(f"[{code}]" in error for error in errors[line_number]), (what, output)


def test_exceptions_module_names_resolve(tmp_path: Path) -> None:
    source = tmp_path / "seed_errors.py"
    source.write_text(textwrap.dedent("""\
        from pydirectus.errors import AuthenticationError, DirectusError
        from pydirectus.exceptions import DirectusAuthException, DirectusException, NotFound


        def root(error: DirectusException) -> DirectusError:
            return error


        def auth(error: DirectusAuthException) -> AuthenticationError:
            return error


        missing: type[DirectusException] = NotFound
        """))
    output, status = mypy(source)
    assert status == 0, output
