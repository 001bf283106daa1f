"""Secrets scrubbing (pydirectus.redact) and the process-wide memory of refused logins
(pydirectus.refusals), as pure functions and plans: no server, a fake clock."""

from __future__ import annotations

import gc
import json
import types
from collections.abc import Callable, Generator, Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from pydirectus import Password, StaticToken
from pydirectus import refusals as refusals_module
from pydirectus.core.plans import Plan, Wait
from pydirectus.errors import (
    AuthenticationError,
    ResponseInfo,
    ServerError,
    UsageError,
    error_from_body,
)
from pydirectus.redact import MASK, redact_bytes, redact_text, redact_url, register_secrets
from pydirectus.refusals import forget_refusals, gated_login, login_key

SECRET = 'Tok"en/with space+&=%\\ä-0123456789'


class Holder:
    def __init__(self, *values: str) -> None:
        self.values = list(values)

    def secret_values(self) -> list[str]:
        return self.values


@pytest.fixture
def holder() -> Iterator[Holder]:
    held = Holder(SECRET)
    register_secrets(held)
    yield held
    held.values.clear()


# Scrubbing.

@pytest.mark.parametrize("form", [
    SECRET, quote(SECRET, safe=""), quote(SECRET), quote_plus(SECRET), json.dumps(SECRET)[1:-1],
    json.dumps(SECRET, ensure_ascii=False)[1:-1],
], ids=["raw", "url", "url-path", "form", "json", "json-unicode"])
def test_a_live_secret_is_scrubbed_in_every_form(holder: Holder, form: str) -> None:
    text = f"the server said: {form} (end)"
    assert redact_text(text) == f"the server said: {MASK} (end)"
    assert MASK in redact_url(f"http://cms.example/x/{form}")


def test_a_secret_is_scrubbed_only_while_its_holder_lives() -> None:
    held = Holder("ephemeral-secret-42")
    register_secrets(held)
    assert redact_text("ephemeral-secret-42") == MASK
    del held
    gc.collect()
    assert redact_text("ephemeral-secret-42") == "ephemeral-secret-42"


def test_equal_tokens_are_registered_one_by_one() -> None:
    first, second = StaticToken("equal-token-value-77"), StaticToken("equal-token-value-77")
    assert first == second
    del first  # the one registered first goes; the equal one still needs scrubbing
    gc.collect()
    assert redact_text("equal-token-value-77") == MASK
    del second


def test_very_short_secrets_are_left_to_the_patterns() -> None:
    held = Holder("pw")
    register_secrets(held)
    assert redact_text("upward pw") == "upward pw"
    assert redact_text('{"password": "pw"}') == f'{{"password": "{MASK}"}}'
    del held


