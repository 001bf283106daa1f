"""TypedDicts for Directus system records and query dicts; at run time they are plain dicts.

Every key is optional (``total=False``): what comes back depends on the ``fields`` asked for.
The names of the original pydirectus 0.2 (``Item``, ``File``, ``Folder``, ``Activity``,
``Filter``, ``Query``, ``DeepQuery``, ``NestedDeepQuery``) are all here, so code annotated
with them type-checks unchanged. ``pydirectus.models.Query`` is the *dict* type of a
Directus query; the chainable builder is ``pydirectus.Query``, and both are accepted
wherever a query is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias, TypedDict

__all__ = [
    "Activity",
    "Aggregate",
    "DeepQuery",
    "FieldFilter",
    "FieldFilterOperator",
    "FieldValidationOperator",
    "File",
    "Filter",
    "Folder",
    "Item",
    "LogicalFilter",
    "LogicalFilterAND",
    "LogicalFilterOR",
    "NestedDeepQuery",
    "Query",
    "User",
]


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
    type: str  # "files" (the file library) or "flows"


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
    "Access", "CollectionRecord", "Comment", "Dashboard", "Extension",
    "FieldRecord", "Flow", "Notification", "Operation", "Panel", "Permission", "Policy",
    "Preset", "Relation", "Revision", "Role", "Settings", "Share", "Translation", "Version",
]


# The names of the original pydirectus 0.2, complete for Directus 12.

Item: TypeAlias = dict[str, Any]
"""An item of any collection: a plain dict, whatever its primary key and fields are called.

A TypedDict cannot accept the keys of every collection, so this is ``dict[str, Any]``; for
one collection's shape, write your own TypedDict and pass it to ``client.collection()``.
"""


class Activity(TypedDict, total=False):
    """A row of directus_activity (GET /activity): who did what to which item, and when."""

    id: int
    action: str  # create, update, delete, login, run, ...
    user: str | User | None
    timestamp: str
    ip: str | None
    user_agent: str | None
    collection: str
    item: str  # always a string, even for integer primary keys
    origin: str | None
    revisions: list[int] | list[dict[str, Any]]
    # Comments moved to directus_comments in Directus 11; Directus 12 never sends this key.
    # It stays so that 0.2 code reading it still type-checks.
    comment: str | None


class FieldFilterOperator(TypedDict, total=False):
    """The operators Directus 12 accepts on one field (``{"views": {"_gt": 10}}``)."""

    _eq: str | int | float | bool | None
    _neq: str | int | float | bool | None
    _lt: str | int | float
    _lte: str | int | float
    _gt: str | int | float
    _gte: str | int | float
    _in: Sequence[str | int | float]
    _nin: Sequence[str | int | float]
    _null: bool
    _nnull: bool
    _contains: str
    _ncontains: str
    _icontains: str
    _starts_with: str
    _nstarts_with: str
    _istarts_with: str
    _nistarts_with: str
    _ends_with: str
    _nends_with: str
    _iends_with: str
    _niends_with: str
    _between: Sequence[str | int | float]
    _nbetween: Sequence[str | int | float]
    _empty: bool
    _nempty: bool
    _intersects: str | dict[str, Any]
    _nintersects: str | dict[str, Any]
    _intersects_bbox: str | dict[str, Any]
    _nintersects_bbox: str | dict[str, Any]
    _json: dict[str, FieldFilterOperator]


class FieldValidationOperator(TypedDict, total=False):
    """The operators only validation rules (permissions' ``validation``) accept."""

    _submitted: bool
    _regex: str


# A field name, a function of one (``"year(date)"``), a relation to walk, or a quantifier
# (``_some``/``_none``) maps to its operators or to a nested filter.
FieldFilter: TypeAlias = dict[str, "FieldFilterOperator | FieldValidationOperator | FieldFilter"]


class LogicalFilterOR(TypedDict):
    """``{"_or": [filter, ...]}``: any of the filters."""

    _or: Sequence[Filter]


class LogicalFilterAND(TypedDict):
    """``{"_and": [filter, ...]}``: all of the filters."""

    _and: Sequence[Filter]


LogicalFilter: TypeAlias = "LogicalFilterOR | LogicalFilterAND"
Filter: TypeAlias = "LogicalFilter | FieldFilter"
"""A Directus filter object, as ``filter`` in a query or ``Q.from_dict`` takes it."""


class Aggregate(TypedDict, total=False):
    """``aggregate``: each function maps to the fields it applies to (``"*"`` for all rows)."""

    count: Sequence[str]
    countDistinct: Sequence[str]
    countAll: Sequence[str]
    sum: Sequence[str]
    sumDistinct: Sequence[str]
    avg: Sequence[str]
    avgDistinct: Sequence[str]
    min: Sequence[str]
    max: Sequence[str]


class DeepQuery(TypedDict, total=False):
    """The query of one relational field inside ``deep``: the query keys with a ``_`` prefix.

    A level cannot mix these keys with deeper relation names in one typed dict literal;
    at run time (and as a plain dict) Directus takes both, e.g.
    ``{"comments": {"_limit": 5, "author": {"_fields": ["name"]}}}``.
    """

    _fields: Sequence[str] | None
    _filter: Filter | None
    _search: str | None
    _sort: Sequence[str] | None
    _limit: int | None
    _offset: int | None
    _page: int | None
    _alias: dict[str, str] | None
    _aggregate: Aggregate | None
    _groupBy: Sequence[str] | None


NestedDeepQuery: TypeAlias = dict[str, "DeepQuery | NestedDeepQuery"]
"""``deep``: relational field name -> its DeepQuery, or a deeper level."""


class Query(TypedDict, total=False):
    """The Directus query dict: what ``read_items(collection, query)`` and friends take.

    Not the builder: ``pydirectus.Query`` is the chainable builder, and
    ``pydirectus.Query.from_dict(d)`` / ``.to_dict()`` convert between the two. Every key
    is optional and ``None`` means "not set". A list of names may also be a tuple or one
    comma-joined string (``"title,views"``).
    ``export`` is left out: the client reads JSON.
    """

    fields: Sequence[str] | None
    filter: Filter | None
    search: str | None
    sort: Sequence[str] | None
    limit: int | None
    offset: int | None
    page: int | None
    meta: Sequence[str] | None
    deep: NestedDeepQuery | None
    alias: dict[str, str] | None
    aggregate: Aggregate | None
    groupBy: Sequence[str] | None
    version: str | None
    backlink: bool | None
