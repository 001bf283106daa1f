"""Schema as code: /collections, /fields and /relations handles, a declarative helper, and
/schema snapshot, diff and apply to copy a schema from one Directus to another.

Every change through these handles drops the client's schema cache (primary keys,
singletons, relations), so later reads see the new shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from ..checks import check_data, check_name, check_positive_int
from ..core import plans
from ..core.plans import Plan, Runner
from ..errors import NotFound, PermissionDenied, UsageError
from ..models import CollectionRecord, FieldRecord, Relation
from .handles import admin_plan, discard
from .portable import foreign_keys_outside, port_snapshot

if TYPE_CHECKING:
    from ..core.schema import SchemaCache

__all__ = [
    "FIELD_TYPES",
    "Collections",
    "Field",
    "Fields",
    "File",
    "Files",
    "Image",
    "ManyToMany",
    "ManyToOne",
    "OneToMany",
    "Relations",
    "SchemaAPI",
]

# Directus's field types (the `type` of /fields); "alias" is for fields with no column.
FIELD_TYPES = frozenset({
    "bigInteger", "binary", "boolean", "csv", "date", "dateTime", "decimal", "float",
    "geometry", "geometry.LineString", "geometry.MultiLineString", "geometry.MultiPoint",
    "geometry.MultiPolygon", "geometry.Point", "geometry.Polygon", "hash", "integer", "json",
    "string", "text", "time", "timestamp", "uuid",
})
# The "special" flags the app sets so values come back cast (JSON parsed, booleans true/false).
TYPE_SPECIALS = {"json": ["cast-json"], "csv": ["cast-csv"], "boolean": ["cast-boolean"],
                 "hash": ["hash"]}
PRIMARY_KEYS = ("integer", "uuid", "string")
# Types whose empty string a required field refuses too (by a meta.validation rule).
TEXT_TYPES = frozenset({"string", "text", "hash", "csv"})
FILES = "directus_files"
ON_DELETE = ("SET NULL", "CASCADE", "NO ACTION", "RESTRICT", "SET DEFAULT")

R = TypeVar("R")

#: GET /collections: records, each naming its collection
_COLLECTION_RECORDS = plans.Shape(
    "a list of collection records",
    lambda value: isinstance(value, list) and all(
        isinstance(row, dict) and isinstance(row.get("collection"), str) for row in value))


class _Handle:
    def __init__(self, transport: Runner, schema: SchemaCache) -> None:
        self._runner = transport
        self._transport: Any = transport
        self._schema = schema

    def _run(self, plan: Plan[R]) -> R:
        return self._runner.run(plan)

    def _write(self, method: str, *segments: str | int, json: Any = None,
               params: Mapping[str, str] | None = None,
               expect: plans.Shape = plans.OBJECT_OR_NOTHING) -> Plan[Any]:
        try:
            return (yield from plans.data(method, *segments, json=json, params=params,
                                          expect=expect,
                                          idempotent=method == "DELETE" or None))
        finally:
            # Even a failed change may have half-happened: forget what we knew.
            self._schema.clear()


class Collections(_Handle):
    """The /collections handle: list, read, create, update and delete collections."""

    def __repr__(self) -> str:
        return "<Collections /collections>"

    def all(self, *, system: bool = False) -> list[CollectionRecord]:
        """Return the collections from GET /collections (directus_* ones only if asked)."""
        return self._run(self._all(system))

    def _all(self, system: bool = False) -> Plan[list[CollectionRecord]]:
        found: list[CollectionRecord] = yield from plans.data("GET", "collections",
                                                              expect=_COLLECTION_RECORDS)
        return [c for c in found if system or not is_system(c["collection"])]

    def get(self, name: str) -> CollectionRecord:
        """Return one collection from GET /collections/{name}."""
        return cast("CollectionRecord", self._run(plans.data("GET", "collections",
                                                             check_name(name),
                                                             expect=plans.OBJECT)))

    def create(self, spec: Mapping[str, Any]) -> CollectionRecord:
        """Create a collection (with its fields) from a raw spec with POST /collections."""
        body = dict(check_data(spec, "spec"))
        check_name(body.get("collection"), "spec['collection']")
        return self._run(self._create(body))

    def _create(self, body: dict[str, Any]) -> Plan[CollectionRecord]:
        return cast("CollectionRecord", (yield from self._write("POST", "collections",
                                                                json=body)))

    def update(self, name: str, meta: Mapping[str, Any]) -> CollectionRecord:
        """Change a collection's meta (note, icon, sort field, ...) with
        PATCH /collections/{name}."""
        body = {"meta": dict(check_data(meta, "meta"))}
        return cast("CollectionRecord", self._run(self._write(
            "PATCH", "collections", check_name(name), json=body)))

    def update_many(self, changes: Mapping[str, Mapping[str, Any]]) -> list[CollectionRecord]:
        """Change several collections' meta in one PATCH /collections (collection name ->
        its meta change, as for update()); return the updated collections (an empty list
        when the token may change them but not read them back)."""
        if not isinstance(changes, Mapping) or not changes:
            raise UsageError(f"changes: expected a non-empty dict of collection name -> meta, "
                             f"got {changes!r}")
        body = [{"collection": check_name(name, "changes key"),
                 "meta": dict(check_data(meta, f"changes[{name!r}]"))}
                for name, meta in changes.items()]
        return self._run(self._update_many(body))

    def _update_many(self, body: list[dict[str, Any]]) -> Plan[list[CollectionRecord]]:
        found = yield from self._write("PATCH", "collections", json=body,
                                       expect=plans.OBJECTS_OR_NOTHING)
        return cast("list[CollectionRecord]", found or [])

    def delete(self, name: str) -> None:
        """Drop a collection, its table and its items with DELETE /collections/{name}.

        A system collection (directus_*) is refused before anything is sent: Directus
        would drop its table.
        """
        name = check_name(name)
        if is_system(name):
            raise UsageError(
                f"collections.delete({name!r}): a system collection; Directus would drop its "
                f"table, which Directus itself needs. Nothing was sent. To remove rows, delete "
                f"them through the collection's own handle (e.g. client.users for "
                f"directus_users)")
        return self._run(self._delete(name))

    def _delete(self, name: str) -> Plan[None]:
        yield from self._write("DELETE", "collections", name, expect=plans.NOTHING)


class Fields(_Handle):
    """The /fields handle: the fields of every collection or of one."""

    def __repr__(self) -> str:
        return "<Fields /fields>"

    def all(self, collection: str | None = None) -> list[FieldRecord]:
        """Return every field from GET /fields, or one collection's from GET /fields/{name}."""
        return self._run(self._all(None if collection is None else check_name(collection)))

    def _all(self, collection: str | None = None) -> Plan[list[FieldRecord]]:
        segments = ("fields",) if collection is None else ("fields", collection)
        found = yield from plans.data("GET", *segments, expect=plans.OBJECTS)
        return cast("list[FieldRecord]", found)

    def get(self, collection: str, field: str) -> FieldRecord:
        """Return one field from GET /fields/{collection}/{field}."""
        return cast("FieldRecord", self._run(plans.data(
            "GET", "fields", check_name(collection), check_name(field, "field"),
            expect=plans.OBJECT)))

    def create(self, collection: str, spec: Mapping[str, Any] | Field, *,
               name: str | None = None) -> FieldRecord:
        """Add a field (a raw spec, or a Field with `name`) with POST /fields/{collection}."""
        if isinstance(spec, Field):
            body = spec.to_dict(check_name(name, "name"))
        else:
            body = dict(check_data(spec, "spec"))
            check_name(body.get("field"), "spec['field']")
        return self._run(self._create(check_name(collection), body))

    def _create(self, collection: str, body: dict[str, Any]) -> Plan[FieldRecord]:
        return cast("FieldRecord", (yield from self._write("POST", "fields", collection,
                                                           json=body)))

    def update(self, collection: str, field: str, data: Mapping[str, Any]) -> FieldRecord:
        """Change a field's type, schema or meta with PATCH /fields/{collection}/{field}."""
        return cast("FieldRecord", self._run(self._write(
            "PATCH", "fields", check_name(collection), check_name(field, "field"),
            json=dict(check_data(data)))))

    def update_many(self, collection: str, changes: Mapping[str, Mapping[str, Any]]
                    ) -> list[FieldRecord]:
        """Change several fields of a collection in one PATCH /fields/{collection} (field
        name -> its change, as for update()); return the updated fields (an empty list when
        the token may change them but not read them back).

        Every field must exist (checked with GET /fields/{collection} first: Directus would
        store a change to a missing field as a field of its own). Directus applies the
        changes one after another, not in one transaction: a change it refuses leaves the
        ones before it applied.
        """
        name = check_name(collection)
        if not isinstance(changes, Mapping) or not changes:
            raise UsageError(f"changes: expected a non-empty dict of field name -> change, "
                             f"got {changes!r}")
        body: list[dict[str, Any]] = []
        for field, data in changes.items():
            check_name(field, "changes key")
            change = dict(check_data(data, f"changes[{field!r}]"))
            if change.setdefault("field", field) != field:
                raise UsageError(f"changes[{field!r}]: its 'field' is {change['field']!r}; a "
                                 f"field is renamed by neither update nor update_many (leave "
                                 f"'field' out)")
            body.append(change)
        return self._run(self._update_many(name, body))

    def _update_many(self, collection: str, body: list[dict[str, Any]]
                     ) -> Plan[list[FieldRecord]]:
        known = {record["field"] for record in (yield from self._all(collection))}
        missing = [change["field"] for change in body if change["field"] not in known]
        if missing:
            raise NotFound(404, "FIELD_NOT_FOUND",
                           f"fields.update_many({collection!r}): no field {missing[0]!r} "
                           f"(missing: {', '.join(map(repr, missing))}); nothing was changed",
                           {"collection": collection, "fields": missing})
        found = yield from self._write("PATCH", "fields", collection, json=body,
                                       expect=plans.OBJECTS_OR_NOTHING)
        return cast("list[FieldRecord]", found or [])

    def delete(self, collection: str, field: str, *, allow_system: bool = False) -> None:
        """Drop a field (and its column) with DELETE /fields/{collection}/{field}.

        A field of a system collection (directus_*) is refused before anything is sent,
        unless ``allow_system=True`` (for a custom field you added to one, such as
        directus_users): Directus would drop the column.
        """
        collection, field = check_name(collection), check_name(field, "field")
        _refuse_system("fields", collection, field, allow_system,
                       "Directus would drop the column, which Directus itself may need")
        return self._run(self._delete(collection, field))

    def _delete(self, collection: str, field: str) -> Plan[None]:
        yield from self._write("DELETE", "fields", collection, field, expect=plans.NOTHING)


