"""The reference settlement of a period (language §15), written from the rules and kept as an
oracle: dsl/run/ledger.py's settler must give exactly what this gives (tests/test_ledger.py
checks both on generated ledgers and policy shapes).

`settle(ledger, facts, money)` takes the facts of one record by name (`PeriodFacts`), with
dicts and no shortcut: slower than the settler the runner uses, and meant to be read beside
the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import NamedTuple

from dsl.backends.python.runtime import ZERO, Money
from dsl.checker.periods import Period
from dsl.run.ledger import (
    EMPTY, NOTHING, ONE_HUNDRED_PERCENT, Event, HoldEntry, Line, PaidEntry, PartnerLedger, Settlement,
)


class HoldSpec(NamedTuple):
    """This period's holdback of one component: `hold portion ... within n periods`."""

    portion: Decimal
    within: int


class ClawbackSpec(NamedTuple):
    """One `clawback COMPONENT within n periods when C recover PORTION`, evaluated in this period."""

    component: str
    within: int
    when: bool
    portion: Decimal = ONE_HUNDRED_PERCENT


class PeriodFacts(NamedTuple):
    """What the evaluator computed for one record (one partner, one period)."""

    period: Period
    eligible: bool
    earned: Decimal  # the total after floors and caps (§14.4 step 3)
    components: Mapping[str, Decimal] = NOTHING  # own rounded values
    holds: Mapping[str, HoldSpec] = NOTHING  # components with a hold
    until: Mapping[str, bool] = NOTHING  # hold conditions evaluated now
    clawbacks: tuple[ClawbackSpec, ...] = ()
    budget_scaling: Decimal = ZERO  # zero or negative (§15)
    draw: Decimal = ZERO  # what a recoverable floor added to the total (§14.5)
    recovery_floor: Decimal = ZERO  # carried recovery stops here (recoverable floor, eligible)
    # components whose paid amounts must be remembered for clawbacks, with the window
    clawback_windows: Mapping[str, int] = NOTHING


