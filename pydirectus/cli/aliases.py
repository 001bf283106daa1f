"""Columns and alias fields of a collection, so that an export holds what an import can write.

An alias field (o2m, m2m, m2a, translations, a presentation divider or group) has no column:
Directus returns an o2m or m2m alias as the list of the related keys, and writing that
list back is a nested relational write (it moves the related items, and is refused when
they do not exist yet). So ``export`` writes the columns only and ``import`` refuses alias
fields, unless ``--with-relations`` asks for them.

The kinds come from GET /fields/{collection} (admin, or a policy with app access). A token
that may not read it gets every field Directus returns, and a warning naming the fields
that held lists: nothing else it may read tells an o2m/m2m alias from a JSON or CSV column
holding a list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .common import fail

if TYPE_CHECKING:
    from ..client import DirectusClient

__all__ = ["FieldKinds", "FieldRows", "ListFields", "check_no_aliases", "describe_aliases",
           "field_kinds", "unknown_kinds_warning"]

# The `special` flags naming what an alias field is; a bare alias is presentation only.
ALIAS_KINDS = ("o2m", "m2m", "m2a", "translations", "files", "group")


@attrs.frozen
class FieldKinds:
    """A collection's columns (in Directus's field order) and alias fields (name -> kind)."""

    columns: tuple[str, ...]
    aliases: Mapping[str, str]

    def named(self, names: Iterable[str]) -> dict[str, str]:
        """Return the alias fields among names, with their kinds."""
        return {name: self.aliases[name] for name in names if name in self.aliases}


class FieldRows:
    """A collection's fields from GET /fields/{collection}, read once for a command (the CSV
    casts, the alias check and the upsert's primary key all need them); None when the token
    may not read them."""

    def __init__(self, client: DirectusClient, collection: str) -> None:
        self.client = client
        self.collection = collection
        self._rows: list[dict[str, Any]] | None = None
        self._read = False

    def get(self) -> list[dict[str, Any]] | None:
        """Return the fields (GET /fields/{collection} the first time), or None if forbidden."""
        if not self._read:
            from ..errors import PermissionDenied

            try:
                self._rows = [dict(row) for row in self.client.fields.all(self.collection)
                              if isinstance(row, dict)]
            except PermissionDenied:
                self._rows = None
            self._read = True
        return self._rows


def field_kinds(fields: FieldRows) -> FieldKinds | None:
    """Return the columns and aliases of a collection's fields; None when forbidden."""
    rows = fields.get()
    if rows is None:
        return None
    columns: list[str] = []
    aliases: dict[str, str] = {}
    for row in rows:
        name = row.get("field")
        if not isinstance(name, str):
            continue
        if row.get("type") == "alias":
            aliases[name] = _alias_kind(row)
        else:
            columns.append(name)
    return FieldKinds(tuple(columns), aliases)


def _alias_kind(row: Mapping[str, Any]) -> str:
    special = (row.get("meta") or {}).get("special") or ()
    return next((kind for kind in ALIAS_KINDS if kind in special), "presentation")


class ListFields:
    """Watch rows go by and remember the fields that held a list (an alias may be one)."""

    def __init__(self) -> None:
        self.names: dict[str, None] = {}

    def watch(self, rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Yield the rows, noting each field whose value is a list."""
        for row in rows:
            for name, value in row.items():
                if isinstance(value, list) and name not in self.names:
                    self.names[name] = None
            yield row


def unknown_kinds_warning(collection: str, listed: Iterable[str]) -> str:
    """Return the warning for an export whose alias fields cannot be told from columns."""
    return (f"warning: this token may not read /fields/{collection}, so alias fields "
            f"cannot be told from columns: {', '.join(listed)} held lists (o2m/m2m aliases "
            "hold their related keys, or JSON/CSV columns); if they are aliases, leave them "
            "out with --fields, or `import` moves the related items")


def describe_aliases(aliases: Mapping[str, str]) -> str:
    """Return 'posts (o2m), tags (m2m)'."""
    return ", ".join(f"{name} ({kind})" for name, kind in aliases.items())


def check_no_aliases(rows: Iterable[dict[str, Any]], kinds: FieldKinds, path: str
                     ) -> Iterator[dict[str, Any]]:
    """Yield the rows; stop at the first that holds an alias field, naming its fields."""
    for number, row in enumerate(rows, 1):
        found = kinds.named(row)
        if found:
            fail(f"{path}: row {number} holds alias fields {describe_aliases(found)}: they "
                 "are relations, not columns (writing them moves the related items, which "
                 "must exist); export with the default fields, drop them, or pass "
                 "--with-relations to send them as nested relational writes")
        yield row
