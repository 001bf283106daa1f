"""The Python types a value came back in, for the database and type-matrix tests."""

from __future__ import annotations

from typing import Any


def type_names(value: Any) -> Any:
    """Return the value with every leaf replaced by its type's name (containers kept)."""
    if isinstance(value, dict):
        return {k: type_names(v) for k, v in value.items()}
    if isinstance(value, list):
        return [type_names(v) for v in value]
    return type(value).__name__
