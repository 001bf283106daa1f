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
