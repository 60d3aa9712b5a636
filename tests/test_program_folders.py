"""The program folders (programs/recurring_mix, partner_performance,
renewal_quality): their policies and test files parse, check clean and are in
canonical layout; their test files have at least 15 tests; their record
generators are deterministic, write what is checked in, and produce records
that the policy's input declarations accept (spec §13), at least 200 partners
over at least 4 quarters, keyed by (id, period)."""

from __future__ import annotations

import csv
import importlib.util
import re
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from dsl.front import ast
from dsl.cli import cli
from dsl.ir.lower import lower
from dsl.run.records import fields_of
from dsl.front.diagnostics import Diagnostics
from dsl.checker.driver import check_file
from dsl.run.records import Reject, Validator
from dsl.front.syntax import parse_bytes

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ("recurring_mix", "partner_performance", "renewal_quality")


def folder(name: str) -> Path:
    return ROOT / "programs" / name


def generator(name: str):
    """programs/NAME/generate.py, imported by path (programs/ is not a package)."""
    module_name = f"ipl_issue7_{name}_generate"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, folder(name) / "generate.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


def parsed(path: Path):
    diags = Diagnostics()
    _source, file = parse_bytes(str(path), path.read_bytes(), diags)
    assert diags.sorted() == [], [d.message for d in diags.sorted()]
    return file


