"""dsl/checker/periods.py: period values per granularity (spec §14), ordering and arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from dsl.checker.periods import GRANULARITIES, Period, PeriodError, parse_period, period


@pytest.mark.parametrize("granularity, text, year, number", [
    ("quarter", "2026-Q1", 2026, 1), ("quarter", "2026-Q4", 2026, 4),
    ("month", "2026-03", 2026, 3), ("month", "2026-12", 2026, 12),
    ("half", "2026-H1", 2026, 1), ("half", "2026-H2", 2026, 2),
    ("year", "2026", 2026, 1), ("year", "0001", 1, 1),
])
def test_accepted_shapes(granularity, text, year, number):
    p = parse_period(text, granularity)
    assert isinstance(p, Period)
    assert (p.year, p.number, str(p)) == (year, number, text)


@pytest.mark.parametrize("granularity, text", [
    ("quarter", "2026-Q5"), ("quarter", "2026-Q0"), ("quarter", "2026Q1"), ("quarter", "2026-q1"),
    ("quarter", " 2026-Q1"), ("quarter", "2026-03"), ("quarter", "26-Q1"), ("quarter", ""),
    ("month", "2026-13"), ("month", "2026-00"), ("month", "2026-3"), ("month", "2026-Q1"),
    ("half", "2026-H3"), ("half", "2026"), ("year", "2026-Q1"), ("year", "0000"), ("year", "20266"),
    ("month", "２０２６-01"),  # full-width digits are not ASCII digits
])
def test_rejected_shapes(granularity, text):
    result = parse_period(text, granularity)
    assert isinstance(result, PeriodError)
    assert granularity in result.reason or "0000" in result.reason


def test_reason_names_the_other_granularity():
    result = parse_period("2026-03", "quarter")
    assert isinstance(result, PeriodError)
    assert result.reason == "'2026-03' is not a quarter: write it like \"2026-Q1\" (that is a month; the policy's period is quarter)"


def test_arithmetic_across_year_ends():
    q = period("2025-Q4", "quarter")
    assert str(q + 1) == "2026-Q1"
    assert str(q + 5) == "2027-Q1"
    assert str(q - 4) == "2024-Q4"
    assert period("2026-Q2", "quarter") - q == 2
    assert str(period("2026-12", "month") + 1) == "2027-01"
    assert str(period("2026-H2", "half") + 1) == "2027-H1"
    assert period("2026-03", "month") < period("2026-10", "month") < period("2027-01", "month")


def test_period_raises_value_error_for_bad_text():
    with pytest.raises(ValueError, match="not a quarter"):
        period("2026-13", "quarter")


@given(st.sampled_from(sorted(GRANULARITIES)), st.integers(1, 9999 * 12 - 1), st.integers(-50, 50))
def test_round_trip_and_shift(granularity, index, k):
    per_year = GRANULARITIES[granularity][0]
    index = max(per_year, index % (9999 * per_year))
    p = Period(index, granularity)
    assert parse_period(str(p), granularity) == p
    shifted = p + k
    assert shifted - p == k
    assert (shifted > p) == (k > 0)
