"""The reconciled summary of a run: what was read, paid and rejected, the totals, and — for a
run that settles (language §15) — the sums of each period, the pools, and what is still held
or owed at the end. One summary for every run: a single-period run is a one-period run.

Receives the runner's sums (dsl/run/runner.py); guarantees `read = paid + rejected` (checked
by the runner). `render_summary` is the text for people, `summary_json` the document for tools
(docs/schemas/run-summary.schema.json). Emits nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from dsl.backends.python.runtime import total_of
from dsl.run.ledger import PartnerLedger

ZERO = Decimal(0)


@dataclass
class PeriodTotals:
    records: int = 0
    earned: Decimal = ZERO
    budget_scaling: Decimal = ZERO
    held: Decimal = ZERO
    released: Decimal = ZERO
    forfeited: Decimal = ZERO
    clawback: Decimal = ZERO
    carried_recovery: Decimal = ZERO
    carry_forward: Decimal = ZERO
    payable: Decimal = ZERO


@dataclass
class Summary:
    read: int = 0
    paid: int = 0
    rejected: int = 0
    eligible: int = 0
    settles: bool = False  # the policy settles (periods, history, a ledger or program-wide figures)
    # the eligible records' totals (the single-period summary's cost)
    total: Decimal = ZERO
    components: dict[str, Decimal] = field(default_factory=dict)
    benefits: dict[str, Decimal] = field(default_factory=dict)  # money benefits
    levels: dict[str, dict[str, list]] = field(default_factory=dict)  # benefit -> label -> [count, cost]
    floor_adjustment: Decimal = ZERO  # what total floors added (eligible records)
    cap_adjustment: Decimal = ZERO  # what total caps took away (negative)
    # a run that settles
    periods: dict[str, PeriodTotals] = field(default_factory=dict)
    # period, pool, amount, the sum of its shares, what its line paid (after caps): unallocated = amount - paid
    pools: list[tuple[str, str, Decimal, Decimal, Decimal]] = field(default_factory=list)
    still_held: Decimal = ZERO
    owed: Decimal = ZERO
    ledgers: dict[str, PartnerLedger] = field(default_factory=dict)  # each partner's at the end
    last_period: object = None  # the run's last period (the end-of-run ledger rows)
    notes: list[str] = field(default_factory=list)

    @property
    def reconciled(self) -> bool:
        return self.read == self.paid + self.rejected


def render_summary(compiled, s: Summary) -> str:
    """The reconciled run summary for people."""
    return _render_settled(compiled, s) if s.settles else _render_single(compiled, s)


def _render_single(compiled, s: Summary) -> str:
    m = compiled.money
    rows = [
        ("records read", f"{s.read:,}"),
        ("paid", f"{s.paid:,} ({s.eligible:,} eligible, {s.paid - s.eligible:,} not eligible)"),
        ("rejected", f"{s.rejected:,}"),
        ("reconciled", f"read {s.read:,} = paid {s.paid:,} + rejected {s.rejected:,}"),
        ("total cost", m.display(s.total)),
    ]
    width = max(len(k) for k, _ in rows)
    out = [f"{k.ljust(width)}  {v}" for k, v in rows]
    if s.components:
        out.append("per component:")
        w = max(len(n) for n in s.components)
        adj = [("total floors", s.floor_adjustment), ("total caps", s.cap_adjustment)]
        adj = [(n, v) for n, v in adj if v]
        w = max([w] + [len(n) for n, _ in adj])
        out += [f"  {n.ljust(w)}  {m.display(v).rjust(20)}" for n, v in s.components.items()]
        out += [f"  {n.ljust(w)}  {m.display(v).rjust(20)}" for n, v in adj]
    if s.benefits:
        out.append("benefits (not in the total):")
        w = max(len(n) for n in s.benefits)
        out += [f"  {n.ljust(w)}  {m.display(v).rjust(20)}" for n, v in s.benefits.items()]
    for name, labels in s.levels.items():
        out.append(f"per level ({name}):")
        order = compiled.program.levels.get(compiled.program.definitions[name].type.name or "", ())
        keys = sorted(labels, key=lambda lab: order.index(lab) if lab in order else len(order))
        w = max((len(k) for k in keys), default=0)
        out += [f"  {k.ljust(w)}  {labels[k][0]:>8,} partners  {m.display(labels[k][1]).rjust(20)}" for k in keys]
    out += [f"note: {n}" for n in s.notes]
    return "\n".join(out)


def _render_settled(compiled, s: Summary) -> str:
    m = compiled.money
    out = [
        f"records read      {s.read:,}",
        f"paid              {s.paid:,} ({s.eligible:,} eligible, {s.paid - s.eligible:,} not eligible)",
        f"rejected          {s.rejected:,}",
        f"reconciled        read {s.read:,} = paid {s.paid:,} + rejected {s.rejected:,}",
    ]
    heads = ["earned", "budget scaling", "held", "released", "clawback", "carried recovery", "carry forward",
             "payable"]
    if s.periods:
        out.append("per period:")
        label_w = max(len(p) for p in s.periods) or 1
        for p, t in s.periods.items():
            vals = [t.earned, t.budget_scaling, t.held, t.released, t.clawback, t.carried_recovery,
                    t.carry_forward, t.payable]
            parts = [f"{h} {m.display(v)}" for h, v in zip(heads, vals) if v or h in ("earned", "payable")]
            out.append(f"  {(p or 'all').ljust(label_w)}  {t.records:,} records; " + "; ".join(parts))
        forfeited = total_of(t.forfeited for t in s.periods.values())
        if forfeited:
            out.append(f"forfeited in statements  {m.display(forfeited)}")
    if s.components:
        out.append("per component (own values, before settlement):")
        w = max(len(n) for n in s.components)
        out += [f"  {n.ljust(w)}  {m.display(v).rjust(20)}" for n, v in s.components.items()]
    for period, name, amount, shares, paid in s.pools:
        out.append(f"pool {name} ({period or 'all'}): {m.display(amount)}; shares {m.display(shares)}; "
                   f"paid after caps {m.display(paid)}; unallocated {m.display(amount - paid)}")
    out.append(f"still held at the end  {m.display(s.still_held)}")
    out.append(f"still owed at the end  {m.display(s.owed)}")
    out += [f"note: {n}" for n in s.notes]
    return "\n".join(out)


def summary_json(compiled, s: Summary, records: str) -> str:
    """The summary for tools (`ipl run --summary FILE`): docs/schemas/run-summary.schema.json."""
    from dsl.run import schemas

    document = schemas.multi_run_summary(compiled, s, records) if s.settles else \
        schemas.single_run_summary(compiled, s, records)
    return schemas.document_text(document)
