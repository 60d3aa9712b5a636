"""The shape of every JSON document `ipl` writes, and the JSON Schema published for it.

Why pydantic: each JSON output has one definition of its shape, a frozen model per object
with a one-line description per key, and its JSON Schema (docs/schemas/*.schema.json) is
generated from that definition (`write_schemas`): the writer, the schema and the docs cannot
drift apart unnoticed (tests/test_schemas.py compares the committed schemas with the models
and validates real outputs against them). Models forbid extra keys: a key a writer adds must
be added to its model, on purpose. Documents: `ExplainDocument` (`ipl explain --format
json`), `DiffReport` (`ipl diff --format json`), `TestReport` (`ipl test --format json`),
`RunSummary` (`ipl run --summary FILE`); docs/outputs.md lists them with their schemas.

Writing stays exact and stays with dsl/run/outputs.py's `dumps` (`document_text`):
`model.model_dump()` keeps Decimals as Decimals, `dumps` writes their digits as JSON numbers,
never through a float. Money and every other number are `Number`: a Decimal (an int is made
one; a float, a string or a bool is refused), `"type": "number"` in the schema. Reading back
is exact too: pydantic-core reads a JSON number as a binary float before it makes a Decimal
of it (`0.10` comes back `0.1`; 17 significant digits at most: pydantic-core issue #1688),
so these models' `model_validate_json` parses with `json.loads(parse_float=Decimal)` and
validates in Python mode (`pydantic.TypeAdapter(...).validate_json` would not: do not use it).

The explain and diff documents are built by dsl/explain/statement.py and dsl/tools/diff/;
the test report and the run summary are built here, as models validated as they are made
(`ipl_test_report`, `single_run_summary`, `multi_run_summary`). Emits no diagnostics.

Why one module of some 640 lines: it is a catalogue of models, one section per document in
the order above, each model a few annotated keys; the published schemas are generated from all
of them together (`SCHEMAS`, `schema_texts`), callers read it as `schemas.DiffReport`, and
docs/outputs.md follows the same sections. Splitting it per document would spread one
definition of the outputs over four modules that must agree on `Model`, `Number` and `loads`.
"""

from __future__ import annotations

import json
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel, WithJsonSchema
from pydantic.json_schema import GenerateJsonSchema
from typing_extensions import TypeAliasType

from dsl.backends.python.runtime import total_of

DRAFT = "https://json-schema.org/draft/2020-12/schema"
TEST_SCHEMA = "ipl-test/1"
RUN_SUMMARY_SCHEMA = "ipl-run-summary/1"


# ------------------------------------------------------------------ exact numbers


def _exact(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ValueError(f"an exact number is wanted (a Decimal or an int), not a {type(value).__name__}")
    return Decimal(value) if isinstance(value, int) else value


Number = Annotated[Decimal, BeforeValidator(_exact), WithJsonSchema({"type": "number"})]
"""An exact decimal, written as a JSON number with its digits."""

Count = Annotated[int, Field(ge=0)]

JsonValue = TypeAliasType(
    "JsonValue", Union[bool, int, Number, str, None, list["JsonValue"], dict[str, "JsonValue"]])


def loads(text: str | bytes | bytearray) -> Any:
    """JSON text as Python values, numbers exact (Decimal; ints stay ints); a repeated key, or
    `NaN` / `Infinity`, is a `ValueError`."""
    def unique(pairs: list[tuple[str, Any]]) -> dict:
        out = dict(pairs)
        if len(out) != len(pairs):
            raise ValueError(f"a key appears twice in one object: {sorted(k for k, _ in pairs)}")
        return out

    def constant(name: str):
        raise ValueError(f"{name} is not a JSON number")

    return json.loads(text, parse_float=Decimal, parse_constant=constant, object_pairs_hook=unique)


class _ExactJson:
    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any):
        """Validate JSON text, its numbers read exactly (the module docstring says why)."""
        return cls.model_validate(loads(json_data), **kwargs)


class Model(_ExactJson, BaseModel):
    """An object of an `ipl` JSON document: frozen, strict, no key it does not declare."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False, defer_build=True)


def document_text(model: BaseModel) -> str:
    """A document as `ipl` writes it: `dumps` of the model's Python values, indented by 2."""
    from dsl.run.outputs import dumps

    return dumps(model.model_dump(by_alias=True), indent=2) + "\n"