def settle(ledger: PartnerLedger, facts: PeriodFacts, money: Money, with_events: bool = True
           ) -> tuple[Settlement, PartnerLedger, tuple[Event, ...]]:
    """Settle one period of one partner. `ledger` is the partner's state after its
    previous record (or `EMPTY`); periods must be passed in increasing order. Without
    `with_events` no ledger events are made (the run writes no ledger)."""
    t = facts.period
    ti = t.index
    q, mode = money.q, money.mode
    lines: list[Line] = []
    events: list[Event] = [] if with_events else _DISCARD
    running = facts.earned + facts.budget_scaling
    components = facts.components

    # 1. this period's holdbacks (on the components' own values, before scaling)
    new_holds: list[HoldEntry] = []
    paid_now: dict[str, Decimal] = {}
    for name, spec in facts.holds.items():
        value = components.get(name, ZERO)
        portion = spec.portion
        if portion < ZERO:
            portion = ZERO
        elif portion > ONE_HUNDRED_PERCENT:
            portion = ONE_HUNDRED_PERCENT
        held = (value * portion).quantize(q, rounding=mode) if value > ZERO else ZERO
        paid_now[name] = value - held
        if held > ZERO:
            lines.append(Line("held", -held, name, t))
            if with_events:
                events.append(Event("hold", name, t, t, held))
            new_holds.append(HoldEntry(name, t, held, Period(ti + spec.within, t.granularity)))
            running -= held

    # 2. releases and forfeits of earlier holds, oldest origin first
    paid = {(p.component, p.origin.index): p for p in ledger.paid} if ledger.paid else {}
    open_holds: list[HoldEntry] = []
    if ledger.holds:
        until = facts.until
        earlier = ledger.holds
        if len(earlier) == 2:  # the common case, without sorted(): keep the order unless it is wrong
            a, b = earlier
            if (a.origin.index, a.component) > (b.origin.index, b.component):
                earlier = (b, a)
        elif len(earlier) > 2:
            earlier = sorted(earlier, key=_hold_order)
        for h in earlier:
            if h.deadline.index < ti:
                lines.append(Line("forfeit", h.amount, h.component, h.origin))
                if with_events:
                    events.append(Event("forfeit", h.component, h.origin, h.deadline + 1, h.amount))
            elif until.get(h.component, False):
                lines.append(Line("release", h.amount, h.component, h.origin))
                if with_events:
                    events.append(Event("release", h.component, h.origin, t, h.amount))
                running += h.amount
                key = (h.component, h.origin.index)
                p = paid.get(key)
                if p is not None:
                    paid[key] = PaidEntry(p.component, p.origin, p.paid + h.amount, p.recovered)
            else:
                open_holds.append(h)

    # 3. clawbacks of earlier payouts, oldest origin first
    if paid and facts.clawbacks:
        claws: list[tuple[int, int, str, ClawbackSpec]] = []
        for i, cb in enumerate(facts.clawbacks):
            if not cb.when:
                continue
            for (component, origin) in paid:
                if component == cb.component and origin < ti <= origin + cb.within:
                    claws.append((origin, i, component, cb))
        if len(claws) > 1:
            claws.sort(key=lambda c: (c[0], c[1]))
        for origin, _, component, cb in claws:
            p = paid[(component, origin)]
            left = p.paid - p.recovered
            amount = min(money_round(p.paid * _clamp_portion(cb.portion), money), left)
            if amount > 0:
                lines.append(Line("clawback", -amount, component, p.origin))
                if with_events:
                    events.append(Event("clawback", component, p.origin, t, amount))
                paid[(component, origin)] = PaidEntry(component, p.origin, p.paid, p.recovered + amount)
                running -= amount
            # any amount of that origin still held is forfeited at the same time
            if open_holds:
                still: list[HoldEntry] = []
                for h in open_holds:
                    if h.component == component and h.origin.index == origin:
                        lines.append(Line("forfeit", h.amount, h.component, h.origin))
                        if with_events:
                            events.append(Event("forfeit", h.component, h.origin, t, h.amount))
                    else:
                        still.append(h)
                open_holds = still

    # 4. carried recovery of the balance, then carry forward
    balance = ledger.balance
    if balance > ZERO:
        room = running - (facts.recovery_floor if facts.eligible else ZERO)
        recovered = min(balance, room) if room > ZERO else ZERO
        if recovered > ZERO:
            lines.append(Line("carried_recovery", -recovered))
            if with_events:
                events.append(Event("recovery", None, t, t, recovered))
            running -= recovered
            balance -= recovered
    if running < ZERO:
        lines.append(Line("carry_forward", -running))
        if with_events:
            events.append(Event("carry_forward", None, t, t, -running))
        balance += -running
        running = ZERO
    if facts.draw > ZERO:
        if with_events:
            events.append(Event("draw", None, t, t, facts.draw))
        balance += facts.draw

    # 5. the new ledger: remember this period's paid amounts for clawbacks, drop
    #    what no window can reach any more
    windows = facts.clawback_windows
    if windows:
        for name, window in windows.items():
            amount = paid_now[name] if name in paid_now else components.get(name, ZERO)
            if amount > ZERO and window > 0:
                paid[(name, ti)] = PaidEntry(name, t, amount)
        keep_paid = tuple([p for (c, o), p in paid.items() if ti < o + windows.get(c, 0)])
    else:
        keep_paid = ()
    if open_holds or new_holds or keep_paid or balance:
        new_ledger = PartnerLedger(tuple(open_holds + new_holds), keep_paid, balance)
    else:
        new_ledger = EMPTY
    settlement = Settlement(t, facts.earned, facts.budget_scaling, tuple(lines), running)
    return settlement, new_ledger, tuple(events) if with_events else ()




def _hold_order(h: HoldEntry) -> tuple[int, str]:
    return h.origin.index, h.component


class _Discard(list):
    """A list that keeps nothing (the events of a run without a ledger output)."""

    __slots__ = ()

    def append(self, item) -> None:  # noqa: ARG002
        return None


_DISCARD = _Discard()


def _clamp_portion(portion: Decimal) -> Decimal:
    if portion < 0:
        return ZERO
    if portion > ONE_HUNDRED_PERCENT:
        return ONE_HUNDRED_PERCENT
    return portion


def money_round(value: Decimal, money: Money) -> Decimal:
    return value.quantize(money.q, rounding=money.mode)
