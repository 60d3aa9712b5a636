"""The partner ledger and the settlement of a period (spec §14.2–§14.5).

Receives, for one partner and one period, the facts the evaluator computed
(`PeriodFacts`: earned total, budget scaling, each component's own value,
this period's hold portions, the `until` conditions of earlier holds, the
clawback conditions and portions, what a recoverable floor added) and the
partner's `PartnerLedger` as it stood after its previous record. Returns the
period's `Settlement` (the lines of §14.4 step 5 in their order, and the
payable of step 6), the new `PartnerLedger`, and the ledger `Event`s.

Pure functions over Decimal, no I/O, no evaluation. Guarantees:

- the statement lines add up exactly to the payable, which is never negative:
  `payable = earned + budget_scaling + held + released + clawback
  + carried_recovery + carry_forward` (`forfeit` lines have no cash effect);
- every held amount ends up exactly once released, forfeited or still held;
- no more than what was actually paid for an origin (paid now plus released,
  never what is still held) is ever recovered from it;
- what cannot be recovered in a period is carried as the partner's recovery
  balance (with the draws of recoverable floors) and never lost: `owed`.

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

    holds: tuple[HoldEntry, ...] = ()  # in (origin, component) order (`settle` and `make_settler` keep it)
    paid: tuple[PaidEntry, ...] = ()  # oldest origin first (`settle` and `make_settler` keep that order)
    balance: Decimal = ZERO  # recovery balance: carried forward plus draws, still owed


EMPTY = PartnerLedger()


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


def hold_open(history, component: str) -> bool:
    """§5a: whether the partner has a hold of `component` still open in the current period
    (`history.t`): only then is its `until` condition evaluated. `history` is the partner's
    run history (`ledger`, `t`), or None outside a run (nothing is open)."""
    if history is None:
        return False
    t = history.t
    return any(h.component == component and h.deadline.index >= t for h in history.ledger.holds)


def clawback_due(history, component: str, within: int) -> bool:
    """§5a, §23.8: whether an origin of `component` inside the window `within` of the current
    period has money left to recover or still held: only then is the clawback's `when`
    evaluated (and `recover` only where `when` holds)."""
    if history is None:
        return False
    t = history.t
    ledger = history.ledger
    return any(p.component == component and p.origin.index < t <= p.origin.index + within
               and p.paid > p.recovered for p in ledger.paid) or \
        any(h.component == component and h.origin.index < t <= h.origin.index + within
            and h.deadline.index >= t for h in ledger.holds)


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


def make_settler(money: Money, holds: tuple[tuple[str, int, int, int], ...], until: Mapping[str, int],
                 clawbacks: tuple[tuple[str, int], ...], windows: tuple[tuple[str, int, int], ...],
                 with_events: bool = False, draws: bool = True):
    """`settle` for one policy, generated as Python code for its holds, clawbacks and
    windows: the multi-period runner's settlement (dsl/settle.py), without a `PeriodFacts`
    per record. Gives exactly what `settle` gives for the facts the runner would build
    (tests/test_ledger.py checks both on generated ledgers and policies).

    `holds`: (component, its index in the components, its index in the holds, within) of
    every held component, in the order of `PeriodFacts.holds`; `until`: component -> its
    index in the hold conditions; `clawbacks`: (component, within) in declaration order;
    `windows`: (component, its index in the components, window) of the components whose
    paid amounts clawbacks reach, in the order of `PeriodFacts.clawback_windows`.

    The returned function is `(ledger, period, eligible, earned, values, facts, scaling)
    -> (Settlement, PartnerLedger, events)`, where `values` are the components' own values
    and `facts` is the evaluator's `(hold portions, until conditions, ((when, portion) per
    clawback), draw, recovery floor)`; `events` is () unless `with_events`. Without `draws`
    (no recoverable floor) the draw is known to be 0 and is not read."""
    src = ["def settle_row(ledger, t, eligible, earned, values, facts, scaling):", "    ti = t.index"]
    src += ["    " + line for line in settler_body(holds, clawbacks, windows, with_events, draws)]
    src.append("    return new(Settlement, (t, earned, scaling, tuple(lines), running)), new_ledger, "
               + ("tuple(events)" if with_events else "()"))
    source = "\n".join(src) + "\n"
    ns = settler_namespace(money, until, windows)
    exec(compile(source, "<ipl settlement>", "exec"), ns)  # noqa: S102 - our own generated code
    settle_row = ns["settle_row"]
    settle_row.source = source
    return settle_row


def settler_namespace(money: Money, until: Mapping[str, int], windows: tuple[tuple[str, int, int], ...]) -> dict:
    """The globals `settler_body`'s code reads."""
    return {
        "ZERO": ZERO, "ONE": ONE_HUNDRED_PERCENT, "q": money.q, "mode": money.mode, "new": tuple.__new__,
        "Line": Line, "Event": Event, "HoldEntry": HoldEntry, "PaidEntry": PaidEntry, "PartnerLedger": PartnerLedger,
        "Settlement": Settlement, "Period": Period, "EMPTY": EMPTY, "until": dict(until),
        "window_of": {name: w for name, _, w in windows}, "_hold_order": _hold_order, "_claw_order": _claw_order,
    }


def deadline_lines(holds: tuple[tuple[str, int, int, int], ...]) -> list[str]:
    """The deadlines `settler_body(..., deadlines=True)` reads, for the period `t`."""
    return [f"deadline_{w} = new(Period, (ti + {w}, t.granularity))" for w in sorted({h[3] for h in holds})]


def settler_body(holds: tuple[tuple[str, int, int, int], ...], clawbacks: tuple[tuple[str, int], ...],
                 windows: tuple[tuple[str, int, int], ...], with_events: bool, draws: bool,
                 deadlines: bool = False) -> list[str]:
    """The code of one settlement (`make_settler`'s arguments), unindented: it reads `ledger`,
    `t` (the period), `ti` (its index), `eligible`, `earned`, `values`, `facts` and `scaling`,
    and leaves the statement's `lines`, the `events`, the payable `running` and the
    partner's `new_ledger` (the multi-period runner inlines it in its loop: dsl/settle.py).
    `deadlines`: the deadline of a hold `within w` periods is read from `deadline_w`
    (`deadline_lines` makes them, once per period) instead of made per hold."""
    src: list[str] = []

    def emit(depth: int, line: str) -> None:
        src.append("    " * (depth - 1) + line)

    def event(depth: int, args: str) -> None:
        if with_events:
            emit(depth, f"events.append(Event({args}))")

    held_slot = {name: f"pn_{k}" for k, (name, _, _, _) in enumerate(holds)}
    emit(1, "holds_p, until_v, claws, draw, rfloor = facts")
    emit(1, "lines = []")
    emit(1, "append = lines.append")
    emit(1, "events = []" if with_events else "events = ()")
    emit(1, "running = earned + scaling")
    emit(1, "new_holds = []")
    # 1. this period's holdbacks (on the components' own values, before scaling)
    for name, ci, j, within in holds:
        slot = held_slot[name]
        emit(1, f"{slot} = None")
        emit(1, f"portion = holds_p[{j}]")
        emit(1, "if portion is not None:")
        emit(2, f"value = values[{ci}]")
        emit(2, "if portion < ZERO:")
        emit(3, "portion = ZERO")
        emit(2, "elif portion > ONE:")
        emit(3, "portion = ONE")
        emit(2, "held = (value * portion).quantize(q, rounding=mode) if value > ZERO else ZERO")
        emit(2, f"{slot} = value - held")
        emit(2, "if held > ZERO:")
        emit(3, f"append(new(Line, ('held', -held, {name!r}, t)))")
        event(3, f"'hold', {name!r}, t, t, held")
        deadline = f"deadline_{within}" if deadlines else f"new(Period, (ti + {within}, t.granularity))"
        emit(3, f"new_holds.append(new(HoldEntry, ({name!r}, t, held, {deadline})))")
        emit(3, "running -= held")
    # 2. releases and forfeits of earlier holds, oldest origin first
    emit(1, "paid = list(ledger.paid)")
    emit(1, "open_holds = []")
    emit(1, "earlier = ledger.holds")
    emit(1, "if earlier:")
    if len(holds) > 1:
        # (with one held component the ledger's holds are in origin order already: the open
        # ones keep their order and this period's come last)
        emit(2, "if len(earlier) == 2:")
        emit(3, "a, b = earlier")
        emit(3, "if (a.origin.index, a.component) > (b.origin.index, b.component):")
        emit(4, "earlier = (b, a)")
        emit(2, "elif len(earlier) > 2:")
        emit(3, "earlier = sorted(earlier, key=_hold_order)")
    emit(2, "for hd in earlier:")
    emit(3, "if hd.deadline.index < ti:")
    emit(4, "append(new(Line, ('forfeit', hd.amount, hd.component, hd.origin)))")
    event(4, "'forfeit', hd.component, hd.origin, hd.deadline + 1, hd.amount")
    if len(holds) == 1:  # every earlier hold is of that component
        emit(3, f"elif until_v[{holds[0][2]}]:")
    else:
        emit(3, "elif (ui := until.get(hd.component)) is not None and until_v[ui]:")
    emit(4, "append(new(Line, ('release', hd.amount, hd.component, hd.origin)))")
    event(4, "'release', hd.component, hd.origin, t, hd.amount")
    emit(4, "running += hd.amount")
    emit(4, "for k, p in enumerate(paid):")
    emit(5, "if p.component == hd.component and p.origin.index == hd.origin.index:")
    emit(6, "paid[k] = new(PaidEntry, (p.component, p.origin, p.paid + hd.amount, p.recovered))")
    emit(6, "break")
    emit(3, "else:")
    emit(4, "open_holds.append(hd)")
    # 3. clawbacks of earlier payouts, oldest origin first
    def recover(d: int) -> None:
        """Recover from paid[k] (origin `origin`) the portion `portion`."""
        emit(d, "p = paid[k]")
        emit(d, "component = p.component")
        emit(d, "if portion < 0:")
        emit(d + 1, "portion = ZERO")
        emit(d, "elif portion > ONE:")
        emit(d + 1, "portion = ONE")
        emit(d, "amount = (p.paid * portion).quantize(q, rounding=mode)")
        emit(d, "left = p.paid - p.recovered")
        emit(d, "if left < amount:")
        emit(d + 1, "amount = left")
        emit(d, "if amount > 0:")
        emit(d + 1, "append(new(Line, ('clawback', -amount, component, p.origin)))")
        event(d + 1, "'clawback', component, p.origin, t, amount")
        emit(d + 1, "paid[k] = new(PaidEntry, (component, p.origin, p.paid, p.recovered + amount))")
        emit(d + 1, "running -= amount")
        emit(d, "# any amount of that origin still held is forfeited at the same time")
        emit(d, "if open_holds:")
        emit(d + 1, "still = []")
        emit(d + 1, "for hd in open_holds:")
        emit(d + 2, "if hd.component == component and hd.origin.index == origin:")
        emit(d + 3, "append(new(Line, ('forfeit', hd.amount, hd.component, hd.origin)))")
        event(d + 3, "'forfeit', hd.component, hd.origin, t, hd.amount")
        emit(d + 2, "else:")
        emit(d + 3, "still.append(hd)")
        emit(d + 1, "open_holds = still")

    if len(clawbacks) == 1:
        # one clawback: the paid amounts are kept oldest origin first, so the list's order is the order
        component, within = clawbacks[0]
        emit(1, "when, portion0 = claws[0]")
        emit(1, "if when and paid:")
        emit(2, "for k in range(len(paid)):")
        emit(3, f"if paid[k].component == {component!r}:")
        emit(4, "origin = paid[k].origin.index")
        emit(4, f"if origin < ti <= origin + {within}:")
        emit(5, "portion = portion0")
        recover(5)
    elif clawbacks:
        emit(1, "if paid:")
        emit(2, "found = []")
        for i, (component, within) in enumerate(clawbacks):
            emit(2, f"when, portion = claws[{i}]")
            emit(2, "if when:")
            emit(3, "for k, p in enumerate(paid):")
            emit(4, f"if p.component == {component!r}:")
            emit(5, "origin = p.origin.index")
            emit(5, f"if origin < ti <= origin + {within}:")
            emit(6, f"found.append((origin, {i}, k, portion))")
        emit(2, "if len(found) > 1:")
        emit(3, "found.sort(key=_claw_order)")
        emit(2, "for origin, _, k, portion in found:")
        recover(3)
    # 4. carried recovery of the balance, then carry forward
    emit(1, "balance = ledger.balance")
    emit(1, "if balance > ZERO:")
    emit(2, "room = running - (rfloor if eligible else ZERO)")
    emit(2, "recovered = min(balance, room) if room > ZERO else ZERO")
    emit(2, "if recovered > ZERO:")
    emit(3, "append(new(Line, ('carried_recovery', -recovered, None, None)))")
    event(3, "'recovery', None, t, t, recovered")
    emit(3, "running -= recovered")
    emit(3, "balance -= recovered")
    emit(1, "if running < ZERO:")
    emit(2, "append(new(Line, ('carry_forward', -running, None, None)))")
    event(2, "'carry_forward', None, t, t, -running")
    emit(2, "balance += -running")
    emit(2, "running = ZERO")
    if draws:
        emit(1, "if draw > ZERO:")
        event(2, "'draw', None, t, t, draw")
        emit(2, "balance += draw")
    # 5. the new ledger: this period's paid amounts for clawbacks, less what no window reaches
    if windows:
        for name, ci, window in windows:
            if window <= 0:
                continue
            if name in held_slot:
                slot = held_slot[name]
                emit(1, f"amount = {slot} if {slot} is not None else values[{ci}]")
            else:
                emit(1, f"amount = values[{ci}]")
            emit(1, "if amount > ZERO:")
            emit(2, f"paid.append(new(PaidEntry, ({name!r}, t, amount, ZERO)))")
        if len({w for _, _, w in windows}) == 1:
            # the paid amounts are kept oldest origin first, so what no window reaches is a prefix
            emit(1, "start, n = 0, len(paid)")
            emit(1, f"while start < n and paid[start].origin.index + {windows[0][2]} <= ti:")
            emit(2, "start += 1")
            emit(1, "keep_paid = tuple(paid[start:]) if start else tuple(paid)")
        else:
            emit(1, "keep_paid = tuple([p for p in paid if ti < p.origin.index + window_of.get(p.component, 0)]) "
                    "if paid else ()")
    else:
        emit(1, "keep_paid = ()")
    emit(1, "if open_holds or new_holds or keep_paid or balance:")
    emit(2, "new_ledger = new(PartnerLedger, (tuple(open_holds + new_holds), keep_paid, balance))")
    emit(1, "else:")
    emit(2, "new_ledger = EMPTY")
    return src


def _claw_order(c: tuple) -> tuple[int, int]:
    return c[0], c[1]


def _hold_order(h: HoldEntry) -> tuple[int, str]:
    return h.origin.index, h.component


class _Discard(list):
    """A list that keeps nothing (the events of a run without a ledger output)."""

    __slots__ = ()

    def append(self, item) -> None:  # noqa: ARG002
        return None


_DISCARD = _Discard()  # keeps nothing, so one is shared


def _clamp_portion(portion: Decimal) -> Decimal:
    """A portion is clamped to 0 %..100 % (§14.3: 'clamped to what is left')."""
    if portion < 0:
        return ZERO
    if portion > ONE_HUNDRED_PERCENT:
        return ONE_HUNDRED_PERCENT
    return portion


def money_round(value: Decimal, money: Money) -> Decimal:
    return value.quantize(money.q, rounding=money.mode)


def owed(ledger: PartnerLedger) -> Decimal:
    """What the partner still owes at the end of the run (never lost, §14.5)."""
    return ledger.balance


def still_held(ledger: PartnerLedger) -> Decimal:
    return sum((h.amount for h in ledger.holds), ZERO)