# ------------------------------------------------------------------ `ipl explain --format json`


class FailedGate(Model):
    """An eligibility gate that failed, with the values its condition read."""

    reason: str = Field(description="The gate's `else` text.")
    values: dict[str, str] = Field(description="Each value the condition read, by name, as people read it.")


class Line(Model):
    """A line of a statement: a component, a total floor or cap adjustment, or a benefit."""

    name: str = Field(description="The definition's name; `total floor` / `total cap` for the total's adjustments.")
    label: str = Field(description="What people read: the `##` label (§2a), else the name.")
    description: str = Field(description="The definition's doc comment; empty when it has none.")
    kind: Literal["component", "floor", "cap", "benefit"] = Field(description="What the line is.")
    amount: Number | bool | str = Field(
        description="Money for components and adjustments; a benefit's value (money, number, flag or level label).")
    why: list[str] = Field(description="Why the amount is what it is, one sentence each.")
    source: str = Field(description="The definition's source text; empty for adjustments and lines not computed.")
    location: str = Field(description="file:line:column of the definition; empty where `source` is.")


class _StatementFields(Model):
    policy: str = Field(description="The policy's name, from its header.")
    version: str | None = Field(description="The policy's version, from its header.")
    currency: str = Field(description="The ISO 4217 code of the policy's money.")
    id: str = Field(description="The record's id.")
    row: Count = Field(description="The record's position in the records file, from 1.")
    eligible: bool = Field(description="Whether the record passed every eligibility gate.")
    reasons: list[str] = Field(description="The `else` text of each failed eligibility gate.")
    failed_gates: list[FailedGate] = Field(description="Each failed eligibility gate, with the values it read.")
    lines: list[Line] = Field(description="Components, then the total's floor and cap adjustments: summing to `total`.")
    total: Number = Field(description="The total after floors and caps (0 when not eligible).")
    benefits: list[Line] = Field(description="The benefits, in declaration order: not part of the total.")
    next_bands: list[str] = Field(description="Per flat table used: the distance to the next band, what it gives.")


class Statement(_StatementFields):
    """`ipl explain --format json` of a single-period policy: one record's statement."""

    trace: dict[str, JsonValue] = Field(description="The record's trace tree, as `ipl run --trace` writes it.")


class SettlementLine(Model):
    """A settlement line of one period (§14.4)."""

    line: str = Field(description="The line as the statement names it (`release renewal_bonus (from 2026-Q1)`).")
    kind: Literal["held", "release", "forfeit", "clawback", "carried_recovery", "carry_forward"] = Field(
        description="What the line does.")
    component: str | None = Field(description="The component held, released, forfeited or clawed back.")
    origin: str | None = Field(description="The period the money was earned in.")
    amount: Number = Field(description="Signed as in the statement; a forfeit's is the money forfeited.")
    cash: Number = Field(description="What the line adds to the payable (0 for a forfeit).")


class Settlement(Model):
    """How one period's earned total becomes its payable (§14.4)."""

    period: str | None = Field(description="The period settled; null for a policy without a period input.")
    earned: Number = Field(description="The statement's total.")
    budget_scaling: Number = Field(description="What the budget took from the earned total (0 or negative).")
    lines: list[SettlementLine] = Field(description="Holds, releases, forfeits, clawbacks, recovery and carry forward.")
    payable: Number = Field(description="earned + budget_scaling + the lines' cash: what is paid for the period.")


class ProgramWideFigure(Model):
    """A program-wide figure (§15) the record used: a pool share, a rank or a percentile."""

    expression: str = Field(description="The expression's source text.")
    kind: Literal["pool", "rank", "percentile"] = Field(description="Which program-wide figure.")
    value: Number | None = Field(description="The record's share, rank or percentile; null when not among them.")
    figures: dict[str, Number | None] = Field(description="The period's figures behind the value (amount, count, ...).")


class PeriodStatement(_StatementFields):
    """One period of a partner: the statement of its earned total, then its settlement."""

    period: str | None = Field(description="The period; null for a policy without a period input.")
    settlement: Settlement = Field(description="How the earned total became the payable.")
    program_wide: list[ProgramWideFigure] | None = Field(
        default=None, description="Present when the record used program-wide figures.")


