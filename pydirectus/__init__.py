"""pydirectus: a Python client for the Directus REST API, built around an immutable Query."""

from ._version import __version__
from .auth import DirectusAuth, Password, StaticToken
from .client import DirectusClient
from .errors import (
    APIError,
    AuthenticationError,
    DirectusError,
    InvalidQuery,
    NotFound,
    PermissionDenied,
    TransportError,
)
from .files import Upload
from .query import Q, Query
from .transport import RetryPolicy

__all__ = [
    "APIError",
    "AuthenticationError",
    "DirectusAuth",
    "DirectusClient",
    "DirectusError",
    "InvalidQuery",
    "NotFound",
    "Password",
    "PermissionDenied",
    "Q",
    "Query",
    "RetryPolicy",
    "StaticToken",
    "TransportError",
    "Upload",
    "__version__",
]
