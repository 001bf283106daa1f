"""The error mapping table: Directus code first, HTTP status as the fallback."""

import json

import pytest

from pydirectus import errors
from pydirectus.errors import (
    APIError,
    AuthenticationError,
    InvalidQuery,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    error_from_body,
)


def body(code: str | None, message: str = "boom", **extensions: object) -> bytes:
    ext = {"code": code, **extensions} if code else extensions
    return json.dumps({"errors": [{"message": message, "extensions": ext}]}).encode()


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, "INVALID_CREDENTIALS", AuthenticationError),
        (401, "TOKEN_EXPIRED", AuthenticationError),
        (401, "INVALID_TOKEN", AuthenticationError),
        (401, "INVALID_OTP", AuthenticationError),
        (403, "FORBIDDEN", PermissionDenied),
        (404, "ROUTE_NOT_FOUND", NotFound),
        (400, "INVALID_PAYLOAD", InvalidRequest),
        (400, "INVALID_QUERY", InvalidRequest),
        (400, "FAILED_VALIDATION", InvalidRequest),
        (400, "RECORD_NOT_UNIQUE", InvalidRequest),
        (429, "REQUESTS_EXCEEDED", RateLimited),
        (503, "SERVICE_UNAVAILABLE", ServerError),
        (500, "INTERNAL_SERVER_ERROR", ServerError),
        # An unknown code falls back on the status.
        (401, "SOMETHING_NEW", AuthenticationError),
        (403, "SOMETHING_NEW", PermissionDenied),
        (404, "SOMETHING_NEW", NotFound),
        (409, "SOMETHING_NEW", InvalidRequest),
        (429, "SOMETHING_NEW", RateLimited),
        (502, "SOMETHING_NEW", ServerError),
        # The code wins over the status.
        (400, "FORBIDDEN", PermissionDenied),
    ],
)
def test_code_then_status(status: int, code: str, expected: type[APIError]) -> None:
    error = error_from_body(status, body(code, "the message", reason="why", field="title"))
    assert type(error) is expected
    assert error.status == status
    assert error.code == code
    assert error.message == "the message"
    assert error.reason == "why"
    assert error.extensions["field"] == "title"
    assert str(error) == f"{status} {code}: the message"


@pytest.mark.parametrize(
    ("status", "raw", "expected"),
    [
        (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", ServerError),
        (503, b"", ServerError),
        (404, b"Not Found", NotFound),
        (400, b"{not json", InvalidRequest),
        (500, b'{"data": 1}', ServerError),
        (500, b'{"errors": "a string"}', ServerError),
        (500, b"\xff\xfe\x00garbage", ServerError),
    ],
)
def test_non_directus_bodies_are_api_errors(status: int, raw: bytes, expected: type) -> None:
    error = error_from_body(status, raw)
    assert type(error) is expected
    assert error.status == status
    assert error.code is None
    if raw.strip():
        assert "not a Directus error body" in error.message
    else:
        assert error.message == "empty response body"


def test_long_bodies_are_cut_to_an_excerpt() -> None:
    error = error_from_body(502, b"x" * 10_000)
    assert len(error.message) < errors.EXCERPT_CHARS + 50


def test_invalid_query_is_a_value_error() -> None:
    assert issubclass(InvalidQuery, ValueError)
    assert issubclass(InvalidQuery, errors.DirectusError)


# 2015-10-21 07:28:00 GMT as a POSIX time: the "now" of the HTTP-date rows.
NOW = 1445412480.0


@pytest.mark.parametrize(("header", "seconds"), [
    ("3", 3.0), ("0.5", 0.5), (" 7 ", 7.0), ("0", 0.0),
    ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),       # an HTTP-date 30 s ahead
    ("Wednesday, 21-Oct-15 07:29:00 GMT", 60.0),   # the obsolete RFC 850 form
    ("Wed Oct 21 07:28:05 2015", 5.0),             # asctime, read as GMT
    ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),        # a date in the past: now
    ("-2", None), ("nan", None), ("inf", None), ("-inf", None), ("1e999", None),
    (None, None), ("", None), ("soon", None), ("Wed, 99 Foo 2015", None),
])
def test_retry_after(header: str | None, seconds: float | None) -> None:
    assert errors.parse_retry_after(header, now=NOW) == seconds


def test_retry_after_dates_are_read_against_the_clock() -> None:
    import email.utils
    import time
    ahead = email.utils.formatdate(time.time() + 100, usegmt=True)
    assert 97 <= (errors.parse_retry_after(ahead) or 0) <= 100


def test_limit_exceeded_is_a_quota_refusal_not_rate_limiting() -> None:
    error = error_from_body(403, body("LIMIT_EXCEEDED", "Users limit exceeded.", category="Users"))
    assert type(error) is PermissionDenied and not isinstance(error, RateLimited)


def _defined_classes(root: type) -> set[type]:
    found, stack = set(), [root]
    while stack:
        cls = stack.pop()
        found.add(cls)
        stack += cls.__subclasses__()
    return {cls for cls in found if cls.__module__.startswith("pydirectus")}


def test_every_error_the_package_defines_is_in_errors_py_drawn_and_exported() -> None:
    import importlib
    import pkgutil
    import re

    import pydirectus

    for module in pkgutil.walk_packages(pydirectus.__path__, "pydirectus."):
        if module.name != "pydirectus.testing.pytest_plugin":
            importlib.import_module(module.name)
    ours = _defined_classes(BaseException) | _defined_classes(Warning)
    assert len(ours) >= 27
    docstring = errors.__doc__ or ""
    for cls in ours:
        assert cls.__module__ == "pydirectus.errors", cls
        assert cls.__name__ in errors.__all__, cls
        assert re.search(rf"^ +{cls.__name__}\b", docstring, re.M), f"{cls.__name__} not drawn"
    tree = _defined_classes(errors.DirectusError) | {errors.InsecureTransportWarning}
    for cls in tree:
        assert cls.__name__ in pydirectus.__all__, cls
        assert getattr(pydirectus, cls.__name__) is cls
    # The modules that raise them still export them under the same names.
    for module, names in {
        "pydirectus.typegen": ["SchemaError"],
        "pydirectus.cli.common": ["CommandError"],
        "pydirectus.system.handles": ["ReadOnlyError"],
        "pydirectus.system": ["ReadOnlyError"],
        "pydirectus.client": ["InsecureTransportWarning"],
        "pydirectus.testing": ["InstallError", "PostgresNotInstalled", "RedisNotInstalled",
                               "ServerStartError"],
    }.items():
        for name in names:
            assert getattr(importlib.import_module(module), name) is getattr(errors, name), (
                module, name)


def test_usage_errors_and_invalid_queries() -> None:
    from pydirectus.cli.common import CommandError
    from pydirectus.typegen import SchemaError

    assert issubclass(errors.UsageError, errors.DirectusError)
    assert issubclass(errors.UsageError, ValueError)
    assert errors.UsageError.__mro__[1:3] == (errors.DirectusError, ValueError)
    assert issubclass(errors.InvalidQuery, errors.UsageError)
    assert issubclass(errors.SchemaRequired, errors.InvalidQuery)
    for cls in (SchemaError, CommandError, errors.ReadOnlyError):
        assert issubclass(cls, errors.UsageError) and issubclass(cls, ValueError), cls
        assert not issubclass(cls, errors.InvalidQuery), cls
        assert not issubclass(cls, errors.APIError), cls
    import pydirectus

    assert pydirectus.SchemaError is SchemaError
    assert CommandError("x").status == 1 and CommandError("x", status=3).status == 3
