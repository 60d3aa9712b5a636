"""The pass of `ipl diff`: both policies over the same records, compared record by record.

Receives two compiled policies (OLD and NEW) and one records file. Evaluates both over the
same records in one streaming pass (outcomes.py) and pairs the two outcomes of each record by
its row in the file (`matched`: the same record under both policies; the row is shown as the
record's id, and its period when the policy is multi-period, so that a record keyed by (id,
period) is compared per (id, period)). For a policy that settles (language §15, §16) a record's
amount is its period's payable.

Guarantees the `Report` of report.py, filled in: the counts and totals (`total.delta` equals
the sum of the per-record deltas, a rejected record counting 0 on its side); per component the
sums, with the total floors and caps (and, multi-period, the settlement lines) as adjustment
lines so that the lines add up to the total on each side, money benefits apart; the records
that changed and the `top` biggest movers (by absolute delta, ties by id, period, row), each
explained (why.py); the level and tier tables that moved (levels.py); the records newly
rejected / accepted / ineligible / eligible.

Memory holds the counters, the per-component sums (`_Sums`), a heap of the `top` biggest movers
(with their two traces) and the per-record lists the report shows (all of them for JSON; the
first `LIST_LIMIT` otherwise). Emits no diagnostics.
"""

from __future__ import annotations

import decimal
import heapq
from collections.abc import Iterator
from decimal import Decimal
from itertools import zip_longest

from dsl.backends.python import runtime
from dsl.backends.python.compiled import CompiledPolicy
from dsl.checker.types import Kind
from dsl.tools.diff.levels import _level_changes, level_tables
from dsl.tools.diff.outcomes import ZERO, Side, outcomes
from dsl.tools.diff.report import LIST_LIMIT, Amounts, Entry, Mover, ParamChange, Report, _union
from dsl.tools.diff.show import _label, _reject_text, _Show
from dsl.tools.diff.why import explain_change


def diff(old: CompiledPolicy, new: CompiledPolicy, records: str, old_path: str = "OLD", new_path: str = "NEW",
         top: int = 5, keep_lists: bool = True) -> Report:
    """Evaluate both policies over `records` and compare them record by record."""
    runtime.activate()
    oh, nh = old.program, new.program
    rep = Report(old_path, new_path, records, new.program.currency, oh.name, nh.name, oh.version, nh.version,
                 top=top)
    rep.params = _params(old, new)
    tally = _Tally(old, new, rep, keep_lists)
    with decimal.localcontext(runtime.CONTEXT):
        for a, b in matched(outcomes(old, records), outcomes(new, records)):
            tally.compare(a, b)
        tally.finish()
    return rep


def matched(old: Iterator[Side], new: Iterator[Side]) -> Iterator[tuple[Side, Side]]:
    """The two outcomes of each record, paired by row. They come in step for most policies; a
    multi-period evaluation may yield in another order, so an outcome without its partner yet
    waits for it."""
    pending_old: dict[int, Side] = {}
    pending_new: dict[int, Side] = {}
    for a, b in zip_longest(old, new):
        if a is not None and b is not None and a.row == b.row:
            yield a, b
            continue
        if a is not None:
            if a.row in pending_new:
                yield a, pending_new.pop(a.row)
            else:
                pending_old[a.row] = a
        if b is not None:
            if b.row in pending_old:
                yield pending_old.pop(b.row), b
            else:
                pending_new[b.row] = b
    if pending_old or pending_new:  # pragma: no cover - both read the same file
        raise AssertionError("the two evaluations did not see the same records")


def _params(old: CompiledPolicy, new: CompiledPolicy) -> list[ParamChange]:
    """The params whose values differ, with their display text ("—" where a policy has none)."""
    so, sn = _Show(old), _Show(new)
    return [ParamChange(n, old.params.get(n), new.params.get(n),
                        so.named(n, old.params[n]) if n in old.params else "—",
                        sn.named(n, new.params[n]) if n in new.params else "—")
            for n in _union(list(old.params), list(new.params)) if old.params.get(n) != new.params.get(n)]


class _Sums:
    """One policy's running sums over the records it accepts and finds eligible: per component,
    the total floors and caps, money benefits; and the settlement lines of every period."""

    def __init__(self, compiled: CompiledPolicy):
        self.names = [c.name for c in compiled.components]
        self.money_benefits = [(i, b.name) for i, b in enumerate(compiled.benefits) if b.type.kind is Kind.MONEY]
        self.components = [ZERO] * len(self.names)
        self.floor = ZERO
        self.cap = ZERO
        self.benefits = {n: ZERO for _, n in self.money_benefits}
        self.settlement: dict[str, Decimal] = {}

    def add(self, side: Side) -> None:
        res = side.result
        for name, amount in side.settlement or ():  # settles earlier periods even when not eligible
            if name not in ("forfeited", "payable"):  # a forfeit line moves no cash (§14.2)
                self.settlement[name] = self.settlement.get(name, ZERO) + amount
        if res is None or not res.eligible:
            return
        self.components = [a + b for a, b in zip(self.components, res.components)]
        self.floor += res.floor_adjustment
        self.cap += res.cap_adjustment
        for i, name in self.money_benefits:
            self.benefits[name] += res.benefits[i]

    def component(self, name: str) -> Decimal | None:
        return self.components[self.names.index(name)] if name in self.names else None


