"""BoundChain: the chain methods of a query bound to something that runs it.

A handle (a collection, a system collection) and the lazy queries it returns hold a
``Query`` in ``_query``; each chain method returns a new bound query holding the
``Query`` that method of ``Query`` returns. ``BoundChain[B]`` writes those methods once:
a subclass says how to bind a ``Query`` (``_rebind``, returning a ``B``) and inherits
one method per part of ``pydirectus.query.parts.PARTS`` except ``filter`` (``filter`` and
``exclude`` stay with the handle, which knows which field ``pk`` names), and slicing.

Each method ADDs or REPLACEs as ``PARTS`` says and as the ``Query`` method does; see
there for the arguments.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from pydirectus.query.query import Query

__all__ = ["BoundChain"]

#: what a chain method returns: the bound query type
B = TypeVar("B")


class BoundChain(Generic[B]):
    """Chain methods returning ``self._rebind(self._query.<method>(...))``, a ``B``."""

    __slots__ = ()

    #: the bound query; subclasses hold it (an attrs field, or set in ``__init__``)
    _query: Query

    @abc.abstractmethod
    def _rebind(self, query: Query) -> B:
        """Return a bound query like this one, holding ``query``."""
        raise NotImplementedError

    def fields(self, *names: str | Iterable[str]) -> B:
        """REPLACE the fields to return (``"*"``, ``"author.*"``, ``"author__name"``, a list)."""
        return self._rebind(self._query.fields(*names))

    def sort(self, *keys: str | Iterable[str]) -> B:
        """REPLACE the sort keys (``"-date"`` descending, ``"author__name"``, or a list)."""
        return self._rebind(self._query.sort(*keys))

    def order_by(self, *keys: str | Iterable[str]) -> B:
        """Django's name for ``sort``: REPLACE the sort keys (``"-date"`` descending)."""
        return self._rebind(self._query.sort(*keys))

    def only(self, *names: str | Iterable[str]) -> B:
        """Django's name for ``fields``: REPLACE the fields to return."""
        return self._rebind(self._query.fields(*names))

    def limit(self, n: int | None) -> B:
        """REPLACE the page size (``-1`` means all items, None clears)."""
        return self._rebind(self._query.limit(n))

    def offset(self, n: int | None) -> B:
        """REPLACE the number of items to skip (None clears)."""
        return self._rebind(self._query.offset(n))

    def page(self, n: int | None) -> B:
        """REPLACE the page number (1-based; pages are ``limit`` items long; None clears)."""
        return self._rebind(self._query.page(n))

    def search(self, text: str | None) -> B:
        """REPLACE the full-text search term (None clears)."""
        return self._rebind(self._query.search(text))

    def meta(self, *kinds: str) -> B:
        """REPLACE the metadata to ask for: ``"total_count"``, ``"filter_count"`` or ``"*"``."""
        return self._rebind(self._query.meta(*kinds))

    def deep(self, **relations: Query | Mapping[str, Any]) -> B:
        """ADD nested queries for relational fields: ``deep(comments=Query().limit(5))``."""
        return self._rebind(self._query.deep(**relations))

    def alias(self, **names: str) -> B:
        """ADD field aliases: ``alias(writer="author")``."""
        return self._rebind(self._query.alias(**names))

    def aggregate(self, **functions: str | Iterable[str]) -> B:
        """ADD aggregate functions: ``aggregate(count="*", sum=["price", "qty"])``."""
        return self._rebind(self._query.aggregate(**functions))

    def group_by(self, *fields: str | Iterable[str]) -> B:
        """REPLACE the grouping fields (``"date__year"``/``"year(date)"``, or a list)."""
        return self._rebind(self._query.group_by(*fields))

    def version(self, name: str | None) -> B:
        """REPLACE the content version to read (None clears)."""
        return self._rebind(self._query.version(name))

    def backlink(self, flag: bool | None) -> B:
        """REPLACE whether ``*.*`` field expansion follows relations back to the parent."""
        return self._rebind(self._query.backlink(flag))

    def __getitem__(self, item: slice) -> B:
        """Narrow the window as a list slice does: ``q[10:20][2:4]`` is items 12-13."""
        return self._rebind(self._query[item])