class Relations(_Handle):
    """The /relations handle: relations keyed by the many side's collection and field."""

    def __repr__(self) -> str:
        return "<Relations /relations>"

    def all(self, collection: str | None = None) -> list[Relation]:
        """Return every relation from GET /relations, or one collection's from
        GET /relations/{collection}."""
        return self._run(self._all(None if collection is None else check_name(collection)))

    def _all(self, collection: str | None = None) -> Plan[list[Relation]]:
        segments = ("relations",) if collection is None else ("relations", collection)
        found = yield from plans.data("GET", *segments, expect=plans.OBJECTS)
        return cast("list[Relation]", found)

    def get(self, collection: str, field: str) -> Relation:
        """Return one relation from GET /relations/{collection}/{field}."""
        return cast("Relation", self._run(plans.data(
            "GET", "relations", check_name(collection), check_name(field, "field"),
            expect=plans.OBJECT)))

    def create(self, spec: Mapping[str, Any]) -> Relation:
        """Create a relation (collection, field, related_collection, meta, schema) with
        POST /relations."""
        body = dict(check_data(spec, "spec"))
        check_name(body.get("collection"), "spec['collection']")
        check_name(body.get("field"), "spec['field']")
        return self._run(self._create(body))

    def _create(self, body: dict[str, Any]) -> Plan[Relation]:
        return cast("Relation", (yield from self._write("POST", "relations", json=body)))

    def update(self, collection: str, field: str, data: Mapping[str, Any]) -> Relation:
        """Change a relation's meta or schema with PATCH /relations/{collection}/{field}."""
        return cast("Relation", self._run(self._write(
            "PATCH", "relations", check_name(collection), check_name(field, "field"),
            json=dict(check_data(data)))))

    def delete(self, collection: str, field: str, *, allow_system: bool = False) -> None:
        """Delete a relation (the fields stay) with DELETE /relations/{collection}/{field}.

        A relation of a system collection (directus_*) is refused before anything is
        sent, unless ``allow_system=True`` (for one of a custom field you added to it).
        """
        collection, field = check_name(collection), check_name(field, "field")
        _refuse_system("relations", collection, field, allow_system,
                       "Directus would drop the foreign key Directus itself relies on")
        return self._run(discard(self._write("DELETE", "relations", collection, field,
                                             expect=plans.NOTHING)))


