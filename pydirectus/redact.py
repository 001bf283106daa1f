"""Scrubbing of secrets (passwords, tokens) from URLs, free text, bodies and JSON-like values.

One mechanism for every string that leaves the client (exception messages and their
``errors``, response snapshots, log lines, CLI output):

- by pattern: ``user:password@`` in URLs, ``key=value`` parameters, ``"key": "value"``
  pairs (JSON or Python quoting), ``Authorization: ...`` headers and bearer tokens, for
  the keys in ``SECRET_KEYS``;
- by value: the secrets of every live auth strategy in this process (a static token, a
  password, the current and recent access and refresh tokens), as they are and in their
  URL-encoded and JSON-escaped forms. Strategies register themselves with
  ``register_secrets``; values shorter than ``MIN_SECRET_CHARS`` are left to the
  patterns (masking every "pw" in a text would leave it unreadable).

Pure: imports nothing from requests or the rest of the package.
"""

from __future__ import annotations

import json
import re
import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import Any, Final, Protocol
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit

__all__ = [
    "MASK",
    "MIN_SECRET_CHARS",
    "SECRET_KEYS",
    "SECRET_PARAMS",
    "SecretHolder",
    "mask",
    "redact_bytes",
    "redact_text",
    "redact_url",
    "register_secrets",
]

MASK: Final = "***"
#: secrets shorter than this are masked by pattern only, not wherever their value appears
MIN_SECRET_CHARS: Final = 4
SECRET_PARAMS: Final = frozenset({"access_token", "refresh_token", "password", "token", "otp",
                                  "directus_session_token", "directus_refresh_token"})
SECRET_KEYS: Final = SECRET_PARAMS | {"authorization", "tfa_secret", "secret",
                                      "proxy-authorization", "cookie", "set-cookie"}

_NAMES: Final = "|".join(sorted(map(re.escape, SECRET_KEYS), key=len, reverse=True))
# key=value in a query string or form body, and user:password@ in URLs.
_PARAM: Final = re.compile(rf"(?i)(\b(?:{_NAMES})=)[^&\s'\"]*")
_USERINFO: Final = re.compile(r"(//[^/@\s:]*:)[^@/\s]*@")
# "key": "value" (JSON) and 'key': 'value' (a Python repr): the value quoted, or bare (null).
_PAIR: Final = re.compile(
    rf"""(?i)((["'])(?:{_NAMES})\2\s*:\s*)(?:"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|[\w.+/=-]+)""")
# A header line quoted in a text ("Authorization: Bearer ...", "Cookie: ..."), to the end of
# the line or quote; the auth scheme is kept. (Plain "password: ..." is prose: our own
# messages name arguments that way.)
_HEADER: Final = re.compile(
    r"(?i)((?<![\w-])(?:proxy-authorization|authorization|set-cookie|cookie)\s*:\s*"
    r"(?:(?:bearer|basic|token)\s+)?)[^\r\n\"']+")
_BEARER: Final = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")


class SecretHolder(Protocol):
    """What registers with ``register_secrets``: an object that can list its secrets."""

    def secret_values(self) -> Iterable[str]:
        """Return the secrets this object holds now."""
        ...


# By identity (id -> holder), not equality: of two equal StaticTokens, the one that lives on
# must stay registered when the other goes.
_holders: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
_holders_lock = threading.Lock()


def register_secrets(holder: SecretHolder) -> None:
    """Scrub ``holder.secret_values()`` from every text from now on, while it lives."""
    with _holders_lock:
        _holders[id(holder)] = holder


def _secret_forms() -> list[str]:
    """Return the live secrets in every form they may take in a text, longest first."""
    with _holders_lock:
        holders = list(_holders.values())
    forms: set[str] = set()
    for holder in holders:
        for value in holder.secret_values():
            if isinstance(value, str) and len(value) >= MIN_SECRET_CHARS:
                forms.update((value, quote(value, safe=""), quote(value), quote_plus(value),
                              json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]))
    return sorted(forms, key=len, reverse=True)


def _scrub_values(text: str) -> str:
    for form in _secret_forms():
        if form in text:
            text = text.replace(form, MASK)
    return text


def mask(value: Any) -> Any:
    """Return a copy of a JSON-like value with the values of secret keys masked and every
    string in it scrubbed (see ``redact_text``)."""
    if isinstance(value, Mapping):
        return {key: MASK if str(key).lower() in SECRET_KEYS else mask(item)
                for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_text(text: str) -> str:
    """Return text with the live secrets, URL passwords, secret parameters and pairs,
    Authorization headers and bearer tokens masked."""
    text = _scrub_values(text)
    text = _USERINFO.sub(rf"\g<1>{MASK}@", text)
    text = _PARAM.sub(rf"\g<1>{MASK}", text)
    text = _PAIR.sub(_masked_pair, text)
    text = _HEADER.sub(rf"\g<1>{MASK}", text)
    return _BEARER.sub(rf"\g<1>{MASK}", text)


def _masked_pair(match: re.Match[str]) -> str:
    value = match.group(0)[len(match.group(1)):]
    quote_mark = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group(1)}{quote_mark}{MASK}{quote_mark}"


def redact_bytes(body: bytes) -> bytes:
    """Return a body (JSON or not) with what ``redact_text`` masks masked.

    A JSON body is scrubbed value by value (its escaped strings are read first) and
    re-encoded; anything else is scrubbed as UTF-8 text. An unchanged body is returned as is.
    """
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        text = body.decode("utf-8", "replace")
        masked = redact_text(text)
        return body if masked == text else masked.encode()
    masked_payload = mask(payload)
    if masked_payload == payload:
        return body
    return json.dumps(masked_payload).encode()


def redact_url(url: str) -> str:
    """Return the URL with the password of its user-info part, secret parameters and live
    secrets masked."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL urlsplit can take apart (say, a bad port)
        return redact_text(url)
    if password is not None:
        host = parts.netloc.rsplit("@", 1)[1]
        parts = parts._replace(netloc=f"{parts.username}:{MASK}@{host}")
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if any(key.lower() in SECRET_PARAMS for key, _ in pairs):
            parts = parts._replace(query=urlencode(
                [(key, MASK if key.lower() in SECRET_PARAMS else value) for key, value in pairs],
                safe="*"))
    return _scrub_values(parts.geturl())
