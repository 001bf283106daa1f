"""Handles over Directus's system routes: users and access, content tools, schema, utilities.

``DirectusClient`` hands these out as properties (``client.users``, ``client.schema``, ...);
see each module for its routes.
"""

from .access import Permissions, Policies, Roles, Users
from .content import Flows, Shares, Versions
from .handles import Extensions, ReadOnlyCollection, ReadOnlyError, SettingsHandle, SystemCollection
from .presets import Presets
from .schema import (
    Collections,
    Field,
    Fields,
    File,
    Files,
    Image,
    ManyToMany,
    ManyToOne,
    OneToMany,
    Relations,
    SchemaAPI,
)
from .utils import Authentication, Utils

__all__ = [
    "Authentication",
    "Collections",
    "Extensions",
    "Field",
    "Fields",
    "File",
    "Files",
    "Flows",
    "Image",
    "ManyToMany",
    "ManyToOne",
    "OneToMany",
    "Permissions",
    "Policies",
    "Presets",
    "ReadOnlyCollection",
    "ReadOnlyError",
    "Relations",
    "Roles",
    "SchemaAPI",
    "SettingsHandle",
    "Shares",
    "SystemCollection",
    "Users",
    "Utils",
    "Versions",
]
