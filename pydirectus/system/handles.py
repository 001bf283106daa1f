"""The collection handle over system routes: /users, /roles, ..., read-only and singleton forms.

Directus refuses ``/items/directus_*``: every system collection has its own route. These
handles are ``Collection`` (query chain, paging, batched writes)
bound to that route, with the primary key known up front, so that a token that may not read
``/fields/directus_*`` (an API-only user) still gets a working handle.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, NoReturn, TypeVar, cast

from ..checks import check_data, check_int_range, check_text, check_uuid
from ..collection import DEFAULT_PAGE_SIZE, Collection, Singleton
from ..core import plans
from ..core.plans import Plan, Runner
from ..core.reads import ReadRules
from ..encoding import dumps
from ..errors import NotFound, PermissionDenied, ReadOnlyError, UsageError
from ..models import Extension

if TYPE_CHECKING:
    from ..core.schema import SchemaCache

__all__ = [
    "Extensions",
    "ReadOnlyCollection",
    "ReadOnlyError",
    "SettingsHandle",
    "SystemCollection",
    "admin_only",
    "admin_plan",
    "discard",
]

T = TypeVar("T", bound=Mapping[str, Any])
R = TypeVar("R")


def _admin_error(what: str, denied: PermissionDenied) -> PermissionDenied:
    return PermissionDenied(denied.status, denied.code,
                            f"{what} needs an admin token ({denied.message})",
                            {**denied.extensions, "reason": f"{what} is for admins only"},
                            denied.response)


@contextlib.contextmanager
def admin_only(what: str) -> Iterator[None]:
    """Turn the bare FORBIDDEN of an admin-only route into a PermissionDenied that says so."""
    try:
        yield
    except PermissionDenied as denied:
        if denied.reason is not None:
            raise
        raise _admin_error(what, denied) from None


def admin_plan(what: str, plan: Plan[R]) -> Plan[R]:
    """Plan: run `plan`, turning the bare FORBIDDEN of an admin-only route into a
    PermissionDenied that says so (admin_only for plans)."""
    refused: PermissionDenied | None = None
    try:
        return (yield from plan)
    except PermissionDenied as denied:
        if denied.reason is not None:
            raise
        refused = denied
    raise _admin_error(what, refused) from None


def discard(plan: Plan[Any]) -> Plan[None]:
    """Plan: run `plan` for its effect; return None."""
    yield from plan


class SystemCollection(Collection[T]):
    """A handle on a system collection's own route (e.g. directus_users at /users).

    Subclasses name their collection and route in ``NAME`` and ``ROUTE``; the generic
    handles pass ``name=`` and ``route=``.
    """

    NAME: str = ""
    ROUTE: tuple[str, ...] = ()

    def __init__(self, transport: Runner, schema: SchemaCache, *, name: str | None = None,
                 route: tuple[str, ...] | None = None, primary_key: str = "id",
                 page_size: int = DEFAULT_PAGE_SIZE,
                 rules: ReadRules = ReadRules()) -> None:  # noqa: B008 - frozen
        name = name or self.NAME
        # The key is given: API-only tokens may not read /fields/directus_*, and system
        # collections are never singletons here.
        super().__init__(name, transport, schema, page_size=page_size,
                         route=route or self.ROUTE or (name.removeprefix("directus_"),),
                         pk=primary_key, singleton=False, rules=rules)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} /{'/'.join(self.route)}>"


def _refusing(action: str) -> Callable[..., NoReturn]:
    def refuse(self: ReadOnlyCollection[Any], *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse(action)

    refuse.__doc__ = f"Refuse to {action}: the collection is read-only (nothing is sent)."
    return refuse


class ReadOnlyCollection(SystemCollection[T]):
    """A system handle that only reads (/activity, /revisions): writes raise before sending."""

    def _refuse(self, action: str) -> NoReturn:
        raise ReadOnlyError(f"{self.name} is read-only (Directus writes it itself): "
                            f"{action} is not possible through /{'/'.join(self.route)}")

    # Every write of Collection and of its bound queries passes this check before sending.
    def _refuse_singleton(self, action: str) -> None:
        self._refuse(action)

    create = _refusing("create")
    create_many = _refusing("create")
    update = _refusing("update")
    update_many = _refusing("update")
    update_batch = _refusing("update")
    delete = _refusing("delete")
    delete_many = _refusing("delete")


class SettingsHandle(Singleton[T]):
    """The project settings singleton at /settings: get() and update(data)."""

    def __init__(self, transport: Runner, schema: SchemaCache) -> None:
        super().__init__("directus_settings", transport, schema, route=("settings",))

    def __repr__(self) -> str:
        return "<SettingsHandle /settings>"


_ExtensionList = list[Extension]
_RegistryRows = list[dict[str, Any]]

#: what GET /extensions/registry sorts by, and the extension types it filters on
_REGISTRY_SORTS: Final = ("popular", "recent", "downloads")
EXTENSION_TYPES: Final = ("interface", "display", "layout", "module", "panel", "theme", "hook",
                          "endpoint", "operation", "bundle")

#: GET /extensions: records with their id, and schema and meta objects (or null)
_EXTENSIONS = plans.Shape(
    "a list of extension records (id, schema, meta)",
    lambda value: isinstance(value, list) and all(
        isinstance(row, dict) and isinstance(row.get("id"), str)
        and isinstance(row.get("schema") or {}, dict) and isinstance(row.get("meta") or {}, dict)
        for row in value))


class Extensions:
    """The installed extensions at /extensions: list them, enable or disable one."""

    def __init__(self, transport: Runner) -> None:
        self._runner = transport
        self._transport: Any = transport

    def __repr__(self) -> str:
        return "<Extensions /extensions>"

    def list(self) -> list[Extension]:
        """Return the installed extensions from GET /extensions."""
        return self._runner.run(self._list())

    def _list(self) -> Plan[_ExtensionList]:
        found = yield from plans.data("GET", "extensions", expect=_EXTENSIONS)
        return cast("_ExtensionList", found)

    def get(self, extension: str) -> Extension:
        """Return one extension by id or name (from GET /extensions), else raise NotFound."""
        return self._runner.run(self._get(_check_extension(extension)))

    def _get(self, extension: str) -> Plan[Extension]:
        installed = yield from self._list()
        for record in installed:
            name = (record.get("schema") or {}).get("name")
            if extension in (record.get("id"), name, (record.get("meta") or {}).get("folder")):
                return record
        names = sorted(str((r.get("schema") or {}).get("name") or r.get("id")) for r in installed)
        raise NotFound(404, "EXTENSION_NOT_FOUND",
                       f"extension: no installed extension {extension!r} "
                       f"(installed: {', '.join(names) or 'none'})",
                       {"extension": extension})

    def update(self, extension: str, meta: Mapping[str, Any]) -> Extension:
        """Change an extension's meta (e.g. {"enabled": False}) with PATCH /extensions/{id}."""
        body = dict(check_data(meta, "meta"))
        return self._runner.run(self._update(_check_extension(extension), body))

    def _update(self, extension: str, meta: dict[str, Any]) -> Plan[Extension]:
        # Resolved first: Directus answers a PATCH of an unknown id with an empty 204.
        key = (yield from self._get(extension))["id"]
        updated = yield from plans.data("PATCH", "extensions", key, json={"meta": meta},
                                        expect=plans.OBJECT_OR_NOTHING)
        return cast("Extension", updated)

    def enable(self, extension: str) -> Extension:
        """Enable an extension (PATCH /extensions/{id} with meta.enabled true)."""
        return self.update(extension, {"enabled": True})

    def disable(self, extension: str) -> Extension:
        """Disable an extension (PATCH /extensions/{id} with meta.enabled false)."""
        return self.update(extension, {"enabled": False})


    def delete(self, extension: str) -> None:
        """Forget an extension's settings with DELETE /extensions/{id} (admin only): for an
        extension whose files are gone; one still installed is listed again on reload."""
        return self._runner.run(admin_plan("extensions.delete",
                                           self._delete(_check_extension(extension))))

    def _delete(self, extension: str) -> Plan[None]:
        key = (yield from self._get(extension))["id"]
        yield from plans.data("DELETE", "extensions", key, expect=plans.NOTHING,
                              idempotent=True)

    # The marketplace (registry) routes: admins only. The server asks the registry
    # (MARKETPLACE_REGISTRY, else registry.directus.io); when it cannot reach it, Directus
    # answers 503 SERVICE_UNAVAILABLE, which is not retried: the registry is down, not the
    # server.

    def registry(self, search: str | None = None, *, by: str | None = None,
                 type: str | None = None, sort: str | None = None, limit: int | None = None,
                 offset: int | None = None) -> _RegistryRows:
        """Search the marketplace with GET /extensions/registry: extensions whose text
        matches `search`, published `by` an account id, of a `type` ("interface",
        "bundle", ...), sorted "popular", "recent" or "downloads"."""
        params: dict[str, str] = {}
        if search is not None:
            params["search"] = check_text(search, "search")
        if sort is not None:
            if sort not in _REGISTRY_SORTS:
                raise UsageError(f"sort: expected one of {', '.join(_REGISTRY_SORTS)}, "
                                 f"got {sort!r}")
            params["sort"] = sort
        for name, number in (("limit", limit), ("offset", offset)):
            if number is not None:
                params[name] = str(check_int_range(number, name, 0, 10_000))
        wanted: dict[str, dict[str, str]] = {}
        if by is not None:
            wanted["by"] = {"_eq": check_uuid(by, "by")}
        if type is not None:
            if type not in EXTENSION_TYPES:
                raise UsageError(f"type: expected one of {', '.join(EXTENSION_TYPES)}, "
                                 f"got {type!r}")
            wanted["type"] = {"_eq": type}
        if wanted:
            params["filter"] = dumps(wanted)
        return cast("_RegistryRows", self._runner.run(admin_plan(
            "extensions.registry", plans.data("GET", "extensions", "registry",
                                              params=params or None, expect=plans.OBJECTS,
                                              idempotent=False))))

    def registry_extension(self, id: str) -> dict[str, Any]:
        """Describe a marketplace extension (its versions, readme, downloads) with
        GET /extensions/registry/extension/{id}."""
        return self._runner.run(admin_plan("extensions.registry_extension", plans.data(
            "GET", "extensions", "registry", "extension", check_uuid(id, "id"),
            expect=plans.OBJECT, idempotent=False)))

    def registry_account(self, id: str) -> dict[str, Any]:
        """Describe a marketplace publisher with GET /extensions/registry/account/{id}."""
        return self._runner.run(admin_plan("extensions.registry_account", plans.data(
            "GET", "extensions", "registry", "account", check_uuid(id, "id"),
            expect=plans.OBJECT, idempotent=False)))

    def install(self, extension: str, version: str) -> None:
        """Install an extension from the marketplace registry with
        POST /extensions/registry/install (admin only; the server downloads it, so it
        needs to reach the registry: MARKETPLACE_REGISTRY or registry.directus.io).

        ``extension`` and ``version`` are the registry's ids (uuids) of the extension and
        of the version to install.
        """
        body = {"extension": check_uuid(extension, "extension"),
                "version": check_uuid(version, "version")}
        return self._runner.run(admin_plan("extensions.install", self._install(body)))

    def _install(self, body: dict[str, str]) -> Plan[None]:
        # Described first, as Directus does before installing: a registry it cannot reach
        # is then a SERVICE_UNAVAILABLE saying so (the install route answers a bare 500),
        # and a version the extension does not have a NotFound (it answers FORBIDDEN).
        described = yield from plans.data("GET", "extensions", "registry", "extension",
                                          body["extension"], expect=plans.OBJECT,
                                          idempotent=False)
        versions = [v for v in described.get("versions") or [] if isinstance(v, dict)]
        if not any(v.get("id") == body["version"] for v in versions):
            known = ", ".join(f"{v.get('version')} ({v.get('id')})" for v in versions[:10])
            raise NotFound(404, "EXTENSION_VERSION_NOT_FOUND",
                           f"extensions.install: {described.get('name') or body['extension']!r} "
                           f"has no version {body['version']!r} (versions: {known or 'none'})",
                           dict(body))
        yield from plans.data("POST", "extensions", "registry", "install", json=body,
                              expect=plans.NOTHING)

    def reinstall(self, extension: str) -> None:
        """Download again an extension installed from the registry (its id, as listed) with
        POST /extensions/registry/reinstall (admin only)."""
        key = check_uuid(extension, "extension")
        return self._runner.run(admin_plan("extensions.reinstall", self._from_registry(
            "reinstall", key, plans.data("POST", "extensions", "registry", "reinstall",
                                         json={"extension": key}, expect=plans.NOTHING))))

    def uninstall(self, extension: str) -> None:
        """Remove an extension installed from the registry (its id, as listed) with
        DELETE /extensions/registry/uninstall/{id} (admin only). Directus refuses
        extensions installed otherwise (InvalidRequest) and unknown ids."""
        key = check_uuid(extension, "extension")
        return self._runner.run(admin_plan("extensions.uninstall", self._from_registry(
            "uninstall", key, plans.data("DELETE", "extensions", "registry", "uninstall", key,
                                         expect=plans.NOTHING))))

    def _from_registry(self, action: str, key: str, plan: Plan[Any]) -> Plan[None]:
        # Looked up first: Directus answers an unknown id with a bare FORBIDDEN, which
        # would read as "not an admin".
        installed = yield from self._list()
        if not any(record.get("id") == key for record in installed):
            raise NotFound(404, "EXTENSION_NOT_FOUND",
                           f"extensions.{action}: no installed extension has the id {key!r}",
                           {"extension": key})
        yield from plan


def _check_extension(extension: Any) -> str:
    if not isinstance(extension, str) or not extension.strip():
        raise UsageError(f"extension: expected an extension id or name, got {extension!r}")
    return extension
