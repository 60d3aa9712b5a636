"""Records (§13, §16): streaming readers straight to Decimal, and a reject for every bad record."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dsl.run.outputs import atomic_open, defuse, dumps, write_text
from dsl.run.records import BadValue, Field, Reject, Validator, duplicate_ids, parse_decimal, raw_records

FIELDS = (
    Field(name="pid", kind="id"),
    Field(name="seg", kind="enum", members=("enterprise", "midmarket", "digital")),
    Field(name="rev", kind="money", lo=Decimal(0), unit="USD"),
    Field(name="rate", kind="percent"),
    Field(name="n", kind="count"),
    Field(name="score", kind="number", lo=Decimal(0), hi=Decimal(100)),
    Field(name="cert", kind="bool", default=False, has_default=True),
)
HEADER = "pid,seg,rev,rate,n,score,cert\n"


def run(path, fields=FIELDS):
    dups = duplicate_ids(str(path), "pid")
    v = Validator(fields, "pid", dups)
    return [v.validate(row, raw, problem) for row, raw, problem in raw_records(str(path))]


def test_csv_values_are_exact_decimals(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(HEADER + "P1,digital,0.1,92.5%,3,88,yes\nP2,enterprise,12345678901234567890.12,0.925,0,0,\n")
    a, b = run(p)
    assert a == {"pid": "P1", "seg": "digital", "rev": Decimal("0.1"), "rate": Decimal("0.925"),
                 "n": Decimal(3), "score": Decimal(88), "cert": True}
    assert b["rev"] == Decimal("12345678901234567890.12") and b["rate"] == Decimal("0.925")
    assert b["cert"] is False  # default


@pytest.mark.parametrize("line, field, reason", [
    ("P1,digital,,10%,1,5,true", "rev", "missing field `rev`"),
    ("P1,digital,12x,10%,1,5,true", "rev", "'12x' is not a number"),
    ("P1,digital,NaN,10%,1,5,true", "rev", "'NaN' is not a finite number"),
    ("P1,digital,1e999999,10%,1,5,true", "rev", "'1e999999' is too large (at most 34 digits)"),
    ("P1,digital," + "1" * 40 + ",10%,1,5,true", "rev", "is too large"),
    ("P1,digital,-5,10%,1,5,true", "rev", "-5 USD is below the minimum 0 USD"),
    ("P1,digitl,5,10%,1,5,true", "seg", "'digitl' is not a member of seg (did you mean 'digital'?)"),
    ("P1,Enterprise,5,10%,1,5,true", "seg", "(did you mean 'enterprise'?)"),
    ("P1,digital,5,10%,1.5,5,true", "n", "'1.5' is not a whole number (a count)"),
    ("P1,digital,5,10%,-1,5,true", "n", "'-1' is negative"),
    ("P1,digital,5,10%,1,101,true", "score", "101 is above the maximum 100"),
    ("P1,digital,5,10%,1,5,maybe", "cert", "'maybe' is not a bool"),
    ("P1,digital,5,Infinity%,1,5,true", "rate", "not a finite number"),
    ("P1,digital,5,10%,1,5,true,extra", None, "the row has 8 cells but the header has 7"),
])
def test_each_bad_csv_record_is_rejected_with_field_and_reason(tmp_path, line, field, reason):
    p = tmp_path / "r.csv"
    p.write_text(HEADER + line + "\nP9,digital,5,10%,1,5,true\n")
    bad, good = run(p)
    assert isinstance(bad, Reject) and bad.row == 1 and bad.id == "P1"
    assert bad.field == field and reason in bad.reason, bad
    assert good["pid"] == "P9"  # the run goes on


def test_duplicate_ids_are_all_rejected(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(HEADER + "P1,digital,5,10%,1,5,\nP2,digital,5,10%,1,5,\nP1,digital,6,10%,1,5,\n")
    out = run(p)
    assert [type(o).__name__ for o in out] == ["Reject", "dict", "Reject"]
    assert out[0].reason == "duplicate id 'P1': every record with this id is rejected"
    assert out[2].row == 3


def test_empty_files_hold_no_records(tmp_path):
    for name in ("e.csv", "e.json", "e.jsonl"):
        p = tmp_path / name
        p.write_bytes(b"")
        assert run(p) == []


def test_wrong_encoding_rejects_the_record_not_the_run(tmp_path):
    p = tmp_path / "r.csv"
    p.write_bytes(HEADER.encode() + b"P1,digit\xe9l,5,10%,1,5,\nP2,digital,5,10%,1,5,\n")
    bad, good = run(p)
    assert isinstance(bad, Reject) and bad.field == "seg"
    assert "not UTF-8" in bad.reason and good["pid"] == "P2"


def test_bom_and_crlf_are_accepted(tmp_path):
    p = tmp_path / "r.csv"
    p.write_bytes(b"\xef\xbb\xbf" + HEADER.replace("\n", "\r\n").encode() + b"P1,digital,5,10%,1,5,no\r\n")
    (rec,) = run(p)
    assert rec["pid"] == "P1" and rec["cert"] is False


def test_json_array_numbers_never_pass_through_float(tmp_path):
    p = tmp_path / "r.json"
    p.write_text('[{"pid": "P1", "seg": "digital", "rev": 0.1, "rate": "92.5%", "n": 3, "score": 1e1,'
                 ' "cert": true},\n {"pid": "P2", "seg": "digital", "rev": NaN, "rate": 0.1, "n": 1,'
                 ' "score": 5}, 7, {"pid": "P3", "seg": "digital", "rev": 1e999999, "rate": 0, "n": 1, "score": 5}]')
    a, b, c, d = run(p)
    assert a["rev"] == Decimal("0.1") and str(a["rev"]) == "0.1" and a["score"] == 10 and a["cert"] is True
    assert isinstance(b, Reject) and b.reason == "NaN is not a number" and b.field == "rev"
    assert isinstance(c, Reject) and c.row == 3 and "JSON object, not a number" in c.reason
    assert isinstance(d, Reject) and "too large" in d.reason


def test_json_array_streams_across_chunks(tmp_path):
    p = tmp_path / "r.json"
    rows = ",".join(f'{{"pid": "P{i}", "seg": "digital", "rev": {i}.25, "rate": 0.1, "n": 1, "score": 5}}'
                    for i in range(5000))
    p.write_text("[" + rows + "]")
    out = run(p)
    assert len(out) == 5000 and out[4999]["rev"] == Decimal("4999.25")


def test_broken_json_array_rejects_with_reason(tmp_path):
    p = tmp_path / "r.json"
    p.write_text('[{"pid": "P1", "seg": "digital", "rev": 1, "rate": 0.1, "n": 1, "score": 5}, {"pid": ')
    good, bad = run(p)
    assert good["pid"] == "P1"
    assert isinstance(bad, Reject) and bad.row == 2 and bad.reason.startswith("invalid JSON")


def test_json_lines_bad_line_does_not_stop_the_run(tmp_path):
    p = tmp_path / "r.jsonl"
    p.write_text('{"pid": "P1", "seg": "digital", "rev": 1, "rate": 0.1, "n": 1, "score": 5}\n'
                 '{oops\n'
                 '{"pid": "P3", "seg": "digital", "rev": 1, "rate": 0.1, "n": 1, "score": 5}\n')
    a, b, c = run(p)
    assert a["pid"] == "P1" and isinstance(b, Reject) and b.row == 2 and c["pid"] == "P3"


@pytest.mark.parametrize("text", ["sNaN", "-Infinity", "inf", "1e-40", "0." + "1" * 35])
def test_parse_decimal_refuses_what_is_not_exact(text):
    with pytest.raises(BadValue):
        parse_decimal(text)


def test_parse_decimal_keeps_exact_digits():
    assert parse_decimal("1." + "0" * 60) == 1
    assert str(parse_decimal(" 1000.10 ")) == "1000.10"
    assert parse_decimal("1" * 34) == Decimal("1" * 34)


@pytest.mark.parametrize("cell, out", [("=SUM(A1)", "'=SUM(A1)"), ("+1", "'+1"), ("-x", "'-x"),
                                       ("@me", "'@me"), ("P-1", "P-1"), ("", "")])
def test_defuse(cell, out):
    assert defuse(cell) == out


def test_atomic_write_keeps_previous_output_on_failure(tmp_path):
    p = tmp_path / "out.csv"
    write_text(str(p), "old\n")
    with pytest.raises(RuntimeError):
        with atomic_open(str(p)) as h:
            h.write("new, partial")
            raise RuntimeError("interrupted")
    assert p.read_text() == "old\n"
    assert [q.name for q in tmp_path.iterdir()] == ["out.csv"]


def test_json_dumps_keeps_decimal_digits():
    assert dumps({"a": Decimal("0.10"), "b": [Decimal("-0.00"), True, None]}) == '{"a": 0.10, "b": [0.00, true, null]}'


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dsl.run.records import fast_validator  # noqa: E402

_CELLS = st.one_of(
    st.sampled_from(["", " ", "0", "1", "-1", "1.5", "12.345", "1e3", "NaN", "inf", "true", "no", "Yes", "digital",
                     "Digital", "enterprise ", "92.5%", "1" * 40, "0.00000000000000000001", "=1+1", "P 1", " P1"]),
    st.text(max_size=6),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_CELLS, min_size=6, max_size=8))
def test_fast_validator_agrees_with_the_slow_one(cells):
    header = [f.name for f in FIELDS][: len(cells)] if len(cells) <= len(FIELDS) else [f.name for f in FIELDS] + ["x"]
    raw = dict(zip(header, cells))
    slow = Validator(FIELDS, "pid", frozenset({"dup"}))
    assert fast_validator(slow)(3, raw, None) == slow.validate(3, raw, None)
    assert fast_validator(slow, header)(3, cells[: len(header)], None) == slow.validate(3, raw, None)