class Reject(Model):
    """A rejected record, as in the rejects file."""

    row: Count = Field(description="The record's position in the records file, from 1.")
    id: str | None = Field(description="The record's id, when it has one.")
    field: str | None = Field(description="The input at fault, named as its column; null for an evaluation error.")
    reason: str = Field(description="What is wrong.")


class PeriodsDocument(Model):
    """`ipl explain --format json` of a multi-period policy: the partner's periods."""

    id: str = Field(description="The partner's id.")
    periods: list[PeriodStatement] = Field(description="Each period evaluated (one with `--period`), in order.")
    rejected: list[Reject] = Field(description="The partner's rejected records.")


class RejectedDocument(Model):
    """`ipl explain --format json` of a rejected record (single-period policy)."""

    id: str = Field(description="The id asked for.")
    rejected: Reject = Field(description="Why the record is rejected.")


class ExplainDocument(_ExactJson, RootModel):
    """`ipl explain --format json`: a statement, a partner's periods, or a rejected record."""

    model_config = ConfigDict(frozen=True, strict=True)
    root: Union[Statement, PeriodsDocument, RejectedDocument]


# ------------------------------------------------------------------ `ipl diff --format json`


class DiffSide(Model):
    """One of the two policies compared."""

    path: str = Field(description="The policy file, as given.")
    policy: str = Field(description="The policy's name.")
    version: str | None = Field(description="The policy's version.")


class ParamChange(Model):
    """A param whose value differs."""

    name: str = Field(description="The param's name.")
    old: Number | bool | str | None = Field(description="The old value; null when the old policy lacks it.")
    new: Number | bool | str | None = Field(description="The new value; null when the new policy lacks it.")
    old_text: str = Field(description="The old value as people read it.")
    new_text: str = Field(description="The new value as people read it.")


class DiffCounts(Model):
    """How many records, and how their outcomes moved."""

    read: Count = Field(description="Records read.")
    paid_old: Count = Field(description="Records the old policy paid.")
    paid_new: Count = Field(description="Records the new policy paid.")
    rejected_old: Count = Field(description="Records the old policy rejected.")
    rejected_new: Count = Field(description="Records the new policy rejected.")
    eligible_old: Count = Field(description="Records eligible under the old policy.")
    eligible_new: Count = Field(description="Records eligible under the new policy.")
    changed: Count = Field(description="Records whose amount changed.")
    up: Count = Field(description="Records whose amount went up.")
    down: Count = Field(description="Records whose amount went down.")
    newly_rejected: Count = Field(description="Records the new policy rejects and the old one did not.")
    newly_accepted: Count = Field(description="Records the old policy rejected and the new one does not.")
    newly_ineligible: Count = Field(description="Records eligible under the old policy only.")
    newly_eligible: Count = Field(description="Records eligible under the new policy only.")


class DiffTotal(Model):
    """The total cost under each policy."""

    old: Number = Field(description="The old total cost.")
    new: Number = Field(description="The new total cost.")
    delta: Number = Field(description="new - old.")
    percent: Number | None = Field(description="delta / |old| x 100, half-even to 2 places; null when old is 0.")


class DiffAmounts(Model):
    """A component, adjustment or money benefit under each policy."""

    name: str = Field(description="The line's name.")
    label: str = Field(description="What people read: the `##` label, else the name.")
    status: Literal["changed", "unchanged", "added", "removed"] = Field(description="How the line changed.")
    old: Number | None = Field(description="The old sum; null when only in the new policy.")
    new: Number | None = Field(description="The new sum; null when only in the old policy.")
    delta: Number = Field(description="new - old (a missing side counts 0).")


class MoverComponent(Model):
    """A component of a mover whose value moved, and why."""

    name: str = Field(description="The component's name.")
    label: str = Field(description="What people read: the `##` label, else the name.")
    old: Number | None = Field(description="Its old value; null when absent.")
    new: Number | None = Field(description="Its new value; null when absent.")
    delta: Number = Field(description="new - old (a missing side counts 0).")
    why: list[str] = Field(description="The explanation, one line each; nested lines start with spaces.")