def is_system(collection: str) -> bool:
    """Return whether a collection is one of Directus's own (directus_*)."""
    return collection.startswith("directus_")


def _refuse_system(handle: str, collection: str, field: str, allowed: bool, why: str) -> None:
    if is_system(collection) and not allowed:
        raise UsageError(
            f"{handle}.delete({collection!r}, {field!r}): {collection} is a system "
            f"collection; {why}. Nothing was sent. For a custom field you added to it, "
            f"pass allow_system=True")


# The declarative helper's vocabulary: frozen values that compile to /fields and /relations bodies.


def _optional_text(value: Any, what: str) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise UsageError(f"{what}: expected a non-empty string or None, got {value!r}")


@attrs.frozen
class Field:
    """A field with a column: ``Field("string", required=True, length=100)``.

    ``required=True`` is enforced by Directus for every API write, not only in the app:
    the column is NOT NULL (a create without the field, unless it has a default, and a
    write of None get FAILED_VALIDATION) and a text type also refuses "" (a
    ``meta.validation`` rule). ``nullable`` defaults to ``not required``.
    """

    type: str
    required: bool = False
    nullable: bool | None = None
    unique: bool = False
    default: Any = None
    length: int | None = None
    note: str | None = None
    interface: str | None = None
    options: Mapping[str, Any] | None = None
    special: tuple[str, ...] | None = None
    hidden: bool = False

    def __attrs_post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise UsageError(f"Field type {self.type!r} is not a Directus type "
                             f"(known: {', '.join(sorted(FIELD_TYPES))})")
        if self.length is not None:
            check_positive_int(self.length, "Field length")
        if self.required and self.nullable:
            raise UsageError("Field: a required field cannot be nullable (required=True "
                             "makes the column NOT NULL)")

    def to_dict(self, name: str) -> dict[str, Any]:
        """Return the POST /fields body for this field named `name`."""
        nullable = not self.required if self.nullable is None else self.nullable
        schema: dict[str, Any] = {"is_nullable": nullable, "is_unique": self.unique}
        if self.default is not None:
            schema["default_value"] = self.default
        if self.length is not None:
            schema["max_length"] = self.length
        meta: dict[str, Any] = {"required": self.required, "hidden": self.hidden}
        special = list(self.special) if self.special is not None else TYPE_SPECIALS.get(self.type)
        for key, value in (("note", self.note), ("interface", self.interface),
                           ("options", dict(self.options) if self.options else None),
                           ("special", special)):
            if value is not None:
                meta[key] = value
        if self.required and self.type in TEXT_TYPES:
            # Directus checks meta.validation on API writes that carry the field.
            meta["validation"] = {"_and": [{name: {"_nempty": True}}]}
        return {"field": name, "type": self.type, "schema": schema, "meta": meta}


