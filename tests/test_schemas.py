"""The JSON documents and their schemas (dsl/run/schemas.py): the published schemas are the models'
own, real outputs validate against the models with every digit kept, and `ipl run --summary`
and `ipl test --format json` say what the run's own outputs say."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from dsl.run import schemas
from dsl.cli import cli
from dsl.run.outputs import dumps

from .conftest import ROOT

SCHEMAS = ROOT / "docs/schemas"
GROWTH = "programs/growth/growth.ipl"
GROWTH_RECORDS = "programs/growth/records.csv"
RQ = "programs/renewal_quality/renewal_quality.ipl"
RQ_RECORDS = "programs/renewal_quality/records.csv"


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def ipl(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def as_written(model, text: str) -> None:
    """The model holds the whole document: written again by `dumps`, it is the same text, byte
    for byte (every key, in order, every digit). Keys a writer leaves out are left out."""
    assert dumps(model.model_dump(by_alias=True, exclude_unset=True), indent=2) + "\n" == text


def cents(value: Decimal) -> Decimal:
    """The value, asserted to carry exactly two decimals (the digits survived, not only the value)."""
    assert isinstance(value, Decimal) and value.as_tuple().exponent == -2, value
    return value


def run_rows(tmp_path: Path, policy: str, records: str, *extra: str) -> tuple[list[dict], int]:
    """`ipl run -o payouts.csv`: the payout rows and the exit code."""
    out = tmp_path / "payouts.csv"
    code = ipl("run", policy, "--records", records, "-o", str(out), *extra).exit_code
    with out.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle)), code


def column(rows: list[dict], name: str) -> Decimal:
    return sum((Decimal(r[name]) for r in rows), Decimal(0))


# ------------------------------------------------------------------ the published schemas


@pytest.mark.parametrize("name", sorted(schemas.SCHEMAS))
def test_published_schema_is_the_models_own(name, request):
    """docs/schemas/NAME is what the models generate (`pytest --update-golden` rewrites it)."""
    actual = schemas.schema_texts()[name]
    path = SCHEMAS / name
    if request.config.getoption("--update-golden"):
        schemas.write_schemas(SCHEMAS)
    assert path.exists(), f"{path} is missing: run pytest --update-golden and review it"
    assert path.read_text(encoding="utf-8") == actual, f"{path} differs from the models (pytest --update-golden)"


def test_every_published_schema_has_a_model():
    assert sorted(p.name for p in SCHEMAS.glob("*.schema.json")) == sorted(schemas.SCHEMAS)


def test_schemas_describe_every_key_and_say_number_for_money():
    for name, text in schemas.schema_texts().items():
        doc = json.loads(text)
        assert doc["$schema"] == schemas.DRAFT and doc["description"], name
        for model, definition in doc.get("$defs", {}).items():
            if "properties" not in definition:
                continue
            assert definition.get("description"), f"{name}: {model} has no description"
            for key, prop in definition["properties"].items():
                assert prop.get("description"), f"{name}: {model}.{key} has no description"
        assert '[{"type": "number"}, {"type": "string"}]' not in json.dumps(doc), f"{name}: pydantic's Decimal"
    summary = json.loads(schemas.schema_texts()["run-summary.schema.json"])
    assert summary["$defs"]["SingleRunSummary"]["properties"]["total"] == {
        "description": "The total cost: the sum of the payouts' `total`.", "type": "number"}


# ------------------------------------------------------------------ exact numbers


def test_json_numbers_keep_their_digits():
    """pydantic-core reads JSON numbers through a float; the models' `model_validate_json` does not."""
    text = '{"old": 0.10, "new": 12345678901234567890.12, "delta": -0.00, "percent": null}'
    total = schemas.DiffTotal.model_validate_json(text)
    assert str(total.old) == "0.10" and str(total.new) == "12345678901234567890.12"
    assert dumps(total.model_dump()) == '{"old": 0.10, "new": 12345678901234567890.12, "delta": 0.00, "percent": null}'


