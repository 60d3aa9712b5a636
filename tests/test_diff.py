"""`ipl diff` (spec §12, issue 5 item 4): goldens in each format, guards and exit codes, exact totals."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from dsl.tools import diff as diff_mod
from dsl.cli import cli
from dsl.run.lookup import outcomes
from dsl.run.policy import compile_file
from dsl.run.runner import run
from dsl.run.records import Reject

ROOT = Path(__file__).resolve().parent.parent
FIX = "tests/golden/diff"
GROWTH = "programs/growth/growth.ipl"
GROWTH_RECORDS = "programs/growth/records.csv"


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def ipl(*args: str):
    return CliRunner().invoke(cli, list(args))


def fixture_diff(*extra: str):
    return ipl("diff", f"{FIX}/old.ipl", f"{FIX}/new.ipl", "--records", f"{FIX}/records.csv", *extra)


def loads(text: str) -> dict:
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


# ------------------------------------------------------------------ goldens


def test_golden_text(in_root, golden):
    r = fixture_diff("--fail-if-cost-up", "10", "--fail-if-any-decrease")
    assert r.exit_code == 1, r.stderr
    golden("diff/report.txt", r.stdout)
    assert r.stderr == ("ipl diff: guard --fail-if-any-decrease tripped: 3 records went down "
                        "(largest: A-05 -18,500.00 USD)\n")


def test_golden_markdown(in_root, golden):
    r = fixture_diff("--format", "markdown", "--fail-if-any-decrease")
    assert r.exit_code == 1, r.stderr
    golden("diff/report.md", r.stdout)


def test_golden_json(in_root, golden):
    r = fixture_diff("--format", "json", "--top", "10", "--fail-if-cost-up", "0")
    assert r.exit_code == 0, r.stderr
    golden("diff/report.json", r.stdout)


def test_fixture_figures_by_hand(in_root):
    """The figures of the goldens, computed by hand from old.ipl, new.ipl and records.csv."""
    doc = loads(fixture_diff("--format", "json", "--top", "10").stdout)
    # old: A-01 8,000 (capped) + 4,000 + 500; A-02 900 + 180; A-03 6,000 + 1,200; A-04 4,000 + 800 + 500;
    # A-05 8,000 (capped) + 10,000 + 500; A-06 50 raised to the 100 floor; A-07 not eligible; A-08 2,000 + 500
    assert doc["total"]["old"] == Decimal("47180.00")
    # new: A-01 10,000 (capped) + 4,000 + 200; A-02 1,080 + 180; A-03 7,200 + 2,400 (78 is now in the 4 % band);
    # A-04 not eligible (CSAT 3.2); A-05 rejected (revenue above 200,000); A-06 60 raised to 150; A-08 2,400
    assert doc["total"]["new"] == Decimal("27610.00")
    assert doc["total"]["delta"] == Decimal("-19570.00")
    assert doc["total"]["percent"] == Decimal("-41.48")
    assert doc["counts"]["changed"] == 7 and doc["counts"]["up"] == 4 and doc["counts"]["down"] == 3
    assert [m["id"] for m in doc["movers"]] == ["A-05", "A-04", "A-03", "A-01", "A-02", "A-08", "A-06"]
    assert sum(m["delta"] for m in doc["movers"]) == doc["total"]["delta"]  # every changed record is listed
    comps = {c["name"]: (c["status"], c["old"], c["new"]) for c in doc["components"]}
    assert comps["cert_bonus"] == ("removed", Decimal("2000.00"), None)
    assert comps["loyalty"] == ("added", None, Decimal("200.00"))
    # the component lines and the adjustments add up to the total on each side
    lines = doc["components"] + doc["adjustments"]
    assert sum(c["old"] or 0 for c in lines) == doc["total"]["old"]
    assert sum(c["new"] or 0 for c in lines) == doc["total"]["new"]
    assert [(s["id"], s["reason"]) for s in doc["status"]["newly_rejected"]] == [
        ("A-05", "field revenue: 250000 USD is above the maximum 200000 USD")]
    assert [(s["id"], s["reason"]) for s in doc["status"]["newly_ineligible"]] == [("A-04", "CSAT must be at least 3.5")]
    levels = {lv["table"]: lv for lv in doc["levels"]}
    assert (levels["level"]["up"], levels["level"]["down"]) == (1, 0)
    assert [(c["id"], c["old"], c["new"], c["direction"]) for c in levels["level"]["changes"]] == [
        ("A-02", "bronze", "silver", "up")]
    assert [(c["id"], c["old"], c["new"]) for c in levels["bonus_rate"]["changes"]] == [
        ("A-03", "[50, 80) → 2%", "[75, ∞) → 4%")]
    why = {m["id"]: m for m in doc["movers"]}
    base = next(c for c in why["A-01"]["components"] if c["name"] == "base")
    assert "the binding cap changed: `cap 8_000 USD` → `cap 10_000 USD` (10,000.00 USD)" in base["why"]
    assert "base_rate: 10% → 12%" in base["why"]
    assert why["A-04"]["why"] == ["eligibility flipped: eligible → not eligible",
                                 "`require csat >= 3.5` now fails: CSAT must be at least 3.5"]
    assert (why["A-05"]["old"], why["A-05"]["new"], why["A-05"]["new_status"]) == (Decimal("18500.00"), None, "rejected")
    assert why["A-06"]["adjustments"] == ["total floor: `floor 100 USD` +50.00 USD → `floor 150 USD` +90.00 USD"]


# ------------------------------------------------------------------ the acceptance check


def test_growth_base_rate_12_percent_exact_cost_change(in_root, tmp_path):
    text = (ROOT / GROWTH).read_text(encoding="utf-8")
    assert "param base_rate : percent = 10%" in text
    raised = tmp_path / "growth.ipl"
    raised.write_text(text.replace("param base_rate : percent = 10%", "param base_rate : percent = 12%"),
                      encoding="utf-8")
    # the expected figure, independently: two `ipl run` batches, the second with --set base_rate=12%
    totals = []
    for sets in ([], ["base_rate=12%"]):
        summary = run(compile_file(GROWTH, sets), GROWTH_RECORDS, lambda ev: None, lambda r: None)
        totals.append(summary.total)
    expected = totals[1] - totals[0]
    assert expected == Decimal("3912306.00")  # 33,682,932.25 - 29,770,626.25
    r = ipl("diff", GROWTH, str(raised), "--records", GROWTH_RECORDS, "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = loads(r.stdout)
    assert doc["total"]["old"] == totals[0]
    assert doc["total"]["new"] == totals[1]
    assert doc["total"]["delta"] == expected
    assert doc["total"]["percent"] == Decimal("13.14")  # 3,912,306 / 29,770,626.25 = 13.1415...%
    assert doc["params"] == [{"name": "base_rate", "old": Decimal("0.10"), "new": Decimal("0.12"),
                              "old_text": "10%", "new_text": "12%"}]
    r = ipl("diff", GROWTH, str(raised), "--records", GROWTH_RECORDS)
    assert "delta  +3,912,306.00 USD (+13.14%)" in r.stdout
    # the guard at 13 % trips, at 13.15 % it does not (the exact ratio is 13.1415...%)
    assert ipl("diff", GROWTH, str(raised), "--records", GROWTH_RECORDS, "--fail-if-cost-up", "13%").exit_code == 1
    assert ipl("diff", GROWTH, str(raised), "--records", GROWTH_RECORDS, "--fail-if-cost-up", "13.15").exit_code == 0
    # per record: every delta is new total - old total of the same record
    old = {ev.id: ev.result.total for ev in outcomes(compile_file(GROWTH), GROWTH_RECORDS)}
    new = {ev.id: ev.result.total for ev in outcomes(compile_file(GROWTH, ["base_rate=12%"]), GROWTH_RECORDS)}
    changed = {k for k in old if old[k] != new[k]}
    assert doc["counts"]["changed"] == len(changed) and doc["counts"]["down"] == 0
    top = max(changed, key=lambda k: (new[k] - old[k], [-ord(c) for c in k]))
    assert doc["movers"][0]["id"] == top and doc["movers"][0]["delta"] == new[top] - old[top]


def test_same_policy_changes_nothing(in_root):
    r = ipl("diff", GROWTH, GROWTH, "--records", GROWTH_RECORDS, "--format", "json",
            "--fail-if-cost-up", "0", "--fail-if-any-decrease")
    assert r.exit_code == 0, r.stderr
    doc = loads(r.stdout)
    assert doc["total"]["delta"] == 0 and doc["total"]["percent"] == 0
    assert doc["counts"]["changed"] == 0 and doc["movers"] == [] and doc["levels"] == []
    assert [g["tripped"] for g in doc["guards"]] == [False, False]


# ------------------------------------------------------------------ guards, ties, percent n/a


POLICY = """policy "P"
  currency USD

