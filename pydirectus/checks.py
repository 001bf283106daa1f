"""Argument checks shared by every entry point: say what is wrong, name the key, send nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .errors import InvalidQuery
from .query import Query

__all__ = [
    "check_batch_size",
    "check_data",
    "check_items",
    "check_key",
    "check_keys",
    "check_name",
    "check_query",
    "fields_params",
    "query_params",
]


def check_name(value: Any, what: str = "collection") -> str:
    """Return a collection name, or raise InvalidQuery if it is not a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidQuery(f"{what}: expected a non-empty collection name, got {value!r}")
    return value


def check_items(items: Any, what: str) -> list[Mapping[str, Any]]:
    """Return items as a list of dicts, or raise naming the first one that is not."""
    if isinstance(items, Mapping) or not isinstance(items, Sequence | Iterable) or isinstance(
            items, str | bytes):
        raise InvalidQuery(f"{what}: expected a list of dicts, got {type(items).__name__}")
    checked = list(items)
    for index, item in enumerate(checked):
        if not isinstance(item, Mapping):
            raise InvalidQuery(f"{what}[{index}]: expected a dict, got {type(item).__name__}")
    return checked


def check_data(data: Any, what: str = "data") -> Mapping[str, Any]:
    """Return data if it is a dict of field values, else raise."""
    if not isinstance(data, Mapping):
        raise InvalidQuery(f"{what}: expected a dict of field values, got {type(data).__name__}")
    return data


def check_key(key: Any, what: str = "pk") -> str | int:
    """Return a primary key if it is a non-empty str or an int (and not '.' or '..')."""
    if key is None or isinstance(key, bool) or not isinstance(key, str | int) or (
            isinstance(key, str) and key.strip() in ("", ".", "..")):
        raise InvalidQuery(f"{what}: expected a non-empty str or int primary key, got {key!r}")
    return key


def check_keys(keys: Any) -> list[str | int]:
    """Return keys as a list of valid primary keys, naming the first bad one."""
    if isinstance(keys, str | bytes | Mapping) or not isinstance(keys, Iterable):
        raise InvalidQuery(f"keys: expected a list of primary keys, got {type(keys).__name__}")
    return [check_key(key, f"keys[{index}]") for index, key in enumerate(keys)]


def check_batch_size(batch_size: int) -> int:
    """Return batch_size if it is a positive int, else raise."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidQuery(f"batch_size: expected a positive int, got {batch_size!r}")
    return batch_size


def fields_params(fields: Sequence[str] | None) -> dict[str, str] | None:
    """Return the `fields` GET parameter for writes that choose what comes back."""
    if fields is None:
        return None
    if isinstance(fields, str):
        fields = [fields]
    if not fields or not all(isinstance(f, str) and f for f in fields):
        raise InvalidQuery(f"fields: expected field names, got {fields!r}")
    return {"fields": ",".join(fields)}


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
