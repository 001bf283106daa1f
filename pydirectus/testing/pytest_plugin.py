"""pytest fixtures for a real local Directus: load with ``pytest_plugins = [...]`` in conftest.

- ``directus``: one DirectusServer for the whole test session (started on first use).
- ``directus_client``: an admin client (static token) on that server, of the run's face.
- ``directus_face``: the face this test runs on, "sync" or "async".
- ``make_client``: a factory of clients of that face (DirectusClient's arguments), closed
  after the test.
- ``make_collection``: creates uniquely named collections for one test, dropped afterwards.
- ``access_grants``: an ``AccessGrants`` for one test: the
  API-only users, policies and Public permissions made through it are removed afterwards.
- ``make_token_clients``: a factory of ``TokenClients`` (admin,
  an API-only user with CRUD, Public with read) on a fresh collection; ``token_clients`` is
  one of them on a collection with ``title`` (string), ``views`` (integer) and ``status``.
  The users, policies and permission rows they make are removed after the test.
- ``directus_database``: the database local servers of this run use ("sqlite",
  "postgresql" or "mariadb"), for tests that start a server of their own with special settings.

The database is chosen for the whole run by ``--directus-db=postgresql`` or
``--directus-db=mariadb`` (or the environment variable ``PYDIRECTUS_TEST_DB``); SQLite by
default.

The face by ``--directus-face`` (or ``PYDIRECTUS_TEST_FACE``): "sync" (the default) runs the
scenarios with DirectusClient; "async" with ``SyncOverAsync(AsyncDirectusClient(...))``
(``pydirectus.testing.bridge``: the same sync scenario code drives the async face);
"both" runs each test that uses a face fixture once per face (ids ``[sync]``, ``[async]``).
Tests marked ``sync_only`` (they inspect the requests machinery) are deselected on the
async face. The API-only and Public clients of ``access_grants`` and ``make_token_clients``
have the admin client's face. With
``PYDIRECTUS_TEST_URL`` and ``PYDIRECTUS_TEST_TOKEN`` set, ``directus`` is that existing
server instead (see ``pydirectus.testing.existing``).

When the server cannot start, tests that need it are skipped, except under ``CI=true``
(or ``PYDIRECTUS_REQUIRE_SERVER=1``), where they fail: CI must never go green by skipping.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

import pytest

from .bridge import FACES, face_client
from .collections import CollectionFactory
from .existing import ExistingDirectus
from .processes import log_tail
from .server import DATABASES, DirectusServer

__all__ = [
    "access_grants",
    "directus",
    "directus_client",
    "directus_database",
    "directus_face",
    "make_client",
    "make_collection",
    "make_token_clients",
    "running",
    "token_clients",
]

TOKEN_CLIENTS_FIELDS = {"title": "string", "views": "integer", "status": "string"}

DB_VAR = "PYDIRECTUS_TEST_DB"
FACE_VAR = "PYDIRECTUS_TEST_FACE"
FACE_CHOICES = ("sync", "async", "both")
SYNC_ONLY = ("sync_only: the test inspects the sync face's requests machinery; "
             "deselected on the async face")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add --directus-db and --directus-face."""
    group = parser.getgroup("pydirectus")
    group.addoption(
        "--directus-db", choices=DATABASES, default=None,
        help=f"the database of the local Directus for this run (default: ${DB_VAR} or sqlite)",
    )
    group.addoption(
        "--directus-face", choices=FACE_CHOICES, default=None,
        help=f"the client face the scenarios run on: sync, async (through "
             f"pydirectus.testing.bridge) or both (default: ${FACE_VAR} or sync)",
    )


def chosen_database(config: pytest.Config) -> str:
    """Return the run's database: --directus-db, else $PYDIRECTUS_TEST_DB, else sqlite."""
    option: str | None = config.getoption("directus_db", default=None)
    value = option or os.environ.get(DB_VAR, "").strip().lower() or "sqlite"
    if value not in DATABASES:
        raise pytest.UsageError(
            f"{DB_VAR}={value!r}: choose one of {', '.join(DATABASES)}")
    return value


def chosen_faces(config: pytest.Config) -> tuple[str, ...]:
    """Return the run's faces: --directus-face, else $PYDIRECTUS_TEST_FACE, else sync."""
    option: str | None = config.getoption("directus_face", default=None)
    value = option or os.environ.get(FACE_VAR, "").strip().lower() or "sync"
    if value not in FACE_CHOICES:
        raise pytest.UsageError(
            f"{FACE_VAR}={value!r}: choose one of {', '.join(FACE_CHOICES)}")
    return FACES if value == "both" else (value,)


def pytest_configure(config: pytest.Config) -> None:
    """Refuse a bad database or face choice before collecting anything; add the marker."""
    chosen_database(config)
    chosen_faces(config)
    config.addinivalue_line("markers", SYNC_ONLY)


