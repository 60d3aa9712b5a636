"""dsl/run/programwide.py: the figures of spec §15 — worked examples with exact cents, errors as
values, and properties (hypothesis) checked against an independent `Fraction` reference."""

from __future__ import annotations

import decimal
import random
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from dsl.run.programwide import (
    BudgetResult, Percentile, PoolResult, ProgramWideError, Ranked, allocate_pool, percentile, rank,
    scale_to_budget,
)

MODES = [decimal.ROUND_HALF_EVEN, decimal.ROUND_HALF_UP, decimal.ROUND_DOWN, decimal.ROUND_UP]


def after(result: PoolResult) -> dict[str, D]:
    return {rid: s.after_cap for rid, s in result.shares.items()}


def before(result: PoolResult) -> dict[str, D]:
    return {rid: s.before_cap for rid, s in result.shares.items()}


# ------------------------------------------------------------------ pools: worked examples


def test_pool_one_to_one_to_one_gives_the_extra_cent_to_the_smallest_id():
    got = allocate_pool(D("100.00"), [("c", D(1)), ("a", D(1)), ("b", D(1))], 2)
    assert after(got) == {"a": D("33.34"), "b": D("33.33"), "c": D("33.33")}
    assert [got.shares[k].extra_cent for k in "abc"] == [True, False, False]
    assert got.sum_of_shares == D(3) and got.count == 3
    assert got.allocated == D("100.00") and got.unallocated == 0
    assert got.exact("a") == D("33.33333333333333333333333333333333")
    assert allocate_pool(D("7"), [("z", D(0))], 2).exact("z") == 0


def test_pool_in_yen_has_no_minor_unit():
    got = allocate_pool(D("1000"), [("x", D(1)), ("y", D(2))], 0)
    assert after(got) == {"x": D(333), "y": D(667)}
    assert str(got.shares["x"].after_cap) == "333"
    got = allocate_pool(D("10"), [("p", D(1)), ("q", D(1)), ("r", D(1))], 0)
    assert after(got) == {"p": D(4), "q": D(3), "r": D(3)}


def test_pool_remaining_cents_go_to_the_largest_fractional_parts_not_the_largest_shares():
    # 10.00 by 1:2:4 → 1.428571.., 2.857142.., 5.714285..: floors 1.42 + 2.85 + 5.71 = 9.98;
    # the fractions .857, .714, .285 (of a cent): the 2 missing cents go to x (1) and y (2)
    got = allocate_pool(D("10.00"), [("z", D(4)), ("y", D(2)), ("x", D(1))], 2)
    assert after(got) == {"x": D("1.43"), "y": D("2.86"), "z": D("5.71")}


def test_pool_fewer_cents_than_members():
    # 0.05 among 7 equal shares: every exact share is 0.714 cent; the 5 cents go to the 5 smallest ids
    got = allocate_pool(D("0.05"), [(k, D(1)) for k in "gfedcba"], 2)
    assert after(got) == {**{k: D("0.01") for k in "abcde"}, "f": D("0.00"), "g": D("0.00")}
    assert got.allocated == D("0.05")


def test_pool_with_the_spec_example_cap():
    # §15: pool 1_000 USD by revenue among eligible cap 400 USD — 3000:1000:1000 → 600, 200, 200
    got = allocate_pool(D("1000"), [("A", D(3000)), ("B", D(1000)), ("C", D(1000))], 2,
                        caps={"A": [D(400)], "B": [D(400)], "C": [D(400)]})
    assert before(got) == {"A": D("600.00"), "B": D("200.00"), "C": D("200.00")}
    assert after(got) == {"A": D("400.00"), "B": D("200.00"), "C": D("200.00")}
    assert got.shares["A"].cap == D("400.00") and got.shares["B"].cap is None
    assert got.allocated == D("800.00") and got.cut_by_caps == D("200.00") and got.unallocated == D("200.00")


def test_pool_several_caps_the_smallest_binds_and_a_cap_is_rounded_down():
    got = allocate_pool(D("100.00"), [("a", D(1))], 2, caps={"a": [D(80), D("30.009"), D(50)]})
    assert got.shares["a"].after_cap == D("30.00") and got.shares["a"].cap == D("30.00")
    assert got.unallocated == D("70.00")
    # a cap one cent below the share binds
    got = allocate_pool(D("100.00"), [("a", D(1))], 2, caps={"a": [D("99.99")]})
    assert got.shares["a"].after_cap == D("99.99") and got.unallocated == D("0.01")
    # a cap above the share does not bind
    got = allocate_pool(D("100.00"), [("a", D(1))], 2, caps={"a": [D(200)]})
    assert got.shares["a"].after_cap == D("100.00") and got.shares["a"].cap is None


