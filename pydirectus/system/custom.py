"""Custom endpoints (extensions' routes) and clients that share one connection pool."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import requests

from ..errors import InvalidQuery
from ..transport import Call, decode_json

if TYPE_CHECKING:
    from ..transport import Transport

__all__ = ["METHODS", "SharedPoolSession", "send_custom", "split_path"]

METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE", "SEARCH", "HEAD", "OPTIONS"})


class SharedPoolSession(requests.Session):
    """A session with its own headers and cookies over another session's connection pools.

    Closing it leaves the pools open: they belong to the session it was made from.
    """

    def __init__(self, parent: requests.Session) -> None:
        super().__init__()
        for prefix, adapter in parent.adapters.items():
            self.mount(prefix, adapter)
        self.headers.update({k: v for k, v in parent.headers.items()
                             if k.lower() != "authorization"})
        self.proxies = dict(parent.proxies)
        self.trust_env = parent.trust_env
        self.cert = parent.cert

    def close(self) -> None:
        """Forget the borrowed adapters without closing their pools."""
        self.adapters.clear()


def split_path(path: str) -> tuple[str, ...]:
    """Return the segments of a relative route such as "my-endpoint/items/42"."""
    if not isinstance(path, str) or not path.strip("/"):
        raise InvalidQuery(f"path: expected a route such as 'my-endpoint/hello', got {path!r}")
    if "?" in path or "#" in path:
        raise InvalidQuery("path: pass query parameters in params=, not in the path")
    if "://" in path:
        raise InvalidQuery("path: expected a route relative to the client's URL, not a URL")
    segments = tuple(path.strip("/").split("/"))
    for segment in segments:
        if segment in ("", ".", ".."):
            raise InvalidQuery(f"path {path!r}: empty, '.' or '..' segments are not allowed")
    return segments


def _params(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    if params is None:
        return None
    if not isinstance(params, Mapping):
        raise InvalidQuery(f"params: expected a dict, got {type(params).__name__}")
    out: dict[str, str] = {}
    for key, value in params.items():
        if not isinstance(key, str) or isinstance(value, bool) or not isinstance(
                value, str | int | float):
            raise InvalidQuery(f"params[{key!r}]: expected a str or number, got {value!r}")
        out[key] = str(value)
    return out


def send_custom(transport: Transport, method: str, path: str, *,
                params: Mapping[str, Any] | None = None, json: Any = None,
                headers: Mapping[str, str] | None = None) -> Any:
    """Send a call to any route; return decoded JSON, text, or None for an empty body."""
    verb = method.upper() if isinstance(method, str) else method
    if verb not in METHODS:
        raise InvalidQuery(f"method: expected one of {', '.join(sorted(METHODS))}, "
                           f"got {method!r}")
    if headers is not None and (not isinstance(headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items())):
        raise InvalidQuery("headers: expected a dict of str to str")
    call = Call(verb, split_path(path), params=_params(params), json=json, headers=headers)
    response = transport.send(call)
    if response.status_code == 204 or not response.content:
        return None
    if "json" in response.headers.get("Content-Type", ""):
        return decode_json(response, call)
    return response.text