@attrs.frozen
class ManyToOne:
    """A foreign key to `related`; with `reverse`, the one-to-many alias on the other side."""

    related: str
    reverse: str | None = None
    on_delete: str = "SET NULL"
    required: bool = False
    # The app's widget; None: "file" for directus_files, "select-dropdown-m2o" otherwise.
    interface: str | None = None

    def __attrs_post_init__(self) -> None:
        check_name(self.related, "ManyToOne related")
        _optional_text(self.reverse, "ManyToOne reverse")
        _optional_text(self.interface, "ManyToOne interface")
        if self.on_delete not in ON_DELETE:
            raise UsageError(f"ManyToOne on_delete: expected one of {', '.join(ON_DELETE)}, "
                             f"got {self.on_delete!r}")


@attrs.frozen
class OneToMany:
    """The items of `related` whose foreign key `field` points here (an alias field).

    The foreign key is created on `related` when it does not exist yet.
    """

    related: str
    field: str
    on_delete: str = "SET NULL"

    def __attrs_post_init__(self) -> None:
        check_name(self.related, "OneToMany related")
        check_name(self.field, "OneToMany field")
        if self.on_delete not in ON_DELETE:
            raise UsageError(f"OneToMany on_delete: expected one of {', '.join(ON_DELETE)}, "
                             f"got {self.on_delete!r}")


@attrs.frozen
class ManyToMany:
    """Items of `related` through a junction collection (created, named
    ``{collection}_{related}`` unless given); with `reverse`, the alias on the other side."""

    related: str
    junction: str | None = None
    reverse: str | None = None
    # The app's widget; None: "files" for directus_files, "list-m2m" otherwise.
    interface: str | None = None

    def __attrs_post_init__(self) -> None:
        check_name(self.related, "ManyToMany related")
        _optional_text(self.junction, "ManyToMany junction")
        _optional_text(self.reverse, "ManyToMany reverse")
        _optional_text(self.interface, "ManyToMany interface")


@attrs.frozen
class File:
    """One file of directus_files (a many-to-one; the app shows its file picker)."""

    required: bool = False
    on_delete: str = "SET NULL"

    def __attrs_post_init__(self) -> None:
        if self.on_delete not in ON_DELETE:
            raise UsageError(f"{type(self).__name__} on_delete: expected one of "
                             f"{', '.join(ON_DELETE)}, got {self.on_delete!r}")

    def relation(self) -> ManyToOne:
        """Return the many-to-one to directus_files this stands for."""
        return ManyToOne(FILES, on_delete=self.on_delete, required=self.required,
                         interface="file")


@attrs.frozen
class Image(File):
    """One image of directus_files (a many-to-one; the app shows the image)."""

    def relation(self) -> ManyToOne:
        """Return the many-to-one to directus_files this stands for."""
        return attrs.evolve(super().relation(), interface="file-image")


