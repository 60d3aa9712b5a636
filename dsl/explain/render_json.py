"""A statement as JSON (`ipl explain --format json`; the schema is docs/schemas): every line
with its amount, why, source and location, the failed gates with the values they read, the
benefits, the next bands and the trace tree; for a multi-period policy, one statement per
period with its settlement and program-wide figures.

Receives a `Statement` or `PeriodStatement` (dsl/explain/model.py). Guarantees Decimals
written with every digit (`dsl.run.outputs.dumps`). Emits no diagnostics.
"""

from __future__ import annotations

from dsl.backends.python.compiled import CompiledPolicy
from dsl.explain.model import Line, PeriodStatement, Statement


def json_dict(st: Statement) -> dict:
    """A statement as JSON values (Decimals stay Decimals: `dumps` writes their digits)."""
    def line_json(line: Line) -> dict:
        return {"name": line.name, "label": line.title, "description": line.description, "kind": line.kind,
                "amount": line.amount, "why": line.why, "source": line.source, "location": line.location}

    return {
        "policy": st.policy, "version": st.version, "currency": st.currency, "id": st.id, "row": st.row,
        "eligible": st.eligible, "reasons": st.reasons,
        "failed_gates": [{"reason": r, "values": v} for r, v in st.failed], "lines": [line_json(x) for x in st.lines],
        "total": st.total, "benefits": [line_json(x) for x in st.benefits], "next_bands": st.next_bands,
    }


def render_json(st: Statement, compiled: CompiledPolicy) -> str:
    """One record's statement, with its trace tree."""
    from dsl.run.outputs import dumps

    return dumps({**json_dict(st), "trace": st.tree}, indent=2) + "\n"


def render_periods_json(statements: list[PeriodStatement], rejects: list, wanted: str) -> str:
    """A partner's periods, each with its settlement, and its rejected records."""
    from dsl.run.outputs import dumps

    out = {"id": wanted, "periods": [
        {**json_dict(ps.statement), "period": ps.period, "settlement": ps.settlement_json,
         **({"program_wide": ps.program_wide} if ps.program_wide else {})}
        for ps in statements],
        "rejected": [r.to_json() for r in rejects]}
    return dumps(out, indent=2) + "\n"
