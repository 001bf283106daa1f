"""The realtime protocol (pydirectus.core.realtime), scripted: no socket, no server."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from pydirectus import AuthenticationError, InvalidRequest, PermissionDenied, Query, UsageError
from pydirectus.core.realtime import (
    Deliver,
    Fail,
    RealtimeOptions,
    RealtimeProtocol,
    Reconnect,
    Renew,
    Send,
    check_subscription,
    not_enabled,
    realtime_url,
    token_lifetime,
)


def _spec(collection: str = "posts", **kwargs: Any) -> Any:
    query = kwargs.pop("query", Query())
    return check_subscription(collection, query, kwargs.pop("event", None),
                              kwargs.pop("item", None), kwargs.pop("catch_up", None))


def _sent(actions: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(a.text) for a in actions if isinstance(a, Send)]


def _jwt(lifetime: int, issued: float | None = None) -> str:
    iat = time.time() if issued is None else issued
    claims = base64.urlsafe_b64encode(json.dumps(
        {"iat": iat, "exp": iat + lifetime}).encode()).decode().rstrip("=")
    return f"e30.{claims}.signature"


def _frame(**message: Any) -> str:
    return json.dumps(message)


def test_nothing_is_subscribed_before_the_auth_is_acknowledged() -> None:
    protocol = RealtimeProtocol(RealtimeOptions())
    spec = _spec(event="create", query=Query().filter(status="published"))
    assert protocol.subscribe(spec, {"filter": {"status": {"_eq": "published"}}}) == []
    assert _sent(protocol.connected("tok", now=0.0)) == [
        {"type": "auth", "access_token": "tok"}]
    sent = _sent(protocol.received(_frame(type="auth", status="ok"), now=0.1))
    assert sent == [{"type": "subscribe", "collection": "posts", "uid": spec.uid,
                     "event": "create", "query": {"filter": {"status": {"_eq": "published"}}}}]
    # A later subscription goes out at once on the authenticated socket.
    other = _spec(item=7)
    assert _sent(protocol.subscribe(other, None)) == [
        {"type": "subscribe", "collection": "posts", "uid": other.uid, "item": 7}]


def test_public_subscribes_at_once_and_events_reach_their_subscription() -> None:
    protocol = RealtimeProtocol(RealtimeOptions())
    spec = _spec()
    protocol.subscribe(spec, None)
    assert [m["type"] for m in _sent(protocol.connected(None, now=0.0))] == ["subscribe"]
    init = protocol.received(_frame(type="subscription", event="init", uid=spec.uid,
                                    data=[{"id": 1}]), now=1.0)
    assert [(a.event.event, a.event.data) for a in init] == [("init", [{"id": 1}])]
    created = protocol.received(_frame(type="subscription", event="create", uid=spec.uid,
                                       data=[{"id": 2}]), now=2.0)
    assert isinstance(created[0], Deliver) and created[0].uid == spec.uid
    assert created[0].event.event == "create" and created[0].event.collection == "posts"
    # Another uid's event (an unsubscribed one arriving late) is dropped, not misrouted.
    assert protocol.received(_frame(type="subscription", event="create", uid="x",
                                    data=[{"id": 3}]), now=2.0) == []
    deleted = protocol.received(_frame(type="subscription", event="delete", uid=spec.uid,
                                       data=["4", "5"]), now=2.0)
    assert deleted[0].event.data == ["4", "5"]


def test_an_item_subscription_gets_a_list_like_the_others() -> None:
    protocol = RealtimeProtocol(RealtimeOptions())
    spec = _spec(item="k", event="update")
    protocol.subscribe(spec, None)
    protocol.connected(None, now=0.0)
    updated = protocol.received(_frame(type="subscription", event="update", uid=spec.uid,
                                       data={"id": "k"}), now=1.0)
    assert updated[0].event.data == [{"id": "k"}]


def test_a_lost_socket_resubscribes_with_the_same_uid_and_tells_one_gap() -> None:
    protocol = RealtimeProtocol(RealtimeOptions())
    spec = _spec(event="create")
    protocol.subscribe(spec, None)
    protocol.connected(None, now=0.0)
    protocol.received(_frame(type="subscription", event="init", uid=spec.uid), now=1.0)
    protocol.disconnected()
    protocol.disconnected()  # told twice (recv and send both fail): still one gap
    assert protocol.subscribe(_spec(), None) == []  # not sent on a dead socket
    resent = _sent(protocol.connected(None, now=5.0))
    assert [m["uid"] for m in resent if m["type"] == "subscribe"].count(spec.uid) == 1
    actions = protocol.received(_frame(type="subscription", event="init", uid=spec.uid),
                                now=6.0)
    gap = actions[0].event
    assert gap.event == "gap" and gap.since is not None and gap.until is not None
    assert gap.since <= gap.until
    after = protocol.received(_frame(type="subscription", event="init", uid=spec.uid), now=7.0)
    assert after[0].event.event == "init"  # a second init is no second gap


def test_a_subscription_never_acknowledged_is_sent_again_without_a_gap() -> None:
    protocol = RealtimeProtocol(RealtimeOptions())
    spec = _spec()
    protocol.subscribe(spec, None)
    protocol.connected(None, now=0.0)
    protocol.disconnected()
    protocol.connected(None, now=1.0)
    actions = protocol.received(_frame(type="subscription", event="init", uid=spec.uid), now=2.0)
    assert actions[0].event.event == "init"


def test_refusals_become_our_errors_with_directus_code_and_message() -> None:
    protocol = RealtimeProtocol(RealtimeOptions())
    spec = _spec("secret")
    protocol.subscribe(spec, None)
    protocol.connected(None, now=0.0)
    refused = protocol.received(_frame(
        type="subscribe", status="error", uid=spec.uid,
        error={"code": "FORBIDDEN", "message": "You don't have permission to access "
                                               "collection \"secret\" or it does not exist."}),
        now=1.0)
    assert isinstance(refused[0], Fail) and refused[0].uid == spec.uid
    error = refused[0].error
    assert isinstance(error, PermissionDenied) and error.code == "FORBIDDEN"
    assert "secret" in str(error) and "subscribe" in str(error)
    assert protocol.subscriptions == []
    bad = _spec()
    protocol.subscribe(bad, None)
    invalid = protocol.received(_frame(type="subscribe", status="error", uid=bad.uid,
                                       error={"code": "INVALID_QUERY", "message": "no"}), 1.0)
    assert isinstance(invalid[0].error, InvalidRequest)


def test_auth_failure_renews_once_then_ends_everything_and_expiry_reconnects() -> None:
    protocol = RealtimeProtocol(RealtimeOptions())
    protocol.subscribe(_spec(), None)
    protocol.connected("tok", now=0.0)
    refused = {"code": "AUTH_FAILED", "message": "Authentication failed."}
    # Fresh by our clock, expired by the server's: renewed once.
    assert protocol.received(_frame(type="auth", status="error", error=refused),
                             now=1.0) == [Renew(refused=True)]
    assert _sent(protocol.reauthenticate("tok2", now=1.0, refused=True)) == [
        {"type": "auth", "access_token": "tok2"}]
    failed = protocol.received(_frame(type="auth", status="error", error=refused), now=1.0)
    assert isinstance(failed[0], Fail) and failed[0].uid is None
    assert isinstance(failed[0].error, AuthenticationError)
    assert "tok" not in repr(failed[0].error)
    cannot = protocol.reauthenticate(None, now=1.0, refused=True)
    assert isinstance(cannot[0], Fail) and cannot[0].error.code == "AUTH_FAILED"
    protocol.connected("tok", now=2.0)
    protocol.received(_frame(type="auth", status="ok"), now=2.0)
    expired = protocol.received(_frame(type="auth", status="error", error={
        "code": "TOKEN_EXPIRED", "message": "Token expired."}), now=3.0)
    assert isinstance(expired[0], Reconnect)


def test_the_token_is_renewed_on_the_socket_before_it_expires() -> None:
    protocol = RealtimeProtocol(RealtimeOptions(heartbeat=100.0))
    token = _jwt(20)
    assert token_lifetime(token) == 20.0 and token_lifetime("static-token") is None
    protocol.subscribe(_spec(), None)
    protocol.connected(token, now=0.0)
    protocol.received(_frame(type="auth", status="ok"), now=0.0)
    # Renewed with a third of its lifetime left.
    assert 13.0 < protocol.wait(0.0) <= 13.4
    assert protocol.tick(13.0) == []
    assert protocol.tick(13.4) == [Renew(refused=False)]
    assert protocol.tick(13.5) == []  # one renewal at a time
    # The same token again (refreshed within its second): tried again a moment later.
    assert protocol.reauthenticate(token, now=13.5) == []
    assert protocol.tick(13.8) == [Renew(refused=False)]
    renewed = _jwt(2).replace("signature", "other")
    assert _sent(protocol.reauthenticate(renewed, now=14.0)) == [
        {"type": "auth", "access_token": renewed}]
    # The re-auth's ok subscribes nothing again (the subscriptions live on).
    assert protocol.received(_frame(type="auth", status="ok"), now=1.4) == []
    # A strategy that cannot renew (StaticToken) serves until the server says it expired.
    assert protocol.reauthenticate(None, now=14.5) == []
    # A 2 s token is not renewed within the second it was issued in.
    short = RealtimeProtocol(RealtimeOptions(heartbeat=100.0))
    short.connected(_jwt(2), now=0.0)
    short.received(_frame(type="auth", status="ok"), now=0.0)
    assert 1.3 <= short.wait(0.0) <= 1.34
    old = RealtimeProtocol(RealtimeOptions(heartbeat=100.0))
    old.connected(_jwt(60, issued=time.time() - 59), now=0.0)
    old.received(_frame(type="auth", status="ok"), now=0.0)
    assert old.wait(0.0) <= 0.5  # issued long ago: renewed at once


def test_heartbeat_answers_pings_pings_when_quiet_and_gives_up_a_dead_socket() -> None:
    protocol = RealtimeProtocol(RealtimeOptions(heartbeat=10.0, pong_timeout=5.0))
    protocol.connected(None, now=0.0)
    assert _sent(protocol.received(_frame(type="ping"), now=1.0)) == [{"type": "pong"}]
    assert protocol.tick(5.0) == []
    assert _sent(protocol.tick(11.0)) == [{"type": "ping"}]
    assert protocol.tick(12.0) == []  # one ping per quiet spell
    assert isinstance(protocol.tick(16.0)[0], Reconnect)
    protocol.received(_frame(type="pong"), now=16.0)
    assert protocol.tick(17.0) == []


def test_a_frame_that_is_not_json_replaces_the_socket() -> None:
    protocol = RealtimeProtocol(RealtimeOptions())
    protocol.connected(None, now=0.0)
    assert isinstance(protocol.received("<html>", now=1.0)[0], Reconnect)


@pytest.mark.parametrize(("arguments", "message"), [
    ({"collection": ""}, "collection must be a non-empty string"),
    ({"collection": None}, "collection must be a non-empty string"),
    ({"event": "created"}, "did you mean 'create'"),
    ({"event": "init"}, "event must be one of"),
    ({"item": 1.5}, "item must be a primary key"),
    ({"item": ""}, "item must be a primary key"),
    ({"catch_up": 5}, "catch_up must be a field name"),
    ({"catch_up": "a.b"}, "catch_up names a field"),
    ({"collection": "directus_users", "catch_up": "date_updated"}, "system collection"),
])
def test_bad_subscriptions_are_refused_before_sending(arguments: dict[str, Any],
                                                      message: str) -> None:
    collection = arguments.pop("collection", "posts")
    with pytest.raises(UsageError, match=message):
        _spec(collection, **arguments)


@pytest.mark.parametrize(("options", "message"), [
    ({"heartbeat": 0}, "heartbeat"),
    ({"pong_timeout": float("nan")}, "pong_timeout"),
    ({"reconnect_backoff": (5.0, 1.0)}, "reconnect_backoff"),
    ({"reconnect_attempts": 0}, "reconnect_attempts"),
    ({"catch_up_margin": -1}, "catch_up_margin"),
    ({"path": "/"}, "path"),
])
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        RealtimeOptions(**options)


def test_backoff_doubles_up_to_its_longest() -> None:
    options = RealtimeOptions(reconnect_backoff=(0.5, 3.0))
    assert [options.backoff(n) for n in range(5)] == [0.0, 0.5, 1.0, 2.0, 3.0]


def test_urls_and_upgrade_refusals() -> None:
    assert realtime_url("https://cms.example.com/", "websocket") == (
        "wss://cms.example.com/websocket")
    assert realtime_url("http://127.0.0.1:8055/sub", "/ws/") == "ws://127.0.0.1:8055/sub/ws"
    assert "WEBSOCKETS_ENABLED=true" in str(not_enabled("ws://x/websocket", 404))
    assert isinstance(not_enabled("ws://x/websocket", 403), AuthenticationError)
