"""Range analysis (§6.3) is sound: every value an expression takes lies in its interval.

Interval operations are tested against points drawn inside their operands; whole policies
against values computed by hand at the corners of their input ranges.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dsl.checker.intervals import INF, NEG_INF, Interval, add, div, mul, neg, reciprocal, sub

from .test_check import HEAD, errors

finite = st.decimals(min_value=-1000, max_value=1000, allow_nan=False, allow_infinity=False, places=2)
bound = st.one_of(finite, st.just(None))


@st.composite
def interval_and_point(draw):
    a, b = draw(bound), draw(bound)
    lo = NEG_INF if a is None else a
    hi = INF if b is None else b
    if lo > hi:
        lo, hi = hi, lo
    if lo.is_finite() and hi.is_finite():
        x = draw(st.decimals(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False, places=2))
    elif lo.is_finite():
        x = lo + draw(st.decimals(min_value=0, max_value=10_000, allow_nan=False, allow_infinity=False, places=2))
    elif hi.is_finite():
        x = hi - draw(st.decimals(min_value=0, max_value=10_000, allow_nan=False, allow_infinity=False, places=2))
    else:
        x = draw(finite)
    return Interval(lo, hi), x


def inside(x: Decimal, iv: Interval) -> bool:
    return iv.lo <= x <= iv.hi


RUNTIME = 34  # §9: the evaluator computes with 34 significant digits


@settings(max_examples=400, deadline=None)
@given(interval_and_point(), interval_and_point())
def test_interval_arithmetic_contains_every_result(left, right):
    (a, x), (b, y) = left, right
    with localcontext(prec=RUNTIME):
        check_all(a, x, b, y)


def check_all(a, x, b, y):
    assert inside(x + y, add(a, b))
    assert inside(x - y, sub(a, b))
    assert inside(x * y, mul(a, b))
    assert inside(-x, neg(a))
    if y != 0:
        assert inside(x / y, div(a, b))


@settings(max_examples=200, deadline=None)
@given(interval_and_point())
def test_reciprocal(case):
    b, y = case
    assume(y != 0)
    with localcontext(prec=RUNTIME):
        assert inside(1 / y, reciprocal(b))


def test_division_by_a_non_negative_interval_stays_non_negative():
    assert div(Interval(Decimal(0), INF), Interval(Decimal(0), INF)) == Interval(Decimal(0), INF)
    assert div(Interval(Decimal(1), Decimal(2)), Interval(Decimal(-1), Decimal(1))) == Interval()


@pytest.mark.parametrize("key, lowest", [
    ("revenue * 2 - 10 USD", "-10 USD"),
    ("min(revenue, 5 USD) - 10 USD", "-10 USD"),
    ("clamp(revenue, 1 USD, 5 USD) - 3 USD", "-2 USD"),
    ("if revenue > 10 USD then 5 USD else -5 USD", "-5 USD"),
    ("abs(revenue - 100 USD) - 1 USD", "-1 USD"),
    ("revenue / 2 - 7 USD", "-7 USD"),
    ("round(revenue - 0.004 USD)", "-0.01 USD"),
])
def test_e401_names_the_lowest_reachable_value(key, lowest):
    found = errors(HEAD + f"tiers t on ({key}) {{ from 0 USD -> 1% }}\ncomponent c = revenue * t")
    assert [f for f in found if f.startswith("E401")] == [
        f"E401: ({key}) can be as low as {lowest} but the first band starts at 0 USD; add `below 0 USD -> ...`"]


def test_no_e401_when_the_key_cannot_go_below():
    assert errors(HEAD + "tiers t on max(revenue, 10 USD) { from 10 USD -> 1% }\n"
                  "component c = revenue * t") == []
