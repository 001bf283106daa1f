"""Shared test set-up: the real-Directus fixtures and Hypothesis profiles."""

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ["pydirectus.testing.pytest_plugin"]

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _forget_login_refusals() -> Iterator[None]:
    """Start each test with no login refusal remembered across the process by an earlier
    test (pydirectus.refusals: same server, email and password within the cool-down)."""
    yield
    from pydirectus.refusals import forget_refusals

    forget_refusals()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the own_databases tests outside the SQLite pass: they start the servers
    they test (PostgreSQL, MariaDB, SQLite) themselves, so another pass would repeat them.
    The docs_pages tests too: the pages run once; what they show is tested per database."""
    from pydirectus.testing.pytest_plugin import chosen_database

    if chosen_database(config) == "sqlite":
        return
    def sqlite_only(item: pytest.Item) -> bool:
        return any(item.get_closest_marker(name) for name in ("own_databases", "docs_pages"))

    dropped = [item for item in items if sqlite_only(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not sqlite_only(item)]


def pytest_report_header() -> str:
    """Say which JSON codec the run uses (PYDIRECTUS_NO_ORJSON=1 turns orjson off)."""
    from pydirectus.encoding import ORJSON

    return f"pydirectus JSON codec: {'orjson' if ORJSON else 'json'}"
