"""`ipl test`: run the tests of `tests for` files against their policies (spec §10, §12).

Receives paths (files and folders). Guarantees:

- collection: every `*.ipl` whose first declaration is `tests for` (files named
  explicitly and files below folders); policies and modules are skipped; a
  test file with static errors (E100, E201, E302, E700 from dsl/check.py) gets
  its diagnostics reported and every one of its tests counts as failed;
- one `Outcome` per selected test (`-k`: name contains the text, case
  insensitive): the record is the fixture with the `with` overrides (values are
  IPL constants: money, percent, number, count, bool, text, enum members and
  level labels; the id defaults to the test's name), `param` overrides give a
  what-if compilation, the record is validated like `ipl run` validates a
  record (§13) and evaluated with tracing; every `expect` is compared exactly
  (Decimal equality; money after the engine's rounding; enums and levels by
  label); `expect error "TEXT"` passes when the record is rejected with a
  message containing TEXT;
- a failure carries the expected and actual values and the `ipl explain`
  statement of the record; an error (a rejected record no test expected, a
  policy the evaluator cannot run yet, a multi-period test) carries a one-line
  reason and counts as failed;
- coverage (dsl/coverage.py) accumulated over every evaluated test, failing
  ones included;
- renderers: text (pytest-like, closing line `N passed, N failed`) and JUnit XML.

Emits no diagnostics of its own: static problems are the checker's (E700...).
"""

from __future__ import annotations

import dataclasses
import decimal
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from dsl.front import ast
from dsl.tools import coverage
from dsl.backends.python import runtime
from dsl.checker.currency import minor_units
from dsl.front.diagnostics import Diagnostic, Diagnostics
from dsl.checker.checked import CheckedPolicy
from dsl.backends.python.runtime import Unsupported
from dsl.checker.types import Kind, Type

PASS, FAIL, ERROR = "pass", "fail", "error"
NOT_COMPUTED = object()  # a definition the evaluation did not need (§5: evaluated on demand)


# ------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One `expect` that did not hold."""

    location: str  # file:line:col of the `expect`
    target: str  # what was expected: `total`, `renewal_tier`, `error`
    expected: str  # in IPL syntax
    actual: str
    label: str = ""  # §2a: the target's `##` label, if it has one


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one test."""

    path: str
    name: str
    status: str  # pass | fail | error
    location: str
    mismatches: tuple[Mismatch, ...] = ()
    message: str | None = None  # why an error (or a failed `expect error`)
    explanation: str | None = None  # the `ipl explain` statement of the record

    @property
    def passed(self) -> bool:
        return self.status == PASS


@dataclass
class FileResult:
    """One test file: its static diagnostics and its tests' outcomes."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    policy: str | None = None  # the policy's path, when it checks


@dataclass
class Report:
    files: list[FileResult]
    coverage: list[coverage.Coverage] = field(default_factory=list)

    @property
    def outcomes(self) -> list[Outcome]:
        return [o for f in self.files for o in f.outcomes]

    @property
    def passed(self) -> int:
        return sum(1 for o in self.outcomes if o.passed)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if not o.passed)

    @property
    def ok(self) -> bool:
        return self.failed == 0


class NoTests(Exception):
    """Nothing to run: no test files under the paths, or `-k` selects no test (exit 2)."""


# ------------------------------------------------------------------ collection

_TESTS_FOR = re.compile(r"tests[ \t\f\r\n]+for\b")


