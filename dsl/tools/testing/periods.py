"""A test of a multi-period policy (§10, §14): the partner's history, run and checked per period.

A mixin of `Runner` (runner.py). Receives a test whose policy settles (or has pools, ranks, a
budget, holds or draws), or that gives `given periods`. Guarantees the history (`given periods`,
or one record per plain `given` in the period it names) runs through the multi-period run
(dsl/run/runner.py); each expectation is about its `in "PERIOD"`, else the last period; `held`
and `released` are the period's amounts (positive), `clawback NAME` the period's clawback lines
of NAME (negative), `payable` the settled payable. A failure carries the `ipl explain --period`
statement of each period with a failed expectation. Raises `Unsupported` for `given periods`
against a single-period policy, and lets a `_ValueProblem` of an expected value through (the
runner makes both an error of the test).
"""

from __future__ import annotations

from dsl.backends.python.runtime import Unsupported
from dsl.front import ast
from dsl.tools import coverage
from dsl.tools.testing.results import ERROR, FAIL, PASS, Mismatch, Outcome
from dsl.tools.testing.values import _quote, _ValueProblem, constant, same, show


class Periods:
    """Runs the test of a multi-period policy (a mixin of `Runner`)."""

    def evaluate_periods(self, test: ast.Test) -> tuple[Outcome, set[tuple]]:
        """The test's history, run; each expectation compared in its period."""
        if self.policy.period_input is None and any(g.periods for g in test.givens):
            raise Unsupported("`given periods` needs a multi-period policy (an input of type `period`)")
        try:
            records, params = self._history(test)
        except _ValueProblem as err:
            return Outcome(self.path, test.name, ERROR, str(test.span), message=str(err)), set()
        self.history = tuple(records)
        if not records:
            return Outcome(self.path, test.name, ERROR, str(test.span),
                           message="the test has no `given`: write `given periods { \"PERIOD\" -> FIXTURE }`"), set()
        compiled = self.compiled(params)
        rows, rejects, reached = self._run_history(compiled, records)
        periods = sorted(set(rows) | set(rejects))
        mismatches: list[Mismatch] = []
        failed_in: list[str] = []  # periods whose statement explains a mismatch
        for ex in test.expects:
            period = ex.period or (periods[-1] if periods else "")
            where = f" in {period}" if ex.period else ""
            label = (f"clawback {ex.name}" if ex.clawback else ex.name or "error") + where
            if period in rejects:
                mismatch = _against_reject(ex, label, rejects[period])
            elif period not in rows:
                mismatch = Mismatch(str(ex.span), label, "a value", f"nothing: the history has no {period!r}")
            else:
                mismatch = self._against_row(ex, label, compiled, rows[period])
                if mismatch is not None:
                    failed_in.append(period)
            if mismatch is not None:
                mismatches.append(mismatch)
        if not mismatches:
            return Outcome(self.path, test.name, PASS, str(test.span)), reached
        texts = [period_explanation(compiled, rows[p]) for p in sorted(set(failed_in))]
        return Outcome(self.path, test.name, FAIL, str(test.span), tuple(mismatches),
                       explanation="\n".join(t for t in texts if t) or None), reached

    def _history(self, test: ast.Test) -> tuple[list[dict], dict]:
        """The raw records of the test, in the order written, and the param overrides of all."""
        pfield = self.policy.period_input
        records: list[dict] = []
        params: dict[str, object] = {}
        for g in test.givens:
            if g.periods:
                for pg in g.periods:
                    fields, ps = self.record_of(test, ast.Given(fixture=pg.fixture, overrides=pg.overrides))
                    fields[pfield] = pg.period
                    records.append(fields)
                    params.update(ps)
            else:
                fields, ps = self.record_of(test, g)
                records.append(fields)
                params.update(ps)
        return records, params

    def _run_history(self, compiled, records: list[dict]) -> tuple[dict, dict, set[tuple]]:
        """The history through the multi-period run: the rows and the rejects by period, and the
        decisions reached (coverage)."""
        from dsl.run.records import Reject
        from dsl.run.results import Row
        from dsl.run.runner import run_history

        pfield = self.policy.period_input
        rows: dict[str, Row] = {}
        rejects: dict[str, Reject] = {}
        reached: set[tuple] = set()
        for o in run_history(compiled, records):
            if isinstance(o, Row):
                rows[str(o.period) if o.period is not None else ""] = o
                reached |= coverage.hits(compiled, o.events or [])
            else:
                rejects[str(records[o.row - 1].get(pfield, "")) if pfield else ""] = o
        return rows, rejects, reached

    def _against_row(self, ex: ast.Expect, label: str, compiled, row) -> Mismatch | None:
        """One expectation about a period that was evaluated; None when it holds."""
        if ex.error is not None:
            return Mismatch(str(ex.span), label, f"a reject with a message containing {_quote(ex.error)}",
                            "the record was evaluated, not rejected")
        policy = self.policy
        t = self.expect_type(ex.name) if not ex.clawback else policy.definitions[ex.name].type
        actual = self._period_actual(ex, compiled, row)
        expected = constant(ex.value, t)
        if same(expected, actual):
            return None
        return Mismatch(str(ex.span), label, show(expected, t, policy.currency), show(actual, t, policy.currency))

    def _period_actual(self, ex: ast.Expect, compiled, row):
        """The settlement figures by their names (unless the policy defines the name), else the
        value of a definition in the period's row."""
        s = row.settlement
        defs = self.policy.definitions
        if ex.clawback:
            return s.clawback_of(ex.name)
        if ex.name == "held" and "held" not in defs:
            return -s.column("held")
        if ex.name == "released" and "released" not in defs:
            return s.column("release")
        if ex.name == "payable" and "payable" not in defs:
            return s.payable
        return self.actual(ex.name, compiled, row)


def _against_reject(ex: ast.Expect, label: str, rej) -> Mismatch | None:
    """One expectation about a period whose record was rejected; None when it expected that."""
    message = (f"field `{rej.field}`: " if rej.field else "") + rej.reason
    if ex.error is not None:
        if ex.error not in message:
            return Mismatch(str(ex.span), label, f"a reject with a message containing {_quote(ex.error)}", message)
        return None
    return Mismatch(str(ex.span), label, "a value", f"nothing: the record is rejected ({message})")


def period_explanation(compiled, row) -> str | None:
    """The `ipl explain --period` text of one evaluated (id, period): statement and settlement."""
    from dsl.explain import statement as explain
    from dsl.run.trace import row_tree

    try:
        tree = row_tree(compiled, row)
        ps = explain.PeriodStatement(str(row.period) if row.period is not None else None,
                                     explain.build(compiled, tree, row.record), row.settlement, tree["settlement"])
        return explain.render_period_text(ps, compiled)
    except Exception as err:  # noqa: BLE001 - a test report never ends in a traceback
        return f"(no explanation: {type(err).__name__}: {err})\n"


# the function of before, `evaluate_periods(runner, test)`: a `Runner` is a `Periods`
evaluate_periods = Periods.evaluate_periods
