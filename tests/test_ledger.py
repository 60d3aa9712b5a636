"""dsl/ledger.py: settlement of a period (spec §14.2–§14.5) as pure functions."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal as D

from hypothesis import given, settings, strategies as st

from dsl.ledger import EMPTY, ClawbackSpec, HoldSpec, PeriodFacts, owed, settle, still_held
from dsl.periods import period
from dsl.runtime import Money

USD = Money("USD", 2, ROUND_HALF_EVEN)


def q(text: str):
    return period(text, "quarter")


def run(facts_list):
    """Settle a partner's periods in order; return the settlements, events and the final ledger."""
    ledger = EMPTY
    out, events = [], []
    for facts in facts_list:
        s, ledger, ev = settle(ledger, facts, USD)
        out.append(s)
        events.extend(ev)
    return out, events, ledger


def lines(s):
    return [(ln.label(), str(ln.amount)) for ln in s.lines]


def test_spec_draw_example():
    """§14.5: draw 2,000; earnings 1,500 / 2,375 / 3,000 → payable 2,000 / 2,000 / 2,875."""
    floor = D("2000")
    periods = [("2026-Q1", D("1500")), ("2026-Q2", D("2375")), ("2026-Q3", D("3000"))]
    facts = []
    for p, earnings in periods:
        earned = max(earnings, floor)
        facts.append(PeriodFacts(q(p), True, earned, draw=earned - earnings, recovery_floor=floor))
    out, events, ledger = run(facts)
    assert [s.payable for s in out] == [D("2000"), D("2000"), D("2875")]
    assert lines(out[0]) == []
    assert lines(out[1]) == [("carried recovery", "-375")]
    assert lines(out[2]) == [("carried recovery", "-125")]
    assert [(e.kind, str(e.period), e.amount) for e in events] == [
        ("draw", "2026-Q1", D("500")), ("recovery", "2026-Q2", D("375")), ("recovery", "2026-Q3", D("125"))]
    assert owed(ledger) == 0


def test_draw_still_owed_at_the_end_is_reported():
    out, _, ledger = run([PeriodFacts(q("2026-Q1"), True, D("2000"), draw=D("800"), recovery_floor=D("2000"))])
    assert out[0].payable == D("2000")
    assert owed(ledger) == D("800")


def test_hold_then_release_when_condition_holds():
    hold = {"renewal_bonus": HoldSpec(D("0.25"), 2)}
    out, events, ledger = run([
        PeriodFacts(q("2026-Q1"), True, D("1000.00"), {"renewal_bonus": D("401.00")}, hold),
        PeriodFacts(q("2026-Q2"), True, D("500.00"), until={"renewal_bonus": False}),
        PeriodFacts(q("2026-Q3"), True, D("500.00"), until={"renewal_bonus": True}),
    ])
    assert lines(out[0]) == [("held renewal_bonus", "-100.25")]
    assert out[0].payable == D("899.75")
    assert lines(out[1]) == []
    assert lines(out[2]) == [("release renewal_bonus (from 2026-Q1)", "100.25")]
    assert out[2].payable == D("600.25")
    assert still_held(ledger) == 0
    assert [(e.kind, str(e.origin), str(e.period), e.amount) for e in events] == [
        ("hold", "2026-Q1", "2026-Q1", D("100.25")), ("release", "2026-Q1", "2026-Q3", D("100.25"))]


def test_hold_forfeited_in_first_period_after_deadline_with_a_gap():
    hold = {"renewal_bonus": HoldSpec(D("0.5"), 1)}
    out, events, ledger = run([
        PeriodFacts(q("2026-Q1"), True, D("1000"), {"renewal_bonus": D("1000")}, hold),
        PeriodFacts(q("2026-Q4"), True, D("300"), until={"renewal_bonus": True}),
    ])
    assert lines(out[1]) == [("forfeit renewal_bonus (from 2026-Q1)", "500.00")]
    assert out[1].payable == D("300")  # a forfeit has no cash effect
    forfeit = events[-1]
    assert (forfeit.kind, str(forfeit.period), forfeit.amount) == ("forfeit", "2026-Q3", D("500.00"))
    assert still_held(ledger) == 0


