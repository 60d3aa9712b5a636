"""Running the tests: every selected test of every test file, against its policy.

Receives the test files that collect.py found. Guarantees one `Outcome` per selected test
(`-k`: name contains the text, case insensitive): the record is the fixture with the `with`
overrides (values.py), the id defaulting to the test's name; `param` overrides give a what-if
compilation (cached per set of overrides); the record is validated like `ipl run` validates a
record (§13) and evaluated with tracing; every `expect` is compared exactly (values.py: Decimal
equality; money after the engine's rounding; enums and levels by label), its actual value read
by actuals.py; `expect error "TEXT"` passes when the record is rejected with a message
containing TEXT. A test of a multi-period policy runs its history (periods.py). A failure
carries the `ipl explain` statement of the record; an error (a rejected record no test
expected, a policy the evaluator cannot run yet) a one-line reason. A test file with static
errors gets its diagnostics reported and every one of its tests counts as failed. Coverage
(dsl/tools/coverage.py) is accumulated over every evaluated test, failing ones included. Emits
no diagnostics of its own: static problems are the checker's (E700...).
"""

from __future__ import annotations

import dataclasses
import decimal
from pathlib import Path

from dsl.backends.python import runtime
from dsl.backends.python.runtime import Unsupported
from dsl.checker.checked import CheckedPolicy
from dsl.front import ast
from dsl.front.diagnostics import Diagnostics
from dsl.tools import coverage
from dsl.tools.testing.actuals import Actuals
from dsl.tools.testing.collect import test_files
from dsl.tools.testing.periods import Periods
from dsl.tools.testing.results import ERROR, FAIL, PASS, FileResult, Mismatch, NoTests, Outcome, Report
from dsl.tools.testing.values import _quote, _ValueProblem, constant, same, show


def run_paths(paths: list[str], keyword: str | None = None, with_coverage: bool = False) -> Report:
    """Collect and run; `NoTests` when there is nothing to run (`UsageError` for a bad path)."""
    files = test_files(paths)
    if not files:
        raise NoTests(f"no test files (`tests for ...`) in {', '.join(paths)}")
    coverages: dict[str, coverage.Coverage] = {}
    results = [run_file(p, keyword, coverages if with_coverage else None) for p in files]
    report = Report(results, list(coverages.values()))
    if not report.outcomes and not any(f.diagnostics for f in results):
        found = sum(1 for _ in results)
        if keyword:
            raise NoTests(f"no test name contains {keyword!r} (in {found} test file{'s' if found != 1 else ''})")
        raise NoTests(f"the test files hold no tests ({', '.join(f.path for f in results)})")
    return report


def run_file(path: Path, keyword: str | None = None,
             coverages: dict[str, coverage.Coverage] | None = None) -> FileResult:
    """Check one test file and run its selected tests (coverage added to `coverages`)."""
    from dsl.checker.driver import check_loaded
    from dsl.checker.driver import load

    diags = Diagnostics()
    loaded = load(path, diags)
    result = FileResult(str(path))
    file = loaded.file
    if file is None or not isinstance(file, ast.TestFile):
        result.diagnostics = diags.sorted()
        if file is None:
            result.outcomes.append(Outcome(str(path), "(the whole file)", ERROR, f"{path}:1:1",
                                           message="the test file does not parse (see above)"))
        return result
    policy = check_loaded(loaded, diags)
    result.diagnostics = [d for d in diags.sorted() if d.severity.value == "error"]
    selected = [t for t in file.tests if keyword is None or keyword.lower() in t.name.lower()]
    if policy is None:
        for t in selected:
            result.outcomes.append(Outcome(str(path), t.name, ERROR, str(t.span),
                                           message="not run: the test file has errors (see above)"))
        if not file.tests:  # errors and no test to fail: the file itself fails
            result.outcomes.append(Outcome(str(path), "(the whole file)", ERROR, f"{path}:1:1",
                                           message="the test file has errors (see above)"))
        return result
    result.policy = policy.source.path
    cov = None
    if coverages is not None:
        cov = coverages.get(policy.source.path)
        if cov is None:
            cov = coverages[policy.source.path] = coverage.Coverage(policy.source.path, coverage.inventory(policy))
    runner = Runner(policy, file, str(path))
    for t in selected:
        outcome, reached = runner.run(t)
        result.outcomes.append(outcome)
        if cov is not None:
            cov.add(reached)
    return result


