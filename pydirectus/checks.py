"""Argument checks shared by every entry point: say what is wrong, name the key, send nothing.

The one home of the package's validators. A misused argument raises UsageError; a bad
query (``check_query``, the ``fields`` of a write) raises InvalidQuery.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .encoding import check_unicode
from .errors import InvalidQuery, UsageError
from .query import Query

__all__ = [
    "check_batch_size",
    "check_bool",
    "check_data",
    "check_email",
    "check_int_range",
    "check_items",
    "check_key",
    "check_keys",
    "check_name",
    "check_params",
    "check_path",
    "check_positive_int",
    "check_query",
    "check_text",
    "check_url",
    "check_uuid",
    "fields_params",
    "query_params",
]


def check_positive_int(value: Any, what: str) -> int:
    """Return value if it is an int of at least 1 (not a bool), else raise naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{what}: expected a positive int, got {value!r}")
    return value


def check_int_range(value: Any, what: str, low: int, high: int) -> int:
    """Return value if it is an int from low to high (not a bool), else raise naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"{what}: expected an int from {low} to {high}, got {value!r}")
    return value


def check_bool(value: Any, what: str) -> bool:
    """Return value if it is True or False (not 0, 1 or "yes"), else raise naming it."""
    if not isinstance(value, bool):
        raise UsageError(f"{what}: expected True or False, got {value!r}")
    return value


def check_text(value: Any, what: str) -> str:
    """Return a non-empty string, else raise naming the argument."""
    if not isinstance(value, str) or not value:
        raise UsageError(f"{what}: expected a non-empty string, got {type(value).__name__}")
    return check_unicode(value, what)


def check_email(value: Any, what: str = "email") -> str:
    """Return an email address (something@host), else raise naming the argument."""
    text = check_text(value, what)
    local, _, host = text.partition("@")
    if not local or not host or " " in text:
        raise UsageError(f"{what}: expected an email address, got {text!r}")
    return text


def check_url(value: Any, what: str) -> str:
    """Return an http(s) URL, else raise naming the argument."""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise UsageError(f"{what}: expected an http(s) URL, got {value!r}")
    return value


def check_uuid(value: Any, what: str) -> str:
    """Return a UUID string in its canonical form (lower case, hyphens), else raise naming it.

    The ids of users, roles, policies, files, folders, flows, ... are UUIDs; Directus
    refuses anything else on their routes.
    """
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise UsageError(f"{what}: expected a UUID, got {value!r}")


def check_params(params: Any, what: str = "params") -> dict[str, str]:
    """Return GET parameters (a dict of str to str or number, not bool) as strings, else raise."""
    if not isinstance(params, Mapping):
        raise UsageError(f"{what}: expected a dict, got {type(params).__name__}")
    out: dict[str, str] = {}
    for key, value in params.items():
        if not isinstance(key, str) or isinstance(value, bool) or not isinstance(
                value, str | int | float):
            raise UsageError(f"{what}[{key!r}]: expected a str or number, got {value!r}")
        out[key] = str(value)
    return out


#: the longest file name and path most file systems take (Linux's NAME_MAX and PATH_MAX)
NAME_MAX = 255
PATH_MAX = 4096


def check_path(value: Any, what: str) -> Path:
    """Return a file system path (a str or os.PathLike) as a Path, or raise UsageError naming
    what is wrong: empty, a NUL, text the file system cannot encode, or too long."""
    text = os.fspath(value) if isinstance(value, os.PathLike) else value
    if not isinstance(text, str) or not text:
        raise UsageError(f"{what}: expected a file path, got {value!r:.80}")
    if "\x00" in text:
        raise UsageError(f"{what}: {text[:80]!r} holds a NUL character, which no path can")
    try:
        encoded = os.fsencode(text)
    except UnicodeEncodeError:
        raise UsageError(f"{what}: {text[:80]!r} cannot be a file name (it holds a lone "
                         f"surrogate)") from None
    longest = max(len(part) for part in encoded.split(os.sep.encode()))
    if len(encoded) > PATH_MAX or longest > NAME_MAX:
        raise UsageError(f"{what}: {text[:40]!r}... is too long for a path ({len(encoded)} "
                         f"bytes, a name of {longest}; at most {PATH_MAX} and {NAME_MAX})")
    return Path(text)


def check_name(value: Any, what: str = "collection") -> str:
    """Return a collection name, or raise UsageError if it is not a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{what}: expected a non-empty collection name, got {value!r}")
    return value


def check_items(items: Any, what: str) -> list[Mapping[str, Any]]:
    """Return items as a list of dicts, or raise naming the first one that is not."""
    if isinstance(items, Mapping) or not isinstance(items, Sequence | Iterable) or isinstance(
            items, str | bytes):
        raise UsageError(f"{what}: expected a list of dicts, got {type(items).__name__}")
    checked = list(items)
    for index, item in enumerate(checked):
        if not isinstance(item, Mapping):
            raise UsageError(f"{what}[{index}]: expected a dict, got {type(item).__name__}")
    return checked


def check_data(data: Any, what: str = "data") -> Mapping[str, Any]:
    """Return data if it is a dict of field values, else raise."""
    if not isinstance(data, Mapping):
        raise UsageError(f"{what}: expected a dict of field values, got {type(data).__name__}")
    return data


def check_key(key: Any, what: str = "pk") -> str | int:
    """Return a primary key if it is a non-empty str or an int (and not '.' or '..')."""
    if key is None or isinstance(key, bool) or not isinstance(key, str | int) or (
            isinstance(key, str) and key.strip() in ("", ".", "..")):
        raise UsageError(f"{what}: expected a non-empty str or int primary key, got {key!r}")
    return key


def check_keys(keys: Any) -> list[str | int]:
    """Return keys as a list of valid primary keys, naming the first bad one."""
    if isinstance(keys, str | bytes | Mapping) or not isinstance(keys, Iterable):
        raise UsageError(f"keys: expected a list of primary keys, got {type(keys).__name__}")
    return [check_key(key, f"keys[{index}]") for index, key in enumerate(keys)]


def check_batch_size(batch_size: int) -> int:
    """Return batch_size if it is a positive int, else raise UsageError."""
    return check_positive_int(batch_size, "batch_size")


def fields_params(fields: Sequence[str] | None) -> dict[str, str] | None:
    """Return the `fields` GET parameter for writes that choose what comes back."""
    if fields is None:
        return None
    if isinstance(fields, str):
        fields = [fields]
    if isinstance(fields, Mapping) or not isinstance(fields, Iterable):
        raise InvalidQuery(f"fields: expected field names, got {fields!r}")
    names = list(fields)
    if not names or not all(isinstance(f, str) and f for f in names):
        raise InvalidQuery(f"fields: expected field names, got {names!r}")
    return {"fields": ",".join(check_unicode(f, "fields") for f in names)}


def check_query(query: Any, what: str = "query") -> Query:
    """Return a Query from a Query, a Directus query dict or None, checking every key.

    Every entry point that takes a query goes through here, so a dict is held to the
    same rules as Query.from_dict (unknown keys, bad values, NaN, ...) before sending.
    """
    if query is None:
        return Query()
    if isinstance(query, Query):
        return query
    if isinstance(query, Mapping):
        return Query.from_dict(query)
    raise InvalidQuery(f"{what}: expected a dict or a Query, got {type(query).__name__}")


def query_params(query: Any, what: str = "query") -> dict[str, str] | None:
    """Return the GET parameters of a checked query (None when no query was given)."""
    if query is None:
        return None
    return check_query(query, what).to_params() or None
