"""TypedDicts for Directus system records; at run time they are plain dicts.

Every key is optional (``total=False``): what comes back depends on the ``fields`` asked for.
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = ["File", "Folder", "User"]


class File(TypedDict, total=False):
    """A row of directus_files."""

    id: str
    storage: str
    filename_disk: str | None
    filename_download: str
    title: str | None
    type: str | None
    folder: str | Folder | None
    uploaded_by: str | User | None
    created_on: str
    modified_by: str | User | None
    modified_on: str
    charset: str | None
    filesize: int | str | None
    width: int | None
    height: int | None
    duration: int | None
    embed: str | None
    description: str | None
    location: str | None
    tags: list[str] | None
    metadata: dict[str, Any] | None
    focal_point_x: int | None
    focal_point_y: int | None
    tus_id: str | None
    tus_data: dict[str, Any] | None
    uploaded_on: str | None


class Folder(TypedDict, total=False):
    """A row of directus_folders."""

    id: str
    name: str
    parent: str | Folder | None


class User(TypedDict, total=False):
    """A row of directus_users (secrets such as password and token come back masked)."""

    id: str
    first_name: str | None
    last_name: str | None
    email: str | None
    location: str | None
    title: str | None
    description: str | None
    tags: list[str] | None
    avatar: str | File | None
    language: str | None
    status: str
    role: str | dict[str, Any] | None
    last_access: str | None
    last_page: str | None
    provider: str
    external_identifier: str | None


# System records behind the system handles (client.users, client.roles, ...): issue 12.

Ref = str | dict[str, Any] | None  # a related record's key, or the record when expanded


class Role(TypedDict, total=False):
    """A row of directus_roles."""

    id: str
    name: str
    icon: str
    description: str | None
    parent: Ref
    children: list[Any]
    policies: list[Any]
    users: list[Any]


class Policy(TypedDict, total=False):
    """A row of directus_policies."""

    id: str
    name: str
    icon: str
    description: str | None
    ip_access: list[str] | None
    enforce_tfa: bool
    admin_access: bool
    app_access: bool
    permissions: list[Any]
    users: list[Any]
    roles: list[Any]


class Permission(TypedDict, total=False):
    """A row of directus_permissions: one action on one collection, for one policy."""

    id: int
    collection: str
    action: str
    permissions: dict[str, Any] | None
    validation: dict[str, Any] | None
    presets: dict[str, Any] | None
    fields: list[str] | None
    policy: Ref


class Access(TypedDict, total=False):
    """A row of directus_access: a policy attached to a role or a user."""

    id: str
    role: Ref
    user: Ref
    policy: Ref
    sort: int | None


class Preset(TypedDict, total=False):
    """A row of directus_presets: a bookmark, or a user's or role's layout defaults."""

    id: int
    bookmark: str | None
    user: Ref
    role: Ref
    collection: str
    search: str | None
    layout: str | None
    layout_query: dict[str, Any] | None
    layout_options: dict[str, Any] | None
    refresh_interval: int | None
    filter: dict[str, Any] | None
    icon: str | None
    color: str | None


class Comment(TypedDict, total=False):
    """A row of directus_comments."""

    id: str
    collection: str
    item: str
    comment: str
    date_created: str | None
    date_updated: str | None
    user_created: Ref
    user_updated: Ref


class Version(TypedDict, total=False):
    """A row of directus_versions: a named draft of one item."""

    id: str
    key: str
    name: str | None
    collection: str
    item: str
    hash: str | None
    date_created: str | None
    date_updated: str | None
    user_created: Ref
    user_updated: Ref
    delta: dict[str, Any] | None


class Share(TypedDict, total=False):
    """A row of directus_shares (the password comes back masked)."""

    id: str
    name: str | None
    collection: str
    item: str
    role: Ref
    password: str | None
    user_created: Ref
    date_created: str | None
    date_start: str | None
    date_end: str | None
    times_used: int | None
    max_uses: int | None


class Notification(TypedDict, total=False):
    """A row of directus_notifications."""

    id: int
    timestamp: str | None
    status: str
    recipient: Ref
    sender: Ref
    subject: str
    message: str | None
    collection: str | None
    item: str | None


class Flow(TypedDict, total=False):
    """A row of directus_flows."""

    id: str
    name: str
    icon: str | None
    color: str | None
    description: str | None
    status: str
    trigger: str | None
    accountability: str | None
    options: dict[str, Any] | None
    operation: Ref
    date_created: str | None
    user_created: Ref
    operations: list[Any]


class Operation(TypedDict, total=False):
    """A row of directus_operations: one step of a flow."""

    id: str
    name: str | None
    key: str
    type: str
    position_x: int
    position_y: int
    options: dict[str, Any] | None
    resolve: Ref
    reject: Ref
    flow: Ref
    date_created: str | None
    user_created: Ref


class Dashboard(TypedDict, total=False):
    """A row of directus_dashboards."""

    id: str
    name: str
    icon: str
    note: str | None
    date_created: str | None
    user_created: Ref
    color: str | None
    panels: list[Any]


class Panel(TypedDict, total=False):
    """A row of directus_panels: one tile of a dashboard."""

    id: str
    dashboard: Ref
    name: str | None
    icon: str | None
    color: str | None
    show_header: bool
    note: str | None
    type: str
    position_x: int
    position_y: int
    width: int
    height: int
    options: dict[str, Any] | None
    date_created: str | None
    user_created: Ref


class Translation(TypedDict, total=False):
    """A row of directus_translations: one custom translation string."""

    id: str
    language: str
    key: str
    value: str


class Activity(TypedDict, total=False):
    """A row of directus_activity (read-only)."""

    id: int
    action: str
    user: Ref
    timestamp: str
    ip: str | None
    user_agent: str | None
    collection: str
    item: str
    origin: str | None
    revisions: list[Any]


class Revision(TypedDict, total=False):
    """A row of directus_revisions (read-only): an item's data after one change."""

    id: int
    activity: int | dict[str, Any]
    collection: str
    item: str
    data: dict[str, Any] | None
    delta: dict[str, Any] | None
    parent: int | None
    version: Ref


