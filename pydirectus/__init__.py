"""pydirectus: a Python client for the Directus REST API, built around an immutable Query.

The client half (``DirectusClient``, auth, transport) loads on first use, so that
``import pydirectus.query`` (pure query building) loads neither it nor ``requests``.
"""

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    APIError,
    AuthenticationError,
    BatchAuthenticationError,
    BatchInvalidRequest,
    BatchNotFound,
    BatchPermissionDenied,
    BatchWriteError,
    CommandError,
    ConnectError,
    DirectusError,
    GraphQLAuthenticationError,
    GraphQLError,
    GraphQLInvalidRequest,
    GraphQLNotFound,
    GraphQLPermissionDenied,
    GraphQLRateLimited,
    GraphQLServerError,
    IncompleteRead,
    InsecureTransportWarning,
    InvalidQuery,
    InvalidRequest,
    MultipleItemsFound,
    NotFound,
    NotReplayable,
    PermissionDenied,
    RateLimited,
    ReadOnlyError,
    ResumableUploadsUnavailable,
    SchemaError,
    SchemaRequired,
    ServerError,
    Timeout,
    TLSError,
    TransportError,
    UnexpectedRedirect,
    UsageError,
)
from .query import Q, Query

if TYPE_CHECKING:
    from .auth import LDAP, DirectusAuth, Password, Session, ShareLogin, StaticToken
    from .client import DirectusClient
    from .core.realtime import RealtimeEvent
    from .files import Upload
    from .transport import RetryPolicy

#: public name -> the module that defines it, imported on first access
_LAZY = {
    "DirectusAuth": "auth",
    "LDAP": "auth",
    "Password": "auth",
    "Session": "auth",
    "ShareLogin": "auth",
    "StaticToken": "auth",
    "DirectusClient": "client",
    "RetryPolicy": "transport",
    "RealtimeEvent": "core.realtime",
    "Upload": "files",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pydirectus' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "LDAP",
    "APIError",
    "AuthenticationError",
    "BatchAuthenticationError",
    "BatchInvalidRequest",
    "BatchNotFound",
    "BatchPermissionDenied",
    "BatchWriteError",
    "CommandError",
    "ConnectError",
    "DirectusAuth",
    "DirectusClient",
    "DirectusError",
    "GraphQLAuthenticationError",
    "GraphQLError",
    "GraphQLInvalidRequest",
    "GraphQLNotFound",
    "GraphQLPermissionDenied",
    "GraphQLRateLimited",
    "GraphQLServerError",
    "IncompleteRead",
    "InsecureTransportWarning",
    "InvalidQuery",
    "InvalidRequest",
    "MultipleItemsFound",
    "NotFound",
    "NotReplayable",
    "Password",
    "PermissionDenied",
    "Q",
    "Query",
    "RateLimited",
    "ReadOnlyError",
    "RealtimeEvent",
    "ResumableUploadsUnavailable",
    "RetryPolicy",
    "SchemaError",
    "SchemaRequired",
    "ServerError",
    "Session",
    "ShareLogin",
    "StaticToken",
    "TLSError",
    "Timeout",
    "TransportError",
    "UnexpectedRedirect",
    "Upload",
    "UsageError",
    "__version__",
]