def test_pool_a_zero_sum_gives_everybody_zero_and_leaves_the_amount_unallocated():
    got = allocate_pool(D("500.00"), [("a", D(0)), ("b", D(0))], 2)
    assert after(got) == {"a": D("0.00"), "b": D("0.00")}
    assert got.allocated == 0 and got.unallocated == D("500.00")
    empty = allocate_pool(D("500.00"), [], 2)
    assert empty.count == 0 and empty.shares == {} and empty.unallocated == D("500.00")
    assert empty.get("nobody") == D("0.00")


def test_pool_a_zero_share_among_others_gets_zero():
    got = allocate_pool(D("9.99"), [("a", D(0)), ("b", D("0.5")), ("c", D("1.5"))], 2)
    assert after(got) == {"a": D("0.00"), "b": D("2.50"), "c": D("7.49")}  # 2.4975, 7.4925
    assert got.sum_of_shares == D("2.0")


def test_pool_digits_of_the_amount_below_the_minor_unit_are_unallocated():
    got = allocate_pool(D("100.005"), [("a", D(1)), ("b", D(1))], 2)
    assert after(got) == {"a": D("50.00"), "b": D("50.00")}
    assert got.unallocated == D("0.005")
    assert got.allocated + got.unallocated == D("100.005")


def test_pool_shares_of_very_different_scales_are_exact():
    # 34-digit arithmetic would make the tiny share's exact part 0 cents and lose track of it
    got = allocate_pool(D("1.00"), [("big", D("1E+40")), ("tiny", D("1E-40"))], 2)
    assert after(got) == {"big": D("1.00"), "tiny": D("0.00")}
    got = allocate_pool(D("0.03"), [("a", D("0.3333333333333333333333333333333333")), ("b", D("0.3333333333333333333333333333333334")),
                                    ("c", D("0.3333333333333333333333333333333333"))], 2)
    assert after(got) == {"a": D("0.01"), "b": D("0.01"), "c": D("0.01")}


def test_pool_negative_share_amount_or_cap_is_an_error_value():
    err = allocate_pool(D("10"), [("b", D(-1)), ("a", D(2)), ("c", D("-0.5"))], 2)
    assert err == ProgramWideError("negative_share", "a pool share must be a number at least 0: b has -1, c has -0.5",
                                   ("b", "c"))
    err = allocate_pool(D("-10"), [("a", D(1))], 2)
    assert isinstance(err, ProgramWideError) and err.kind == "negative_amount" and err.ids == ()
    err = allocate_pool(D("10"), [("a", D(1))], 2, caps={"a": [D(5), D(-1)]})
    assert isinstance(err, ProgramWideError) and err.kind == "negative_cap" and err.ids == ("a",)


def test_an_id_given_twice_is_a_bug_of_the_caller():
    with pytest.raises(AssertionError, match="given twice"):
        allocate_pool(D("10"), [("a", D(1)), ("a", D(2))], 2)
    with pytest.raises(AssertionError, match="given twice"):
        rank([("a", D(1)), ("a", D(2))])


# ------------------------------------------------------------------ rank and percentile


def test_rank_competition_ranking_with_the_figures_of_the_period():
    got = rank([("d", D(1)), ("b", D(3)), ("a", D(5)), ("c", D(3))])
    assert got == {"a": Ranked(D(1), D(5), 4, None), "b": Ranked(D(2), D(3), 4, D(5)),
                   "c": Ranked(D(2), D(3), 4, D(5)), "d": Ranked(D(4), D(1), 4, D(3))}
    assert rank([]) == {}
    assert rank([("x", D("-2.5"))]) == {"x": Ranked(D(1), D("-2.5"), 1, None)}


def test_percentile_is_the_share_with_a_smaller_value():
    got = percentile([("a", D(10)), ("b", D(20)), ("c", D(20)), ("d", D(40))])
    assert {k: v.percentile for k, v in got.items()} == {"a": D(0), "b": D("0.25"), "c": D("0.25"), "d": D("0.75")}
    assert got["d"] == Percentile(D("0.75"), D(40), 3, 4)
    assert percentile([("only", D(7))])["only"].percentile == 0
    third = percentile([("a", D(1)), ("b", D(2)), ("c", D(3))])
    assert third["b"].percentile == D("0.3333333333333333333333333333333333")  # §9: 34 digits


