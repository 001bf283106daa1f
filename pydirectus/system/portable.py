"""Port a /schema/snapshot taken on one database (SQLite, PostgreSQL, ...) to another's terms.

Directus diffs snapshots column detail by column detail: SQLite's ``varchar`` is
PostgreSQL's ``character varying``, PostgreSQL gives an integer a precision of 32 that
SQLite leaves out, SQLite stores a uuid as ``char(36)``. And SQLite reports a foreign key to
a uuid key as a ``string`` (only the key itself has the ``uuid`` special that says
otherwise), so a snapshot taken there would make PostgreSQL add a ``varchar`` column that
no foreign key to a uuid may use. ``port_snapshot`` rewrites a snapshot so the target
reads it in its own terms: foreign keys typed as the keys they point at, and a column or
relation that means the same on both sides given the target's own details.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["PORTABLE_COLUMN", "foreign_keys_outside", "port_snapshot"]

# What a column means whatever the database: the details Directus creates a column from.
PORTABLE_COLUMN = ("is_nullable", "is_unique", "is_indexed", "is_primary_key",
                   "has_auto_increment", "is_generated", "foreign_key_table",
                   "foreign_key_column")
# Types whose length is theirs to choose (a uuid is 36 characters on SQLite, none elsewhere).
_SIZED = {"string": ("max_length",), "hash": ("max_length",),
          "decimal": ("numeric_precision", "numeric_scale")}
# What a relation means whatever the database (its constraint's name is the database's).
_PORTABLE_RELATION = ("table", "column", "foreign_key_table", "foreign_key_column",
                      "on_delete")


def foreign_keys_outside(snapshot: Mapping[str, Any]) -> list[str]:
    """Return the collections the snapshot's relations point at that it does not hold
    (system collections such as directus_files), whose key types must be looked up."""
    held = {row.get("collection") for row in snapshot.get("collections") or []}
    related = (row.get("related_collection") for row in snapshot.get("relations") or [])
    return sorted({name for name in related if isinstance(name, str) and name not in held})


def port_snapshot(snapshot: Mapping[str, Any], target: Mapping[str, Any],
                  key_types: Mapping[str, str]) -> dict[str, Any]:
    """Return `snapshot` in `target`'s terms (``target`` being the target's own snapshot).

    `key_types` gives the primary-key type of the related collections the snapshot does
    not hold (see ``foreign_keys_outside``). The result carries the target's vendor.
    """
    keys = {**_key_types(snapshot.get("fields") or []), **key_types}
    foreign = {(row["collection"], row["field"]): row["related_collection"]
               for row in snapshot.get("relations") or []
               if isinstance(row.get("related_collection"), str)}
    theirs = {(row["collection"], row["field"]): row for row in target.get("fields") or []}
    fields = []
    for row in snapshot.get("fields") or []:
        row = _key_not_null(row)
        place = (row["collection"], row["field"])
        key_type = keys.get(foreign.get(place, ""))
        if key_type is not None and row.get("type") != "alias":
            row = _typed_as_key(row, key_type)
        there = theirs.get(place)
        if there is not None and _column_meaning(row) == _column_meaning(_key_not_null(
                there if key_type is None else _typed_as_key(there, key_type))):
            # The same column: say it as the target does (SQLite's uuid foreign key is
            # a "string" there), so Directus finds nothing to change.
            row = {**row, "type": there.get("type"), "schema": there.get("schema")}
        fields.append(row)
    relations = {(row["collection"], row["field"]): row for row in target.get("relations") or []}
    ported_relations = []
    for row in snapshot.get("relations") or []:
        there = relations.get((row["collection"], row["field"]))
        if there is not None and _relation_meaning(row) == _relation_meaning(there):
            row = {**row, "schema": there.get("schema")}
        ported_relations.append(row)
    ported = {**snapshot, "vendor": target.get("vendor"), "fields": fields,
              "relations": ported_relations}
    if snapshot.get("vendor") != target.get("vendor") and "systemFields" in target:
        # Directus's own columns, in another database's details: applied, they would have
        # Directus alter its own tables (MariaDB refuses: a foreign key uses the column).
        # A system field's one setting of ours, its index, stays as the target has it.
        ported["systemFields"] = target["systemFields"]
    return ported


def _key_types(fields: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for row in fields:
        if (row.get("schema") or {}).get("is_primary_key"):
            # SQLite reports a uuid key as a string unless the uuid special says otherwise.
            special = (row.get("meta") or {}).get("special") or []
            keys[row["collection"]] = "uuid" if "uuid" in special else str(row.get("type"))
    return keys


def _key_not_null(row: Mapping[str, Any]) -> dict[str, Any]:
    # A primary key is never null, but MariaDB reports a uuid (char(36)) key as nullable:
    # taken at its word, PostgreSQL is asked to drop NOT NULL from a primary key (500).
    schema = row.get("schema") or {}
    if schema.get("is_primary_key") and schema.get("is_nullable"):
        return {**row, "schema": {**schema, "is_nullable": False}}
    return dict(row)


def _typed_as_key(row: Mapping[str, Any], key_type: str) -> dict[str, Any]:
    # A foreign key's column must have the type of the key it points at.
    if row.get("type") == key_type:
        return dict(row)
    schema = dict(row.get("schema") or {})
    if key_type == "uuid":
        schema.update(data_type="uuid", max_length=None)
    return {**row, "type": key_type, "schema": schema}


def _column_meaning(row: Mapping[str, Any]) -> tuple[Any, ...]:
    schema = row.get("schema") or {}
    if schema.get("is_primary_key"):
        # Unique and not null by being the key, whatever a database reports (SQLite: a
        # uuid key is unique; MariaDB: neither unique nor NOT NULL).
        schema = {**schema, "is_unique": True, "is_nullable": False}
    if schema.get("foreign_key_table"):
        # InnoDB (MariaDB) indexes every foreign key itself; SQLite and PostgreSQL do not.
        schema = {**schema, "is_indexed": False}
    kind = row.get("type")
    sized = tuple(schema.get(key) for key in _SIZED.get(str(kind), ()))
    return (kind, sized, _default(schema.get("default_value")),
            *(bool(schema.get(key)) if key.startswith(("is_", "has_")) else schema.get(key)
              for key in PORTABLE_COLUMN))


def _default(value: Any) -> Any:
    # SQLite reports a default as it was written (0, "0", "false"); compare their text.
    if isinstance(value, bool):
        return str(value).lower()
    return None if value is None else str(value)


def _relation_meaning(row: Mapping[str, Any]) -> tuple[Any, ...]:
    schema = row.get("schema") or {}
    return (row.get("related_collection"), *(schema.get(key) for key in _PORTABLE_RELATION))
