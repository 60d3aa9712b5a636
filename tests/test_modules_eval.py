"""Module tables and non-money benefits through `ipl run` and `ipl explain`."""

from __future__ import annotations

from click.testing import CliRunner

from dsl.cli import cli

MODULE = """module rates
param volume : number = 75
tiers standard on volume {
  from 0  -> 1%
  from 50 -> 2%
  from 90 -> 3%
}
tiers labels on volume {
  from 0  -> bronze
  from 50 -> silver
}
def bump(x : percent) -> percent = x + standard
"""

POLICY = """policy "p" currency USD
use rates
input partner_id : id
input revenue : money in 0 USD..
tiers own on revenue {
  from 0 USD   -> bronze
  from 500 USD -> silver
}
component c = revenue * rates.standard
component d = revenue * rates.bump(1%)
benefit module_level = rates.labels
benefit own_level = own
benefit big = revenue > 10 USD
"""


def _files(tmp_path):
    (tmp_path / "rates.ipl").write_text(MODULE, encoding="utf-8")
    (tmp_path / "p.ipl").write_text(POLICY, encoding="utf-8")
    (tmp_path / "r.csv").write_text("partner_id,revenue\nX,1000\n", encoding="utf-8")
    return str(tmp_path / "p.ipl"), str(tmp_path / "r.csv")


def test_a_module_tiers_table_is_a_constant_of_the_run(tmp_path):
    policy, records = _files(tmp_path)
    out = tmp_path / "o.csv"
    result = CliRunner().invoke(cli, ["run", policy, "--records", records, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines() == [
        "partner_id,c,d,module_level,own_level,big,total,eligible,reasons",
        "X,20.00,30.00,silver,silver,true,50.00,true,",
    ]


def test_explain_shows_level_and_flag_benefits_as_they_are(tmp_path):
    policy, records = _files(tmp_path)
    result = CliRunner().invoke(cli, ["explain", policy, "--records", records, "--id", "X"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    benefit_rows = [line.split() for line in lines if line.strip().startswith(("module_level", "own_level", "big "))]
    assert benefit_rows == [["module_level", "silver"], ["own_level", "silver"], ["big", "true"]]
    for fmt in ("json", "html"):
        result = CliRunner().invoke(cli, ["explain", policy, "--records", records, "--id", "X", "--format", fmt])
        assert result.exit_code == 0, result.output
        assert "silver" in result.output