def test_clawback_recovers_paid_not_held_and_forfeits_held():
    hold = {"renewal_bonus": HoldSpec(D("0.25"), 2)}
    windows = {"renewal_bonus": 2}
    claw = (ClawbackSpec("renewal_bonus", 2, True, D("0.5")),)
    out, events, ledger = run([
        PeriodFacts(q("2026-Q1"), True, D("48000"), {"renewal_bonus": D("48000")}, hold, clawback_windows=windows),
        PeriodFacts(q("2026-Q2"), True, D("10000"), until={"renewal_bonus": False}, clawbacks=claw,
                    clawback_windows=windows),
    ])
    # paid for Q1: 48,000 - 12,000 held = 36,000; half of it recovered; the held 12,000 forfeited
    assert lines(out[1]) == [("clawback renewal_bonus (from 2026-Q1)", "-18000.00"),
                             ("forfeit renewal_bonus (from 2026-Q1)", "12000.00"),
                             ("carry forward", "8000.00")]
    assert out[1].payable == D("0")  # 10,000 - 18,000: the 8,000 left becomes the recovery balance
    assert owed(ledger) == D("8000.00")
    assert still_held(ledger) == 0


def test_clawback_beyond_earned_carries_forward_then_recovers():
    windows = {"bonus": 2}
    claw = (ClawbackSpec("bonus", 2, True),)
    out, events, ledger = run([
        PeriodFacts(q("2026-Q1"), True, D("5000"), {"bonus": D("5000")}, clawback_windows=windows),
        PeriodFacts(q("2026-Q2"), True, D("1000"), {"bonus": D("1000")}, clawbacks=claw, clawback_windows=windows),
        PeriodFacts(q("2026-Q3"), True, D("6000"), {"bonus": D("0")}, clawback_windows=windows),
    ])
    assert lines(out[1]) == [("clawback bonus (from 2026-Q1)", "-5000.00"), ("carry forward", "4000.00")]
    assert out[1].payable == 0
    assert lines(out[2]) == [("carried recovery", "-4000.00")]
    assert out[2].payable == D("2000.00")
    assert owed(ledger) == 0


def test_clawback_never_beyond_100_percent_and_oldest_origin_first():
    windows = {"bonus": 2}
    claw = (ClawbackSpec("bonus", 2, True, D("0.6")),)
    out, events, _ = run([
        PeriodFacts(q("2026-Q1"), True, D("100"), {"bonus": D("100")}, clawback_windows=windows),
        PeriodFacts(q("2026-Q2"), True, D("200"), {"bonus": D("200")}, clawbacks=claw, clawback_windows=windows),
        PeriodFacts(q("2026-Q3"), True, D("1000"), {"bonus": D("0")}, clawbacks=claw, clawback_windows=windows),
        PeriodFacts(q("2026-Q4"), True, D("1000"), {"bonus": D("0")}, clawbacks=claw, clawback_windows=windows),
    ])
    assert lines(out[1]) == [("clawback bonus (from 2026-Q1)", "-60.00")]
    # Q3: Q1 has 40 left (clamped), Q2 gets 60 %; oldest origin first
    assert lines(out[2]) == [("clawback bonus (from 2026-Q1)", "-40.00"), ("clawback bonus (from 2026-Q2)", "-120.00")]
    # Q4: Q1 is out of the window; Q2 has 80 left
    assert lines(out[3]) == [("clawback bonus (from 2026-Q2)", "-80.00")]


def test_ineligible_record_still_settles_and_carried_recovery_stops_at_zero():
    out, _, ledger = run([
        PeriodFacts(q("2026-Q1"), True, D("2000"), draw=D("2000"), recovery_floor=D("2000")),
        PeriodFacts(q("2026-Q2"), False, D("0"), recovery_floor=D("2000")),
        PeriodFacts(q("2026-Q3"), True, D("2500"), recovery_floor=D("2000")),
    ])
    assert out[1].payable == 0 and lines(out[1]) == []
    assert lines(out[2]) == [("carried recovery", "-500")]
    assert owed(ledger) == D("1500")


