"""The checker: the spec's policy gives a full CheckedPolicy; what a checked policy holds.

The diagnostics of each rule are fixtures with inline expectations (tests/check/*/, run by
tests/test_expectations.py); the tests here are about what the checker builds, and about
rules that need several files or a look at the result. `errors(text)` gives "CODE: message".
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from dsl.front import ast
from dsl.checker.driver import check_loaded as check_file
from dsl.checker.program import check_module, check_policy
from dsl.front.diagnostics import Diagnostics
from dsl.checker.driver import Loaded
from dsl.checker.declared import decl_exprs
from dsl.front.source import SourceFile
from dsl.front.syntax import parse_source
from dsl.checker.types import BOOL, COUNT, MONEY, NUMBER, PERCENT, Kind, Type

from .conftest import ROOT, spec_blocks

HEAD = 'policy "T" currency USD\ninput partner_id : id\ninput revenue : money in 0 USD..\n'
MULTI = ('policy "T" currency USD period quarter\ninput partner_id : id\ninput quarter : period\n'
         'input revenue : money in 0 USD..\n')


def run(text: str, path: str = "t.ipl", folder: Path | None = None):
    diags = Diagnostics()
    source = SourceFile(str((folder / path) if folder else path), text)
    file = parse_source(source, diags)
    assert file is not None, [d.message for d in diags.items]
    result = check_file(Loaded(source.path, source, file), diags)
    return result, [f"{d.code}: {d.message}" for d in diags.sorted()]


def errors(text: str, **kw) -> list[str]:
    return run(text, **kw)[1]


def spec_policy() -> str:
    return spec_blocks()[0][1]


# ---------------------------------------------------------------- the spec's policy


def test_the_spec_policy_checks_to_a_full_checked_policy(tmp_path):
    (tmp_path / "growth.ipl").write_text(spec_policy())
    checked, found = run(spec_policy(), "growth.ipl", tmp_path)
    assert found == []
    assert checked.currency == "USD" and checked.minor_units == 2 and checked.rounding == "half_even"
    assert checked.period == "quarter" and checked.period_input is None
    assert checked.id_input == "partner_id"
    assert checked.components == ("base", "renewal_bonus", "accelerator", "quality_bonus")
    assert checked.benefits == ("co_marketing_fund",)
    types = {n: d.type for n, d in checked.definitions.items()}
    assert types["renewal_rate"] == PERCENT and types["growth"] == PERCENT
    assert types["renewal_tier"] == PERCENT and types["quality_points"] == MONEY
    assert types["segment"] == Type(Kind.ENUM, ("enterprise", "midmarket", "digital"))
    assert types["co_marketing_fund"] == MONEY and types["certified"] == BOOL
    # order: every definition after what it reads
    position = {n: i for i, n in enumerate(checked.order)}
    assert set(position) == set(checked.definitions)
    for name, d in checked.definitions.items():
        for dep in d.deps - {"metrics.growth"}:
            assert position[dep] < position[name], (dep, name)
    assert checked.definitions["accelerator"].deps == frozenset({"base", "growth"})
    assert checked.definitions["growth"].deps == frozenset({"joint_revenue", "prior_revenue",
                                                            "metrics.growth"})
    assert "metrics" in checked.modules
    # every expression node of the policy (and of the module it uses) has a type
    for file in (checked.file, checked.modules["metrics"].file):
        for decl in file.decls:
            for root in decl_exprs(decl):
                for e in ast.walk(root):
                    assert id(e) in checked.types, e
    base = checked.definitions["base"].decl
    assert checked.refs[id(base.value.left)].kind == "definition"
    assert checked.constants[id(checked.definitions["base_rate"].decl.value)] == Decimal("0.10")
    assert len(checked.eligibility) == 2 and checked.total is not None


def test_a_policy_with_five_unrelated_mistakes_reports_all_five():
    found = errors(HEAD + """
input segment : enum(enterprise, digital)
input csat : number in 1..5
eligibility { require csat > 3.5% else "low" }
component base = revenu * 10%
component bonus = revenue + 10%
component extra = match segment { enterprise -> 1 USD }
benefit fund = revenue * 2%
  floor 100 USD
  cap 50 USD
