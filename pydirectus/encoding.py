"""The one JSON encoder for filter values and write data.

Python values Directus understands but ``json`` does not are turned into what Directus
expects: ``datetime`` -> ISO 8601 (its offset kept; a naive one stays naive), ``date`` and
``time`` -> ISO 8601, ``Decimal`` -> a string (a float would lose digits), ``UUID`` -> its
string, ``Enum`` -> its value, tuples, sets and frozensets -> lists (sets sorted when their
members can be ordered, so the same set always encodes the same way), and an ``int`` beyond
JavaScript's safe integers (±(2**53 - 1)) -> the string of its digits: Directus reads JSON
numbers as JavaScript numbers, which would round it (2**60 + 1 written as
1152921504606846976), while it writes a string of digits to a bigInteger column exactly and
compares it exactly in a filter (where a number that large is refused). Anything else, NaN
and infinity included, raises ``InvalidQuery`` naming the key path
of the value, before anything is sent.

With orjson installed (the ``pydirectus[fast]`` extra) bodies are encoded and decoded by
orjson, with the same results: whatever orjson would write differently from ``json`` (NaN
and infinity, which it writes as null; exponents such as ``1e-7``; ints past
``SAFE_INT_MAX``; keys that are not strings) goes through ``json``, as does anything orjson
cannot read.
``PYDIRECTUS_NO_ORJSON=1`` in the environment (read at import) turns orjson off.

Pure: imports nothing from requests or the rest of the client, so ``pydirectus.query``
uses it too.
"""

from __future__ import annotations

import datetime as dt
import enum
import importlib
import json
import math
import os
import re
import uuid
from collections.abc import Mapping
from decimal import Decimal
from json.encoder import c_encode_basestring, c_make_encoder  # type: ignore[attr-defined]
from typing import Any, Final

from .errors import InvalidQuery

__all__ = ["CONVERTED", "FAST_LOADS_MAX", "ORJSON", "SAFE_INT_MAX", "UNDECODED", "check_unicode",
           "compact_json", "convert", "dumps", "encode_bytes", "fast_loads", "to_json"]

_SCALARS: Final = (str, int, float, bool, type(None))
#: the largest integer a JavaScript number holds exactly (Number.MAX_SAFE_INTEGER); an int
#: beyond it is sent as a string of its digits (see the module's docstring)
SAFE_INT_MAX: Final = 2**53 - 1
#: the types convert() turns into JSON values (besides a Mapping)
CONVERTED: Final = (dt.datetime, dt.date, dt.time, Decimal, uuid.UUID, enum.Enum, set, frozenset)


