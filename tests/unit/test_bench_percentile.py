"""The benchmarks' percentile helper: numpy's default (linear) method, checked by hand."""

from __future__ import annotations

import random
import statistics

import pytest

from benchmarks.harness import percentile


def test_matches_the_linear_method_on_known_values() -> None:
    values = [15.0, 20.0, 35.0, 40.0, 50.0]
    assert percentile(values, 0) == 15.0
    assert percentile(values, 100) == 50.0
    assert percentile(values, 50) == 35.0
    assert percentile(values, 40) == pytest.approx(29.0)  # 1.6 ranks in: 20 + 0.6 * 15
    assert percentile(values, 99) == pytest.approx(49.6)  # 3.96 ranks in: 40 + 0.96 * 10


def test_p99_of_1000_lies_between_the_990th_and_991st_smallest() -> None:
    values = [float(n) for n in range(1, 1001)]
    random.Random(7).shuffle(values)
    assert percentile(values, 99) == pytest.approx(990.01)
    assert percentile(values, 50) == statistics.median(values)
    assert values != sorted(values), "the input is left in its order"


def test_one_value_is_every_percentile() -> None:
    assert percentile([0.004], 50) == percentile([0.004], 99) == 0.004


@pytest.mark.parametrize(("values", "q", "message"), [
    ([], 50, "no values"),
    ([1.0], 101, "within 0-100"),
    ([1.0], -1, "within 0-100"),
])
def test_refuses_what_has_no_percentile(values: list[float], q: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        percentile(values, q)
