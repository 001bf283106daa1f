"""Generate a module of TypedDicts from a Directus schema: pure, no I/O.

The input is the shape of ``GET /schema/snapshot`` (``collections``, ``fields``,
``relations``), which is also what ``GET /collections``, ``/fields`` and ``/relations``
return row for row. One TypedDict per collection (``total=False``: what comes back
depends on the fields asked for); many-to-one fields are ``Key | Related`` (the key, or
the related record when expanded); one-to-many and many-to-many aliases are lists of the
same; choices become ``Literal`` aliases; relations to ``directus_users``,
``directus_files`` and ``directus_folders`` use ``pydirectus.models``.

The output is sorted and formatted so that ``ruff`` (line length 88) and
``mypy --strict`` accept it as it is.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs

from .errors import SchemaError

__all__ = ["SchemaError", "generate_models"]

LINE_LENGTH = 88

# Directus field type -> the Python type the client returns (pydirectus.values makes
# bigInteger an int and decimal a Decimal on every database).
SCALARS: Mapping[str, str] = {
    "string": "str",
    "text": "str",
    "hash": "str",
    "uuid": "str",
    "date": "str",
    "dateTime": "str",
    "time": "str",
    "timestamp": "str",
    "integer": "int",
    "bigInteger": "int",
    "float": "float",
    "decimal": "Decimal",
    "boolean": "bool",
    "json": "Any",
    "csv": "list[str]",
    "geometry": "dict[str, Any]",
}
SYSTEM_MODELS: Mapping[str, str] = {
    "directus_files": "models.File",
    "directus_folders": "models.Folder",
    "directus_users": "models.User",
}
# Names the generated module itself uses; a collection's class must not shadow them.
RESERVED = frozenset({"Any", "Decimal", "Literal", "TypedDict", "models", "annotations"})
CHOICE_INTERFACES = frozenset({"select-dropdown", "select-radio", "select-multiple-dropdown",
                               "select-multiple-checkbox", "select-icon", "select-color"})


@attrs.frozen
class _Field:
    name: str
    annotation: str


@attrs.frozen
class _Model:
    collection: str
    name: str
    fields: tuple[_Field, ...]
    note: str | None


def generate_models(
    schema: Mapping[str, Any],
    *,
    collections: Iterable[str] | None = None,
    version: str | None = None,
    generated_at: datetime | None = None,
) -> str:
    """Return the source of a module with one TypedDict per collection of a schema."""
    rows = _rows(schema)
    wanted = None if collections is None else set(collections)
    tables = sorted(
        c["collection"] for c in rows["collections"]
        if c.get("schema") is not None and not c["collection"].startswith("directus_")
    )
    if wanted is not None:
        unknown = sorted(wanted - set(tables))
        if unknown:
            raise SchemaError(f"collection: no collection named {', '.join(map(repr, unknown))} "
                              f"in the schema (it has {', '.join(tables) or 'none'})")
        tables = [t for t in tables if t in wanted]
    names = _class_names(tables)
    fields_of: dict[str, list[Mapping[str, Any]]] = {}
    for field in rows["fields"]:
        fields_of.setdefault(field["collection"], []).append(field)
    builder = _Builder(names, fields_of, rows["relations"])
    models = [builder.model(c, _note(rows["collections"], c)) for c in tables]
    return _render(models, builder.aliases, version, generated_at or datetime.now(timezone.utc))


def _rows(schema: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    if not isinstance(schema, Mapping):
        raise SchemaError(f"schema: expected a dict, got {type(schema).__name__}")
    if isinstance(schema.get("data"), Mapping):  # a saved {"data": snapshot} envelope
        schema = schema["data"]
    rows: dict[str, list[Mapping[str, Any]]] = {}
    for key in ("collections", "fields", "relations"):
        value = schema.get(key)
        if not isinstance(value, list) or not all(isinstance(row, Mapping) for row in value):
            raise SchemaError(f"schema: {key!r} must be a list of objects, as in "
                              "GET /schema/snapshot")
        rows[key] = value
    return rows


def _note(collections: Sequence[Mapping[str, Any]], name: str) -> str | None:
    for row in collections:
        if row["collection"] == name:
            note = (row.get("meta") or {}).get("note")
            return str(note) if note else None
    return None


def _pascal(name: str) -> str:
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", name) if p]
    text = "".join(p[:1].upper() + p[1:] for p in parts)
    if text[:1].isdigit():
        text = "C" + text
    return text if text.isidentifier() else "Collection"


def _singular(word: str) -> str:
    lower = word.lower()
    if lower.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if lower.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return word[:-2]
    if lower.endswith(("ss", "us", "is")) or not lower.endswith("s") or len(word) < 4:
        return word
    return word[:-1]


def _class_names(tables: Sequence[str]) -> dict[str, str]:
    # Singular where that stays unique ("articles" -> Article); plural where two
    # collections would meet (e.g. "article" and "articles"); a number as a last resort.
    plural = {t: _pascal(t) for t in tables}
    singular = {t: _singular(plural[t]) for t in tables}
    chosen: dict[str, str] = {}
    for table in tables:
        name = singular[table]
        clash = sum(1 for other in tables if singular[other] == name) > 1
        chosen[table] = plural[table] if clash else name
    used: set[str] = set(RESERVED)
    for table in tables:
        name = chosen[table]
        if name in used:
            name = f"{name}Item"
        base, n = name, 2
        while name in used:
            name, n = f"{base}{n}", n + 1
        used.add(name)
        chosen[table] = name
    return chosen


class _Builder:
    def __init__(self, names: Mapping[str, str],
                 fields_of: Mapping[str, list[Mapping[str, Any]]],
                 relations: Sequence[Mapping[str, Any]]) -> None:
        self.names = names
        self.fields_of = fields_of
        self.many_to_one = {(r.get("collection"), r.get("field")): r for r in relations}
        self.one_to_many = {
            (r.get("related_collection"), (r.get("meta") or {}).get("one_field")): r
            for r in relations if (r.get("meta") or {}).get("one_field")
        }
        self.aliases: dict[str, str] = {}
        self.taken: set[str] = set(names.values()) | RESERVED

    def model(self, collection: str, note: str | None) -> _Model:
        fields = []
        for field in sorted(self.fields_of.get(collection, []), key=lambda f: f["field"]):
            annotation = self.annotation(collection, field)
            if annotation is not None:
                fields.append(_Field(field["field"], annotation))
        return _Model(collection, self.names[collection], tuple(fields), note)

    def record(self, collection: str | None) -> str:
        if collection is not None and collection in self.names:
            return self.names[collection]
        if collection is not None and collection in SYSTEM_MODELS:
            return SYSTEM_MODELS[collection]
        return "dict[str, Any]"

    def key_type(self, collection: str) -> str:
        for field in self.fields_of.get(collection, []):
            if (field.get("schema") or {}).get("is_primary_key"):
                return self.scalar(field)
        return "str" if collection in SYSTEM_MODELS else "int | str"

    def scalar(self, field: Mapping[str, Any]) -> str:
        return SCALARS.get(str(field.get("type")), "Any")

    def annotation(self, collection: str, field: Mapping[str, Any]) -> str | None:
        name = field["field"]
        schema = field.get("schema")
        if field.get("type") == "alias" or schema is None:
            relation = self.one_to_many.get((collection, name))
            if relation is None:
                return None  # presentation and group fields carry no data
            many = str(relation.get("collection"))
            return f"list[{_union(self.key_type(many), self.record(many))}]"
        relation = self.many_to_one.get((collection, name))
        if relation is not None:
            related = relation.get("related_collection")
            if related is None:  # the item side of a many-to-any junction
                allowed = (relation.get("meta") or {}).get("one_allowed_collections") or []
                base = _union(self.scalar(field), *(self.record(c) for c in sorted(allowed)))
            else:
                base = _union(self.scalar(field), self.record(related))
        else:
            base = self.choices(collection, field) or self.scalar(field)
        if schema.get("is_nullable", True) and not schema.get("is_primary_key"):
            base = _union(base, "None")
        return base

    def choices(self, collection: str, field: Mapping[str, Any]) -> str | None:
        meta = field.get("meta") or {}
        options = meta.get("options") or {}
        choices = options.get("choices") if isinstance(options, Mapping) else None
        if meta.get("interface") not in CHOICE_INTERFACES or not isinstance(choices, list):
            return None
        if options.get("allowOther") or options.get("allow_other"):
            return None
        values = [c.get("value") if isinstance(c, Mapping) else c for c in choices]
        literals = [v for v in values if isinstance(v, str | int) and not isinstance(v, bool)]
        if not literals or len(literals) != len(values):
            return None
        literal = f"Literal[{', '.join(_literal(v) for v in dict.fromkeys(literals))}]"
        alias = self.alias_name(self.names[collection] + _pascal(field["field"]))
        self.aliases[alias] = literal
        if field.get("type") in ("json", "csv"):  # a multiple choice keeps a list
            return f"list[{alias}]"
        return alias

    def alias_name(self, name: str) -> str:
        base, n = name, 2
        while name in self.taken:
            name, n = f"{base}{n}", n + 1
        self.taken.add(name)
        return name


def _union(*parts: str) -> str:
    seen: list[str] = []
    for part in parts:
        for member in _split_union(part):
            if member not in seen:
                seen.append(member)
    if "Any" in seen:
        return "Any"
    return " | ".join(seen)


def _split_union(text: str) -> list[str]:
    members, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "|" and depth == 0:
            members.append(text[start:index].strip())
            start = index + 1
    members.append(text[start:].strip())
    return members


def _literal(value: str | int) -> str:
    # JSON's string escapes are all valid in a Python string literal.
    return json.dumps(value, ensure_ascii=False)


def _docstring(text: str) -> str:
    clean = " ".join(text.replace("\\", "\\\\").replace('"""', "'''").split())
    return clean