class Mover(Model):
    """A record among the biggest movers, explained."""

    rank: Count = Field(description="1 for the largest absolute delta.")
    id: str | None = Field(description="The record's id.")
    period: str | None = Field(description="The record's period (multi-period policies).")
    row: Count = Field(description="The record's position in the records file, from 1.")
    old: Number | None = Field(description="The old amount; null when the old policy rejects the record.")
    new: Number | None = Field(description="The new amount; null when the new policy rejects the record.")
    delta: Number = Field(description="new - old (a rejected side counts 0).")
    old_status: Literal["eligible", "not eligible", "rejected"] = Field(description="The record under the old policy.")
    new_status: Literal["eligible", "not eligible", "rejected"] = Field(description="The record under the new policy.")
    why: list[str] = Field(description="Status lines: rejects, eligibility flips, gates.")
    components: list[MoverComponent] = Field(description="Each component whose value moved.")
    adjustments: list[str] = Field(description="Total floor and cap lines.")


class LevelChange(Model):
    """A record that moved up or down a level or tier table."""

    id: str | None = Field(description="The record's id.")
    period: str | None = Field(description="The record's period (multi-period policies).")
    row: Count = Field(description="The record's position in the records file, from 1.")
    old: str = Field(description="The old band or label.")
    new: str = Field(description="The new band or label.")
    direction: Literal["up", "down"] = Field(description="Which way the record moved.")


class LevelTable(Model):
    """A level or tier table with at least one change."""

    table: str = Field(description="The table's (or level benefit's) name.")
    kind: Literal["level", "tier"] = Field(description="`level`: labels; `tier`: bands of values.")
    up: Count = Field(description="Records that moved up.")
    down: Count = Field(description="Records that moved down.")
    changes: list[LevelChange] = Field(description="Every record that moved.")


class StatusEntry(Model):
    """A record whose status changed."""

    id: str | None = Field(description="The record's id.")
    period: str | None = Field(description="The record's period (multi-period policies).")
    row: Count = Field(description="The record's position in the records file, from 1.")
    reason: str = Field(description="The reject reason, or the eligibility reasons, of the side that has them.")


class DiffStatus(Model):
    """Records whose status changed, every one listed."""

    newly_rejected: list[StatusEntry] = Field(description="Rejected by the new policy only.")
    newly_accepted: list[StatusEntry] = Field(description="Rejected by the old policy only.")
    newly_ineligible: list[StatusEntry] = Field(description="Eligible under the old policy only.")
    newly_eligible: list[StatusEntry] = Field(description="Eligible under the new policy only.")


class DiffGuard(Model):
    """A guard asked for on the command line."""

    guard: Literal["fail-if-cost-up", "fail-if-any-decrease"] = Field(description="The option.")
    threshold: Number | None = Field(description="The percentage given; null for fail-if-any-decrease.")
    tripped: bool = Field(description="Whether the guard tripped (exit 1).")
    message: str = Field(description="The figures, for people.")


class DiffReport(Model):
    """`ipl diff --format json`: the payout impact of a policy change (docs/diff.md)."""

    schema_: Literal["ipl-diff/1"] = Field(alias="schema", description="The document's schema and version.")
    old: DiffSide = Field(description="The old policy.")
    new: DiffSide = Field(description="The new policy.")
    records: str = Field(description="The records file, as given.")
    currency: str = Field(description="The ISO 4217 code of both policies.")
    params: list[ParamChange] = Field(description="The params whose value differs.")
    counts: DiffCounts = Field(description="Records read, paid, rejected, eligible, changed.")
    total: DiffTotal = Field(description="The total cost under each policy.")
    components: list[DiffAmounts] = Field(description="Per component: the old policy's order, then new ones.")
    adjustments: list[DiffAmounts] = Field(description="`total floors` / `total caps`, when not 0.")
    benefits: list[DiffAmounts] = Field(description="Money benefits (not in the total).")
    movers: list[Mover] = Field(description="The --top records with the largest absolute delta, explained.")
    levels: list[LevelTable] = Field(description="Level and tier tables with at least one change.")
    status: DiffStatus = Field(description="Records newly rejected, accepted, ineligible or eligible.")
    guards: list[DiffGuard] = Field(description="The guards asked for.")


