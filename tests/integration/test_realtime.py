"""client.realtime against a real Directus with websockets on (both faces via the bridge).

The session server runs with ``DirectusServer(websockets=True)``; the tests that need a
2 s token TTL or a restart share one server of their own (module scoped).
"""

from __future__ import annotations

import contextlib
import functools
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from pydirectus import (
    ConnectError,
    Password,
    PermissionDenied,
    Query,
    RealtimeEvent,
    Session,
    StaticToken,
    UsageError,
)
from pydirectus.testing import DirectusServer
from pydirectus.testing.collections import CollectionFactory
from pydirectus.testing.pytest_plugin import running

FIELDS = {"title": "string", "views": "bigInteger", "status": "string"}
STAMPED = {**FIELDS,
           "date_created": {"type": "timestamp", "meta": {"special": ["date-created"]},
                            "schema": {}},
           "date_updated": {"type": "timestamp", "meta": {"special": ["date-updated"]},
                            "schema": {}}}
#: how long a test waits for one event before calling it lost (a loaded two-core machine)
PATIENCE = 60.0


def _drain(sub: Any, want: Callable[[list[RealtimeEvent]], bool],
           patience: float = PATIENCE) -> list[RealtimeEvent]:
    """Collect events until ``want(events)`` holds; fail if the stream goes quiet."""
    events: list[RealtimeEvent] = []
    deadline = time.monotonic() + 5 * patience  # a stream that never settles fails too
    while not want(events):
        try:
            events.append(sub.next_event(timeout=patience))
        except TimeoutError:
            pytest.fail(f"no event for {patience} s; got {Counter(e.event for e in events)}")
        if time.monotonic() > deadline:
            pytest.fail(f"the stream never settled; got {Counter(e.event for e in events)}")
    return events


def _quiet(sub: Any, seconds: float = 1.0) -> list[RealtimeEvent]:
    """Return whatever else arrives within ``seconds`` (nothing, in a correct stream)."""
    extra: list[RealtimeEvent] = []
    try:
        while True:
            extra.append(sub.next_event(timeout=seconds))
    except TimeoutError:
        return extra


def _keys(events: list[RealtimeEvent], kind: str) -> list[Any]:
    keys: list[Any] = []
    for event in events:
        if event.event == kind:
            keys.extend(row if kind == "delete" else row["id"] for row in event.data)
    return keys


@pytest.fixture(autouse=True)
def _own_socket(directus_client: Any) -> Iterator[None]:
    """Close the session client's realtime socket after each test: none outlives its test."""
    yield
    directus_client.realtime.close()


@pytest.fixture
def writer(directus: Any, make_client: Callable[..., Any]) -> Any:
    """Another client (of the test's face) that makes the changes."""
    return make_client(directus.url, auth=StaticToken(directus.admin_token))


def test_thousand_creates_then_updates_and_deletes_arrive_exactly_once(
        directus_client: Any, make_collection: Callable[..., str], writer: Any) -> None:
    name = make_collection(FIELDS)
    with directus_client.realtime.subscribe(name, event="create") as creates, \
            directus_client.realtime.subscribe(name, event="update") as updates, \
            directus_client.realtime.subscribe(name, event="delete") as deletes:
        for sub in (creates, updates, deletes):
            assert sub.next_event(timeout=PATIENCE).event == "init"
        keys = [row["id"] for row in writer.collection(name).create_many(
            [{"title": f"t{i}", "views": i, "status": "draft"} for i in range(1000)],
            fields=["id"])]
        events = _drain(creates, lambda got: len(_keys(got, "create")) >= 1000)
        events += _quiet(creates)
        created = _keys(events, "create")
        assert len(created) == 1000 and sorted(created) == sorted(keys)
        assert all(e.event == "create" and len(e.data) == 1 for e in events)
        assert all(isinstance(e.data[0]["views"], int) for e in events)  # typed as REST

        writer.collection(name).update_many(keys, {"status": "published"})
        events = _drain(updates, lambda got: len(_keys(got, "update")) >= 1000)
        events += _quiet(updates)
        assert sorted(_keys(events, "update")) == sorted(keys)
        assert {row["status"] for e in events for row in e.data} == {"published"}

        writer.collection(name).delete_many(keys)
        events = _drain(deletes, lambda got: len(_keys(got, "delete")) >= 1000)
        events += _quiet(deletes)
        assert sorted(map(int, _keys(events, "delete"))) == sorted(keys)
    assert list(creates) == []  # a closed subscription's iteration ends
    with pytest.raises(ConnectError, match="is closed"):
        creates.next_event(timeout=1)


