"""Windows and the keyset filter: pure pieces of the read path, checked against a model."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydirectus import InvalidQuery
from pydirectus.core.batches import may_have_landed, write_in_batches
from pydirectus.core.plans import Gather, Plan
from pydirectus.core.reads import SortKey, Window, keyset_filter
from pydirectus.errors import (
    APIError,
    BatchPermissionDenied,
    BatchWriteError,
    ConnectError,
    InvalidRequest,
    PermissionDenied,
    ServerError,
    Timeout,
)


@pytest.mark.parametrize(("compiled", "window"), [
    ({}, Window(0, None)),
    ({"limit": -1}, Window(0, None)),
    ({"limit": 10, "offset": 5}, Window(5, 10)),
    ({"limit": 10, "page": 3}, Window(20, 10)),
    ({"offset": 7}, Window(7, None)),
])
def test_window_of_a_query(compiled: dict[str, Any], window: Window) -> None:
    assert Window.of(compiled) == window


@pytest.mark.parametrize("compiled", [{"page": 2}, {"page": 2, "limit": -1},
                                      {"page": 2, "limit": 5, "offset": 1}])
def test_window_refuses_ambiguous_pages(compiled: dict[str, Any]) -> None:
    with pytest.raises(InvalidQuery):
        Window.of(compiled)


@given(st.integers(0, 50), st.one_of(st.none(), st.integers(0, 50)), st.integers(0, 120))
def test_window_count_matches_a_slice(start: int, size: int | None, total: int) -> None:
    stop = None if size is None else start + size
    assert Window(start, size).count(total) == len(list(range(total))[start:stop])


@given(st.integers(0, 30), st.one_of(st.none(), st.integers(0, 30)),
       st.integers(0, 30), st.one_of(st.none(), st.integers(0, 30)))
def test_window_within_is_slice_of_slice(start: int, size: int | None, skip: int,
                                         inner: int | None) -> None:
    rows = list(range(100))
    outer = rows[start:None if size is None else start + size]
    expected = outer[skip:None if inner is None else skip + inner]
    part = Window(start, size).within(skip, inner)
    assert rows[part.start:None if part.size is None else part.start + part.size] == expected


def _matches(node: dict[str, Any], row: dict[str, Any]) -> bool:
    # A small evaluator for the filters keyset_filter builds.
    if "_and" in node:
        return all(_matches(n, row) for n in node["_and"])
    if "_or" in node:
        return any(_matches(n, row) for n in node["_or"])
    ((field, ops),) = node.items()
    value = row[field]
    checks = {
        "_eq": lambda v: value is not None and value == v,
        "_gt": lambda v: value is not None and value > v,
        "_lt": lambda v: value is not None and value < v,
        "_null": lambda v: value is None,
        "_nnull": lambda v: value is not None,
    }
    return all(checks[op](v) for op, v in ops.items())


def _ordered(rows: list[dict[str, Any]], keys: list[SortKey], nulls_first: bool
             ) -> list[dict[str, Any]]:
    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for key in keys:
            x, y = a[key.field], b[key.field]
            if x == y:
                continue
            if x is None or y is None:
                result = (-1 if x is None else 1) * (1 if nulls_first else -1)
            else:
                result = -1 if x < y else 1
            return -result if key.descending else result
        return 0
    return sorted(rows, key=functools.cmp_to_key(compare))


@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 3)),
                          st.one_of(st.none(), st.integers(0, 3))), min_size=1, max_size=25),
       st.lists(st.booleans(), min_size=2, max_size=2), st.booleans())
def test_keyset_filter_selects_exactly_the_rows_after(values: list[tuple[Any, Any]],
                                                      descending: list[bool],
                                                      nulls_first: bool) -> None:
    rows = [{"a": a, "b": b, "id": i} for i, (a, b) in enumerate(values)]
    keys = [SortKey("a", descending[0]), SortKey("b", descending[1]), SortKey("id")]
    ordered = _ordered(rows, keys, nulls_first)
    nulls = [nulls_first != k.descending for k in keys[:2]] + [None]
    for position, last in enumerate(ordered):
        after = keyset_filter(keys, [last[k.field] for k in keys], nulls)
        assert [r for r in ordered if _matches(after, r)] == ordered[position + 1:]


def test_keyset_filter_without_nulls_is_a_plain_comparison() -> None:
    keys = [SortKey("n", True), SortKey("id")]
    assert keyset_filter(keys, [5, 9], [None, None]) == {"_or": [
        {"n": {"_lt": 5}}, {"_and": [{"n": {"_eq": 5}}, {"id": {"_gt": 9}}]}]}


def drive(plan: Plan[Any]) -> Any:
    """Run a plan that yields only Gathers (each sub-plan run to its outcome, in order)."""
    try:
        instruction = next(plan)
        while True:
            assert isinstance(instruction, Gather)
            outcomes: list[Any] = []
            for sub in instruction.plans:
                try:
                    outcomes.append(drive(sub))
                except Exception as exc:
                    outcomes.append(exc)
            instruction = plan.send(outcomes)
    except StopIteration as done:
        return done.value


def sender(fail: dict[int, Exception]) -> tuple[Any, list[list[int]]]:
    """A batch sender (a plan per batch) that fails the batches numbered in ``fail``."""
    sent: list[list[int]] = []

    def send(batch: Any) -> Plan[list[int]]:
        number = len(sent)
        sent.append(list(batch))
        yield from ()
        if number in fail:
            raise fail[number]
        return [n * 10 for n in batch]

    return send, sent


def test_batches_say_what_landed() -> None:
    send, _ = sender({1: ConnectError("POST /items/x: connection failed")})
    with pytest.raises(BatchWriteError) as raised:
        drive(write_in_batches(send, list(range(7)), 3, what="create", operation="create"))
    assert raised.value.written == [0, 10, 20]
    assert raised.value.uncertain == [3, 4, 5] and raised.value.not_written == [6]


def test_a_refused_batch_is_not_written() -> None:
    send, _ = sender({0: InvalidRequest(400, "INVALID_PAYLOAD", "no"),
                      1: InvalidRequest(400, "INVALID_PAYLOAD", "no")})
    with pytest.raises(BatchWriteError) as raised:
        drive(write_in_batches(send, [1, 2], 1, what="create", operation="create"))
    assert raised.value.written == [] and raised.value.not_written == [1, 2]
    assert raised.value.uncertain == [] and isinstance(raised.value.cause, InvalidRequest)


def test_concurrent_batches_answer_in_input_order() -> None:
    send, sent = sender({})
    assert drive(write_in_batches(send, list(range(10)), 2, what="create", operation="create",
                                  concurrency=4)) == [n * 10 for n in range(10)]
    assert sent == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]


def test_concurrent_batches_report_exactly_what_landed() -> None:
    # Batches 0-3 go out together: 1 loses its connection, 2 is refused, 0 and 3 land; the
    # batch after them (4) is never sent.
    send, sent = sender({1: ConnectError("POST /items/x: reset"),
                         2: InvalidRequest(400, "INVALID_PAYLOAD", "no")})
    with pytest.raises(BatchWriteError) as raised:
        drive(write_in_batches(send, list(range(10)), 2, what="create", operation="create",
                               concurrency=4))
    error = raised.value
    assert error.written == [0, 10, 60, 70]
    assert error.uncertain == [2, 3]
    assert error.not_written == [4, 5, 8, 9]
    assert isinstance(error.cause, ConnectError) and len(sent) == 4


def test_a_delete_whose_answer_was_lost_is_uncertain_and_reports_its_keys() -> None:
    # A DELETE is retried by the transport, but once its retries are spent (or it timed
    # out reading), the batch may have landed: uncertain, never not_written.
    send, _ = sender({0: ConnectError("DELETE /items/x: reset")})
    with pytest.raises(BatchWriteError) as raised:
        drive(write_in_batches(send, [1, 2, 3], 2, what="delete", operation="delete",
                               concurrency=2))
    assert raised.value.uncertain == [1, 2] and raised.value.not_written == []
    assert raised.value.written == [30] and raised.value.operation == "delete"


def _never_sent() -> ConnectError:
    error = ConnectError("POST /items/x: connection refused")
    error.request_sent = False
    return error


def _after_lost_attempt(error: APIError) -> APIError:
    error.earlier_attempt_lost = True
    return error


@pytest.mark.parametrize(("error", "landed_maybe"), [
    (Timeout("read timed out"), True),
    (ConnectError("reset after sending"), True),
    (_never_sent(), False),
    (ServerError(502, None, "not a Directus error body: '<html>Bad Gateway'"), True),
    (ServerError(503, None, "empty response body"), True),
    (ServerError(504, None, "empty response body"), True),
    (ServerError(500, "INTERNAL_SERVER_ERROR", "after the commit, maybe"), True),
    (ServerError(200, None, "a 2xx body of the wrong shape: a truncated answer"), True),
    (InvalidRequest(400, "RECORD_NOT_UNIQUE", "refused"), False),
    (PermissionDenied(403, "FORBIDDEN", "refused"), False),
    (InvalidRequest(413, None, "a gateway's refusal, not forwarded"), False),
    (_after_lost_attempt(PermissionDenied(403, "FORBIDDEN", "a retry of a landed one")), True),
])
def test_only_a_refusal_or_an_unsent_request_is_not_written(error: Any,
                                                             landed_maybe: bool) -> None:
    assert may_have_landed(error) is landed_maybe
    send, _ = sender({1: error})
    with pytest.raises(BatchWriteError) as raised:
        drive(write_in_batches(send, list(range(5)), 2, what="update", operation="update",
                               changes={"n": 1}))
    expected = ([2, 3], [4]) if landed_maybe else ([], [2, 3, 4])
    assert (raised.value.uncertain, raised.value.not_written) == expected
    assert raised.value.written == [0, 10] and raised.value.changes == {"n": 1}


def test_a_refused_batch_write_is_also_the_refusal() -> None:
    refusal = PermissionDenied(403, "FORBIDDEN", "no update", {"reason": "policy"})
    send, _ = sender({0: refusal})
    with pytest.raises(PermissionDenied) as raised:
        drive(write_in_batches(send, [1, 2], 5, what="update", operation="update"))
    error = raised.value
    assert isinstance(error, BatchWriteError) and type(error) is BatchPermissionDenied
    assert (error.status, error.code, error.reason, error.message) == (
        403, "FORBIDDEN", "policy", "no update")
    assert error.cause is refusal and error.not_written == [1, 2]
    assert "refused (403 FORBIDDEN: no update)" in str(error)
    # A lost answer is no refusal: a BatchWriteError only, so `except ServerError: retry`
    # or `except TransportError` never re-sends a batch that may have landed.
    for lost in (ServerError(502, None, "bad gateway"), Timeout("read timed out")):
        send, _ = sender({0: lost})
        with pytest.raises(BatchWriteError) as raised:
            drive(write_in_batches(send, [1], 1, what="create", operation="create"))
        assert type(raised.value) is BatchWriteError


def test_an_error_outside_the_tree_is_raised_as_it_is() -> None:
    send, _ = sender({0: KeyError("bug")})
    with pytest.raises(KeyError):
        drive(write_in_batches(send, [1, 2, 3], 2, what="create", operation="create",
                               concurrency=2))
    send, _ = sender({0: ServerError(502, None, "bad gateway")})
    with pytest.raises(BatchWriteError):
        drive(write_in_batches(send, [1], 1, what="create", operation="create"))


def test_a_batch_that_never_left_says_so() -> None:
    send, _ = sender({0: _never_sent()})
    with pytest.raises(BatchWriteError) as raised:
        drive(write_in_batches(send, [1, 2, 3], 2, what="create in 'x'", operation="create"))
    assert raised.value.not_written == [1, 2, 3] and raised.value.uncertain == []
    assert "was never sent" in str(raised.value) and "0 of 3 written" in str(raised.value)
