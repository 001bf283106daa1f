"""pytest fixtures for a real local Directus: load with ``pytest_plugins = [...]`` in conftest.

- ``directus``: one DirectusServer for the whole test session (started on first use).
- ``directus_client``: an admin DirectusClient (static token) on that server.
- ``make_collection``: creates uniquely named collections for one test, dropped afterwards.

When the server cannot start, tests that need it are skipped, except under ``CI=true``
(or ``PYDIRECTUS_REQUIRE_SERVER=1``), where they fail: CI must never go green by skipping.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .collections import CollectionFactory
from .server import DirectusServer

__all__ = ["directus", "directus_client", "make_collection", "running"]


def _server_required() -> bool:
    return any(
        os.environ.get(name, "").lower() in ("1", "true", "yes")
        for name in ("CI", "PYDIRECTUS_REQUIRE_SERVER")
    )


@contextlib.contextmanager
def running(server: DirectusServer) -> Iterator[DirectusServer]:
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
def directus() -> Iterator[DirectusServer]:
    """Start one local Directus for the test session."""
    with running(DirectusServer()) as server:
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