@pytest.mark.parametrize("value, message", [
    (0.1, "not a float"), ("0.10", "not a str"), (True, "not a bool"),
    (Decimal("NaN"), "finite"), (Decimal("Infinity"), "finite"),
])
def test_a_number_is_an_exact_finite_decimal(value, message):
    with pytest.raises(ValueError, match=message):
        schemas.DiffTotal(old=value, new=Decimal(1), delta=Decimal(1), percent=None)


@pytest.mark.parametrize("text, message", [
    ('{"old": 1, "new": 1, "delta": 0, "percent": null, "ratio": 1}', "Extra inputs are not permitted"),
    ('{"old": 1, "new": 1, "delta": 0}', "Field required"),
    ('{"old": 1, "old": 2, "new": 1, "delta": 0, "percent": null}', "appears twice"),
    ('{"old": NaN, "new": 1, "delta": 0, "percent": null}', "NaN is not a JSON number"),
])
def test_a_document_has_its_keys_and_no_other(text, message):
    with pytest.raises(ValueError, match=message):
        schemas.DiffTotal.model_validate_json(text)


def test_models_are_frozen():
    total = schemas.DiffTotal(old=Decimal(1), new=Decimal(2), delta=Decimal(1), percent=None)
    with pytest.raises(ValueError):
        total.old = Decimal(3)


# ------------------------------------------------------------------ `ipl explain --format json`


@pytest.mark.parametrize("rid", ["P-00001", "P-00012", "P-00019", "P-00357"])
def test_explain_of_a_single_period_policy(rid, tmp_path):
    rows, _ = run_rows(tmp_path, GROWTH, GROWTH_RECORDS)
    r = ipl("explain", GROWTH, "--records", GROWTH_RECORDS, "--id", rid, "--format", "json")
    assert r.exit_code == 0
    st = schemas.ExplainDocument.model_validate_json(r.stdout).root
    assert isinstance(st, schemas.Statement)
    as_written(st, r.stdout)
    (row,) = [x for x in rows if x["partner_id"] == rid]
    assert cents(st.total) == Decimal(row["total"]) == sum(line.amount for line in st.lines)
    assert st.eligible == (row["eligible"] == "true")
    assert [cents(line.amount) for line in st.lines[:4]] == [Decimal(row[c]) for c in
                                                              ("base", "renewal_bonus", "accelerator", "quality_bonus")]
    assert st.trace["id"] == rid and st.trace["total"]["total"] == st.total


@pytest.mark.parametrize("period", [None, "2026-Q2"])
def test_explain_of_a_multi_period_policy(period, tmp_path):
    rows, _ = run_rows(tmp_path, RQ, RQ_RECORDS)
    r = ipl("explain", RQ, "--records", RQ_RECORDS, "--id", "RQ-0051", "--format", "json",
            *(["--period", period] if period else []))
    assert r.exit_code == 0
    doc = schemas.ExplainDocument.model_validate_json(r.stdout).root
    assert isinstance(doc, schemas.PeriodsDocument) and doc.rejected == []
    as_written(doc, r.stdout)
    mine = {x["quarter"]: x for x in rows if x["partner_id"] == "RQ-0051"}
    assert [p.period for p in doc.periods] == ([period] if period else sorted(mine))
    for p in doc.periods:
        s = p.settlement
        assert cents(s.payable) == Decimal(mine[p.period]["payable"])
        assert s.earned == p.total == Decimal(mine[p.period]["total"])
        assert s.earned + s.budget_scaling + sum(line.cash for line in s.lines) == s.payable
    if period == "2026-Q2":
        kinds = {line.kind for line in doc.periods[0].settlement.lines}
        assert {"held", "release", "clawback", "carried_recovery"} <= kinds


