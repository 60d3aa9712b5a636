"""The batch engine: summary per level, what-if params in statements, the untraced fast path."""

from __future__ import annotations

from decimal import Decimal as D

from click.testing import CliRunner

from dsl.cli import cli
from dsl.run.lookup import outcomes
from dsl.run.policy import compile_file
from dsl.run.runner import run
from dsl.run.summary import render_summary

from .conftest import ROOT

LEVELS = """policy "Levels" currency USD
input pid : id
input rev : money in 0 USD..
input ok : bool
tiers level on rev {
  below 1_000 USD -> bronze
  from 1_000 USD -> silver
  from 10_000 USD -> gold
}
eligibility {
  require ok else "not ok"
}
benefit partner_level = level
component c = rev * 10%
"""


def test_summary_per_level_counts_partners_and_cost(tmp_path):
    pol, rec = tmp_path / "p.ipl", tmp_path / "r.csv"
    pol.write_text(LEVELS)
    rec.write_text("pid,rev,ok\nA,500,true\nB,20000,true\nC,30000,false\nD,2000,true\nE,15000,true\n")
    compiled = compile_file(str(pol))
    paid = []
    summary = run(compiled, str(rec), paid.append, paid.append)
    assert summary.levels == {"partner_level": {"bronze": [1, D("50.00")], "gold": [3, D("3500.00")],
                                                "silver": [1, D("200.00")]}}
    text = render_summary(compiled, summary)
    assert text.index("bronze") < text.index("silver") < text.index("gold")  # band order, not alphabetical
    assert "per level (partner_level):" in text
    out = tmp_path / "o.csv"
    assert CliRunner().invoke(cli, ["run", str(pol), "--records", str(rec), "-o", str(out)]).exit_code == 0
    assert out.read_text().splitlines()[3] == "C,0.00,gold,0.00,false,not ok"


def test_fast_path_has_no_tracing_hooks():
    compiled = compile_file(str(ROOT / "programs/growth/growth.ipl"))
    assert "_ev(" not in compiled.source and "_at[" not in compiled.source and " _div(" not in compiled.source
    compiled.traced()
    assert "_ev(" in compiled.traced_source and " _div(" in compiled.traced_source


def test_traced_and_fast_variants_agree_on_growth():
    compiled = compile_file(str(ROOT / "programs/growth/growth.ipl"))
    traced = compiled.traced()
    results = list(outcomes(compiled, str(ROOT / "programs/growth/records.csv")))
    assert len(results) == 1200
    for ev in results:
        assert traced(ev.record)[0] == ev.result


def test_explain_with_a_what_if_param(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["explain", "programs/growth/growth.ipl", "--records",
                                      "programs/growth/records.csv", "--id", "P-00001", "--set", "base_rate=12%"])
    assert result.exit_code == 0
    assert "base_rate = 12%" in result.output and "72,511.03 USD" in result.output  # 604,258.59 * 12 %
