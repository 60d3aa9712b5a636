"""What the fuzzers of this folder found: one test per defect, asserting what `ipl` should do.
A defect not fixed yet is marked `xfail(strict=True)`, so that the fix makes it pass and then
requires the mark to go. Each names the input, the command and what it printed.
"""

from __future__ import annotations

import csv
import json

import pytest

from .harness import ROOT, call_or_hang, judge

GROWTH = ROOT / "programs/growth/growth.ipl"
HEADER = "partner_id,segment,joint_revenue,prior_revenue,renewals_due,renewals_won,deployment_score,csat,certified"
BASE = "component base = joint_revenue * base_rate"


@pytest.mark.parametrize("digits", [33, 34])
def test_a_money_literal_that_checks_clean_runs_without_a_traceback(tmp_path, digits):
    """Fixed: E100 counts the currency's minor-unit digits. A cap of 33 nines USD is
    999...9.00 once rounded to the cent: 35 digits, more than the 34 IPL computes with.
    Seen: `ipl run` exits 1 with `decimal.InvalidOperation` raised in `_make` (dsl/backends/python/build.py's
    constant phase). Either the checker refuses the literal (E100, counting the currency's
    minor-unit digits) or the run says it in one line."""
    policy = tmp_path / "growth.ipl"
    policy.write_text(GROWTH.read_text().replace(BASE, BASE + "\n  cap " + "9" * digits + " USD"))
    records = tmp_path / "r.csv"
    records.write_text("\n".join((ROOT / "programs/growth/records.csv").read_text().splitlines()[:6]) + "\n")
    checked = call_or_hang("check", "check", policy)
    ran = call_or_hang("run", "run", policy, "--records", records, "-o", tmp_path / "o.csv")
    if checked.code == 1:  # refused by the checker: fixed that way
        assert "error[E100]" in checked.output
        judge(ran, {1}, "run")
    else:
        judge(ran, {0, 1, 2}, "run")


@pytest.mark.parametrize("records", [
    [("P-1", "9" * 33)],
    [(f"P-{i}", "9" * 32 + ".99") for i in range(10)],
], ids=["one-record-of-33-digits", "ten-records-of-34-digits"])
def test_values_near_the_precision_give_a_reject_or_a_summary_not_a_traceback(tmp_path, records):
    """Fixed: a run's sums are exact at any size (runtime.SUMS). Seen: `ipl run programs/growth/growth.ipl --records r.csv -o o.csv` with one record whose
    joint_revenue is 999999999999999999999999999999999 (33 digits), or ten of
    99999999999999999999999999999999.99: exit 1, a traceback ending in
    `dsl/backends/python/runtime.py ... display ... value.quantize(self.q, ...)` / `decimal.InvalidOperation`,
    called from `summary.render_summary`; o.csv is in place, the summary is not printed. The record
    of 34 nines is rejected properly ("a value is too large to be computed exactly")."""
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "\n" + "".join(f"{pid},enterprise,{v},1,10,9,80,4.5,true\n" for pid, v in records))
    ran = call_or_hang("run", "run", GROWTH, "--records", path, "-o", tmp_path / "o.csv",
                       "--rejects", tmp_path / "rejects.csv")
    judge(ran, {0, 1}, "run")
    assert "reconciled    read" in ran.output


@pytest.mark.parametrize("output", ["payouts", "rejects"])
def test_a_carriage_return_in_an_id_is_quoted_in_csv_outputs(tmp_path, output):
    """Fixed (dsl/run/outputs.py `csv_writer`). Seen: a JSON Lines record with `"partner_id": "E\\rF"` (valid, an id is any text) gave
    payouts.csv holding the bytes `E\\rF,10.00,...` unquoted; `csv.reader` raises "new-line
    character seen in unquoted field", a spreadsheet shows two rows. The same for a rejected
    record's id in rejects.csv, the ledger's id column, and the payouts on standard output."""
    good = {"segment": "digital", "joint_revenue": 100, "prior_revenue": 90, "renewals_due": 1, "renewals_won": 1,
            "deployment_score": 80, "csat": 4.5}
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"partner_id": "E\rF", **good}) + "\n"
                    + json.dumps({"partner_id": "G\rH", **good, "segment": "nope"}) + "\n")
    ran = call_or_hang("run", "run", GROWTH, "--records", path, "-o", tmp_path / "payouts.csv",
                       "--rejects", tmp_path / "rejects.csv")
    judge(ran, {1}, "run")
    with open(tmp_path / f"{output}.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert [r[0] for r in rows[1:]] == (["E\rF"] if output == "payouts" else ["2"])
    assert rows[1][0 if output == "payouts" else 1] == ("E\rF" if output == "payouts" else "G\rH")
