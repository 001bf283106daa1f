"""Directus dynamic variables: placeholders the server fills in when it runs a query.

They are turned into their ``$`` strings as soon as they enter a query, so a built
query holds only plain JSON values and compares equal to one parsed back from JSON.
"""

from __future__ import annotations

import attrs

from pydirectus.errors import InvalidQuery

__all__ = ["CURRENT_POLICIES", "CURRENT_ROLE", "CURRENT_ROLES", "CURRENT_USER", "Now", "Variable"]


@attrs.frozen(repr=False)
class Variable:
    """A Directus dynamic variable such as ``$CURRENT_USER``."""

    name: str

    def field(self, path: str) -> Variable:
        """Return the variable for one of its fields, e.g. ``$CURRENT_USER.role``."""
        if not isinstance(path, str) or not path or path.startswith("."):
            raise InvalidQuery(f"{self.name}.field(): expected a field path, got {path!r}")
        return Variable(f"{self.name}.{path}")

    def __str__(self) -> str:
        return f"${self.name}"

    def __repr__(self) -> str:
        base, _, path = self.name.partition(".")
        return f"{base}.field({path!r})" if path else base


@attrs.frozen(repr=False)
class Now:
    """The server's current time, ``$NOW``; ``Now("-1 year")`` is ``$NOW(-1 year)``."""

    adjustment: str | None = None

    def __attrs_post_init__(self) -> None:
        adj = self.adjustment
        # Directus reads the adjustment up to the closing parenthesis, so one inside
        # it would silently truncate the offset.
        if adj is not None and (not isinstance(adj, str) or not adj.strip() or ")" in adj):
            raise InvalidQuery(f"Now(): expected an adjustment like '-1 year', got {adj!r}")

    def __str__(self) -> str:
        return f"$NOW({self.adjustment})" if self.adjustment is not None else "$NOW"

    def __repr__(self) -> str:
        return f"Now({self.adjustment!r})" if self.adjustment is not None else "Now()"


CURRENT_USER = Variable("CURRENT_USER")
CURRENT_ROLE = Variable("CURRENT_ROLE")
CURRENT_ROLES = Variable("CURRENT_ROLES")
CURRENT_POLICIES = Variable("CURRENT_POLICIES")
