"""The batch run: load and check a policy, compile it, stream records through it.

Receives a policy path, a records path and validated `--set` overrides.
Guarantees: every record read ends up exactly once in the payouts or in the
rejects (`read = paid + rejected`, checked at the end); records are streamed
(memory holds one record, the duplicate-id hashes and the summary); a record
whose evaluation fails (an uncaught division by zero, a value too large to
round) is rejected with the definition, its location and the operand values —
found by re-running that one record with the traced variant, so that the fast
path carries no bookkeeping; what the readers say about the records file as a
whole (dsl/records.py: a missing column, an unclosed quote) is in the summary's
notes. Emits no diagnostics itself: a policy with errors comes back as the
checker's diagnostics (`PolicyErrors`).
"""

from __future__ import annotations

import decimal
from array import array
from operator import add
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from dsl.backends.python import runtime
from dsl.backends.python.compiled import CompiledPolicy
from dsl.run.policy import PolicyErrors, UsageProblem, compile_file, compile_policy, load_policy, parse_overrides  # noqa: F401
from dsl.run.records import (
    Reject, Validator, _id_text, column_of, csv_lists, detect_format,
    duplicate_ids, exact_duplicates, fast_validator, fields_of, raw_records, repeated_hashes,
)
from dsl.backends.python.runtime import EvalError
from dsl.checker.types import Kind


# ------------------------------------------------------------------ one record


class Evaluated(NamedTuple):
    """A record that was evaluated (a tuple: one is made per record on the fast path)."""

    row: int
    id: str
    record: dict
    result: tuple
    events: list | None = None  # the trace, when traced


def evaluate_record(compiled: CompiledPolicy, row: int, rid: str, record: dict,
                    traced: bool = False) -> Evaluated | Reject:
    """Evaluate one validated record; an evaluation error becomes a reject."""
    try:
        if traced:
            result, events = compiled.traced()(record)
            return Evaluated(row, rid, record, result, events)
        return Evaluated(row, rid, record, compiled.evaluate(record))
    except Exception:  # noqa: BLE001 - the traced re-run below says what failed
        return Reject(row, rid, None, _failure(compiled, record))


def _failure(compiled: CompiledPolicy, record: dict) -> str:
    try:
        compiled.traced()(record)
    except EvalError as err:
        return err.describe()
    except ArithmeticError as err:
        return f"evaluation failed: {type(err).__name__}"
    except RecursionError:
        return "evaluation failed: nested too deeply"
    return "evaluation failed"  # pragma: no cover - the traced variant fails where the fast one does


# ------------------------------------------------------------------ the batch


@dataclass
class Summary:
    read: int = 0
    paid: int = 0
    rejected: int = 0
    eligible: int = 0
    total: Decimal = Decimal(0)
    components: dict[str, Decimal] = field(default_factory=dict)
    benefits: dict[str, Decimal] = field(default_factory=dict)
    levels: dict[str, dict[str, list]] = field(default_factory=dict)  # benefit -> label -> [count, cost]
    floor_adjustment: Decimal = Decimal(0)  # what total floors added (eligible records)
    cap_adjustment: Decimal = Decimal(0)  # what total caps took away (negative)
    notes: list[str] = field(default_factory=list)

    @property
    def reconciled(self) -> bool:
        return self.read == self.paid + self.rejected


class DuplicatesFound(Exception):
    """An optimistic single-pass run met repeated ids: run again knowing them (§13)."""

    def __init__(self, ids: frozenset[str]):
        super().__init__(f"{len(ids)} duplicate ids")
        self.ids = ids


