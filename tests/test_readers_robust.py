"""The record readers under hostile input (§13, §16): every case from a fuzz run, each with
the row, id, field and reason it must give; no input makes a traceback."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from dsl.cli import cli
from dsl.records import Field, Reject, Validator, duplicate_ids, fast_validator, raw_records

from .conftest import ROOT

GROWTH = str(ROOT / "programs/growth/growth.ipl")
HEADER = "partner_id,segment,joint_revenue,prior_revenue,renewals_due,renewals_won,deployment_score,csat,certified"
GOOD = {"segment": "enterprise", "joint_revenue": 1000000, "prior_revenue": 800000, "renewals_due": 40,
        "renewals_won": 37, "deployment_score": 88, "csat": 4.6, "certified": True}

# a multi-period policy: its records are spilled to disk per period (pickled) before validation
PERIODS = '''policy "Periods"
  currency USD
  period quarter

input pid : id
input q : period
input revenue : money in 0 USD..

component base = revenue * 10%
'''


def good_line(pid: str) -> str:
    return f"{pid},enterprise,1000000,800000,40,37,88,4.6,true"


def ipl(*args: str):
    return CliRunner().invoke(cli, list(args))


def run_growth(tmp_path, name: str, text: str, *extra: str):
    """`ipl run` of the growth program; the payouts and the rejects as dicts."""
    rec = tmp_path / name
    rec.write_text(text)
    out, rej = tmp_path / "out.csv", tmp_path / "rej.csv"
    result = ipl("run", GROWTH, "--records", str(rec), "-o", str(out), "--rejects", str(rej), *extra)
    paid = list(csv.DictReader(io.StringIO(out.read_text()))) if out.exists() else []
    rejects = list(csv.DictReader(io.StringIO(rej.read_text()))) if rej.exists() else []
    return result, paid, rejects


def run_periods(tmp_path, name: str, text: str):
    (tmp_path / "p.ipl").write_text(PERIODS)
    rec = tmp_path / name
    rec.write_text(text)
    out, rej = tmp_path / "out.csv", tmp_path / "rej.csv"
    result = ipl("run", str(tmp_path / "p.ipl"), "--records", str(rec), "-o", str(out), "--rejects", str(rej))
    paid = list(csv.DictReader(io.StringIO(out.read_text()))) if out.exists() else []
    rejects = list(csv.DictReader(io.StringIO(rej.read_text()))) if rej.exists() else []
    return result, paid, rejects


def summary_line(output: str, key: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(key))


# ------------------------------------------------------------------ 1. a blank id is a missing id


def test_an_id_of_spaces_in_csv_is_a_missing_id(tmp_path):
    result, paid, rejects = run_growth(tmp_path, "r.csv", f"{HEADER}\n{good_line('  ')}\n{good_line('P-2')}\n")
    assert result.exit_code == 1, result.output
    assert [r["partner_id"] for r in paid] == ["P-2"]
    assert rejects == [{"row": "1", "id": "", "field": "partner_id", "reason": "missing field `partner_id`"}]


def test_an_id_of_spaces_in_json_is_a_missing_id(tmp_path):
    records = [{"partner_id": "  ", **GOOD}, {"partner_id": "\t", **GOOD}, {"partner_id": "P-3", **GOOD}]
    result, paid, rejects = run_growth(tmp_path, "r.json", json.dumps(records))
    assert result.exit_code == 1, result.output
    assert [r["partner_id"] for r in paid] == ["P-3"]
    assert [(r["row"], r["id"], r["field"], r["reason"]) for r in rejects] == [
        ("1", "", "partner_id", "missing field `partner_id`"),
        ("2", "", "partner_id", "missing field `partner_id`")]


def test_an_id_of_spaces_in_a_multi_period_run_is_a_missing_id(tmp_path):
    result, paid, rejects = run_periods(tmp_path, "r.jsonl", '{"pid": " ", "q": "2026-Q1", "revenue": 10}\n'
                                                             '{"pid": "A", "q": "2026-Q1", "revenue": 10}\n')
    assert result.exit_code == 1, result.output
    assert [(r["pid"], r["base"]) for r in paid] == [("A", "1.00")]
    assert rejects == [{"row": "1", "id": "", "field": "pid", "reason": "missing field `pid`"}]


def test_a_blank_value_takes_the_default_and_a_blank_required_value_is_missing():
    fields = (Field(name="pid", kind="id"), Field(name="rev", kind="money"),
              Field(name="cert", kind="bool", default=False, has_default=True), Field(name="note", kind="text"))
    v = Validator(fields, "pid")
    assert v.validate(1, {"pid": "P1", "rev": "5", "cert": "  ", "note": "  "}) == {
        "pid": "P1", "rev": Decimal(5), "cert": False, "note": "  "}  # text is kept as written
    assert v.validate(2, {"pid": "P2", "rev": " \t ", "note": "x"}) == Reject(2, "P2", "rev", "missing field `rev`")


# ------------------------------------------------------------------ 2. an object or array as a value


OBJECT_VALUES = [
    ({"joint_revenue": {"amount": 1000}}, "joint_revenue", 'the object {"amount": 1000} is not a number'),
    ({"joint_revenue": [1, 2]}, "joint_revenue", "the array [1, 2] is not a number"),
    ({"segment": {"name": "digital"}}, "segment",
     'the object {"name": "digital"} is not a member of segment (expected one of enterprise, midmarket, digital)'),
    ({"certified": [True]}, "certified", "the array [true] is not a bool (write true/false, yes/no or 1/0)"),
    ({"renewals_due": {"n": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]}}, "renewals_due",
     'the object {"n": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10,... is not a number'),
]


@pytest.mark.parametrize("change, field, reason", OBJECT_VALUES)
def test_an_object_or_array_value_is_a_reject_in_run(tmp_path, change, field, reason):
    records = [{"partner_id": "P-1", **GOOD, **change}, {"partner_id": "P-2", **GOOD}]
    result, paid, rejects = run_growth(tmp_path, "r.json", json.dumps(records))
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert [r["partner_id"] for r in paid] == ["P-2"]
    assert rejects == [{"row": "1", "id": "P-1", "field": field, "reason": reason}]


def test_an_object_as_id_or_text_is_not_text():
    v = Validator((Field(name="pid", kind="id"), Field(name="note", kind="text")), "pid")
    assert v.validate(1, {"pid": {"a": "b"}, "note": "x"}) == Reject(1, None, "pid", 'the object {"a": "b"} is not text')
    assert v.validate(2, {"pid": "P2", "note": ["x"]}) == Reject(2, "P2", "note", 'the array ["x"] is not text')


def test_an_object_value_in_explain_and_diff_is_a_reject(tmp_path):
    rec = tmp_path / "r.json"
    rec.write_text(json.dumps([{"partner_id": "P-1", **GOOD, "joint_revenue": {"amount": 1000}},
                               {"partner_id": "P-2", **GOOD}]))
    explained = ipl("explain", GROWTH, "--records", str(rec), "--id", "P-1")
    assert explained.exit_code == 1, explained.output
    assert explained.output == ('record 1 (P-1) is rejected: field joint_revenue: '
                                'the object {"amount": 1000} is not a number\n')
    diffed = ipl("diff", GROWTH, GROWTH, "--records", str(rec))
    assert diffed.exit_code == 0 and "Traceback" not in diffed.output, diffed.output


def test_a_deeply_nested_value_is_shown_briefly():
    deep: object = 1
    for _ in range(500):
        deep = {"a": deep}
    v = Validator((Field(name="pid", kind="id"), Field(name="rev", kind="money")), "pid")
    bad = v.validate(1, {"pid": "P1", "rev": deep})
    assert bad == Reject(1, "P1", "rev", 'the object {"a": {"a": {"a": {"a": {"a": {"a": {... is not a number')


# ------------------------------------------------------------------ 3. NaN survives the spill to disk


def test_nan_in_a_multi_period_json_file_has_a_reproducible_reason(tmp_path):
    text = ('[{"pid": "A", "q": "2026-Q1", "revenue": NaN}, {"pid": "B", "q": "2026-Q1", "revenue": -Infinity},'
            ' {"pid": "C", "q": "2026-Q2", "revenue": 5}]')
    reasons = []
    for _ in range(2):
        result, paid, rejects = run_periods(tmp_path, "r.json", text)
        assert result.exit_code == 1, result.output
        assert [(r["pid"], r["base"]) for r in paid] == [("C", "0.50")]
        reasons.append(rejects)
    assert reasons[0] == reasons[1] == [
        {"row": "1", "id": "A", "field": "revenue", "reason": "NaN is not a number"},
        {"row": "2", "id": "B", "field": "revenue", "reason": "NaN is not a number"}]


def test_the_nan_marker_is_one_object_after_pickling():
    import pickle

    from dsl.records import _NAN

    assert pickle.loads(pickle.dumps({"x": _NAN}))["x"] is _NAN
    (row,) = list(raw_records_of('[{"x": Infinity}]', ".json"))
    assert pickle.loads(pickle.dumps(row[1]))["x"] is _NAN


def raw_records_of(text: str, suffix: str, tmp=None):
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="ipl-test-"))
    path = folder / f"r{suffix}"
    path.write_text(text)
    return list(raw_records(str(path)))
