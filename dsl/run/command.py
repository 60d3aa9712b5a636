"""`ipl run` (language §12): a policy over a records file, to its outputs.

Receives the policy's path, the records' path, the `--set` overrides and the paths of the
outputs asked for (payouts, rejects, traces, ledger, summary). Guarantees:

- the outputs are written atomically and put in place together at the end (dsl/run/outputs.py):
  a run that fails leaves none of them behind, nor half of one;
- payouts with no `-o` stream to standard output as CSV, with the summary on standard error;
- every rejected record is in `--rejects`, or — without it — the first 20 are shown on
  standard error and the count of the others;
- a single-period run makes one pass over the records: duplicate ids (language §14) are
  noticed at the end, and the run is made again knowing them (its outputs were not yet in
  place); payouts on standard output cannot be taken back, so their ids are read first.

Problems with the command's inputs or outputs are `UsageProblem`s (exit 2), a policy with
errors `PolicyErrors` (exit 1), both rendered by the CLI. Returns the exit code: 1 when a
record was rejected, else 0.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from dsl.backends.python.compiled import CompiledPolicy
from dsl.run import columns as C
from dsl.run.outputs import OutputError, RowWriter, atomic_open, csv_writer, dumps, output_format, outputs_together
from dsl.run.policy import UsageProblem, compile_file
from dsl.run.records import Reject, RecordsUnreadable, column_of, detect_format, duplicate_ids, fields_of
from dsl.run.results import Row
from dsl.run.runner import BudgetProblem, DuplicatesFound, run
from dsl.run.summary import Summary, render_summary, summary_json
from dsl.run.trace import reject_tree, row_tree

SHOWN_REJECTS = 20  # rejects shown on standard error when there is no --rejects file


@dataclass(frozen=True)
class Outputs:
    """The files `ipl run` writes (None: not asked for; payouts default to standard output)."""

    payouts: str | None = None
    rejects: str | None = None
    trace: str | None = None
    ledger: str | None = None
    summary: str | None = None


def run_command(policy_path: str, records: str, outputs: Outputs, sets: list[str], echo, echo_err,
                progress_bar) -> int:
    """`ipl run`: returns the exit code; raises UsageProblem / PolicyErrors for the CLI."""
    compiled = compile_file(policy_path, sets)
    _check_paths(compiled, records, outputs)
    size = os.path.getsize(records)
    duplicates = None
    try:
        while True:
            try:
                summary, shown = write_outputs(compiled, records, outputs, progress_bar(size), duplicates)
                break
            except DuplicatesFound as found:  # the outputs of the first pass were never put in place
                duplicates = found.ids
    except (RecordsUnreadable, OutputError, BudgetProblem) as err:
        raise UsageProblem(str(err)) from None
    for r in shown:
        echo_err(f"rejected row {r.row}{' (' + r.id + ')' if r.id else ''}"
                 f"{' field ' + r.field if r.field else ''}: {r.reason}")
    if summary.rejected > len(shown) and outputs.rejects is None:
        echo_err(f"... and {summary.rejected - len(shown)} more rejected records (write them all with --rejects FILE)")
    (echo_err if outputs.payouts is None else echo)(render_summary(compiled, summary))
    return 1 if summary.rejected else 0


def _check_paths(compiled: CompiledPolicy, records: str, outputs: Outputs) -> None:
    """The records file exists and has a known format; each output's extension is one it can
    be written as; a ledger is asked of a policy that has one."""
    if outputs.ledger is not None and compiled.multi is None:
        raise UsageProblem("--ledger: this policy has no periods, holds, clawbacks or draws, so it has no ledger")
    try:
        detect_format(records)
        if not Path(records).is_file():
            raise UsageProblem(f"no such records file: {records}")
        for path in (outputs.payouts, outputs.rejects, outputs.ledger):
            if path is not None:
                output_format(path, ("csv", "json", "jsonl"))
        if outputs.trace is not None:
            output_format(outputs.trace, ("jsonl",))
        if outputs.summary is not None:
            output_format(outputs.summary, ("json",))
    except (RecordsUnreadable, OutputError) as err:
        raise UsageProblem(str(err)) from None


def write_outputs(compiled: CompiledPolicy, records: str, outputs: Outputs, tick_cm,
                  duplicates: frozenset[str] | None = None) -> tuple[Summary, list[Reject]]:
    """One run of the records into the outputs; returns the summary and the rejects to show.

    Raises `DuplicatesFound` when a single-pass run met repeated ids (nothing was put in
    place). `tick_cm`: a context manager giving the progress callback (bytes read)."""
    settles = compiled.multi is not None
    if outputs.payouts is None and duplicates is None and not settles:
        # payouts stream to standard output: find duplicate ids first, there is no second chance
        duplicates = duplicate_ids(records, column_of(fields_of(compiled.program), compiled.id_field))
    shown: list[Reject] = []
    header = C.payout_columns(compiled)
    with outputs_together(), contextlib.ExitStack() as stack:
        def opened(path, make):
            return stack.enter_context(make(path)) if path is not None else None

        payouts = opened(outputs.payouts, lambda p: RowWriter(p, header))
        rejects = opened(outputs.rejects, lambda p: RowWriter(p, C.REJECT_COLUMNS, C.REJECT_TEXT))
        ledger = opened(outputs.ledger, lambda p: RowWriter(p, C.LEDGER_COLUMNS, C.LEDGER_TEXT))
        trace = opened(outputs.trace, atomic_open)
        summary_file = opened(outputs.summary, atomic_open)
        if payouts is not None:
            write = payouts.write_csv_row if payouts.format == "csv" else payouts.write
        else:
            stdout_csv = csv_writer(sys.stdout)
            stdout_csv.writerow(header)
            write = stdout_csv.writerow
        json_like = payouts is not None and payouts.format != "csv"
        cells = C.row_cells(compiled, json_like)
        emit = None
        if trace is not None:
            def on_row(row: Row) -> None:
                write(cells(row))
                trace.write(dumps(row_tree(compiled, row)) + "\n")
        else:
            def on_row(row: Row) -> None:
                write(cells(row))
            if not json_like and not settles:
                emit = C.csv_emitter(compiled, write)

        def on_reject(r: Reject) -> None:
            if rejects is not None:
                rejects.write(C.reject_cells(r, rejects.format != "csv"))
            elif len(shown) < SHOWN_REJECTS:
                shown.append(r)
            if trace is not None:
                trace.write(dumps(reject_tree(r)) + "\n")

        on_event = None
        if ledger is not None:
            def on_event(rid: str, ev) -> None:
                ledger.write(C.ledger_cells(rid, ev))
        with tick_cm as tick:
            summary = run(compiled, records, on_row, on_reject, on_event, traced=trace is not None, progress=tick,
                          duplicates=duplicates, optimistic=duplicates is None and not settles, emit=emit)
        if ledger is not None:
            for cells_ in C.end_of_run_cells(summary):
                ledger.write(cells_)
        if summary_file is not None:
            summary_file.write(summary_json(compiled, summary, records))
        if payouts is None:  # the payouts reach standard output before the other outputs are put in place
            sys.stdout.flush()
    return summary, shown