def test_filter_query_sees_only_matching_rows_with_rest_types(
        directus_client: Any, make_collection: Callable[..., str], writer: Any) -> None:
    name = make_collection(FIELDS)
    query = Query().filter(status="published").fields("id", "views", "status")
    with directus_client.realtime.subscribe(name, query=query, event="create") as sub:
        assert sub.next_event(timeout=PATIENCE).event == "init"
        rows = [{"title": str(i), "views": 2**40 + i, "status": "published" if i % 3 == 0
                 else "draft"} for i in range(30)]
        writer.collection(name).create_many(rows)
        events = _drain(sub, lambda got: len(got) >= 10)
        events += _quiet(sub)
    assert sorted(row["views"] for e in events for row in e.data) == [
        2**40 + i for i in range(0, 30, 3)]
    assert all(set(e.data[0]) == {"id", "views", "status"} for e in events)
    assert all(e.collection == name and e.uid == sub.uid for e in events)


def test_all_events_init_carries_rows_and_item_subscription_sees_its_item(
        directus_client: Any, make_collection: Callable[..., str], writer: Any) -> None:
    name = make_collection(FIELDS)
    first, second = (row["id"] for row in writer.collection(name).create_many(
        [{"title": "a", "views": 1}, {"title": "b", "views": 2}], fields=["id"]))
    with directus_client.realtime.subscribe(name, query={"sort": ["id"]}) as every, \
            directus_client.realtime.subscribe(name, event="update", item=second) as one:
        init = every.next_event(timeout=PATIENCE)
        assert init.event == "init" and [r["views"] for r in init.data] == [1, 2]
        assert one.next_event(timeout=PATIENCE).event == "init"
        writer.collection(name).update(first, {"views": 10})
        writer.collection(name).update(second, {"views": 20})
        changed = _drain(one, lambda got: bool(got))
        assert [(e.event, e.data[0]["id"], e.data[0]["views"]) for e in changed] == [
            ("update", second, 20)]
        both = _drain(every, lambda got: len(got) >= 2)
        assert [(e.event, e.data[0]["views"]) for e in both] == [("update", 10), ("update", 20)]
        assert _quiet(one, 0.5) == []


def test_delete_keys_are_typed_as_the_primary_key_whichever_delete_sent_them(
        directus_client: Any, make_collection: Callable[..., str], writer: Any) -> None:
    # Directus sends the key of DELETE /items/{name}/{pk} as the URL spelled it ("8") and
    # those of a batch delete as stored (8): both come out as the integer key.
    name = make_collection(FIELDS)
    one, two, three = (row["id"] for row in writer.collection(name).create_many(
        [{"title": "a"}, {"title": "b"}, {"title": "c"}], fields=["id"]))
    with directus_client.realtime.subscribe(name, event="delete") as sub:
        assert sub.next_event(timeout=PATIENCE).event == "init"
        writer.collection(name).delete(one)
        writer.collection(name).delete_many([two, three])
        events = _drain(sub, lambda got: len(_keys(got, "delete")) >= 3)
    assert [e.data for e in events] == [[one], [two, three]]
    assert all(type(key) is int for e in events for key in e.data)


