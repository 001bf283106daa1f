"""The error tree under the names pydirectus 0.2 used: ``from pydirectus.exceptions import ...``.

``DirectusException`` is ``pydirectus.errors.DirectusError`` itself (not a parallel
class), so ``except DirectusException`` catches everything pydirectus raises, and
``DirectusAuthException`` is ``AuthenticationError``. Every class
of ``pydirectus.errors`` is here too, under its own name; new code should import from
``pydirectus.errors``.
"""

from __future__ import annotations

from . import errors as _errors
from .errors import *  # noqa: F403 - the whole tree, including classes added to it later
from .errors import AuthenticationError, DirectusError

__all__ = sorted(
    ["DirectusAuthException", "DirectusException"]
    + [name for name in _errors.__all__ if isinstance(getattr(_errors, name), type)]
)

DirectusException = DirectusError
DirectusAuthException = AuthenticationError
