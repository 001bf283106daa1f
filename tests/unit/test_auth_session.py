"""Session and ShareLogin: their arguments, and how the session cookie is read and carried."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from pydirectus import LDAP, DirectusClient, Password, Session, ShareLogin, UsageError
from pydirectus.auth import _cookie_value, _with_cookie
from pydirectus.core.exchange import set_cookie
from pydirectus.redact import redact_text

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzZXNzaW9uIjoieCJ9.c2lnbmF0dXJlLXNlY3JldA"


class _Reply:
    def __init__(self, headers: Any) -> None:
        self.headers = headers


class _Multi(dict[str, str]):
    """Headers that keep repeated Set-Cookie lines apart, as aiohttp's do."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def getall(self, name: str, default: list[str]) -> list[str]:
        return self.lines if name.lower() == "set-cookie" else default


def test_set_cookie_is_read_from_joined_and_separate_headers() -> None:
    lines = ["directus_refresh_token=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
             f"directus_session_token={TOKEN}; Max-Age=6; Path=/; HttpOnly; SameSite=Lax"]
    joined = requests.structures.CaseInsensitiveDict({"Set-Cookie": ", ".join(lines)})
    assert set_cookie(_Reply(joined), "directus_session_token") == TOKEN  # type: ignore[arg-type]
    assert set_cookie(_Reply(_Multi(lines)), "directus_session_token") == TOKEN  # type: ignore[arg-type]
    assert set_cookie(_Reply(_Multi(lines)), "directus_refresh_token") is None  # type: ignore[arg-type]
    assert set_cookie(_Reply({}), "directus_session_token") is None  # type: ignore[arg-type]


def test_the_session_cookie_joins_a_cookie_header_without_dropping_others() -> None:
    assert _with_cookie(None, "s", "new") == "s=new"
    assert _with_cookie("a=1; s=old; b=2", "s", "new") == "a=1; b=2; s=new"
    assert _cookie_value("a=1; s=tok", "s") == "tok"
    assert _cookie_value("a=1", "s") is None


def test_session_carries_a_cookie_not_a_bearer() -> None:
    auth = Session("a@b.c", "pw")
    request = requests.Request("GET", "http://x/", headers={"Cookie": "other=1"}).prepare()
    auth._carry(request, TOKEN)
    assert request.headers["Cookie"] == f"other=1; directus_session_token={TOKEN}"
    assert "Authorization" not in request.headers
    assert TOKEN not in redact_text(f"Cookie: directus_session_token={TOKEN}")
    assert TOKEN not in redact_text(f'{{"directus_session_token": "{TOKEN}"}}')


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Session("a@b.c", "pw", cookie_name="bad name"), "cookie_name"),
    (lambda: Session("a@b.c", "pw", provider="a/b"), "provider"),
    (lambda: Password("a@b.c", "pw", provider=""), "provider"),
    (lambda: ShareLogin(""), "share"),
    (lambda: ShareLogin("6b3c5f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", ""), "password"),
])
def test_bad_strategy_arguments(make: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        make()


def test_reprs_name_no_secret() -> None:
    assert repr(Session("a@b.c", "pw-secret", provider="partners")) == (
        "Session(email='a@b.c', password='***', provider='partners')")
    share = "6b3c5f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    assert repr(ShareLogin(share, "pw-secret")) == f"ShareLogin(share='{share}', password='***')"
    assert repr(ShareLogin(share)) == f"ShareLogin(share='{share}')"


def _logins_sent(auth: Any) -> list[tuple[Any, dict[str, Any], Any]]:
    """Bind `auth` to a client whose auth calls are recorded (and answered with tokens),
    authenticate one request; return the auth calls (endpoint, body, cookie)."""
    calls: list[tuple[Any, dict[str, Any], Any]] = []

    def auth_call(endpoint: Any, body: Any, *, cookie: Any = None) -> Any:
        calls.append((endpoint, dict(body), cookie))
        yield from ()
        token = "tok-" + "x" * 20
        if cookie is not None:
            return {"expires": 60_000, cookie[0]: token}
        return {"access_token": token, "refresh_token": "ref-" + "y" * 20, "expires": 60_000}

    client = DirectusClient("http://127.0.0.1:9", auth=auth)
    try:
        client.transport.auth_call = auth_call  # type: ignore[method-assign]
        auth(requests.Request("GET", "http://127.0.0.1:9/users/me").prepare())
    finally:
        client.transport.session.close()
    return calls


def test_each_strategy_logs_in_where_and_as_its_provider_wants() -> None:
    share = "6b3c5f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    assert _logins_sent(Password("a@b.c", "pw", provider="partners")) == [
        ("login/partners", {"email": "a@b.c", "password": "pw"}, None)]
    assert _logins_sent(LDAP("jdoe", "pw", "123456")) == [
        ("login/ldap", {"identifier": "jdoe", "password": "pw", "otp": "123456"}, None)]
    assert _logins_sent(LDAP("jdoe", "pw", provider="corp")) == [
        ("login/corp", {"identifier": "jdoe", "password": "pw"}, None)]
    assert _logins_sent(Session("a@b.c", "pw")) == [
        ("login", {"email": "a@b.c", "password": "pw"}, ("directus_session_token", None))]
    assert _logins_sent(ShareLogin(share, "pw")) == [
        (("shares", "auth"), {"share": share, "password": "pw"}, None)]
    assert _logins_sent(ShareLogin(share)) == [(("shares", "auth"), {"share": share}, None)]
    with pytest.raises(UsageError, match="identifier"):
        LDAP("", "pw")


def test_share_login_credentials_can_be_replaced() -> None:
    share = "6b3c5f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    auth = ShareLogin(share)
    auth.set_credentials()  # a share without a password stays one
    auth.set_credentials(password="now-with-one")
    assert _logins_sent(auth) == [
        (("shares", "auth"), {"share": share, "password": "now-with-one"}, None)]
    for wrong, message in (({"otp": "123456"}, "otp"), ({"password": ""}, "password"),
                           ({"email": ""}, "share")):
        with pytest.raises(UsageError, match=message):
            auth.set_credentials(**wrong)
