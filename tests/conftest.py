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


def pytest_report_header() -> str:
    """Say which JSON codec the run uses (PYDIRECTUS_NO_ORJSON=1 turns orjson off)."""
    from pydirectus.encoding import ORJSON

    return f"pydirectus JSON codec: {'orjson' if ORJSON else 'json'}"