""")
    assert [f.split(":")[0] for f in found] == ["E301", "E200", "E301", "E310", "E600"]


# ---------------------------------------------------------------- names


def test_did_you_mean():
    _, found = run(HEAD + "component c = revenu * 10%")
    diags = Diagnostics()
    source = SourceFile("t.ipl", HEAD + "component c = revenu * 10%")
    check_policy(source, parse_source(source, diags), diags, path=Path("t.ipl"))
    assert [d.help for d in diags.items] == ["did you mean `revenue`?"]


def test_missing_currency_and_period_header():
    assert errors('policy "T"\ninput partner_id : id\ninput q : period\nbenefit b = q == q') == [
        "E204: the header has no `currency`",
        "E204: the header has no `period`, but the policy has a `period` input",
    ]


def test_prior_reads_an_earlier_period_so_it_is_not_a_cycle():
    checked, found = run(MULTI + "metric cumulative = revenue + (prior(cumulative) otherwise 0 USD)\n"
                         "component c = cumulative * 10%")
    assert found == []
    d = checked.definitions["cumulative"]
    assert d.deps == frozenset({"revenue"}) and d.history_deps == frozenset({"cumulative"}) and d.history


def test_eligible_and_total_are_graph_nodes():
    checked, found = run(HEAD + "eligibility { require revenue > 0 USD else \"none\" }\n"
                         "component c = if eligible then revenue * 10% else 0 USD\n"
                         "benefit share = total * 2%")
    assert found == []
    assert checked.definitions["c"].uses_eligibility and checked.definitions["share"].uses_total
    assert checked.order.index("c") < checked.order.index("share")
    assert errors(HEAD + "eligibility { require c > 0 USD else \"x\" }\n"
                  "component c = if eligible then revenue else 0 USD") == [
        "E202: cyclic definitions: c -> eligibility -> c"]


def test_program_wide_flags_propagate():
    checked, found = run(HEAD + "component mdf = pool 1_000_000 USD by revenue among eligible\n"
                         "  cap 25_000 USD\n"
                         "metric place = rank(revenue)\n"
                         "component top = if place <= 10 then 5_000 USD else 0 USD\n"
                         "benefit pct = percentile(revenue)")
    assert found == []
    d = checked.definitions
    assert d["mdf"].type == MONEY and d["place"].type == COUNT and d["pct"].type == PERCENT
    assert d["mdf"].program_wide and d["place"].program_wide and d["top"].program_wide
    assert not d["revenue"].program_wide


# ---------------------------------------------------------------- types


def test_levels_are_ordered_labels():
    checked, found = run(HEAD + """
tiers level on revenue {
  below 100_000 USD -> registered
  from 100_000 USD -> silver
  from 1_000_000 USD -> gold
}
benefit partner_level = level
component bonus = if level >= silver then revenue * 1% else 0 USD
component extra = revenue * match level { gold -> 2%  else -> 0% }
""")
    assert found == []
    level = Type(Kind.LEVEL, ("registered", "silver", "gold"), "level")
    assert checked.definitions["partner_level"].type == level
    assert checked.levels == {"level": ("registered", "silver", "gold")}
    assert "E311: label `gold` is used by two bands of `lv`" in errors(
        HEAD + "tiers lv on revenue { below 1 USD -> gold from 1 USD -> gold }\nbenefit b = lv")
    assert "E310: `match` is not exhaustive: missing `registered`, `silver`" in errors(
        HEAD + "tiers lv on revenue { below 1 USD -> registered from 1 USD -> silver "
        "from 2 USD -> gold }\ncomponent c = revenue * match lv { gold -> 1% }")


@pytest.mark.parametrize("key, rates, result", [
    ("revenue", ("0%", "5%"), MONEY),
    ("score", ("0 USD", "100 USD"), MONEY),
    ("rate", ("0%", "10%"), PERCENT),
    ("score", ("0", "2"), NUMBER),
])
def test_marginal_table_types(key, rates, result):
    checked, found = run(HEAD + "input score : number in 0..100\ninput rate : percent in 0%..100%\n"
                         f"tiers t on {key} marginal {{ from 0{_unit(key)} -> {rates[0]} "
                         f"from 60{_unit(key)} -> {rates[1]} }}\nbenefit b = t\n"
                         "benefit u1 = score\nbenefit u2 = rate")
    assert [f for f in found if f.startswith("E")] == []
    assert checked.definitions["t"].type == result


def _unit(key: str) -> str:
    return {"revenue": " USD", "rate": "%", "score": ""}[key]


def test_scorecard_is_percent_and_weights_may_be_params():
    checked, found = run(HEAD + "input csat : number in 1..5\nparam w : percent = 40%\n"
                         "scorecard s { revenue weight 60% target 1_000 USD cap 120%  csat weight w target 4 }\n"
                         "component c = revenue * s")
    assert found == [] and checked.definitions["s"].type == PERCENT


def test_history_functions():
    checked, found = run(MULTI + """
