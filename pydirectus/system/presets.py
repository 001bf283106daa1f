"""Presets and bookmarks as queries: turn a bookmark saved in the app into a Query, and back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..checks import check_key, check_name, check_text, check_uuid
from ..collection import Collection
from ..core import plans
from ..core.plans import Plan
from ..errors import InvalidQuery
from ..models import Preset
from ..query import Query
from .handles import SystemCollection

__all__ = ["LAYOUT_QUERY_KEYS", "Presets", "preset_body"]

#: GET /users/me?fields=id: the user's id is what a preset of "me" is stored under
_WITH_ID = plans.Shape("an object with the user's id",
                       lambda value: isinstance(value, dict) and plans.KEY.accepts(value.get("id")))

# What a preset can hold: filter and search at its top, these in layout_query[layout].
LAYOUT_QUERY_KEYS = ("fields", "sort", "limit", "page")
PRESET_KEYS = frozenset({"filter", "search", *LAYOUT_QUERY_KEYS})
ME = "me"


def preset_body(collection: str, compiled: Mapping[str, Any], *, bookmark: str | None,
                layout: str) -> dict[str, Any]:
    """Return the directus_presets row (without owner) that stores a compiled query."""
    extra = sorted(set(compiled) - PRESET_KEYS)
    if extra:
        raise InvalidQuery(f"query: a preset stores filter, search, fields, sort, limit and page "
                           f"only; this query also has {', '.join(extra)}")
    layout_query = {key: compiled[key] for key in LAYOUT_QUERY_KEYS if key in compiled}
    return {
        "collection": collection,
        "bookmark": bookmark,
        "layout": layout,
        "filter": compiled.get("filter"),
        "search": compiled.get("search"),
        "layout_query": {layout: layout_query} if layout_query else None,
    }


class Presets(SystemCollection[Preset]):
    """The /presets handle (bookmarks and layout defaults), with Query conversions."""

    NAME = "directus_presets"

    def to_query(self, preset: Mapping[str, Any] | int | str) -> Query:
        """Return the Query a preset describes (filter, search and its layout's fields, sort,
        limit, page); given an id, read the preset with GET /presets/{id} first."""
        if isinstance(preset, Mapping):
            # No call; still the face's runner's answer (awaitable on the async face).
            return self._run(self._to_query(preset))
        return self._run(self._to_query(check_key(preset, "preset")))

    def _to_query(self, preset: Mapping[str, Any] | str | int) -> Plan[Query]:
        record = preset if isinstance(preset, Mapping) else (yield from self._get(preset))
        return Query.from_preset(record)

    def from_query(self, collection: str, query: Query, bookmark: str, *,
                   layout: str = "tabular", user: str | None = ME, role: str | None = None,
                   icon: str | None = None, color: str | None = None) -> Preset:
        """Save a Query as a bookmark the app lists for `collection`, with POST /presets.

        The bookmark belongs to the current user by default (as when saved in the app); pass
        ``user=None`` and a ``role`` for a role's bookmark, or neither for everyone's.
        """
        name = check_name(collection)
        if not isinstance(query, Query):
            raise InvalidQuery(f"query: expected a Query, got {type(query).__name__}")
        marks = {"bookmark": check_text(bookmark, "bookmark"),
                 "layout": check_text(layout, "layout")}
        owner = {"user": check_uuid(user, "user") if user not in (None, ME) else None,
                 "role": check_uuid(role, "role") if role is not None else None}
        for key, value in (("icon", icon), ("color", color)):
            if value is not None:
                owner[key] = check_text(value, key)
        return self._run(self._from_query(name, query, marks, owner, user == ME))

    def _from_query(self, name: str, query: Query, marks: dict[str, str],
                    owner: dict[str, str | None], mine: bool) -> Plan[Preset]:
        # The handle's compile path fetches relations if a negated path needs them.
        compiled = yield from Collection(name, self._runner, self._schema)._path.compile(query)
        body = preset_body(name, compiled, bookmark=marks["bookmark"], layout=marks["layout"])
        if mine:
            me = yield from plans.data("GET", "users", "me", params={"fields": "id"},
                                       expect=_WITH_ID)
            owner = {**owner, "user": str(me["id"])}
        body.update(owner)
        self._refuse_singleton("create")
        return (yield from self._create(body, None))
