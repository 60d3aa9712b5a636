"""A statement as text (`ipl explain`, `ipl test` reports): the lines with their amounts and
why, the total, the benefits apart, the next bands; for a period, its program-wide figures
(§15) and its settlement (§14.4).

Receives a `Statement` or `PeriodStatement` (dsl/explain/model.py) and its compiled policy.
Guarantees columns aligned on the longest title and amount. Emits no diagnostics.
"""

from __future__ import annotations

from decimal import Decimal

from dsl.backends.python.compiled import CompiledPolicy
from dsl.backends.python.runtime import fmt_decimal
from dsl.explain.display import Display, benefit_value, with_values
from dsl.explain.model import PeriodStatement, Statement


def render_text(st: Statement, compiled: CompiledPolicy) -> str:
    m = compiled.money
    width = max([len(line.title) for line in st.lines + st.benefits] + [len("total")])
    amt = max([len(m.display(x.amount)) for x in st.lines] + [len(m.display(st.total))]
              + [len(benefit_value(compiled, x)) for x in st.benefits])  # a level or a flag is no amount
    title = f"Statement: {st.policy}" + (f" ({st.version})" if st.version else "")
    out = [title, f"Partner {st.id} (record {st.row}): {'eligible' if st.eligible else 'NOT eligible'}"]
    if not st.eligible:
        out.append("Not paid because:")
        out += [f"  - {r}{with_values(values)}" for r, values in st.failed] or [f"  - {r}" for r in st.reasons]
    out.append("")
    for line in st.lines:
        out.append(f"  {line.title.ljust(width)}  {m.display(line.amount).rjust(amt)}")
        out += [f"  {'':{width}}    {w}" for w in line.why]
    out.append(f"  {'-' * (width + amt + 2)}")
    out.append(f"  {'total'.ljust(width)}  {m.display(st.total).rjust(amt)}")
    if st.benefits:
        out += ["", "Benefits (not part of the total):"]
        for line in st.benefits:
            out.append(f"  {line.title.ljust(width)}  {benefit_value(compiled, line).rjust(amt)}")
            out += [f"  {'':{width}}    {w}" for w in line.why]
    if st.next_bands:
        out += ["", "What would move the partner into the next band:"]
        out += [f"  - {t}" for t in st.next_bands]
    return "\n".join(out) + "\n"


def render_period_text(ps: PeriodStatement, compiled: CompiledPolicy) -> str:
    text = render_text(ps.statement, compiled)
    if ps.period:
        lines = text.split("\n")
        lines.insert(1, f"Period {ps.period}")
        text = "\n".join(lines)
    return text + "\n" + "\n".join(program_wide_text(ps, compiled) + settlement_text(ps, compiled)) + "\n"


def render_periods_text(statements: list[PeriodStatement], rejects: list, wanted: str,
                        compiled: CompiledPolicy) -> str:
    """A partner's periods, one after the other, then its rejected records."""
    parts = [render_period_text(ps, compiled) for ps in statements]
    parts += [f"record {r.row} ({wanted}) is rejected" + (f": field {r.field}" if r.field else "")
              + f": {r.reason}\n" for r in rejects]
    return "\n".join(parts)


def settlement_text(ps: PeriodStatement, compiled: CompiledPolicy) -> list[str]:
    m = compiled.money
    s = ps.settlement
    rows = [("earned total", m.display(s.earned), "")]
    if s.budget_scaling:
        rows.append(("budget scaling", m.display(s.budget_scaling), "the period's earned totals exceed the budget"))
    for ln in s.lines:
        note = "no cash effect" if ln.kind == "forfeit" else ""
        rows.append((ln.label(Display(compiled).title), m.display(ln.amount), note))
    width = max(len(r[0]) for r in rows + [("payable", "", "")])
    amt = max(len(r[1]) for r in rows + [("", m.display(s.payable), "")])
    out = [f"Settlement of {ps.period}:" if ps.period else "Settlement:"]
    for name, value, note in rows:
        out.append(f"  {name.ljust(width)}  {value.rjust(amt)}" + (f"  ({note})" if note else ""))
    out.append(f"  {'-' * (width + amt + 2)}")
    out.append(f"  {'payable'.ljust(width)}  {m.display(s.payable).rjust(amt)}")
    return out


def program_wide_text(ps: PeriodStatement, compiled: CompiledPolicy) -> list[str]:
    """§15: the figures of the whole period that a pool, rank or percentile used."""
    m = compiled.money
    out = []
    for item in ps.program_wide:
        fig = item.get("figures") or {}
        value = item.get("value")
        match item["kind"]:
            case "pool":
                if value is None:
                    continue
                out.append(f"  `{item['expression']}`: {m.display(value)} of {m.display(fig['amount'])} "
                           f"(shares add up to {fmt_decimal(fig['sum_of_shares'])} over {fig['count']} records)")
            case "rank" | "percentile":
                if value is None:
                    out.append(f"  `{item['expression']}`: not among the {fig.get('count', 0)} records ranked")
                    continue
                shown = fmt_decimal(value) if item["kind"] == "rank" else \
                    f"{fmt_decimal((value * 100).quantize(Decimal('0.01')))} %"  # display only (§9)
                above = fig.get("value_ranked_above")
                out.append(f"  `{item['expression']}` = {shown} of {fig.get('count')} records"
                           + (f" (value {fmt_decimal(fig['value'])}; ranked just above: {fmt_decimal(above)})"
                              if above is not None else f" (value {fmt_decimal(fig['value'])})"))
            case _:
                raise AssertionError(f"unknown program-wide kind {item['kind']!r}")
    return (["Program-wide figures of the period:"] + out + [""]) if out else []
