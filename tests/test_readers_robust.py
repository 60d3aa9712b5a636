"""The record readers under hostile input (§13, §16): every case from a fuzz run, each with
the row, id, field and reason it must give; no input makes a traceback."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st
from click.testing import CliRunner

from dsl.cli import cli
from dsl.run.records import Field, Reject, Validator, duplicate_ids, fast_validator, raw_records

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
    assert v.validate(1, {"pid": {"a": "b"}, "note": "x"}) == Reject(1, None, "pid",
                                                                       'the object {"a": "b"} is not text')
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

    from dsl.run.records.json_rows import NAN

    assert pickle.loads(pickle.dumps({"x": NAN}))["x"] is NAN
    (row,) = list(raw_records_of('[{"x": Infinity}]', ".json"))
    assert pickle.loads(pickle.dumps(row[1]))["x"] is NAN


def raw_records_of(text: str, suffix: str, tmp=None):
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="ipl-test-"))
    path = folder / f"r{suffix}"
    path.write_text(text)
    return list(raw_records(str(path)))


# ------------------------------------------------------------------ 11. column names (§2a, §23.1)


COLUMNS = (
    Field(name="partner_id", kind="id", column="Partner ID"),
    Field(name="segment", kind="enum", members=("enterprise", "digital"), column="Sales Segment"),
    Field(name="revenue", kind="money", lo=Decimal(0), unit="USD", column="Joint Revenue (USD)"),
    Field(name="certified", kind="bool", default=False, has_default=True, column="Certified?"),
)
COLUMNS_CSV = ("Partner ID, Sales Segment ,Joint Revenue (USD),Certified?,partner_id,revenue\n"
               "P-1,digital,100,yes,X-1,1\n"
               "P-2,Digital,100,no,X-2,2\n"
               "P-3,digital,-5,no,X-3,3\n"
               ",digital,5,no,X-4,4\n"
               "P-1,digital,7,no,X-5,5\n")


def test_a_field_without_a_column_reads_its_name():
    f = Field(name="rev", kind="money")
    assert f.column == "rev" and f == Field(name="rev", kind="money", column="rev")


def test_columns_are_read_and_rejects_name_them(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(COLUMNS_CSV)
    dups = duplicate_ids(str(path), "Partner ID")
    assert dups == frozenset({"P-1"})
    v = Validator(COLUMNS, "partner_id", dups)
    slow = [v.validate(row, raw, problem) for row, raw, problem in raw_records(str(path))]
    from dsl.run.records import csv_lists

    header, rows = csv_lists(str(path))
    fast = [fast_validator(v, header)(row, cells, problem) for row, cells, problem in rows]
    assert slow == fast == [
        Reject(1, "P-1", "Partner ID", "duplicate id 'P-1': every record with this id is rejected"),
        Reject(2, "P-2", "Sales Segment", "'Digital' is not a member of segment (did you mean 'digital'?)"),
        Reject(3, "P-3", "Joint Revenue (USD)", "-5 USD is below the minimum 0 USD"),
        Reject(4, None, "Partner ID", "missing field `Partner ID`"),
        Reject(5, "P-1", "Partner ID", "duplicate id 'P-1': every record with this id is rejected"),
    ]
    good = Validator(COLUMNS, "partner_id")
    # the validated record is keyed by the policy's names
    assert good.validate(1, {"Partner ID": "P-1", "Sales Segment": "digital", "Joint Revenue (USD)": "100",
                             "partner_id": "X", "revenue": "1"}) == {
        "partner_id": "P-1", "segment": "digital", "revenue": Decimal(100), "certified": False}
    assert fast_validator(good, None)(1, {"Partner ID": "P-1", "Sales Segment": "digital",
                                          "Joint Revenue (USD)": "100", "Certified?": "true"}, None) == {
        "partner_id": "P-1", "segment": "digital", "revenue": Decimal(100), "certified": True}


def test_columns_are_case_and_space_exact(tmp_path):
    v = Validator(COLUMNS, "partner_id")
    assert v.validate(1, {"partner id": "P-1", "Sales Segment": "digital", "Joint Revenue (USD)": "1"}) == Reject(
        1, None, "Partner ID", "missing field `Partner ID`")


def columned(compiled):
    """The growth program as if every input had `column "Upper Case Name"` (the grammar's
    `column` clause is built elsewhere; the readers only see `Field.column`)."""

    return with_columns(compiled, lambda name: name.replace("_", " ").title())


def with_columns(compiled, column):
    """The compiled policy with its inputs read from the columns `column(name)`."""
    import dataclasses

    inputs = tuple(dataclasses.replace(i, column=column(i.name)) for i in compiled.program.inputs)
    return dataclasses.replace(compiled, program=dataclasses.replace(compiled.program, inputs=inputs))


def test_a_run_explain_and_ids_like_read_columns(tmp_path):
    from dsl.run.lookup import find_record, ids_like
    from dsl.run.policy import compile_file
    from dsl.run.runner import run

    compiled = columned(compile_file(GROWTH))
    path = tmp_path / "r.csv"
    header = HEADER.replace("_", " ").title()
    path.write_text(f"{header}\n{good_line('P-1')}\n{good_line('P-2')}\n{good_line('P-2')}\n"
                    "P-4,enterprise,x,800000,40,37,88,4.6,true\n")
    paid, rejects = [], []
    summary = run(compiled, str(path), paid.append, rejects.append)
    assert (summary.read, summary.paid, summary.rejected) == (4, 1, 3)
    assert paid[0].id == "P-1" and paid[0].record["joint_revenue"] == Decimal(1000000)
    assert [(r.row, r.id, r.field) for r in rejects] == [
        (2, "P-2", "Partner Id"), (3, "P-2", "Partner Id"), (4, "P-4", "Joint Revenue")]
    assert rejects[2].reason == "'x' is not a number"
    found = find_record(compiled, str(path), "P-1")
    assert found.id == "P-1" and found.record["segment"] == "enterprise"
    assert find_record(compiled, str(path), "P-9") is None
    assert ids_like(str(path), "Partner Id", "P-01") == "P-1"
    assert ids_like(str(path), "partner_id", "P-01") is None  # the column, not the name


def test_a_multi_period_run_reads_the_period_and_id_columns(tmp_path):

    from dsl.run.policy import compile_file
    from dsl.run.runner import run as run_settled

    (tmp_path / "p.ipl").write_text(PERIODS)
    compiled = compile_file(str(tmp_path / "p.ipl"))
    names = {"pid": "Partner", "q": "Fiscal Quarter", "revenue": "Revenue USD"}
    compiled = with_columns(compiled, names.__getitem__)
    for name, text in [("r.csv", "Partner,Fiscal Quarter,Revenue USD\nA,2026-Q2,10\nA,2026-Q1,20\n"
                                 "B,2026-Q5,1\nC,2026-Q1,1\nC,2026-Q1,2\n"),
                       ("r.jsonl", '{"Partner": "A", "Fiscal Quarter": "2026-Q2", "Revenue USD": 10}\n'
                                   '{"Partner": "A", "Fiscal Quarter": "2026-Q1", "Revenue USD": 20}\n'
                                   '{"Partner": "B", "Fiscal Quarter": "2026-Q5", "Revenue USD": 1}\n'
                                   '{"Partner": "C", "Fiscal Quarter": "2026-Q1", "Revenue USD": 1}\n'
                                   '{"Partner": "C", "Fiscal Quarter": "2026-Q1", "Revenue USD": 2}\n')]:
        (tmp_path / name).write_text(text)
        rows, rejects = [], []
        summary = run_settled(compiled, str(tmp_path / name), rows.append, rejects.append)
        assert summary.read == 5 and summary.paid == 2, name
        assert [(r.id, str(r.period), r.result[4]) for r in rows] == [("A", "2026-Q1", Decimal("2.00")),
                                                                       ("A", "2026-Q2", Decimal("1.00"))]
        assert [(r.row, r.id, r.field, r.reason) for r in rejects] == [
            (3, "B", "Fiscal Quarter", "'2026-Q5' is not a quarter: write it like \"2026-Q1\""),
            (4, "C", "Partner", "duplicate key ('C', 2026-Q1): every record with this key is rejected"),
            (5, "C", "Partner", "duplicate key ('C', 2026-Q1): every record with this key is rejected")], name


def test_a_test_files_records_are_keyed_by_name():
    v = Validator(COLUMNS, "partner_id", fixtures=True)
    assert v.validate(1, {"partner_id": "P-1", "segment": "digital", "revenue": Decimal(5)}) == {
        "partner_id": "P-1", "segment": "digital", "revenue": Decimal(5), "certified": False}
    assert v.validate(2, {"partner_id": "P-2", "segment": "digital"}) == Reject(2, "P-2", "revenue",
                                                                                 "missing field `revenue`")


# ------------------------------------------------------------------ 4. cells of any length


def test_a_long_cell_in_an_ignored_column_is_read_as_in_json_lines(tmp_path):
    long = "x" * 131_073
    result, paid, rejects = run_growth(tmp_path, "r.csv", f"{HEADER},notes\n{good_line('P-1')},{long}\n"
                                                          f"{good_line('P-2')},short\n")
    assert result.exit_code == 0, result.output[-500:]
    assert [r["partner_id"] for r in paid] == ["P-1", "P-2"] and rejects == []
    result, paid, rejects = run_growth(tmp_path, "r.jsonl", json.dumps({"partner_id": "P-1", **GOOD, "notes": long}))
    assert result.exit_code == 0 and [r["partner_id"] for r in paid] == ["P-1"]


def test_a_long_cell_in_a_used_column_is_validated(tmp_path):
    digits = "1" * 200_000
    result, paid, rejects = run_growth(
        tmp_path, "r.csv", f"{HEADER}\nP-1,enterprise,{digits},800000,40,37,88,4.6,true\n{good_line('P-2')}\n")
    assert result.exit_code == 1
    assert [r["partner_id"] for r in paid] == ["P-2"]
    assert [(r["row"], r["id"], r["field"]) for r in rejects] == [("1", "P-1", "joint_revenue")]
    assert rejects[0]["reason"] == "'1111111111111111111111111111111111111...' is too large (at most 34 digits)"


# ------------------------------------------------------------------ 7. an unclosed CSV quote


def test_an_unclosed_quote_rejects_its_row_and_the_rows_after_it_are_read(tmp_path):
    text = (f"{HEADER}\n{good_line('P-1')}\n"
            'P-2,"enterprise,1000000,800000,40,37,88,4.6,true\n'
            f"{good_line('P-3')}\n{good_line('P-4')}\n")
    result, paid, rejects = run_growth(tmp_path, "r.csv", text)
    assert result.exit_code == 1, result.output
    assert [r["partner_id"] for r in paid] == ["P-1", "P-3", "P-4"]
    assert rejects == [{"row": "2", "id": "P-2", "field": "",
                        "reason": "unclosed quote starting at row 2 (line 3); reading goes on at line 4"}]
    assert summary_line(result.output, "reconciled") == "reconciled    read 4 = paid 3 + rejected 1"
    assert ("note: row 2: a quote opened at line 3 is never closed; the record is rejected and the lines after "
            "it are read as records") in result.output


def test_closed_quotes_over_several_lines_are_one_cell(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('id,v\nP1,"multi\nline"\nP2,y\nP3,"last\n""quoted"" line"\n')
    assert list(raw_records(str(path))) == [(1, {"id": "P1", "v": "multi\nline"}, None),
                                            (2, {"id": "P2", "v": "y"}, None),
                                            (3, {"id": "P3", "v": 'last\n"quoted" line'}, None)]


def test_an_unclosed_quote_in_the_last_row_and_in_the_header(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('id,v\nP1,"a"\nP2,"b\nc\n\nP3,d')
    notes: list[str] = []
    assert list(raw_records(str(path), notes=notes)) == [
        (1, {"id": "P1", "v": "a"}, None),
        (2, {"id": "P2"}, "unclosed quote starting at row 2 (line 3); reading goes on at line 4"),
        (3, {"id": "c"}, None),
        (4, {"id": "P3", "v": "d"}, None)]
    assert notes == ["row 2: a quote opened at line 3 is never closed; the record is rejected and the lines "
                     "after it are read as records"]
    path.write_text('id,"v\nP1,a\n')
    notes.clear()
    assert list(raw_records(str(path), notes=notes)) == [
        (1, None, "unclosed quote in the header (line 1): no record of the file can be read")]
    assert notes == ["unclosed quote in the header (line 1): no record of the file can be read"]


def test_an_unclosed_quote_in_a_multi_period_file(tmp_path):
    result, paid, rejects = run_periods(tmp_path, "r.csv", 'pid,q,revenue\nA,2026-Q1,10\nB,"2026-Q1,10\n'
                                                           'C,2026-Q2,30\n')
    assert result.exit_code == 1, result.output
    assert [(r["pid"], r["q"]) for r in paid] == [("A", "2026-Q1"), ("C", "2026-Q2")]
    assert rejects == [{"row": "2", "id": "B", "field": "",
                        "reason": "unclosed quote starting at row 2 (line 3); reading goes on at line 4"}]
    assert "read 3 = paid 2 + rejected 1" in result.output and "note: row 2: a quote opened" in result.output


# ------------------------------------------------------------------ 5. one large JSON record is linear


def test_a_large_json_array_element_is_decoded_a_few_times_not_once_per_chunk(tmp_path, monkeypatch):
    calls = []
    real = json.JSONDecoder.raw_decode

    def counting(self, s, idx=0):
        calls.append(len(s) - idx)
        return real(self, s, idx)

    monkeypatch.setattr(json.JSONDecoder, "raw_decode", counting)
    path = tmp_path / "r.json"
    big = {"partner_id": "P-1", "items": [{"a": i, "b": "yy"} for i in range(200_000)], "notes": "x" * 1_000_000}
    path.write_text("[" + json.dumps(big) + ', {"partner_id": "P-2"}]')
    rows = list(raw_records(str(path)))
    assert [(row, raw["partner_id"], problem) for row, raw, problem in rows] == [(1, "P-1", None), (2, "P-2", None)]
    assert rows[0][1]["items"][-1] == {"a": Decimal(199_999), "b": "yy"}
    # 4.5 MB: the buffer doubles (64 KiB, 128 KiB, ... 8 MiB), so about 8 decodings, and about
    # twice the record decoded in all — not 70 decodings of 2.3 MB on average (the 64 KiB steps)
    size = path.stat().st_size
    assert len(calls) <= 10 and sum(calls) <= 4 * size, (len(calls), sum(calls), size)


# ------------------------------------------------------------------ 8. garbage in a JSON array


def garbage_file(tmp_path, at: int, garbage: str = "oops") -> str:
    records = [json.dumps({"partner_id": f"P-{i}", **GOOD}) for i in range(1, 31)]
    records[at] = garbage + records[at]
    text = "[\n" + ",\n".join(records) + "\n]\n"
    (tmp_path / "r.json").write_text(text)
    return text


def test_garbage_in_a_json_array_says_where_and_how_much_was_not_read(tmp_path):
    text = garbage_file(tmp_path, 17)
    left = len(text.encode()) - text.index("oops")
    result, paid, rejects = run_growth(tmp_path, "r.json", (tmp_path / "r.json").read_text())
    assert result.exit_code == 1
    assert len(paid) == 17 and paid[-1]["partner_id"] == "P-17"
    assert rejects == [{"row": "18", "id": "", "field": "", "reason": (
        f"invalid JSON at line 19, column 1: Expecting value; the rest of the file ({left:,} bytes on 14 lines) "
        "is not read")}]
    assert f"note: row 18: invalid JSON at line 19, column 1; the rest of the file ({left:,} bytes on 14 lines) " \
           "was not read" in result.output
    assert summary_line(result.output, "reconciled") == "reconciled    read 18 = paid 17 + rejected 1"


@pytest.mark.parametrize("text, good, reason", [
    ('[{"a": 1}\n {"a": 2}]', 1, "invalid JSON at line 2, column 2: expected `,` or `]` between records; "
                                 "the rest of the file (9 bytes on 1 line) is not read"),
    ('[{"a": 1},\n {"a": 2}] [{"a": 3}]', 2, "invalid JSON at line 2, column 12: more text after the end of "
                                              "the array; the rest of the file (10 bytes on 1 line) is not read"),
    ('[{"a": 1},\n {"a": ', 1, "invalid JSON at line 2, column 8: Expecting value"),
    ('[{"a": 1},\n {"a": 2}', 2, "invalid JSON at line 2, column 10: the file ends before the array is closed"),
    ('[{"a": 1},\n {"a": "\u00e9t\u00e9', 1, "invalid JSON at line 2, column 8: Unterminated string starting "
                                            "at; the rest of the file (6 bytes on 1 line) is not read"),
    ('[{"a": 1},\n {"a": "x\ny"}]', 1, "invalid JSON at line 2, column 10: Invalid control character at; "
                                         "the rest of the file (5 bytes on 2 lines) is not read"),
])
def test_a_broken_json_array_rejects_once_with_the_place(tmp_path, text, good, reason):
    path = tmp_path / "r.json"
    path.write_text(text)
    notes: list[str] = []
    rows = list(raw_records(str(path), notes=notes))
    assert rows == [(i, {"a": Decimal(i)}, None) for i in range(1, good + 1)] + [(good + 1, None, reason)]
    assert len(notes) == 1 and notes[0].startswith(f"row {good + 1}: invalid JSON at line 2, column ")


def test_the_place_of_an_error_after_a_large_record_counts_every_line(tmp_path):
    path = tmp_path / "r.json"
    big = json.dumps({"a": 1, "notes": "x\\n" * 100_000})  # 300 KB over several chunks, on one line
    path.write_text('[\n{"a": 0},\n' + big + ',\n{"a": 2},\n  {"a": 3 x}]')
    rows = list(raw_records(str(path)))
    assert [r[0] for r in rows] == [1, 2, 3, 4]
    assert rows[3][2] == ("invalid JSON at line 5, column 11: Expecting ',' delimiter; "
                          "the rest of the file (3 bytes on 1 line) is not read")


# ------------------------------------------------------------------ 6. "did you mean" in a large enum


BIG_ENUM = tuple(f"member_{i:06d}" for i in range(100_000))


def test_suggestions_in_a_large_enum_look_at_a_few_members(monkeypatch):
    import difflib

    v = Validator((Field(name="pid", kind="id"), Field(name="seg", kind="enum", members=BIG_ENUM)), "pid")
    v.validate(0, {"pid": "P0", "seg": "warm up"})  # builds the sorted indexes once
    looked = []
    real = difflib.SequenceMatcher.set_seq1
    monkeypatch.setattr(difflib.SequenceMatcher, "set_seq1", lambda self, a: (looked.append(a), real(self, a))[1])
    cases = [("membr_017611", "member_017611"),  # a typo early: the end is kept
             ("member_017611x", "member_017611"),  # late: the start is kept
             ("MEMBER_042000", "member_042000"),  # only the case: found without difflib
             ("zzzz", None)]
    for i, (bad, hint) in enumerate(cases):
        reject = v.validate(i + 1, {"pid": f"P{i}", "seg": bad})
        if hint:
            assert reject.reason == f"{bad!r} is not a member of seg (did you mean {hint!r}?)"
        else:
            assert reject.reason == ("'zzzz' is not a member of seg (expected one of member_000000, member_000001, "
                                     "member_000002, member_000003, member_000004, member_000005, member_000006, "
                                     "member_000007, member_000008, member_000009, ... 100,000 members in all)")
    assert len(looked) <= 3 * 4 * 8 + 3  # at most 32 candidates for each of the three misspellings


def test_two_thousand_bad_values_against_a_large_enum_take_little_time():
    import time

    v = Validator((Field(name="pid", kind="id"), Field(name="seg", kind="enum", members=BIG_ENUM)), "pid")
    started = time.perf_counter()
    for i in range(2000):
        assert isinstance(v.validate(i, {"pid": f"P{i}", "seg": f"membr_{i * 37 % 100_000:06d}"}), Reject)
    assert time.perf_counter() - started < 10  # 0.5 s on a laptop; 300 s before


@given(st.text(alphabet="abcde_", max_size=8), st.lists(st.text(alphabet="abcdeABC_", max_size=8), max_size=30))
@settings(max_examples=300, deadline=None)
def test_best_spelling_is_difflibs_answer(word, candidates):
    import difflib

    from dsl.run.records.spelling import _best_spelling

    expected = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    assert _best_spelling(word, candidates) == (expected[0] if expected else None)


# ------------------------------------------------------------------ 9. the one syntax of a number


NUMBER_FIELDS = (Field(name="pid", kind="id"), Field(name="rev", kind="money", unit="USD"),
                 Field(name="n", kind="count", default=Decimal(0), has_default=True))


def hint(cell: str, plain: str) -> str:
    return f"{cell!r} is not a decimal number: write {plain} (digits with an optional - and .)"


@pytest.mark.parametrize("cell, outcome", [
    ("1250.50", Decimal("1250.50")),
    ("-3", Decimal(-3)),
    (" 12 ", Decimal(12)),  # surrounding spaces are trimmed
    ("0012", Decimal(12)),
    ("\u0661\u0662", hint("\u0661\u0662", "12")),  # Arabic-Indic digits
    ("\uff11\uff12", hint("\uff11\uff12", "12")),  # full-width digits
    ("1e5", hint("1e5", "100000")),
    ("1E-2", hint("1E-2", "0.01")),
    ("+5", hint("+5", "5")),
    (".5", hint(".5", "0.5")),
    ("5.", hint("5.", "5")),
    ("1_000", hint("1_000", "1000")),
    ("1,000", "'1,000' is not a number"),
    ("12o", "'12o' is not a number"),
    ("NaN", "'NaN' is not a finite number"),
    ("1e999999", "'1e999999' is too large (at most 34 digits)"),
])
def test_a_number_is_written_one_way_in_csv_and_json_strings(tmp_path, cell, outcome):
    v = Validator(NUMBER_FIELDS, "pid")
    path = tmp_path / "r.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows([["pid", "rev"], ["P1", cell]])
    from dsl.run.records import csv_lists

    header, rows = csv_lists(str(path))
    (row,) = list(rows)
    fast = fast_validator(v, header)(*row)
    slow = v.validate(1, {"pid": "P1", "rev": cell})
    from_json = fast_validator(v)(1, {"pid": "P1", "rev": cell}, None)
    expected = ({"pid": "P1", "rev": outcome, "n": Decimal(0)} if isinstance(outcome, Decimal)
                else Reject(1, "P1", "rev", outcome))
    assert fast == slow == from_json == expected


def test_a_count_is_written_one_way_too():
    v = Validator(NUMBER_FIELDS, "pid")
    assert v.validate(1, {"pid": "P1", "rev": "1", "n": "\uff13"}) == Reject(1, "P1", "n", hint("\uff13", "3"))
    assert v.validate(2, {"pid": "P2", "rev": "1", "n": "3.0"})["n"] == Decimal(3)


def test_a_json_number_is_read_as_json_writes_it(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('[{"pid": "P1", "rev": 1e5}, {"pid": "P2", "rev": 1.5E-2}, {"pid": "P3", "rev": "1e5"},'
                    ' {"pid": "P4", "rev": -0.0}]')
    v = Validator(NUMBER_FIELDS, "pid")
    out = [v.validate(*r) for r in raw_records(str(path))]
    assert out == [{"pid": "P1", "rev": Decimal(100000), "n": Decimal(0)},
                   {"pid": "P2", "rev": Decimal("0.015"), "n": Decimal(0)},
                   Reject(3, "P3", "rev", hint("1e5", "100000")),
                   {"pid": "P4", "rev": Decimal(0), "n": Decimal(0)}]


def test_set_reads_a_number_one_way(tmp_path):
    rec = tmp_path / "r.csv"
    rec.write_text(f"{HEADER}\n{good_line('P-1')}\n")
    bad = ipl("run", GROWTH, "--records", str(rec), "--set", "base_rate=+0.1")
    assert bad.exit_code == 2
    assert bad.output == f"ipl: --set base_rate=+0.1: {hint('+0.1', '0.1')}\n"
    for value in ("0.1_2", "12 %", "0.12"):  # digits grouped as in a policy; a percent with its sign
        good = ipl("run", GROWTH, "--records", str(rec), "--set", f"base_rate={value}")
        assert good.exit_code == 0 and "P-1,120000.00," in good.output, (value, good.output)


# ------------------------------------------------------------------ 10. percent cells are never a guess


PERCENTS = (Field(name="pid", kind="id"), Field(name="rate", kind="percent"),
            Field(name="big", kind="percent", lo=Decimal(0), hi=Decimal(20), unit="%", default=Decimal(0),
                  has_default=True),  # in 0%..2000%
            Field(name="open", kind="percent", lo=Decimal(0), unit="%", default=Decimal(0), has_default=True),
            Field(name="low", kind="percent", lo=Decimal(-50), hi=Decimal(0), unit="%", default=Decimal(0),
                  has_default=True))  # in -5000%..0%


def whole(shown: str, percent: str, written: str, fraction: str) -> str:
    return f"`{shown}` for a percent would be {percent} %: write `{written}%` or `{fraction}`"


@pytest.mark.parametrize("column, cell, outcome", [
    ("rate", "12%", Decimal("0.12")),
    ("rate", "12.5 %", Decimal("0.125")),
    ("rate", "0.125", Decimal("0.125")),
    ("rate", "1.5", Decimal("1.5")),
    ("rate", "12.50", Decimal("12.50")),  # not whole: 1250 %
    ("rate", "0", Decimal(0)),
    ("rate", "1", Decimal(1)),
    ("rate", "-1", Decimal(-1)),
    ("rate", "1.0", Decimal("1.0")),
    ("rate", "-0.25", Decimal("-0.25")),
    ("rate", "12", whole("12", "1200", "12", "0.12")),
    ("rate", "12.0", whole("12.0", "1200", "12", "0.12")),
    ("rate", " -3 ", whole("-3", "-300", "-3", "-0.03")),
    ("rate", "100", whole("100", "10000", "100", "1")),
    ("rate", "2", whole("2", "200", "2", "0.02")),
    ("big", "12", Decimal(12)),  # the declared range 0%..2000% holds 1200 %
    ("big", "30", whole("30", "3000", "30", "0.3")),  # ... not 3000 %
    ("open", "12", Decimal(12)),  # §23.4: the declared range 0%.. contains 1200 %
    ("rate", "12", whole("12", "1200", "12", "0.12")),  # no range: no such range
    ("open", "12%", Decimal("0.12")),
    ("low", "-30", Decimal(-30)),
    ("low", "30", whole("30", "3000", "30", "0.3")),
    ("low", "-3000", whole("-3000", "-300000", "-3000", "-30")),
])
def test_a_whole_percent_without_a_sign_is_rejected(tmp_path, column, cell, outcome):
    v = Validator(PERCENTS, "pid")
    raw = {"pid": "P1", "rate": "0.1", column: cell}
    path = tmp_path / "r.csv"
    with path.open("w", newline="") as out:
        csv.writer(out).writerows([list(raw), list(raw.values())])
    from dsl.run.records import csv_lists

    header, rows = csv_lists(str(path))
    fast = fast_validator(v, header)(*next(rows))
    slow = v.validate(1, raw)
    if isinstance(outcome, Decimal):
        assert fast == slow and slow[column] == outcome and str(slow[column]) == str(outcome)
    else:
        assert fast == slow == Reject(1, "P1", column, outcome)


def test_a_whole_json_percent_is_rejected_as_number_and_as_string(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"pid": "P1", "rate": 12}\n{"pid": "P2", "rate": "12"}\n{"pid": "P3", "rate": 12.0}\n'
                    '{"pid": "P4", "rate": 0.12}\n{"pid": "P5", "rate": 1}\n{"pid": "P6", "rate": "12%"}\n'
                    '{"pid": "P7", "rate": 1.2e1}\n')
    v = Validator(PERCENTS, "pid")
    out = [v.validate(*r) for r in raw_records(str(path))]
    assert [o.reason if isinstance(o, Reject) else o["rate"] for o in out] == [
        whole("12", "1200", "12", "0.12"), whole("12", "1200", "12", "0.12"), whole("12.0", "1200", "12", "0.12"),
        Decimal("0.12"), Decimal(1), Decimal("0.12"), whole("12", "1200", "12", "0.12")]


def test_a_test_files_percent_is_taken_as_typed():
    v = Validator(PERCENTS, "pid", fixtures=True)
    assert v.validate(1, {"pid": "P1", "rate": Decimal(2)})["rate"] == Decimal(2)  # `rate = 200%`


def test_set_of_a_whole_percent_is_a_usage_error(tmp_path):
    rec = tmp_path / "r.csv"
    rec.write_text(f"{HEADER}\n{good_line('P-1')}\n")
    bad = ipl("run", GROWTH, "--records", str(rec), "--set", "base_rate=12")
    assert bad.exit_code == 2
    assert bad.output == "ipl: --set base_rate=12: `12` for a percent would be 1200 %: write `12%` or `0.12`\n"
    explained = ipl("explain", GROWTH, "--records", str(rec), "--id", "P-1", "--set", "base_rate=12")
    assert explained.exit_code == 2 and "would be 1200 %" in explained.output


def test_a_whole_discount_is_a_reject_not_a_negative_commission(tmp_path):
    (tmp_path / "p.ipl").write_text('policy "Discounts"\n  currency USD\n\ninput pid : id\n'
                                    'input revenue : money in 0 USD..\ninput discount : percent in 0%..100%\n\n'
                                    'component commission = revenue * (100% - discount) * 10%\n')
    (tmp_path / "r.csv").write_text("pid,revenue,discount\nP1,1000,10\nP2,1000,10%\nP3,1000,0.1\n")
    out = tmp_path / "out.csv"
    result = ipl("run", str(tmp_path / "p.ipl"), "--records", str(tmp_path / "r.csv"), "-o", str(out))
    assert result.exit_code == 1
    assert "rejected row 1 (P1) field discount: `10` for a percent would be 1000 %: write `10%` or `0.1`" \
        in result.output
    assert [(r["pid"], r["commission"]) for r in csv.DictReader(out.open())] == [("P2", "90.00"), ("P3", "90.00")]


# ------------------------------------------------------------------ 12. a missing column, said once


def test_a_missing_required_column_is_said_once_and_every_row_is_rejected(tmp_path):
    header = HEADER.replace("segment,", "")
    lines = [good_line(f"P-{i}").replace("enterprise,", "") for i in range(1, 4)]
    result, paid, rejects = run_growth(tmp_path, "r.csv", header + "\n" + "\n".join(lines) + "\n")
    assert result.exit_code == 1 and paid == []
    assert rejects == [{"row": str(i), "id": f"P-{i}", "field": "segment", "reason": "no column `segment`"}
                       for i in range(1, 4)]
    assert result.output.count("the file has no column `segment` (required by input `segment`)") == 1
    assert "note: the file has no column `segment` (required by input `segment`)" in result.output
    assert summary_line(result.output, "reconciled") == "reconciled    read 3 = paid 0 + rejected 3"


def test_a_missing_column_with_a_default_is_no_problem(tmp_path):
    result, paid, rejects = run_growth(tmp_path, "r.csv", HEADER.replace(",certified", "") + "\n"
                                       + good_line("P-1").replace(",true", "") + "\n")
    assert result.exit_code == 0 and [r["partner_id"] for r in paid] == ["P-1"] and "note:" not in result.output


def test_a_column_held_twice_rejects_every_row(tmp_path):
    result, paid, rejects = run_growth(tmp_path, "r.csv", HEADER + ",csat\n" + good_line("P-1") + ",1.0\n")
    assert result.exit_code == 1 and paid == []
    assert rejects == [{"row": "1", "id": "P-1", "field": "csat", "reason": "2 columns `csat`"}]
    assert ("note: the file has 2 columns `csat` (read by input `csat`): which one holds the value is not clear, "
            "so every record is rejected") in result.output


def test_a_missing_column_in_explain_and_in_a_multi_period_run(tmp_path):
    rec = tmp_path / "r.csv"
    rec.write_text(HEADER.replace(",csat", "") + "\n" + good_line("P-1").replace(",4.6", "") + "\n")
    explained = ipl("explain", GROWTH, "--records", str(rec), "--id", "P-1")
    assert explained.exit_code == 1
    assert explained.output == "record 1 (P-1) is rejected: field csat: no column `csat`\n"
    result, paid, rejects = run_periods(tmp_path, "r.csv", "pid,revenue\nA,10\nB,20\n")
    assert result.exit_code == 1 and paid == []
    assert [(r["row"], r["id"], r["field"], r["reason"]) for r in rejects] == [
        ("1", "A", "q", "no column `q`"), ("2", "B", "q", "no column `q`")]
    assert result.output.count("the file has no column `q` (required by input `q`)") == 1


def test_a_json_object_without_a_key_is_still_a_missing_field(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"pid": "P1", "rev": 1}\n{"pid": "P2"}\n')
    v = Validator(NUMBER_FIELDS, "pid")
    assert [v.validate(*r) for r in raw_records(str(path))][1] == Reject(2, "P2", "rev", "missing field `rev`")
    assert fast_validator(v)(2, {"pid": "P2"}, None) == Reject(2, "P2", "rev", "missing field `rev`")


def test_an_empty_csv_file_has_no_header_to_complain_about(tmp_path):
    result, paid, rejects = run_growth(tmp_path, "r.csv", "")
    assert result.exit_code == 0 and paid == [] and rejects == []
    assert [line for line in result.output.splitlines() if line.startswith("note:")] == [
        f"note: {tmp_path / 'r.csv'} holds no records"]
