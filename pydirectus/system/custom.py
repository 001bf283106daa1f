"""Custom endpoints (extensions' routes): any method and path, both faces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..checks import check_params
from ..core.plans import Call, Plan, decode_json, send
from ..errors import UsageError

if TYPE_CHECKING:
    from ..core.plans import Runner

__all__ = ["METHODS", "send_custom", "split_path"]

METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE", "SEARCH", "HEAD", "OPTIONS"})
#: what no header may hold: a line break would start another header, a NUL ends the text
_BREAKS = frozenset("\r\n\x00")


def split_path(path: str) -> tuple[str, ...]:
    """Return the segments of a relative route such as "my-endpoint/items/42"."""
    if not isinstance(path, str) or not path.strip("/"):
        raise UsageError(f"path: expected a route such as 'my-endpoint/hello', got {path!r}")
    if "?" in path or "#" in path:
        raise UsageError("path: pass query parameters in params=, not in the path")
    if "://" in path:
        raise UsageError("path: expected a route relative to the client's URL, not a URL")
    segments = tuple(path.strip("/").split("/"))
    for segment in segments:
        if segment in ("", ".", ".."):
            raise UsageError(f"path {path!r}: empty, '.' or '..' segments are not allowed")
    return segments


def send_custom(transport: Runner, method: str, path: str, *,
                params: Mapping[str, Any] | None = None, json: Any = None,
                headers: Mapping[str, str] | None = None) -> Any:
    """Send a call to any route; return decoded JSON, text, or None for an empty body."""
    verb = method.upper() if isinstance(method, str) else None
    if verb not in METHODS:
        raise UsageError(f"method: expected one of {', '.join(sorted(METHODS))}, "
                         f"got {method!r}")
    if headers is not None and (not isinstance(headers, Mapping) or not all(
            isinstance(k, str) and k.strip() and isinstance(v, str)
            and not _BREAKS.intersection(k + v) for k, v in headers.items())):
        raise UsageError("headers: expected a dict of str to str (names not empty, no line "
                         "breaks or NUL)")
    query = None if params is None else check_params(params)
    call = Call(verb, split_path(path), params=query, json=json, headers=headers)
    return transport.run(_custom(call))


def _custom(call: Call) -> Plan[Any]:
    response = yield from send(call)
    if response.status_code == 204 or not response.content:
        return None
    if "json" in response.headers.get("Content-Type", ""):
        return decode_json(response, call)
    return response.text