def test_explain_of_a_rejected_record(tmp_path):
    records = tmp_path / "r.csv"
    lines = Path(GROWTH_RECORDS).read_text(encoding="utf-8").splitlines()
    records.write_text("\n".join([lines[0], lines[1], lines[2].replace(",4.0,", ",9.5,")]) + "\n", encoding="utf-8")
    r = ipl("explain", GROWTH, "--records", str(records), "--id", "P-00002", "--format", "json")
    assert r.exit_code == 1
    doc = schemas.ExplainDocument.model_validate_json(r.stdout).root
    assert isinstance(doc, schemas.RejectedDocument)
    as_written(doc, r.stdout)
    assert (doc.id, doc.rejected.row, doc.rejected.field) == ("P-00002", 2, "csat")


# ------------------------------------------------------------------ `ipl diff --format json`


def test_diff_of_the_fixture():
    fix = "tests/golden/diff"
    r = ipl("diff", f"{fix}/old.ipl", f"{fix}/new.ipl", "--records", f"{fix}/records.csv", "--format", "json",
            "--top", "10", "--fail-if-cost-up", "0", "--fail-if-any-decrease")
    assert r.exit_code == 1
    rep = schemas.DiffReport.model_validate_json(r.stdout)
    as_written(rep, r.stdout)
    assert (cents(rep.total.old), cents(rep.total.new), rep.total.percent) == (
        Decimal("47180.00"), Decimal("27610.00"), Decimal("-41.48"))
    assert sum(m.delta for m in rep.movers) == rep.total.delta
    assert rep.params[0].old == Decimal("0.10") and str(rep.params[0].old) == "0.10"
    assert rep.levels and rep.status.newly_rejected and [g.guard for g in rep.guards] == [
        "fail-if-cost-up", "fail-if-any-decrease"]


def test_diff_of_a_multi_period_policy(tmp_path):
    policy = Path("programs/recurring_mix/recurring_mix.ipl")
    raised = tmp_path / "recurring_mix.ipl"
    raised.write_text(policy.read_text(encoding="utf-8").replace(
        "param margin_floor : percent = 25%", "param margin_floor : percent = 30%"), encoding="utf-8")
    r = ipl("diff", str(policy), str(raised), "--records", "programs/recurring_mix/records.csv", "--format", "json")
    assert r.exit_code == 0
    rep = schemas.DiffReport.model_validate_json(r.stdout)
    as_written(rep, r.stdout)
    assert cents(rep.total.old) == Decimal("12089056.05") and rep.movers[0].period is not None


# ------------------------------------------------------------------ `ipl test --format json`


def test_ipl_test_json_of_growth():
    r = ipl("test", "programs/growth", "--format", "json", "--coverage")
    assert r.exit_code == 0
    rep = schemas.TestReport.model_validate_json(r.stdout)
    as_written(rep, r.stdout)
    text = ipl("test", "programs/growth", "--coverage").stdout
    assert text == ipl("test", "programs/growth", "--coverage", "--format", "text").stdout
    assert text.endswith(f"\n{rep.passed} passed, 0 failed\n") and rep.failed == 0 and rep.passed == 13
    (f,) = rep.files
    assert f.policy == GROWTH and f.diagnostics == [] and {t.status for t in f.tests} == {"pass"}
    (cov,) = rep.coverage
    assert (cov.covered, cov.total, cov.percent) == (29, 31, Decimal("93.54"))  # 93.548... rounded down
    assert [d.location for d in cov.missed] == ["programs/growth/growth.ipl:68:3", "programs/growth/growth.ipl:100:3"]
    assert f"{cov.covered} of {cov.total} outcomes reached (93.5 %)" in text
    assert schemas.TestReport.model_validate_json(ipl("test", "programs/growth", "--format", "json").stdout).coverage is None