def run(compiled: CompiledPolicy, records_path: str, on_paid: Callable[[Evaluated], None] | None,
        on_reject: Callable[[Reject], None], traced: bool = False,
        progress: Callable[[int], None] | None = None, duplicates: frozenset[str] | None = None,
        optimistic: bool = False, emit: Callable[[str, tuple], None] | None = None) -> Summary:
    """Stream every record through the policy; returns the reconciled summary.

    Duplicate ids (§13) are found by a first pass over the ids, unless they are given
    (`duplicates`) or the run is `optimistic`: then one pass keeps the ids' hashes and raises
    `DuplicatesFound` at the end if an id repeated, so that the caller — whose outputs are
    atomic and not yet in place — runs again knowing them. `emit(id, result)`, if given,
    replaces `on_paid` on the untraced path (no `Evaluated` is built).
    """
    runtime.activate()
    summary = Summary()
    comps = [c.name for c in compiled.components]
    money_bens = [(i, b.name) for i, b in enumerate(compiled.benefits) if b.type.kind is Kind.MONEY]
    level_bens = [(i, b.name) for i, b in enumerate(compiled.benefits) if b.type.kind is Kind.LEVEL]
    comp_totals = [Decimal(0)] * len(comps)
    ben_totals = {name: Decimal(0) for _, name in money_bens}
    levels: dict[str, dict[str, list]] = {name: {} for _, name in level_bens}
    track = duplicates is None and optimistic
    if duplicates is None and not optimistic:
        duplicates = duplicate_ids(records_path, column_of(fields_of(compiled.program), compiled.id_field))
    validator = Validator(fields_of(compiled.program), compiled.id_field, duplicates or frozenset())
    header, rows = (None, None)
    if detect_format(records_path) == "csv":
        header, rows = csv_lists(records_path, tick=progress, notes=summary.notes)
    if header is None or rows is None:
        header, rows = None, raw_records(records_path, tick=progress, notes=summary.notes)
    validate = fast_validator(validator, header, notes=summary.notes)
    evaluate = compiled.evaluate
    id_field = compiled.id_field
    total = Decimal(0)
    read = paid = rejected = eligible = 0
    floor_adj = cap_adj = Decimal(0)
    # an 8-byte hash per id in 64 arrays (8 MB for a million records), checked at the end
    buckets = [array("q") for _ in range(64)] if track else []
    pushes = [b.append for b in buckets]
    if emit is None or traced:
        emit = None
    with decimal.localcontext(runtime.CONTEXT):
        for row, raw, problem in rows:
            read += 1
            rec = validate(row, raw, problem)
            if rec.__class__ is Reject:
                rejected += 1
                on_reject(rec)
                if track and rec.id:
                    h = hash(rec.id)
                    pushes[h & 63](h)
                continue
            rid = rec[id_field]
            if track:
                h = hash(rid)
                pushes[h & 63](h)
            if traced:
                out = evaluate_record(compiled, row, rid, rec, traced=True)
                if out.__class__ is Reject:
                    rejected += 1
                    on_reject(out)
                    continue
                res = out.result
            else:
                try:
                    res = evaluate(rec)
                except Exception:  # noqa: BLE001 - re-run traced for the reason
                    rejected += 1
                    on_reject(Reject(row, rid, None, _failure(compiled, rec)))
                    continue
                out = None
            paid += 1
            if res.eligible:
                eligible += 1
                total += res.total
                floor_adj += res.floor_adjustment
                cap_adj += res.cap_adjustment
                comp_totals = list(map(add, comp_totals, res.components))
                if money_bens:
                    bvals = res.benefits
                    for i, name in money_bens:
                        ben_totals[name] += bvals[i]
            if level_bens:
                for i, name in level_bens:
                    label = res.benefits[i]
                    slot = levels[name].setdefault(label, [0, Decimal(0)])
                    slot[0] += 1
                    slot[1] += res.total
            if emit is not None:
                emit(rid, res)
            else:
                on_paid(out if out is not None else Evaluated(row, rid, rec, res))
    repeated = repeated_hashes(buckets)
    del buckets, pushes
    if repeated:
        exact = exact_duplicates(records_path, column_of(fields_of(compiled.program), id_field), repeated)
        if exact:
            raise DuplicatesFound(exact)
    summary.read, summary.paid, summary.rejected = read, paid, rejected
    summary.total = total
    summary.floor_adjustment = floor_adj
    summary.cap_adjustment = cap_adj
    summary.eligible = eligible
    summary.components = dict(zip(comps, comp_totals))
    summary.benefits = ben_totals
    summary.levels = levels
    if summary.read == 0:
        summary.notes.append(f"{records_path} holds no records")
    if not summary.reconciled:  # pragma: no cover - every branch above counts the record once
        raise AssertionError("records read do not reconcile with paid + rejected")
    return summary