# ------------------------------------------------------------------ `ipl test --format json`


class Diagnostic(Model):
    """A problem the checker found in a test file (as `ipl check --format json` writes it)."""

    code: str = Field(description="The diagnostic code (docs/diagnostics.md).")
    severity: Literal["error", "warning"] = Field(description="E codes are errors, W codes warnings.")
    message: str = Field(description="What is wrong.")
    file: str = Field(description="The file.")
    line: Count = Field(description="The first line, from 1.")
    column: Count = Field(description="The first column, from 1.")
    end_line: Count = Field(description="The last line.")
    end_column: Count = Field(description="The column after the last character.")
    help: str | None = Field(description="How to fix it, when known.")


class TestMismatch(Model):
    """An `expect` that did not hold."""

    location: str = Field(description="file:line:column of the `expect`.")
    target: str = Field(description="What was expected: `total`, a definition, `error`, `held in 2026-Q2`, ...")
    label: str = Field(description="The target's `##` label; empty when it has none.")
    expected: str = Field(description="The expected value, in IPL syntax.")
    actual: str = Field(description="The actual value, in IPL syntax.")


class TestOutcome(Model):
    """One test's result."""

    path: str = Field(description="The test file.")
    name: str = Field(description="The test's name.")
    status: Literal["pass", "fail", "error"] = Field(description="fail: an expect did not hold; error: not run.")
    location: str = Field(description="file:line:column of the test.")
    mismatches: list[TestMismatch] = Field(description="The expects that did not hold.")
    message: str | None = Field(description="Why the test is an error (or its record was rejected).")
    explanation: str | None = Field(description="The `ipl explain` text statement of a failed test's record.")


class TestFile(Model):
    """One test file."""

    path: str = Field(description="The test file.")
    policy: str | None = Field(description="The policy it tests; null when the file does not check.")
    diagnostics: list[Diagnostic] = Field(description="The file's static errors.")
    tests: list[TestOutcome] = Field(description="Its selected tests, in file order.")


class MissedDecision(Model):
    """A decision outcome no test reached."""

    location: str = Field(description="file:line:column of the decision.")
    where: str = Field(description="The definition it is in (`component accelerator`).")
    what: str = Field(description="The outcome (a band chosen, a branch taken, a cap binding).")


class PolicyCoverage(Model):
    """Decision coverage of one policy by its tests (docs/testing.md)."""

    policy: str = Field(description="The policy file.")
    percent: Number = Field(description="covered / total x 100, rounded down to 2 places (100 when total is 0).")
    covered: Count = Field(description="Outcomes some test reached.")
    total: Count = Field(description="Decision outcomes of the policy.")
    missed: list[MissedDecision] = Field(description="The outcomes no test reached, in source order.")


class TestReport(Model):
    """`ipl test --format json`: every test file, its tests, and coverage."""

    schema_: Literal["ipl-test/1"] = Field(alias="schema", description="The document's schema and version.")
    files: list[TestFile] = Field(description="Each test file run, in path order.")
    coverage: list[PolicyCoverage] | None = Field(description="Per policy tested; null without --coverage.")
    passed: Count = Field(description="Tests that passed.")
    failed: Count = Field(description="Tests that failed or could not run (exit 1 when not 0).")


for _cls in (TestMismatch, TestOutcome, TestFile, TestReport):
    _cls.__test__ = False  # type: ignore[attr-defined]  # not for pytest to collect


def ipl_test_report(report, with_coverage: bool) -> TestReport:
    """The JSON document of a `testing.Report`."""
    files = [TestFile(
        path=f.path, policy=f.policy, diagnostics=[Diagnostic(**d.to_json()) for d in f.diagnostics],
        tests=[TestOutcome(path=o.path, name=o.name, status=o.status, location=o.location,
                           mismatches=[TestMismatch(location=m.location, target=m.target, label=m.label,
                                                    expected=m.expected, actual=m.actual) for m in o.mismatches],
                           message=o.message, explanation=o.explanation) for o in f.outcomes])
        for f in report.files]
    coverage = None
    if with_coverage:
        coverage = [PolicyCoverage(policy=c.policy, percent=c.percent.quantize(Decimal("0.01"), rounding=ROUND_DOWN),
                                   covered=c.covered, total=c.total,
                                   missed=[MissedDecision(location=d.location, where=d.where, what=d.what)
                                           for d in c.missed])
                    for c in report.coverage]
    return TestReport(schema=TEST_SCHEMA, files=files, coverage=coverage, passed=report.passed, failed=report.failed)