def _render(models: Sequence[_Model], aliases: Mapping[str, str], version: str | None,
            generated_at: datetime) -> str:
    stamp = generated_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    server = f"Directus {version}" if version else "Directus (version not readable)"
    blocks: list[list[str]] = []
    if aliases:
        blocks.append([line for a in sorted(aliases) for line in _assignment(a, aliases[a])])
    blocks.extend(_class(model) for model in models)
    body: list[str] = []
    for index, block in enumerate(blocks):
        # isort wants one blank line after the imports before a statement, two before a
        # class; between top-level blocks the formatter wants two.
        first_is_class = block[0].startswith("class ")
        body.extend(["", ""] if index or first_is_class else [""])
        body.extend(block)
    text = "\n".join(body)
    imports = ["from __future__ import annotations", ""]
    if re.search(r"\bDecimal\b", text):
        imports.append("from decimal import Decimal")
    typing_names = [n for n in ("Any", "Literal", "TypedDict")
                    if re.search(rf"\b{n}\b", text)]
    if typing_names:
        imports.append(f"from typing import {', '.join(typing_names)}")
    if "models." in text:
        imports.extend(["", "from pydirectus import models"])
    header = [
        '"""Typed rows of a Directus project\'s collections, generated by `pydirectus types`.',
        "",
        f"Generated from {server} at {stamp}.",
        "Regenerate rather than edit.",
        "Keys are optional (total=False): what comes back depends on the fields asked",
        "for. A relational field holds the key, or the related record when expanded.",
        '"""',
        "",
    ]
    return "\n".join([*header, *imports, *body]) + "\n"


