"""The async face's Protocols say exactly what the shared handles offer.

``AsyncDirectusClient`` hands out the sync handle classes driven by the async runner, and
pydirectus.aio.typing describes them to type checkers. These tests hold the two together:
every public method of a handle is in its Protocol with the same parameters, and nothing
the Protocol promises is missing from the handle.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from pydirectus.aio import typing as aio_typing
from pydirectus.collection import Collection, ItemQuery, Singleton, ValuesQuery
from pydirectus.face import Server

PAIRS = [(aio_typing.AsyncCollection, Collection), (aio_typing.AsyncItemQuery, ItemQuery),
         (aio_typing.AsyncSingleton, Singleton), (aio_typing.AsyncServer, Server),
         (aio_typing.AsyncValuesQuery, ValuesQuery)]


def _public(cls: type) -> dict[str, Any]:
    names = {name for klass in cls.__mro__ if klass is not object
             for name in vars(klass) if not name.startswith("_") or name in (
                 "__getitem__", "__aiter__")}
    return {name: getattr(cls, name) for name in names
            if callable(getattr(cls, name, None)) and name not in ("__init__",)}


def _parameters(function: Any) -> list[tuple[str, Any]]:
    return [(p.name, p.kind) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize(("protocol", "handle"), PAIRS, ids=lambda c: c.__name__)
def test_each_protocol_method_is_the_handles(protocol: type, handle: type) -> None:
    promised = _public(protocol)
    offered = _public(handle)
    assert promised, protocol
    for name, method in promised.items():
        assert name in offered, f"{protocol.__name__}.{name}: not on {handle.__name__}"
        if name == "__getitem__":
            continue  # overloads: slice -> query, int -> awaitable item
        assert _parameters(method) == _parameters(offered[name]), name


@pytest.mark.parametrize(("protocol", "handle"), PAIRS, ids=lambda c: c.__name__)
def test_no_handle_method_is_left_out(protocol: type, handle: type) -> None:
    missing = set(_public(handle)) - set(_public(protocol))
    assert not missing, f"{protocol.__name__} lacks {sorted(missing)}"


def test_awaited_methods_are_declared_async() -> None:
    # What sends a request is awaited on the async face; chain methods are not.
    chain = {"filter", "exclude", "query", "fields", "sort", "limit", "offset", "page",
             "search", "aggregate", "group_by", "deep", "alias", "meta", "version",
             "backlink", "iterator", "__getitem__", "__aiter__", "page_size",
             "order_by", "only", "values", "values_list", "iter_batches"}
    for protocol, _ in PAIRS:
        for name, method in _public(protocol).items():
            if name in chain:
                continue
            assert inspect.iscoroutinefunction(method), f"{protocol.__name__}.{name}"