def pytest_report_header(config: pytest.Config) -> str:
    """Say which Directus the run talks to, and through which face."""
    faces = " and ".join(chosen_faces(config))
    if os.environ.get("PYDIRECTUS_TEST_URL"):
        return (f"directus: the existing server at {os.environ['PYDIRECTUS_TEST_URL']}; "
                f"face: {faces}")
    return f"directus: a local Directus on {chosen_database(config)}; face: {faces}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """With --directus-face=both, run each test that uses a face fixture once per face."""
    faces = chosen_faces(metafunc.config)
    if len(faces) < 2 or "directus_face" not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", ())
        if "directus_face" in (names.replace(" ", "").split(",") if isinstance(names, str)
                               else names):
            return  # the test chooses its faces itself
    metafunc.parametrize("directus_face", faces, indirect=True, scope="session")


def _face_of_item(item: pytest.Item, faces: tuple[str, ...]) -> str | None:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "directus_face" in callspec.params:
        face: str = callspec.params["directus_face"]
        return face
    if "directus_face" in getattr(item, "fixturenames", ()):
        return faces[0]
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the sync_only tests of the async face."""
    faces = chosen_faces(config)
    if "async" not in faces:
        return
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        face = _face_of_item(item, faces)
        # Dropped: the async run of a test that has one; a sync_only test that uses no
        # face fixture runs once, except on an async-only run.
        if item.get_closest_marker("sync_only") is not None and (
                face == "async" or (face is None and faces == ("async",))):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


#: the session's local Directus once started (hooks that run before a test's fixtures read it)
SESSION_SERVER = pytest.StashKey[DirectusServer]()
_LOG_OFFSETS = pytest.StashKey[dict[str, int]]()
#: how far each log has been shown already: a crash is reported once, not under every
#: test that fails after it
_SHOWN_UP_TO: dict[str, int] = {}
LOG_SECTION_CHARS = 12000


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Show what the local Directus and its database logged during a failed test, under the
    failure: a 500, a hang or a lost connection is explained there, not in the client's error."""
    outcome: Any = yield
    report: pytest.TestReport = outcome.get_result()
    server = getattr(item, "funcargs", {}).get("directus")
    logs = {"Directus": _log_path(server),
            "its database": _log_path(getattr(server, "database_server", None))}
    if call.when == "setup" and report.passed:
        item.stash[_LOG_OFFSETS] = {name: _log_size(path) for name, path in logs.items()}
    elif report.failed:
        offsets = item.stash.get(_LOG_OFFSETS, {})
        for name, path in logs.items():
            if path is None:
                continue
            start = max(offsets.get(name, 0), _SHOWN_UP_TO.get(str(path), 0))
            _SHOWN_UP_TO[str(path)] = _log_size(path)
            logged = log_tail(path, start, chars=None)
            if len(logged) > LOG_SECTION_CHARS:  # the start says what went wrong first
                logged = (f"{logged[:LOG_SECTION_CHARS // 2]}\n[...]\n"
                          f"{logged[-LOG_SECTION_CHARS // 2:]}")
            if logged.strip():
                report.sections.append((f"the local {name} logged ({call.when})", logged))


RERUN_AFTER_CRASH = "ran again after MariaDB failed under them"


def _mariadb_state(config: pytest.Config) -> tuple[int, int]:
    # (crashes so far, the Directus log's size): what a test's run is compared against.
    server = config.stash.get(SESSION_SERVER, None)
    return (int(getattr(getattr(server, "mariadb", None), "crashes", 0)),
            _log_size(_log_path(server)))


