"""Where Directus's answers depend on the database under it, for tests that run on several."""

from __future__ import annotations

__all__ = ["nulls_sort_first"]

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
