"""The query string of a call, encoded once for both faces (as requests would encode it)."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote_plus

__all__ = ["encode_query"]


# What urlencode's quote_plus does to ASCII text (every character but letters, digits and
# "_.-~" as %XX, a space as "+"), as a table str.translate applies in one C call.
_ALWAYS_SAFE: Final = frozenset(string.ascii_letters + string.digits + "_.-~")
_ASCII_QUOTED: Final = {code: "+" if code == 32 else f"%{code:02X}"
                        for code in range(128) if chr(code) not in _ALWAYS_SAFE}


def _quote(part: Any) -> str:
    if isinstance(part, bytes):
        return quote_plus(part)
    text = part if isinstance(part, str) else str(part)
    # Other text is UTF-8 encoded first, byte by byte: quote_plus does that.
    return text.translate(_ASCII_QUOTED) if text.isascii() else quote_plus(text)


def encode_query(params: Mapping[str, Any]) -> str:
    """Return the query string requests would build for params (None values left out)."""
    pairs: list[str] = []
    for key, value in params.items():
        name = _quote(key)
        for item in value if isinstance(value, list | tuple) else (value,):
            if item is not None:
                pairs.append(f"{name}={_quote(item)}")
    return "&".join(pairs)