@pytest.mark.parametrize("text, expected", [
    ("Authorization: Bearer abc.def", f"Authorization: Bearer {MASK}"),
    ("authorization: Basic dXNlcjpwYXNz\nnext", f"authorization: Basic {MASK}\nnext"),
    ("Cookie: directus_session_token=abc; x=1", f"Cookie: {MASK}"),
    ('{"password": "hun\\"ter", "x": 1}', f'{{"password": "{MASK}", "x": 1}}'),
    ("{'refresh_token': 'abc', 'a': 2}", f"{{'refresh_token': '{MASK}', 'a': 2}}"),
    ('"access_token":"abc"', f'"access_token":"{MASK}"'),
    ("email=a%40b.c&password=s3cret&mode=json", f"email=a%40b.c&password={MASK}&mode=json"),
    ("GET /items?access_token=abc HTTP/1.1", f"GET /items?access_token={MASK} HTTP/1.1"),
    ("bearer abc123", f"bearer {MASK}"),
    # Prose, as our own messages name arguments, stays readable.
    ("password: must not be empty", "password: must not be empty"),
    ("token: expected a string", "token: expected a string"),
    ("access_token is missing", "access_token is missing"),
])
def test_secret_patterns(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_a_json_body_echoing_the_request_is_scrubbed_and_stays_json(holder: Holder) -> None:
    echo = f'POST /auth/login\nAuthorization: Bearer {SECRET}\n\n{json.dumps({"password": SECRET})}'
    body = json.dumps({"errors": [{"message": echo, "extensions": {
        "code": "INVALID_PAYLOAD", "headers": {"Authorization": f"Bearer {SECRET}"}}}]}).encode()
    info = ResponseInfo(400, f"Bad {SECRET}", "http://cms.example/auth/login",
                        {"X-Echo": SECRET, "Content-Type": "application/json"}, body, None)
    error = error_from_body(400, info.content, info)
    texts = [str(error), repr(error), error.message, json.dumps(error.errors),
             json.dumps(error.extensions), info.text, info.reason, repr(info.headers)]
    for text in texts:
        assert SECRET not in text and json.dumps(SECRET)[1:-1] not in text, text
    assert error.code == "INVALID_PAYLOAD" and "POST /auth/login" in error.message
    assert info.json()["errors"][0]["extensions"]["headers"]["Authorization"] == MASK


def test_a_text_body_echoing_the_request_is_scrubbed(holder: Holder) -> None:
    body = f"bad request\nAuthorization: Bearer {SECRET}\nbody: {quote_plus(SECRET)}".encode()
    error = error_from_body(502, body, ResponseInfo(502, "", "", {}, body, None))
    assert isinstance(error, ServerError)
    assert SECRET not in str(error) and quote_plus(SECRET) not in str(error)
    assert error.response is not None and quote_plus(SECRET) not in error.response.text


def test_an_unchanged_body_is_kept_as_is() -> None:
    body = b'{"errors": [{"message": "nope"}]}'
    assert redact_bytes(body) is body
    assert redact_bytes(b"\xff\xfe binary") == b"\xff\xfe binary"


def test_every_error_of_the_tree_is_scrubbed_when_made(holder: Holder) -> None:
    for error in (UsageError(f"bad {SECRET}"), AuthenticationError(401, None, f"x {SECRET}")):
        assert SECRET not in str(error) and SECRET not in repr(error)
        assert all(SECRET not in str(arg) for arg in error.args)


def test_strategies_register_their_secrets() -> None:
    token = StaticToken("static-token-value-1234")
    assert redact_text("x static-token-value-1234 y") == f"x {MASK} y"
    auth = Password("a@b.c", "password-value-5678")
    assert redact_text("password-value-5678") == MASK
    auth.set_credentials(password="new-password-9012")
    # The replaced password is still scrubbed (an answer to a login sent with it may come).
    assert redact_text("password-value-5678 new-password-9012") == f"{MASK} {MASK}"
    del token, auth


@pytest.mark.parametrize("token, named", [
    ("tokenvalue\n", "a trailing newline"), ("token\r\nvalue", "an inner carriage return"),
    ("token value", "an inner space"), ("\ttokenvalue", "a leading tab"),
    ("token\x00value", "U+0000"), ("token\u200bvalue", "U+200B"),
    ("tokenvalue\u2028", "U+2028"),
])
def test_a_token_with_whitespace_or_control_characters_is_refused(token: str, named: str) -> None:
    with pytest.raises(UsageError) as caught:
        StaticToken(token)
    assert named in str(caught.value)
    assert token not in str(caught.value) and token.strip() not in str(caught.value)


# The process-wide memory of refused logins.

class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(refusals_module, "time", types.SimpleNamespace(monotonic=fake.monotonic))
    yield fake
    forget_refusals()


SENT = "sent"


def login(outcome: Any, sent: list[str]) -> Callable[[], Plan[Any]]:
    """Return a login plan factory: it yields SENT (the call), then returns or raises."""
    def plan() -> Generator[Any, Any, Any]:
        sent.append(SENT)
        yield SENT
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome
    return plan


def drive(plan: Plan[Any], clock: Clock) -> Any:
    """Run a plan to its end: a Wait moves the clock, anything else is answered None."""
    try:
        instruction = next(plan)
        while True:
            if isinstance(instruction, Wait):
                clock.now += instruction.seconds
            instruction = plan.send(None)
    except StopIteration as done:
        return done.value


def refused(code: str = "INVALID_CREDENTIALS") -> AuthenticationError:
    return AuthenticationError(401, code, "Invalid user credentials.", {"code": code})


KEY = login_key("http://cms.example/", "Ann@Example.com", "wrong-password", None)


def test_a_refusal_is_remembered_for_the_cool_down_then_tried_again(clock: Clock) -> None:
    sent: list[str] = []
    with pytest.raises(AuthenticationError) as first:
        drive(gated_login(KEY, 60, login(refused(), sent)), clock)
    assert not first.value.extensions.get("remembered") and len(sent) == 1
    for _ in range(29):
        with pytest.raises(AuthenticationError) as later:
            drive(gated_login(KEY, 60, login("token", sent)), clock)
        assert later.value.code == "INVALID_CREDENTIALS" and later.value.status == 401
        assert later.value.extensions["remembered"] is True
        assert "no login was sent" in str(later.value)
        assert "wrong-password" not in str(later.value)
    assert len(sent) == 1
    clock.now += 60.5
    assert drive(gated_login(KEY, 60, login("token", sent)), clock) == "token"
    assert len(sent) == 2


def test_the_cool_down_is_the_callers(clock: Clock) -> None:
    sent: list[str] = []
    with pytest.raises(AuthenticationError):
        drive(gated_login(KEY, 60, login(refused(), sent)), clock)
    clock.now += 5
    assert drive(gated_login(KEY, 0, login("token", sent)), clock) == "token"
    assert len(sent) == 2


def test_another_password_or_server_is_tried_and_a_success_forgets(clock: Clock) -> None:
    sent: list[str] = []
    with pytest.raises(AuthenticationError):
        drive(gated_login(KEY, 60, login(refused("INVALID_OTP"), sent)), clock)
    same_user = login_key("http://cms.example", "ann@example.com", "wrong-password", None)
    assert same_user == KEY  # the trailing slash and the email's case do not matter
    other_server = login_key("http://other.example", "ann@example.com", "wrong-password", None)
    with pytest.raises(AuthenticationError):
        drive(gated_login(other_server, 60, login(refused(), sent)), clock)
    right = login_key("http://cms.example", "ann@example.com", "right-password", "123456")
    assert drive(gated_login(right, 60, login("token", sent)), clock) == "token"
    assert len(sent) == 3
    # The success forgot the user's refusals at that server, not at the other one.
    assert drive(gated_login(KEY, 60, login("token", sent)), clock) == "token"
    with pytest.raises(AuthenticationError, match="no login was sent"):
        drive(gated_login(other_server, 60, login("token", sent)), clock)
    assert len(sent) == 4


@pytest.mark.parametrize("failure", [
    ServerError(503, None, "down"), refused("TOKEN_EXPIRED"), AuthenticationError(401, None, "?"),
])
def test_other_failures_are_not_remembered(clock: Clock, failure: Exception) -> None:
    sent: list[str] = []
    for _ in range(3):
        with pytest.raises(type(failure)):
            drive(gated_login(KEY, 60, login(failure, sent)), clock)
    assert len(sent) == 3


def test_one_login_at_a_time_and_the_waiting_one_gets_its_refusal(clock: Clock) -> None:
    sent: list[str] = []
    first = gated_login(KEY, 60, login(refused(), sent))
    assert next(first) == SENT  # in flight
    second = gated_login(KEY, 60, login("token", sent))
    assert isinstance(next(second), Wait)
    assert isinstance(second.send(None), Wait)  # still waiting: nothing sent
    with pytest.raises(AuthenticationError):
        first.send(None)
    with pytest.raises(AuthenticationError, match="no login was sent"):
        second.send(None)
    assert sent == [SENT]


def test_a_login_dropped_mid_way_frees_its_turn(clock: Clock) -> None:
    sent: list[str] = []
    first = gated_login(KEY, 60, login("token", sent))
    next(first)
    first.close()  # a cancelled task, a closed generator
    assert drive(gated_login(KEY, 60, login("token", sent)), clock) == "token"


def test_the_key_holds_no_password() -> None:
    key = login_key("http://cms.example", "a@b.c", "hunter2-password", None)
    assert "hunter2" not in repr(key) and b"hunter2" not in key.digest
    assert key != login_key("http://cms.example", "a@b.c", "hunter2-password", "123456")


def test_forget_refusals_by_server_and_email(clock: Clock) -> None:
    sent: list[str] = []
    for key in (KEY, login_key("http://other.example", "bob@example.com", "x", None)):
        with pytest.raises(AuthenticationError):
            drive(gated_login(key, 60, login(refused(), sent)), clock)
    forget_refusals(email="ANN@example.com")
    assert drive(gated_login(KEY, 60, login("token", sent)), clock) == "token"
    forget_refusals(server="http://other.example/")
    other = login_key("http://other.example", "bob@example.com", "x", None)
    assert drive(gated_login(other, 60, login("token", sent)), clock) == "token"
    assert len(sent) == 4


@pytest.mark.parametrize("cooldown", [-1, float("nan"), float("inf"), True, "60"])
def test_the_cool_down_is_checked(cooldown: Any) -> None:
    with pytest.raises(UsageError, match="refusal_cooldown"):
        Password("a@b.c", "pw", refusal_cooldown=cooldown)