metric last = prior(revenue, 2) otherwise 0 USD
metric avg_revenue = trailing_avg(revenue, 4) otherwise 0 USD
metric loyal = streak(revenue > 0 USD)
metric active = periods_active
component c = (last + avg_revenue) * 1% + (if loyal >= 4 and active > 1 then 100 USD else 0 USD)
""")
    assert found == []
    d = checked.definitions
    assert d["last"].type == MONEY and d["loyal"].type == COUNT and d["active"].type == COUNT
    assert d["last"].history and not d["c"].history
    assert "E303: `k` must be a whole number of at least 1, not 0" in errors(
        MULTI + "component c = prior(revenue, 0) otherwise 0 USD")
    assert "E303: `prior` takes the name of an input, metric, table, scorecard, component, benefit or `total`" \
        in errors(MULTI + "component c = prior(revenue * 2) otherwise 0 USD")
    assert errors(MULTI + "component c = trailing_sum(revenue, 3)") == [
        "W104: `trailing_sum` has no `otherwise` fallback"]


# ---------------------------------------------------------------- ranges


def test_a_flat_table_key_from_a_table_union():
    # inner gives 1..3; outer starts at 1: covered
    assert errors(HEAD + "tiers inner on revenue { below 10 USD -> 1 from 10 USD -> 3 }\n"
                  "tiers outer on inner { from 1 -> 1% from 2 -> 2% }\ncomponent c = revenue * outer") == []


# ---------------------------------------------------------------- modules and use


def test_module_rules():
    diags = Diagnostics()
    source = SourceFile("m.ipl", "module m\ninput x : money\ndef f(a : money) -> money = a * 2\n"
                        "component c = 1 USD\n")
    file = parse_source(source, diags)
    assert check_module(source, file, diags) is None
    assert [d.message for d in diags.sorted()] == [
        "a module may hold only `def`, `param` and `tiers`, not `input`",
        "a module may hold only `def`, `param` and `tiers`, not `component`",
    ]


def test_a_sibling_module_wins_over_the_stdlib_and_its_currency_is_the_policys(tmp_path):
    (tmp_path / "metrics.ipl").write_text("module metrics\nparam bonus : money = 5 EUR\n")
    policy = HEAD + "use metrics\ncomponent c = metrics.bonus + revenue\n"
    _, found = run(policy, "p.ipl", tmp_path)
    assert found == ["E302: money in EUR, but the policy's currency is USD"]
    (tmp_path / "metrics.ipl").write_text("module metrics\nparam bonus : money = 5 USD\n")
    checked, found = run(policy, "p.ipl", tmp_path)
    assert found == [] and checked.modules["metrics"].constants == {"bonus": Decimal(5)}
    (tmp_path / "other.ipl").write_text("module wrong\n")
    assert "E200: `" + str(tmp_path / "other.ipl") + "` declares `module wrong`, not `module other`" in \
        errors(HEAD + "use other\ncomponent c = revenue", path="p.ipl", folder=tmp_path)


def test_stdlib_and_programs_check_clean(monkeypatch):
    from click.testing import CliRunner

    from dsl.cli import cli

    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["check", "programs", "stdlib"])
    assert result.exit_code == 0, result.output
    assert ", 0 errors" not in result.output or "0 errors" in result.output


# ---------------------------------------------------------------- test files


def test_test_file_checks(tmp_path):
    (tmp_path / "p.ipl").write_text(MULTI + "input segment : enum(a, b)\n"
                                    "component c = revenue * (if segment == a then 10% else 5%)\n"
                                    "clawback c within 2 periods\nparam rate : percent = 5%\n"
                                    "benefit r = rate")
    ok = """tests for "p.ipl"
