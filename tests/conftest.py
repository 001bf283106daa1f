"""Shared test set-up: the real-Directus fixtures and Hypothesis profiles."""

import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["pydirectus.testing.pytest_plugin"]

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_report_header() -> str:
    """Say which JSON codec the run uses (PYDIRECTUS_NO_ORJSON=1 turns orjson off)."""
    from pydirectus.encoding import ORJSON

    return f"pydirectus JSON codec: {'orjson' if ORJSON else 'json'}"
