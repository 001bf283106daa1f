"""Batched writes say the truth after every kind of interruption, counted server-side.

A fault proxy in front of a real Directus lets the second batch reach Directus and then
loses its answer (reset, a gateway's 502, a read timeout), or drops it before Directus
sees it; the admin client counts what landed. ``settle()`` reads the uncertain rows back
and must agree with the count. Refusals are catchable as what they are
(``except PermissionDenied``) for an API token without the permission. Both faces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pydirectus import (
    BatchPermissionDenied,
    BatchWriteError,
    DirectusClient,
    InvalidRequest,
    PermissionDenied,
    StaticToken,
    UsageError,
)
from pydirectus.testing import DirectusServer
from pydirectus.testing.access import TokenClients
from pydirectus.transport import NO_RETRY, RetryPolicy
from tests.faults import Fault, FaultProxy

FIELDS = {"code": {"type": "string", "schema": {"is_unique": True}}, "n": "integer"}
GATEWAY_502 = b"<html><body><h1>502 Bad Gateway</h1></body></html>"

#: faults that let the second batch reach Directus and lose its answer
LOST_ANSWERS = {
    "reset": lambda **match: Fault.forward_then_reset(**match),
    "502": lambda **match: Fault.forward_then_status(502, GATEWAY_502, **match),
    "timeout": lambda **match: Fault.forward_then_stall(4.0, **match),
}


@pytest.fixture
def proxy(directus: DirectusServer) -> Iterator[FaultProxy]:
    with FaultProxy(directus.url, lifetime=120) as running:
        yield running


@pytest.fixture
def via_proxy(directus: DirectusServer, proxy: FaultProxy,
              make_client: Callable[..., DirectusClient]) -> Callable[..., DirectusClient]:
    """Return a factory: a client (of the test's face) that talks through the proxy."""
    def make(auth: Any = None, **options: Any) -> DirectusClient:
        options.setdefault("timeout", (2.0, 2.0))
        options.setdefault("retry", NO_RETRY)
        return make_client(proxy.url, auth=auth or StaticToken(directus.admin_token),
                           **options)
    return make


@pytest.fixture
def table(make_collection: Callable[..., str]) -> str:
    return make_collection(FIELDS, prefix="rep")


def _items(count: int = 7) -> list[dict[str, Any]]:
    return [{"code": f"c{i}", "n": i} for i in range(count)]


def _codes(client: DirectusClient, name: str) -> list[str]:
    return sorted(client.collection(name).values_list("code", flat=True).all())


def _second(kind: str, method: str, path: str) -> list[Fault]:
    # The first batch passes untouched; the second meets the fault.
    return [Fault("pass", method=method, path=path), LOST_ANSWERS[kind](method=method, path=path)]


@pytest.mark.parametrize("kind", sorted(LOST_ANSWERS))
def test_a_create_whose_answer_was_lost_is_uncertain_and_settles_as_landed(
        kind: str, table: str, proxy: FaultProxy, via_proxy: Callable[..., DirectusClient],
        directus_client: DirectusClient) -> None:
    items = _items()
    proxy.add(*_second(kind, "POST", f"/items/{table}"))
    client = via_proxy()
    with pytest.raises(BatchWriteError) as raised:
        client.collection(table).create_many(items, batch_size=3)
    error = raised.value
    assert type(error) is BatchWriteError  # a lost answer is no refusal
    assert [row["code"] for row in error.written] == ["c0", "c1", "c2"]
    assert error.uncertain == items[3:6] and error.not_written == items[6:]
    assert "may or may not have landed" in str(error) and "settle" in str(error)
    # Server-side: the lost batch landed; the one after it was never sent.
    assert _codes(directus_client, table) == ["c0", "c1", "c2", "c3", "c4", "c5"]
    assert len(proxy.requests_to(f"/items/{table}", "POST")) == 2
    settled = client.collection(table).settle(error, match="code")
    assert settled.landed == items[3:6] and settled.not_landed == []


def test_a_batch_dropped_before_directus_settles_as_not_landed(
        table: str, proxy: FaultProxy, via_proxy: Callable[..., DirectusClient],
        directus_client: DirectusClient) -> None:
    # A gateway that answers 502 without forwarding: the client cannot tell this from a
    # lost answer (uncertain), and settle() finds that nothing of it landed.
    items = _items()
    path = f"/items/{table}"
    proxy.add(Fault("pass", method="POST", path=path),
              Fault.status(502, GATEWAY_502, method="POST", path=path))
    client = via_proxy()
    with pytest.raises(BatchWriteError) as raised:
        client.collection(table).create_many(items, batch_size=3)
    assert raised.value.uncertain == items[3:6]
    assert _codes(directus_client, table) == ["c0", "c1", "c2"]
    settled = client.collection(table).settle(raised.value, match="code")
    assert settled.landed == [] and settled.not_landed == items[3:6]
    # Creates without keys or a match cannot be settled by key, and say so.
    with pytest.raises(UsageError, match="match="):
        client.collection(table).settle(raised.value)


@pytest.mark.parametrize("kind", ["502", "timeout"])
def test_an_update_whose_answer_was_lost_is_uncertain_and_settles(
        kind: str, table: str, proxy: FaultProxy, via_proxy: Callable[..., DirectusClient],
        directus_client: DirectusClient) -> None:
    keys = [row["id"] for row in directus_client.collection(table).create_many(_items())]
    proxy.add(*_second(kind, "PATCH", f"/items/{table}"))
    client = via_proxy()
    with pytest.raises(BatchWriteError) as raised:
        client.collection(table).update_many(keys, {"n": 99}, batch_size=3)
    error = raised.value
    assert error.uncertain == keys[3:6] and error.not_written == keys[6:]
    assert [row["id"] for row in error.written] == keys[:3]
    assert directus_client.collection(table).filter(n=99).count() == 6
    settled = client.collection(table).settle(error)
    assert settled.landed == keys[3:6] and settled.not_landed == []
    # update_batch carries each item's own changes: settled item by item.
    proxy.add(*_second(kind, "PATCH", f"/items/{table}"))
    rows = [{"id": key, "n": 100 + i} for i, key in enumerate(keys)]
    with pytest.raises(BatchWriteError) as raised:
        client.collection(table).update_batch(rows, batch_size=3)
    assert raised.value.uncertain == rows[3:6]
    settled = client.collection(table).settle(raised.value)
    assert settled.landed == rows[3:6] and settled.not_landed == []


def test_a_delete_that_timed_out_is_uncertain_and_reports_its_written_keys(
        table: str, proxy: FaultProxy, via_proxy: Callable[..., DirectusClient],
        directus_client: DirectusClient) -> None:
    keys = [row["id"] for row in directus_client.collection(table).create_many(_items())]
    proxy.add(*_second("timeout", "DELETE", f"/items/{table}"))
    client = via_proxy()
    with pytest.raises(BatchWriteError) as raised:
        client.collection(table).delete_many(keys, batch_size=3)
    error = raised.value
    assert error.written == keys[:3]
    assert error.uncertain == keys[3:6] and error.not_written == keys[6:]
    assert _codes(directus_client, table) == ["c6"]
    settled = client.collection(table).settle(error)
    assert settled.landed == keys[3:6] and settled.not_landed == []


def test_a_delete_retried_after_a_lost_answer_is_uncertain_not_refused(
        make_token_clients: Callable[..., TokenClients], proxy: FaultProxy,
        via_proxy: Callable[..., DirectusClient], directus_client: DirectusClient) -> None:
    # The transport re-sends a DELETE whose connection dropped; for a non-admin token
    # Directus refuses the re-sent one (its keys are gone) with FORBIDDEN. That refusal
    # must not make the landed batch "not written".
    clients = make_token_clients(FIELDS)
    name = clients.collection
    keys = [row["id"] for row in directus_client.collection(name).create_many(_items())]
    proxy.add(*_second("reset", "DELETE", f"/items/{name}"))
    client = via_proxy(clients.api.auth, retry=RetryPolicy(attempts=2, backoff=0.01))
    with pytest.raises(BatchWriteError) as raised:
        client.collection(name).delete_many(keys, batch_size=3)
    error = raised.value
    assert not isinstance(error, PermissionDenied)
    assert error.written == keys[:3]
    assert error.uncertain == keys[3:6] and error.not_written == keys[6:]
    assert len(proxy.requests_to(f"/items/{name}", "DELETE")) == 3  # batch 2 sent twice
    assert _codes(directus_client, name) == ["c6"]
    assert client.collection(name).settle(error).landed == keys[3:6]


def test_a_refused_batch_is_not_written_directus_runs_it_in_one_transaction(
        table: str, directus_client: DirectusClient) -> None:
    items = [{"code": "a"}, {"code": "b"}, {"code": "c"}, {"code": "a"}, {"code": "d"}]
    with pytest.raises(InvalidRequest) as raised:  # RECORD_NOT_UNIQUE, also a BatchWriteError
        directus_client.collection(table).create_many(items, batch_size=3)
    error = raised.value
    assert isinstance(error, BatchWriteError) and error.code == "RECORD_NOT_UNIQUE"
    assert error.not_written == items[3:] and error.uncertain == []
    # The batch ["a", "d"] was refused whole: "d" did not land either.
    assert _codes(directus_client, table) == ["a", "b", "c"]


@pytest.mark.parametrize("write", ["update", "delete"])
def test_a_filtered_write_refused_for_permission_is_permission_denied(
        write: str, make_token_clients: Callable[..., TokenClients],
        directus_client: DirectusClient) -> None:
    # An API-only token that may read (and create) but neither update nor delete.
    clients = make_token_clients(FIELDS, api_actions=("read", "create"))
    directus_client.collection(clients.collection).create_many(_items(5))
    handle = clients.api.collection(clients.collection)
    with pytest.raises(PermissionDenied) as raised:
        if write == "update":
            handle.filter(n__gte=2).update({"n": 0})
        else:
            handle.filter(n__gte=2).delete()
    error = raised.value
    assert isinstance(error, BatchPermissionDenied) and isinstance(error, BatchWriteError)
    assert error.status == 403 and error.code == "FORBIDDEN" and error.written == []
    assert len(error.not_written) == 3 and error.uncertain == []
    rows = directus_client.collection(clients.collection).order_by("n").values_list(
        "n", flat=True).all()
    assert rows == [0, 1, 2, 3, 4]


def test_a_system_collection_names_its_handle_before_sending(
        proxy: FaultProxy, via_proxy: Callable[..., DirectusClient]) -> None:
    client = via_proxy()
    proxy.clear()
    with pytest.raises(UsageError, match=r"client\.files"):
        client.collection("directus_files")
    with pytest.raises(UsageError, match=r"client\.users"):
        client.read_items("directus_users")
    with pytest.raises(UsageError, match=r"client\.settings"):
        client.singleton("directus_settings")
    with pytest.raises(UsageError, match=r"client\.request"):
        client.collection("directus_sessions")
    assert proxy.seen == []
    assert isinstance(client.files.limit(1).fetch(), list)  # the handle named works