def find_record(compiled: CompiledPolicy, records_path: str, wanted: str) -> Evaluated | Reject | None:
    """The record with id `wanted`, evaluated with tracing (`ipl explain`); None when absent.

    Only the matching rows are validated and evaluated; duplicates of the id reject it (§13).
    A CSV file's rows are validated for its header (a required column it lacks rejects them).
    """
    runtime.activate()
    validator = Validator(fields_of(compiled.program), compiled.id_field)
    header, cells = csv_lists(records_path) if detect_format(records_path) == "csv" else (None, None)
    if header is not None:
        validator = validator.for_header(header)
        rows = ((row, dict(zip(header, c)) if c is not None else None, p) for row, c, p in cells)
    else:
        rows = cells if cells is not None else raw_records(records_path)
    found: list[tuple[int, dict | None, str | None]] = []
    for row, raw, problem in rows:
        if raw is not None and validator.record_id(raw) == wanted:
            found.append((row, raw, problem))
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


def ids_like(records_path: str, id_column: str, wanted: str, limit: int = 200_000) -> str | None:
    """A close id for a "did you mean" when `--id` is not in the file; `id_column` is the id
    input's column as written in the file (`records.column_of`)."""
    import difflib

    seen = []
    for i, (_row, raw, _p) in enumerate(raw_records(records_path)):
        if i >= limit:
            break
        if raw is not None:
            value = _id_text(raw.get(id_column))
            if value:
                seen.append(value)
    found = difflib.get_close_matches(wanted, seen, n=1, cutoff=0.7)
    return found[0] if found else None


def iter_results(compiled: CompiledPolicy, records_path: str) -> Iterator[Evaluated | Reject]:
    """Every record's outcome, in file order (tests and `ipl diff` use it)."""
    out: list = []
    run(compiled, records_path, out.append, out.append)
    return iter(sorted(out, key=lambda x: x.row))


def line_reasons(result: tuple) -> list[str]:
    """Eligibility reasons, then each failed component/benefit `require` as `name: reason`."""
    reasons = list(result.reasons)
    for name, rs in result.line_reasons:
        reasons.extend(f"{name}: {r}" for r in rs)
    return reasons


# ------------------------------------------------------------------ payout rows (§12 `run`)


def payout_columns(compiled: CompiledPolicy) -> list[str]:
    """The id column (named as the id input), components and benefits in declaration order,
    `total`, `eligible`, `reasons`."""
    return ([compiled.id_field] + [c.name for c in compiled.components] + [b.name for b in compiled.benefits]
            + ["total", "eligible", "reasons"])


def cell_formatter(kind: Kind):
    """How a value of one type is written in outputs: money with the currency's digits."""
    if kind is Kind.MONEY:
        return _money_text
    if kind is Kind.BOOL:
        return lambda v: "true" if v else "false"
    if kind in (Kind.NUMBER, Kind.PERCENT, Kind.COUNT):
        return runtime.fmt_decimal
    return str


def _money_text(v: Decimal) -> str:
    # values are already rounded to the minor unit (§9): write them without an exponent
    return format(v, "f")


_FORMULA = frozenset("=+-@\t\r")