fixture f { partner_id = "P" quarter = "2026-Q1" segment = a revenue = 10 USD }
test "t" {
  given periods { "2026-Q1" -> f  "2026-Q2" -> f with { revenue = 0 USD param rate = 6% } }
  expect in "2026-Q1" c = 1 USD
  expect in "2026-Q2" clawback c = -1 USD
  expect in "2026-Q2" payable = 0 USD
  expect eligible = true
  expect reasons = []
  expect error "x"
}
"""
    checked, found = run(ok, "t.ipl", tmp_path)
    assert found == [] and checked is not None
    bad = """tests for "p.ipl"
fixture f { partner_id = "P" quarter = "2026-3" segment = c revenue = 10 }
test "t" {
  given periods { "2026-Q1" -> g }
  expect in "2026-Q4" c = 1 USD
  expect clawback r = 0 USD
  expect rate = 5
  expect reasons = [1]
}
"""
    _, found = run(bad, "t.ipl", tmp_path)
    assert found == [
        'E700: "2026-3" is not a quarter period',
        "E700: `c` is not a member of enum(a, b)",
        "E700: input `revenue` is money, but this value is number",
        "E700: unknown fixture `g`",
        'E700: period "2026-Q4" is not given in this test',
        "E700: the policy has no component `r`",
        "E700: `5` for a percent would be 500 %: write `5%` or `0.05`",
        "E700: `reasons` is a list of strings",
    ]


def test_a_test_file_whose_policy_is_missing_or_broken(tmp_path):
    _, found = run('tests for "nope.ipl"\n', "t.ipl", tmp_path)
    assert found == [f'E700: unknown policy file "nope.ipl" (looked for {tmp_path / "nope.ipl"})']
    (tmp_path / "p.ipl").write_text(HEAD + "component c = revenu")
    _, found = run('tests for "p.ipl"\n', "t.ipl", tmp_path)
    assert found == ['E700: the policy "p.ipl" has errors']


def test_a_plain_given_is_one_record_in_the_period_it_names(tmp_path):
    (tmp_path / "p.ipl").write_text(MULTI + "component c = revenue * 10%\n")
    text = ('tests for "p.ipl"\nfixture f { partner_id = "P" quarter = "2026-Q1" revenue = 10 USD }\n'
            'test "t" {\n  given f\n  expect in "2026-Q1" c = 1 USD\n  expect in "2026-Q2" c = 1 USD\n}\n')
    _, found = run(text, "t.ipl", tmp_path)
    assert found == ['E700: period "2026-Q2" is not given in this test']


def _is_policy(path: Path) -> bool:
    from dsl.front.syntax import parse_text

    return isinstance(parse_text(path.read_text(encoding="utf-8")), ast.PolicyFile)


PROGRAM_POLICIES = sorted(p for p in (ROOT / "programs").rglob("*.ipl") if _is_policy(p))


@pytest.mark.parametrize("path", PROGRAM_POLICIES, ids=[p.parent.name for p in PROGRAM_POLICIES])
def test_every_program_checks_to_a_complete_checked_policy(path):
    """The contract of dsl/ir/nodes.py on every real program: a type for every expression node,
    a ref for every name, an order in which everything comes after what it reads."""
    from dsl.checker.driver import check_file as check_path

    diags = Diagnostics()
    checked = check_path(path, diags)
    assert [d for d in diags.items if d.severity.value == "error"] == []
    assert checked is not None
    files = [checked.file] + [m.file for m in checked.modules.values()]
    for file in files:
        for decl in file.decls:
            for root in decl_exprs(decl):
                for e in ast.walk(root):
                    assert id(e) in checked.types, (path.name, e)
                    if isinstance(e, (ast.Name, ast.Qualified)) and not \
                            (isinstance(e, ast.Name) and checked.types[id(e)].kind is Kind.LEVEL):
                        assert id(e) in checked.refs, (path.name, e)
    position = {n: i for i, n in enumerate(checked.order)}
    assert set(position) == set(checked.definitions)
    for name, d in checked.definitions.items():
        for dep in d.deps:
            if "." not in dep:
                assert position[dep] < position[name], (dep, name)
