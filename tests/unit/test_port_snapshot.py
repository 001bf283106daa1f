"""port_snapshot: a snapshot from one database in another's terms (what the target reports)."""

from __future__ import annotations

from typing import Any

from pydirectus.system.portable import foreign_keys_outside, port_snapshot


def _field(collection: str, field: str, kind: str, **schema: Any) -> dict[str, Any]:
    return {"collection": collection, "field": field, "type": kind,
            "meta": {"special": schema.pop("special", None)}, "schema": schema}


def _relation(collection: str, field: str, related: str, **schema: Any) -> dict[str, Any]:
    return {"collection": collection, "field": field, "related_collection": related,
            "meta": {"one_field": None}, "schema": {"on_delete": "SET NULL", **schema}}


def _snapshot(vendor: str, fields: list[dict[str, Any]],
              relations: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": 1, "directus": "12.4.0", "vendor": vendor,
            "collections": [{"collection": "series"}, {"collection": "posts"}],
            "fields": fields, "relations": relations}


SQLITE = _snapshot("sqlite", [
    _field("series", "id", "string", data_type="char", max_length=36, is_primary_key=True,
           special=["uuid"]),
    _field("posts", "title", "string", data_type="varchar", max_length=255),
    _field("posts", "series", "string", data_type="char", max_length=36,
           foreign_key_table="series", foreign_key_column="id"),
    _field("posts", "cover", "string", data_type="char", max_length=36,
           foreign_key_table="directus_files", foreign_key_column="id"),
], [_relation("posts", "series", "series", constraint_name=None),
    _relation("posts", "cover", "directus_files", constraint_name=None)])


def test_foreign_keys_are_typed_as_the_keys_they_point_at() -> None:
    assert foreign_keys_outside(SQLITE) == ["directus_files"]
    empty = _snapshot("postgres", [], [])
    ported = port_snapshot(SQLITE, empty, {"directus_files": "uuid"})
    types = {(f["field"]): (f["type"], f["schema"].get("data_type"), f["schema"]["max_length"])
             for f in ported["fields"] if f["collection"] == "posts"}
    # A new uuid foreign key is made a uuid column; the rest stays as the source says.
    assert types == {"title": ("string", "varchar", 255), "series": ("uuid", "uuid", None),
                     "cover": ("uuid", "uuid", None)}
    assert ported["vendor"] == "postgres" and ported["relations"] == SQLITE["relations"]


def test_what_means_the_same_is_said_as_the_target_says_it() -> None:
    postgres = _snapshot("postgres", [
        _field("series", "id", "uuid", data_type="uuid", max_length=None, is_primary_key=True,
               special=["uuid"]),
        _field("posts", "title", "string", data_type="character varying", max_length=255),
        _field("posts", "series", "uuid", data_type="uuid", max_length=None,
               foreign_key_table="series", foreign_key_column="id"),
        _field("posts", "cover", "uuid", data_type="uuid", max_length=None,
               foreign_key_table="directus_files", foreign_key_column="id", is_unique=True),
    ], [_relation("posts", "series", "series", constraint_name="posts_series_foreign"),
        _relation("posts", "cover", "directus_files", constraint_name="posts_cover_foreign",
                  on_delete="CASCADE")])
    # From PostgreSQL to SQLite: the SQLite snapshot's own rows come back where they agree.
    back = port_snapshot(postgres, SQLITE, {"directus_files": "uuid"})
    rows = {f["field"]: f for f in back["fields"] if f["collection"] == "posts"}
    assert rows["title"] == SQLITE["fields"][1] and rows["series"] == SQLITE["fields"][2]
    # Unique here: a real change, kept in the source's terms with the key's type.
    assert rows["cover"]["type"] == "uuid" and rows["cover"]["schema"]["is_unique"] is True
    relations = {r["field"]: r["schema"] for r in back["relations"]}
    assert relations["series"]["constraint_name"] is None
    assert relations["cover"]["on_delete"] == "CASCADE"
    assert back["vendor"] == "sqlite"
