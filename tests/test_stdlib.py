"""The standard library modules: they parse, they hold only what a module may hold,
and every function is documented with a formula and worked examples that name it correctly.

The examples' values are checked by evaluation where the evaluator is available
(see test_examples_evaluate below)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from dsl.front import ast
from dsl.front.diagnostics import Diagnostics
from dsl.front.syntax import parse_bytes, parse_text
from tests.test_stdlib_doc import gen_stdlib

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted((ROOT / "stdlib").glob("*.ipl"))
DOCS = gen_stdlib().modules()
ENTRIES = [(doc, e) for doc in DOCS for e in doc.entries]
EXAMPLES = [(doc, e, x) for doc, e in ENTRIES for x in e.examples]


def _parse(path: Path):
    diags = Diagnostics()
    _source, file = parse_bytes(str(path), path.read_bytes(), diags)
    return file, diags


def test_the_expected_modules_exist():
    assert [p.name for p in MODULES] == ["curves.ipl", "metrics.ipl"]
    assert [d.name for d in DOCS] == ["curves", "metrics"]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_parses_cleanly(path):
    file, diags = _parse(path)
    assert diags.sorted() == []
    assert isinstance(file, ast.ModuleFile)
    assert file.name == path.stem  # `use metrics` finds stdlib/metrics.ipl


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_holds_only_defs_params_and_tiers_without_inputs(path):
    file, _ = _parse(path)
    for decl in file.decls:
        assert isinstance(decl, (ast.Def, ast.Param, ast.Tiers)), type(decl).__name__


def test_metrics_signatures():
    sigs = {e.name: e.signature for doc, e in ENTRIES if doc.name == "metrics"}
    assert sigs["growth"] == "metrics.growth(current : money, previous : money) -> percent"
    assert sigs["renewal_rate"] == "metrics.renewal_rate(won : count, due : count) -> percent"
    assert sigs["net_revenue_retention"] == (
        "metrics.net_revenue_retention(start : money, expansion : money, contraction : money, "
        "churn : money) -> percent")
    assert sigs["churn_rate"] == "metrics.churn_rate(start : money, churned : money) -> percent"
    assert sigs["attainment"] == "metrics.attainment(actual : money, goal : money) -> percent"


@pytest.mark.parametrize("doc,entry", ENTRIES, ids=lambda v: getattr(v, "name", ""))
def test_every_def_is_documented_with_a_formula_and_an_example(doc, entry):
    assert entry.prose, f"{doc.name}.{entry.name} has no comment block"
    assert entry.formula, f"{doc.name}.{entry.name} has no `formula:` line"
    assert any(x.kind == "example" for x in entry.examples), f"{doc.name}.{entry.name} has no example"


def _divides(expr) -> bool:
    return any(isinstance(n, ast.Binary) and n.op == "/" for n in ast.walk(expr))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_every_division_has_an_otherwise_and_a_documented_zero_case(path):
    file, _ = _parse(path)
    entries = {e.name: e for doc in DOCS for e in doc.entries}
    for decl in file.decls:
        if isinstance(decl, ast.Def) and _divides(decl.body):
            assert isinstance(decl.body, ast.Otherwise), f"{decl.name} divides without `otherwise`"
            assert any(x.kind == "zero" for x in entries[decl.name].examples), \
                f"{decl.name}: document what a zero denominator gives with a `zero:` line"


@pytest.mark.parametrize("doc,entry,example", EXAMPLES,
                         ids=[f"{d.name}.{x.line}" for d, _, x in EXAMPLES])
def test_example_names_its_function_with_the_right_arguments(doc, entry, example):
    assert example.module == doc.name
    assert example.func == entry.name, "an example documents the def it sits above"
    # The call parses as an IPL expression with as many arguments as the def has parameters.
    diags = Diagnostics()
    file = parse_text(f'policy "x" currency USD\nmetric m = {example.call}\nmetric v = {example.value}\n',
                      diags=diags)
    assert diags.sorted() == [], [d.message for d in diags.sorted()]
    call = file.decls[0].value
    assert isinstance(call, ast.Call) and call.module == doc.name and call.func == entry.name
    assert len(call.args) == entry.arity


def _literal(text: str) -> Decimal:
    m = re.fullmatch(r"(-?[0-9_.]+)(%| USD)?", text.strip())
    assert m, text
    value = Decimal(m.group(1).replace("_", ""))
    return value / 100 if m.group(2) == "%" else value


def test_example_values_agree_with_the_formulas_by_hand():
    """The documented numbers, recomputed here in Decimal from each formula."""
    D = Decimal
    hand = {
        "metrics.growth(1_200_000 USD, 1_000_000 USD)": (D(1_200_000) - D(1_000_000)) / D(1_000_000),
        "metrics.growth(750 USD, 1_000 USD)": (D(750) - D(1000)) / D(1000),
        "metrics.renewal_rate(37, 40)": D(37) / D(40),
        "metrics.net_revenue_retention(100_000 USD, 15_000 USD, 3_000 USD, 2_000 USD)":
            (D(100_000) + D(15_000) - D(3_000) - D(2_000)) / D(100_000),
        "metrics.gross_revenue_retention(100_000 USD, 3_000 USD, 2_000 USD)": D(95_000) / D(100_000),
        "metrics.churn_rate(100_000 USD, 4_000 USD)": D(4_000) / D(100_000),
        "metrics.logo_churn_rate(3, 60)": D(3) / D(60),
        "metrics.attainment(450_000 USD, 400_000 USD)": D(450_000) / D(400_000),
        "metrics.win_rate(18, 42)": D(18) / D(60),
        "metrics.share(30_000 USD, 120_000 USD)": D(30_000) / D(120_000),
        "curves.accelerated(120%, 2, 150%)": min(D("1.5"), D(1) + D("0.2") * 2),
        "curves.decelerated(70%, 80%, 2)": D("0.8") - D("0.1") * 2,
        "curves.payout_curve(110%, 80%, 2, 3, 200%)": D(1) + D("0.1") * 3,
        "curves.ramp(90%, 80%, 120%, 50%, 150%)": D("0.5") + D("0.1") / D("0.4") * D(1),
    }
    documented = {x.call: _literal(x.value) for _, _, x in EXAMPLES}
    for call, value in hand.items():
        assert documented[call] == value, call


# ---------------------------------------------------------------- the examples, evaluated

SCALE = Decimal(1_000_000)  # every documented value has at most 4 decimals: scaled, it is whole cents


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """Every example of every module, evaluated by `ipl run` on a policy made of them.

    Each example becomes a component `1_000_000 USD * (CALL)`, so that a percent such as
    92.5 % comes back as 925,000.00 USD, exact to the cent. Returns {call: value}."""
    import json

    from click.testing import CliRunner

    from dsl.cli import cli

    folder = tmp_path_factory.mktemp("stdlib_examples")
    (folder / "records.csv").write_text("partner_id\nX\n", encoding="utf-8")
    values: dict[str, Decimal] = {}
    for doc in DOCS:
        calls = [x.call for _, e, x in EXAMPLES if x.module == doc.name]
        lines = ['policy "stdlib examples" currency USD', f"use {doc.name}", "input partner_id : id"]
        lines += [f"component e_{i} = 1_000_000 USD * ({call})" for i, call in enumerate(calls)]
        policy = folder / f"{doc.name}_examples.ipl"
        policy.write_text("\n".join(lines) + "\n", encoding="utf-8")
        out = folder / f"{doc.name}.json"
        result = CliRunner().invoke(cli, ["run", str(policy), "--records", str(folder / "records.csv"),
                                          "-o", str(out)])
        assert result.exit_code == 0, result.output
        (row,) = json.loads(out.read_text(encoding="utf-8"), parse_float=Decimal)
        for i, call in enumerate(calls):
            values[call] = Decimal(row[f"e_{i}"]) / SCALE
    return values


@pytest.mark.parametrize("doc,entry,example", EXAMPLES,
                         ids=[f"{x.call}" for _, _, x in EXAMPLES])
def test_examples_evaluate_to_the_documented_value(evaluated, doc, entry, example):
    assert evaluated[example.call] == _literal(example.value)


def test_a_module_def_may_call_a_sibling_def(tmp_path):
    from click.testing import CliRunner

    from dsl.cli import cli

    (tmp_path / "shapes.ipl").write_text(
        "module shapes\n"
        "def half(x : percent) -> percent = x * 50%\n"
        "def quarter(x : percent) -> percent = half(half(x))\n", encoding="utf-8")
    (tmp_path / "p.ipl").write_text(
        'policy "p" currency USD\nuse shapes\ninput partner_id : id\n'
        "component c = 1_000 USD * shapes.quarter(100%)\n", encoding="utf-8")
    (tmp_path / "r.csv").write_text("partner_id\nX\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "p.ipl"), "--records", str(tmp_path / "r.csv"),
                                      "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[1].startswith("X,250.00")


def test_a_module_def_reads_its_own_param_not_the_policys(tmp_path):
    """An unqualified name in a module def is the module's, even when the policy has the same name."""
    from click.testing import CliRunner

    from dsl.cli import cli

    (tmp_path / "shapes.ipl").write_text(
        "module shapes\n"
        "param rate : percent = 50%\n"
        "def scaled(x : money) -> money = x * rate\n", encoding="utf-8")
    (tmp_path / "p.ipl").write_text(
        'policy "p" currency USD\nuse shapes\ninput partner_id : id\n'
        "param rate : percent = 10%\n"
        "component c = shapes.scaled(1_000 USD)\n"
        "component d = 1_000 USD * rate\n", encoding="utf-8")
    (tmp_path / "r.csv").write_text("partner_id\nX\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "p.ipl"), "--records", str(tmp_path / "r.csv"),
                                      "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[1].startswith("X,500.00,100.00,600.00")


def test_ipl_test_runs_every_documented_example_of_the_stdlib():
    """stdlib/tests: one IPL test per `# example:` / `# zero:` line of the modules (issue 7)."""
    from click.testing import CliRunner

    from dsl.cli import cli

    documented = sum(len(re.findall(r"^# (?:example|zero): ", p.read_text(encoding="utf-8"), re.M))
                     for p in sorted((ROOT / "stdlib").glob("*.ipl")))
    result = CliRunner().invoke(cli, ["test", str(ROOT / "stdlib"), "--coverage", "--fail-under", "90"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(f"{documented} passed, 0 failed")