# ------------------------------------------------------------------ `ipl run --summary FILE`


class LevelCount(Model):
    """One label of a level benefit."""

    label: str = Field(description="The level's label.")
    count: Count = Field(description="Records paid with this label.")
    cost: Number = Field(description="Their total.")


class PeriodFigures(Model):
    """One period's sums, signed as in the payouts' settlement columns."""

    period: str | None = Field(description="The period; null for a policy without a period input.")
    records: Count = Field(description="Records paid in the period.")
    earned: Number = Field(description="The sum of the earned totals.")
    budget_scaling: Number = Field(description="What the budget took (0 or negative).")
    held: Number = Field(description="Money held back (negative).")
    released: Number = Field(description="Earlier holds released (positive).")
    forfeited: Number = Field(description="Holds forfeited (positive, for information: no cash effect).")
    clawback: Number = Field(description="Money clawed back (negative).")
    carried_recovery: Number = Field(description="Draws recovered from earlier periods (negative).")
    carry_forward: Number = Field(description="Draws paid to lift a payable to its floor (positive).")
    payable: Number = Field(description="The sum of the payables: what the period pays.")


class PoolFigures(Model):
    """One pool in one period (§15)."""

    period: str | None = Field(description="The period; null for a policy without a period input.")
    pool: str = Field(description="The component or benefit that is the pool.")
    amount: Number = Field(description="The pool's amount.")
    shares: Number = Field(description="The sum of its shares, in their own unit.")
    paid: Number = Field(description="What its line paid, after caps and eligibility.")
    unallocated: Number = Field(description="amount - paid.")


class _RunSummaryFields(Model):
    schema_: Literal["ipl-run-summary/1"] = Field(alias="schema", description="The document's schema and version.")
    kind: Literal["single-period", "multi-period"] = Field(description="Which runner ran the policy.")
    policy: str = Field(description="The policy's name, from its header.")
    version: str | None = Field(description="The policy's version, from its header.")
    currency: str = Field(description="The ISO 4217 code of the policy's money.")
    records: str = Field(description="The records file, as given.")
    read: Count = Field(description="Records read.")
    paid: Count = Field(description="Records in the payouts (eligible or not).")
    rejected: Count = Field(description="Records in the rejects.")
    eligible: Count = Field(description="Paid records that are eligible.")
    reconciled: bool = Field(description="read = paid + rejected.")


class SingleRunSummary(_RunSummaryFields):
    """`ipl run --summary` of a single-period policy."""

    kind: Literal["single-period"] = Field(description="A single-period run.")
    total: Number = Field(description="The total cost: the sum of the payouts' `total`.")
    components: dict[str, Number] = Field(description="Per component, in declaration order: eligible records' sum.")
    floor_adjustment: Number = Field(description="What total floors added (0 or positive).")
    cap_adjustment: Number = Field(description="What total caps took away (0 or negative).")
    benefits: dict[str, Number] = Field(description="Per money benefit: the eligible records' sum (not in the total).")
    levels: dict[str, list[LevelCount]] = Field(description="Per level benefit: each label's count and cost, in order.")
    notes: list[str] = Field(description="What was wrong with the records file as a whole.")


class MultiRunSummary(_RunSummaryFields):
    """`ipl run --summary` of a multi-period policy (periods, program-wide figures or a budget)."""

    kind: Literal["multi-period"] = Field(description="A run by periods, each record settled (§14, §15).")
    total: Number = Field(description="The total cost: the sum of the payouts' `payable`.")
    earned: Number = Field(description="The sum of the payouts' `total` (earned, before settlement).")
    components: dict[str, Number] = Field(description="Per component, in declaration order: before settlement.")
    periods: list[PeriodFigures] = Field(description="Per period, in calendar order.")
    pools: list[PoolFigures] = Field(description="Per pool and period.")
    still_held: Number = Field(description="Held money not released or forfeited by the end of the run.")
    owed: Number = Field(description="Draws not recovered by the end of the run.")
    notes: list[str] = Field(description="What was wrong with the records file as a whole.")


