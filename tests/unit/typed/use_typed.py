"""A user's script: typed handles on both faces."""

import asyncio
from typing import TypedDict

from pydirectus import DirectusClient, StaticToken
from pydirectus.aio import AsyncDirectusClient


class Post(TypedDict):
    id: int
    title: str


def sync_face(client: DirectusClient) -> list[str]:
    posts = client.collection("posts", Post)
    one: Post = posts.get(1)
    many: list[Post] = posts.filter(title__icontains="x").limit(5).fetch()
    third: Post = posts.sort("id")[2]
    made: Post = posts.create({"title": "new"})
    return [one["title"], third["title"], made["title"]] + [p["title"] for p in many] + [
        p["title"] for p in posts]


async def async_face(client: AsyncDirectusClient) -> list[str]:
    posts = client.collection("posts", Post)
    one: Post = await posts.get(1)
    many: list[Post] = await posts.filter(title__icontains="x").limit(5).fetch()
    third: Post = await posts.sort("id")[2]
    made: Post = await posts.create({"title": "new"})
    titles = [p["title"] async for p in posts]
    count: int = await posts.count()
    return [one["title"], third["title"], made["title"], str(count)] + [
        p["title"] for p in many] + titles


async def main() -> None:
    async with AsyncDirectusClient("http://127.0.0.1:8055", auth=StaticToken("t")) as client:
        await async_face(client)
    with DirectusClient("http://127.0.0.1:8055", auth=StaticToken("t")) as sync:
        sync_face(sync)


if __name__ == "__main__":
    asyncio.run(main())