def test_ipl_test_json_of_failures_and_errors(tmp_path):
    test_file = tmp_path / "growth_wrong_test.ipl"
    test_file.write_text(f'tests for "{ROOT / GROWTH}"\n\n'
                         'test "a wrong total" {\n'
                         '  given { partner_id = "P-1" segment = enterprise joint_revenue = 1_000_000 USD\n'
                         '          prior_revenue = 800_000 USD renewals_due = 40 renewals_won = 37\n'
                         '          deployment_score = 88 csat = 4.6 certified = true }\n'
                         '  expect base = 100_001 USD\n'
                         '  expect total = 202_000.5 USD\n'
                         '}\n', encoding="utf-8")
    broken = "tests/golden/testing/cases/broken_test.ipl"
    r = ipl("test", str(test_file), broken, "--format", "json")
    assert r.exit_code == 1
    rep = schemas.TestReport.model_validate_json(r.stdout)
    as_written(rep, r.stdout)
    assert (rep.passed, rep.failed) == (0, 3)
    wrong, static = sorted(rep.files, key=lambda f: f.path != str(test_file))
    (t,) = wrong.tests
    assert (t.status, t.location) == ("fail", f"{test_file}:3:1")
    base, total = t.mismatches
    assert (base.location, base.target, base.label, base.expected, base.actual) == (
        f"{test_file}:7:3", "base", "Revenue share", "100_001 USD", "100_000 USD")
    assert (total.target, total.label, total.expected, total.actual) == ("total", "", "202_000.50 USD", "202_000 USD")
    assert t.explanation.startswith("Statement: Partner Growth Program") and t.message is None
    assert static.policy is None and [d.code for d in static.diagnostics][:1] == ["E700"]
    assert {t.status for t in static.tests} == {"error"} and all(t.message for t in static.tests)


# ------------------------------------------------------------------ `ipl run --summary FILE`


def payouts(tmp_path: Path, policy: str, records: str, *extra: str) -> tuple[list[dict], object, int]:
    """`ipl run` with `-o` and `--summary`: the payout rows, the summary read back, the exit code."""
    summary = tmp_path / "summary.json"
    rows, code = run_rows(tmp_path, policy, records, "--summary", str(summary), *extra)
    text = summary.read_text(encoding="utf-8")
    doc = schemas.RunSummary.model_validate_json(text).root
    as_written(doc, text)
    return rows, doc, code


def test_run_summary_of_a_single_period_policy(tmp_path):
    rows, doc, code = payouts(tmp_path, GROWTH, GROWTH_RECORDS)
    assert code == 0 and isinstance(doc, schemas.SingleRunSummary)
    eligible = [x for x in rows if x["eligible"] == "true"]
    assert (doc.read, doc.paid, doc.rejected, doc.eligible, doc.reconciled) == (1200, 1200, 0, len(eligible), True)
    assert cents(doc.total) == column(rows, "total") == Decimal("29770626.25")
    assert (doc.policy, doc.version, doc.currency, doc.records) == (
        "Partner Growth Program", "2026.1", "USD", GROWTH_RECORDS)
    for name, value in doc.components.items():
        assert cents(value) == column(eligible, name)
    assert cents(doc.benefits["co_marketing_fund"]) == column(eligible, "co_marketing_fund")
    assert sum(doc.components.values()) + doc.floor_adjustment + doc.cap_adjustment == doc.total
    assert (doc.floor_adjustment, doc.cap_adjustment) == (Decimal("3204.74"), Decimal("-1234416.60"))
    assert doc.levels == {} and doc.notes == []


def test_run_summary_lists_levels_in_band_order(tmp_path):
    from .test_runner import LEVELS

    policy, records = tmp_path / "p.ipl", tmp_path / "r.csv"
    policy.write_text(LEVELS, encoding="utf-8")
    records.write_text("pid,rev,ok\nA,500,true\nB,20000,true\nC,30000,false\nD,2000,true\nE,15000,true\n")
    rows, doc, _ = payouts(tmp_path, str(policy), str(records))
    assert [(x.label, x.count, x.cost) for x in doc.levels["partner_level"]] == [
        ("bronze", 1, Decimal("50.00")), ("silver", 1, Decimal("200.00")), ("gold", 3, Decimal("3500.00"))]
    assert sum(x.cost for x in doc.levels["partner_level"]) == doc.total == column(rows, "total")
    assert doc.eligible == 4 and doc.benefits == {}