class Runner(Periods, Actuals):
    """Runs the tests of one file against its checked policy; compilations are cached per
    set of `param` overrides."""

    history: tuple[dict, ...] = ()  # the raw records of the multi-period test being run (periods.py)

    def __init__(self, policy: CheckedPolicy, file: ast.TestFile, path: str):
        self.policy = policy
        self.file = file
        self.path = path
        self.fixtures = {fx.name: fx for fx in file.fixtures}
        self._compiled: dict[tuple, object] = {}

    def compiled(self, params: dict[str, object]):
        from dsl.run.policy import compile_policy

        key = tuple(sorted((k, repr(v)) for k, v in params.items()))
        if key not in self._compiled:
            try:
                self._compiled[key] = compile_policy(self.policy, params)
            except Unsupported as err:
                self._compiled[key] = err
        got = self._compiled[key]
        if isinstance(got, Unsupported):
            raise got
        return got

    def _multi(self) -> bool:
        """Pools, ranks, a budget, holds or draws: the multi-period evaluator runs the test (§15:
        a single-period policy's records are one period)."""
        from dsl.ir.lower import lower

        return lower(self.policy).multi

    def run(self, test: ast.Test) -> tuple[Outcome, set[tuple]]:
        outcome, hits = self._run(test)
        if outcome.mismatches:  # §2a: the labels people read beside the names
            defs = self.policy.definitions
            labelled = tuple(dataclasses.replace(m, label=defs[m.target].label or "") if m.target in defs else m
                             for m in outcome.mismatches)
            outcome = dataclasses.replace(outcome, mismatches=labelled)
        return outcome, hits

    def _run(self, test: ast.Test) -> tuple[Outcome, set[tuple]]:
        def error(message: str) -> tuple[Outcome, set[tuple]]:
            return Outcome(self.path, test.name, ERROR, str(test.span), message=message), set()

        if self.policy.period_input is not None or any(g.periods for g in test.givens) or self._multi():
            try:
                return self.evaluate_periods(test)
            except (Unsupported, _ValueProblem) as err:
                return error(str(err))
        if len(test.givens) != 1:
            return error("a test of a single-period policy gives exactly one record: write one `given`"
                         if test.givens else "the test has no `given`: write `given FIXTURE` or `given { ... }`")
        try:
            fields, params = self.record_of(test, test.givens[0])
        except _ValueProblem as err:
            return error(str(err))
        try:
            compiled = self.compiled(params)
        except Unsupported as err:
            return error(f"cannot evaluate this policy yet: {err}")
        try:
            return self.evaluate(test, compiled, fields)
        except _ValueProblem as err:
            return error(str(err))

    # -- the record
    def record_of(self, test: ast.Test, given: ast.Given) -> tuple[dict, dict]:
        """The raw record (input name → value) and the param overrides of one `given`."""
        assigns: list[ast.Assign] = []
        if given.fixture is not None:
            assigns.extend(self.fixtures[given.fixture].fields)
        assigns.extend(given.overrides)
        fields: dict[str, object] = {}
        params: dict[str, object] = {}
        defs = self.policy.definitions
        for a in assigns:
            if a.is_param:
                params[a.name] = constant(a.value, defs[a.name].type)
            else:
                fields[a.name] = constant(a.value, defs[a.name].type)
        # decided: a record without an id takes the test's name as its id
        fields.setdefault(self.policy.id_input, test.name)
        return fields, params

    # -- evaluation and comparison
    def evaluate(self, test: ast.Test, compiled, fields: dict) -> tuple[Outcome, set[tuple]]:
        from dsl.run.records import Reject, Validator, fields_of
        from dsl.run.results import Row
        from dsl.run.runner import evaluate_record

        validator = Validator(fields_of(compiled.program), compiled.id_field, fixtures=True)
        runtime.activate()
        with decimal.localcontext(runtime.CONTEXT):
            rec = validator.validate(1, fields)
            if isinstance(rec, Reject):
                return self.rejected(test, rec), set()
            rid = rec[compiled.id_field]
            try:
                out = evaluate_record(compiled, 1, rid, rec, traced=True)
            except Unsupported as err:
                return Outcome(self.path, test.name, ERROR, str(test.span),
                               message=f"cannot evaluate this policy yet: {err}"), set()
        if isinstance(out, Reject):
            return self.rejected(test, out), set()
        assert isinstance(out, Row)
        reached = coverage.hits(compiled, out.events or [])
        mismatches = []
        for ex in test.expects:
            if ex.error is not None:
                mismatches.append(Mismatch(str(ex.span), "error", f"a reject with a message containing {_quote(ex.error)}",
                                           "the record was evaluated, not rejected"))
                continue
            expected = constant(ex.value, self.expect_type(ex.name))
            actual = self.actual(ex.name, compiled, out)
            if not same(expected, actual):
                t = self.expect_type(ex.name)
                mismatches.append(Mismatch(str(ex.span), ex.name, show(expected, t, self.policy.currency),
                                           show(actual, t, self.policy.currency)))
        if not mismatches:
            return Outcome(self.path, test.name, PASS, str(test.span)), reached
        return Outcome(self.path, test.name, FAIL, str(test.span), tuple(mismatches),
                       explanation=explanation(compiled, out)), reached

    def rejected(self, test: ast.Test, rej) -> Outcome:
        message = (f"field `{rej.field}`: " if rej.field else "") + rej.reason
        wanted = [ex for ex in test.expects if ex.error is not None]
        values = [ex for ex in test.expects if ex.error is None]
        if not wanted:
            return Outcome(self.path, test.name, ERROR, str(test.span), message=f"the record is rejected: {message}")
        mismatches = [Mismatch(str(ex.span), "error", f"a reject with a message containing {_quote(ex.error)}",
                               message)
                      for ex in wanted if ex.error not in message]
        mismatches += [Mismatch(str(ex.span), ex.name or "", show(constant(ex.value, self.expect_type(ex.name)),
                                                                  self.expect_type(ex.name), self.policy.currency),
                                f"nothing: the record is rejected ({message})") for ex in values]
        if not mismatches:
            return Outcome(self.path, test.name, PASS, str(test.span))
        return Outcome(self.path, test.name, FAIL, str(test.span), tuple(mismatches),
                       message=None if not values else f"the record is rejected: {message}")


def explanation(compiled, out) -> str | None:
    """The `ipl explain` text statement of an evaluated record."""
    from dsl.explain import statement as explain
    from dsl.run.trace import row_tree

    try:
        tree = row_tree(compiled, out)
        return explain.render_text(explain.build(compiled, tree, out.record), compiled)
    except Exception as err:  # noqa: BLE001 - a test report never ends in a traceback
        return f"(no explanation: {type(err).__name__}: {err})\n"