def test_each_token_sees_only_what_its_policy_allows(
        make_token_clients: Callable[..., Any], make_collection: Callable[..., str],
        writer: Any) -> None:
    # (Directus 12 reserves row and field rules for licensed projects: policies differ by
    # collection here.) The API-only user and Public may read `shared`, not `private`.
    tokens = make_token_clients(FIELDS)
    shared, private = tokens.collection, make_collection(FIELDS)
    subs: dict[tuple[str, str], Any] = {}
    try:
        for label, client in tokens.items():
            for name in (shared, private):
                sub = client.realtime.subscribe(name, event="create")
                if label != "admin" and name == private:
                    with pytest.raises(PermissionDenied) as refused:
                        sub.__enter__()
                    assert refused.value.code == "FORBIDDEN" and private in str(refused.value)
                    continue
                subs[label, name] = sub.__enter__()
                assert sub.next_event(timeout=PATIENCE).event == "init"
        for name in (shared, private):
            writer.collection(name).create_many([{"title": f"{name}-1"}, {"title": f"{name}-2"}])
        seen = {}
        for key, sub in subs.items():
            events = _drain(sub, lambda got: len(got) >= 2)
            events += _quiet(sub, 0.5)
            seen[key] = sorted(row["title"] for e in events for row in e.data)
    finally:
        for sub in subs.values():
            sub.__exit__(None, None, None)
    both = {name: [f"{name}-1", f"{name}-2"] for name in (shared, private)}
    assert seen == {("admin", shared): both[shared], ("admin", private): both[private],
                    ("api", shared): both[shared], ("public", shared): both[shared]}


def test_bad_arguments_raise_before_anything_is_sent(directus_client: Any) -> None:
    realtime = directus_client.realtime
    with pytest.raises(UsageError, match="did you mean 'create'"):
        realtime.subscribe("posts", event="created")
    with pytest.raises(UsageError, match="collection must be a non-empty string"):
        realtime.subscribe("")
    with pytest.raises(UsageError, match="item must be a primary key"):
        realtime.subscribe("posts", item=True)
    with pytest.raises(UsageError, match="catch_up"):
        realtime.subscribe("posts", catch_up=3)
    with pytest.raises(UsageError, match="heartbeat"):
        realtime.configure(heartbeat=0)
    with pytest.raises(UsageError, match="unknown option"):
        realtime.configure(heartbeet=5)


def test_a_missing_collection_is_refused_with_directus_code(directus_client: Any) -> None:
    with pytest.raises(PermissionDenied) as refused:
        directus_client.realtime.subscribe("no_such_collection_here").__enter__()
    assert refused.value.code == "FORBIDDEN"
    assert "no_such_collection_here" in str(refused.value)


def test_a_session_cookie_login_subscribes_with_its_own_rights(
        directus: Any, directus_client: Any, make_collection: Callable[..., str],
        make_client: Callable[..., Any], writer: Any) -> None:
    # Session sends no bearer header (its token rides in a cookie); the socket must still
    # run with the login's rights, not Public's (which may not read this collection).
    name = make_collection(FIELDS)
    session = make_client(directus.url, auth=Session(directus.admin_email,
                                                     directus.admin_password))
    with session.realtime.subscribe(name, event="create") as sub:
        assert sub.next_event(timeout=PATIENCE).event == "init"
        made = writer.collection(name).create({"title": "seen", "views": 7})
        seen = _drain(sub, lambda got: bool(got))
    assert [(e.event, e.data[0]["id"], e.data[0]["views"]) for e in seen] == [
        ("create", made["id"], 7)]
    assert directus.admin_password not in repr(session.realtime) + repr(sub)


# A server of this module's own: a 2 s token TTL, and restarted mid-stream.


@pytest.fixture(scope="module")
def own_server(directus_database: str) -> Iterator[DirectusServer]:
    with running(DirectusServer(database=directus_database, websockets=True,
                                env={"ACCESS_TOKEN_TTL": "2s"})) as server:
        yield server