def test_budget_scaling_counts_in_the_payable_but_holds_use_own_values():
    hold = {"bonus": HoldSpec(D("0.1"), 1)}
    out, _, _ = run([PeriodFacts(q("2026-Q1"), True, D("1000"), {"bonus": D("1000")}, hold,
                                 budget_scaling=D("-200"))])
    assert lines(out[0]) == [("held bonus", "-100.00")]
    assert out[0].payable == D("700.00")


# ---- properties -------------------------------------------------------------------------

cents = st.integers(0, 500_000).map(lambda c: D(c) / 100)
portions = st.integers(-20, 120).map(lambda p: D(p) / 100)


@st.composite
def histories(draw):
    """A partner's records over some quarters (with gaps), random holds, clawbacks, draws."""
    n = draw(st.integers(1, 8))
    offsets = sorted(draw(st.sets(st.integers(0, 11), min_size=n, max_size=n)))
    within_h = draw(st.integers(1, 3))
    within_c = draw(st.integers(1, 3))
    floor = draw(st.sampled_from([D(0), D("1000")]))
    facts = []
    for off in offsets:
        eligible = draw(st.booleans())
        bonus = draw(cents) if eligible else D(0)
        other = draw(cents) if eligible else D(0)
        earned = bonus + other
        drawn = D(0)
        if eligible and floor and earned < floor:
            drawn = floor - earned
            earned = floor
        scaling = -draw(st.integers(0, 100)) * earned / 1000
        scaling = scaling.quantize(D("0.01"))
        facts.append(PeriodFacts(
            q("2025-Q1") + off, eligible, earned, {"bonus": bonus},
            {"bonus": HoldSpec(draw(portions), within_h)},
            {"bonus": draw(st.booleans())},
            (ClawbackSpec("bonus", within_c, draw(st.booleans()), draw(portions)),),
            budget_scaling=scaling, draw=drawn, recovery_floor=floor,
            clawback_windows={"bonus": within_c},
        ))
    return facts


@settings(max_examples=300, deadline=None)
@given(histories())
def test_settlement_properties(facts):
    ledger = EMPTY
    held_total = released = forfeited = D(0)
    paid_by_origin: dict = {}
    recovered_by_origin: dict = {}
    for f in facts:
        s, ledger, events = settle(ledger, f, USD)
        # lines add up exactly to the payable; the payable is never negative
        assert f.earned + f.budget_scaling + sum(ln.cash for ln in s.lines) == s.payable
        assert s.payable >= 0
        assert all(ln.amount != 0 for ln in s.lines)
        for e in events:
            match e.kind:
                case "hold":
                    held_total += e.amount
                    paid_by_origin[e.origin] = paid_by_origin.get(e.origin, D(0)) - e.amount
                case "release":
                    released += e.amount
                    paid_by_origin[e.origin] = paid_by_origin.get(e.origin, D(0)) + e.amount
                case "forfeit":
                    forfeited += e.amount
                case "clawback":
                    recovered_by_origin[e.origin] = recovered_by_origin.get(e.origin, D(0)) + e.amount
                    # never more than what was actually paid for that origin so far
                    paid = paid_by_origin.get(e.origin, D(0)) + next(
                        x.components["bonus"] for x in facts if x.period == e.origin)
                    assert recovered_by_origin[e.origin] <= paid
    # held = released + forfeited + still held (also after the end-of-run expiry)
    assert held_total == released + forfeited + still_held(ledger)
    assert owed(ledger) >= 0


@settings(max_examples=100, deadline=None)
@given(histories(), st.integers(1, 8))
def test_a_later_period_never_changes_an_earlier_statement(facts, cut):
    """Settling a prefix gives the same statements as the prefix of settling everything."""
    whole, _, _ = run(facts)
    prefix, _, _ = run(facts[:cut])
    assert prefix == whole[:cut]
