"""The settlement of a period (language §15): the rules by name (tests/oracles/ledger.py) on the
worked examples, and dsl/run/ledger.py's settler against them on generated ledgers and policies."""

from __future__ import annotations

import decimal
import functools
from decimal import ROUND_HALF_EVEN, Decimal as D

from hypothesis import given, settings, strategies as st

from dsl.run.ledger import EMPTY, Terms, owed, settler, still_held

from .oracles.ledger import ClawbackSpec, HoldSpec, PeriodFacts, settle
from dsl.checker.periods import Period, period
from dsl.backends.python.runtime import CONTEXT, Money

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


# ---- the run's settler (dsl/run/ledger.py) against the rules by name (the oracle) ----------

# amounts with other exponents too (whole units, 0 and 0.00), and some negative ones
signed_cents = st.one_of(
    cents, st.integers(0, 5_000).map(D), st.sampled_from([D(0), D("0.00"), D("0.01")]),
    st.integers(-50_000, -1).map(lambda c: D(c) / 100))


@functools.cache
def _settler(holds, until, clawbacks, windows, with_events, draws):
    """One settler per policy shape."""
    terms = Terms(holds=holds, until=dict(until), clawbacks=clawbacks, windows={n: w for n, _, w in windows},
                  window_values=windows, draws=draws)
    return settler(terms, USD, with_events)


class Policy:
    """A policy's settlement shape, as the runner hands it to `ledger.settler`."""

    def __init__(self, names, hold_clauses, clawbacks, draws):
        self.names = names
        self.hold_clauses = hold_clauses  # (component, within) per `hold`, j = its position
        self.clawbacks = clawbacks  # (component, within) in declaration order
        self.draws = draws
        comp_index = {n: i for i, n in enumerate(names)}
        self.until = {n: j for j, (n, _) in enumerate(hold_clauses)}  # a component's last hold
        holds: dict = {}
        for n, w in hold_clauses:
            holds[n] = (n, comp_index[n], self.until[n], w)
        self.holds = tuple(holds.values())
        windows: dict[str, int] = {}
        for n, w in clawbacks:
            windows[n] = max(windows.get(n, 0), w)
        self.windows = windows
        self.settler_windows = tuple((n, comp_index[n], w) for n, w in windows.items())
        self.fact_comps = {n: comp_index[n] for n in sorted(set(self.until) | set(windows))}

    def settler(self, with_events):
        return _settler(self.holds, tuple(self.until.items()), self.clawbacks, self.settler_windows, with_events,
                        self.draws)

    def facts(self, t, eligible, earned, values, facts, scaling) -> PeriodFacts:
        """The reference's `PeriodFacts` for the arguments of the generated settler."""
        holds_p, until_v, claws, drawn, rfloor = facts
        return PeriodFacts(
            t, eligible, earned,
            {n: values[i] for n, i in self.fact_comps.items()},
            {n: HoldSpec(holds_p[j], w) for n, _, j, w in self.holds if holds_p[j] is not None},
            {n: until_v[j] for n, j in self.until.items()},
            tuple([ClawbackSpec(n, w, when, portion) for (n, w), (when, portion) in zip(self.clawbacks, claws)]),
            scaling, drawn, rfloor, self.windows,
        )

    def __repr__(self) -> str:
        return (f"Policy({self.names!r}, holds={self.hold_clauses!r}, clawbacks={self.clawbacks!r}, "
                f"draws={self.draws})")


@st.composite
def policies(draw):
    """1–3 components, 0–2 holds (a component may have two: the last is in force), 0–3
    clawbacks on any components (two on one component with different windows included)."""
    names = ("a", "b", "c")[:draw(st.integers(1, 3))]
    clause = st.tuples(st.sampled_from(names), st.integers(1, 3))
    holds = tuple(draw(clause) for _ in range(draw(st.integers(0, 2))))
    clawbacks = tuple(draw(clause) for _ in range(draw(st.integers(0, 3))))
    return Policy(names, holds, clawbacks, draw(st.booleans()))


