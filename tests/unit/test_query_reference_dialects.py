"""The reference evaluator's dialects: what each database answers to the same filter
(pinned against a real Directus by tests/integration/test_query_differential.py)."""

from __future__ import annotations

from typing import Any

import pytest

from .query_reference import DIALECTS, evaluate

ROW = {"title": "Naïve", "padded": "ann ", "when": "2024-06-15T12:00:00"}  # a Saturday


def _answers(flt: dict[str, Any]) -> dict[str, bool]:
    return {dialect: evaluate(flt, ROW, dialect=dialect) for dialect in DIALECTS}


def test_equality_is_exact_but_on_mariadb_whose_collation_ignores_case_and_accents() -> None:
    assert _answers({"title": {"_eq": "naive"}}) == {
        "sqlite": False, "postgres": False, "mariadb": True}
    assert _answers({"title": {"_in": ["x", "NAIVE"]}}) == {
        "sqlite": False, "postgres": False, "mariadb": True}
    assert _answers({"title": {"_neq": "NAÏVE"}}) == {
        "sqlite": True, "postgres": True, "mariadb": False}
    # MariaDB's "=" ignores trailing spaces (PAD SPACE); its LIKE does not.
    assert _answers({"padded": {"_eq": "ann"}})["mariadb"]
    assert not _answers({"padded": {"_ends_with": "n"}})["mariadb"]


def test_like_ignores_ascii_case_on_sqlite_nothing_on_postgres_case_and_accents_on_mariadb(
) -> None:
    assert _answers({"title": {"_starts_with": "na"}}) == {
        "sqlite": True, "postgres": False, "mariadb": True}
    assert _answers({"title": {"_contains": "ÏV"}}) == {
        "sqlite": False, "postgres": False, "mariadb": True}
    assert _answers({"title": {"_contains": "iv"}}) == {
        "sqlite": False, "postgres": False, "mariadb": True}
    # Directus lowers the value itself (in JavaScript: all of Unicode), the column with SQL.
    assert _answers({"title": {"_icontains": "ÏV"}}) == {
        "sqlite": True, "postgres": True, "mariadb": True}
    assert _answers({"title": {"_icontains": "IV"}}) == {
        "sqlite": False, "postgres": False, "mariadb": True}


def test_weekday_and_week_follow_each_database_function() -> None:
    # Saturday: 6 from 0 = Sunday (SQLite %w, PostgreSQL DOW), 7 from 1 (MariaDB DAYOFWEEK).
    assert _answers({"weekday(when)": {"_eq": 6}}) == {
        "sqlite": True, "postgres": True, "mariadb": False}
    assert _answers({"weekday(when)": {"_eq": 7}})["mariadb"]
    # Week of 2024-06-15: %W (from the first Monday, 2024-01-01) 24, ISO 24, WEEK() in
    # mode 0 (from the first Sunday, 2024-01-07) 23.
    assert _answers({"week(when)": {"_eq": 24}}) == {
        "sqlite": True, "postgres": True, "mariadb": False}
    assert _answers({"week(when)": {"_eq": 23}})["mariadb"]


def test_an_unknown_dialect_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown dialect 'mysql'"):
        evaluate({}, ROW, dialect="mysql")
