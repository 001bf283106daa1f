"""A feature whose optional library is missing says which extra installs it, sending nothing."""

from __future__ import annotations

import asyncio
import sys

import pytest

from pydirectus import DirectusClient, StaticToken, UsageError
from pydirectus.aio import AsyncDirectusClient
from pydirectus.extras import EXTRAS, require


@pytest.fixture
def without_websockets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "websockets" or m.startswith("websockets.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "websockets", None)  # import websockets raises


def test_require_returns_the_module_or_names_the_extra(without_websockets: None) -> None:
    assert require("json").dumps([]) == "[]"
    with pytest.raises(UsageError, match=r"^client.realtime needs websockets, which is not "
                                         r"installed: pip install 'pydirectus\[realtime\]'$"):
        require("websockets.sync.client", "client.realtime")
    assert set(EXTRAS.values()) <= {"arrow", "pandas", "polars", "realtime"}


def test_realtime_without_the_extra_is_refused_on_both_faces(without_websockets: None) -> None:
    # Port 9 (discard) on loopback: nothing is listening, and nothing may be sent anyway.
    with DirectusClient("http://127.0.0.1:9", auth=StaticToken("t")) as client, \
            pytest.raises(UsageError, match=r"pydirectus\[realtime\]"):
        client.realtime  # noqa: B018

    async def async_face() -> None:
        async with AsyncDirectusClient("http://127.0.0.1:9", auth=StaticToken("t")) as client:
            with pytest.raises(UsageError, match=r"pydirectus\[realtime\]"):
                client.realtime  # noqa: B018

    asyncio.run(async_face())
