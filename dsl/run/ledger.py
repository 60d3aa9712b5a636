"""The partner ledger and the settlement of a period (language §15: holdbacks, clawbacks,
carried recovery, draws): the one place these rules are written.

Receives, for one partner and one period, what the evaluator computed of the record — its
earned total, budget scaling, the components' own values and the settlement facts of the
record's result (this period's hold portions, the `until` conditions of earlier holds, the
clawbacks' conditions and portions, what a recoverable floor drew, that floor) — and the
partner's `PartnerLedger` as it stood after its previous record. Returns the period's
`Settlement` (the lines of step 5 in their order, and the payable of step 6), the new
`PartnerLedger`, and the ledger `Event`s.

Pure functions over Decimal, no I/O, no evaluation. Guarantees:

- the statement lines add up exactly to the payable, which is never negative:
  `payable = earned + budget_scaling + held + released + clawback + carried_recovery
  + carry_forward` (`forfeit` lines have no cash effect);
- every held amount ends up exactly once released, forfeited or still held;
- no more than what was actually paid for an origin (paid now plus released, never what is
  still held) is ever recovered from it;
- what cannot be recovered in a period is carried as the partner's recovery balance (with the
  draws of recoverable floors) and never lost: `owed`.

`settler(terms, money)` specialises the steps to one policy's terms (which components are held
or clawed back, and their windows) as a closure; tests/oracles/ledger.py is the same rules
written by name, without the specialisation, and the two are checked against each other.
Emits no diagnostic codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import NamedTuple

from dsl.checker.periods import Period
from dsl.backends.python.runtime import ZERO, Money

ONE_HUNDRED_PERCENT = Decimal(1)
NOTHING: Mapping = MappingProxyType({})

# The ledger's records are named tuples (immutable, and cheap to make: a settlement makes
# several per record).


class HoldEntry(NamedTuple):
    """Money held back from `component` in `origin`, to be released by `deadline` or forfeited."""

    component: str
    origin: Period
    amount: Decimal
    deadline: Period  # origin + within


class PaidEntry(NamedTuple):
    """What was actually paid for `component` in `origin` (paid now + released), for clawbacks."""

    component: str
    origin: Period
    paid: Decimal
    recovered: Decimal = ZERO


class PartnerLedger(NamedTuple):
    """A partner's ledger between two of its periods. Bounded: entries older than the
    longest hold or clawback window are dropped as the partner's periods advance."""

    holds: tuple[HoldEntry, ...] = ()  # in (origin, component) order (`settler` and the oracle keep it)
    paid: tuple[PaidEntry, ...] = ()  # oldest origin first (`settler` and the oracle keep that order)
    balance: Decimal = ZERO  # recovery balance: carried forward plus draws, still owed


EMPTY = PartnerLedger()


class Line(NamedTuple):
    """One settlement line. kind: held | release | forfeit | clawback | carried_recovery
    | carry_forward. `amount` is signed as in the statement; a forfeit's `amount` is
    the forfeited money (no cash effect)."""

    kind: str
    amount: Decimal
    component: str | None = None
    origin: Period | None = None

    @property
    def cash(self) -> Decimal:
        return ZERO if self.kind == "forfeit" else self.amount

    def label(self, title=None) -> str:
        """The line as a statement names it; `title(component)` gives what people read (§2a:
        the component's label), the component's name by default."""
        c = title(self.component) if title is not None and self.component is not None else self.component
        match self.kind:
            case "held":
                return f"held {c}"
            case "release":
                return f"release {c} (from {self.origin})"
            case "forfeit":
                return f"forfeit {c} (from {self.origin})"
            case "clawback":
                return f"clawback {c} (from {self.origin})"
            case "carried_recovery":
                return "carried recovery"
            case "carry_forward":
                return "carry forward"
            case _:
                raise AssertionError(f"unknown line kind {self.kind!r}")


class Event(NamedTuple):
    """A ledger event. kind: hold | release | forfeit | clawback | draw | recovery | carry_forward.
    Amounts are positive magnitudes; `period` is when it happened."""

    kind: str
    component: str | None
    origin: Period
    period: Period
    amount: Decimal


COLUMN_KINDS = ("held", "release", "forfeit", "clawback", "carried_recovery", "carry_forward")


class Settlement(NamedTuple):
    """§14.4 steps 5–6 for one record."""

    period: Period
    earned: Decimal
    budget_scaling: Decimal
    lines: tuple[Line, ...]
    payable: Decimal

    def column(self, kind: str) -> Decimal:
        """The sum of the lines of one kind (a forfeit column sums forfeited money)."""
        if not self.lines:
            return ZERO
        return sum((ln.amount for ln in self.lines if ln.kind == kind), ZERO)

    def columns(self) -> tuple[Decimal, ...]:
        """budget_scaling, held, released, forfeited, clawback, carried_recovery, carry_forward, payable."""
        if not self.lines:
            return (self.budget_scaling, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, self.payable)
        sums = dict.fromkeys(COLUMN_KINDS, ZERO)
        for ln in self.lines:
            sums[ln.kind] += ln.amount
        return (self.budget_scaling, *sums.values(), self.payable)

    def clawback_of(self, component: str) -> Decimal:
        return sum((ln.amount for ln in self.lines if ln.kind == "clawback" and ln.component == component), ZERO)