@st.composite
def settler_histories(draw):
    """A policy and one partner's records over some quarters (with gaps), as the settler's arguments."""
    policy = draw(policies())
    n = draw(st.integers(1, 8))
    offsets = sorted(draw(st.sets(st.integers(0, 11), min_size=n, max_size=n)))
    records = []
    for off in offsets:
        eligible = draw(st.sampled_from([True, True, False]))
        values = tuple(draw(st.one_of(cents, signed_cents)) for _ in policy.names)  # mostly positive
        holds_p = tuple(draw(portions) if eligible else None for _ in policy.hold_clauses)
        until_v = tuple(draw(st.booleans()) for _ in policy.hold_clauses)
        claws = tuple((draw(st.sampled_from([True, True, False])), draw(portions)) for _ in policy.clawbacks)
        earned = draw(st.one_of(cents, signed_cents))
        scaling = draw(st.one_of(st.just(D(0)), st.integers(0, 100_000).map(lambda c: -D(c) / 100)))
        drawn = rfloor = D(0)
        if policy.draws:
            drawn = draw(st.one_of(st.just(D(0)), cents))
            rfloor = draw(st.sampled_from([D(0), D("1000"), D("1000.00")]))
        records.append((Period(8100 + off, "quarter"), eligible, earned, values,
                        (holds_p, until_v, claws, drawn, rfloor), scaling))
    return policy, records


def check_settler(policy, records, with_events):
    """Settle the records with `settle` and with the generated settler, each threading its
    own ledger: every period's settlement, new ledger and events are identical."""
    settle_row = policy.settler(with_events)
    ref_ledger = gen_ledger = EMPTY
    with decimal.localcontext(CONTEXT):
        for args in records:
            ref = settle(ref_ledger, policy.facts(*args), USD, with_events)
            got = settle_row(gen_ledger, *args)
            # repr too: equal Decimals with other exponents would print differently
            assert got == ref and repr(got) == repr(ref), (args, got, ref, settle_row.source)
            _, ref_ledger, _ = ref
            _, gen_ledger, _ = got


@settings(max_examples=300, deadline=None)
@given(settler_histories())
def test_generated_settler_equals_settle(history):
    """Both forms of the runner's settlement (without and with ledger events) on one history."""
    check_settler(*history, with_events=False)
    check_settler(*history, with_events=True)


def test_the_settler_hold_release_clawback_carry_forward():
    """A held bonus released, then the whole paid bonus clawed back: the carry forward is
    recovered from the next period."""
    # components (bonus, base); `hold 25 % within 2` on bonus; `clawback bonus within 2`
    settle_row = _settler((("bonus", 0, 0, 2),), (("bonus", 0),), (("bonus", 2),), (("bonus", 0, 2),), True, True)
    no_claw = ((False, D(1)),)
    records = [
        (q("2026-Q1"), D("1000.00"), (D("400.00"), D("600.00")), ((D("0.25"),), (False,), no_claw)),
        (q("2026-Q2"), D("200.00"), (D("0.00"), D("200.00")), ((D("0.25"),), (True,), no_claw)),
        (q("2026-Q3"), D("100.00"), (D("0.00"), D("100.00")), ((D("0.25"),), (False,), ((True, D(1)),))),
        (q("2026-Q4"), D("500.00"), (D("0.00"), D("500.00")), ((D("0.25"),), (False,), no_claw)),
    ]
    ledger = EMPTY
    out, events = [], []
    with decimal.localcontext(CONTEXT):
        for t, earned, values, (holds_p, until_v, claws) in records:
            s, ledger, ev = settle_row(ledger, t, True, earned, values, (holds_p, until_v, claws, D(0), D(0)), D(0))
            out.append(s)
            events.extend(ev)
            if t == q("2026-Q2"):
                # 300.00 paid in Q1 plus the 100.00 released: what a clawback can reach
                assert [(p.origin, p.paid, p.recovered) for p in ledger.paid] == [(q("2026-Q1"), D("400.00"), 0)]
    assert [lines(s) for s in out] == [
        [("held bonus", "-100.00")],
        [("release bonus (from 2026-Q1)", "100.00")],
        [("clawback bonus (from 2026-Q1)", "-400.00"), ("carry forward", "300.00")],
        [("carried recovery", "-300.00")],
    ]
    assert [str(s.payable) for s in out] == ["900.00", "300.00", "0", "200.00"]
    assert [(e.kind, str(e.period), str(e.amount)) for e in events] == [
        ("hold", "2026-Q1", "100.00"), ("release", "2026-Q2", "100.00"), ("clawback", "2026-Q3", "400.00"),
        ("carry_forward", "2026-Q3", "300.00"), ("recovery", "2026-Q4", "300.00")]
    assert ledger is EMPTY