def convert(value: Any) -> Any:
    """Return what a non-JSON value stands for (datetime -> ISO 8601, ...), or raise InvalidQuery.

    Containers are converted one level: a set becomes a (sorted) list, a Mapping a dict.
    """
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidQuery(f"{value!r} is not a JSON number")
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return _sorted(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise InvalidQuery(f"unsupported value type {type(value).__name__}")


def _sorted(values: set[Any] | frozenset[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:  # mixed or unorderable members: any order, as the set had it
        return list(values)


def _make_encoder() -> Any:
    # The C encoder calls convert() for each value it does not know; the slow walk in
    # to_json() runs only when that (or NaN, or a cycle) fails, to name the key path.
    if c_make_encoder is None or c_encode_basestring is None:  # pragma: no cover
        encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False,
                                   allow_nan=False, default=convert)
        return lambda value, _level: encoder.iterencode(value)
    # One C encoder built once: JSONEncoder.encode builds a new one per call. No markers
    # dict: one shared between threads (and left dirty by an error) would report false
    # cycles; a real cycle ends in RecursionError, and the walk below names it.
    return c_make_encoder(None, convert, c_encode_basestring, None, ":", ",", False, False,
                          False)


_ITERENCODE: Final = _make_encoder()


def dumps(value: Any, path: str = "") -> str:
    """Return compact JSON for value, or raise InvalidQuery naming the key path at fault."""
    fast = _fast_dumps(value)
    return (fast if fast is not None else _dumps(value, path)).decode()


def _dumps(value: Any, path: str, *, to_send: bool = True) -> bytes:
    # json's bytes (to_send: long ints as strings); UnicodeEncodeError (a ValueError): a
    # lone surrogate, named by the walk.
    try:
        body = "".join(_ITERENCODE(value, 0)).encode()
        if to_send and (_UNSAFE_INT_RUN in body.translate(_INT_DIGITS)
                        or body[:16].isdigit()):
            # json has no hook for ints: the walk turns those past SAFE_INT_MAX into strings
            body = "".join(_ITERENCODE(to_json(value, path), 0)).encode()
        return body
    except (TypeError, ValueError, RecursionError):
        pass
    to_json(value, path)  # raises, naming the path
    raise InvalidQuery(f"{_where(path)}: cannot be sent as JSON")  # pragma: no cover


def _load_orjson() -> Any:
    if os.environ.get("PYDIRECTUS_NO_ORJSON", "").strip() not in ("", "0"):
        return None
    try:
        return importlib.import_module("orjson")
    except ImportError:
        return None


_ORJSON: Final[Any] = _load_orjson()
#: whether bodies go through orjson (installed, and not turned off by PYDIRECTUS_NO_ORJSON)
ORJSON: Final = _ORJSON is not None
# Where orjson's bytes may differ from json's: NaN/infinity (orjson writes null) and
# exponents (orjson writes 1e-7, json 1e-07; 0.00006103515625 where json writes
# 6.103515625e-05). Also matched inside strings: those values
# just take the json path.
_MAY_DIFFER: Final = re.compile(rb"null|\de[-+]?\d|0\.0000")
# OPT_STRICT_INTEGER: orjson raises on an int past SAFE_INT_MAX, and json's path (which
# sends it as a string) takes the body; every other body costs nothing more.
_ORJSON_OPTIONS: Final = ((_ORJSON.OPT_PASSTHROUGH_DATETIME | _ORJSON.OPT_PASSTHROUGH_DATACLASS
                           | _ORJSON.OPT_STRICT_INTEGER) if ORJSON else 0)
# json's path finds an int past SAFE_INT_MAX in its bytes: 16 digits or more after a byte
# that is neither a digit nor "." (a float's fraction, as in 0.30000000000000004, is not
# one). With digits made "0" and every other byte but "." made " " that is a bytes search,
# a tenth of the encoding's time where a regular expression took as long as the encoding.
# (A body that is one int has no byte before it.) A match in a string, or a 16-digit int
# within the limit, only costs the walk, which then changes nothing.
_INT_DIGITS: Final = bytes(48 if 48 <= c <= 57 else c if c == 46 else 32 for c in range(256))
_UNSAFE_INT_RUN: Final = b" " + b"0" * 16
#: fast_loads() could not decode: the caller decodes as it would without orjson
UNDECODED: Final = object()


def _fast_dumps(value: Any) -> bytes | None:
    # orjson's bytes when they are json's too; None: json decides (the same bytes, or the
    # error naming the key path).
    if _ORJSON is None:
        return None
    try:
        # convert() for the rest: datetimes keep Python's isoformat, dataclasses refused.
        body: bytes = _ORJSON.dumps(value, default=convert, option=_ORJSON_OPTIONS)
    except (TypeError, ValueError, RecursionError):
        return None
    return body if _MAY_DIFFER.search(body) is None else None


def encode_bytes(value: Any, path: str = "") -> bytes:
    """Return value as UTF-8 JSON bytes (a request body), or raise InvalidQuery."""
    fast = _fast_dumps(value)
    return fast if fast is not None else _dumps(value, path)


def compact_json(value: Any) -> bytes:
    """Return a decoded JSON value as compact UTF-8 JSON bytes, orjson's where installed:
    the same value as json's text, though a number may be spelled otherwise (1e-7 for
    1e-07). For text that is read back as JSON, not for a request body."""
    if _ORJSON is not None:
        try:
            text: bytes = _ORJSON.dumps(value)
            return text
        except (TypeError, ValueError):  # an integer beyond 64 bits: json spells it
            pass
    return _dumps(value, "", to_send=False)  # a number read stays a number


# orjson reads an integer outside [-2**63, 2**64) as a float, json as an int. Such a number
# has 19 digits or more in a row; finding a run of 19 in bytes with every digit made "0"
# costs a fraction of a regular expression's search.
_DIGITS_AS_ZERO: Final = bytes(48 if 48 <= c <= 57 else 32 for c in range(256))
_LONG_RUN: Final = b"0" * 19


#: larger bodies are decoded by json: orjson's transient working memory is about 13 times
#: the body (26 MB for a 2 MB page, where json peaks near 4 MB)
FAST_LOADS_MAX: Final = 64 * 1024


def fast_loads(content: bytes) -> Any:
    """Return the JSON value of UTF-8 bytes decoded by orjson, or UNDECODED (no orjson, or
    orjson refused it or would read it otherwise: long integers, NaN, lone surrogates)."""
    if _ORJSON is None or len(content) > FAST_LOADS_MAX or (
            _LONG_RUN in content.translate(_DIGITS_AS_ZERO)):
        return UNDECODED
    try:
        return _ORJSON.loads(content)
    except ValueError:  # orjson.JSONDecodeError is a ValueError
        return UNDECODED


def to_json(value: Any, path: str = "") -> Any:
    """Return value as plain JSON types (dict, list, str, int, float, bool, None), as it is
    sent (an int past SAFE_INT_MAX as a string of its digits), or raise InvalidQuery."""
    return _walk(value, path, set())


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 (nor JSON on the wire) holds it
        return False
    return True


def check_unicode(text: str, what: str) -> str:
    """Return text if UTF-8 can carry it, else raise InvalidQuery naming it (a lone surrogate,
    say "\\ud800", which no request can send)."""
    if not text.isascii() and not _utf8(text):
        raise InvalidQuery(f"{what}: {text[:40]!r} is not valid Unicode text (it holds a lone "
                           "surrogate, which UTF-8 cannot carry)")
    return text


def _where(path: str) -> str:
    return f"value at {path!r}" if path else "value"


def _walk(value: Any, path: str, active: set[int]) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidQuery(f"{_where(path)}: {value!r} is not valid JSON; send None or a "
                           f"finite number")
    if isinstance(value, str) and not isinstance(value, enum.Enum):
        return check_unicode(value, _where(path))
    if (isinstance(value, int) and not isinstance(value, bool | enum.Enum)
            and not -SAFE_INT_MAX <= value <= SAFE_INT_MAX):
        return str(int(value))  # a JavaScript number would round it
    if isinstance(value, _SCALARS) and not isinstance(value, enum.Enum):
        return value
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        if id(value) in active:
            raise InvalidQuery(f"{_where(path)}: refers to itself (a circular reference)")
        active.add(id(value))
        try:
            if isinstance(value, Mapping):
                return {_key(key, path): _walk(item, _join(path, key), active)
                        for key, item in value.items()}
            items = _sorted(value) if isinstance(value, set | frozenset) else value
            return [_walk(item, f"{path}[{index}]", active) for index, item in enumerate(items)]
        finally:
            active.discard(id(value))
    try:
        converted = convert(value)
    except InvalidQuery as exc:
        raise InvalidQuery(
            f"{_where(path)}: {exc}; send str, int, float, bool, None, a list or a dict "
            f"(datetime, date, time, Decimal, UUID, Enum, tuple and set are converted)"
        ) from None  # the context is our own message, without the path
    return _walk(converted, path, active)


def _key(key: Any, path: str) -> str:
    if isinstance(key, str):
        return check_unicode(key, f"key in {_where(path)}")
    if isinstance(key, int | float | bool) or key is None:
        return json.dumps(key)  # what json does with such keys
    raise InvalidQuery(f"key {key!r} in {_where(path)}: object keys must be strings")


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)