def expire(ledger: PartnerLedger, upto: Period) -> tuple[PartnerLedger, tuple[Event, ...]]:
    """Forfeit the holds whose deadline is before `upto` (the partner has no record
    between): each becomes a forfeit event in the period after its deadline. Used for
    the run's ledger at the end, and for the statement of the partner's next record."""
    kept: list[HoldEntry] = []
    events: list[Event] = []
    for h in ledger.holds:
        if h.deadline < upto:
            events.append(Event("forfeit", h.component, h.origin, h.deadline + 1, h.amount))
        else:
            kept.append(h)
    if len(kept) == len(ledger.holds):
        return ledger, ()
    return PartnerLedger(tuple(kept), ledger.paid, ledger.balance), tuple(events)


class Terms(NamedTuple):
    """A policy's settlement terms, fixed for a run (from the IR: dsl/backends/python/compiled.py
    `MultiInfo`). Indexes are positions in a record's component values and settlement facts."""

    holds: tuple[tuple[str, int, int, int], ...]  # (component, value index, hold index, within): its last `hold`
    until: Mapping[str, int]  # component -> the index of its `until` condition in the facts
    clawbacks: tuple[tuple[str, int], ...]  # (component, within), declaration order
    windows: Mapping[str, int]  # component -> its longest clawback window
    window_values: tuple[tuple[str, int, int], ...]  # (component, value index, window) per window
    draws: bool  # a recoverable floor exists: a record may draw

    @property
    def reads(self) -> tuple[int, ...]:
        """The value indexes a hold or a clawback reads (none positive: nothing to hold or remember)."""
        return tuple(sorted({i for _, i, _, _ in self.holds} | {i for _, i, _ in self.window_values}))


def settler(terms: Terms, money: Money, with_events: bool = False):
    """`settle` for one policy's terms: `(ledger, t, eligible, earned, values, facts, scaling)
    -> (Settlement, new PartnerLedger, events)`, where `values` are the components' own values
    and `facts` the record's settlement facts `(hold portions, until conditions, ((when,
    portion) per clawback), draw, recovery floor)`; `events` is () unless `with_events`."""
    reads = terms.reads
    q, mode = money.q, money.mode

    def settle(ledger: PartnerLedger, t: Period, eligible: bool, earned: Decimal, values: tuple, facts: tuple,
               scaling: Decimal):
        holds_p, until_v, claws, draw, recovery_floor = facts
        running = earned + scaling
        # nothing open, nothing held back, paid or drawn: no lines
        if ledger is EMPTY and not draw and earned >= ZERO and running >= ZERO and \
                all(values[i] <= ZERO for i in reads):
            return Settlement(t, earned, scaling, (), running), EMPTY, ()
        lines: list[Line] = []
        events: list[Event] | None = [] if with_events else None
        running, new_holds, paid_now = _hold_back(terms, t, values, holds_p, running, lines, events, q, mode)
        paid = list(ledger.paid)
        running, open_holds = _release(terms, ledger, t, until_v, paid, running, lines, events)
        running, open_holds = _claw_back(terms, t, claws, paid, open_holds, running, lines, events, q, mode)
        running, balance = _recover(ledger.balance, running, recovery_floor if eligible else ZERO, draw, t,
                                    lines, events)
        keep_paid = _remembered(terms, t, values, paid, paid_now)
        if open_holds or new_holds or keep_paid or balance:
            new_ledger = PartnerLedger(tuple(open_holds + new_holds), keep_paid, balance)
        else:
            new_ledger = EMPTY
        return Settlement(t, earned, scaling, tuple(lines), running), new_ledger, tuple(events) if events else ()

    return settle


def _hold_back(terms: Terms, t: Period, values: tuple, holds_p: tuple, running: Decimal, lines: list,
               events: list | None, q: Decimal, mode: str):
    """Step 1: this period's holdbacks, on the components' own values (before budget scaling):
    `held = round(value * portion)`, the portion clamped to 0 %..100 %."""
    new_holds: list[HoldEntry] = []
    paid_now: dict[str, Decimal] = {}
    for name, ci, j, within in terms.holds:
        portion = holds_p[j]
        if portion is None:  # an ineligible record holds nothing back
            continue
        value = values[ci]
        portion = _clamp(portion)
        held = (value * portion).quantize(q, rounding=mode) if value > ZERO else ZERO
        paid_now[name] = value - held
        if held > ZERO:
            lines.append(Line("held", -held, name, t))
            if events is not None:
                events.append(Event("hold", name, t, t, held))
            new_holds.append(HoldEntry(name, t, held, Period(t.index + within, t.granularity)))
            running -= held
    return running, new_holds, paid_now


