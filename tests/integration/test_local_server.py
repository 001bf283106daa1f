"""The local Directus itself: it starts, answers, and leaves nothing behind."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from pydirectus.testing import DirectusServer, ExistingDirectus, MariaDBServer, ServerStartError
from pydirectus.testing.examples import readme_examples, run_examples, seed_articles

REPO = Path(__file__).resolve().parents[2]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.own_databases
def test_stop_leaves_no_process_and_no_files(directus: DirectusServer) -> None:
    # `directus` is requested so that a missing install fails here in CI, not differently.
    server = DirectusServer(env={"ACCESS_TOKEN_TTL": "5m"}).start()
    pgid, workdir = server.pid, server.workdir
    assert pgid is not None and workdir is not None
    assert requests.get(f"{server.url}/server/ping", timeout=5).text == "pong"
    assert requests.get(f"{server.url}/users/me", timeout=5,
                        headers={"Authorization": f"Bearer {server.admin_token}"}).ok
    server.stop()
    assert not _group_alive(pgid)
    assert not workdir.exists()
    assert not server.running


@pytest.mark.own_databases
def test_postgresql_lives_and_dies_with_its_directus(directus: DirectusServer) -> None:
    server = DirectusServer(database="postgresql").start()
    try:
        assert server.database == "postgresql" and server.postgres is not None
        postgres = server.postgres
        pg_group, pg_dir = postgres.pid, postgres.workdir
        assert pg_group is not None and pg_dir is not None and _group_alive(pg_group)
        assert postgres.host == "127.0.0.1"
        health = requests.get(f"{server.url}/server/health", timeout=10,
                              headers={"Authorization": f"Bearer {server.admin_token}"})
        assert "pg:responseTime" in health.json()["checks"]
        # What PostgreSQL sends for a count (SQLite sends a number); the client makes it an int.
        count = requests.get(f"{server.url}/users", params={"aggregate[count]": "*"}, timeout=10,
                             headers={"Authorization": f"Bearer {server.admin_token}"})
        assert count.json()["data"] == [{"count": "1"}]
    finally:
        server.stop()
    assert not _group_alive(pg_group)
    assert not pg_dir.exists()
    assert not postgres.running


@pytest.mark.own_databases
def test_mariadb_lives_and_dies_with_its_directus(directus: DirectusServer) -> None:
    server = DirectusServer(database="mariadb").start()
    try:
        assert server.database == "mariadb" and server.mariadb is not None
        assert server.postgres is None
        mariadb = server.mariadb
        group, folder = mariadb.pid, mariadb.workdir
        assert group is not None and folder is not None and _group_alive(group)
        assert mariadb.host == "127.0.0.1" and mariadb.socket_path.parent == folder
        assert mariadb.password not in repr(mariadb) + repr(server)
        admin = {"Authorization": f"Bearer {server.admin_token}"}
        health = requests.get(f"{server.url}/server/health", timeout=10, headers=admin)
        assert "mysql:responseTime" in health.json()["checks"]
        # What MariaDB sends for a count: a number, as SQLite does.
        count = requests.get(f"{server.url}/users", params={"aggregate[count]": "*"},
                             timeout=10, headers=admin)
        assert count.json()["data"] == [{"count": 1}]
    finally:
        server.stop()
    assert not _group_alive(group)
    assert not folder.exists()
    assert not mariadb.running and server.mariadb is None


@pytest.mark.own_databases
def test_a_shared_mariadb_outlives_its_directus(directus: DirectusServer) -> None:
    with MariaDBServer() as shared:
        server = DirectusServer(database=shared).start()
        try:
            assert server.database == "mariadb" and server.mariadb is shared
            assert requests.get(f"{server.url}/server/ping", timeout=5).text == "pong"
        finally:
            server.stop()
        assert shared.running and server.mariadb is shared
        # Directus's tables stay in the shared database, for the next instance.
        tables = shared._client(f"SELECT COUNT(*) FROM information_schema.tables WHERE "
                                f"table_schema = '{shared.database}' AND table_name = "
                                f"'directus_users'")
        assert tables.returncode == 0 and tables.stdout.strip() == b"1"
        folder = shared.workdir
    assert folder is not None and not folder.exists() and not shared.running


@pytest.mark.own_databases
def test_a_crashed_mariadb_is_started_again_on_its_data_and_directus_goes_on() -> None:
    # As Debian's service unit does: MariaDB 10.11 can crash in its INFORMATION_SCHEMA code
    # while Directus reads the schema during a schema change (seen in CI).
    with MariaDBServer() as shared, DirectusServer(database=shared) as server:
        admin = {"Authorization": f"Bearer {server.admin_token}"}
        first, port = shared.pid, shared.port
        assert first is not None
        os.kill(first, signal.SIGSEGV)
        deadline = time.monotonic() + 120
        while not (shared.crashes == 1 and shared.running and shared.pid != first):
            assert time.monotonic() < deadline, "mariadbd was not started again"
            time.sleep(0.2)
        assert shared.port == port
        # Directus's pool drops the dead connections and opens new ones: the data is there.
        while True:
            answer = requests.get(f"{server.url}/users/me?fields=email", timeout=30,
                                  headers=admin)
            if answer.ok or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert answer.json()["data"]["email"] == server.admin_email
        assert "starting it again on the same data" in shared.log_path.read_text()
        restarted = shared.pid
    assert restarted is not None and not _group_alive(restarted) and shared.crashes == 1


def test_an_existing_server_from_the_environment(directus: DirectusServer) -> None:
    existing = ExistingDirectus.from_env({"PYDIRECTUS_TEST_URL": directus.url + "/",
                                          "PYDIRECTUS_TEST_TOKEN": directus.admin_token})
    assert existing is not None
    assert existing.url == directus.url
    assert existing.admin_email == directus.admin_email
    # /server/health names MySQL and MariaDB alike: "mysql".
    assert existing.database == {"mariadb": "mysql"}.get(directus.database, directus.database)
    with pytest.raises(RuntimeError, match="answered 401"):
        ExistingDirectus.from_env({"PYDIRECTUS_TEST_URL": directus.url,
                                   "PYDIRECTUS_TEST_TOKEN": "wrong"})


@pytest.mark.own_databases
def test_a_stolen_port_is_replaced(directus: DirectusServer,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Another process listens on the port we picked (here another Directus, the worst
    # case: it answers /server/ping too); the server must move on to a new port.
    from pydirectus.testing import server as server_module

    taken = iter([urlsplit(directus.url).port])
    real_free_port = server_module._free_port
    monkeypatch.setattr(server_module, "_free_port",
                        lambda host: next(taken, None) or real_free_port(host))
    with DirectusServer() as server:
        assert server.url != directus.url
        me = requests.get(f"{server.url}/users/me", timeout=5,
                          headers={"Authorization": f"Bearer {server.admin_token}"})
        assert me.ok


@pytest.mark.own_databases
def test_a_failed_start_quotes_the_log(directus: DirectusServer) -> None:
    with pytest.raises(ServerStartError, match="log ends"):
        DirectusServer(env={"DB_CLIENT": "no-such-database-client"}, startup_timeout=60).start()


def test_readme_examples_run(directus: DirectusServer) -> None:
    seed_articles(directus.url, directus.admin_token)
    printed: list[str] = []
    namespace = {"url": directus.url, "token": directus.admin_token,
                 "email": directus.admin_email, "password": directus.admin_password}
    try:
        examples = readme_examples(REPO / "README.md")
        assert examples, "the README has no ```python examples"
        run_examples(examples, namespace, echo=printed.append)
    finally:
        requests.delete(f"{directus.url}/collections/articles", timeout=30,
                        headers={"Authorization": f"Bearer {directus.admin_token}"})
    assert printed
