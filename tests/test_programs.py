"""The real programs under programs/: they parse and check, and their record
generators are deterministic and produce rows valid for the policy's inputs."""

from __future__ import annotations

import csv
import importlib.util
import sys
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
from click.testing import CliRunner

from dsl.front import ast
from dsl.cli import cli
from dsl.front.diagnostics import Diagnostics
from dsl.front.syntax import parse_bytes

ROOT = Path(__file__).resolve().parent.parent
GROWTH = ROOT / "programs" / "growth"


def generator():
    """programs/growth/generate.py, imported by path (programs/ is not a package)."""
    name = "ipl_growth_generate"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, GROWTH / "generate.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def growth_policy() -> ast.PolicyFile:
    diags = Diagnostics()
    path = GROWTH / "growth.ipl"
    _source, file = parse_bytes(str(path), path.read_bytes(), diags)
    assert diags.sorted() == [], [d.message for d in diags.sorted()]
    return file


# ---------------------------------------------------------------- the policy


def test_growth_policy_parses_with_the_header_of_spec_section_3():
    file = growth_policy()
    assert isinstance(file, ast.PolicyFile)
    h = file.header
    assert (h.name, h.version, h.currency, h.period, h.rounding) == (
        "Partner Growth Program", "2026.1", "USD", "quarter", "half_even")
    assert [d.name for d in file.decls if isinstance(d, ast.Use)] == ["metrics"]


def test_growth_policy_declares_the_names_of_spec_section_3():
    file = growth_policy()
    kinds = [(type(d).__name__, getattr(d, "name", None)) for d in file.decls if not isinstance(d, ast.Use)]
    assert kinds == [
        ("Input", "partner_id"), ("Input", "segment"), ("Input", "joint_revenue"),
        ("Input", "prior_revenue"), ("Input", "renewals_due"), ("Input", "renewals_won"),
        ("Input", "deployment_score"), ("Input", "csat"), ("Input", "certified"),
        ("Param", "base_rate"), ("Metric", "renewal_rate"), ("Metric", "growth"),
        ("Tiers", "renewal_tier"), ("Tiers", "quality_points"), ("Eligibility", None),
        ("Component", "base"), ("Component", "renewal_bonus"), ("Component", "accelerator"),
        ("Component", "quality_bonus"), ("Component", "co_marketing_fund"), ("Total", None),
    ]
    growth = next(d for d in file.decls if isinstance(d, ast.Metric) and d.name == "growth")
    assert growth.value == ast.Call(func="growth", module="metrics",
                                    args=(ast.Name(name="joint_revenue"), ast.Name(name="prior_revenue")))


def test_growth_tables_have_the_numbers_of_the_spec():
    file = growth_policy()
    tables = {d.name: d for d in file.decls if isinstance(d, ast.Tiers)}
    renewal = tables["renewal_tier"]
    assert renewal.mode == "flat"
    assert [(b.kind, b.threshold, b.value) for b in renewal.bands] == [
        ("below", ast.Percent(value=Decimal("0.80")), ast.Percent(value=Decimal("0"))),
        ("from", ast.Percent(value=Decimal("0.80")), ast.Percent(value=Decimal("0.02"))),
        ("from", ast.Percent(value=Decimal("0.90")), ast.Percent(value=Decimal("0.04"))),
    ]
    quality = tables["quality_points"]
    assert quality.mode == "marginal"
    assert [(b.threshold.value, b.value.amount) for b in quality.bands] == [
        (Decimal(0), Decimal(0)), (Decimal(60), Decimal(100)), (Decimal(80), Decimal(250))]


def test_ipl_check_programs_and_stdlib_is_clean():
    result = CliRunner().invoke(cli, ["check", str(ROOT / "programs"), str(ROOT / "stdlib")])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


def test_growth_and_stdlib_check_without_warnings():
    result = CliRunner().invoke(cli, ["check", str(GROWTH), str(ROOT / "stdlib")])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("checked 6 files: 0 errors, 0 warnings"), result.output


# ---------------------------------------------------------------- the generator


def test_generator_is_deterministic_for_a_seed(tmp_path):
    gen = generator()
    a = gen.write(tmp_path / "a.csv", 200, 11).read_bytes()
    b = gen.write(tmp_path / "b.csv", 200, 11).read_bytes()
    c = gen.write(tmp_path / "c.csv", 200, 12).read_bytes()
    assert a == b
    assert a != c
    assert a.count(b"\n") == 201


def test_checked_in_records_are_the_generator_defaults(tmp_path):
    gen = generator()
    assert (gen.DEFAULT_COUNT, gen.DEFAULT_SEED) == (1_200, 2026)
    fresh = gen.write(tmp_path / "records.csv").read_bytes()
    assert (GROWTH / "records.csv").read_bytes() == fresh, \
        "programs/growth/records.csv differs: run python programs/growth/generate.py"


