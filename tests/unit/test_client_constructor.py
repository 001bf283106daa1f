"""DirectusClient's constructor: the seed's arguments beside today's, conflicts, checks, logger.

No server: a recording adapter (tests/recording.py) stands in for the wire.
"""

from __future__ import annotations

import ast
import inspect
import logging
from pathlib import Path
from typing import Any

import pytest

import pydirectus
from pydirectus import DirectusClient, Password, StaticToken
from pydirectus.client_args import resolve_client_args
from pydirectus.errors import UsageError
from tests.recording import LogRecords, recording_session

URL = "http://127.0.0.1:8055"
SECRET = "s3cr3t-token-value"


@pytest.fixture(autouse=True)
def no_ca_bundle_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests reads verify=True as "the bundle the environment names", if it names one.
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


def test_positional_order_is_the_seeds() -> None:
    parameters = list(inspect.signature(DirectusClient).parameters.values())
    positional = [p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
    # The seed called the first one hostname; hostname= is accepted as a keyword.
    assert positional == ["url", "username", "password", "static_token", "ssl_verify", "logger"]
    assert all(p.default is None for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD)
    assert "hostname" in {p.name for p in parameters if p.kind is p.KEYWORD_ONLY}


def test_positional_username_and_password() -> None:
    client = DirectusClient(URL, "a@b.c", "pw")
    assert isinstance(client.auth, Password)
    assert client.auth.email == "a@b.c"


def test_positional_static_token_ssl_verify_and_logger() -> None:
    logger = logging.getLogger("tests.seed.positional")
    client = DirectusClient("https://cms.example.com", None, None, SECRET, False, logger)
    assert client.auth == StaticToken(SECRET)
    assert client.transport.verify is False
    assert client.transport.log is logger


def test_every_seed_keyword() -> None:
    logger = logging.getLogger("tests.seed.keywords")
    client = DirectusClient(hostname="https://cms.example.com", username="a@b.c", password="pw",
                            static_token=SECRET, ssl_verify=True, logger=logger)
    assert client.url == "https://cms.example.com"
    assert client.auth == StaticToken(SECRET)  # the seed's rule: a static token wins
    assert client.transport.verify is True
    assert client.transport.log is logger


def test_seed_and_todays_forms_mix_where_they_do_not_overlap() -> None:
    logger = logging.getLogger("tests.seed.mixed")
    auth = StaticToken(SECRET)
    client = DirectusClient(URL, auth=auth, ssl_verify=False, logger=logger, page_size=7)
    assert client.auth is auth
    assert client.transport.verify is False
    assert client.page_size == 7


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, True),  # ours verifies by default; the seed did not
        ({"ssl_verify": False}, False),
        ({"ssl_verify": True}, True),
        ({"ssl_verify": "CA"}, "CA"),
        ({"verify": False}, False),
        ({"verify": "CA"}, "CA"),
    ],
)
def test_tls_verification_reaches_every_request(
    kwargs: dict[str, Any], expected: bool | str, tmp_path: Path,
) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    kwargs = {key: str(bundle) if value == "CA" else value for key, value in kwargs.items()}
    session, adapter = recording_session(b'{"data": []}')
    client = DirectusClient("https://cms.example.com", static_token=SECRET, session=session,
                            **kwargs)
    client.read_items("articles")
    assert [options["verify"] for options in adapter.options] == [
        str(bundle) if expected == "CA" else expected]