@attrs.frozen
class Files:
    """Files of directus_files through a junction collection (named ``{collection}_files``
    unless given), as the app's Files field makes it."""

    junction: str | None = None

    def __attrs_post_init__(self) -> None:
        _optional_text(self.junction, "Files junction")

    def relation(self) -> ManyToMany:
        """Return the many-to-many to directus_files this stands for."""
        return ManyToMany(FILES, junction=self.junction, interface="files")


Relational = ManyToOne | OneToMany | ManyToMany
FieldSpec = str | Field | Relational | File | Files | Mapping[str, Any]


def _relational(spec: Any) -> Relational | None:
    # File, Image and Files are relations to directus_files under the app's widgets.
    if isinstance(spec, File | Files):
        return spec.relation()
    return spec if isinstance(spec, ManyToOne | OneToMany | ManyToMany) else None


def _key_field(pk: str) -> dict[str, Any]:
    if pk == "integer":
        return {"field": "id", "type": "integer", "meta": {"hidden": True, "readonly": True},
                "schema": {"is_primary_key": True, "has_auto_increment": True}}
    if pk == "uuid":
        return {"field": "id", "type": "uuid",
                "meta": {"hidden": True, "readonly": True, "special": ["uuid"]},
                "schema": {"is_primary_key": True, "length": 36}}
    return {"field": "id", "type": "string", "meta": {},
            "schema": {"is_primary_key": True, "length": 255}}


def _foreign_key(name: str, key_type: str, related: str, *, hidden: bool = False,
                 required: bool = False, interface: str | None = None) -> dict[str, Any]:
    # The app's "file" special, not "m2o", marks a file: with it SQLite reports the char(36)
    # column as the uuid it is (a uuid foreign key elsewhere reads back as a string there).
    special = ["file"] if related == FILES else ["m2o"]
    default = "file" if related == FILES else "select-dropdown-m2o"
    return {"field": name, "type": key_type, "schema": {},
            "meta": {"special": special, "interface": interface or default, "hidden": hidden,
                     "required": required}}


def _alias(name: str, kind: str, interface: str | None = None) -> dict[str, Any]:
    default = {"o2m": "list-o2m", "m2m": "list-m2m", "files": "files"}[kind]
    return {"field": name, "type": "alias",
            "meta": {"special": [kind], "interface": interface or default}}