class RunSummary(_ExactJson, RootModel):
    """`ipl run --summary FILE`: the reconciled summary of a run, for tools."""

    model_config = ConfigDict(frozen=True, strict=True)
    root: Annotated[Union[SingleRunSummary, MultiRunSummary], Field(discriminator="kind")]


def _padded(value: Decimal, q: Decimal) -> Decimal:
    """Money with at least the currency's digits (`0` → `0.00`); never rounded."""
    return value.quantize(q) if value.as_tuple().exponent > q.as_tuple().exponent else value


def _head(compiled, s, records: str) -> dict:
    header = compiled.program
    return {"schema": RUN_SUMMARY_SCHEMA, "policy": header.name, "version": header.version,
            "currency": compiled.program.currency, "records": records, "read": s.read, "paid": s.paid,
            "rejected": s.rejected, "eligible": s.eligible, "reconciled": s.reconciled}


def single_run_summary(compiled, s, records: str) -> SingleRunSummary:
    """The document of the `Summary` of a run that does not settle (dsl/run/summary.py)."""
    q = compiled.money.q
    policy = compiled.program
    levels = {}
    for name, labels in s.levels.items():
        order = policy.levels.get(policy.definitions[name].type.name or "", ())
        keys = sorted(labels, key=lambda lab: order.index(lab) if lab in order else len(order))
        levels[name] = [LevelCount(label=k, count=labels[k][0], cost=_padded(labels[k][1], q)) for k in keys]
    return SingleRunSummary(
        **_head(compiled, s, records), kind="single-period", total=_padded(s.total, q),
        components={n: _padded(v, q) for n, v in s.components.items()},
        floor_adjustment=_padded(s.floor_adjustment, q), cap_adjustment=_padded(s.cap_adjustment, q),
        benefits={n: _padded(v, q) for n, v in s.benefits.items()}, levels=levels, notes=list(s.notes))


def multi_run_summary(compiled, s, records: str) -> MultiRunSummary:
    """The document of the `Summary` of a run that settles (dsl/run/summary.py)."""
    q = compiled.money.q
    periods = [PeriodFigures(period=p or None, records=t.records, **{
        k: _padded(getattr(t, k), q) for k in ("earned", "budget_scaling", "held", "released", "forfeited",
                                               "clawback", "carried_recovery", "carry_forward", "payable")})
        for p, t in s.periods.items()]
    pools = [PoolFigures(period=p or None, pool=name, amount=_padded(amount, q), shares=shares,
                         paid=_padded(paid, q), unallocated=_padded(amount - paid, q))
             for p, name, amount, shares, paid in s.pools]
    return MultiRunSummary(
        **_head(compiled, s, records), kind="multi-period",
        total=_padded(total_of(t.payable for t in s.periods.values()), q),
        earned=_padded(total_of(t.earned for t in s.periods.values()), q),
        components={n: _padded(v, q) for n, v in s.components.items()}, periods=periods, pools=pools,
        still_held=_padded(s.still_held, q), owed=_padded(s.owed, q), notes=list(s.notes))


# ------------------------------------------------------------------ the published schemas


class _Generator(GenerateJsonSchema):
    """pydantic's generator without a title per property (the descriptions say more)."""

    def field_title_should_be_set(self, schema) -> bool:
        return False


SCHEMAS: dict[str, type[BaseModel]] = {
    "explain.schema.json": ExplainDocument,
    "diff.schema.json": DiffReport,
    "test.schema.json": TestReport,
    "run-summary.schema.json": RunSummary,
}


def schema_texts() -> dict[str, str]:
    """Each published schema's file name and text, generated from its model."""
    out = {}
    for name, model in SCHEMAS.items():
        schema = {"$schema": DRAFT, **model.model_json_schema(by_alias=True, schema_generator=_Generator)}
        out[name] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return out


def write_schemas(folder: str | Path) -> list[Path]:
    """Write every schema into `folder` (docs/schemas); returns the paths written."""
    from dsl.run.outputs import write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_texts().items():
        write_text(str(folder / name), text)
        written.append(folder / name)
    return written