def records(name: str) -> list[dict[str, str]]:
    with open(folder(name) / "records.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ---------------------------------------------------------------- policies and test files


@pytest.mark.parametrize("name", PROGRAMS)
def test_policy_is_multi_period_by_quarter(name):
    file = parsed(folder(name) / f"{name}.ipl")
    assert isinstance(file, ast.PolicyFile)
    assert (file.header.currency, file.header.period) == ("USD", "quarter")
    kinds = {d.name: d.type.name for d in file.decls if isinstance(d, ast.Input)}
    assert kinds["partner_id"] == "id" and kinds["quarter"] == "period"


@pytest.mark.parametrize("name", PROGRAMS)
def test_ipl_check_is_clean_without_warnings(name):
    result = CliRunner().invoke(cli, ["check", str(folder(name))])
    assert result.exit_code == 0, result.output
    assert "checked 2 files: 0 errors, 0 warnings" in result.output


@pytest.mark.parametrize("name", PROGRAMS)
def test_files_are_in_canonical_layout(name):
    result = CliRunner().invoke(cli, ["fmt", "--check", str(folder(name))])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", PROGRAMS)
def test_test_file_has_at_least_15_tests_each_with_expectations(name):
    file = parsed(folder(name) / f"{name}_test.ipl")
    assert isinstance(file, ast.TestFile)
    assert file.target == f"{name}.ipl"
    assert len(file.tests) >= 15
    assert len({t.name for t in file.tests}) == len(file.tests)
    assert all(t.expects for t in file.tests)


@pytest.mark.parametrize("name", PROGRAMS)
def test_every_money_expectation_shows_its_arithmetic(name):
    """Each money expectation carries a comment with its hand calculation (zeros may not)."""
    lines = (folder(name) / f"{name}_test.ipl").read_text(encoding="utf-8").splitlines()
    money = [ln for ln in lines if re.match(r"\s*expect .*= [0-9_.]+ USD", ln)]
    assert money
    explained = [ln for ln in money if "#" in ln or re.search(r"= 0 USD\s*$", ln)]
    assert explained == money, [ln for ln in money if ln not in explained]


# ---------------------------------------------------------------- generators and records


@pytest.mark.parametrize("name", PROGRAMS)
def test_generator_is_deterministic_for_a_seed(name):
    gen = generator(name)
    first = list(gen.rows(30, 11, 4))
    assert first == list(gen.rows(30, 11, 4))
    assert first != list(gen.rows(30, 12, 4))


@pytest.mark.parametrize("name", PROGRAMS)
def test_checked_in_records_are_the_generator_defaults(name, tmp_path):
    fresh = generator(name).write(tmp_path / "records.csv").read_bytes()
    assert (folder(name) / "records.csv").read_bytes() == fresh, \
        f"programs/{name}/records.csv differs: run python programs/{name}/generate.py"


@pytest.mark.parametrize("name", PROGRAMS)
def test_generator_cli_writes_the_same_bytes_as_write(name, tmp_path):
    gen = generator(name)
    out = tmp_path / "cli.csv"
    assert gen.main(["--count", "25", "--seed", "3", "--quarters", "5", "--out", str(out)]) == 0
    assert out.read_bytes() == gen.write(tmp_path / "api.csv", 25, 3, 5).read_bytes()
    quarters = {row["quarter"] for row in csv.DictReader(out.open(newline="", encoding="utf-8"))}
    assert quarters == {"2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1"}


@pytest.mark.parametrize("name", PROGRAMS)
def test_generator_cli_refuses_bad_arguments(name, tmp_path, capsys):
    gen = generator(name)
    for args in (["--count", "-1"], ["--quarters", "0"]):
        with pytest.raises(SystemExit) as exit_info:
            gen.main([*args, "--out", str(tmp_path / "x.csv")])
        assert exit_info.value.code == 2
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("name", PROGRAMS)
def test_records_columns_are_the_policy_inputs_in_order(name):
    file = parsed(folder(name) / f"{name}.ipl")
    inputs = tuple(d.name for d in file.decls if isinstance(d, ast.Input))
    assert inputs == generator(name).COLUMNS
    with open(folder(name) / "records.csv", newline="", encoding="utf-8") as f:
        assert tuple(next(csv.reader(f))) == inputs


@pytest.mark.parametrize("name", PROGRAMS)
def test_records_have_200_partners_over_4_quarters_keyed_by_id_and_period(name):
    rows = records(name)
    keys = [(r["partner_id"], r["quarter"]) for r in rows]
    assert len(set(keys)) == len(keys)
    assert len({r["partner_id"] for r in rows}) >= 200
    per_quarter = Counter(r["quarter"] for r in rows)
    assert sorted(per_quarter) == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert min(per_quarter.values()) >= 200
    # ordered by quarter, then partner: what a period-by-period settlement reads
    assert keys == sorted(keys, key=lambda k: (k[1], k[0]))
    # history has realistic holes: late joiners and gaps
    seen = Counter(r["partner_id"] for r in rows)
    assert 0 < sum(n < 4 for n in seen.values()) < 0.25 * len(seen)


@pytest.mark.parametrize("name", PROGRAMS)
def test_records_are_accepted_by_the_policy_inputs(name):
    diags = Diagnostics()
    policy = check_file(folder(name) / f"{name}.ipl", diags)
    assert policy is not None and not diags.has_errors
    validator = Validator(fields_of(lower(policy)), "partner_id")
    rejected = []
    for i, row in enumerate(records(name), start=1):
        out = validator.validate(i, row)
        if isinstance(out, Reject):
            rejected.append(out)
    assert rejected == []


def _dec(rows, column):
    return [Decimal(r[column]) for r in rows]


def test_recurring_mix_records_reach_the_cases_the_policy_distinguishes():
    rows = records("recurring_mix")
    assert all(Decimal(r["advanced_revenue"]) <= Decimal(r["recurring_revenue"]) for r in rows)
    assert all(int(r["renewals_won"]) <= int(r["renewals_due"]) for r in rows)
    mix = [Decimal(r["advanced_revenue"]) / Decimal(r["recurring_revenue"])
           for r in rows if Decimal(r["recurring_revenue"]) > 0]
    bands = Counter(sum(m >= t for t in (Decimal("0.10"), Decimal("0.25"), Decimal("0.40"))) for m in mix)
    assert all(bands[b] > 30 for b in range(4))  # every usage-share band
    margin = [Decimal(r["gross_margin"].rstrip("%")) for r in rows]
    assert 20 < sum(m < 25 for m in margin) < 200  # below the margin floor
    minimum = {"enterprise": Decimal(25_000), "digital": Decimal(5_000)}
    assert 5 < sum(Decimal(r["recurring_revenue"]) < minimum[r["channel"]] for r in rows) < 100
    rates = [int(r["renewals_won"]) / int(r["renewals_due"]) for r in rows if r["renewals_due"] != "0"]
    assert 10 < sum(x < 0.6 for x in rates) < 150  # below the renewal minimum
    assert sum(r["renewals_due"] == "0" for r in rows) > 10
    assert 0.3 < sum(Decimal(r["churned_revenue"]) > 0 for r in rows) / len(rows) < 0.6


def test_partner_performance_records_reach_the_cases_the_policy_distinguishes():
    rows = records("partner_performance")
    assert all(r["fiscal_quarter"] == "q" + r["quarter"][-1] for r in rows)
    assert all(Decimal(r["new_logo_bookings"]) <= Decimal(r["bookings"]) for r in rows)
    types = Counter(r["partner_type"] for r in rows)
    assert types["reseller"] > types["integrator"] > types["technology"] > 100
    assert Counter(r["partner_size"] for r in rows)["small"] > 300
    attainment = [Decimal(r["bookings"]) / Decimal(r["quota"]) for r in rows if Decimal(r["quota"]) > 0]
    steps = Counter(sum(a >= t for t in (Decimal("0.5"), Decimal(1), Decimal("1.15"), Decimal("1.3")))
                    for a in attainment)
    assert all(steps[s] > 10 for s in range(5))  # below the minimum, and every accelerator step
    assert 0 < sum(Decimal(r["quota"]) == 0 for r in rows) < 50  # ramping partners
    csat = _dec(rows, "csat")
    assert 5 < sum(c < Decimal("3.5") for c in csat) < 100
    assert sum(r["campaigns_run"] == "0" for r in rows) > 100
    assert all((r["campaigns_run"] == "0") == (Decimal(r["sourced_pipeline"]) == 0) for r in rows)


def test_renewal_quality_records_reach_the_cases_the_policy_distinguishes():
    rows = records("renewal_quality")
    assert all(int(r["renewals_won"]) <= int(r["renewals_due"]) for r in rows)
    assert 20 < sum(Decimal(r["revenue_year_ago"]) == 0 for r in rows) < 150
    small = [r for r in rows if r["partner_size"] == "small"]
    assert sum(Decimal(r["joint_revenue"]) < Decimal(20_000) for r in small) > 50  # under the safety net
    scores = [int(r["deployment_score"]) for r in rows]
    assert sum(s >= 85 for s in scores) > 100 and sum(s < 70 for s in scores) > 50
    # the same partner above 85 three quarters running: the excellence escalator
    high = Counter(r["partner_id"] for r in rows if int(r["deployment_score"]) >= 85)
    assert sum(n >= 3 for n in high.values()) > 20
    assert 0.3 < sum(Decimal(r["churned_revenue"]) > 0 for r in rows) / len(rows) < 0.6


# ---------------------------------------------------------------- hand-computed values vs the evaluator


@pytest.mark.parametrize("name", PROGRAMS)
def test_every_hand_computed_expectation_holds(name):
    """`ipl test` evaluates each test's history (spec §14) and compares every expectation."""
    tests = parsed(folder(name) / f"{name}_test.ipl")
    result = CliRunner().invoke(cli, ["test", str(folder(name) / f"{name}_test.ipl")])
    assert result.exit_code == 0, result.output
    assert f"{len(tests.tests)} passed, 0 failed" in result.output


@pytest.mark.parametrize("name", PROGRAMS)
def test_decision_coverage_is_at_least_90_percent(name):
    result = CliRunner().invoke(cli, ["test", "--coverage", "--fail-under", "90", str(folder(name))])
    assert result.exit_code == 0, result.output
    match = re.search(r"(\d+) of (\d+) outcomes reached", result.output)
    assert match and int(match[1]) >= 0.9 * int(match[2]), result.output


# The statement each README explains, as `ipl run` computes it over all of records.csv (so the
# pool shares and ranks are those of the whole quarter, which a test file cannot reach).
README_STATEMENTS = {
    "recurring_mix": ("RM-0002", {
        "base_commission": "10387.13", "usage_share": "1298.39", "renewal_share": "2596.78",
        "renewal_accelerator": "0.00", "market_development_fund": "2548.18", "total": "14282.30",
        "held": "-519.36", "payable": "13762.94"}),
    "partner_performance": ("PP-0229", {
        "upfront_incentive": "541.61", "quarterly_accelerator": "3426.96", "specialty_bonus": "4500.00",
        "annual_true_up": "0.00", "category_award": "2500.00", "level": "platinum",
        "premium_support": "true", "advisory_council_seat": "true", "marketing_fund": "2420.20",
        "total": "10968.57", "payable": "10968.57"}),
    "renewal_quality": ("RQ-0089", {
        "revenue_share": "736.60", "renewal_bonus": "368.30", "deployment_bonus": "560.00",
        "excellence_bonus": "0.00", "total": "2000.00", "payable": "2000.00"}),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_ipl_run_reproduces_the_readme_statement(name, tmp_path):
    out = tmp_path / "payouts.csv"
    result = CliRunner().invoke(cli, ["run", str(folder(name) / f"{name}.ipl"),
                                      "--records", str(folder(name) / "records.csv"), "-o", str(out)])
    assert result.exit_code == 0, result.output  # no record rejected
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(records(name))
    partner, expected = README_STATEMENTS[name]
    (row,) = [r for r in rows if r["partner_id"] == partner and r["quarter"] == "2026-Q1"]
    assert {k: row[k] for k in expected} == expected
    readme = (folder(name) / "README.md").read_text(encoding="utf-8")
    assert f"--id {partner}" in readme and f"{partner} in 2026-Q1" in readme