class SchemaAPI(_Handle):
    """Schema as code: ``define()`` collections with relations; snapshot, diff and apply."""

    def __init__(self, transport: Runner, schema: SchemaCache, collections: Collections,
                 fields: Fields, relations: Relations) -> None:
        super().__init__(transport, schema)
        self.collections = collections
        self.fields = fields
        self.relations = relations

    def __repr__(self) -> str:
        return "<SchemaAPI /schema>"

    # Snapshot, diff and apply (admin only).

    def snapshot(self) -> dict[str, Any]:
        """Return the schema (collections, fields, relations) from GET /schema/snapshot."""
        return self._run(self._snapshot())

    def _snapshot(self) -> Plan[dict[str, Any]]:
        snapshot = yield from admin_plan("schema.snapshot()",
                                         plans.data("GET", "schema", "snapshot",
                                                    expect=plans.OBJECT))
        return cast("dict[str, Any]", snapshot)

    def diff(self, snapshot: Mapping[str, Any], *, force: bool = False) -> dict[str, Any] | None:
        """Return {hash, diff} that would turn this schema into `snapshot`, from
        POST /schema/diff, or None when they already match.

        The snapshot is first ported to this database's terms (GET /schema/snapshot here;
        see ``pydirectus.system.portable.port_snapshot``), so one taken on another
        database (SQLite, PostgreSQL) diffs without `force`. `force` skips Directus's check
        that both sides run the same Directus version."""
        return self._run(self._diff(_check_snapshot(snapshot), force))

    def _diff(self, body: dict[str, Any], force: bool) -> Plan[dict[str, Any] | None]:
        body = yield from admin_plan("schema.diff()", self._in_our_terms(body))
        params = {"force": "true"} if force else None
        result = yield from admin_plan("schema.diff()", plans.data(
            "POST", "schema", "diff", params=params, json=body, expect=plans.OBJECT_OR_NOTHING))
        return cast("dict[str, Any] | None", result)

    def _in_our_terms(self, snapshot: dict[str, Any]) -> Plan[dict[str, Any]]:
        # The column details and foreign-key types this database would report for the same
        # schema (see pydirectus.system.portable). Even between two SQLite databases: a uuid
        # foreign key reads back there as a string, which Directus would add as a varchar.
        here = cast("dict[str, Any]", (yield from plans.data("GET", "schema", "snapshot",
                                                           expect=plans.OBJECT)))
        key_types = {}
        for related in foreign_keys_outside(snapshot):
            key_types[related] = yield from self._key_type(
                related, f"snapshot: a relation to {related!r}")
        return port_snapshot(snapshot, here, key_types)

    def apply(self, diff: Mapping[str, Any], *, force: bool = False) -> None:
        """Apply what diff() returned with POST /schema/apply; Directus refuses it (an
        InvalidRequest with its reason) if the schema changed since, unless `force`."""
        return self._run(self._apply(_check_diff(diff), force))

    def _apply(self, body: dict[str, Any], force: bool) -> Plan[None]:
        yield from admin_plan("schema.apply()", self._write(
            "POST", "schema", "apply", json=body, params={"force": "true"} if force else None,
            expect=plans.NOTHING))

    def copy_to(self, target: SchemaAPI, *, force: bool = False) -> dict[str, Any] | None:
        """Make `target`'s schema match this one (snapshot here, diff and apply there);
        return the applied diff, or None when nothing differed.

        Each side's calls go through its own client. A sync client copies to a sync client;
        an async client's copy_to is awaited, and `target` may be of either face.
        """
        if not isinstance(target, SchemaAPI):
            raise UsageError(f"target: expected another client's schema (client.schema), got "
                             f"{type(target).__name__}")
        if self._runner.blocking:
            if not target._runner.blocking:
                raise UsageError("target: an async client's schema; copy from an async client "
                                 "(await source.schema.copy_to(target.schema)) instead")
            diff = target._run(target._diff(_check_snapshot(self._run(self._snapshot())),
                                            force))
            if diff is not None:
                target._run(target._apply(diff, False))
            return diff
        return cast("dict[str, Any] | None", self._copy_async(target, force))

    async def _copy_async(self, target: SchemaAPI, force: bool) -> dict[str, Any] | None:
        snapshot = await cast("Awaitable[dict[str, Any]]", self._run(self._snapshot()))
        diff = await _on(target, target._diff(_check_snapshot(snapshot), force))
        if diff is not None:
            await _on(target, target._apply(diff, False))
        return diff

    # The declarative helper.

    def define(self, collection: str, fields: Mapping[str, FieldSpec] | None = None, *,
               pk: str = "integer", singleton: bool = False,
               meta: Mapping[str, Any] | None = None) -> CollectionRecord:
        """Create a collection with typed fields and its relations in one call.

        Fields map names to a type name (``"string"``), a ``Field``, a relation
        (``ManyToOne``, ``OneToMany``, ``ManyToMany``) or, for anything else,
        a raw /fields body (``{"type": ..., "schema": ..., "meta": ...}``). Related collections
        must exist already (define them first). Sends POST /collections, then POST /fields
        and POST /relations for each relation.
        """
        name = check_name(collection)
        if pk not in PRIMARY_KEYS:
            raise UsageError(f"pk: expected one of {', '.join(PRIMARY_KEYS)}, got {pk!r}")
        specs = dict(check_data(fields if fields is not None else {}, "fields"))
        plain: list[dict[str, Any]] = []
        relational: list[tuple[str, Relational]] = []
        for field_name, spec in specs.items():
            check_name(field_name, "fields key")
            if field_name == "id":
                raise UsageError("fields['id']: the primary key is made from pk=")
            relation = _relational(spec)
            if isinstance(spec, str):
                plain.append(Field(spec).to_dict(field_name))
            elif isinstance(spec, Field):
                plain.append(spec.to_dict(field_name))
            elif relation is not None:
                relational.append((field_name, relation))
            elif isinstance(spec, Mapping) and isinstance(spec.get("type"), str):
                plain.append({**spec, "field": field_name})  # a raw /fields body
            else:
                raise UsageError(f"fields[{field_name!r}]: expected a type name, Field, "
                                 f"ManyToOne, OneToMany, ManyToMany, File, Image, Files or a "
                                 f"/fields body with a type, got {spec!r}")
        collection_meta = {**dict(check_data(meta or {}, "meta")), "singleton": singleton}
        return self._run(self._define(name, pk, plain, relational, collection_meta))

    def _define(self, name: str, pk: str, plain: list[dict[str, Any]],
                relational: list[tuple[str, Relational]],
                meta: dict[str, Any]) -> Plan[CollectionRecord]:
        # Check every related collection before creating anything.
        key_types: dict[str, str] = {}
        for field_name, spec in relational:
            if spec.related != name and spec.related not in key_types:
                key_types[spec.related] = yield from self._key_type(
                    spec.related, f"fields[{field_name!r}]")
        key_types[name] = pk
        for field_name, spec in relational:
            if isinstance(spec, ManyToOne):
                plain.append(_foreign_key(field_name, key_types[spec.related], spec.related,
                                          required=spec.required, interface=spec.interface))
        body: dict[str, Any] = {
            "collection": name, "schema": {}, "meta": meta,
            "fields": [_key_field(pk), *plain],
        }
        created = yield from self.collections._create(body)
        for field_name, spec in relational:
            yield from self._relate(name, field_name, spec, key_types)
        return created

    def add_relation(self, collection: str, field: str,
                     spec: Relational | File | Files) -> None:
        """Add a relational field to an existing collection: the foreign key (many-to-one),
        alias fields and junction collection as needed, and the relations (POST /fields,
        POST /collections, POST /relations)."""
        name = check_name(collection)
        check_name(field, "field")
        relation = _relational(spec)
        if relation is None:
            raise UsageError(f"spec: expected ManyToOne, OneToMany, ManyToMany, File, Image or "
                             f"Files, got {spec!r}")
        return self._run(self._add_relation(name, field, relation))

    def _add_relation(self, name: str, field: str, spec: Relational) -> Plan[None]:
        key_types = {name: (yield from self._key_type(name, "collection"))}
        if spec.related not in key_types:
            key_types[spec.related] = yield from self._key_type(spec.related, "spec.related")
        if isinstance(spec, ManyToOne):
            yield from self.fields._create(name, _foreign_key(
                field, key_types[spec.related], spec.related, required=spec.required,
                interface=spec.interface))
        yield from self._relate(name, field, spec, key_types)

    def _relate(self, collection: str, field: str, spec: Relational,
                key_types: Mapping[str, str]) -> Plan[None]:
        if isinstance(spec, ManyToOne):
            yield from self._many_to_one(collection, field, spec)
        elif isinstance(spec, OneToMany):
            yield from self._one_to_many(collection, field, spec, key_types[collection])
        else:
            yield from self._many_to_many(collection, field, spec, key_types)

    def _key_type(self, collection: str, what: str) -> Plan[str]:
        denied: PermissionDenied | None = None
        try:
            rows = yield from self.fields._all(collection)
        except PermissionDenied as refusal:
            denied = refusal
        if denied is not None:
            raise UsageError(f"{what}: related collection {collection!r} does not exist "
                             f"or this token may not read its fields ({denied})") from None
        for row in rows:
            if (row.get("schema") or {}).get("is_primary_key"):
                return str(row["type"])
        raise UsageError(f"{what}: related collection {collection!r} has no primary key")

    def _many_to_one(self, collection: str, field: str, spec: ManyToOne) -> Plan[None]:
        if spec.reverse is not None:
            yield from self.fields._create(spec.related, _alias(spec.reverse, "o2m"))
        yield from self.relations._create({
            "collection": collection, "field": field, "related_collection": spec.related,
            "meta": {"one_field": spec.reverse}, "schema": {"on_delete": spec.on_delete}})

    def _one_to_many(self, collection: str, field: str, spec: OneToMany,
                     key_type: str) -> Plan[None]:
        existing = {row["field"] for row in (yield from self.fields._all(spec.related))}
        if spec.field not in existing:
            yield from self.fields._create(spec.related, _foreign_key(spec.field, key_type,
                                                                      collection))
        yield from self.fields._create(collection, _alias(field, "o2m"))
        yield from self.relations._create({
            "collection": spec.related, "field": spec.field, "related_collection": collection,
            "meta": {"one_field": field}, "schema": {"on_delete": spec.on_delete}})

    def _many_to_many(self, collection: str, field: str, spec: ManyToMany,
                      key_types: Mapping[str, str]) -> Plan[None]:
        # The app names a Files field's junction {collection}_files.
        default = "files" if spec.related == FILES else spec.related
        junction = spec.junction or f"{collection}_{default}"
        here = f"{collection}_id"
        there = f"{spec.related}_id" if spec.related != collection else f"related_{collection}_id"
        yield from self.collections._create({
            "collection": junction, "schema": {}, "meta": {"hidden": True, "icon": "import_export"},
            "fields": [_key_field("integer"),
                       _foreign_key(here, key_types[collection], collection, hidden=True),
                       _foreign_key(there, key_types[spec.related], spec.related,
                                    hidden=True)]})
        kind = "files" if spec.related == FILES else "m2m"
        yield from self.fields._create(collection, _alias(field, kind, spec.interface))
        if spec.reverse is not None:
            yield from self.fields._create(spec.related, _alias(spec.reverse, "m2m"))
        yield from self.relations._create({
            "collection": junction, "field": here, "related_collection": collection,
            "meta": {"one_field": field, "junction_field": there},
            "schema": {"on_delete": "CASCADE"}})
        yield from self.relations._create({
            "collection": junction, "field": there, "related_collection": spec.related,
            "meta": {"one_field": spec.reverse, "junction_field": here},
            "schema": {"on_delete": "CASCADE"}})

    def drop(self, *collections: str) -> None:
        """Delete collections, the ones holding a relation to another first, whatever the
        order given.

        Reads GET /collections and GET /relations, and refuses (nothing dropped) a name
        that no collection has. Among the given collections, one whose field points at
        another (a many-to-one's many side, a many-to-many's junction) is deleted before
        the one it points at, so PostgreSQL's foreign keys hold and no relation is left
        dangling. A relation that makes a cycle (a field pointing back at its own
        collection, or collections pointing at each other) has its many-side field deleted
        first with DELETE /fields/{collection}/{field}, which takes the relation with it
        (Directus cannot drop a collection that points at itself, and DELETE /relations
        can hang on SQLite); then each collection goes with DELETE /collections/{name}.
        A relation from a collection not given to one given is left to Directus
        (PostgreSQL refuses to drop the collection it points at).
        """
        names = [check_name(name, f"collections[{index}]")
                 for index, name in enumerate(collections)]
        system = [name for name in names if is_system(name)]
        if system:
            raise UsageError(f"collections: {', '.join(map(repr, system))}: system "
                             f"collections cannot be dropped")
        return self._run(self._drop(names))

    def _drop(self, names: list[str]) -> Plan[None]:
        if not names:
            return
        existing = {row["collection"] for row in (yield from self.collections._all())}
        missing = [name for name in dict.fromkeys(names) if name not in existing]
        if missing:
            raise UsageError(f"collections: no collection named {', '.join(map(repr, missing))}"
                             f" (or this token may not see it); nothing was dropped")
        cyclic, order = drop_order(names, (yield from self.relations._all()))
        # Every collection named exists: a bare FORBIDDEN now means the token is no admin's.
        yield from admin_plan("schema.drop()", self._drop_all(cyclic, order))

    def _drop_all(self, cyclic: list[tuple[str, str]], order: list[str]) -> Plan[None]:
        for collection, field in cyclic:
            yield from self.fields._delete(collection, field)
        for name in order:
            yield from self.collections._delete(name)


