"""An import reads GET /fields/{collection} once, for its CSV casts, alias check and upsert."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pydirectus.cli.aliases import FieldRows, field_kinds
from pydirectus.errors import PermissionDenied


class _Fields:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls = 0

    def all(self, collection: str) -> Any:
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_the_fields_are_read_once_and_a_refusal_is_remembered() -> None:
    rows = [{"field": "id", "type": "integer", "schema": {"is_primary_key": True}},
            {"field": "tags", "type": "alias", "meta": {"special": ["o2m"]}}]
    fields = _Fields(rows)
    shared = FieldRows(SimpleNamespace(fields=fields), "posts")  # type: ignore[arg-type]
    kinds = field_kinds(shared)
    assert kinds is not None and kinds.columns == ("id",) and dict(kinds.aliases) == {"tags": "o2m"}
    assert shared.get() == rows and field_kinds(shared) == kinds
    assert fields.calls == 1

    refused = _Fields(PermissionDenied(403, "FORBIDDEN", "no"))
    forbidden = FieldRows(SimpleNamespace(fields=refused), "posts")  # type: ignore[arg-type]
    assert forbidden.get() is None and field_kinds(forbidden) is None
    assert refused.calls == 1
