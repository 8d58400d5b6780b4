"""The bench's intervals: bootstrap over rounds, and what a ratio may claim."""
from __future__ import annotations

from hypothesis import given, strategies as st

from zsbed.bench import stats


def test_the_same_values_give_the_same_interval() -> None:
    v = [1.1, 0.9, 1.3, 1.0, 1.2]
    assert stats.median_interval(v) == stats.median_interval(v)


def test_constant_rounds_have_no_spread() -> None:
    iv = stats.median_interval([2.0] * 7)
    assert (iv.median, iv.lo, iv.hi, iv.n) == (2.0, 2.0, 2.0, 7)
    assert stats.speedup_word(iv) == "faster"


def test_an_interval_over_one_is_no_difference_whatever_the_median() -> None:
    iv = stats.median_interval([1.4, 0.8, 1.5, 0.9, 1.6])
    assert iv.median > 1 and iv.lo < 1
    assert stats.speedup_word(iv) == "no difference"


def test_clearly_slower_rounds_say_slower() -> None:
    assert stats.speedup_word(stats.median_interval([0.7, 0.75, 0.8, 0.78, 0.72])) == "slower"


@given(st.lists(st.floats(min_value=0.01, max_value=100), min_size=1, max_size=12))
def test_the_interval_lies_within_the_values_and_holds_the_median(v: list[float]) -> None:
    iv = stats.median_interval(v, resamples=200)
    assert min(v) <= iv.lo <= iv.hi <= max(v)
    assert iv.holds(iv.median) or iv.n <= 2