def is_test_file(path: Path) -> bool:
    """Whether the file's first declaration is `tests for` (comments and blank lines skipped)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return True  # let the run report it as unreadable
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    for line in text.splitlines():
        line = line.strip(" \t\f\r")
        if not line or line.startswith("#"):
            continue
        return bool(_TESTS_FOR.match(text, text.find(line)))
    return False


def test_files(paths: list[str]) -> list[Path]:
    """The test files among the paths (folders: every `*.ipl` below); `UsageError` for a missing path."""
    from dsl.checker.driver import collect

    return [p for p in collect(paths) if is_test_file(p)]


# ------------------------------------------------------------------ running


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


class Runner:
    """Runs the tests of one file against its checked policy; compilations are cached per
    set of `param` overrides."""

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
                return evaluate_periods(self, test)
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

    def expect_type(self, name: str | None) -> Type:
        from dsl.checker.types import BOOL, LIST, MONEY

        if name == "total" or name in ("held", "released", "payable"):
            return self.policy.definitions[name].type if name in self.policy.definitions else MONEY
        if name == "eligible":
            return BOOL
        if name == "reasons":
            return LIST
        return self.policy.definitions[name].type

    def actual(self, name: str, compiled, out):

        result = out.result
        if name == "total":
            return result.total
        if name == "eligible":
            return result.eligible
        if name == "reasons":
            return tuple(result.reasons)
        d = self.policy.definitions[name]
        match d.kind:
            case "input":
                return out.record[name]
            case "param":
                return compiled.params[name]
            case "component":
                return result.components[[c.name for c in compiled.components].index(name)]
            case "benefit":
                return result.benefits[[b.name for b in compiled.benefits].index(name)]
            case "metric" | "tiers" | "scorecard":
                found = _traced_value(out.events, name)
                if found is NOT_COMPUTED:
                    found = self.forced(name, compiled, out)
                return found
            case _:
                raise AssertionError(f"unhandled expectation kind {d.kind}")

    def forced(self, name: str, compiled, out):
        """The value of a definition the evaluation did not need (§5: on demand), computed for
        the test alone: the policy compiled with one more gate, `require NAME == NAME`, which
        always passes and makes the evaluator compute NAME first. The record's outcome, its
        explanation and coverage come from the normal evaluation, never from this one."""
        import dataclasses

        from dsl.backends.python.compiled import compile_program
        from dsl.checker.types import BOOL
        from dsl.ir import nodes as ir
        from dsl.ir.lower import lower

        program = compiled.program if compiled.program is not None else lower(self.policy)
        d = program.definitions[name]
        ref = ir.Ref(key=name, kind=ir.kind_of(d), type=d.type, span=d.span)
        gate = ir.Gate(cond=ir.Binary(op="==", left=ref, right=ref, type=BOOL, span=d.span), reason="", span=d.span)
        try:
            variant = compile_program(dataclasses.replace(program, gates=(*program.gates, gate)), compiled._overrides)
            if out.settlement is not None:  # a row of a policy that settles: its history matters
                return self._forced_in_history(variant, name, out)
            with decimal.localcontext(runtime.CONTEXT):
                _result, events = variant.traced()(out.record)
        except Exception:  # noqa: BLE001 - e.g. a division by zero: the definition has no value here
            return NOT_COMPUTED
        return _traced_value(events, name)


    def _forced_in_history(self, variant, name: str, out):
        """Multi-period: the forced variant over the test's whole history; its value in the
        period of `out`, provided that forcing rejected no record up to that period (a
        history that differs would give a different value)."""
        from dsl.run.results import Row
        from dsl.run.runner import run_history

        for row in run_history(variant, list(self.history)):
            if not isinstance(row, Row):
                return NOT_COMPUTED
            if row.period == out.period:
                return _traced_value(row.events, name)
        return NOT_COMPUTED

    history: tuple[dict, ...] = ()  # the raw records of the multi-period test being run


def _traced_value(events, name: str):
    found = NOT_COMPUTED
    for ev in events or ():
        if ev.get("def") == name and "kind" in ev:
            found = ev["value"]
    return found


def evaluate_periods(runner: Runner, test: ast.Test) -> tuple[Outcome, set[tuple]]:
    """A test of a multi-period policy (§10, §14): the partner's history (`given periods`, or
    one record per plain `given` in the period it names) run through the multi-period
    run (dsl/run/runner.py); each expectation is about its `in "PERIOD"`, else the last
    period. `held` and `released` are the period's amounts (positive), `clawback NAME` the
    period's clawback lines of NAME (negative), `payable` the settled payable."""
    from dsl.run.records import Reject
    from dsl.run.results import Row
    from dsl.run.runner import run_history

    policy = runner.policy
    pfield = policy.period_input
    if pfield is None and any(g.periods for g in test.givens):
        raise Unsupported("`given periods` needs a multi-period policy (an input of type `period`)")
    records: list[dict] = []
    params: dict[str, object] = {}
    try:
        for g in test.givens:
            if g.periods:
                for pg in g.periods:
                    fields, ps = runner.record_of(test, ast.Given(fixture=pg.fixture, overrides=pg.overrides))
                    fields[pfield] = pg.period
                    records.append(fields)
                    params.update(ps)
            else:
                fields, ps = runner.record_of(test, g)
                records.append(fields)
                params.update(ps)
    except _ValueProblem as err:
        return Outcome(runner.path, test.name, ERROR, str(test.span), message=str(err)), set()
    runner.history = tuple(records)
    if not records:
        return Outcome(runner.path, test.name, ERROR, str(test.span),
                       message="the test has no `given`: write `given periods { \"PERIOD\" -> FIXTURE }`"), set()
    compiled = runner.compiled(params)
    outcomes = run_history(compiled, records)
    rows: dict[str, Row] = {}
    rejects: dict[str, Reject] = {}
    reached: set[tuple] = set()
    for o in outcomes:
        if isinstance(o, Row):
            rows[str(o.period) if o.period is not None else ""] = o
            reached |= coverage.hits(compiled, o.events or [])
        else:
            rejects[str(records[o.row - 1].get(pfield, "")) if pfield else ""] = o
    periods = sorted(set(rows) | set(rejects))
    mismatches: list[Mismatch] = []
    failed_in: list[str] = []  # periods whose statement explains a mismatch
    for ex in test.expects:
        period = ex.period or (periods[-1] if periods else "")
        where = f" in {period}" if ex.period else ""
        label = (f"clawback {ex.name}" if ex.clawback else ex.name or "error") + where
        if period in rejects:
            rej = rejects[period]
            message = (f"field `{rej.field}`: " if rej.field else "") + rej.reason
            if ex.error is not None:
                if ex.error not in message:
                    mismatches.append(Mismatch(str(ex.span), label,
                                               f"a reject with a message containing {_quote(ex.error)}", message))
                continue
            mismatches.append(Mismatch(str(ex.span), label, "a value", f"nothing: the record is rejected ({message})"))
            continue
        if period not in rows:
            mismatches.append(Mismatch(str(ex.span), label, "a value", f"nothing: the history has no {period!r}"))
            continue
        if ex.error is not None:
            mismatches.append(Mismatch(str(ex.span), label,
                                       f"a reject with a message containing {_quote(ex.error)}",
                                       "the record was evaluated, not rejected"))
            failed_in.append(period)
            continue
        pr = rows[period]
        s = pr.settlement
        t = runner.expect_type(ex.name) if not ex.clawback else policy.definitions[ex.name].type
        if ex.clawback:
            actual = s.clawback_of(ex.name)
        elif ex.name == "held" and "held" not in policy.definitions:
            actual = -s.column("held")
        elif ex.name == "released" and "released" not in policy.definitions:
            actual = s.column("release")
        elif ex.name == "payable" and "payable" not in policy.definitions:
            actual = s.payable
        else:
            actual = runner.actual(ex.name, compiled, pr)
        expected = constant(ex.value, t)
        if not same(expected, actual):
            mismatches.append(Mismatch(str(ex.span), label, show(expected, t, policy.currency),
                                       show(actual, t, policy.currency)))
            failed_in.append(period)
    if not mismatches:
        return Outcome(runner.path, test.name, PASS, str(test.span)), reached
    texts = [period_explanation(compiled, rows[p]) for p in sorted(set(failed_in))]
    return Outcome(runner.path, test.name, FAIL, str(test.span), tuple(mismatches),
                   explanation="\n".join(t for t in texts if t) or None), reached


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


