"""The one batcher: send a long write in batches and say exactly what landed when one fails.

``write_in_batches`` is a plan. With ``concurrency`` above 1 it sends that many
batches at a time (one ``Gather``, which the sync face runs on
threads and the async face as tasks); the answers come back in input order either way.

What a failed batch did is decided by ``may_have_landed`` alone: Directus runs each
batch in one transaction (a refused batch leaves nothing behind), so a batch either landed
whole or not at all, and the only doubt is whether an answer that never came back (or came
from a gateway, not Directus) hid a batch that landed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from ..errors import APIError, BatchWriteError, DirectusError, TransportError, batch_error_class
from .plans import Gather, Plan

__all__ = ["chunks", "may_have_landed", "write_in_batches"]

Item = TypeVar("Item")


def chunks(items: Sequence[Item], size: int) -> Iterator[Sequence[Item]]:
    """Yield consecutive slices of at most size items."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def may_have_landed(error: DirectusError) -> bool:
    """Return whether a write that failed with ``error`` may have been applied by Directus.

    Only a refusal (a 4xx: Directus's own, or a gateway's that did not forward it; a
    redirect) or a request that never left this machine says it certainly was not, and
    only when no earlier attempt of the call was lost. A timeout, a reset after sending,
    a 2xx answer cut short or of the wrong shape, any 5xx (a gateway's 502/503/504, or
    Directus failing after its transaction committed) and a 408 leave it open.
    """
    if isinstance(error, TransportError):
        return error.request_sent
    if isinstance(error, APIError):
        if error.earlier_attempt_lost:
            return True
        return error.status < 300 or error.status >= 500 or error.status == 408
    return True


def write_in_batches(send: Callable[[Sequence[Item]], Plan[Sequence[Any] | None]],
                     payload: Sequence[Item], size: int, *, what: str, operation: str,
                     concurrency: int = 1,
                     changes: Mapping[str, Any] | None = None) -> Plan[list[Any]]:
    """Plan: send(batch) for each batch, ``concurrency`` at a time; return the answers in order.

    A failure raises BatchWriteError once the batches in flight have finished (none is
    sent after it): ``written`` holds the answers of every batch that landed, in input
    order; ``uncertain`` the input of each batch that may have landed (see
    ``may_have_landed``); ``not_written`` the input of each refused batch and of every
    batch not sent. ``operation`` ("create", "update", "delete") and ``changes`` (an
    update's data) go on the error for ``settle()``.
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
            error = _failure(batches, answers, first, outcomes, what, operation, changes)
            raise error from error.cause
        answers.extend(outcomes)
    written: list[Any] = []
    for answer in answers:
        written.extend(answer or [])
    return written


def _failure(batches: list[Sequence[Any]], answers: list[Sequence[Any] | None], first: int,
             outcomes: list[Any], what: str, operation: str,
             changes: Mapping[str, Any] | None) -> BatchWriteError:
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
            (uncertain if may_have_landed(outcome) else not_written).extend(batch)
        else:
            written.extend(outcome or [])
    unsent = [item for batch in batches[first + len(outcomes):] for item in batch]
    not_written.extend(unsent)
    assert cause is not None
    total = sum(len(batch) for batch in batches)
    start = sum(len(batch) for batch in batches[:cause_index])
    landed = total - len(not_written) - len(uncertain)
    settle = ("; handle.settle(error) reads them back by key and says which landed"
              if uncertain else "")
    if uncertain and len(outcomes) == 1:
        message = (f"{what}: {landed} of {total} written; the answer to the batch at index "
                   f"{start} was lost ({cause}): its {len(uncertain)} may or may not have "
                   f"landed; the {len(unsent)} after it were not sent{settle}")
    elif len(outcomes) == 1:
        how = "refused" if isinstance(cause, APIError) else "never sent"
        message = (f"{what}: {landed} of {total} written; the batch at index {start} was "
                   f"{how} ({cause}) and it and the rest were not written")
    else:
        message = (f"{what}: {landed} of {total} written; the batch at index {start} failed "
                   f"({cause}); {len(not_written)} not written, {len(uncertain)} uncertain "
                   f"(their answer was lost), {len(unsent)} never sent{settle}")
    # Only a certain refusal makes the error also the refusal's class: a 403 to a DELETE
    # re-sent after its first answer was lost (the keys were gone) is no refusal.
    kind = BatchWriteError if may_have_landed(cause) else batch_error_class(cause)
    return kind(message, written, not_written, cause, uncertain=uncertain,
                operation=operation, changes=changes)