def _release(terms: Terms, ledger: PartnerLedger, t: Period, until_v: tuple, paid: list, running: Decimal,
             lines: list, events: list | None):
    """Step 2: earlier holds, oldest origin first: forfeited when their deadline has passed,
    released when their `until` holds now (adding to what was paid for their origin), kept
    open otherwise."""
    open_holds: list[HoldEntry] = []
    ti = t.index
    for h in sorted(ledger.holds, key=_hold_order):
        if h.deadline.index < ti:
            lines.append(Line("forfeit", h.amount, h.component, h.origin))
            if events is not None:
                events.append(Event("forfeit", h.component, h.origin, h.deadline + 1, h.amount))
            continue
        ui = terms.until.get(h.component)
        if ui is not None and until_v[ui]:
            lines.append(Line("release", h.amount, h.component, h.origin))
            if events is not None:
                events.append(Event("release", h.component, h.origin, t, h.amount))
            running += h.amount
            for k, p in enumerate(paid):
                if p.component == h.component and p.origin.index == h.origin.index:
                    paid[k] = PaidEntry(p.component, p.origin, p.paid + h.amount, p.recovered)
                    break
            continue
        open_holds.append(h)
    return running, open_holds


def _claw_back(terms: Terms, t: Period, claws: tuple, paid: list, open_holds: list, running: Decimal,
               lines: list, events: list | None, q: Decimal, mode: str):
    """Step 3: clawbacks of earlier payouts, oldest origin first (then declaration order): for
    each clawback whose `when` holds, each origin in its window gives back `round(paid *
    portion)`, never more than is left of it; whatever of that origin is still held is
    forfeited at the same time."""
    found = []
    ti = t.index
    for i, ((component, within), (when, portion)) in enumerate(zip(terms.clawbacks, claws)):
        if not when:
            continue
        for k, p in enumerate(paid):
            if p.component == component and p.origin.index < ti <= p.origin.index + within:
                found.append((p.origin.index, i, k, portion))
    found.sort(key=_claw_order)
    for origin, _, k, portion in found:
        p = paid[k]
        amount = (p.paid * _clamp(portion)).quantize(q, rounding=mode)
        left = p.paid - p.recovered
        if left < amount:
            amount = left
        if amount > 0:
            lines.append(Line("clawback", -amount, p.component, p.origin))
            if events is not None:
                events.append(Event("clawback", p.component, p.origin, t, amount))
            paid[k] = PaidEntry(p.component, p.origin, p.paid, p.recovered + amount)
            running -= amount
        still = []
        for h in open_holds:
            if h.component == p.component and h.origin.index == origin:
                lines.append(Line("forfeit", h.amount, h.component, h.origin))
                if events is not None:
                    events.append(Event("forfeit", h.component, h.origin, t, h.amount))
            else:
                still.append(h)
        open_holds = still
    return running, open_holds


def _recover(balance: Decimal, running: Decimal, floor: Decimal, draw: Decimal, t: Period, lines: list,
             events: list | None) -> tuple[Decimal, Decimal]:
    """Step 4: the recovery balance is recovered as far as the payable allows (down to a
    recoverable floor for an eligible record); a negative payable is carried forward into the
    balance; this period's draw joins it. Returns the payable and the new balance."""
    if balance > ZERO:
        room = running - floor
        recovered = min(balance, room) if room > ZERO else ZERO
        if recovered > ZERO:
            lines.append(Line("carried_recovery", -recovered))
            if events is not None:
                events.append(Event("recovery", None, t, t, recovered))
            running -= recovered
            balance -= recovered
    if running < ZERO:
        lines.append(Line("carry_forward", -running))
        if events is not None:
            events.append(Event("carry_forward", None, t, t, -running))
        balance += -running
        running = ZERO
    if draw > ZERO:
        if events is not None:
            events.append(Event("draw", None, t, t, draw))
        balance += draw
    return running, balance


def _remembered(terms: Terms, t: Period, values: tuple, paid: list, paid_now: dict) -> tuple[PaidEntry, ...]:
    """Step 5: what was actually paid this period for the components clawbacks reach (paid now:
    the value less what was held), remembered for their windows; entries no window can reach
    any more are dropped."""
    if not terms.window_values:
        return ()
    for name, ci, window in terms.window_values:
        if window <= 0:
            continue
        amount = paid_now.get(name, values[ci])
        if amount > ZERO:
            paid.append(PaidEntry(name, t, amount, ZERO))
    ti = t.index
    return tuple(p for p in paid if ti < p.origin.index + terms.windows.get(p.component, 0))


def _claw_order(c: tuple) -> tuple[int, int]:
    return c[0], c[1]


def _hold_order(h: HoldEntry) -> tuple[int, str]:
    return h.origin.index, h.component


def _clamp(portion: Decimal) -> Decimal:
    """A portion is clamped to 0 %..100 %."""
    if portion < 0:
        return ZERO
    if portion > ONE_HUNDRED_PERCENT:
        return ONE_HUNDRED_PERCENT
    return portion


def owed(ledger: PartnerLedger) -> Decimal:
    """What the partner still owes at the end of the run (never lost, §14.5)."""
    return ledger.balance


def still_held(ledger: PartnerLedger) -> Decimal:
    return sum((h.amount for h in ledger.holds), ZERO)