def test_percentile_does_not_depend_on_the_callers_decimal_context():
    with decimal.localcontext(decimal.Context(prec=3)):
        got = percentile([("a", D(1)), ("b", D(2)), ("c", D(3))])
    assert got["c"].percentile == D("0.6666666666666666666666666666666667")


# ------------------------------------------------------------------ budget: worked examples


def test_budget_scales_pro_rata_to_exactly_the_budget():
    got = scale_to_budget([("a", D("300.00")), ("b", D("200.00")), ("c", D("100.00"))], D("500.00"), 2)
    assert isinstance(got, BudgetResult) and got.binds
    # factor 5/6: 250, 166.666.., 83.333.. (half even) → 250.00 + 166.67 + 83.33 = 500.00
    assert got.scaled == {"a": D("250.00"), "b": D("166.67"), "c": D("83.33")}
    assert got.lines == {"a": D("-50.00"), "b": D("-33.33"), "c": D("-16.67")}
    assert got.factor == D("0.8333333333333333333333333333333333")
    assert got.earned_sum == D("600.00") and got.scaled_sum == D("500.00")


def test_budget_short_cent_goes_to_the_smallest_id():
    # 100 / 3 = 33.333.. each, rounded 33.33 → 99.99: the missing cent to a
    got = scale_to_budget([("c", D(100)), ("a", D(100)), ("b", D(100))], D(100), 2)
    assert got.scaled == {"a": D("33.34"), "b": D("33.33"), "c": D("33.33")}
    assert got.lines == {"a": D("-66.66"), "b": D("-66.67"), "c": D("-66.67")}


def test_budget_excess_cent_is_taken_from_the_largest_id():
    # rounding up: 66.666.. → 66.67 each = 200.01: the cent in excess comes from c
    got = scale_to_budget([("a", D(100)), ("b", D(100)), ("c", D(100))], D(200), 2, decimal.ROUND_UP)
    assert got.scaled == {"a": D("66.67"), "b": D("66.67"), "c": D("66.66")}
    # the same as rounding down and handing out the remaining cents (the pool rule)
    assert scale_to_budget([("a", D(100)), ("b", D(100)), ("c", D(100))], D(200), 2, decimal.ROUND_DOWN) == got


def test_budget_rounds_with_the_policys_mode_before_settling_the_cents():
    # factor 1/2: 0.025 and 0.015 are exact half cents; half even rounds both to 0.02 (sum 0.04 = B)
    totals = [("a", D("0.05")), ("b", D("0.03"))]
    got = scale_to_budget(totals, D("0.04"), 2, decimal.ROUND_HALF_EVEN)
    assert got.scaled == {"a": D("0.02"), "b": D("0.02")} and got.lines == {"a": D("-0.03"), "b": D("-0.01")}
    # half up: 0.03 + 0.02 = 0.05, the excess cent taken from the larger id among the equal remainders
    got = scale_to_budget(totals, D("0.04"), 2, decimal.ROUND_HALF_UP)
    assert got.scaled == {"a": D("0.03"), "b": D("0.01")}


def test_budget_that_holds_changes_nothing():
    totals = [("a", D("600.00")), ("b", D("400.00"))]
    for budget in (D("1000.00"), D("5000")):
        got = scale_to_budget(totals, budget, 2)
        assert not got.binds and got.factor is None
        assert got.scaled == dict(totals) and got.lines == {"a": D("0.00"), "b": D("0.00")}
    assert scale_to_budget([], D(0), 2).lines == {}


def test_budget_zero_scales_everything_to_zero():
    got = scale_to_budget([("a", D("10.00")), ("b", D("0.00"))], D(0), 2)
    assert got.scaled == {"a": D("0.00"), "b": D("0.00")} and got.lines == {"a": D("-10.00"), "b": D("0.00")}


def test_budget_in_yen():
    got = scale_to_budget([("a", D(1000)), ("b", D(2000))], D(1000), 0)
    assert got.scaled == {"a": D(333), "b": D(667)} and got.lines == {"a": D(-667), "b": D(-1333)}


def test_budget_leaves_negative_totals_alone():
    # a negative earned total is not scaled (its line would be positive); the positive ones
    # share B - (the negative ones), so that all the scaled totals still add up to B
    got = scale_to_budget([("a", D(300)), ("b", D(100)), ("n", D(-20))], D(200), 2)
    assert got.scaled == {"a": D("165.00"), "b": D("55.00"), "n": D("-20.00")}
    assert got.lines == {"a": D("-135.00"), "b": D("-45.00"), "n": D("0.00")}
    assert got.scaled_sum == D(200)
    # the budget binds on the sum of all the totals: 300 - 120 = 180 <= 200
    assert not scale_to_budget([("a", D(300)), ("n", D(-120))], D(200), 2).binds