def explanation(compiled, out) -> str | None:
    """The `ipl explain` text statement of an evaluated record."""
    from dsl.explain import statement as explain
    from dsl.run.trace import row_tree

    try:
        tree = row_tree(compiled, out)
        return explain.render_text(explain.build(compiled, tree, out.record), compiled)
    except Exception as err:  # noqa: BLE001 - a test report never ends in a traceback
        return f"(no explanation: {type(err).__name__}: {err})\n"


# ------------------------------------------------------------------ values written in tests


class _ValueProblem(Exception):
    """A test value that cannot be computed (a division by zero in a literal)."""


def constant(e: ast.Expr, t: Type):
    """The value of a constant written in a test file, as the evaluator represents it:
    Decimal for numbers (percent as a fraction), str for text, ids, enum members and
    labels, bool, a tuple of str for `reasons`. The checker (E700) has checked its type."""
    with decimal.localcontext(runtime.CONTEXT):
        return _constant(e, t)


def _constant(e: ast.Expr, t: Type):
    match e:
        case ast.Number(value=v) | ast.Percent(value=v) | ast.Money(amount=v):
            return v
        case ast.String(value=v):
            return v
        case ast.Bool(value=v):
            return v
        case ast.Name(name=n):
            return n
        case ast.ListLit(items=items):
            return tuple(_constant(i, t) for i in items)
        case ast.Unary(op="-", operand=x):
            return -_constant(x, t)
        case ast.Binary(op=op, left=a, right=b) if op in ("+", "-", "*", "/"):
            x, y = _constant(a, t), _constant(b, t)
            if op == "/":
                if y == 0:
                    raise _ValueProblem(f"division by zero in the test value `{e.span.text}` at {e.span}")
                return x / y
            return x + y if op == "+" else (x - y if op == "-" else x * y)
        case _:
            raise AssertionError(f"unhandled test value {type(e).__name__}")


def same(expected, actual) -> bool:
    """Exact equality: Decimals by value, bools only with bools."""
    if actual is NOT_COMPUTED:
        return False
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, Decimal) and isinstance(actual, Decimal):
        return expected == actual
    return type(expected) is type(actual) and expected == actual


