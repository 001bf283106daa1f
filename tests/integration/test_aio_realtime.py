"""client.realtime on the async face, natively: async for, tasks sharing one socket, close."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pydirectus import StaticToken
from pydirectus.aio import AsyncDirectusClient


def test_subscriptions_in_tasks_share_one_socket_and_close_leaves_nothing_running(
        directus: Any, make_collection: Callable[..., str]) -> None:
    names = [make_collection({"title": "string"}) for _ in range(3)]

    async def listen(client: AsyncDirectusClient, name: str, ready: asyncio.Event) -> list[str]:
        titles: list[str] = []
        async with client.realtime.subscribe(name, event="create") as sub:
            async for event in sub:
                if event.event == "init":
                    ready.set()
                    continue
                titles.extend(row["title"] for row in event.data)
                if len(titles) == 5:
                    break
        return titles

    async def main() -> None:
        auth = StaticToken(directus.admin_token)
        async with AsyncDirectusClient(directus.url, auth=auth) as client, \
                AsyncDirectusClient(directus.url, auth=auth) as writer:
            readies = [asyncio.Event() for _ in names]
            tasks = [asyncio.create_task(listen(client, name, ready))
                     for name, ready in zip(names, readies, strict=True)]
            await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
            connection = client.realtime._connection
            assert connection is not None and len(connection.protocol.subscriptions) == 3
            for name in names:
                await writer.collection(name).create_many(
                    [{"title": f"{name}-{i}"} for i in range(5)])
            results = await asyncio.wait_for(asyncio.gather(*tasks), 60)
            assert [sorted(r) for r in results] == [[f"{name}-{i}" for i in range(5)]
                                                    for name in names]
            # Leaving each `async with` unsubscribed; the socket stays for the next one.
            assert connection.protocol.subscriptions == []
        # client.close() closed the socket and its reader task.
        assert connection.closed
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert left == []

    asyncio.run(main())
