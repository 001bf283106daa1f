"""pydirectus: a Python client for the Directus REST API, built around an immutable Query.

The client half (``DirectusClient``, auth, transport) loads on first use, so that
``import pydirectus.query`` (pure query building) loads neither it nor ``requests``.
"""

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    APIError,
    AuthenticationError,
    BatchWriteError,
    ConnectError,
    DirectusError,
    InvalidQuery,
    InvalidRequest,
    MultipleItemsFound,
    NotFound,
    NotReplayable,
    PermissionDenied,
    RateLimited,
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
    from .auth import DirectusAuth, Password, StaticToken
    from .client import DirectusClient, InsecureTransportWarning
    from .collection import BatchWriteError
    from .files import Upload
    from .system.handles import ReadOnlyError
    from .transport import RetryPolicy
    from .typegen import SchemaError

#: public name -> the module that defines it, imported on first access
_LAZY = {
    "DirectusAuth": "auth",
    "Password": "auth",
    "StaticToken": "auth",
    "DirectusClient": "client",
    "InsecureTransportWarning": "client",
    "RetryPolicy": "transport",
    "Upload": "files",
    # Errors defined beside the code that raises them (all in the DirectusError tree).
    "BatchWriteError": "collection",
    "ReadOnlyError": "system.handles",
    "SchemaError": "typegen",
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
    "APIError",
    "AuthenticationError",
    "BatchWriteError",
    "ConnectError",
    "DirectusAuth",
    "DirectusClient",
    "DirectusError",
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
    "RetryPolicy",
    "SchemaError",
    "SchemaRequired",
    "ServerError",
    "StaticToken",
    "TLSError",
    "Timeout",
    "TransportError",
    "UnexpectedRedirect",
    "Upload",
    "UsageError",
    "__version__",
]
