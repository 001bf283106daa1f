"""Every system handle a client hands out, from one table, for both faces.

``client.users``, ``client.activity``, ``client.schema``, ...: each attribute is one row of
``SYSTEM_HANDLES`` (its Directus collection, its route, read-only or not, and the
handle class where the route has more than the collection machinery). The handle is made
on first access over the client's runner, so the sync and the async client share this
table; a new system route is one row (plus its annotation below, for type checkers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from ..models import (
    Access,
    Activity,
    Comment,
    Dashboard,
    Notification,
    Operation,
    Panel,
    Revision,
    Settings,
    Translation,
)
from .access import Permissions, Policies, Roles, Users
from .content import Flows, Shares, Versions
from .handles import Extensions, ReadOnlyCollection, SettingsHandle, SystemCollection
from .presets import Presets
from .schema import Collections, Fields, Relations, SchemaAPI
from .utils import Authentication, Utils

if TYPE_CHECKING:
    from ..core.schema import SchemaCache

__all__ = ["SYSTEM_HANDLES", "SystemHandle", "SystemHandles", "system_handle_of"]


@attrs.frozen
class SystemHandle:
    """One system handle: the attribute, the Directus collection (None: not a collection),
    whether it only reads, and how to make it (default: the collection machinery)."""

    attribute: str
    collection: str | None
    read_only: bool = False
    make: Callable[[SystemHandles], Any] | None = None

    def build(self, owner: SystemHandles) -> Any:
        """Return a new handle for `owner`'s runner and schema cache."""
        if self.make is not None:
            return self.make(owner)
        kind = ReadOnlyCollection if self.read_only else SystemCollection
        return kind(owner._runner, owner._schema, name=self.collection,
                    page_size=owner.page_size)


def _collection_of(kind: Any) -> Callable[[SystemHandles], Any]:
    return lambda owner: kind(owner._runner, owner._schema, page_size=owner.page_size)


def _schema_api(owner: SystemHandles) -> SchemaAPI:
    return SchemaAPI(owner._runner, owner._schema, owner.collections, owner.fields,
                     owner.relations)


#: attribute -> handle; the order is the docs' (access first, then content, schema, tools)
SYSTEM_HANDLES: tuple[SystemHandle, ...] = (
    SystemHandle("users", "directus_users", make=_collection_of(Users)),
    SystemHandle("roles", "directus_roles", make=_collection_of(Roles)),
    SystemHandle("policies", "directus_policies", make=_collection_of(Policies)),
    SystemHandle("permissions", "directus_permissions", make=_collection_of(Permissions)),
    SystemHandle("access", "directus_access"),
    SystemHandle("presets", "directus_presets", make=_collection_of(Presets)),
    SystemHandle("comments", "directus_comments"),
    SystemHandle("versions", "directus_versions", make=_collection_of(Versions)),
    SystemHandle("shares", "directus_shares", make=_collection_of(Shares)),
    SystemHandle("notifications", "directus_notifications"),
    SystemHandle("flows", "directus_flows", make=_collection_of(Flows)),
    SystemHandle("operations", "directus_operations"),
    SystemHandle("dashboards", "directus_dashboards"),
    SystemHandle("panels", "directus_panels"),
    SystemHandle("translations", "directus_translations"),
    SystemHandle("activity", "directus_activity", read_only=True),
    SystemHandle("revisions", "directus_revisions", read_only=True),
    SystemHandle("settings", "directus_settings",
                 make=lambda owner: SettingsHandle(owner._runner, owner._schema)),
    SystemHandle("extensions", "directus_extensions",
                 make=lambda owner: Extensions(owner._runner)),
    SystemHandle("collections", "directus_collections",
                 make=lambda owner: Collections(owner._runner, owner._schema)),
    SystemHandle("fields", "directus_fields",
                 make=lambda owner: Fields(owner._runner, owner._schema)),
    SystemHandle("relations", "directus_relations",
                 make=lambda owner: Relations(owner._runner, owner._schema)),
    SystemHandle("schema", None, make=_schema_api),
    SystemHandle("utils", None, make=lambda owner: Utils(owner._runner, owner._schema)),
    SystemHandle("authentication", None, make=lambda owner: Authentication(owner._runner)),
)
_BY_ATTRIBUTE = {handle.attribute: handle for handle in SYSTEM_HANDLES}
#: directus_* collection -> the client attribute serving it (files and folders are made by
#: the client itself, not from the table)
_BY_COLLECTION = {"directus_files": "files", "directus_folders": "folders",
                  **{h.collection: h.attribute for h in SYSTEM_HANDLES if h.collection}}


def system_handle_of(collection: str) -> str | None:
    """Return the client attribute that serves a directus_* collection (``"users"``), or None."""
    return _BY_COLLECTION.get(collection)


class SystemHandles:
    """The system handles of a client (either face), made on first access from the table."""

    # The face's runner: the sync Transport or the async one (see pydirectus.core.plans).
    _runner: Any
    _schema: SchemaCache
    page_size: int

    # What each row of SYSTEM_HANDLES gives, for type checkers.
    users: Users
    roles: Roles
    policies: Policies
    permissions: Permissions
    access: SystemCollection[Access]
    presets: Presets
    comments: SystemCollection[Comment]
    versions: Versions
    shares: Shares
    notifications: SystemCollection[Notification]
    flows: Flows
    operations: SystemCollection[Operation]
    dashboards: SystemCollection[Dashboard]
    panels: SystemCollection[Panel]
    translations: SystemCollection[Translation]
    activity: ReadOnlyCollection[Activity]
    revisions: ReadOnlyCollection[Revision]
    settings: SettingsHandle[Settings]
    extensions: Extensions
    collections: Collections
    fields: Fields
    relations: Relations
    schema: SchemaAPI
    utils: Utils
    authentication: Authentication

    def __getattr__(self, name: str) -> Any:
        row = _BY_ATTRIBUTE.get(name)
        if row is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        handle = row.build(self)
        # Kept on the instance: later reads find it without coming here.
        self.__dict__[name] = handle
        return handle

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *_BY_ATTRIBUTE})