@pytest.fixture
def own_clients(own_server: DirectusServer, make_client: Callable[..., Any]) -> Any:
    """The plugin's make_client (the test's face, closed after it) for the module's server."""
    return functools.partial(make_client, own_server.url)


def test_password_session_with_2s_tokens_loses_nothing_over_20s(
        own_server: DirectusServer, own_clients: Callable[..., Any]) -> None:
    name = CollectionFactory(own_server.url, own_server.admin_token)(FIELDS)
    subscriber = own_clients(auth=Password(own_server.admin_email, own_server.admin_password))
    writer = own_clients(auth=StaticToken(own_server.admin_token))
    made: list[int] = []
    with subscriber.realtime.subscribe(name, event="create") as sub:
        assert sub.next_event(timeout=PATIENCE).event == "init"
        started = time.monotonic()
        while time.monotonic() - started < 20:
            made.append(writer.collection(name).create({"title": "x", "views": len(made)})["id"])
            time.sleep(0.4)
        events = _drain(sub, lambda got: len(_keys(got, "create")) >= len(made))
        events += _quiet(sub)
    assert [e.event for e in events] == ["create"] * len(made)  # no gap, nothing twice
    assert sorted(_keys(events, "create")) == sorted(made)
    assert subscriber.auth.refreshes >= 5  # renewed on the socket, again and again


def test_restart_mid_stream_yields_gap_then_resumes_and_catches_up(
        own_server: DirectusServer, own_clients: Callable[..., Any]) -> None:
    name = CollectionFactory(own_server.url, own_server.admin_token)(STAMPED)
    subscriber = own_clients(auth=StaticToken(own_server.admin_token))
    # Retries every 3 s: the changes below usually land after the restart, before the
    # resubscribe (on a loaded machine the resubscribe may come first: then they are live).
    subscriber.realtime.configure(reconnect_backoff=(3.0, 3.0), heartbeat=5.0)
    writer = own_clients(auth=StaticToken(own_server.admin_token))
    coll = writer.collection(name)
    before = [row["id"] for row in coll.create_many(
        [{"title": "before", "views": i} for i in range(3)], fields=["id"])]
    with subscriber.realtime.subscribe(name, catch_up=("date_created", "date_updated"),
                                       query={"fields": ["id", "title", "views"]}) as sub:
        assert sub.next_event(timeout=PATIENCE).event == "init"
        coll.create({"title": "live", "views": 100})
        assert _drain(sub, lambda got: bool(got))[0].event == "create"
        own_server.restart()
        during = [row["id"] for row in coll.create_many(
            [{"title": "during", "views": i} for i in range(5)], fields=["id"])]
        coll.update(before[0], {"views": 42})
        gap_and_after = _drain(sub, lambda got: any(e.event == "gap" for e in got))
        assert [e.event for e in gap_and_after] == ["gap"]
        gap = gap_and_after[0]
        assert gap.since is not None and gap.until is not None and gap.since < gap.until
        # The rows of the init of an all-events subscription come with the gap.
        assert {row["title"] for row in gap.data} >= {"before", "live"}
        # Each change made around the restart arrives: by catch-up when it landed before the
        # resubscribe (the usual case), live when a loaded machine let the resubscribe win.
        rest = _drain(sub, lambda got: set(during) | {before[0]} <= {
            row["id"] for e in got for row in e.data})
        rest += _quiet(sub)
        caught = [e for e in rest if e.catch_up]
        caught_ids = [e.data[0]["id"] for e in caught]
        assert all(e.event == "update" and len(e.data) == 1 for e in caught)
        assert len(caught_ids) == len(set(caught_ids))
        live = [e for e in rest if not e.catch_up]
        assert {e.event for e in live} <= {"create", "update"}
        live_created = _keys(live, "create")
        assert len(live_created) == len(set(live_created)) and set(live_created) <= set(during)
        assert set(during) <= set(caught_ids) | set(live_created)
        assert any(row["id"] == before[0] and row["views"] == 42
                   for e in rest for row in e.data)
        # Live again after the gap.
        after = coll.create({"title": "after", "views": 7})["id"]
        events = _drain(sub, lambda got: any(e.event == "create" for e in got))
        assert [e.data[0]["id"] for e in events if e.event == "create"] == [after]
        assert not any(e.catch_up for e in events)