class Settings(TypedDict, total=False):
    """The directus_settings singleton (only the commonly used keys are typed)."""

    id: int
    project_name: str
    project_url: str | None
    project_color: str | None
    project_logo: str | None
    project_descriptor: str | None
    default_language: str
    public_note: str | None
    auth_login_attempts: int | None
    auth_password_policy: str | None
    storage_asset_transform: str | None
    storage_asset_presets: list[dict[str, Any]] | None
    storage_default_folder: str | None
    custom_css: str | None
    module_bar: list[dict[str, Any]] | None
    default_appearance: str
    public_registration: bool
    public_registration_verify_email: bool
    public_registration_role: str | None
    public_registration_email_filter: dict[str, Any] | None


class Extension(TypedDict, total=False):
    """One installed extension as GET /extensions lists it."""

    id: str
    bundle: str | None
    schema: dict[str, Any] | None
    meta: dict[str, Any]


class CollectionRecord(TypedDict, total=False):
    """A collection as /collections describes it (``schema`` is None for folders)."""

    collection: str
    meta: dict[str, Any] | None
    schema: dict[str, Any] | None


class FieldRecord(TypedDict, total=False):
    """A field as /fields describes it."""

    collection: str
    field: str
    type: str
    meta: dict[str, Any] | None
    schema: dict[str, Any] | None


class Relation(TypedDict, total=False):
    """A relation as /relations describes it (keyed by the many side's collection and field)."""

    collection: str
    field: str
    related_collection: str | None
    meta: dict[str, Any] | None
    schema: dict[str, Any] | None

__all__ += [
    "Access", "Activity", "CollectionRecord", "Comment", "Dashboard", "Extension",
    "FieldRecord", "Flow", "Notification", "Operation", "Panel", "Permission", "Policy",
    "Preset", "Relation", "Revision", "Role", "Settings", "Share", "Translation", "Version",
]
