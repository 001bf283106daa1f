"""The async face: ``from pydirectus.aio import AsyncDirectusClient`` (needs ``pydirectus[async]``).

The same handles, queries, auth strategies and exceptions as the sync client, awaited:
``await coll.get(pk)``, ``await q.fetch()``, ``async for row in q``, over aiohttp.
"""

try:
    import aiohttp  # noqa: F401
except ImportError as exc:  # pragma: no cover - the extra is missing
    raise ImportError(
        "pydirectus.aio needs aiohttp: pip install 'pydirectus[async]'") from exc

from .client import AsyncDirectusClient

__all__ = ["AsyncDirectusClient"]