def test_budget_digits_below_the_minor_unit_are_not_paid():
    got = scale_to_budget([("a", D("100.01"))], D("100.005"), 2)
    assert got.binds and got.scaled == {"a": D("100.00")}


def test_budget_negative_is_an_error_value_and_a_total_with_fractions_of_a_cent_a_bug():
    err = scale_to_budget([("a", D(1))], D(-5), 2)
    assert err == ProgramWideError("negative_budget", "a budget must not be negative: -5")
    with pytest.raises(AssertionError, match="whole number of minor units"):
        scale_to_budget([("a", D("1.001"))], D(0), 2)


# ------------------------------------------------------------------ properties

IDS = st.text("abcdefghij", min_size=1, max_size=3)
SHARE = st.one_of(st.integers(0, 10**6).map(D), st.decimals(0, 10**4, places=3), st.sampled_from([D(0), D(1), D(7)]))
CENTS = st.integers(0, 10**8)


def reference_pool(units: int, shares: list[tuple[str, D]]) -> dict[str, int]:
    """Largest remainder with exact fractions: an independent statement of §15."""
    total = sum(Fraction(s) for _, s in shares)
    if total == 0:
        return {rid: 0 for rid, _ in shares}
    quota = {rid: units * Fraction(s) / total for rid, s in shares}
    out = {rid: q.numerator // q.denominator for rid, q in quota.items()}
    missing = units - sum(out.values())
    for rid in sorted(quota, key=lambda r: (-(quota[r] - out[r]), r))[:missing]:
        out[rid] += 1
    return out


def shuffled(pairs, seed):
    pairs = list(pairs)
    random.Random(seed).shuffle(pairs)
    return pairs


@settings(max_examples=200, deadline=None)
@given(CENTS, st.sampled_from([0, 2, 3]), st.dictionaries(IDS, SHARE, max_size=25),
       st.dictionaries(IDS, st.lists(st.integers(0, 10**7), max_size=3)), st.integers())
def test_pool_properties(units, minor, shares, cap_cents, seed):
    q = D(1).scaleb(-minor)
    amount = D(units) * q
    pairs = list(shares.items())
    caps = {rid: [D(c) * q for c in cs] for rid, cs in cap_cents.items()}
    got = allocate_pool(amount, pairs, minor, caps)
    assert isinstance(got, PoolResult)
    # shares + unallocated == amount, exactly
    assert got.allocated + got.unallocated == amount
    assert sum(after(got).values(), D(0)) == got.allocated
    positive = sum(shares.values(), D(0)) > 0
    assert sum(before(got).values(), D(0)) == (amount if positive else 0)
    # the independent reference, before caps
    assert {rid: int(v / q) for rid, v in before(got).items()} == reference_pool(units, pairs)
    for rid, s in got.shares.items():
        assert 0 <= s.after_cap <= s.before_cap
        assert all(s.after_cap <= c for c in caps.get(rid, ()))
        assert s.after_cap == s.after_cap.quantize(q) and s.before_cap == s.before_cap.quantize(q)
        if s.cap is None:
            assert s.after_cap == s.before_cap
    # monotone before caps: a larger share never gets fewer cents
    for a, sa in shares.items():
        for b, sb in shares.items():
            if sa > sb:
                assert got.shares[a].before_cap >= got.shares[b].before_cap
    # independent of the input order
    assert allocate_pool(amount, shuffled(pairs, seed), minor, caps) == got


@settings(max_examples=100, deadline=None)
@given(CENTS, st.dictionaries(IDS, st.integers(0, 10**5).map(D), min_size=1, max_size=15), st.integers(1, 10**6))
def test_pool_does_not_change_when_every_share_is_multiplied(units, shares, k):
    amount = D(units) / 100
    got = allocate_pool(amount, list(shares.items()), 2)
    scaled = allocate_pool(amount, [(rid, s * k) for rid, s in shares.items()], 2)
    assert after(scaled) == after(got)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(IDS, st.one_of(st.integers(0, 10**7), st.integers(-10**4, 10**7)), max_size=25),
       CENTS, st.sampled_from([0, 2]), st.sampled_from(MODES), st.integers())
