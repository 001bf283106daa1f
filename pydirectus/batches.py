"""The one batcher: send a long write in batches and say exactly what landed when one fails."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from .errors import APIError, BatchWriteError, DirectusError, TransportError

__all__ = ["chunks", "write_in_batches"]

Item = TypeVar("Item")


def chunks(items: Sequence[Item], size: int) -> Iterator[Sequence[Item]]:
    """Yield consecutive slices of at most size items."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def write_in_batches(send: Callable[[Sequence[Item]], Sequence[Any] | None],
                     payload: Sequence[Item], size: int, *, what: str,
                     idempotent: bool) -> list[Any]:
    """Call send(batch) for each batch; return what they answered, in order.

    A failure raises BatchWriteError: ``written`` holds the answers of the batches that
    landed; ``not_written`` the input of the refused batch and of every later one. When
    the connection failed after a non-idempotent batch was sent, that batch may or may
    not have landed: it goes to ``uncertain``, not to ``not_written``.
    """
    written: list[Any] = []
    start = 0
    for batch in chunks(payload, size):
        try:
            answer = send(batch)
        except (APIError, TransportError) as exc:
            raise _failure(exc, written, payload, start, len(batch), what,
                           idempotent) from exc
        written.extend(answer or [])
        start += len(batch)
    return written


def _failure(exc: DirectusError, written: list[Any], payload: Sequence[Any], start: int,
             size: int, what: str, idempotent: bool) -> BatchWriteError:
    # A transport error on an idempotent batch was already retried by the transport;
    # on a non-idempotent one the server may have applied the batch before failing.
    uncertain = isinstance(exc, TransportError) and not idempotent
    failed = list(payload[start:start + size])
    rest = list(payload[start + size:])
    if uncertain:
        message = (f"{what}: {start} of {len(payload)} written; the connection failed during "
                   f"the batch at index {start} ({exc}), which may or may not have landed; "
                   f"the {len(rest)} after it were not sent")
        return BatchWriteError(message, written, rest, exc, uncertain=failed)
    message = (f"{what}: {start} of {len(payload)} written; the batch at index {start} failed "
               f"({exc}) and it and the rest were not written")
    return BatchWriteError(message, written, failed + rest, exc)
