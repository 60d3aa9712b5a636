"""The columns of `ipl run`'s outputs (language §12): the payouts, the rejects and the ledger,
and the settlement of a row as JSON (traces, statements).

Receives a `CompiledPolicy` and the run's `Row`s, `Reject`s, ledger `Event`s and `Summary`.
Guarantees one layout for every policy — a policy that does not settle has no period and no
settlement columns:

    id, [period], components…, benefits…, total, [budget_scaling, held, released, forfeited,
    clawback, carried_recovery, carry_forward, payable], eligible, reasons

CSV cells are text a spreadsheet will not run as a formula (`outputs.defuse`); money has the
currency's digits and no exponent; JSON cells are typed values (Decimals are written exactly
by `outputs.dumps`). Emits nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from dsl.backends.python import runtime
from dsl.backends.python.compiled import CompiledPolicy
from dsl.checker.types import Kind
from dsl.run import ledger as L
from dsl.run.outputs import defuse
from dsl.run.results import Row, line_reasons
from dsl.run.summary import Summary

SETTLEMENT_COLUMNS = ("budget_scaling", "held", "released", "forfeited", "clawback", "carried_recovery",
                      "carry_forward", "payable")
REJECT_COLUMNS = ["row", "id", "field", "reason"]
REJECT_TEXT = frozenset({1, 2, 3})  # the reject columns that are text (defused in CSV)
LEDGER_COLUMNS = ["id", "event", "component", "origin_period", "period", "amount"]
LEDGER_TEXT = frozenset({0, 1, 2, 3, 4})

_JSON_VALUES = (Kind.MONEY, Kind.NUMBER, Kind.PERCENT, Kind.COUNT, Kind.BOOL)


def payout_columns(compiled: CompiledPolicy) -> list[str]:
    """The id column (named as the id input), the period (named as the period input), the
    components and benefits in declaration order, `total` (earned), the settlement columns,
    `eligible`, `reasons`."""
    info = compiled.multi
    cols = [compiled.id_field] + ([info.period_field] if info is not None and info.period_field else [])
    cols += [c.name for c in compiled.components] + [b.name for b in compiled.benefits]
    return cols + ["total", *(SETTLEMENT_COLUMNS if info is not None else ()), "eligible", "reasons"]


def cell_formatter(kind: Kind) -> Callable[[object], str]:
    """How a value of one type is written in CSV: money with the currency's digits (values
    are already rounded to the minor unit, language §9: written without an exponent)."""
    if kind is Kind.MONEY:
        return lambda v: format(v, "f")
    if kind is Kind.BOOL:
        return lambda v: "true" if v else "false"
    if kind in (Kind.NUMBER, Kind.PERCENT, Kind.COUNT):
        return runtime.fmt_decimal
    return str


def row_cells(compiled: CompiledPolicy, json_like: bool) -> Callable[[Row], list]:
    """A function Row -> the cells of its payouts row (CSV text, or JSON values when `json_like`)."""
    info = compiled.multi
    has_period = info is not None and info.period_field is not None
    settles = info is not None
    q = compiled.money.q
    if json_like:
        bens = [(lambda v: v) if b.type.kind in _JSON_VALUES else str for b in compiled.benefits]
    else:
        bens = [cell_formatter(b.type.kind) for b in compiled.benefits]
    period_text = _period_text()

    def cells(row: Row) -> list:
        res = row.result
        out = [row.id if json_like else defuse(row.id)]
        if has_period:
            out.append(period_text(row.period))
        out += res.components
        if json_like:
            out += [f(v) for f, v in zip(bens, res.benefits)]
        else:
            out += [defuse(f(v)) for f, v in zip(bens, res.benefits)]
        out.append(res.total)
        if settles:
            # `+ 0` makes a negative zero a zero
            out += [v.quantize(q) + 0 for v in row.settlement.columns()]
        reasons = line_reasons(res)
        if json_like:
            out += [res.eligible, reasons]
        else:
            out += ["true" if res.eligible else "false", defuse("; ".join(reasons))]
        return out

    return cells


def _period_text() -> Callable[[object], str]:
    """`str(period)`, remembered for the period of the rows before (rows come period by period,
    each period's rows sharing its `Period`)."""
    last: list = [None, ""]

    def text(period) -> str:
        if period is not last[0]:
            last[0], last[1] = period, str(period)
        return last[1]

    return text


def csv_emitter(compiled: CompiledPolicy, write: Callable[[list], None]) -> Callable[[str, object], None]:
    """A generated `emit(id, result)` writing one payouts CSV row of a policy that does not
    settle (the fast path of `ipl run`: no `Row` is made); the same cells as `row_cells`."""
    from dsl.backends.python.rows import make_csv_row

    return make_csv_row([b.type.kind.value for b in compiled.benefits], len(compiled.components), write,
                        {"defuse": defuse, "reasons": line_reasons, "fmt": runtime.fmt_decimal})


def reject_cells(reject, json_like: bool) -> list:
    """row, id, field, reason (absent id and field are empty in CSV, null in JSON)."""
    if json_like:
        return [reject.row, reject.id, reject.field, reject.reason]
    return [reject.row, reject.id or "", reject.field or "", reject.reason]


def ledger_cells(rid: str, ev: L.Event) -> list:
    """One ledger event: id, event, component, origin_period, period, amount."""
    return [rid, ev.kind, ev.component or "", str(ev.origin), str(ev.period), ev.amount]


def end_of_run_cells(summary: Summary) -> list[list]:
    """What is still held or owed at the end of the run (the ledger's last rows), by id."""
    last = str(summary.last_period) if summary.last_period is not None else ""
    out = []
    for rid, ledger in sorted(summary.ledgers.items()):
        for e in sorted(ledger.holds, key=lambda x: (x.origin, x.component)):
            out.append([rid, "still_held", e.component, str(e.origin), last, e.amount])
        if ledger.balance > 0:
            out.append([rid, "owed", "", "", last, ledger.balance])
    return out


def settlement_json(row: Row) -> dict:
    """A row's settlement (language §15): the earned total, the budget scaling, each line in
    statement order, the payable; `period` is null for a policy without periods."""
    s = row.settlement
    return {
        "period": str(s.period) if row.period is not None else None,
        "earned": s.earned, "budget_scaling": s.budget_scaling,
        "lines": [{"line": ln.label(), "kind": ln.kind, "component": ln.component,
                   "origin": str(ln.origin) if ln.origin is not None else None, "amount": ln.amount,
                   "cash": ln.cash} for ln in s.lines],
        "payable": s.payable,
    }