def test_budget_properties(cents, budget_units, minor, mode, seed):
    q = D(1).scaleb(-minor)
    totals = [(rid, D(c) * q) for rid, c in cents.items()]
    budget = D(budget_units) * q
    got = scale_to_budget(totals, budget, minor, mode)
    assert isinstance(got, BudgetResult)
    earned = dict(totals)
    assert got.binds == (sum(earned.values(), D(0)) > budget)
    if got.binds:
        assert got.scaled_sum == budget  # exactly the budget
    else:
        assert got.scaled == earned and all(v == 0 for v in got.lines.values())
    for rid, t in earned.items():
        line = got.lines[rid]
        assert line <= 0 and got.scaled[rid] == t + line and line == line.quantize(q)
        if t >= 0:
            assert got.scaled[rid] >= 0
        else:
            assert line == 0
    if got.binds:
        positive = sum(c for c in cents.values() if c > 0)
        target = budget_units - sum(c for c in cents.values() if c < 0)
        for rid, c in cents.items():
            if c > 0:  # within one minor unit of the exact pro-rata value
                exact = Fraction(c * target, positive)
                assert abs(Fraction(got.scaled[rid] / q) - exact) < 1
        if mode != decimal.ROUND_HALF_EVEN:  # these modes settle to the pool rule exactly
            ref = reference_pool(target, [(rid, D(c)) for rid, c in cents.items() if c > 0])
            assert {rid: int(got.scaled[rid] / q) for rid in ref} == ref
        # monotone: a larger earned total is never scaled below a smaller one
        for a, ta in cents.items():
            for b, tb in cents.items():
                if ta > tb >= 0:
                    assert got.scaled[a] >= got.scaled[b]
    assert scale_to_budget(shuffled(totals, seed), budget, minor, mode) == got


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(IDS, st.one_of(st.integers(-5, 5).map(D), st.decimals(-100, 100, places=2)), max_size=25),
       st.integers())
def test_rank_and_percentile_properties(values, seed):
    pairs = list(values.items())
    r, p = rank(pairs), percentile(pairs)
    n = len(values)
    for rid, v in values.items():
        larger = [x for x in values.values() if x > v]
        assert r[rid].rank == 1 + len(larger)
        assert r[rid].above == (min(larger) if larger else None)
        assert r[rid].count == n and r[rid].value == v
        smaller = sum(1 for x in values.values() if x < v)
        assert p[rid].smaller == smaller and p[rid].count == n
        assert p[rid].percentile == decimal.Context(prec=34).divide(D(smaller), D(n))  # §9
        assert abs(Fraction(p[rid].percentile) - Fraction(smaller, n)) < Fraction(1, 10**33)
        assert 0 <= p[rid].percentile < 1
    assert rank(shuffled(pairs, seed)) == r and percentile(shuffled(pairs, seed)) == p


# ------------------------------------------------------------------ old vs new (the speed-up of scale_to_budget)
#
# A verbatim copy of `scale_to_budget` (and its helpers) as it was before the integer fast
# paths, kept as the reference that the faster implementation must reproduce exactly: the same
# values with the same exponents (compared with `repr`, so 1.0 and 1.00 differ), the same dict
# order, the same error values and the same caller-bug messages.

_OLD_CONTEXT = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999)
_OLD_BIG = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


def _old_check_ids(pairs):
    if len(set(p[0] for p in pairs)) != len(pairs):
        raise AssertionError("program-wide figures: an id is given twice (keys are unique within a period)")


def _old_check_finite(pairs):
    if not all(v.is_finite() for _, v in pairs):
        bad = next((rid, v) for rid, v in pairs if not v.is_finite())
        raise AssertionError(f"program-wide figures: {bad[0]} has a non-finite value {bad[1]}")


def _old_floor_units(value, minor_units):
    n, d = value.as_integer_ratio()
    return (n * 10**minor_units) // d


def _old_whole_units(rid, value, minor_units):
    n, d = value.as_integer_ratio()
    units, rest = divmod(n * 10**minor_units, d)
    if rest:
        raise AssertionError(f"earned total of {rid} is not a whole number of minor units: {value}")
    return units


def _old_units_to_decimal(units, minor_units):
    return D(units).scaleb(-minor_units, context=_OLD_BIG)


def _old_decimal_maker(minor_units):
    q = D(1).scaleb(-minor_units)

    def make(units):
        return _OLD_BIG.multiply(D(units), q)
    return make


def _old_exact_sum(values):
    total = D(0)
    for v in values:
        total = _OLD_BIG.add(total, v)
    return total