def test_run_summary_of_a_multi_period_policy(tmp_path):
    ledger = tmp_path / "ledger.csv"
    rows, doc, code = payouts(tmp_path, RQ, RQ_RECORDS, "--ledger", str(ledger))
    assert code == 0 and isinstance(doc, schemas.MultiRunSummary)
    assert (doc.read, doc.paid, doc.rejected, doc.reconciled) == (928, len(rows), 0, True)
    assert doc.eligible == sum(1 for x in rows if x["eligible"] == "true")
    assert cents(doc.total) == column(rows, "payable")
    assert cents(doc.earned) == column(rows, "total")
    assert [p.period for p in doc.periods] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    for p in doc.periods:
        mine = [x for x in rows if x["quarter"] == p.period]
        assert p.records == len(mine)
        assert cents(p.earned) == column(mine, "total")
        for name in ("budget_scaling", "held", "released", "forfeited", "clawback", "carried_recovery",
                     "carry_forward", "payable"):
            assert cents(getattr(p, name)) == column(mine, name), (p.period, name)
    events = list(csv.DictReader(ledger.open(newline="", encoding="utf-8")))
    assert cents(doc.still_held) == column([e for e in events if e["event"] == "still_held"], "amount")
    assert cents(doc.owed) == column([e for e in events if e["event"] == "owed"], "amount")
    assert doc.owed == Decimal("228237.07") and doc.pools == []


def test_run_summary_of_a_program_wide_pool(tmp_path):
    rows, doc, _ = payouts(tmp_path, "programs/partner_performance/partner_performance.ipl",
                           "programs/partner_performance/records.csv")
    assert doc.pools and cents(doc.total) == column(rows, "payable")
    for pool in doc.pools:
        assert pool.unallocated == pool.amount - pool.paid
        mine = [x for x in rows if x["quarter"] == pool.period and x["eligible"] == "true"]
        assert pool.paid == column(mine, pool.pool)


def test_run_summary_counts_rejects_and_notes(tmp_path):
    records = tmp_path / "r.csv"
    lines = Path(GROWTH_RECORDS).read_text(encoding="utf-8").splitlines()
    records.write_text("\n".join([lines[0], *lines[1:4], lines[4].rsplit(",", 1)[0] + ",perhaps"]) + "\n",
                       encoding="utf-8")
    rows, doc, code = payouts(tmp_path, GROWTH, str(records), "--rejects", str(tmp_path / "rejects.csv"))
    assert code == 1 and (doc.read, doc.paid, doc.rejected) == (4, 3, 1) == (4, len(rows), 1)
    empty = tmp_path / "empty.csv"
    empty.write_text(lines[0] + "\n", encoding="utf-8")
    _, doc, code = payouts(tmp_path, GROWTH, str(empty))
    assert code == 0 and doc.read == 0 and doc.total == 0 and doc.notes == [f"{empty} holds no records"]


def test_run_summary_path_problems_exit_2_and_write_nothing(tmp_path):
    out = tmp_path / "payouts.csv"
    for summary, message in ((tmp_path / "missing" / "s.json", "cannot write"),
                             (tmp_path / "s.txt", "use .json"),
                             (out, "are the same file"),
                             (Path(GROWTH_RECORDS), "an output would destroy the input")):
        r = ipl("run", GROWTH, "--records", GROWTH_RECORDS, "-o", str(out), "--summary", str(summary))
        assert r.exit_code == 2 and message in r.stderr, (summary, r.stderr)
        assert not out.exists()
    r = ipl("run", RQ, "--records", RQ_RECORDS, "-o", str(out), "--summary", str(tmp_path / "missing" / "s.json"))
    assert r.exit_code == 2 and "cannot write" in r.stderr and not out.exists()
