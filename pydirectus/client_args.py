"""Resolve DirectusClient's constructor arguments: today's form and the seed's, checked.

Two spellings reach the same settings, and passing both spellings of one setting is an
error, whatever the values, so that no reader has to guess which one wins:

=================  ==============================================
today              the seed (pydirectus 0.2)
=================  ==============================================
``url``            ``hostname``
``auth=``          ``username``/``password``, ``static_token``
``verify=``        ``ssl_verify``
=================  ==============================================

Nothing here sends a request; every error is a UsageError naming the argument at fault.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import warnings
from urllib.parse import urlsplit

import attrs

from .auth import DirectusAuth, Password, StaticToken
from .core.exchange import validate_base_url
from .errors import InsecureTransportWarning, UsageError

__all__ = ["ClientArgs", "resolve_client_args", "warn_if_insecure"]


@attrs.frozen
class ClientArgs:
    """What the constructor's arguments come to: one URL, one auth, one TLS setting, a logger."""

    base_url: str
    auth: DirectusAuth | None = attrs.field(repr=False)
    # None: neither verify= nor ssl_verify= was given, so the session's own setting holds
    # (True for the session the transport makes; the seed defaulted to False).
    verify: bool | str | None
    logger: logging.Logger | None


def resolve_client_args(
    *,
    url: str | None,
    hostname: str | None,
    auth: DirectusAuth | None,
    username: str | None,
    password: str | None,
    static_token: str | None,
    verify: bool | str | None,
    ssl_verify: bool | str | None,
    logger: logging.Logger | None,
) -> ClientArgs:
    """Check the constructor's arguments and resolve each setting from the one form given."""
    for name, value in (("username", username), ("password", password),
                        ("static_token", static_token)):
        _check_secret(name, value)
    if url is not None and hostname is not None:
        raise UsageError("pass the base URL once: either url (first argument) or hostname=")
    given = url if url is not None else hostname
    if given is None:
        raise UsageError("url: expected the Directus base URL, e.g. 'https://cms.example.com' "
                         "(the seed calls it hostname=)")
    base_url = validate_base_url(given)
    if verify is not None and ssl_verify is not None:
        raise UsageError("pass TLS verification once: either verify= or ssl_verify= "
                         "(the seed's name), not both")
    _check_verify("verify", verify)
    _check_verify("ssl_verify", ssl_verify)
    if logger is not None and not isinstance(logger, logging.Logger):
        raise UsageError(f"logger: expected a logging.Logger, got {type(logger).__name__}")
    return ClientArgs(
        base_url=base_url,
        auth=_auth(auth, static_token, username, password),
        verify=verify if verify is not None else ssl_verify,
        logger=logger,
    )


def _check_secret(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, DirectusAuth):
        raise UsageError(f"{name}: got a {type(value).__name__}; pass auth strategies as "
                         "auth=, e.g. DirectusClient(url, auth=StaticToken('...'))")
    if not isinstance(value, str):
        raise UsageError(f"{name}: expected a str, got {type(value).__name__}")
    if not value.strip():
        # A blank value is usually an unset environment variable: connecting anonymously
        # instead would hide that until the first forbidden request.
        raise UsageError(f"{name}: must not be empty (pass None, or leave it out, for no "
                         f"{name.replace('_', ' ')})")


def _check_verify(name: str, value: object) -> None:
    if value is not None and not isinstance(value, bool | str):
        raise UsageError(f"{name}: expected True, False or a CA bundle path, "
                         f"got {type(value).__name__}")
    if isinstance(value, str):
        if not value.strip():
            raise UsageError(f"{name}: a CA bundle path must not be empty")
        # requests would only notice when sending, with an OSError outside our error tree.
        if not os.path.exists(value):
            raise UsageError(f"{name}: no CA bundle file or directory at {value!r}")


def _auth(
    auth: DirectusAuth | None,
    static_token: str | None,
    username: str | None,
    password: str | None,
) -> DirectusAuth | None:
    seed_given = static_token is not None or username is not None or password is not None
    if auth is not None:
        if seed_given:
            raise UsageError("pass either auth= or static_token=/username=/password=, not both")
        if not isinstance(auth, DirectusAuth):
            raise UsageError(f"auth: expected StaticToken, Password or another DirectusAuth, "
                             f"got {type(auth).__name__}")
        return auth
    if static_token is not None:  # the seed's rule: a static token wins over a login
        return StaticToken(static_token)
    if username is not None or password is not None:
        if username is None or password is None:
            raise UsageError("username= and password= go together; one of them is missing")
        return Password(username, password)
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_if_insecure(base_url: str, auth: DirectusAuth | None, stacklevel: int) -> None:
    """Warn (InsecureTransportWarning) when a password would travel unencrypted off this
    machine: Password auth over plain http to a host that is not loopback."""
    if isinstance(auth, Password):
        parts = urlsplit(base_url)
        if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
            warnings.warn(
                f"Password auth over plain http to {parts.hostname}: the password and tokens "
                "travel unencrypted; use https://",
                InsecureTransportWarning,
                stacklevel=stacklevel + 1,
            )