def _old_round_fraction(num, den, rounding):
    q, r = divmod(num, den)
    if r == 0:
        return q
    match rounding:
        case decimal.ROUND_DOWN | decimal.ROUND_FLOOR:
            return q
        case decimal.ROUND_UP | decimal.ROUND_CEILING:
            return q + 1
        case decimal.ROUND_HALF_UP:
            return q + (1 if 2 * r >= den else 0)
        case decimal.ROUND_HALF_DOWN:
            return q + (1 if 2 * r > den else 0)
        case decimal.ROUND_HALF_EVEN:
            return q + (1 if 2 * r > den or (2 * r == den and q % 2 == 1) else 0)
        case decimal.ROUND_05UP:
            return q + (1 if q % 10 in (0, 5) else 0)
        case _:
            raise AssertionError(f"unknown rounding mode {rounding!r}")


def old_scale_to_budget(totals, budget, minor_units, rounding=decimal.ROUND_HALF_EVEN):
    _old_check_ids(totals)
    _old_check_finite(totals)
    if not budget.is_finite() or budget < 0:
        shown = format(budget, "f") if budget.is_finite() else str(budget)
        return ProgramWideError("negative_budget", f"a budget must not be negative: {shown}")
    units = [_old_whole_units(rid, t, minor_units) for rid, t in totals]
    earned_sum = _old_exact_sum(t for _, t in totals)
    zero = _old_units_to_decimal(0, minor_units)
    if earned_sum <= budget:
        return BudgetResult(budget, minor_units, earned_sum, False, None,
                            {rid: t for rid, t in totals}, {rid: zero for rid, _ in totals})
    target = _old_floor_units(budget, minor_units) - sum(u for u in units if u < 0)
    positive = sum(u for u in units if u > 0)
    n = len(totals)
    scaled = list(units)
    rems = {}
    for i, u in enumerate(units):
        if u > 0:
            scaled[i] = _old_round_fraction(u * target, positive, rounding)
            rems[i] = u * target - scaled[i] * positive
    diff = target - sum(scaled[i] for i in rems)
    if diff > 0:
        for i in sorted(rems, key=lambda i: (-rems[i], totals[i][0]))[:diff]:
            scaled[i] += 1
    elif diff < 0:
        for i in sorted(rems, key=lambda i: (-rems[i], totals[i][0]), reverse=True)[:-diff]:
            scaled[i] -= 1
    factor = _OLD_CONTEXT.divide(D(target), D(positive))
    to_dec = _old_decimal_maker(minor_units)
    out = {totals[i][0]: to_dec(scaled[i]) for i in range(n)}
    return BudgetResult(budget, minor_units, earned_sum, True, factor, out,
                        {rid: to_dec(scaled[i] - units[i]) for i, (rid, _) in enumerate(totals)})


ALL_MODES = [decimal.ROUND_HALF_EVEN, decimal.ROUND_HALF_UP, decimal.ROUND_HALF_DOWN, decimal.ROUND_DOWN,
             decimal.ROUND_UP, decimal.ROUND_FLOOR, decimal.ROUND_CEILING, decimal.ROUND_05UP]


def outcome(f, *args):
    """What a call gives, for an exact comparison: the repr of the result (values with their
    exponents, dicts in order), or the type and message of what it raised."""
    try:
        return "ok", repr(f(*args))
    except AssertionError as e:
        return "raised", str(e)


@st.composite
def budget_case(draw):
    minor = draw(st.sampled_from([0, 2, 3]))  # JPY, USD, 3-digit currencies (KWD, BHD)
    ids = draw(st.lists(st.text("abcAB_é9", min_size=1, max_size=3), unique=True, max_size=30))
    small = draw(st.booleans())  # small values: many ties and equal remainders
    units = st.integers(-20, 20) if small else st.one_of(st.integers(0, 10**9), st.integers(-10**5, 10**9))
    totals = []
    for rid in ids:
        u = draw(units)
        # most totals carry exactly `minor` places (the fast path); some another exponent, a
        # few are not whole minor units (a caller's bug: the same message either way)
        shape = draw(st.sampled_from(["exact"] * 6 + ["more", "fewer", "frac"]))
        match shape:
            case "exact":
                v = D(u).scaleb(-minor)
            case "more":
                v = D(u * 10).scaleb(-minor - 1)
            case "fewer":
                v = D(u * 100).scaleb(-minor) if draw(st.booleans()) else D(u).scaleb(-minor).normalize()
            case "frac":
                v = D(u * 10 + draw(st.integers(1, 9))).scaleb(-minor - 1)
            case _:
                raise AssertionError(shape)
        totals.append((rid, v))
    positive = sum(int(t.scaleb(minor)) for _, t in totals if t > 0)
    budget = draw(st.one_of(
        st.integers(0, max(positive, 1) * 2).map(lambda b: D(b).scaleb(-minor)),  # binding or not
        st.integers(0, 10**6).map(lambda b: D(b).scaleb(-minor - 2)),  # digits below the minor unit
        st.sampled_from([D(0), D("0.00"), D(-1), D("-0.01"), D(10**12)])))
    return totals, budget, minor, draw(st.sampled_from(ALL_MODES))