def _grouped(v: Decimal, keep_zeros: bool = False) -> str:
    text = format(v, "f") if keep_zeros and not v.is_zero() else runtime.fmt_decimal(v)
    sign = "-" if text.startswith("-") else ""
    whole, dot, frac = text.lstrip("-").partition(".")
    if len(whole) > 3:
        groups = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        whole = "_".join([whole, *groups])
    return f"{sign}{whole}{dot}{frac}"


def show(value, t: Type, currency: str) -> str:
    """A value in IPL syntax, as a test would write it: `48_000 USD`, `92.5%`, `enterprise`."""
    if value is NOT_COMPUTED:
        return "not computed (§5: a definition is evaluated only when something needs it)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        if t.kind is Kind.MONEY:
            digits = minor_units(currency)
            if value == value.to_integral_value():
                return f"{_grouped(value)} {currency}"
            if -value.as_tuple().exponent < digits:
                value = value.quantize(runtime.quantum(digits))  # exact: only zeros are added
            return f"{_grouped(value, keep_zeros=True)} {currency}"
        if t.kind is Kind.PERCENT:
            return f"{_grouped(value.scaleb(2))}%"
        return _grouped(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_quote(v) for v in value) + "]"
    if isinstance(value, str):
        return value if t.kind in (Kind.ENUM, Kind.LEVEL) else _quote(value)
    return str(value)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ------------------------------------------------------------------ rendering


def render_text(report: Report, show_coverage: bool = False) -> str:
    """pytest-like: a line per test, the failures in detail, coverage, then `N passed, N failed`."""
    from dsl.front.diagnostics import render_text as render_diagnostic

    out: list[str] = []
    for f in report.files:
        for d in f.diagnostics:
            out.append(render_diagnostic(d))
            out.append("")
    for o in report.outcomes:
        out.append(f"{o.status.upper():<5} {o.path}::{o.name}")
    bad = [o for o in report.outcomes if not o.passed]
    for o in bad:
        out += ["", f"{'=' * 8} {o.status.upper()} {o.path}::{o.name} ({o.location}) {'=' * 8}"]
        if o.message:
            out.append(o.message)
        for m in o.mismatches:
            out.append(f"{m.location}: expect {m.target}" + (f" ({m.label})" if m.label else ""))
            out.append(f"  expected: {m.expected}")
            out.append(f"  actual:   {m.actual}")
        if o.explanation:
            out.append("why the actual values are what they are (ipl explain):")
            out += [("  " + line).rstrip() for line in o.explanation.rstrip("\n").split("\n")]
    if show_coverage and report.coverage:
        out += ["", coverage.render(report.coverage).rstrip("\n")]
    out += ["", f"{report.passed} passed, {report.failed} failed"]
    return "\n".join(out) + "\n"


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    return _XML_BAD.sub("\ufffd", text)


def render_junit(report: Report) -> str:
    """JUnit XML: a testsuite per test file, a testcase per test; failures with expected and actual."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="ipl test", tests=str(len(report.outcomes)),
                      failures=str(sum(1 for o in report.outcomes if o.status == FAIL)),
                      errors=str(sum(1 for o in report.outcomes if o.status == ERROR)))
    for f in report.files:
        suite = ET.SubElement(root, "testsuite", name=_xml(f.path), tests=str(len(f.outcomes)),
                              failures=str(sum(1 for o in f.outcomes if o.status == FAIL)),
                              errors=str(sum(1 for o in f.outcomes if o.status == ERROR)))
        if f.diagnostics:
            from dsl.front.diagnostics import render_text as render_diagnostic

            err = ET.SubElement(suite, "system-err")
            err.text = _xml("\n\n".join(render_diagnostic(d) for d in f.diagnostics))
        for o in f.outcomes:
            case = ET.SubElement(suite, "testcase", name=_xml(o.name), classname=_xml(f.path), file=_xml(f.path))
            if o.passed:
                continue
            summary = o.message or "; ".join(f"expect {m.target}: expected {m.expected}, actual {m.actual}"
                                             for m in o.mismatches)
            body = "\n".join([*([o.message] if o.message else []),
                              *(f"{m.location}: expect {m.target}\n  expected: {m.expected}\n  actual:   {m.actual}"
                                for m in o.mismatches),
                              *([o.explanation] if o.explanation else [])])
            node = ET.SubElement(case, "failure" if o.status == FAIL else "error", message=_xml(summary),
                                 type=o.status)
            node.text = _xml(body)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


__all__ = ["run_paths", "run_file", "test_files", "is_test_file", "render_text", "render_junit", "Report",
           "FileResult", "Outcome", "Mismatch", "Runner", "NoTests", "constant", "show", "evaluate_periods"]