def payout_writer(compiled: CompiledPolicy, json_like: bool):
    """A function Evaluated -> list of cells (CSV text, or JSON values when `json_like`)."""
    comp_n = len(compiled.components)
    ben_fmt = [cell_formatter(b.type.kind) for b in compiled.benefits]

    if json_like:
        ben_json = [(lambda v: v) if b.type.kind in (Kind.MONEY, Kind.NUMBER, Kind.PERCENT, Kind.COUNT, Kind.BOOL)
                    else str for b in compiled.benefits]

        def cells_json(ev: Evaluated) -> list:
            res = ev.result
            return ([ev.id, *res.components] + [f(v) for f, v in zip(ben_json, res.benefits)]
                    + [res.total, res.eligible, line_reasons(res)])
        return cells_json

    from dsl.run.outputs import defuse

    def cells_csv(ev: Evaluated) -> list:
        res = ev.result
        rid = ev.id
        # components and totals are rounded to the minor unit: their str() has no exponent
        out = [defuse(rid) if rid[0] in _FORMULA else rid, *res.components]
        out += [defuse(f(v)) for f, v in zip(ben_fmt, res.benefits)]
        out.append(res.total)
        out.append("true" if res.eligible else "false")
        out.append(defuse("; ".join(line_reasons(res))) if (res.reasons or res.line_reasons) else "")
        return out
    _ = comp_n
    return cells_csv


def render_summary(compiled: CompiledPolicy, s: Summary) -> str:
    """The reconciled run summary for people (§12 `run`)."""
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


def summary_json(compiled: CompiledPolicy, s: Summary, records: str) -> str:
    """The summary for tools (`ipl run --summary FILE`): docs/schemas/run-summary.schema.json."""
    from dsl.run import schemas

    return schemas.document_text(schemas.single_run_summary(compiled, s, records))


# ------------------------------------------------------------------ `ipl run`


def run_command(policy_path: str, records: str, out: str | None, rejects: str | None, trace: str | None,
                sets: list[str], echo, echo_err, progress_bar, ledger: str | None = None,
                summary_path: str | None = None) -> int:
    """`ipl run`: returns the exit code; raises UsageProblem / PolicyErrors for the CLI to render."""
    import os

    from dsl.run.outputs import OutputError, output_format
    from dsl.run.records import RecordsUnreadable, detect_format

    compiled = compile_file(policy_path, sets)
    if compiled.multi is not None:  # periods, history, holds, clawbacks, pools, budget (§14, §15)
        from dsl.run import settle

        try:
            detect_format(records)
        except RecordsUnreadable as err:
            raise UsageProblem(str(err)) from None
        if not Path(records).is_file():
            raise UsageProblem(f"no such records file: {records}")
        return settle.run_command(compiled, records, out, rejects, trace, ledger, echo, echo_err, progress_bar,
                                  summary_path)
    if ledger is not None:
        raise UsageProblem("--ledger: this policy has no periods, holds, clawbacks or draws, so it has no ledger")
    try:
        detect_format(records)
        if not Path(records).is_file():
            raise UsageProblem(f"no such records file: {records}")
        for path in (out, rejects):
            if path is not None:
                output_format(path, ("csv", "json", "jsonl"))
        if trace is not None:
            output_format(trace, ("jsonl",))
        if summary_path is not None:
            output_format(summary_path, ("json",))
    except (RecordsUnreadable, OutputError) as err:
        raise UsageProblem(str(err)) from None
    size = os.path.getsize(records)
    duplicates = None
    try:
        while True:
            try:
                summary, shown = _run_once(compiled, records, out, rejects, trace, progress_bar, size, duplicates,
                                           summary_path)
                break
            except DuplicatesFound as found:  # the outputs of the first pass were never put in place
                duplicates = found.ids
    except RecordsUnreadable as err:
        raise UsageProblem(str(err)) from None
    except OutputError as err:
        raise UsageProblem(str(err)) from None
    return finish_run(summary.rejected, shown, render_summary(compiled, summary), out, rejects, echo, echo_err)