# Faults on the socket: a relay between the client and Directus that can freeze (a dead
# peer: nothing passes, nothing closes) or cut (a reset) the connections it carries.


class _Relay:
    """A TCP relay on 127.0.0.1 to ``upstream`` (host, port); for the tests below only."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._pairs: list[tuple[socket.socket, socket.socket, threading.Event]] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._stopped = threading.Event()
        self._start(self._accept)

    def _start(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            frozen = threading.Event()
            with self._lock:
                self._pairs.append((client, upstream, frozen))
            self._start(self._pump, client, upstream, frozen)
            self._start(self._pump, upstream, client, frozen)

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, frozen: threading.Event) -> None:
        with contextlib.suppress(OSError):
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if frozen.is_set():
                    continue  # swallowed: the peer looks alive but says nothing
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def freeze(self) -> None:
        """Swallow everything on the connections open now (new ones pass)."""
        with self._lock:
            for _, _, frozen in self._pairs:
                frozen.set()

    def cut(self) -> None:
        """Reset every connection open now."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, upstream, _ in pairs:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the pump blocked on it
                sock.close()

    def close(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes accept()
        self._server.close()
        self.cut()
        for thread in self._threads:
            thread.join(timeout=5)


@pytest.fixture
def relay(directus: Any) -> Iterator[_Relay]:
    host, port = urlsplit(directus.url).hostname, urlsplit(directus.url).port
    assert host is not None and port is not None
    relay = _Relay((host, port))
    try:
        yield relay
    finally:
        relay.close()


@pytest.mark.parametrize("fault", ["freeze", "cut"])
def test_a_dead_or_reset_socket_is_replaced_with_one_gap_and_catch_up(
        directus: Any, relay: _Relay, make_client: Callable[..., Any],
        make_collection: Callable[..., str], writer: Any, fault: str) -> None:
    name = make_collection(STAMPED)
    subscriber = make_client(relay.url, auth=StaticToken(directus.admin_token))
    subscriber.realtime.configure(heartbeat=1.0, pong_timeout=1.0,
                                  reconnect_backoff=(0.2, 1.0))
    coll = writer.collection(name)
    with subscriber.realtime.subscribe(name, event="create", catch_up="date_created") as sub:
        assert sub.next_event(timeout=PATIENCE).event == "init"
        first = coll.create({"title": "first"})["id"]
        assert _keys(_drain(sub, lambda got: bool(got)), "create") == [first]
        getattr(relay, fault)()
        lost = [row["id"] for row in coll.create_many(
            [{"title": "lost"} for _ in range(3)], fields=["id"])]
        events = _drain(sub, lambda got: any(e.event == "gap" for e in got))
        # Events that were in flight on the old socket may still have arrived (cut): never
        # one of them twice.
        live_before_gap = _keys(events, "create")
        assert events[-1].event == "gap" and set(live_before_gap) <= set(lost)
        after = coll.create({"title": "after"})["id"]
        rest = _drain(sub, lambda got: after in _keys(got, "create"))
        rest += _quiet(sub, 0.5)
        caught = [e.data[0]["id"] for e in rest if e.catch_up]
        assert all(e.event == "update" for e in rest if e.catch_up)
        assert set(lost) <= set(caught) and len(caught) == len(set(caught))
        # Live after the gap: `after`, and any of `lost` written after the resubscribe (a
        # reconnect faster than the writer), each once.
        live = _keys([e for e in rest if not e.catch_up], "create")
        assert after in live and set(live) - {after} <= set(lost)
        assert len(live) == len(set(live)) and not set(live) & set(live_before_gap)
