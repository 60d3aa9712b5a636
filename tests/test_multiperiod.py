"""Multi-period runs (spec §14, §13 key (id, period)): history, holds, releases, forfeits,
clawbacks, carried recovery, draws; payouts, ledger and statements from the CLI."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from dsl.cli import cli

POLICY = '''policy "Holds"
  currency USD
  period quarter

input pid : id
input q : period
input revenue : money in 0 USD..
input churned : money in 0 USD.. = 0 USD
input renewal_rate : percent = 100%

metric last_revenue : money = prior(revenue) otherwise 0 USD
metric two_back : money = prior(revenue, 2) otherwise -1 USD
metric two_q : money = trailing_sum(revenue, 2)
metric avg3 : money = trailing_avg(revenue, 3)
metric low3 : money = trailing_min(revenue, 3)
metric high3 : money = trailing_max(revenue, 3)
metric run : count = streak(revenue >= 1_000 USD)
metric active : count = periods_active
metric last_total : money = prior(total) otherwise 0 USD

component base = revenue * 10%
component bonus = revenue * 5%
  hold 25% until renewal_rate >= 85% within 2 periods

benefit info = last_revenue + two_q + avg3 + low3 + high3 + two_back + last_total
benefit streak_now = run
benefit seen = active

clawback bonus within 2 periods
  when churned > 0 USD
  recover min(100%, churned / prior(revenue) otherwise 100%)

total {
  floor 200 USD recoverable
}
'''

RECORDS = '''pid,q,revenue,churned,renewal_rate
A,2026-Q1,10000,0,80%
A,2026-Q2,8000,0,90%
B,2026-Q1,1000,0,80%
A,2026-Q3,5000,4000,90%
B,2026-Q3,500,0,80%
C,2026-13,5,0,1
B,2026-Q4,9000,0,80%
D,2026-Q1,100,0,80%
D,2026-Q1,100,0,80%
E,2026-Q1,6000,0,100%
E,2026-Q2,0,0,100%
E,2026-Q3,0,7000,100%
E,2026-Q4,2000,0,100%
'''


@pytest.fixture
def files(tmp_path):
    (tmp_path / "p.ipl").write_text(POLICY)
    (tmp_path / "r.csv").write_text(RECORDS)
    return tmp_path


def run(tmp: Path, records: str = "r.csv", *extra: str):
    out = tmp / "out.csv"
    result = CliRunner().invoke(cli, ["run", str(tmp / "p.ipl"), "--records", str(tmp / records), "-o", str(out),
                                      "--rejects", str(tmp / "rej.csv"), *extra])
    rows = list(csv.DictReader(io.StringIO(out.read_text()))) if out.exists() else []
    return result, rows


def by_key(rows):
    return {(r["pid"], r["q"]): r for r in rows}


def test_payout_columns_and_exit_code(files):
    result, rows = run(files)
    assert result.exit_code == 1, result.output  # three rejected records
    assert list(rows[0].keys()) == [
        "pid", "q", "base", "bonus", "info", "streak_now", "seen", "total", "budget_scaling", "held", "released",
        "forfeited", "clawback", "carried_recovery", "carry_forward", "payable", "eligible", "reasons"]
    # period order, file order within a period
    assert [(r["pid"], r["q"]) for r in rows] == [
        ("A", "2026-Q1"), ("B", "2026-Q1"), ("E", "2026-Q1"), ("A", "2026-Q2"), ("E", "2026-Q2"),
        ("A", "2026-Q3"), ("B", "2026-Q3"), ("E", "2026-Q3"), ("B", "2026-Q4"), ("E", "2026-Q4")]
    rej = list(csv.DictReader(io.StringIO((files / "rej.csv").read_text())))
    assert [(r["row"], r["id"], r["field"]) for r in rej] == [("6", "C", "q"), ("8", "D", "pid"), ("9", "D", "pid")]
    assert rej[0]["reason"] == "'2026-13' is not a quarter: write it like \"2026-Q1\""
    assert rej[1]["reason"] == "duplicate key ('D', 2026-Q1): every record with this key is rejected"


def test_holds_releases_clawbacks_and_draws(files):
    _, rows = run(files)
    r = by_key(rows)
    a1, a2, a3 = r["A", "2026-Q1"], r["A", "2026-Q2"], r["A", "2026-Q3"]
    assert (a1["total"], a1["held"], a1["payable"]) == ("1500.00", "-125.00", "1375.00")
    assert (a2["held"], a2["released"], a2["payable"]) == ("-100.00", "125.00", "1225.00")
    # churned 4,000 of last quarter's 8,000: 50 % of what was paid for Q1 (375 + 125 released)
    # and for Q2 (300 + 100 released this quarter, before the clawback)
    assert (a3["held"], a3["released"], a3["clawback"], a3["payable"]) == ("-62.50", "100.00", "-450.00", "337.50")
    b1, b3, b4 = r["B", "2026-Q1"], r["B", "2026-Q3"], r["B", "2026-Q4"]
    assert (b1["total"], b1["payable"]) == ("200.00", "187.50")  # a draw of 50 (150 earned)
    assert (b3["total"], b3["carried_recovery"], b3["payable"]) == ("200.00", "0.00", "193.75")
    # Q4: the Q1 hold passed its deadline (Q3) unreleased: forfeited, no cash effect;
    # the draws of Q1 (50) and Q3 (125) recovered above the floor
    assert (b4["forfeited"], b4["carried_recovery"], b4["payable"]) == ("12.50", "-175.00", "1062.50")


def test_carry_forward_then_carried_recovery(files):
    _, rows = run(files)
    r = by_key(rows)
    # E: Q1 pays 600 + 225 now (75 held); Q2 earns 0 → floor 200 is a draw;
    # Q3 churned 7,000 of prior revenue 0 → 100 %: 225 paid + 75 released in Q2
    e2, e3, e4 = r["E", "2026-Q2"], r["E", "2026-Q3"], r["E", "2026-Q4"]
    assert (e2["total"], e2["released"], e2["payable"]) == ("200.00", "75.00", "275.00")
    assert (e3["clawback"], e3["carry_forward"], e3["payable"]) == ("-300.00", "100.00", "0.00")
    # Q4: 300 earned; the balance is 200 (Q2 draw) + 200 (Q3 draw) + 100 carried forward = 500,
    # recovered down to the 200 floor: 300 - 25 held - 75 = 200
    assert (e4["total"], e4["held"], e4["carried_recovery"], e4["payable"]) == ("300.00", "-25.00", "-75.00", "200.00")


def test_history_functions_with_gaps(files):
    _, rows = run(files)
    r = by_key(rows)
    # B: Q1 1,000; no Q2; Q3 500; Q4 9,000
    # Q3: prior(revenue) is missing → 0; trailing_sum over Q2..Q3 = 500; avg/min/max over Q1..Q3
    # skip Q2 → 750 / 500 / 1000; prior(revenue, 2) = Q1 = 1000; prior(total) missing → 0
    assert D(r["B", "2026-Q3"]["info"]) == D(0) + D(500) + D(750) + D(500) + D(1000) + D(1000) + D(0)
    assert r["B", "2026-Q3"]["streak_now"] == "0"
    assert r["B", "2026-Q3"]["seen"] == "2"
    # Q4: prior = 500, trailing_sum = 9,500, avg over Q2..Q4 = 4,750, min 500, max 9,000,
    # prior(x, 2) missing → -1, prior(total) = 200
    assert D(r["B", "2026-Q4"]["info"]) == D(500) + D(9500) + D(4750) + D(500) + D(9000) + D(-1) + D(200)
    assert r["B", "2026-Q4"]["streak_now"] == "1"
    assert [r["A", q]["streak_now"] for q in ("2026-Q1", "2026-Q2", "2026-Q3")] == ["1", "2", "3"]
    assert r["B", "2026-Q1"]["streak_now"] == "1"  # a gap ends a streak
    assert r["B", "2026-Q4"]["seen"] == "3"


def test_ledger_output(files):
    result, _ = run(files, "r.csv", "--ledger", str(files / "ledger.csv"))
    assert result.exit_code == 1
    rows = list(csv.reader(io.StringIO((files / "ledger.csv").read_text())))
    assert rows[0] == ["id", "event", "component", "origin_period", "period", "amount"]
    events = [tuple(x) for x in rows[1:]]
    assert ("A", "clawback", "bonus", "2026-Q1", "2026-Q3", "250.00") in events
    assert ("A", "clawback", "bonus", "2026-Q2", "2026-Q3", "200.00") in events
    assert ("B", "forfeit", "bonus", "2026-Q1", "2026-Q4", "12.50") in events
    assert ("B", "draw", "", "2026-Q1", "2026-Q1", "50.00") in events
    assert ("E", "carry_forward", "", "2026-Q3", "2026-Q3", "100.00") in events
    # the end of the run: what is still held, what is still owed
    assert ("B", "still_held", "bonus", "2026-Q4", "2026-Q4", "112.50") in events
    assert ("E", "owed", "", "", "2026-Q4", "425.00") in events
    # held = released + forfeited + still held, per partner
    for pid in "ABE":
        amount = {k: D(0) for k in ("hold", "release", "forfeit", "still_held")}
        for e in events:
            if e[0] == pid and e[1] in amount:
                amount[e[1]] += D(e[5])
        assert amount["hold"] == amount["release"] + amount["forfeit"] + amount["still_held"]


def test_explain_one_period_golden(files, golden):
    result = CliRunner().invoke(cli, ["explain", str(files / "p.ipl"), "--records", str(files / "r.csv"),
                                      "--id", "A", "--period", "2026-Q3"])
    assert result.exit_code == 0, result.output
    golden("periods/explain_A_2026-Q3.txt", result.output)


def test_explain_whole_history_golden(files, golden):
    for pid in ("B", "E"):
        result = CliRunner().invoke(cli, ["explain", str(files / "p.ipl"), "--records", str(files / "r.csv"),
                                          "--id", pid])
        assert result.exit_code == 0, result.output
        golden(f"periods/explain_{pid}.txt", result.output)


def test_explain_json_lines_add_up(files):
    result = CliRunner().invoke(cli, ["explain", str(files / "p.ipl"), "--records", str(files / "r.csv"),
                                      "--id", "E", "--format", "json"])
    doc = json.loads(result.output, parse_float=D)
    assert [p["period"] for p in doc["periods"]] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    for p in doc["periods"]:
        s = p["settlement"]
        assert s["earned"] + s["budget_scaling"] + sum(ln["cash"] for ln in s["lines"]) == s["payable"]
        assert sum(ln["amount"] for ln in p["lines"]) == p["total"] == s["earned"]


def test_explain_rejected_and_bad_period(files):
    runner = CliRunner()
    res = runner.invoke(cli, ["explain", str(files / "p.ipl"), "--records", str(files / "r.csv"), "--id", "D"])
    assert res.exit_code == 1
    assert "duplicate key ('D', 2026-Q1)" in res.output
    res = runner.invoke(cli, ["explain", str(files / "p.ipl"), "--records", str(files / "r.csv"), "--id", "A",
                              "--period", "2026-03"])
    assert res.exit_code == 2
    assert "'2026-03' is not a quarter" in res.output
    res = runner.invoke(cli, ["explain", str(files / "p.ipl"), "--records", str(files / "r.csv"), "--id", "A",
                              "--period", "2027-Q1"])
    assert res.exit_code == 2 and "in period 2027-Q1" in res.output


def test_prior_without_fallback_rejects_with_a_reason(tmp_path):
    (tmp_path / "p.ipl").write_text('''policy "P"
  currency USD
  period month

input pid : id
input m : period
input revenue : money

component growth = revenue - prior(revenue)
''')
    (tmp_path / "r.csv").write_text("pid,m,revenue\nA,2026-01,100\nA,2026-02,150\n")
    result, rows = run(tmp_path)
    assert result.exit_code == 1
    assert rows == []
    # the first month has no earlier one; a rejected record has no values, so the second
    # month has no earlier record either (a rejected period is a gap)
    rej = list(csv.DictReader(io.StringIO((tmp_path / "rej.csv").read_text())))
    assert [r["row"] for r in rej] == ["1", "2"]
    assert rej[0]["reason"] == "no record 1 period earlier (and no `otherwise` gives a fallback) in growth"


# ---- properties over generated histories ----------------------------------------------

def _records(draw_rows) -> str:
    lines = ["pid,q,revenue,churned,renewal_rate"]
    for pid, q, rev, churn, rate in draw_rows:
        lines.append(f"{pid},{q},{rev},{churn},{rate}%")
    return "\n".join(lines) + "\n"


row_st = st.tuples(st.sampled_from(["P1", "P2", "P3"]), st.sampled_from([f"2026-Q{i}" for i in range(1, 5)]),
                   st.integers(0, 20_000), st.sampled_from([0, 0, 0, 500, 5000]), st.integers(50, 100))


@settings(max_examples=25, deadline=None)
@given(st.lists(row_st, min_size=1, max_size=12, unique_by=lambda r: (r[0], r[1])))
def test_properties_of_generated_histories(tmp_path_factory, rows):
    tmp = tmp_path_factory.mktemp("mp")
    (tmp / "p.ipl").write_text(POLICY)
    (tmp / "r.csv").write_text(_records(rows))
    result, out = run(tmp)
    assert result.exit_code == 0, result.output
    cols = ["budget_scaling", "held", "released", "clawback", "carried_recovery", "carry_forward"]
    for r in out:
        # the statement lines add up exactly to the payable, which is never negative
        assert D(r["total"]) + sum(D(r[c]) for c in cols) == D(r["payable"])
        assert D(r["payable"]) >= 0
        for c in ("held", "clawback", "carried_recovery", "budget_scaling"):
            assert D(r[c]) <= 0
    # evaluating twice gives identical outputs
    again = tmp / "out2.csv"
    CliRunner().invoke(cli, ["run", str(tmp / "p.ipl"), "--records", str(tmp / "r.csv"), "-o", str(again)])
    assert again.read_text() == (tmp / "out.csv").read_text()
    # adding a later period's records never changes an earlier period's statement
    last = max(q for _, q, *_ in rows)
    earlier = [x for x in rows if x[1] < last]
    if earlier:
        (tmp / "early.csv").write_text(_records(earlier))
        _, early_out = run(tmp, "early.csv")
        full = {(r["pid"], r["q"]): r for r in out}
        assert {(r["pid"], r["q"]): r for r in early_out} == {k: v for k, v in full.items() if k[1] < last}


def test_explain_html_has_a_section_per_period(files):
    result = CliRunner().invoke(cli, ["explain", str(files / "p.ipl"), "--records", str(files / "r.csv"),
                                      "--id", "A", "--format", "html"])
    assert result.exit_code == 0, result.output
    page = result.output
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert [p for p in ("2026-Q1", "2026-Q2", "2026-Q3") if f"<h2>Period {p}</h2>" in page] == \
        ["2026-Q1", "2026-Q2", "2026-Q3"]
    assert page.count("<h2>Settlement</h2>") == 3
    assert "clawback bonus (from 2026-Q1)" in page and "<script" not in page


def test_ledger_and_period_are_usage_errors_for_a_plain_policy(tmp_path):
    (tmp_path / "p.ipl").write_text('policy "P"\n  currency USD\n\ninput pid : id\ninput x : money\n\n'
                                    'component c = x\n')
    (tmp_path / "r.csv").write_text("pid,x\nA,1\n")
    runner = CliRunner()
    res = runner.invoke(cli, ["run", str(tmp_path / "p.ipl"), "--records", str(tmp_path / "r.csv"),
                              "--ledger", str(tmp_path / "l.csv")])
    assert res.exit_code == 2 and "--ledger" in res.output
    res = runner.invoke(cli, ["explain", str(tmp_path / "p.ipl"), "--records", str(tmp_path / "r.csv"),
                              "--id", "A", "--period", "2026-Q1"])
    assert res.exit_code == 2 and "--period" in res.output


# ------------------------------------------------------------------ spilling (dsl/run/spill.py)

def test_spilled_cells_are_one_text_unless_a_cell_holds_a_separator():
    from dsl.run.spill import _packed, _unpacked

    rows, raws = [2, 3, 5], [["A", "2026-Q1", "10"], ["B", "", "x y"], [""]]
    packed = _packed((rows, raws), cells=True)
    assert packed == ([2, 3, 5], "A\x1f2026-Q1\x1f10\x1eB\x1f\x1fx y\x1e")
    assert _unpacked(packed) == (rows, raws)
    # a cell with a unit or record separator in it: the batch is kept as lists
    for odd in ("a\x1fb", "a\x1eb", "\x1e", "\x1f"):
        batch = ([7, 8], [["A", odd], ["B", "1"]])
        assert _packed(batch, cells=True) == batch
        assert _unpacked(_packed(batch, cells=True)) == batch
    # JSON objects are never joined (a dict joins its keys)
    batch = ([1], [{"pid": "A", "q": "2026-Q1"}])
    assert _packed(batch, cells=False) == batch


@given(st.lists(st.lists(st.text(alphabet=st.sampled_from("ab,\"\x1e\x1f\n \udc80"), max_size=4),
                         min_size=1, max_size=5), max_size=6))
def test_spilled_cells_read_back_as_they_were(raws):
    from dsl.run.spill import _packed, _unpacked

    rows = list(range(1, len(raws) + 1))
    assert _unpacked(_packed((rows, raws), cells=True)) == (rows, raws)


def test_a_run_that_spills_gives_the_same_payouts(files, monkeypatch):
    import dsl.run.spill

    # a text input whose cells hold separators and a surrogate escape, spilled in batches of 2
    policy = POLICY.replace("input revenue", "input note : text = \"-\"\ninput revenue")
    (files / "p.ipl").write_text(policy)
    lines = RECORDS.splitlines()
    notes = ["note", "a\x1fb", "c\x1ed", "plain"] + ["x"] * (len(lines) - 4)
    (files / "r.csv").write_text("\n".join(f"{line},{n}" for line, n in zip(lines, notes)) + "\n")
    _, whole = run(files)
    monkeypatch.setattr(dsl.run.spill, "BATCH", 2)
    _, spilled = run(files)
    assert spilled == whole and len(whole) == 10
    assert by_key(whole)["A", "2026-Q2"]["payable"] == "1225.00"


TWO_STREAKS = '''policy "Two streaks"
  currency USD
  period quarter

input pid : id
input q : period
input revenue : money in 0 USD..
input csat : number in 1..5

metric big : count = streak(revenue >= 1_000 USD)
metric happy : count = streak(csat >= 4)
metric last : money = prior(revenue) otherwise 0 USD

component base = revenue * 10%
benefit mdf = pool 100 USD by revenue
benefit runs = big * 10 + happy
benefit before = last
'''


def test_two_streaks_a_pooled_benefit_and_gaps(tmp_path):
    """Two `streak`s counted apart, each ended by a gap; `prior` across gaps (A's history
    after 2026-Q1, Q2, Q4, 2027-Q1 keeps only what the window reaches); a pool that is a benefit."""
    (tmp_path / "p.ipl").write_text(TWO_STREAKS)
    (tmp_path / "r.csv").write_text(
        "pid,q,revenue,csat\nA,2026-Q1,2000,4.5\nB,2026-Q1,1000,3\nA,2026-Q2,500,4.5\nB,2026-Q2,1000,4\n"
        "A,2026-Q4,3000,4\nB,2026-Q3,1000,4\nA,2027-Q1,1500,4.2\nB,2027-Q1,100,5\nA,2027-Q2,1200,3.5\n")
    result, rows = run(tmp_path)
    assert result.exit_code == 0, result.output
    got = {(r["pid"], r["q"]): (r["runs"], r["before"], r["mdf"]) for r in rows}
    assert got == {
        ("A", "2026-Q1"): ("11", "0.00", "66.67"), ("B", "2026-Q1"): ("10", "0.00", "33.33"),
        ("A", "2026-Q2"): ("2", "2000.00", "33.33"), ("B", "2026-Q2"): ("21", "1000.00", "66.67"),
        ("B", "2026-Q3"): ("32", "1000.00", "100.00"), ("A", "2026-Q4"): ("11", "0.00", "100.00"),
        ("A", "2027-Q1"): ("22", "3000.00", "93.75"), ("B", "2027-Q1"): ("1", "0.00", "6.25"),
        ("A", "2027-Q2"): ("30", "1500.00", "100.00")}
    assert "pool mdf (2027-Q1): 100.00 USD; shares 100.00 USD; paid after caps 100.00 USD; " \
           "unallocated 0.00 USD" in result.output


# ------------------------------------------------------------------ §5a: on demand means on demand

LAZY = '''policy "Lazy"
  currency USD
  period quarter

input pid : id
input q : period
input revenue : money in 0 USD..
input churned : money in 0 USD.. = 0
input base_revenue : money in 0 USD.. = 0
input rate : percent = 100%

component bonus = revenue * 10%
  hold 50% until revenue / base_revenue >= 100% within 1 period

clawback bonus within 1 period
  when churned / base_revenue > 0%
  recover churned / base_revenue
'''


def test_until_when_and_recover_are_evaluated_only_when_needed(tmp_path):
    """§5a: `until` only while a hold is open, a clawback's `when` only where an origin in its
    window has money left (§23.8), `recover` only where `when` holds. Each divides by
    `base_revenue`, 0 in the periods where the part is not needed: nothing is rejected."""
    (tmp_path / "p.ipl").write_text(LAZY)
    (tmp_path / "r.csv").write_text(
        "pid,q,revenue,churned,base_revenue\n"
        "A,2026-Q1,1000,0,0\n"        # no earlier hold, no origin: until, when, recover not evaluated
        "A,2026-Q2,2000,0,1000\n"     # Q1's hold is open: until = 200% holds: released; when = 0 % false
        "A,2026-Q4,3000,0,0\n"        # Q3 has no record: nothing open, no origin in the window
        "B,2026-Q1,1000,0,0\n"
        "B,2026-Q2,0,500,1000\n"      # until 0 % false (kept), when holds, recover 50 % of 50.00 paid
        "C,2026-Q1,1000,0,0\n"
        "C,2026-Q2,1000,0,0\n")       # C's hold is open: until divides by zero: rejected
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "p.ipl"), "--records", str(tmp_path / "r.csv"),
                                      "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "rejected row 7 (C)" in result.output and "division by zero" in result.output
    rows = {(r["pid"], r["q"]): r for r in csv.DictReader(out.open())}
    assert sorted(rows) == [("A", "2026-Q1"), ("A", "2026-Q2"), ("A", "2026-Q4"), ("B", "2026-Q1"),
                            ("B", "2026-Q2"), ("C", "2026-Q1")]
    assert rows["A", "2026-Q2"]["released"] == "50.00" and rows["A", "2026-Q2"]["payable"] == "150.00"
    assert rows["A", "2026-Q4"]["payable"] == "150.00"
    assert rows["B", "2026-Q2"]["clawback"] == "-25.00" and rows["B", "2026-Q2"]["forfeited"] == "50.00"
