"""pydirectus.testing's choices, checked without starting a server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pydirectus.testing import (
    DirectusServer,
    ExistingDirectus,
    MariaDBNotInstalled,
    MariaDBServer,
    PostgresNotInstalled,
)
from pydirectus.testing.dialects import nulls_sort_first, text_key
from pydirectus.testing.existing import _database_of
from pydirectus.testing.mariadb import find_mariadb_bin
from pydirectus.testing.postgres import find_postgres_bin
from pydirectus.testing.redis import RedisNotInstalled, RedisServer
from pydirectus.testing.scaled import RoundRobinProxy, ScaledDirectus

REPO = Path(__file__).resolve().parents[2]


def test_sqlite_stays_the_default() -> None:
    assert DirectusServer().database == "sqlite"
    assert DirectusServer(database="postgresql").database == "postgresql"
    assert DirectusServer(database="mariadb").database == "mariadb"


def test_a_shared_database_server_names_the_database() -> None:
    shared = MariaDBServer()
    server = DirectusServer(database=shared)
    assert server.database == "mariadb" and server.mariadb is shared and server.postgres is None
    assert "(no port)" in repr(shared) and shared.password not in repr(shared)
    with pytest.raises(RuntimeError, match="not been started"):
        shared.directus_env()


@pytest.mark.parametrize("bad", ["postgres", "mysql", "MariaDB", "", None, 3])
def test_an_unknown_database_is_refused_by_name(bad: object) -> None:
    with pytest.raises(ValueError, match=r"database must be one of 'sqlite', 'postgresql', "
                                         r"'mariadb' or a running PostgresServer or "
                                         r"MariaDBServer"):
        DirectusServer(database=bad)  # type: ignore[arg-type]


def test_missing_postgresql_says_how_to_get_it(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYDIRECTUS_PG_BIN", str(tmp_path))
    with pytest.raises(PostgresNotInstalled, match="apt-get install postgresql") as caught:
        DirectusServer(database="postgresql").start()
    assert "PYDIRECTUS_PG_BIN" in str(caught.value)
    with pytest.raises(PostgresNotInstalled):
        find_postgres_bin()


def test_missing_mariadb_says_how_to_get_it(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mariadbd").write_text("#!/bin/sh\n")
    (tmp_path / "mariadbd").chmod(0o755)
    monkeypatch.setenv("PYDIRECTUS_MARIADB_BIN", str(tmp_path))
    with pytest.raises(MariaDBNotInstalled, match="apt-get install mariadb-server") as caught:
        DirectusServer(database="mariadb").start()  # before installing Directus
    message = str(caught.value)
    assert f"PYDIRECTUS_MARIADB_BIN={tmp_path}" in message
    assert "no mariadb-install-db, mariadb " in message  # the server alone is there
    with pytest.raises(MariaDBNotInstalled):
        MariaDBServer().start()
    with pytest.raises(MariaDBNotInstalled):
        find_mariadb_bin()


def test_missing_redis_says_how_to_get_it(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYDIRECTUS_REDIS_SERVER", str(tmp_path / "redis-server"))
    with pytest.raises(RedisNotInstalled, match="apt-get install redis-server"):
        RedisServer().start()
    with pytest.raises(RedisNotInstalled, match="PYDIRECTUS_REDIS_SERVER"):
        ScaledDirectus().start()  # before starting anything else


def test_a_scaled_setup_needs_two_instances_and_a_proxy_upstreams() -> None:
    with pytest.raises(ValueError, match="2 or more, not 1"):
        ScaledDirectus(instances=1)
    with pytest.raises(ValueError, match="at least one URL"):
        RoundRobinProxy([])


def test_existing_server_needs_url_and_token() -> None:
    assert ExistingDirectus.from_env({}) is None
    with pytest.raises(ValueError, match="PYDIRECTUS_TEST_TOKEN is not set"):
        ExistingDirectus.from_env({"PYDIRECTUS_TEST_URL": "http://127.0.0.1:1"})
    with pytest.raises(ValueError, match="PYDIRECTUS_TEST_URL is not set"):
        ExistingDirectus.from_env({"PYDIRECTUS_TEST_TOKEN": "t"})
    with pytest.raises(ValueError, match="http:// or https://"):
        ExistingDirectus.from_env({"PYDIRECTUS_TEST_URL": "cms.example.com",
                                   "PYDIRECTUS_TEST_TOKEN": "t"})


def test_existing_server_keeps_its_secrets_out_of_repr() -> None:
    server = ExistingDirectus("http://x", "tok-secret", "a@b.c", "postgresql", "pw-secret")
    assert "secret" not in repr(server)
    assert server.admin_password == "pw-secret"
    with pytest.raises(RuntimeError, match="PYDIRECTUS_TEST_PASSWORD"):
        _ = ExistingDirectus("http://x", "tok", "a@b.c", "sqlite").admin_password


def test_the_database_is_read_from_server_health() -> None:
    checks = {"storage:local:responseTime": [], "pg:responseTime": [], "cache:responseTime": []}
    assert _database_of({"checks": checks}) == "postgresql"
    assert _database_of({"checks": {"sqlite3:responseTime": []}}) == "sqlite"
    assert _database_of({"checks": {"mysql:responseTime": []}}) == "mysql"
    assert _database_of({}) == "unknown"


def test_null_ordering_per_database() -> None:
    assert nulls_sort_first("sqlite") and not nulls_sort_first("sqlite", descending=True)
    assert not nulls_sort_first("postgresql") and nulls_sort_first("postgresql", descending=True)
    for like_sqlite in ("mariadb", "mysql"):
        assert nulls_sort_first(like_sqlite) and not nulls_sort_first(like_sqlite,
                                                                      descending=True)
    with pytest.raises(ValueError, match="oracle"):
        nulls_sort_first("oracle")


def test_string_order_per_database() -> None:
    words = ["zebra", "Zebra", "éclair", "Apple", "apple", "ß"]
    # Code points on SQLite and PostgreSQL (C.UTF-8) ...
    for database in ("sqlite", "postgresql"):
        assert sorted(words, key=text_key(database)) == [
            "Apple", "Zebra", "apple", "zebra", "ß", "éclair"]
    # ... case- and accent-blind on MariaDB (utf8mb4_general_ci; ß is s): ties keep order.
    assert sorted(words, key=text_key("mariadb")) == [
        "Apple", "apple", "éclair", "ß", "zebra", "Zebra"]
    assert text_key("mysql")("Émile") == text_key("mariadb")("emile") == "EMILE"
    with pytest.raises(ValueError, match="oracle"):
        text_key("oracle")


def _pytest(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["pydirectus.testing.pytest_plugin"]\n')
    (tmp_path / "test_db.py").write_text(
        "import os\n"
        "def test_db(directus_database):\n"
        "    assert directus_database == os.environ['EXPECTED']\n")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PYDIRECTUS_TEST_")}
    # The plugin of this checkout (a git worktree shares the venv of another checkout).
    clean["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), clean.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(tmp_path), *args],
        capture_output=True, text=True, cwd=tmp_path, env={**clean, **env}, timeout=120,
        check=False)


@pytest.mark.parametrize(("args", "env", "expected"), [
    ((), {}, "sqlite"),
    (("--directus-db=postgresql",), {}, "postgresql"),
    ((), {"PYDIRECTUS_TEST_DB": "PostgreSQL"}, "postgresql"),
    (("--directus-db=sqlite",), {"PYDIRECTUS_TEST_DB": "postgresql"}, "sqlite"),
    (("--directus-db=mariadb",), {}, "mariadb"),
    ((), {"PYDIRECTUS_TEST_DB": "MariaDB"}, "mariadb"),
])
def test_the_run_chooses_its_database(tmp_path: Path, args: tuple[str, ...],
                                      env: dict[str, str], expected: str) -> None:
    result = _pytest(tmp_path, *args, env={**env, "EXPECTED": expected})
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"a local Directus on {expected}" in result.stdout


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 error"), ("", "1 skipped")])
def test_a_missing_mariadb_fails_the_run_in_ci_and_skips_elsewhere(
        tmp_path: Path, ci: str, outcome: str) -> None:
    (tmp_path / "test_server.py").write_text("def test_server(directus):\n    pass\n")
    result = _pytest(tmp_path, "--directus-db=mariadb", "-rs", str(tmp_path / "test_server.py"),
                     env={"CI": ci, "PYDIRECTUS_REQUIRE_SERVER": "",
                          "PYDIRECTUS_MARIADB_BIN": str(tmp_path), "EXPECTED": "mariadb"})
    assert outcome in result.stdout, result.stdout + result.stderr
    assert result.returncode == (1 if ci else 0)
    assert "MariaDB is not installed" in result.stdout
    assert "apt-get install mariadb-server" in result.stdout


def test_a_bad_database_choice_is_a_usage_error(tmp_path: Path) -> None:
    result = _pytest(tmp_path, env={"PYDIRECTUS_TEST_DB": "oracle", "EXPECTED": "x"})
    assert result.returncode == 4
    assert "PYDIRECTUS_TEST_DB='oracle': choose one of sqlite, postgresql, mariadb" in result.stderr
    result = _pytest(tmp_path, "--directus-db=oracle", env={"EXPECTED": "x"})
    assert result.returncode == 4 and "invalid choice" in result.stderr


def test_tus_is_off_unless_asked(tmp_path: Path) -> None:
    for tus in (False, True):
        server = DirectusServer(tus=tus)
        server.workdir, server.port = tmp_path / str(tus), 8055
        server.workdir.mkdir()
        settings = server._write_env_file().read_text().splitlines()
        assert f"TUS_ENABLED={'true' if tus else 'false'}" in settings
    with pytest.raises(ValueError, match="tus: expected True or False"):
        DirectusServer(tus="yes")  # type: ignore[arg-type]


def test_kill_group_signals_no_group_once_its_leader_is_reaped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pydirectus.testing import processes

    gone = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    gone.wait()  # reaped: its number may be another group's by now
    signalled: list[tuple[int, int]] = []
    monkeypatch.setattr(processes.os, "killpg", lambda pgid, sig: signalled.append((pgid, sig)))
    processes.kill_group(gone, grace=0.1)
    assert signalled == []
    monkeypatch.undo()
    # A live leader's group is signalled, and is gone afterwards.
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                             start_new_session=True)
    processes.kill_group(alive, grace=5)
    assert alive.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(alive.pid, 0)
