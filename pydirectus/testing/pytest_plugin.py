"""pytest fixtures for a real local Directus: load with ``pytest_plugins = [...]`` in conftest.

- ``directus``: one DirectusServer for the whole test session (started on first use).
- ``directus_client``: an admin DirectusClient (static token) on that server.
- ``make_collection``: creates uniquely named collections for one test, dropped afterwards.
- ``access_grants``: an :class:`~pydirectus.testing.access.AccessGrants` for one test: the
  API-only users, policies and Public permissions made through it are removed afterwards.
- ``make_token_clients``: a factory of :class:`~pydirectus.testing.access.TokenClients` (admin,
  an API-only user with CRUD, Public with read) on a fresh collection; ``token_clients`` is
  one of them on a collection with ``title`` (string), ``views`` (integer) and ``status``.
  The users, policies and permission rows they make are removed after the test.
- ``directus_database``: the database local servers of this run use ("sqlite" or
  "postgresql"), for tests that start a server of their own with special settings.

The database is chosen for the whole run by ``--directus-db=postgresql`` (or the
environment variable ``PYDIRECTUS_TEST_DB``); SQLite by default. With
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

from .collections import CollectionFactory
from .existing import ExistingDirectus
from .server import DATABASES, DirectusServer

__all__ = [
    "access_grants",
    "directus",
    "directus_client",
    "directus_database",
    "make_collection",
    "make_token_clients",
    "running",
    "token_clients",
]

TOKEN_CLIENTS_FIELDS = {"title": "string", "views": "integer", "status": "string"}

DB_VAR = "PYDIRECTUS_TEST_DB"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add --directus-db."""
    parser.getgroup("pydirectus").addoption(
        "--directus-db", choices=DATABASES, default=None,
        help=f"the database of the local Directus for this run (default: ${DB_VAR} or sqlite)",
    )


def chosen_database(config: pytest.Config) -> str:
    """Return the run's database: --directus-db, else $PYDIRECTUS_TEST_DB, else sqlite."""
    option: str | None = config.getoption("directus_db", default=None)
    value = option or os.environ.get(DB_VAR, "").strip().lower() or "sqlite"
    if value not in DATABASES:
        raise pytest.UsageError(
            f"{DB_VAR}={value!r}: choose one of {', '.join(DATABASES)}")
    return value


def pytest_configure(config: pytest.Config) -> None:
    """Refuse a bad database choice before collecting anything."""
    chosen_database(config)


def pytest_report_header(config: pytest.Config) -> str:
    """Say which Directus the run talks to."""
    if os.environ.get("PYDIRECTUS_TEST_URL"):
        return f"directus: the existing server at {os.environ['PYDIRECTUS_TEST_URL']}"
    return f"directus: a local Directus on {chosen_database(config)}"


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
    """Return the database local servers of this run use: "sqlite" or "postgresql"."""
    return chosen_database(request.config)


@pytest.fixture(scope="session")
def directus(directus_database: str) -> Iterator[DirectusServer | ExistingDirectus]:
    """Start one local Directus for the test session (or use the existing one from the env)."""
    existing = ExistingDirectus.from_env()
    if existing is not None:
        yield existing
        return
    with running(DirectusServer(database=directus_database)) as server:
        yield server


@pytest.fixture(scope="session")
def directus_client(directus: DirectusServer) -> Iterator[Any]:
    """Return an admin client (static token) for the session's server."""
    from pydirectus import DirectusClient, StaticToken

    with DirectusClient(directus.url, auth=StaticToken(directus.admin_token)) as client:
        yield client


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
