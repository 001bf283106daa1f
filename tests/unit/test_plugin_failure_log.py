"""A failed test shows what its local Directus logged while it ran (pytest plugin hook)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CONFTEST = '''
import types
import pytest

pytest_plugins = ["pydirectus.testing.pytest_plugin"]


@pytest.fixture(scope="session")
def directus(tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "directus.log"
    log.write_text("an old line from before the test\\n")
    return types.SimpleNamespace(log_path=log, database_server=Stopped())


class Stopped:
    @property
    def log_path(self):
        raise RuntimeError("the server has not been started")
'''

TESTS = '''
def test_fails(directus):
    with directus.log_path.open("a") as log:
        log.write("-".join(["ERROR", "server", "crashed"]) + "\\n")
    assert False


def test_fails_after_it(directus):
    assert False


def test_passes(directus):
    with directus.log_path.open("a") as log:
        log.write("a warning of a passing test\\n")
'''


def test_a_failed_test_shows_the_servers_log_of_that_test_only(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_it.py").write_text(TESTS)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
         "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    out = result.stdout
    assert result.returncode == 1, out
    assert "the local Directus logged (call)" in out
    assert out.count("ERROR-server-crashed") == 1  # shown under the first failure only
    assert "an old line from before the test" not in out
    assert "a warning of a passing test" not in out


CRASH_CONFTEST = '''
import types
import pytest

from pydirectus.testing.pytest_plugin import SESSION_SERVER

pytest_plugins = ["pydirectus.testing.pytest_plugin"]
MARIADB = types.SimpleNamespace(crashes=0)
SERVER = types.SimpleNamespace(mariadb=MARIADB, log_path=None)


def pytest_configure(config):
    import pathlib, tempfile
    SERVER.log_path = pathlib.Path(tempfile.mkdtemp()) / "directus.log"
    SERVER.log_path.write_text("")
    config.stash[SESSION_SERVER] = SERVER
'''

CRASH_TESTS = '''
from conftest import MARIADB, SERVER

RUNS = {"crashed": 0, "plain": 0, "temp": 0}


def test_met_a_crash():
    RUNS["crashed"] += 1
    if RUNS["crashed"] == 1:
        MARIADB.crashes += 1
        assert False, "Connection lost: The server closed the connection."


def test_met_a_temporary_table_error():
    RUNS["temp"] += 1
    if RUNS["temp"] == 1:
        with SERVER.log_path.open("a") as log:
            log.write("ERROR: Error on delete of '/tmp/" + "#sql-temptable-1-2-3.MAI'\\n")
        assert False, "500 INTERNAL_SERVER_ERROR"


def test_fails_without_a_crash():
    RUNS["plain"] += 1
    assert RUNS["plain"] == 2, "a real failure is not run again"
'''


def test_a_test_that_met_a_mariadb_crash_runs_again_and_is_named(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CRASH_CONFTEST)
    (tmp_path / "test_it.py").write_text(CRASH_TESTS)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
         "--directus-db=mariadb", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    out = result.stdout
    assert "1 failed, 2 passed" in out, out
    assert "test_fails_without_a_crash" in out and "a real failure is not run again" in out
    assert "2 test(s) ran again after MariaDB failed under them" in out
    assert "test_it.py::test_met_a_crash: the first run met" in out
    assert "test_it.py::test_met_a_temporary_table_error: the first run met" in out
    assert "Connection lost" in out