def _mariadb_failed(config: pytest.Config, before: tuple[int, int]) -> bool:
    # MariaDB 10.11 failing inside its INFORMATION_SCHEMA code while Directus reads the
    # schema during a schema change: a segfault (mariadbd restarted), or an error on its
    # own internal temporary table ("Error on delete of '/tmp/#sql-temptable-...'").
    crashes, size = before
    if _mariadb_state(config)[0] != crashes:
        return True
    logged = log_tail(_log_path(config.stash.get(SESSION_SERVER, None)), size, chars=None)
    return "#sql-temptable-" in logged


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """Run a test once more when the session's MariaDB failed under it.

    MariaDB 10.11 can crash (a segfault in its INFORMATION_SCHEMA code), or fail a query
    on its own internal temporary table, while Directus reads the schema during a schema
    change. MariaDBServer starts a crashed server again as Debian's service does, but the
    requests in flight meanwhile fail, which says nothing about the code under test. Such
    a test runs once more, and the summary names it with its first failure and what the
    servers logged; a failure without such a sign is never run again.
    """
    if chosen_database(item.config) != "mariadb":
        return None
    from _pytest.runner import runtestprotocol

    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    before = _mariadb_state(item.config)
    reports = runtestprotocol(item, nextitem=nextitem, log=False)
    if any(report.failed for report in reports) and _mariadb_failed(item.config, before):
        first = next(report for report in reports if report.failed)
        told = "\n".join([first.longreprtext[-3000:],
                          *(text[-3000:] for title, text in first.sections
                            if title.startswith("the local"))])
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
        for report in reports:
            report.user_properties.append((RERUN_AFTER_CRASH, told))
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Name the tests that ran again after a MariaDB crash, with what they met first."""
    again: dict[str, str] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            for key, value in getattr(report, "user_properties", ()):
                if key == RERUN_AFTER_CRASH:
                    again[report.nodeid] = str(value)
    if again:
        terminalreporter.write_sep("=", f"{len(again)} test(s) {RERUN_AFTER_CRASH}")
        for nodeid, told in sorted(again.items()):
            terminalreporter.write_line(f"{nodeid}: the first run met\n{told}\n")


def _log_size(path: Any) -> int:
    if path is not None:
        with contextlib.suppress(OSError):
            return int(path.stat().st_size)
    return 0


def _log_path(server: object) -> Any:
    # A stopped server's log_path raises; an existing server has none.
    try:
        return getattr(server, "log_path", None)
    except Exception:
        return None


def _server_required() -> bool:
    return any(
        os.environ.get(name, "").lower() in ("1", "true", "yes")
        for name in ("CI", "PYDIRECTUS_REQUIRE_SERVER")
    )


class _Startable(Protocol):
    def start(self) -> Any: ...
    def stop(self) -> None: ...


S = TypeVar("S", bound=_Startable)


@contextlib.contextmanager
def running(server: S) -> Iterator[S]:
    """Start a server for a fixture: skip its tests if it cannot start (fail them in CI)."""
    try:
        server.start()
    except Exception as exc:
        message = f"the local Directus could not start: {exc}"
        if _server_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def directus_database(request: pytest.FixtureRequest) -> str:
    """Return the database local servers of this run use: "sqlite", "postgresql" or
    "mariadb"."""
    return chosen_database(request.config)


@pytest.fixture(scope="session")
def directus(directus_database: str, request: pytest.FixtureRequest
             ) -> Iterator[DirectusServer | ExistingDirectus]:
    """Start one local Directus for the test session (or use the existing one from the env)."""
    existing = ExistingDirectus.from_env()
    if existing is not None:
        yield existing
        return
    # Resumable uploads and realtime on: both are tested against it on every database pass
    # without a server of their own.
    with running(DirectusServer(database=directus_database, tus=True, websockets=True)) as server:
        request.config.stash[SESSION_SERVER] = server
        yield server


@pytest.fixture(scope="session")
def directus_face(request: pytest.FixtureRequest) -> str:
    """Return the face this test runs on: "sync" or "async" (see --directus-face)."""
    face: str = getattr(request, "param", None) or chosen_faces(request.config)[0]
    return face


@pytest.fixture(scope="session")
def directus_client(directus: DirectusServer, directus_face: str) -> Iterator[Any]:
    """Return an admin client (static token) for the session's server, of the run's face."""
    from pydirectus import StaticToken

    with face_client(directus_face, directus.url,
                     auth=StaticToken(directus.admin_token)) as client:
        yield client


@pytest.fixture
def make_client(directus_face: str) -> Iterator[Callable[..., Any]]:
    """Return a factory: DirectusClient's arguments -> a client of the test's face (the sync
    API either way); each is closed after the test."""
    made: list[Any] = []

    def make(*args: Any, **kwargs: Any) -> Any:
        client = face_client(directus_face, *args, **kwargs)
        made.append(client)
        return client

    try:
        yield make
    finally:
        for client in reversed(made):
            client.close()


@pytest.fixture
def make_collection(directus: DirectusServer) -> Iterator[Callable[..., str]]:
    """Return a factory that creates uniquely named collections, dropped after the test."""
    factory = CollectionFactory(directus.url, directus.admin_token)
    try:
        yield factory
    finally:
        factory.drop_all()


@pytest.fixture
def access_grants(directus_client: Any) -> Iterator[Any]:
    """Return an AccessGrants: users, policies and permissions it makes go after the test."""
    from .access import AccessGrants

    with AccessGrants(directus_client) as grants:
        yield grants


@pytest.fixture
def make_token_clients(directus_client: Any, make_collection: Callable[..., str],
                       access_grants: Any) -> Callable[..., Any]:
    """Return a factory: fields (and make_collection's options) -> TokenClients."""
    from .access import ACTIONS, TokenClients

    grants = access_grants

    def make(fields: Any = None, *, api_actions: Any = ACTIONS,
             public_actions: Any = ("read",), **options: Any) -> TokenClients:
        name = make_collection(TOKEN_CLIENTS_FIELDS if fields is None else fields, **options)
        return TokenClients(name, directus_client, grants.api_client({name: api_actions}),
                            grants.public_client({name: public_actions}))

    return make


@pytest.fixture
def token_clients(make_token_clients: Callable[..., Any]) -> Any:
    """Return TokenClients (admin, API-only CRUD, Public read) on one fresh collection."""
    return make_token_clients()