def _check_snapshot(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    body = dict(check_data(snapshot, "snapshot"))
    for key in ("version", "directus", "collections", "fields", "relations"):
        if key not in body:
            raise UsageError(f"snapshot: missing {key!r}; pass what snapshot() returns")
    return body


def _check_diff(diff: Mapping[str, Any]) -> dict[str, Any]:
    body = dict(check_data(diff, "diff"))
    if "hash" not in body or "diff" not in body:
        raise UsageError("diff: expected what diff() returned ({hash, diff})")
    return body


async def _on(handle: _Handle, plan: Plan[R]) -> R:
    # Run a plan on a handle's own runner from a coroutine: awaited on the async face, a
    # blocking call on the sync face (copy_to from an async client to a sync one).
    result: Any = handle._runner.run(plan)
    if not handle._runner.blocking:
        result = await result
    return cast(R, result)


def drop_order(names: Sequence[str], relations: Iterable[Relation]
               ) -> tuple[list[tuple[str, str]], list[str]]:
    """Return the (collection, field) of each relation on a cycle among `names`, whose
    field goes first, and the order to drop the collections in: none before one of
    `names` that points at it by a relation not on a cycle."""
    wanted = list(dict.fromkeys(names))
    inside = set(wanted)
    links: list[tuple[str, str, str]] = []
    for row in relations:
        many, one = row.get("collection"), row.get("related_collection")
        # A many-to-any's related_collection is None: it has no foreign key to order by.
        if isinstance(many, str) and isinstance(one, str) and {many, one} <= inside:
            links.append((many, row["field"], one))
    points_at: dict[str, set[str]] = {}
    for many, _, one in links:
        points_at.setdefault(many, set()).add(one)
    # A relation is in a cycle when the collection it points at leads back to its own.
    cyclic = [(many, field) for many, field, one in links if _reaches(points_at, one, many)]
    kept = [(many, one) for many, field, one in links if (many, field) not in cyclic]
    order: list[str] = []
    left = wanted
    while left:
        pointed_at = {one for many, one in kept if many in left}
        # Always one: what is kept has no cycle. The given order breaks ties.
        name = next(name for name in left if name not in pointed_at)
        order.append(name)
        left = [other for other in left if other != name]
    return cyclic, order


def _reaches(points_at: Mapping[str, set[str]], start: str, goal: str) -> bool:
    seen, stack = {start}, [start]
    while stack:
        here = stack.pop()
        if here == goal:
            return True
        for there in points_at.get(here, ()):
            if there not in seen:
                seen.add(there)
                stack.append(there)
    return False