class _Tally:
    """The state of one comparison: the report's counters, both policies' sums, the level tables,
    the per-record lists and the heap of movers; `compare` takes one record, `finish` the rest."""

    def __init__(self, old: CompiledPolicy, new: CompiledPolicy, rep: Report, keep_lists: bool):
        self.old, self.new, self.rep, self.keep_lists = old, new, rep, keep_lists
        self.sums_old, self.sums_new = _Sums(old), _Sums(new)
        self.levels = level_tables(old, new)
        self.lists = {"newly_rejected": rep.newly_rejected, "newly_accepted": rep.newly_accepted,
                      "newly_ineligible": rep.newly_ineligible, "newly_eligible": rep.newly_eligible}
        self.counts = dict.fromkeys(self.lists, 0)
        self.heap: list[Mover] = []

    def keep(self, kind: str, entry: Entry) -> None:
        self.counts[kind] += 1
        if self.keep_lists or len(self.lists[kind]) < LIST_LIMIT:
            self.lists[kind].append(entry)

    def compare(self, a: Side, b: Side) -> None:
        """One record: its old outcome `a` and its new outcome `b`."""
        rep = self.rep
        rep.read += 1
        rid = b.id if b.id is not None else a.id
        period = b.period if b.period is not None else a.period
        if a.accepted:
            rep.paid_old += 1
            rep.eligible_old += a.eligible
            rep.total_old += a.total
            self.sums_old.add(a)
        if b.accepted:
            rep.paid_new += 1
            rep.eligible_new += b.eligible
            rep.total_new += b.total
            self.sums_new.add(b)
        self._status(a, b, rid, period)
        delta = b.total - a.total
        if delta:
            self._moved(a, b, rid, period, delta)

    def _status(self, a: Side, b: Side, rid: str | None, period: str | None) -> None:
        """Newly rejected / accepted / ineligible / eligible, and the level and tier moves."""
        if a.accepted and not b.accepted:
            self.keep("newly_rejected", Entry(rid, period, b.row, detail=_reject_text(b.reject)))
        elif b.accepted and not a.accepted:
            self.keep("newly_accepted", Entry(rid, period, b.row, detail=_reject_text(a.reject)))
        elif a.accepted and b.accepted:
            if a.eligible and not b.eligible:
                self.keep("newly_ineligible", Entry(rid, period, b.row, detail="; ".join(b.result.reasons)))
            elif b.eligible and not a.eligible:
                self.keep("newly_eligible", Entry(rid, period, b.row, detail="; ".join(a.result.reasons)))
            if self.levels:
                _level_changes(self.old, self.new, a, b, rid, period, self.levels, self.keep_lists)

    def _moved(self, a: Side, b: Side, rid: str | None, period: str | None, delta: Decimal) -> None:
        """A record whose amount changed: counted, the largest decrease kept, a candidate mover."""
        rep = self.rep
        rep.changed += 1
        if delta > 0:
            rep.up += 1
        else:
            rep.down += 1
        mover = Mover(rid, period, b.row, a, b, delta)
        if delta < 0 and (rep.largest_decrease is None or mover.delta < rep.largest_decrease.delta or (
                mover.delta == rep.largest_decrease.delta
                and mover.sort_key() < rep.largest_decrease.sort_key())):
            rep.largest_decrease = Mover(rid, period, b.row, _bare(a), _bare(b), delta)
        if rep.top > 0:
            if len(self.heap) < rep.top:
                heapq.heappush(self.heap, mover)
            elif self.heap[0] < mover:
                heapq.heapreplace(self.heap, mover)

    def finish(self) -> None:
        """The report's lines from the sums, the tables that moved, the counts, the movers explained."""
        old, new, rep = self.old, self.new, self.rep
        so, sn = self.sums_old, self.sums_new
        rep.components = [Amounts(n, so.component(n), sn.component(n), _label(old, new, n))
                          for n in _union(so.names, sn.names)]
        rep.adjustments = [Amounts(n, o, w) for n, o, w in (
            ("total floors", so.floor, sn.floor), ("total caps", so.cap, sn.cap)) if o or w]
        rep.adjustments += [Amounts(n.replace("_", " "), so.settlement.get(n), sn.settlement.get(n))
                            for n in _union(list(so.settlement), list(sn.settlement))
                            if so.settlement.get(n) or sn.settlement.get(n)]
        rep.benefits = [Amounts(n, so.benefits.get(n), sn.benefits.get(n), _label(old, new, n))
                        for n in _union([n for _, n in so.money_benefits], [n for _, n in sn.money_benefits])]
        rep.levels = [lv for lv in self.levels.values() if lv.up or lv.down]
        rep.counts = self.counts
        rep.movers = sorted(self.heap, reverse=True)
        for m in rep.movers:
            explain_change(old, new, m)


def _bare(side: Side) -> Side:
    """A side without its trace events: what the largest decrease keeps of a record."""
    return Side(side.row, side.id, side.period, side.reject, side.result, None)
