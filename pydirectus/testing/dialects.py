"""Where Directus's answers depend on the database under it, for tests that run on several."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

__all__ = ["general_ci", "nulls_sort_first", "text_key"]

# PostgreSQL sorts NULL above every value (last ascending, first descending); SQLite,
# MariaDB and MySQL below every value. ("mysql" is what an existing Directus's
# /server/health names both MySQL and MariaDB.)
_NULL_IS_HIGHEST = {"postgresql": True, "sqlite": False, "mariadb": False, "mysql": False}


def nulls_sort_first(database: str, *, descending: bool = False) -> bool:
    """Return whether Directus on `database` lists NULLs first in a sort on a nullable field."""
    try:
        highest = _NULL_IS_HIGHEST[database]
    except KeyError:
        raise ValueError(f"no NULL ordering known for database {database!r}") from None
    return highest == descending


def _same(text: str) -> str:
    return text


def general_ci(text: str) -> str:
    """Return a string's utf8mb4_general_ci weights: per character its base letter (accents
    dropped), upper-cased. ("=" also ignores trailing spaces; LIKE does not.)"""
    return "".join(_general_ci_char(char) for char in text)


def _general_ci_char(char: str) -> str:
    base = unicodedata.normalize("NFD", char)[0]
    return base.upper()[0]  # one weight a character: ß is S, not SS


# SQLite's BINARY collation and PostgreSQL's C.UTF-8 (the local server's) compare code
# points; MariaDB's utf8mb4_general_ci (Debian's default, the local server's) ignores
# case and accents.
_TEXT_KEYS: dict[str, Callable[[str], str]] = {
    "sqlite": _same, "postgresql": _same, "mariadb": general_ci, "mysql": general_ci}


def text_key(database: str) -> Callable[[str], str]:
    """Return what `database` compares of a string in "=", IN and ORDER BY (a sort key)."""
    try:
        return _TEXT_KEYS[database]
    except KeyError:
        raise ValueError(f"no string collation known for database {database!r}") from None
