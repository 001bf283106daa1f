"""A scaled-out Directus: two instances on one PostgreSQL and one Redis (cache, rate
limiter, synchronisation, bus) behind a round-robin proxy. Whatever instance answers,
nothing is lost, repeated or refused; a realtime subscriber on one instance sees every
write made through the other exactly once (the events travel on the Redis bus)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from pydirectus import DirectusClient, InvalidQuery, Password, StaticToken
from pydirectus.aio import AsyncDirectusClient
from pydirectus.testing import CollectionFactory
from pydirectus.testing.pytest_plugin import running
from pydirectus.testing.scaled import ScaledDirectus

ACCESS_TTL = 2.0
THREADS = 8
ITEMS = 20_000
EVENTS = 30  # items created through one instance while a subscriber listens on the other
QUIET = 1.5  # seconds without events after the last expected one: nothing repeated late


@pytest.fixture(scope="module")
def pair() -> Iterator[ScaledDirectus]:
    with running(ScaledDirectus(env={"ACCESS_TOKEN_TTL": f"{ACCESS_TTL:.0f}s"},
                                websockets=True)) as scaled:
        yield scaled


@pytest.fixture(scope="module")
def factory(pair: ScaledDirectus) -> Iterator[CollectionFactory]:
    made = CollectionFactory(pair.url, pair.admin_token)
    try:
        yield made
    finally:
        made.drop_all()


def _admin(url: str, pair: ScaledDirectus, **options: Any) -> DirectusClient:
    return DirectusClient(url, auth=StaticToken(pair.admin_token), **options)


def test_both_instances_share_postgresql_and_redis(pair: ScaledDirectus) -> None:
    before = list(pair.proxy.counts) if pair.proxy else []
    for instance in pair.instances:
        health = requests.get(f"{instance.url}/server/health", timeout=30,
                              headers={"Authorization": f"Bearer {pair.admin_token}"}).json()
        assert health["status"] == "ok"
        assert {"pg:responseTime", "redis:responseTime"} <= set(health["checks"])
    with _admin(pair.url, pair) as client:
        for _ in range(4):
            client.server.ping()
    assert pair.proxy is not None
    assert [after - b for after, b in zip(pair.proxy.counts, before, strict=True)] == [2, 2]


def test_password_auth_with_2s_tokens_under_8_threads(pair: ScaledDirectus) -> None:
    auth = Password(pair.admin_email, pair.admin_password)
    errors: list[BaseException] = []
    calls = [0] * THREADS
    # Three token lifetimes: each thread's reads cross refreshes made through either
    # instance (the refresh token lives in PostgreSQL, the JWT secret is shared).
    deadline = time.monotonic() + 3 * ACCESS_TTL + 0.5
    with DirectusClient(pair.url, auth=auth) as client:
        def work(n: int) -> None:
            try:
                while time.monotonic() < deadline:
                    assert client.transport.data("GET", "users", "me")["email"] == \
                        pair.admin_email
                    calls[n] += 1
            except BaseException as exc:  # collected: the assertion below names it
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors[:3]
        assert all(calls), calls
        assert auth.logins == 1
        assert auth.refreshes >= 2


def test_iterating_20000_items_written_in_bulk_through_both(
        pair: ScaledDirectus, factory: CollectionFactory) -> None:
    name = factory({"n": "integer", "label": "string"}, prefix="bulk")
    with _admin(pair.url, pair) as client:
        handle = client.collection(name)
        created = handle.create_many(
            [{"n": n, "label": f"item {n}"} for n in range(ITEMS)], batch_size=500)
        assert [c["n"] for c in created] == list(range(ITEMS))
        seen = [item["n"] for item in handle.sort("n").fields("n")]
        assert seen == list(range(ITEMS)), "an item was lost or repeated"
        assert handle.count() == ITEMS
        # Bulk updates and deletes through alternating instances; every read, whichever
        # instance and whatever Redis cached, sees them at once.
        keys = [c["id"] for c in created[:1000]]
        handle.update_many(keys, {"label": "updated"})
        for _ in range(2):
            assert handle.filter(label="updated").count() == 1000
        assert handle.filter(n__lt=500).delete() == 500
        for _ in range(2):
            assert handle.count() == ITEMS - 500
            assert handle.filter(label="updated").count() == 500


def test_a_schema_change_through_one_instance_is_seen_through_the_other(
        pair: ScaledDirectus, factory: CollectionFactory) -> None:
    first, second = pair.instances[:2]
    name = factory({"title": "string"}, prefix="schema")
    with _admin(first.url, pair) as writer, _admin(second.url, pair) as reader:
        reader.collection(name).create({"title": "before"})
        # The reader learns the schema (an unknown field is refused before sending) ...
        with pytest.raises(InvalidQuery, match="no field 'rating'"):
            reader.collection(name).filter(rating__gt=1).fetch()
        # ... the field is added through the other instance ...
        writer.transport.data("POST", "fields", name, json={
            "field": "rating", "type": "bigInteger", "schema": {}, "meta": {}})
        writer.collection(name).create({"title": "after", "rating": 7})
        # ... and the reader's next query on it works: its instance dropped its schema
        # cache (Redis bus) and the client re-read the schema it had cached.
        rows = reader.collection(name).filter(rating__gt=1).fields("title", "rating").all()
        assert rows == [{"title": "after", "rating": 7}]
        assert isinstance(rows[0]["rating"], int)


class Tally:
    """What a subscriber saw: every create, update and delete by item, and anything else."""

    def __init__(self) -> None:
        self.seen: dict[str, Counter[int]] = {"create": Counter(), "update": Counter(),
                                               "delete": Counter()}
        self.other: list[str] = []

    def add(self, event: str, data: list[Any]) -> None:
        if event not in self.seen:
            self.other.append(event)
            return
        for entry in data:  # rows (create: our n, update: the key), or deleted keys
            self.seen[event][int(entry["n"] if event == "create" else
                                 entry["id"] if event == "update" else entry)] += 1

    def complete(self, keys: list[int]) -> bool:
        return (len(self.seen["create"]) == EVENTS and set(self.seen["update"]) == set(keys)
                and set(self.seen["delete"]) == set(keys))

    def timeout(self, keys: list[int]) -> float:
        """Wait long for what is missing; once complete, only QUIET for a late repeat."""
        return QUIET if self.complete(keys) else 60.0

    def check(self, keys: list[int]) -> None:
        assert dict(self.seen["create"]) == dict.fromkeys(range(EVENTS), 1)
        assert dict(self.seen["update"]) == dict.fromkeys(keys, 1)
        assert dict(self.seen["delete"]) == dict.fromkeys(keys, 1)
        assert self.other == [], "a gap or an unexpected event on a steady stream"


def _cross_instance_writes(url: str, pair: ScaledDirectus, name: str) -> list[int]:
    """Create, update and delete EVENTS items through one instance; return their keys."""
    with _admin(url, pair) as writer:
        handle = writer.collection(name)
        keys = [handle.create({"n": n})["id"] for n in range(EVENTS)]
        handle.update_many(keys, {"label": "updated"})
        handle.delete_many(keys)
    return keys


def test_a_subscriber_on_one_instance_sees_writes_through_the_other_once_sync(
        pair: ScaledDirectus, factory: CollectionFactory) -> None:
    first, second = pair.instances[:2]
    name = factory({"n": "integer", "label": "string"}, prefix="realtime")
    tally = Tally()
    with _admin(second.url, pair) as reader, reader.realtime.subscribe(name) as sub:
        assert sub.next_event(timeout=60).event == "init"
        keys = _cross_instance_writes(first.url, pair, name)
        while True:  # until nothing more comes: a repeat would follow its first copy closely
            try:
                event = sub.next_event(timeout=tally.timeout(keys))
            except TimeoutError:
                break
            tally.add(event.event, event.data)
    tally.check(keys)


def test_a_subscriber_on_one_instance_sees_writes_through_the_other_once_async(
        pair: ScaledDirectus, factory: CollectionFactory) -> None:
    first, second = pair.instances[:2]
    name = factory({"n": "integer", "label": "string"}, prefix="realtime")
    tally = Tally()

    async def main() -> list[int]:
        async with AsyncDirectusClient(second.url, auth=StaticToken(pair.admin_token)) as \
                reader, reader.realtime.subscribe(name) as sub:
            assert (await sub.next_event(timeout=60)).event == "init"
            # The writer is the sync face in a thread: the socket keeps being read meanwhile.
            keys = await asyncio.to_thread(_cross_instance_writes, first.url, pair, name)
            while True:
                try:
                    event = await sub.next_event(timeout=tally.timeout(keys))
                except TimeoutError:
                    break
                tally.add(event.event, event.data)
        return keys

    tally.check(asyncio.run(main()))