def _assignment(name: str, value: str) -> list[str]:
    line = f"{name} = {value}"
    if len(line) <= LINE_LENGTH:
        return [line]
    # Literal[a, b, ...] too long for one line: one value per line.
    inner = value[len("Literal["):-1]
    values = _split_top(inner)
    return [f"{name} = Literal[", *(f"    {v}," for v in values), "]"]


def _split_top(text: str) -> list[str]:
    # Split a Literal's values on commas outside string quotes.
    values, current, quoted, escaped = [], "", False, False
    for char in text:
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            current, escaped = current + char, True
        elif char == '"':
            current, quoted = current + char, not quoted
        elif char == "," and not quoted:
            values.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        values.append(current.strip())
    return values


def _class(model: _Model) -> list[str]:
    doc = f"A row of {model.collection}" + (f": {model.note}" if model.note else ".")
    if model.note and not doc.endswith("."):
        doc += "."
    doc = _docstring(doc)
    if all(f.name.isidentifier() and not keyword.iskeyword(f.name) for f in model.fields):
        lines = [f"class {model.name}(TypedDict, total=False):"]
        lines.extend(_wrap_doc(doc, indent="    "))
        if model.fields:
            lines.append("")
        for field in model.fields:
            lines.extend(_annotated(f"    {field.name}: ", field.annotation))
        return lines
    # Keys that are not identifiers (or are keywords) need the functional form, whose
    # values are quoted so that forward references resolve lazily.
    lines = [f"{model.name} = TypedDict(", f"    {_literal(model.name)},", "    {"]
    for field in model.fields:
        lines.append(f"        {_literal(field.name)}: {_literal(field.annotation)},")
    lines.extend(["    },", "    total=False,", ")"])
    return [*(f"# {line}" for line in _wrap(doc, LINE_LENGTH - 2)), *lines]


def _wrap_doc(doc: str, indent: str) -> list[str]:
    one = f'{indent}"""{doc}"""'
    if len(one) <= LINE_LENGTH:
        return [one]
    lines = _wrap(doc, LINE_LENGTH - len(indent))
    return [f'{indent}"""{lines[0]}', *(f"{indent}{line}" for line in lines[1:]),
            f'{indent}"""']


def _wrap(text: str, width: int) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current]


def _annotated(prefix: str, annotation: str) -> list[str]:
    line = prefix + annotation
    if len(line) <= LINE_LENGTH:
        return [line]
    members = _split_union(annotation)
    head = prefix.rstrip() + " ("
    return [head, f"        {members[0]}", *(f"        | {m}" for m in members[1:]), "    )"]