@settings(max_examples=600, deadline=None)
@given(budget_case())
def test_budget_is_identical_to_the_old_implementation(case):
    totals, budget, minor, mode = case
    assert outcome(scale_to_budget, totals, budget, minor, mode) == outcome(old_scale_to_budget, totals, budget,
                                                                            minor, mode)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=40), st.integers(0, 200), st.sampled_from([0, 2, 3]),
       st.sampled_from(ALL_MODES))
def test_budget_with_many_ties_is_identical_to_the_old_implementation(units, budget, minor, mode):
    # equal totals everywhere: every cent is settled by id (the tie-break), in both directions
    totals = [(f"r{i:02d}", D(u).scaleb(-minor)) for i, u in enumerate(units)]
    b = D(budget).scaleb(-minor)
    assert outcome(scale_to_budget, totals, b, minor, mode) == outcome(old_scale_to_budget, totals, b, minor, mode)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=40), st.integers(0, 200), st.sampled_from([0, 2]),
       st.randoms(use_true_random=False))
def test_budget_of_positive_totals_with_exact_halves_is_identical_to_the_old_implementation(units, budget, minor,
                                                                                             rnd):
    # every total positive (the one-pass rounding), small even sums (exact halves), ids not in
    # the order of the totals (the tie-break by id, not by position)
    ids = [f"r{i:02d}" for i in range(len(units))]
    rnd.shuffle(ids)
    totals = [(rid, D(u).scaleb(-minor)) for rid, u in zip(ids, units)]
    b = D(budget).scaleb(-minor)
    assert outcome(scale_to_budget, totals, b, minor, decimal.ROUND_HALF_EVEN) == \
        outcome(old_scale_to_budget, totals, b, minor, decimal.ROUND_HALF_EVEN)


def test_budget_old_and_new_agree_on_a_period_sized_input():
    rng = random.Random(12)
    for minor in (0, 2, 3):
        totals = [(f"P{i:05d}", D(rng.randint(-50, 10**6)).scaleb(-minor)) for i in range(5000)]
        total = sum(t for _, t in totals)
        for budget in (total * D("0.7"), total, total - D(1).scaleb(-minor), D(0)):
            for mode in ALL_MODES:
                new, old = scale_to_budget(totals, budget, minor, mode), old_scale_to_budget(totals, budget, minor, mode)
                assert repr(new) == repr(old)
    # and the exponents really are kept: a total of 5 (no places) in a 2-digit currency
    got = scale_to_budget([("a", D(5)), ("b", D("1.000"))], D(10), 2)
    assert str(got.scaled["a"]) == "5" and str(got.scaled["b"]) == "1.000" and str(got.lines["a"]) == "0.00"
    assert str(got.earned_sum) == "6.000"


