"""Typed handles as a user's own code sees them: mypy --strict, outside the repository.

``client.collection("posts", Post)`` types get, fetch, ``[i]``, iteration and create as
``Post`` on both faces. The script in tests/unit/typed/ is copied to a directory outside
the repository and checked against the installed (editable) package, as a user's is.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "typed" / "use_typed.py"


def _mypy(folder: Path, source: str) -> subprocess.CompletedProcess[str]:
    (folder / "script.py").write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "script.py"],
        cwd=folder, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
def test_a_users_typed_script_passes_mypy_strict(tmp_path: Path) -> None:
    shutil.copy(SCRIPT, tmp_path / "use_typed.py")
    result = _mypy(tmp_path, SCRIPT.read_text())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_the_types_are_not_any(tmp_path: Path) -> None:
    # The same script with wrong expectations must fail: the handles' types are real.
    wrong = SCRIPT.read_text().replace("one: Post = posts.get(1)", "one: int = posts.get(1)")
    wrong = wrong.replace("one: Post = await posts.get(1)", "one: int = await posts.get(1)")
    result = _mypy(tmp_path, wrong)
    assert result.returncode == 1
    assert result.stdout.count('Incompatible types in assignment (expression has type "Post"') \
        == 2, result.stdout