input partner_id : id
input amount : money in 0 USD..

component pay = {pay}
"""


def write_pair(tmp_path: Path, old_pay: str, new_pay: str, rows: list[tuple[str, str]]) -> tuple[str, str, str]:
    old = tmp_path / "old.ipl"
    new = tmp_path / "new.ipl"
    old.write_text(POLICY.format(pay=old_pay), encoding="utf-8")
    new.write_text(POLICY.format(pay=new_pay), encoding="utf-8")
    records = tmp_path / "records.csv"
    records.write_text("partner_id,amount\n" + "".join(f"{i},{a}\n" for i, a in rows), encoding="utf-8")
    return str(old), str(new), str(records)


def test_ties_are_ordered_by_id(tmp_path):
    old, new, records = write_pair(tmp_path, "100 USD", "amount", [("Z", "300"), ("B", "300"), ("M", "300"),
                                                                     ("C", "50"), ("A", "100")])
    doc = loads(ipl("diff", old, new, "--records", records, "--format", "json", "--top", "3").stdout)
    assert [(m["id"], m["delta"]) for m in doc["movers"]] == [("B", 200), ("M", 200), ("Z", 200)]
    assert doc["counts"]["changed"] == 4 and doc["counts"]["up"] == 3 and doc["counts"]["down"] == 1


def test_percent_is_na_when_old_total_is_zero(tmp_path):
    old, new, records = write_pair(tmp_path, "0 USD", "amount", [("A", "10.50")])
    r = ipl("diff", old, new, "--records", records, "--fail-if-cost-up", "1000000")
    assert r.exit_code == 1  # any increase on a zero base is above every limit
    assert "delta  +10.50 USD (n/a)" in r.stdout
    assert "cost change +10.50 USD (n/a), above the limit of +1000000%" in r.stderr
    assert loads(ipl("diff", old, new, "--records", records, "--format", "json").stdout)["total"]["percent"] is None


def test_cost_up_guard_compares_the_exact_ratio(tmp_path):
    # 1,000.00 -> 1,050.01: +5.001 %, shown as +5.00 %, but above a 5 % limit
    old, new, records = write_pair(tmp_path, "amount", "amount * 1.05001", [("A", "1000")])
    r = ipl("diff", old, new, "--records", records, "--fail-if-cost-up", "5")
    assert r.exit_code == 1
    assert "delta  +50.01 USD (+5.00%)" in r.stdout
    assert ipl("diff", old, new, "--records", records, "--fail-if-cost-up", "5.001").exit_code == 0


def test_cost_down_never_trips_the_cost_guard(tmp_path):
    old, new, records = write_pair(tmp_path, "amount", "amount * 50%", [("A", "100"), ("B", "200")])
    r = ipl("diff", old, new, "--records", records, "--fail-if-cost-up", "0")
    assert r.exit_code == 0 and "within the limit of +0%" in r.stdout


def test_any_decrease_guard(tmp_path):
    old, new, records = write_pair(tmp_path, "amount", "min(amount, 150 USD)", [("A", "100"), ("B", "200")])
    r = ipl("diff", old, new, "--records", records, "--fail-if-any-decrease")
    assert r.exit_code == 1
    assert r.stderr == "ipl diff: guard --fail-if-any-decrease tripped: 1 record went down (largest: B -50.00 USD)\n"
    # without the flag, a decrease is reported, not a failure
    assert ipl("diff", old, new, "--records", records).exit_code == 0
    # an increase alone does not trip it
    r = ipl("diff", new, old, "--records", records, "--fail-if-any-decrease")
    assert r.exit_code == 0 and "--fail-if-any-decrease: ok: no record went down" in r.stdout


def test_newly_rejected_record_counts_as_a_decrease(tmp_path):
    old, new, records = write_pair(tmp_path, "amount", "amount", [("A", "100"), ("B", "200")])
    Path(new).write_text(POLICY.format(pay="amount").replace("in 0 USD..", "in 0 USD..150 USD"), encoding="utf-8")
    r = ipl("diff", old, new, "--records", records, "--format", "json", "--fail-if-any-decrease")
    assert r.exit_code == 1
    doc = loads(r.stdout)
    assert doc["total"]["delta"] == Decimal("-200.00")
    assert doc["movers"][0]["old_status"] == "eligible" and doc["movers"][0]["new_status"] == "rejected"
    assert doc["status"]["newly_rejected"][0]["id"] == "B"


def test_lists_are_cut_in_text_but_complete_in_json(tmp_path):
    rows = [(f"P{i:02}", "100") for i in range(15)]
    old, new, records = write_pair(tmp_path, "amount", "amount", rows)
    Path(new).write_text(POLICY.format(pay="amount").replace("in 0 USD..", "in 0 USD..50 USD"), encoding="utf-8")
    text = ipl("diff", old, new, "--records", records).stdout
    assert "  newly rejected: 15\n" in text and "    ... and 5 more\n" in text
    doc = loads(ipl("diff", old, new, "--records", records, "--format", "json").stdout)
    assert len(doc["status"]["newly_rejected"]) == 15 and doc["counts"]["newly_rejected"] == 15


def test_json_records_and_out_file(tmp_path):
    old, new, _ = write_pair(tmp_path, "amount", "amount * 2", [])
    records = tmp_path / "records.jsonl"
    records.write_text('{"partner_id": "A", "amount": 12.34}\n{"partner_id": "B", "amount": "1"}\n', encoding="utf-8")
    out = tmp_path / "impact.md"
    r = ipl("diff", old, new, "--records", str(records), "--format", "markdown", "-o", str(out))
    assert r.exit_code == 0 and r.stdout == ""
    assert "| **total cost** | 13.34 USD | 26.68 USD | **+13.34 USD (+100.00%)** |" in out.read_text(encoding="utf-8")


def test_markdown_escapes_ids(tmp_path):
    old, new, records = write_pair(tmp_path, "amount", "amount * 2", [("<b>|x", "1")])
    md = ipl("diff", old, new, "--records", records, "--format", "markdown").stdout
    assert "| 1 | &lt;b&gt;\\|x |" in md and "<b>" not in md


# ------------------------------------------------------------------ usage errors: exit 2, one line


def test_usage_errors_exit_2(tmp_path):
    old, new, records = write_pair(tmp_path, "amount", "amount", [("A", "1")])
    cases = [
        (["diff", str(tmp_path / "nope.ipl"), new, "--records", records], "no such policy file"),
        (["diff", old, new, "--records", str(tmp_path / "nope.csv")], "no such records file"),
        (["diff", old, new, "--records", str(tmp_path / "records.txt")], "cannot tell the format"),
        (["diff", old, new, "--records", records, "--fail-if-cost-up", "lots"], "write a percentage"),
        (["diff", old, new, "--records", records, "--fail-if-cost-up", "-1"], "0 or more"),
        (["diff", old, new, "--records", records, "--fail-if-cost-up", "NaN"], "0 or more"),
        (["diff", old, str(ROOT / FIX / "records.csv"), "--records", records], ""),
    ]
    for args, message in cases:
        r = ipl(*args)
        assert r.exit_code == 2, (args, r.stdout, r.stderr)
        assert message in r.stderr and "Traceback" not in r.stderr
    assert ipl("diff", old, new, "--records", records, "--top", "-1").exit_code == 2


def test_broken_policy_prints_diagnostics_and_exits_2(tmp_path):
    old, new, records = write_pair(tmp_path, "amount", "amount + 10%", [("A", "1")])
    r = ipl("diff", old, new, "--records", records)
    assert r.exit_code == 2
    assert "error[E301]" in r.stderr or "error[E300]" in r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        f"ipl: the new policy {new} has errors: fix them (ipl check {new}) before diffing")


def test_different_currencies_exit_2(tmp_path):
    old, new, records = write_pair(tmp_path, "amount", "amount", [("A", "1")])
    Path(new).write_text(POLICY.format(pay="amount").replace("USD", "EUR"), encoding="utf-8")
    r = ipl("diff", old, new, "--records", records)
    assert r.exit_code == 2 and "different currencies (USD and EUR)" in r.stderr


def test_multi_period_policy_is_compared_per_id_and_period(in_root, tmp_path):
    """recurring_mix (quarters, holds, clawbacks, a pool): each (id, period) is compared on its payable."""
    policy = ROOT / "programs/recurring_mix/recurring_mix.ipl"
    records = "programs/recurring_mix/records.csv"
    text = policy.read_text(encoding="utf-8")
    assert "param margin_floor : percent = 25%" in text
    raised = tmp_path / "recurring_mix.ipl"
    raised.write_text(text.replace("param margin_floor : percent = 25%", "param margin_floor : percent = 30%"),
                      encoding="utf-8")
    # expected, independently: the multi-period runner's payables, with and without --set margin_floor=30%
    payable = []
    for sets in ([], ["margin_floor=30%"]):
        rows: dict = {}
        run(compile_file(str(policy), sets), records,
                           lambda pr: rows.__setitem__((pr.id, str(pr.period)), pr.settlement.payable), lambda r: None)
        payable.append(rows)
    old, new = payable
    assert old.keys() == new.keys() and len(old) == 893
    r = ipl("diff", str(policy), str(raised), "--records", records, "--format", "json", "--top", "3")
    assert r.exit_code == 0, r.stderr
    doc = loads(r.stdout)
    assert doc["total"]["old"] == sum(old.values()) == Decimal("12089056.05")
    assert doc["total"]["new"] == sum(new.values())
    assert doc["total"]["delta"] == sum(new.values()) - sum(old.values())
    changed = {k for k in old if old[k] != new[k]}
    assert doc["counts"]["changed"] == len(changed)
    down = sum(1 for k in changed if new[k] < old[k])
    assert doc["counts"]["down"] == down
    first = doc["movers"][0]
    key = (first["id"], first["period"])
    assert key in changed and first["delta"] == new[key] - old[key]
    assert all(abs(new[k] - old[k]) <= abs(first["delta"]) for k in changed)
    # components, total adjustments and settlement lines add up to the payable on each side
    lines = doc["components"] + doc["adjustments"]
    assert sum(x["old"] or 0 for x in lines) == doc["total"]["old"]
    assert sum(x["new"] or 0 for x in lines) == doc["total"]["new"]
    assert {"held", "released", "clawback"} <= {x["name"] for x in doc["adjustments"]}


def test_parse_percent():
    assert diff_mod.parse_percent("5") == Decimal(5)
    assert diff_mod.parse_percent(" 2.5% ") == Decimal("2.5")
    assert diff_mod.parse_percent("1_000") == Decimal(1000)
    for bad in ("", "%", "five", "-0.1", "Infinity", "sNaN"):
        with pytest.raises(ValueError):
            diff_mod.parse_percent(bad)


def test_per_record_deltas_add_up_to_the_total_change(in_root):
    """Sum over records of (new - old), rejects counting 0, equals the reported delta (fixture pair)."""
    old, new = compile_file(f"{FIX}/old.ipl"), compile_file(f"{FIX}/new.ipl")
    rep = diff_mod.diff(old, new, f"{FIX}/records.csv", top=100)

    def totals(compiled):
        return {x.row: (Decimal(0) if isinstance(x, Reject) else x.result.total)
                for x in outcomes(compiled, f"{FIX}/records.csv")}
    a, b = totals(old), totals(new)
    assert sum(b[k] - a[k] for k in a) == rep.delta == sum(m.delta for m in rep.movers)
    assert rep.total_old == sum(a.values()) and rep.total_new == sum(b.values())


def test_copy_of_fixture_is_unchanged(tmp_path, in_root):
    """Diffing a policy against a byte-identical copy reports nothing moved (and no param change)."""
    copy = tmp_path / "copy.ipl"
    shutil.copy(ROOT / FIX / "new.ipl", copy)
    doc = loads(ipl("diff", f"{FIX}/new.ipl", str(copy), "--records", f"{FIX}/records.csv", "--format", "json").stdout)
    assert doc["params"] == [] and doc["counts"]["changed"] == 0 and doc["total"]["delta"] == 0


def test_module_and_test_files_are_not_policies(in_root):
    for path in ("stdlib/metrics.ipl", "programs/growth/growth_test.ipl"):
        r = ipl("diff", path, GROWTH, "--records", GROWTH_RECORDS)
        assert r.exit_code == 2 and f"ipl: {path} is not a policy" in r.stderr, r.stderr


def test_hostile_records_never_raise(tmp_path):
    old, new, _ = write_pair(tmp_path, "amount", "amount * 2", [])
    files = {
        "empty.csv": b"",
        "binary.csv": bytes(range(256)) * 4,
        "odd.csv": b"partner_id,amount\n,1\nA,1\nA,2\nB,x\nC,1e999999\nD,NaN\n\xef\xbb\xbfE,1\n",
        "bad.json": b"not json",
        "huge.jsonl": b'{"partner_id": "Q", "amount": 1e999999}\n{"partner_id": "R", "amount": 5}\n',
    }
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        r = ipl("diff", old, new, "--records", str(path), "--format", "json")
        assert r.exception is None or isinstance(r.exception, SystemExit), (name, r.exception)
        assert r.exit_code in (0, 2) and "Traceback" not in r.stderr, (name, r.stderr)
        if r.exit_code == 0:
            doc = loads(r.stdout)
            assert doc["counts"]["read"] == doc["counts"]["paid_old"] + doc["counts"]["rejected_old"]
    doc = loads(ipl("diff", old, new, "--records", str(tmp_path / "odd.csv"), "--format", "json").stdout)
    # rows 2 and 3 share the id A (both rejected), B and C and D are bad amounts: only E is paid
    assert (doc["counts"]["read"], doc["counts"]["paid_old"], doc["counts"]["rejected_new"]) == (7, 1, 6)
    assert doc["total"]["delta"] == Decimal("1.00")


# ------------------------------------------------------------------ the CI recipe (docs/ci.md)


def _workflow() -> str:
    return (ROOT / ".github/workflows/ipl.yml").read_text(encoding="utf-8")


def test_ci_doc_shows_the_workflow_file():
    doc = (ROOT / "docs/ci.md").read_text(encoding="utf-8")
    block = doc.split("```yaml\n", 1)[1].split("```\n", 1)[0]
    assert block == _workflow()
    for command in ("ipl check --format github programs stdlib", "ipl fmt --check programs stdlib",
                    "ipl test --coverage --fail-under 90 programs", "--format markdown",
                    "gh pr comment"):
        assert command in block


def _diff_step_script() -> str:
    lines = _workflow().split("\n")
    start = next(i for i, line in enumerate(lines) if "name: ipl diff" in line)
    run = next(i for i in range(start, len(lines)) if lines[i].strip() == "run: |")
    body = []
    for line in lines[run + 1:]:
        if line.startswith("      - name"):
            break
        body.append(line[10:])
    return "\n".join(body).strip() + "\n"


def test_ci_diff_step_on_a_pull_request(tmp_path):
    """The workflow's diff step, run by bash in a clone whose branch raises growth's base_rate."""
    import os
    import subprocess
    import sys

    if shutil.which("git") is None or shutil.which("bash") is None:
        pytest.skip("needs git and bash")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    def git(*args: str, cwd: Path) -> None:
        subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)

    origin = tmp_path / "origin"
    (origin / "programs/growth").mkdir(parents=True)
    for name in ("growth.ipl", "growth_test.ipl", "records.csv"):
        shutil.copy(ROOT / "programs/growth" / name, origin / "programs/growth" / name)
    git("init", "-q", "-b", "main", cwd=origin)
    git("add", ".", cwd=origin)
    git("commit", "-q", "-m", "base", cwd=origin)
    work = tmp_path / "work"
    git("clone", "-q", str(origin), str(work), cwd=tmp_path)
    git("checkout", "-q", "-b", "pr", cwd=work)
    policy = work / "programs/growth/growth.ipl"
    policy.write_text(policy.read_text(encoding="utf-8").replace(
        "param base_rate : percent = 10%", "param base_rate : percent = 12%"), encoding="utf-8")
    git("commit", "-q", "-am", "raise base_rate", cwd=work)
    script = tmp_path / "diff.sh"
    script.write_text(_diff_step_script(), encoding="utf-8")
    output = tmp_path / "github_output"
    output.write_text("", encoding="utf-8")
    env.update({"BASE": "main", "IPL_COST_UP_LIMIT": "5", "GITHUB_OUTPUT": str(output)})
    done = subprocess.run(["bash", str(script)], cwd=work, env=env, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr  # the 5 % guard trips: +13.14 %
    assert "guard --fail-if-cost-up tripped: cost change +3,912,306.00 USD (+13.14%)" in done.stderr
    assert output.read_text(encoding="utf-8") == "comment=true\n"
    comment = (work / "ipl-diff.md").read_text(encoding="utf-8")
    assert comment.startswith("### IPL payout impact: `growth.ipl`\n")
    assert "| **total cost** | 29,770,626.25 USD | 33,682,932.25 USD | **+3,912,306.00 USD (+13.14%)** |" in comment
    assert "<details><summary>Why they moved</summary>" in comment


# ------------------------------------------------------------------ a property: the report reconciles


def test_report_reconciles_on_generated_records(tmp_path_factory):
    """For any records, old/new totals are the sums of the paid totals, the delta is the sum of the
    per-record deltas (rejects count 0), and each side's component lines add up to its total."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    old, new = compile_file(str(ROOT / FIX / "old.ipl")), compile_file(str(ROOT / FIX / "new.ipl"))
    amount = st.decimals(min_value=-10, max_value=300_000, places=2, allow_nan=False, allow_infinity=False)
    row = st.tuples(st.sampled_from(["enterprise", "digital", "reseller"]), amount,
                    st.integers(min_value=-5, max_value=105), st.sampled_from(["1", "2.9", "3", "3.49", "3.5", "5"]),
                    st.sampled_from(["true", "false", ""]))

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(rows=st.lists(row, max_size=12), ids=st.lists(st.sampled_from("ABCDEFGHIJKLMN"), min_size=12, max_size=12))
    def check(rows, ids):
        path = tmp_path_factory.mktemp("records") / "records.csv"
        path.write_text("partner_id,segment,revenue,score,csat,certified\n" + "".join(
            f"{ids[i]},{s},{r},{sc},{c},{ce}\n" for i, (s, r, sc, c, ce) in enumerate(rows)), encoding="utf-8")
        rep = diff_mod.diff(old, new, str(path), top=len(rows) + 1)

        def totals(compiled):
            return {x.row: (Decimal(0) if isinstance(x, Reject) else x.result.total)
                    for x in outcomes(compiled, str(path))}
        a, b = totals(old), totals(new)
        assert rep.read == len(rows) == len(a) == len(b)
        assert rep.total_old == sum(a.values()) and rep.total_new == sum(b.values())
        assert rep.delta == sum(b[k] - a[k] for k in a) == sum(m.delta for m in rep.movers)
        assert rep.changed == sum(1 for k in a if a[k] != b[k]) == rep.up + rep.down
        lines = rep.components + rep.adjustments
        assert sum((x.old or 0 for x in lines), Decimal(0)) == rep.total_old
        assert sum((x.new or 0 for x in lines), Decimal(0)) == rep.total_new
        assert [abs(m.delta) for m in rep.movers] == sorted((abs(m.delta) for m in rep.movers), reverse=True)
    check()


def test_diff_shows_money_in_its_currencys_minor_units(tmp_path):
    """One minor-unit table (dsl/checker/currency.py): BIF has none, CLF four (an issue-12 defect)."""
    for code, old, new in (("BIF", "300 BIF", "361 BIF"), ("CLF", "300.5000 CLF", "360.6000 CLF")):
        (tmp_path / "a.ipl").write_text(f'policy "B" currency {code}\ninput pid : id\n'
                                        f'input revenue : money in 0 {code}..\ncomponent c = revenue * 10%\n')
        (tmp_path / "b.ipl").write_text((tmp_path / "a.ipl").read_text().replace("10%", "12%"))
        (tmp_path / "r.csv").write_text("pid,revenue\nA,1005\nB,2000\n")
        result = CliRunner().invoke(cli, ["diff", str(tmp_path / "a.ipl"), str(tmp_path / "b.ipl"),
                                          "--records", str(tmp_path / "r.csv")])
        assert result.exit_code == 0, result.output
        assert f"  old    {old}" in result.output and f"  new    {new}" in result.output, result.output
