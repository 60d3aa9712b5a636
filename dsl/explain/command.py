"""`ipl explain`: the statement of one record of a records file, or of one partner's periods.

Receives a policy file, `--set` overrides, a records file, an id, a format (text, json, html)
and, for a multi-period policy, an optional `--period`. Guarantees the rendered statement and
an exit code: 0, or 1 when the record (or one of the partner's records) is rejected; the
reject is rendered in the same format. A problem of the command line — no such file, no such
id (with a "did you mean"), `--period` of a policy without periods — is `UsageProblem`;
policy errors are `PolicyErrors` (both from dsl/run/policy.py). A statement that does not add
up is a bug: `AssertionError`.
"""

from __future__ import annotations

import html

from dsl.backends.python.compiled import CompiledPolicy
from dsl.explain.model import PeriodStatement
from dsl.explain.render_html import render_html, render_periods_html
from dsl.explain.render_json import render_json, render_periods_json
from dsl.explain.render_text import render_periods_text, render_text
from dsl.explain.statement import build


def explain_command(policy_path: str, records: str, wanted: str, fmt: str, sets: list[str],
                    period: str | None = None) -> tuple[str, int]:
    """The rendered statement and the exit code (1 when the record is rejected)."""
    from pathlib import Path

    from dsl.run.lookup import find_record, ids_like
    from dsl.run.policy import UsageProblem, compile_file
    from dsl.run.records import RecordsUnreadable, Reject, column_of, detect_format, fields_of
    from dsl.run.trace import row_tree

    compiled = compile_file(policy_path, sets)
    if compiled.multi is None and period is not None:
        raise UsageProblem("--period: this policy has no periods (it has no input of type `period`)")
    try:
        detect_format(records)
        if not Path(records).is_file():
            raise UsageProblem(f"no such records file: {records}")
        if compiled.multi is not None:
            return explain_periods(compiled, records, wanted, fmt, period)
        found = find_record(compiled, records, wanted)
    except RecordsUnreadable as err:
        raise UsageProblem(str(err)) from None
    if found is None:
        hint = ids_like(records, column_of(fields_of(compiled.program), compiled.id_field), wanted)
        raise UsageProblem(f"no record with {compiled.id_field} {wanted!r} in {records}"
                           + (f" (did you mean {hint!r}?)" if hint else ""))
    if isinstance(found, Reject):
        text = (f"record {found.row} ({wanted}) is rejected"
                + (f": field {found.field}" if found.field else "") + f": {found.reason}")
        if fmt == "json":
            from dsl.run.outputs import dumps
            return dumps({"id": wanted, "rejected": found.to_json()}, indent=2) + "\n", 1
        if fmt == "html":
            return f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>rejected</title></head>" \
                   f"<body><p>{html.escape(text)}</p></body></html>\n", 1
        return text + "\n", 1
    st = build(compiled, row_tree(compiled, found), found.record)
    if fmt == "json":
        return render_json(st, compiled), 0
    if fmt == "html":
        return render_html(st, compiled), 0
    return render_text(st, compiled), 0


def explain_periods(compiled: CompiledPolicy, records: str, wanted: str, fmt: str,
                    period_text: str | None) -> tuple[str, int]:
    """`ipl explain` of a multi-period policy: one period's statement (`--period`) or the
    partner's whole history, each period with its settlement lines."""
    from dsl.checker.periods import PeriodError, parse_period
    from dsl.run.lookup import ids_like, partner_rows
    from dsl.run.policy import UsageProblem
    from dsl.run.records import column_of, fields_of
    from dsl.run.trace import row_tree

    info = compiled.multi
    period = None
    if period_text is not None:
        if info.period_field is None:
            raise UsageProblem("--period: this policy has no periods (it has no input of type `period`)")
        period = parse_period(period_text, info.granularity)
        if isinstance(period, PeriodError):
            raise UsageProblem(f"--period: {period.reason}")
    rows, rejects = partner_rows(compiled, records, wanted, period)
    if period is not None:
        rows = [r for r in rows if r.period == period]
        if rows:  # the period was evaluated: rejects of the partner's other periods are not about it
            rejects = []
    if not rows and not rejects:
        if period is not None:
            raise UsageProblem(f"no record with {compiled.id_field} {wanted!r} in period {period} in {records}")
        hint = ids_like(records, column_of(fields_of(compiled.program), compiled.id_field), wanted)
        raise UsageProblem(f"no record with {compiled.id_field} {wanted!r} in {records}"
                           + (f" (did you mean {hint!r}?)" if hint else ""))
    statements = []
    for pr in rows:
        tree = row_tree(compiled, pr)
        ps = PeriodStatement(str(pr.period) if pr.period is not None else None, build(compiled, tree), pr.settlement,
                             tree["settlement"], tree.get("program_wide", []))
        if not ps.adds_up():
            raise AssertionError(f"statement of {wanted} in {ps.period} does not add up")
        statements.append(ps)
    code = 1 if rejects else 0
    match fmt:
        case "json":
            return render_periods_json(statements, rejects, wanted), code
        case "html":
            return render_periods_html(statements, rejects, compiled), code
        case _:
            return render_periods_text(statements, rejects, wanted, compiled), code
