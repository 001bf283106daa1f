"""The Markdown example runner that the README and the documentation pages are tested with."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pydirectus.testing.examples import markdown_examples, readme_examples, run_examples, run_page

PAGE = '''# A page

```python
x = 40
x + 2  # -> 42
```

=== "Async"

    ```python
    import asyncio

    async def twice(n):
        await asyncio.sleep(0)
        return 2 * n

    await twice(x)  # -> 80
    ```

```py
this is an illustration and never runs
```

```python title="tests/test_answer.py"
def test_answer():
    assert 6 * 7 == 42
```

```console
$ echo one \\
    two > said.txt
one two
$ test "$(cat said.txt)" = "one two"
```
'''


def test_blocks_are_found_with_their_kind_title_and_line(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    found = markdown_examples(page)
    assert [(e.kind, e.title) for e in found] == [
        ("python", None), ("python", None), ("python", "tests/test_answer.py"), ("console", None)]
    assert found[0].line == 4
    assert found[1].code.startswith("import asyncio\n")  # the tab's indent is removed
    assert len(readme_examples(page)) == 2


def test_a_page_runs_python_await_files_tests_and_commands(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    work = tmp_path / "work"
    work.mkdir()
    printed: list[str] = []
    ran = run_page(page, {}, workdir=work, env=dict(os.environ), echo=printed.append)
    assert ran == 4
    assert (work / "tests" / "test_answer.py").is_file()
    assert (work / "said.txt").read_text() == "one two\n"
    assert any("1 passed" in text for text in printed)
    assert ">>> await twice(x)\n80" in printed


def test_a_shown_value_that_differs_fails_naming_the_line(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```python\n1 + 1  # -> 3\n```\n")
    with pytest.raises(AssertionError, match=r"line 1: the page shows 3 but the value is 2"):
        run_examples(markdown_examples(page), {}, echo=lambda text: None)


def test_a_failing_command_or_test_fails_the_page(tmp_path: Path) -> None:
    for body, message in (("```console\n$ false\n```\n", "exited 1"),
                          ('```python title="test_x.py"\ndef test_x():\n    assert False\n```\n',
                           "its test files failed")):
        page = tmp_path / "page.md"
        page.write_text(body)
        with pytest.raises(AssertionError, match=message):
            run_page(page, {}, workdir=tmp_path, env=dict(os.environ), echo=lambda text: None)


def test_commands_find_this_pythons_scripts_without_an_activated_virtualenv(
        tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```console\n$ pydirectus --help\n```\n")
    bare = {**os.environ, "PATH": "/usr/bin:/bin"}
    assert run_page(page, {}, workdir=tmp_path, env=bare, echo=lambda text: None) == 1


def test_shown_values_are_checked_inside_blocks_and_functions_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "page.md"
    page.write_text("```python\nfor n in (1,):\n    n + 1  # -> 2\n\n"
                    "with open('out.txt', 'w') as out:\n    out.write('abc')  # -> 3\n```\n")
    run_examples(markdown_examples(page), {}, echo=lambda text: None)
    page.write_text("```python\ndef f():\n    return 1 + 1  # -> 2\n\n"
                    "if True:\n    f() * 1  # -> 3\n```\n")
    with pytest.raises(AssertionError, match="line 5: the page shows 3 but the value is 2"):
        run_examples(markdown_examples(page), {}, echo=lambda text: None)
