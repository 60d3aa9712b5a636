"""`ipl run`: payouts, rejects, traces, summary, exit codes (spec §12, §13, §16)."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from dsl.cli import cli

from .conftest import ROOT

POLICY = str(ROOT / "programs/growth/growth.ipl")
RECORDS = str(ROOT / "programs/growth/records.csv")
HEADER = "partner_id,segment,joint_revenue,prior_revenue,renewals_due,renewals_won,deployment_score,csat,certified"
GOOD = "P-1,enterprise,1000000,800000,40,37,88,4.6,true"


def run(*args):
    return CliRunner().invoke(cli, ["run", POLICY, *args])


def test_growth_run_writes_one_row_per_record(tmp_path):
    out = tmp_path / "payouts.csv"
    result = run("--records", RECORDS, "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 1200
    assert list(rows[0]) == ["partner_id", "base", "renewal_bonus", "accelerator", "quality_bonus",
                             "co_marketing_fund", "total", "eligible", "reasons"]
    assert rows[0] == {"partner_id": "P-00001", "base": "60425.86", "renewal_bonus": "14502.21",
                       "accelerator": "15106.46", "quality_bonus": "300.00", "co_marketing_fund": "12085.17",
                       "total": "90334.53", "eligible": "true", "reasons": ""}
    assert "read 1,200 = paid 1,200 + rejected 0" in result.output
    total = sum(Decimal(r["total"]) for r in rows)
    assert f"total cost    {total:,} USD" in result.output


def test_spec_section_10_fixture(tmp_path):
    rec = tmp_path / "r.csv"
    rec.write_text(HEADER + "\n" + GOOD + "\n")
    out = tmp_path / "o.json"
    assert run("--records", str(rec), "-o", str(out)).exit_code == 0
    (row,) = json.loads(out.read_text(), parse_float=Decimal)
    # §10: renewal bonus at the 4 % band, total 202,000 USD
    assert row["renewal_bonus"] == Decimal("48000.00") and row["total"] == Decimal("202000.00")
    out2 = tmp_path / "o2.json"
    assert run("--records", str(rec), "-o", str(out2), "--set", "base_rate=12%").exit_code == 0
    assert json.loads(out2.read_text(), parse_float=Decimal)[0]["base"] == Decimal("120000.00")


BAD = [
    ("P-2,enterprise,,800000,40,37,88,4.6,true", "joint_revenue", "missing field `joint_revenue`"),
    ("P-3,enterprise,12o,800000,40,37,88,4.6,true", "joint_revenue", "'12o' is not a number"),
    ("P-4,enterprise,NaN,800000,40,37,88,4.6,true", "joint_revenue", "'NaN' is not a finite number"),
    ("P-5,enterprise,1e999999,800000,40,37,88,4.6,true", "joint_revenue", "too large"),
    ("P-6,enterprse,1,1,40,37,88,4.6,true", "segment", "did you mean 'enterprise'?"),
    ("P-7,enterprise,1,1,40,37,101,4.6,true", "deployment_score", "101 is above the maximum 100"),
    ("P-8,enterprise,-1,1,40,37,88,4.6,true", "joint_revenue", "-1 USD is below the minimum 0 USD"),
    ("P-9,enterprise,1,1,4.5,3,88,4.6,true", "renewals_due", "not a whole number"),
    ("P-10,enterprise,1,1,4,3,88,4.6,perhaps", "certified", "is not a bool"),
    ("P-1,enterprise,1,1,4,3,88,4.6,true", "partner_id", "duplicate id 'P-1'"),
]


def test_every_kind_of_bad_record_is_rejected_and_the_run_goes_on(tmp_path):
    rec = tmp_path / "r.csv"
    rec.write_bytes((HEADER + "\n" + GOOD + "\n" + "\n".join(b for b, _, _ in BAD) + "\n").encode()
                    + b"P-11,enterpris\xe9,1,1,4,3,88,4.6,true\nP-12,digital,5,5,1,1,70,4,true\n")
    out, rej = tmp_path / "o.csv", tmp_path / "rejects.csv"
    result = run("--records", str(rec), "-o", str(out), "--rejects", str(rej))
    assert result.exit_code == 1
    rejects = list(csv.DictReader(rej.open()))
    assert len(rejects) == len(BAD) + 2  # both P-1 records, and the undecodable one
    by_row = {int(r["row"]): r for r in rejects}
    assert by_row[1]["reason"].startswith("duplicate id 'P-1'")
    for i, (_line, field, reason) in enumerate(BAD, start=2):
        assert by_row[i]["field"] == field and reason in by_row[i]["reason"], by_row[i]
    assert "not UTF-8" in by_row[len(BAD) + 2]["reason"]
    paid = list(csv.DictReader(out.open()))
    assert [r["partner_id"] for r in paid] == ["P-12"]
    assert "read 13 = paid 1 + rejected 12" in result.output


@pytest.mark.parametrize("name, content", [("e.csv", b""), ("e.json", b"  "), ("e.jsonl", b"\n")])
def test_empty_files(tmp_path, name, content):
    rec = tmp_path / name
    rec.write_bytes(content)
    result = run("--records", str(rec), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 0
    assert "read 0 = paid 0 + rejected 0" in result.output and "holds no records" in result.output


def test_json_lines_with_a_broken_line(tmp_path):
    rec = tmp_path / "r.jsonl"
    good = dict(zip(HEADER.split(","), GOOD.split(",")))
    rec.write_text(json.dumps(good) + "\n{not json\n" + json.dumps({**good, "partner_id": "P-2", "csat": "NaN"}) + "\n")
    rej = tmp_path / "rej.json"
    result = run("--records", str(rec), "-o", str(tmp_path / "o.csv"), "--rejects", str(rej))
    assert result.exit_code == 1
    rejects = json.loads(rej.read_text())
    assert [r["row"] for r in rejects] == [2, 3]
    assert rejects[0]["reason"].startswith("invalid JSON") and rejects[1]["field"] == "csat"


def test_division_by_zero_rejects_one_record_with_location_and_operands(tmp_path):
    pol = tmp_path / "p.ipl"
    pol.write_text('policy "D" currency USD\ninput pid : id\ninput a : money\ninput b : money\n'
                   "component share = a * (a / b)\n")
    rec = tmp_path / "r.csv"
    rec.write_text("pid,a,b\nX,10,0\nY,10,5\n")
    rej = tmp_path / "rej.csv"
    result = CliRunner().invoke(cli, ["run", str(pol), "--records", str(rec), "-o", str(tmp_path / "o.csv"),
                                      "--rejects", str(rej)])
    assert result.exit_code == 1
    (r,) = list(csv.DictReader(rej.open()))
    assert r["id"] == "X" and r["reason"].startswith("division by zero: `a / b` in share at ")
    assert r["reason"].endswith("p.ipl:5:23 (a = 10, b = 0)")
    assert (tmp_path / "o.csv").read_text().splitlines()[1] == "Y,20.00,20.00,true,"


def test_csv_text_cells_are_defused(tmp_path):
    rec = tmp_path / "r.csv"
    rec.write_text(HEADER + "\n" + GOOD.replace("P-1", "=HYPERLINK(1)") + "\n")
    out = tmp_path / "o.csv"
    assert run("--records", str(rec), "-o", str(out)).exit_code == 0
    assert out.read_text().splitlines()[1].startswith("'=HYPERLINK(1),")


def test_trace_is_json_lines_with_a_tree_per_record(tmp_path):
    rec = tmp_path / "r.csv"
    rec.write_text(HEADER + "\n" + GOOD + "\nP-2,digital,x,1,1,1,1,1,true\n")
    trace = tmp_path / "t.jsonl"
    result = run("--records", str(rec), "-o", str(tmp_path / "o.csv"), "--trace", str(trace))
    assert result.exit_code == 1
    first, second = [json.loads(line, parse_float=Decimal) for line in trace.read_text().splitlines()]
    assert first["id"] == "P-1" and first["total"]["total"] == Decimal("202000.00")
    renewal = next(c for c in first["components"] if c["name"] == "renewal_bonus")
    tier = next(u for u in renewal["uses"] if u["name"] == "renewal_tier")
    assert tier["lookup"]["lo"] == Decimal("0.9") and tier["lookup"]["hi"] is None  # 92.5 % in [90 %, ∞)
    acc = next(c for c in first["components"] if c["name"] == "accelerator")
    assert acc["steps"]["raw"] == Decimal("50000.0") and acc["value"] == Decimal("50000.00")  # equal to both caps
    assert [c["cap"] for c in acc["steps"]["caps"]] == ["50_000 USD", "base * 50%"]
    assert second == {"id": "P-2", "row": 2, "rejected": "'x' is not a number", "field": "joint_revenue"}


def test_usage_errors_exit_2(tmp_path):
    assert run("--records", str(tmp_path / "missing.csv")).exit_code == 2
    bad = run("--records", RECORDS, "--set", "base_rat=5%")
    assert bad.exit_code == 2 and "did you mean `base_rate`" in bad.output
    bad = run("--records", RECORDS, "--set", "base_rate=lots")
    assert bad.exit_code == 2 and "'lots' is not a number" in bad.output
    assert run("--records", RECORDS, "-o", str(tmp_path / "o.xlsx")).exit_code == 2
    other = tmp_path / "r.txt"
    other.write_text("x")
    assert run("--records", str(other)).exit_code == 2


def test_unsupported_policy_is_a_one_line_usage_error(tmp_path):
    pol = tmp_path / "p.ipl"
    pol.write_text('policy "D" currency USD\ninput pid : id\ninput a : money\n'
                   'eligibility {\n  require rank(a) <= 3 else "top 3"\n}\ncomponent c = a\n')
    result = CliRunner().invoke(cli, ["run", str(pol), "--records", RECORDS])
    assert result.exit_code == 2
    assert result.output.strip() == ("ipl: `pool`, `rank` or `percentile` in an eligibility condition "
                                     "is not supported by `ipl run`")


def test_policy_with_errors_exits_1_with_diagnostics(tmp_path):
    pol = tmp_path / "p.ipl"
    pol.write_text('policy "D" currency USD\ninput pid : id\ncomponent c = revenue\n')
    result = CliRunner().invoke(cli, ["run", str(pol), "--records", RECORDS])
    assert result.exit_code == 1 and "E200" in result.output


def test_an_interrupted_run_keeps_the_previous_output(tmp_path, monkeypatch):
    out = tmp_path / "o.csv"
    out.write_text("previous\n")
    from dsl.run import runner

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "failure", boom)
    pol = tmp_path / "p.ipl"
    pol.write_text('policy "D" currency USD\ninput pid : id\ninput a : money\ninput b : number\ncomponent c = a / b\n')
    rec = tmp_path / "r.csv"
    rec.write_text("pid,a,b\nX,1,1\nY,1,0\n")  # Y divides by zero: the interrupt comes while saying why
    result = CliRunner().invoke(cli, ["run", str(pol), "--records", str(rec), "-o", str(out)])
    assert (result.exit_code, result.stderr) == (130, "ipl: interrupted\n")  # not 1: 1 means rejected records
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv", "p.ipl", "r.csv"]


@pytest.mark.parametrize("args, message", [
    (["--rejects", "r.csv"], "--records r.csv and --rejects r.csv are the same file: an output would destroy the input"),
    (["-o", "r.csv"], "--records r.csv and -o r.csv are the same file: an output would destroy the input"),
    (["-o", "x.csv", "--rejects", "x.csv"], "-o x.csv and --rejects x.csv are the same file: give each output a "
                                            "file of its own"),
], ids=["rejects-over-records", "payouts-over-records", "payouts-and-rejects"])
def test_an_output_on_an_input_or_another_output_is_refused(tmp_path, monkeypatch, args, message):
    # these ran with exit 0 and left r.csv holding a header, or the payouts, or lost the rejects
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.csv").write_text(HEADER + "\n" + GOOD + "\n" + GOOD.replace("P-1", "P-2").replace("88", "x") + "\n")
    before = (tmp_path / "r.csv").read_bytes()
    result = run("--records", "r.csv", *args)
    assert (result.exit_code, result.stderr, result.stdout) == (2, f"ipl: {message}\n", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]
    assert (tmp_path / "r.csv").read_bytes() == before


def test_outputs_get_the_mode_open_would_give(tmp_path):
    import os
    import stat

    out, rej = tmp_path / "o.csv", tmp_path / "rej.csv"
    rej.write_text("previous\n")
    rej.chmod(0o640)
    old = os.umask(0o027)
    try:
        assert run("--records", RECORDS, "-o", str(out), "--rejects", str(rej)).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640  # 0o666 & ~0o027, not mkstemp's 0o600
    assert stat.S_IMODE(rej.stat().st_mode) == 0o640 and rej.read_text() == "row,id,field,reason\n"


def test_evaluating_twice_gives_identical_outputs(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert run("--records", RECORDS, "-o", str(a)).exit_code == 0
    assert run("--records", RECORDS, "-o", str(b)).exit_code == 0
    assert a.read_bytes() == b.read_bytes()


def test_duplicates_are_rejected_on_stdout_too(tmp_path):
    rec = tmp_path / "r.csv"
    rec.write_text(HEADER + "\n" + GOOD + "\n" + GOOD.replace("P-1", "P-2") + "\n" + GOOD + "\n")
    result = run("--records", str(rec))
    assert result.exit_code == 1
    lines = result.stdout.splitlines() if hasattr(result, "stdout") else result.output.splitlines()
    assert [ln.split(",")[0] for ln in lines if ln.startswith("P-")] == ["P-2"]
    assert "duplicate id 'P-1'" in result.output


def test_a_test_file_or_a_module_is_not_a_policy():
    for path in ("programs/growth/growth_test.ipl", "stdlib/metrics.ipl"):
        result = CliRunner().invoke(cli, ["run", str(ROOT / path), "--records", RECORDS])
        assert result.exit_code == 2 and "is not a policy" in result.output, path
