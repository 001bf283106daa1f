"""Utility routes (/utils/*) and the auth routes beyond login (/auth/*)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

import attrs

from ..checks import (
    check_data,
    check_email,
    check_int_range,
    check_items,
    check_key,
    check_name,
    check_text,
    check_url,
)
from ..core import plans
from ..core.plans import Plan, Runner
from ..errors import InvalidQuery, UsageError
from ..multipart import Source, Upload, file_parts, send_parts_plan
from ..query import Query
from .handles import admin_plan, discard

if TYPE_CHECKING:
    from ..core.schema import SchemaCache

__all__ = ["EXPORT_FORMATS", "IMPORT_TYPES", "Authentication", "Utils"]

EXPORT_FORMATS = ("csv", "csv_utf8", "json", "xml", "yaml")
IMPORT_TYPES = {".json": "application/json", ".csv": "text/csv"}


class Utils:
    """The /utils routes: random strings, manual sorting, cache, revert, import and export."""

    def __init__(self, transport: Runner, schema: SchemaCache) -> None:
        self._runner = transport
        self._transport: Any = transport
        self._schema = schema

    def __repr__(self) -> str:
        return "<Utils /utils>"

    def random_string(self, length: int = 32) -> str:
        """Return a random URL-safe string from GET /utils/random/string (length 1-500)."""
        size = check_int_range(length, "length", 1, 500)
        return cast(str, self._runner.run(plans.data("GET", "utils", "random", "string",
                                                     params={"length": str(size)},
                                                     expect=plans.TEXT)))

    def sort(self, collection: str, item: str | int, to: str | int) -> None:
        """Move `item` to where `to` is in a manually sorted collection (its sort field
        renumbered) with POST /utils/sort/{collection}."""
        body = {"item": check_key(item, "item"), "to": check_key(to, "to")}
        return self._runner.run(discard(plans.data(
            "POST", "utils", "sort", check_name(collection), json=body, expect=plans.NOTHING)))

    def clear_cache(self, *, system: bool = False) -> None:
        """Clear the data cache (and the system cache if asked) with POST /utils/cache/clear
        (admin only)."""
        params = {"system": "true"} if system else None
        return self._runner.run(admin_plan("utils.clear_cache()", discard(plans.data(
            "POST", "utils", "cache", "clear", params=params, expect=plans.NOTHING))))

    def revert(self, revision: int) -> None:
        """Put an item back to how a revision has it with POST /utils/revert/{revision}."""
        return self._runner.run(discard(plans.data("POST", "utils", "revert",
                                                   check_key(revision, "revision"),
                                                   expect=plans.NOTHING)))

    def import_file(self, collection: str, source: Source, *, filename: str | None = None,
                    content_type: str | None = None) -> None:
        """Create items from a JSON or CSV file (streamed multipart) with
        POST /utils/import/{collection}; the type comes from `content_type` or the file name."""
        name = check_name(collection)
        part = file_parts([Upload(source, filename, content_type)], None, listed=False,
                          allow_async=not self._runner.blocking)[0]
        kind = content_type or IMPORT_TYPES.get(_suffix(part.filename))
        if kind is None or kind not in IMPORT_TYPES.values():
            raise UsageError(f"source: import takes JSON or CSV; name the file *.json or "
                             f"*.csv or pass content_type= (got {part.filename!r})")
        return self._runner.run(discard(send_parts_plan(
            "POST", ("utils", "import", name), [attrs.evolve(part, content_type=kind)],
            expect=plans.NOTHING)))

    def import_items(self, batches: Mapping[str, Iterable[Mapping[str, Any]]], *,
                     mode: str = "add", dry_run: bool = False) -> Any:
        """Import items into several collections at once with POST /utils/import
        (`mode` "add" or "merge"); return Directus's report."""
        if not isinstance(batches, Mapping) or not batches:
            raise UsageError("batches: expected {collection: [items]} with at least one entry")
        if mode not in ("add", "merge"):
            raise UsageError(f"mode: expected 'add' or 'merge', got {mode!r}")
        body = [{"collection": check_name(name),
                 "items": [dict(item) for item in check_items(items, f"batches[{name!r}]")]}
                for name, items in batches.items()]
        params = {"mode": mode, **({"dryRun": "true"} if dry_run else {})}
        return self._runner.run(plans.data("POST", "utils", "import", params=params, json=body,
                                           expect=plans.OBJECT))

    def export(self, collection: str, query: Query | Mapping[str, Any] | None = None,
               format: str = "csv", file_data: Mapping[str, Any] | None = None) -> None:
        """Start an export of a collection's items to a new file in the file library with
        POST /utils/export/{collection}; Directus writes the file in the background."""
        name = check_name(collection)
        if format not in EXPORT_FORMATS:
            raise UsageError(f"format: expected one of {', '.join(EXPORT_FORMATS)}, "
                             f"got {format!r}")
        if query is not None and not isinstance(query, Query | Mapping):
            raise InvalidQuery(f"query: expected a Query or a dict, got {type(query).__name__}")
        # A dict is checked now; a Query is compiled by the plan (it may read relations).
        raw = Query.from_dict(query).to_dict() if isinstance(query, Mapping) else None
        file = dict(check_data(file_data, "file_data")) if file_data is not None else None
        return self._runner.run(self._export(name, query, raw, format, file))

    def _export(self, name: str, query: Query | Mapping[str, Any] | None,
                raw: dict[str, Any] | None, format: str,
                file: dict[str, Any] | None) -> Plan[None]:
        if isinstance(query, Query):
            from ..collection import Collection  # the handle's compile path knows relations

            compiled = yield from Collection(name, self._runner, self._schema)._path.compile(
                query)
        else:
            compiled = raw if raw is not None else {"limit": -1}
        body: dict[str, Any] = {"query": compiled, "format": format}
        if file is not None:
            body["file"] = file
        yield from plans.data("POST", "utils", "export", name, json=body, expect=plans.NOTHING)


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot >= 0 else ""


class Authentication:
    """The /auth routes beyond login: providers and password reset."""

    def __init__(self, transport: Runner) -> None:
        self._runner = transport
        self._transport: Any = transport

    def __repr__(self) -> str:
        return "<Authentication /auth>"

    def providers(self) -> list[dict[str, Any]]:
        """Return the configured SSO providers from GET /auth (empty without SSO)."""
        return self._runner.run(self._providers())

    def _providers(self) -> Plan[list[dict[str, Any]]]:
        found = yield from plans.data("GET", "auth", authenticate=False, expect=plans.OBJECTS)
        return cast("list[dict[str, Any]]", found)

    def password_request(self, email: str, reset_url: str | None = None) -> None:
        """Ask Directus to email a password-reset link with POST /auth/password/request
        (it answers the same whether or not the address is known)."""
        body: dict[str, Any] = {"email": check_email(email)}
        if reset_url is not None:
            body["reset_url"] = check_url(reset_url, "reset_url")
        return self._runner.run(discard(plans.data("POST", "auth", "password", "request",
                                                   json=body, authenticate=False,
                                                   expect=plans.NOTHING)))

    def password_reset(self, token: str, password: str) -> None:
        """Set a new password with the emailed token: POST /auth/password/reset."""
        body = {"token": check_text(token, "token"), "password": check_text(password, "password")}
        return self._runner.run(discard(plans.data("POST", "auth", "password", "reset",
                                                   json=body, authenticate=False,
                                                   expect=plans.NOTHING)))
