"""Constructor rules and input checks that need no server: nothing is sent on bad input."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from pydirectus import DirectusClient, InvalidQuery, Password, StaticToken, UsageError
from pydirectus.errors import InsecureTransportWarning
from tests.recording import RecordingAdapter, recording_session


def recording_client(**kwargs: Any) -> tuple[DirectusClient, RecordingAdapter]:
    session, adapter = recording_session()
    client = DirectusClient("http://127.0.0.1:8055", auth=StaticToken("tok"), session=session,
                            **kwargs)
    return client, adapter


def test_static_token_wins_over_username_and_password() -> None:
    client = DirectusClient(hostname="http://127.0.0.1:1", static_token="abc",
                            username="a@b.c", password="pw")
    assert isinstance(client.auth, StaticToken)


def test_seed_username_password_becomes_password_auth() -> None:
    client = DirectusClient(hostname="http://127.0.0.1:1", username="a@b.c", password="pw")
    assert isinstance(client.auth, Password)
    assert client.auth.email == "a@b.c"


def test_contract_style_with_auth() -> None:
    auth = StaticToken("abc")
    client = DirectusClient("https://cms.example.com/", auth=auth)
    assert client.url == "https://cms.example.com"
    assert client.auth is auth


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({}, "url"),
        ({"url": "cms.example.com"}, "scheme"),
        ({"url": "ftp://cms.example.com"}, "scheme"),
        ({"url": "http://"}, "host"),
        ({"url": "https://a.b/?x=1"}, "query string"),
        ({"url": "http://a", "hostname": "http://b"}, "once"),
        ({"url": "http://a", "auth": StaticToken("x"), "static_token": "y"}, "not both"),
        ({"url": "http://a", "auth": "token"}, "auth"),
        ({"url": "http://a", "username": "a@b.c"}, "password="),
        ({"url": "http://a", "password": "pw"}, "username="),
    ],
)
def test_bad_constructor_arguments(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment) as caught:
        DirectusClient(**kwargs)
    assert not isinstance(caught.value, InvalidQuery)


@pytest.mark.parametrize(("email", "password"), [("", "pw"), ("a@b.c", ""), (None, "pw")])
def test_password_needs_email_and_password(email: Any, password: Any) -> None:
    with pytest.raises(UsageError, match="Password") as caught:
        Password(email, password)
    assert not isinstance(caught.value, InvalidQuery)


def test_password_over_http_to_a_remote_host_warns() -> None:
    with pytest.warns(InsecureTransportWarning, match="cms.example.com"):
        DirectusClient("http://cms.example.com", auth=Password("a@b.c", "pw"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DirectusClient("http://127.0.0.1:8055", auth=Password("a@b.c", "pw"))
        DirectusClient("http://localhost:8055", auth=Password("a@b.c", "pw"))
        DirectusClient("https://cms.example.com", auth=Password("a@b.c", "pw"))


@pytest.mark.parametrize(
    ("call", "about_a_query"),
    [
        (lambda c: c.read_items(""), False),
        (lambda c: c.read_items("   "), False),
        (lambda c: c.read_items(None), False),
        (lambda c: c.read_items("articles", query=["limit", 1]), True),
        (lambda c: c.read_item("articles", None), False),
        (lambda c: c.read_item("articles", ""), False),
        (lambda c: c.read_item("articles", ".."), False),
        (lambda c: c.read_item("articles", True), False),
        (lambda c: c.create_item("articles", data=[{"a": 1}]), False),
        (lambda c: c.create_item("articles", data=None), False),
        (lambda c: c.update_item("articles", "1", data="x"), False),
        (lambda c: c.update_item("articles", None, data={}), False),
        (lambda c: c.delete_item("", "1"), False),
        (lambda c: c.read_file(None), False),
        (lambda c: c.create_file("not a dict"), False),
        (lambda c: c.update_file("", {}), False),
        (lambda c: c.delete_file(None), False),
    ],
)
def test_bad_input_is_refused_before_sending(call: Any, about_a_query: bool) -> None:
    client, adapter = recording_client()
    with pytest.raises(UsageError) as caught:
        call(client)
    assert isinstance(caught.value, InvalidQuery) == about_a_query
    assert adapter.sent == []


def test_ids_are_encoded_as_one_path_segment() -> None:
    client, adapter = recording_client()
    client.read_item("articles", "../../users/me")
    client.read_item("articles", 53356)
    client.read_item("my articles", "a?b#c")
    assert [r.path_url for r in adapter.sent] == [
        "/items/articles/..%2F..%2Fusers%2Fme",
        "/items/articles/53356",
        "/items/my%20articles/a%3Fb%23c",
    ]


def test_user_agent_and_bearer_token() -> None:
    client, adapter = recording_client()
    client.read_items("articles")
    sent = adapter.sent[0]
    assert sent.headers["User-Agent"].startswith("pydirectus/")
    assert sent.headers["Authorization"] == "Bearer tok"


def test_url_credentials_stay_out_of_reprs() -> None:
    client = DirectusClient("https://proxy-user:proxy-pass@cms.example.com", auth=StaticToken("t"))
    assert "proxy-pass" not in repr(client) and "proxy-pass" not in repr(client.transport)
    assert "proxy-user:***@cms.example.com" in repr(client)


def test_reprs_hold_no_secrets() -> None:
    secret = "s3cr3t-token-value"
    for auth in (StaticToken(secret), Password("a@b.c", secret)):
        client = DirectusClient("https://cms.example.com", auth=auth)
        assert secret not in repr(client)
        assert secret not in repr(auth)
        assert secret not in repr(client.transport)