def _old_common_integers(values):
    import math
    ratios = [v.as_integer_ratio() for v in values]
    den = math.lcm(*(d for _, d in ratios)) if ratios else 1
    return [n * (den // d) for n, d in ratios], den


def old_allocate_pool(amount, shares, minor_units, caps=None):
    """`allocate_pool` as it was before the speed-up (verbatim, with the old helpers)."""
    from dsl.run.programwide import PoolShare

    def show(value):
        return format(value, "f") if value.is_finite() else str(value)
    _old_check_ids(shares)
    bad = tuple(sorted(rid for rid, v in shares if not v.is_finite() or v < 0))
    if bad:
        return ProgramWideError("negative_share", "a pool share must be a number at least 0: "
                                + ", ".join(f"{rid} has {show(dict(shares)[rid])}" for rid in bad), bad)
    if not amount.is_finite() or amount < 0:
        return ProgramWideError("negative_amount", f"a pool amount must not be negative: {show(amount)}")
    caps = caps or {}
    for rid, cs in caps.items():
        if any(not c.is_finite() or c < 0 for c in cs):
            return ProgramWideError("negative_cap", f"a cap of a pool share must not be negative ({rid})", (rid,))
    a_units = _old_floor_units(amount, minor_units)
    ints, _ = _old_common_integers([v for _, v in shares])
    total = sum(ints)
    n = len(shares)
    if total > 0:
        units = [0] * n
        rems = [0] * n
        for i, s in enumerate(ints):
            units[i], rems[i] = divmod(a_units * s, total)
        missing = a_units - sum(units)
        extra = sorted((i for i in range(n) if rems[i]), key=lambda i: (-rems[i], shares[i][0]))[:missing]
        for i in extra:
            units[i] += 1
        extra = set(extra)
    else:
        units = [0] * n
        extra = set()
    out = {}
    allocated = cut = 0
    to_dec = _old_decimal_maker(minor_units)
    for i, (rid, s) in enumerate(shares):
        before = units[i]
        after, bound = before, None
        for c in caps.get(rid, ()):
            c = _old_floor_units(c, minor_units)
            if c < after:
                after, bound = c, c
        allocated += after
        cut += before - after
        dec = to_dec(before)
        out[rid] = PoolShare(rid, s, dec, dec if bound is None else to_dec(after),
                             None if bound is None else to_dec(bound), i in extra)
    sum_of_shares = _old_exact_sum(v for _, v in shares)
    allocated_d = _old_units_to_decimal(allocated, minor_units)
    return PoolResult(amount=amount, minor_units=minor_units, shares=out, sum_of_shares=sum_of_shares, count=n,
                      allocated=allocated_d, cut_by_caps=_old_units_to_decimal(cut, minor_units),
                      unallocated=_OLD_BIG.subtract(amount, allocated_d))


POOL_SHARE = st.one_of(st.integers(0, 10**6).map(D), st.decimals(0, 10**4, places=3), st.integers(0, 3).map(D),
                       st.sampled_from([D(0), D("0.00"), D("-0"), D("1E+3"), D("1E-5"), D(-1), D("-0.5"),
                                        D("NaN"), D("Infinity")]))


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 10**8), st.sampled_from([0, 2, 3]), st.dictionaries(st.text("abAB_é9", min_size=1, max_size=3),
                                                                          POOL_SHARE, max_size=25),
       st.one_of(st.none(), st.dictionaries(st.text("abAB_é9", min_size=1, max_size=3),
                                            st.lists(st.integers(-2, 10**7), max_size=3))),
       st.sampled_from(["exact", "more", "negative", "nan"]))
def test_pool_is_identical_to_the_old_implementation(units, minor, shares, cap_units, amount_shape):
    amount = {"exact": D(units).scaleb(-minor), "more": D(units).scaleb(-minor - 2), "negative": D(-units - 1),
              "nan": D("NaN")}[amount_shape]
    caps = None if cap_units is None else {rid: [D(c).scaleb(-minor - 1) for c in cs] for rid, cs in cap_units.items()}
    pairs = list(shares.items())
    assert outcome(allocate_pool, amount, pairs, minor, caps) == outcome(old_allocate_pool, amount, pairs, minor, caps)


def test_pool_old_and_new_agree_on_a_period_sized_input():
    rng = random.Random(5)
    shares = [(f"P{i:05d}", D(rng.randint(0, 40))) for i in range(5000)]  # many ties
    caps = {rid: [D(rng.randint(0, 3000))] for rid, _ in shares[::7]}
    for minor in (0, 2, 3):
        for amount in (D("100000"), D("12345.678"), D("0.05")):
            for c in (None, caps):
                assert repr(allocate_pool(amount, shares, minor, c)) == repr(old_allocate_pool(amount, shares, minor, c))


def test_budget_and_pool_do_not_depend_on_the_callers_decimal_context():
    totals = [(f"r{i}", D(10**12 + i * 7).scaleb(-2)) for i in range(50)]
    shares = [(rid, t) for rid, t in totals]
    with decimal.localcontext(decimal.Context(prec=3, rounding=decimal.ROUND_FLOOR, traps=[decimal.Inexact])):
        budget = scale_to_budget(totals, D("1234567.89"), 2)
        pool = allocate_pool(D("98765.43"), shares, 2)
    assert repr(budget) == repr(old_scale_to_budget(totals, D("1234567.89"), 2))
    assert repr(pool) == repr(old_allocate_pool(D("98765.43"), shares, 2))
    assert budget.scaled_sum == D("1234567.89") and pool.allocated == D("98765.43")