def finish_run(rejected: int, shown: list[Reject], summary: str, out: str | None, rejects: str | None,
               echo, echo_err) -> int:
    """The end of `ipl run` (one period or many): the rejects kept for the terminal, the
    summary (on stderr when the payouts go to stdout), and the exit code (§12)."""
    for r in shown:
        echo_err(f"rejected row {r.row}{' (' + r.id + ')' if r.id else ''}"
                 f"{' field ' + r.field if r.field else ''}: {r.reason}")
    if rejected > len(shown) and rejects is None:
        echo_err(f"... and {rejected - len(shown)} more rejected records (write them all with --rejects FILE)")
    (echo_err if out is None else echo)(summary)
    return 1 if rejected else 0


def _run_once(compiled: CompiledPolicy, records: str, out, rejects, trace, progress_bar, size, duplicates,
              summary_path: str | None = None):
    import sys

    from dsl.run.outputs import RowWriter, atomic_open, dumps, outputs_together

    columns = payout_columns(compiled)
    payouts = RowWriter(out, columns) if out else None
    reject_w = RowWriter(rejects, ["row", "id", "field", "reason"], frozenset({1, 2, 3})) if rejects else None
    trace_w = atomic_open(trace) if trace else None
    summary_w = atomic_open(summary_path) if summary_path else None
    if out is None and duplicates is None:
        # payouts stream to stdout: find duplicate ids first, there is no second chance
        duplicates = duplicate_ids(records, column_of(fields_of(compiled.program), compiled.id_field))
    shown: list[Reject] = []
    with outputs_together(), contextlib_nullable(payouts) as pw, contextlib_nullable(reject_w) as rw, \
            contextlib_nullable(trace_w) as tw, contextlib_nullable(summary_w) as sw:
        if pw is not None:
            write = pw.write_csv_row if pw.format == "csv" else pw.write
        else:
            import csv as _csv
            stdout_csv = _csv.writer(sys.stdout, lineterminator="\n")
            stdout_csv.writerow(columns)
            write = stdout_csv.writerow
        json_like = pw is not None and pw.format != "csv"
        cells = payout_writer(compiled, json_like)
        emit = None
        if tw is not None:
            from dsl.run.trace import record_tree

            def on_paid(ev: Evaluated) -> None:
                write(cells(ev))
                tw.write(dumps(record_tree(compiled, ev.row, ev.id, ev.result, ev.events)) + "\n")
        else:
            def on_paid(ev: Evaluated) -> None:
                write(cells(ev))
            if not json_like:
                emit = csv_emitter(compiled, write)

        def on_reject(r: Reject) -> None:
            if rw is not None:
                rw.write([r.row, r.id or "", r.field or "", r.reason] if rw.format == "csv"
                         else [r.row, r.id, r.field, r.reason])
            elif len(shown) < 20:
                shown.append(r)
            if tw is not None:
                tw.write(dumps({"id": r.id, "row": r.row, "rejected": r.reason, "field": r.field}) + "\n")

        with progress_bar(size) as tick:
            summary = run(compiled, records, on_paid, on_reject, traced=trace is not None, progress=tick,
                          duplicates=duplicates, optimistic=duplicates is None, emit=emit)
        if sw is not None:
            sw.write(summary_json(compiled, summary, records))
        if pw is None:  # the payouts reach standard output before the other outputs are put in place
            sys.stdout.flush()
    return summary, shown


def csv_emitter(compiled: CompiledPolicy, write: Callable[[list], None]) -> Callable[[str, tuple], None]:
    """A generated `emit(id, result)` writing one payout CSV row (the fast path of `ipl run`)."""
    from dsl.backends.python.rows import make_csv_row
    from dsl.run.outputs import defuse

    return make_csv_row([b.type.kind.value for b in compiled.benefits], len(compiled.components), write,
                        {"defuse": defuse, "reasons": line_reasons, "fmt": runtime.fmt_decimal})


class contextlib_nullable:
    """`with` over an optional context manager."""

    def __init__(self, cm):
        self.cm = cm

    def __enter__(self):
        return self.cm.__enter__() if self.cm is not None else None

    def __exit__(self, *exc):
        return self.cm.__exit__(*exc) if self.cm is not None else False
