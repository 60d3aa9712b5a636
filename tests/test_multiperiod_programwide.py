"""Program-wide definitions (spec §15) in a run: pools, ranks, percentiles, the budget.

The arithmetic itself (dsl/run/programwide.py) has its own property tests in tests/test_programwide.py;
these check that the run feeds it the right records and uses its figures."""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D

import pytest
from click.testing import CliRunner

from dsl.cli import cli

Q = D("0.01")

POLICY = '''policy "Fund"
  currency USD
  period quarter

input pid : id
input q : period
input revenue : money in 0 USD..
input csat : number in 1..5

eligibility {
  require csat >= 3 else "CSAT below 3"
}

component base = revenue * 10%

component mdf = pool 1_000 USD by revenue among eligible
  cap 400 USD

metric place = rank(revenue among eligible) otherwise 0
metric pct : percent = percentile(revenue)

component top = if place == 1 then 100 USD else 0 USD

benefit standing = pct

program {
  budget 2_000 USD per period
}
'''

RECORDS = '''pid,q,revenue,csat
A,2026-Q1,3000,4
B,2026-Q1,1000,4
C,2026-Q1,1000,4
D,2026-Q1,9000,2
A,2026-Q2,100,4
B,2026-Q2,200,4
'''


def run(tmp, records=RECORDS):
    (tmp / "p.ipl").write_text(POLICY)
    (tmp / "r.csv").write_text(records)
    out = tmp / "out.csv"
    result = CliRunner().invoke(cli, ["run", str(tmp / "p.ipl"), "--records", str(tmp / "r.csv"), "-o", str(out)])
    return result, {(r["pid"], r["q"]): r for r in csv.DictReader(io.StringIO(out.read_text()))}


def test_pool_rank_percentile_and_budget(tmp_path):
    result, rows = run(tmp_path)
    assert result.exit_code == 0, result.output
    # Q1 pool among the eligible A, B, C by 3000:1000:1000 → 600, 200, 200; A capped at 400
    assert [rows[k, "2026-Q1"]["mdf"] for k in "ABCD"] == ["400.00", "200.00", "200.00", "0.00"]
    # rank among eligible: A first (100 USD); percentile over everybody: the share with a smaller
    # value (D, 9,000, is ahead of A, but D is not eligible: its benefits are 0, §8)
    assert [rows[k, "2026-Q1"]["top"] for k in "ABCD"] == ["100.00", "0.00", "0.00", "0.00"]
    assert [rows[k, "2026-Q1"]["standing"] for k in "ABCD"] == ["0.5", "0", "0", "0"]
    # Q2: B is first
    assert [rows[k, "2026-Q2"]["top"] for k in "AB"] == ["0.00", "100.00"]
    # earned: A 300 + 400 + 100 = 800, B 300, C 300, D 0 → 1,400 <= 2,000: no scaling
    assert [rows[k, "2026-Q1"]["budget_scaling"] for k in "ABCD"] == ["0.00"] * 4
    assert "pool mdf (2026-Q1): 1,000.00 USD; shares 1,000.00 USD; paid after caps 800.00 USD; " \
           "unallocated 200.00 USD" in result.output


def test_budget_scaling_adds_up_to_the_budget(tmp_path, golden):
    records = "pid,q,revenue,csat\nA,2026-Q1,9000,4\nB,2026-Q1,7000,4\nC,2026-Q1,2000,4\n"
    result, rows = run(tmp_path, records)
    assert result.exit_code == 0, result.output
    earned = [D(rows[k, "2026-Q1"]["total"]) for k in "ABC"]
    scaling = [D(rows[k, "2026-Q1"]["budget_scaling"]) for k in "ABC"]
    payable = [D(rows[k, "2026-Q1"]["payable"]) for k in "ABC"]
    assert sum(earned) > D(2000)
    assert sum(payable) == D(2000) and all(s <= 0 for s in scaling)
    assert [e + s for e, s in zip(earned, scaling)] == payable
    res = CliRunner().invoke(cli, ["explain", str(tmp_path / "p.ipl"), "--records", str(tmp_path / "r.csv"),
                                   "--id", "B"])
    assert res.exit_code == 0, res.output
    golden("periods/explain_budget_B.txt", res.output)


def test_a_single_period_policy_is_one_period(tmp_path):
    policy = POLICY.replace("  period quarter\n", "").replace("input q : period\n", "")
    (tmp_path / "p.ipl").write_text(policy)
    (tmp_path / "r.csv").write_text("pid,revenue,csat\nA,3000,4\nB,1000,4\n")
    out = tmp_path / "o.csv"
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "p.ipl"), "--records", str(tmp_path / "r.csv"),
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert list(rows[0])[:2] == ["pid", "base"]
    assert [r["mdf"] for r in rows] == ["400.00", "250.00"]


@pytest.mark.parametrize("pool", ["", "benefit fund = pool 10 USD by revenue\n"])
def test_a_binding_budget_skips_the_records_rejected_in_the_period(tmp_path, pool):
    """A record that fails evaluation (here a division by zero; with a pool, after pass 1)
    gets no budget line; the others keep their own, in file order."""
    (tmp_path / "p.ipl").write_text('''policy "Budget with rejects"
  currency USD
  period quarter

input pid : id
input q : period
input revenue : money in 0 USD..

component base = revenue * 10%
component odd = 0 USD * (100 USD / (revenue - 500 USD))

program {
  budget 100 USD per period
}
''' + pool)
    (tmp_path / "r.csv").write_text("pid,q,revenue\nA,2026-Q1,1000\nB,2026-Q1,3000\n"
                                    "A,2026-Q2,1000\nC,2026-Q2,500\nB,2026-Q2,3000\n")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "p.ipl"), "--records", str(tmp_path / "r.csv"),
                                      "-o", str(out), "--rejects", str(tmp_path / "rej.csv")])
    assert result.exit_code == 1, result.output  # rejected records
    rows = {(r["pid"], r["q"]): r for r in csv.DictReader(io.StringIO(out.read_text()))}
    # 400 earned against 100 in each quarter: a factor of 1/4
    assert {k: (r["total"], r["budget_scaling"], r["payable"]) for k, r in rows.items()} == {
        ("A", "2026-Q1"): ("100.00", "-75.00", "25.00"), ("B", "2026-Q1"): ("300.00", "-225.00", "75.00"),
        ("A", "2026-Q2"): ("100.00", "-75.00", "25.00"), ("B", "2026-Q2"): ("300.00", "-225.00", "75.00")}
    rejected = list(csv.DictReader(io.StringIO((tmp_path / "rej.csv").read_text())))
    assert [(r["row"], r["id"]) for r in rejected] == [("4", "C")]
