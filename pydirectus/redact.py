"""Masking of secrets (passwords, tokens) in URLs, free text and JSON-like values.

Pure: imports nothing from requests or the rest of the package.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = ["MASK", "SECRET_KEYS", "SECRET_PARAMS", "mask", "redact_text", "redact_url"]

MASK: Final = "***"
SECRET_PARAMS: Final = frozenset({"access_token", "refresh_token", "password", "token", "otp"})
SECRET_KEYS: Final = SECRET_PARAMS | {"authorization", "tfa_secret", "secret",
                                      "proxy-authorization", "cookie", "set-cookie"}

_NAMES: Final = "|".join(sorted(map(re.escape, SECRET_KEYS), key=len, reverse=True))
# key=value in a query string or form body, "key": "value" in JSON, and user:password@ in URLs.
_PARAM: Final = re.compile(rf"(?i)(\b(?:{_NAMES})=)[^&\s'\"]*")
_JSON_PAIR: Final = re.compile(rf'(?i)("(?:{_NAMES})"\s*:\s*)"(?:[^"\\]|\\.)*"?')
_USERINFO: Final = re.compile(r"(//[^/@\s:]*:)[^@/\s]*@")
_BEARER: Final = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")


def mask(value: Any) -> Any:
    """Return a copy of a JSON-like value with the values of secret keys masked."""
    if isinstance(value, Mapping):
        return {key: MASK if str(key).lower() in SECRET_KEYS else mask(item)
                for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask(item) for item in value]
    return value


def redact_text(text: str) -> str:
    """Return text with URL passwords, secret parameters, JSON secrets and bearer tokens masked."""
    text = _USERINFO.sub(rf"\g<1>{MASK}@", text)
    text = _PARAM.sub(rf"\g<1>{MASK}", text)
    text = _JSON_PAIR.sub(rf'\g<1>"{MASK}"', text)
    return _BEARER.sub(rf"\g<1>{MASK}", text)


def redact_url(url: str) -> str:
    """Return the URL with the password of its user-info part and secret parameters masked."""
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
    return parts.geturl()
