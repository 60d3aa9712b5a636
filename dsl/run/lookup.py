"""One partner's outcomes from a records file, traced (`ipl explain`), and close ids for a
"did you mean".

Receives a `CompiledPolicy`, a records path and the id wanted. Guarantees the same outcome
the whole run gives that partner: a policy that does not settle validates and evaluates only
the rows with that id (duplicates of it reject it, language §14); one that settles runs every
record — a partner's figures depend on its history and on program-wide figures over every
partner — tracing only that partner. Emits nothing.
"""

from __future__ import annotations

import decimal
import difflib

from dsl.backends.python import runtime
from dsl.backends.python.compiled import CompiledPolicy
from dsl.checker.periods import Period
from dsl.run.records import Reject, Validator, csv_lists, detect_format, fields_of, id_text, raw_records
from dsl.run.results import Row
from dsl.run.runner import evaluate_record, run


def find_record(compiled: CompiledPolicy, records_path: str, wanted: str) -> Row | Reject | None:
    """The record with id `wanted` of a policy that does not settle, evaluated with tracing;
    None when absent. A CSV file's rows are validated for its header (a required column it
    lacks rejects them)."""
    runtime.activate()
    validator = Validator(fields_of(compiled.program), compiled.id_field)
    header, cells = csv_lists(records_path) if detect_format(records_path) == "csv" else (None, None)
    if header is not None:
        validator = validator.for_header(header)
        rows = ((row, dict(zip(header, c)) if c is not None else None, p) for row, c, p in cells)
    else:
        rows = cells if cells is not None else raw_records(records_path)
    found = [(row, raw, problem) for row, raw, problem in rows
             if raw is not None and validator.record_id(raw) == wanted]
    if not found:
        return None
    if len(found) > 1:
        validator.duplicates = frozenset({wanted})
    row, raw, problem = found[0]
    rec = validator.validate(row, raw, problem)
    if isinstance(rec, Reject):
        return rec
    with decimal.localcontext(runtime.CONTEXT):
        return evaluate_record(compiled, row, wanted, rec, traced=True)


def partner_rows(compiled: CompiledPolicy, records: str, wanted: str,
                 period: Period | None) -> tuple[list[Row], list[Reject]]:
    """A policy that settles: the partner's evaluated periods (traced) and its rejects, up to
    `period` when given."""
    rows: list[Row] = []
    rejects: list[Reject] = []

    def on_row(row: Row) -> None:
        if row.id == wanted:
            rows.append(row)

    def on_reject(r: Reject) -> None:
        if r.id == wanted:
            rejects.append(r)

    run(compiled, records, on_row, on_reject, traced=wanted, upto=period)
    return rows, rejects


def ids_like(records_path: str, id_column: str, wanted: str, limit: int = 200_000) -> str | None:
    """A close id for a "did you mean" when `--id` is not in the file (among the first `limit`
    records); `id_column` is the id input's column as written in the file (`records.column_of`)."""
    seen = []
    for i, (_row, raw, _p) in enumerate(raw_records(records_path)):
        if i >= limit:
            break
        if raw is not None:
            value = id_text(raw.get(id_column))
            if value:
                seen.append(value)
    found = difflib.get_close_matches(wanted, seen, n=1, cutoff=0.7)
    return found[0] if found else None


def outcomes(compiled: CompiledPolicy, records_path: str) -> list[Row | Reject]:
    """Every record's outcome, in file order (`ipl diff` and tests)."""
    out: list = []
    run(compiled, records_path, out.append, out.append)
    return sorted(out, key=lambda x: x.row)