@pytest.mark.parametrize(
    ("args", "kwargs", "fragment"),
    [
        ((URL,), {"hostname": URL}, "base URL once"),
        ((URL,), {"hostname": "http://other:8055"}, "base URL once"),
        ((URL,), {"verify": True, "ssl_verify": True}, "TLS verification once"),
        ((URL,), {"verify": "/ca.pem", "ssl_verify": False}, "TLS verification once"),
        ((URL,), {"auth": StaticToken("x"), "static_token": "y"}, "not both"),
        ((URL, "a@b.c", "pw"), {"auth": StaticToken("x")}, "not both"),
        ((URL, StaticToken("x")), {}, "auth="),
        ((URL, None, Password("a@b.c", "pw")), {}, "auth="),
        ((URL,), {"static_token": 12345}, "static_token: expected a str"),
        ((URL, 42, "pw"), {}, "username: expected a str"),
        ((URL,), {"static_token": ""}, "static_token: must not be empty"),
        ((URL,), {"static_token": "   "}, "static_token: must not be empty"),
        ((URL, "", "pw"), {}, "username: must not be empty"),
        ((URL, "a@b.c", ""), {}, "password: must not be empty"),
        ((URL, "a@b.c"), {}, "one of them is missing"),
        ((URL, None, "pw"), {}, "one of them is missing"),
        ((URL, None, None, None, "/no/such/ca.pem"), {}, "ssl_verify: no CA bundle file"),
        ((URL,), {"verify": "/no/such/ca.pem"}, "verify: no CA bundle file"),
        ((URL, None, None, None, 1), {}, "ssl_verify: expected True, False or a CA bundle"),
        ((URL, None, None, None, ""), {}, "ssl_verify: a CA bundle path must not be empty"),
        ((URL,), {"verify": 0.5}, "verify: expected True, False or a CA bundle"),
        ((URL, None, None, None, None, "pydirectus"), {}, "logger: expected a logging.Logger"),
        ((URL,), {"logger": logging.LoggerAdapter(logging.getLogger("x"), {})}, "logger:"),
        ((), {}, "url"),
        ((), {"hostname": None}, "hostname="),
        ((), {"hostname": "cms.example.com"}, "scheme"),
    ],
)
def test_misuse_is_one_clear_error_and_sends_nothing(
    args: tuple[Any, ...], kwargs: dict[str, Any], fragment: str
) -> None:
    session, adapter = recording_session()
    with pytest.raises(UsageError, match=fragment):
        DirectusClient(*args, session=session, **kwargs)
    assert adapter.sent == []


def test_errors_never_quote_a_secret() -> None:
    for kwargs in ({"auth": StaticToken("x"), "static_token": SECRET},
                   {"password": SECRET},
                   {"verify": True, "ssl_verify": True, "static_token": SECRET}):
        with pytest.raises(UsageError) as caught:
            DirectusClient(URL, **kwargs)
        assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)


def test_resolved_arguments_hide_the_auth() -> None:
    args = resolve_client_args(url=URL, hostname=None, auth=None, username=None, password=None,
                               static_token=SECRET, verify=None, ssl_verify=None, logger=None)
    assert args.auth == StaticToken(SECRET)
    assert args.verify is None  # the session's own setting: True for a new one
    assert SECRET not in repr(args)


def test_logger_gets_the_clients_lines_instead_of_the_pydirectus_logger() -> None:
    mine, library = LogRecords(), LogRecords()
    logger = logging.getLogger("tests.seed.app")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(mine)
    logger.propagate = False
    pydirectus_logger = logging.getLogger("pydirectus")
    previous = pydirectus_logger.level
    pydirectus_logger.setLevel(logging.DEBUG)
    pydirectus_logger.addHandler(library)
    try:
        session, _ = recording_session()
        client = DirectusClient(URL, static_token=SECRET, logger=logger, session=session)
        client.read_items("articles", {"filter": {"token": {"_eq": SECRET}}})
        other_session, _ = recording_session()
        DirectusClient(URL, static_token=SECRET, session=other_session).read_items("articles")
    finally:
        logger.removeHandler(mine)
        pydirectus_logger.removeHandler(library)
        pydirectus_logger.setLevel(previous)
    lines = mine.messages()
    assert any(line.startswith("GET /items/articles -> 200") for line in lines), lines
    assert all(SECRET not in line for line in lines)
    # The client without logger= still writes to the pydirectus logger, and only it does.
    assert [r.getMessage().split(" in ")[0] for r in library.records] == [
        "GET /items/articles -> 200"]


def test_no_module_logs_past_the_clients_logger() -> None:
    # logger= works only if every log line of the package goes through transport.log:
    # a call on a module-level logger (log.debug(...), logging.info(...)) would bypass it.
    package = Path(pydirectus.__file__).parent
    levels = {"debug", "info", "warning", "error", "exception", "critical", "log"}
    bypasses = []
    for source in sorted(package.rglob("*.py")):
        if "testing" in source.relative_to(package).parts:
            continue  # the local test server's own diagnostics, not a client's
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in levels and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in {"log", "logger", "logging", "_log"}):
                bypasses.append(f"{source.relative_to(package)}:{node.lineno}")
    assert bypasses == []
