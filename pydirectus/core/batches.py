"""The one batcher: send a long write in batches and say exactly what landed when one fails.

:func:`write_in_batches` is a plan. With ``concurrency`` above 1 it sends that many
batches at a time (one :class:`~pydirectus.core.plans.Gather`, which the sync face runs on
threads and the async face as tasks); the answers come back in input order either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from ..errors import APIError, BatchWriteError, DirectusError, TransportError
from .plans import Gather, Plan

__all__ = ["chunks", "write_in_batches"]

Item = TypeVar("Item")


def chunks(items: Sequence[Item], size: int) -> Iterator[Sequence[Item]]:
    """Yield consecutive slices of at most size items."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def write_in_batches(send: Callable[[Sequence[Item]], Plan[Sequence[Any] | None]],
                     payload: Sequence[Item], size: int, *, what: str,
                     idempotent: bool, concurrency: int = 1) -> Plan[list[Any]]:
    """Plan: send(batch) for each batch, ``concurrency`` at a time; return the answers in order.

    A failure raises BatchWriteError once the batches in flight have finished (none is
    sent after it): ``written`` holds the answers of every batch that landed, in input
    order; ``not_written`` the input of each refused batch and of every batch not sent;
    ``uncertain`` the input of each non-idempotent batch whose connection failed after
    it was sent, which may or may not have landed.
    """
    batches = list(chunks(payload, size))
    answers: list[Sequence[Any] | None] = []
    for first in range(0, len(batches), concurrency):
        group = batches[first:first + concurrency]
        if len(group) == 1:
            try:
                outcomes: list[Any] = [(yield from send(group[0]))]
            except (APIError, TransportError) as exc:
                outcomes = [exc]
        else:
            outcomes = yield Gather(tuple(send(batch) for batch in group))
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(
                    outcome, APIError | TransportError):
                raise outcome
        failed = [(index, outcome) for index, outcome in enumerate(outcomes)
                  if isinstance(outcome, APIError | TransportError)]
        if failed:
            error = _failure(batches, answers, first, outcomes, what, idempotent)
            raise error from error.cause
        answers.extend(outcomes)
    written: list[Any] = []
    for answer in answers:
        written.extend(answer or [])
    return written


def _failure(batches: list[Sequence[Any]], answers: list[Sequence[Any] | None], first: int,
             outcomes: list[Any], what: str, idempotent: bool) -> BatchWriteError:
    written: list[Any] = []
    for answer in answers:
        written.extend(answer or [])
    not_written: list[Any] = []
    uncertain: list[Any] = []
    cause: DirectusError | None = None
    cause_index = 0
    for offset, outcome in enumerate(outcomes):
        batch = list(batches[first + offset])
        if isinstance(outcome, APIError | TransportError):
            if cause is None:
                cause, cause_index = outcome, first + offset
            # A transport error on an idempotent batch was already retried by the
            # transport; on a non-idempotent one the server may have applied the batch.
            if isinstance(outcome, TransportError) and not idempotent:
                uncertain.extend(batch)
            else:
                not_written.extend(batch)
        else:
            written.extend(outcome or [])
    unsent = [item for batch in batches[first + len(outcomes):] for item in batch]
    not_written.extend(unsent)
    assert cause is not None
    total = sum(len(batch) for batch in batches)
    start = sum(len(batch) for batch in batches[:cause_index])
    landed = total - len(not_written) - len(uncertain)
    if uncertain and len(outcomes) == 1:
        message = (f"{what}: {landed} of {total} written; the connection failed during "
                   f"the batch at index {start} ({cause}), which may or may not have landed; "
                   f"the {len(unsent)} after it were not sent")
    elif len(outcomes) == 1:
        message = (f"{what}: {landed} of {total} written; the batch at index {start} failed "
                   f"({cause}) and it and the rest were not written")
    else:
        message = (f"{what}: {landed} of {total} written; the batch at index {start} failed "
                   f"({cause}); {len(not_written)} not written, {len(uncertain)} uncertain "
                   f"(a connection failed after sending), {len(unsent)} never sent")
    return BatchWriteError(message, written, not_written, cause, uncertain=uncertain)