def test_generator_cli(tmp_path):
    gen = generator()
    out = tmp_path / "sub" / "r.csv"
    assert gen.main(["--count", "3", "--seed", "5", "--out", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(gen.COLUMNS)
    assert [line.split(",")[0] for line in lines[1:]] == ["P-00001", "P-00002", "P-00003"]
    with pytest.raises(SystemExit) as stop:
        gen.main(["--count", "-1", "--out", str(out)])
    assert stop.value.code == 2


def _check_value(decl: ast.Input, text: str) -> None:
    """A record value fits its input declaration (type and range), as spec §13 validates it."""
    kind = decl.type.name
    if kind == "id":
        assert text
        return
    if kind == "enum":
        assert text in decl.type.members
        return
    if kind == "bool":
        assert text in ("true", "false")
        return
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise AssertionError(f"{decl.name}: {text!r} is not a decimal") from None
    if kind == "count":
        assert text.isdigit(), (decl.name, text)
    if kind == "money":
        assert value.as_tuple().exponent == -2, (decl.name, text)  # cents, always 2 decimals
    if decl.range is not None:
        lo = decl.range.lo
        hi = decl.range.hi
        bound = lambda e: e.amount if isinstance(e, ast.Money) else e.value  # noqa: E731
        if lo is not None:
            assert value >= bound(lo), (decl.name, text)
        if hi is not None:
            assert value <= bound(hi), (decl.name, text)


def test_records_fit_the_policy_inputs():
    inputs = [d for d in growth_policy().decls if isinstance(d, ast.Input)]
    gen = generator()
    assert tuple(d.name for d in inputs) == gen.COLUMNS
    with open(GROWTH / "records.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1_200
    assert len({r["partner_id"] for r in rows}) == len(rows)
    for row in rows:
        for decl in inputs:
            _check_value(decl, row[decl.name])
        assert int(row["renewals_won"]) <= int(row["renewals_due"])
        assert len(row["csat"].split(".")[1]) == 1


def test_records_cover_the_cases_the_policy_distinguishes():
    with open(GROWTH / "records.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    segments = Counter(r["segment"] for r in rows)
    assert segments["digital"] > segments["midmarket"] > segments["enterprise"] > 100
    new = [r for r in rows if Decimal(r["prior_revenue"]) == 0]
    assert 40 < len(new) < 150  # new partners: growth has no base
    assert 100 < sum(r["renewals_due"] == "0" for r in rows) < 300
    ineligible = [r for r in rows if Decimal(r["csat"]) < Decimal("3.5") or int(r["deployment_score"]) < 60]
    assert 50 < len(ineligible) < 250
    assert {r["certified"] for r in rows} == {"true", "false"}
    growth = [(Decimal(r["joint_revenue"]) - Decimal(r["prior_revenue"])) / Decimal(r["prior_revenue"])
              for r in rows if Decimal(r["prior_revenue"]) > 0]
    assert sum(g >= Decimal("0.2") for g in growth) > 100  # the 50 % accelerator step
    assert sum(Decimal("0.1") <= g < Decimal("0.2") for g in growth) > 100  # the 25 % step
    assert sum(g < 0 for g in growth) > 100
    # some partners are big enough for the accelerator cap and the total cap to bind
    assert any(Decimal(r["joint_revenue"]) > Decimal(2_500_000) for r in rows)


def test_benchmark_workload_reuses_the_generator(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import workload
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    path = workload.make_records(50, tmp_path / "w.csv")
    assert path.read_bytes() == generator().write(tmp_path / "g.csv", 50, 2026).read_bytes()
    assert workload.sizes() in ((1_000,), (100_000, 1_000_000))


# ---------------------------------------------------------------- the README's statement, by the engine


def test_ipl_run_agrees_with_the_statement_worked_by_hand_in_the_readme(tmp_path):
    out = tmp_path / "payouts.csv"
    result = CliRunner().invoke(cli, ["run", str(GROWTH / "growth.ipl"), "--records", str(GROWTH / "records.csv"),
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "reconciled    read 1,200 = paid 1,200 + rejected 0" in result.output
    with open(out, newline="", encoding="utf-8") as f:
        rows = {r["partner_id"]: r for r in csv.DictReader(f)}
    first = rows["P-00001"]
    assert {k: first[k] for k in ("base", "renewal_bonus", "accelerator", "quality_bonus",
                                  "co_marketing_fund", "total", "eligible")} == {
        "base": "60425.86", "renewal_bonus": "14502.21", "accelerator": "15106.46",
        "quality_bonus": "300.00", "co_marketing_fund": "12085.17", "total": "90334.53",
        "eligible": "true"}
    readme = (GROWTH / "README.md").read_text(encoding="utf-8")
    for figure in ("60,425.86", "14,502.21", "15,106.46", "300.00", "12,085.17", "90,334.53"):
        assert f"**{figure}**" in readme
    ineligible = rows["P-00012"]
    assert (ineligible["eligible"], ineligible["total"]) == ("false", "0.00")
    assert "CSAT must be at least 3.5" in ineligible["reasons"]


def test_growth_test_file_passes_under_ipl_test():
    result = CliRunner().invoke(cli, ["test", str(GROWTH)])
    assert result.exit_code == 0, result.output
    assert "13 passed, 0 failed" in result.output
    assert "enterprise renewal bonus at the 4 % band" in result.output
