"""A record fuzzer (spec §12, §13, §16): bad records files through `ipl run` of the programs.

The programs: `growth` (one period), `renewal_quality` (several quarters with holds,
clawbacks and a recoverable floor: a draw) and `partner_performance` (a pool). Their records
start from a slice of each program's `records.csv` (every record of a few partners).

**The matrix** (`test_record_matrix`): each defect of `DEFECTS` — missing and extra columns,
wrong types, blank and duplicate ids, blank and malformed periods, huge numbers (40 digits,
`1e999999`), digits that are not ASCII (`١٢`, `１２`), `NaN` and `Infinity`, JSON objects and
arrays as values, long cells, control characters, wrong encodings (latin-1, UTF-16), CRLF, a
BOM, unclosed quotes, a truncated JSON array, garbage in the middle, an empty file, a header
only — written as CSV, a JSON array and JSON Lines. The default budget runs each (defect,
format) once, over one program in turn; `IPL_FUZZ=long` runs every program.

**Random files** (`test_random_records_file`): a clean file with one to four random changes,
cell by cell (a value from the matrix's bad values) or byte by byte (a quote, a line break, a
NUL, a byte that is not UTF-8, a cut, a line repeated or dropped).

Every run must: print no traceback and raise nothing; exit 0 or 1 (2 is for an unreadable file
or a usage error: no case here); reconcile — the summary's `read N = paid P + rejected R`, N the
number of records written (or, where a defect makes the count a matter of where a reader
stops, the number stated by the case), the payouts file P rows and the rejects file R rows,
each reject with a reason; and, for a multi-period program, write a ledger that parses.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .harness import LONG, ROOT, SEED, Figures, budget, call_or_hang, judge, reconciled, save_input

RANDOM_FILES = budget(30, 1_500)
PARTNERS = 4  # every record of the first 4 partners of a multi-period program (about 16 records)
SINGLE = 12  # the first 12 records of a one-period program


@dataclass(frozen=True)
class Program:
    name: str
    id: str
    period: str | None
    money: str
    count: str
    enum: str
    number: str
    bool: str | None = None

    @property
    def policy(self) -> Path:
        return ROOT / "programs" / self.name / f"{self.name}.ipl"


PROGRAMS = {
    "growth": Program("growth", "partner_id", None, "joint_revenue", "renewals_due", "segment", "csat", "certified"),
    "renewal_quality": Program("renewal_quality", "partner_id", "quarter", "joint_revenue", "renewals_due",
                               "partner_size", "deployment_score"),
    "partner_performance": Program("partner_performance", "partner_id", "quarter", "bookings", "campaigns_run",
                                   "partner_type", "csat"),
}


def base_rows(program: Program) -> tuple[list[str], list[dict]]:
    text = (ROOT / "programs" / program.name / "records.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    ids: list[str] = []
    for row in rows:
        if row[program.id] not in ids and len(ids) < (PARTNERS if program.period else SINGLE):
            ids.append(row[program.id])
    return list(reader.fieldnames), [row for row in rows if row[program.id] in ids]


# ---------------------------------------------------------------- writing a file


@dataclass(frozen=True)
class Raw:
    """A JSON token written as is (`NaN`, `1e999999`); in CSV, its text."""

    text: str


NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?")


def json_value(value) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, str) and NUMBER.fullmatch(value) and len(value) < 30:
        return value  # the programs' numbers as JSON numbers, exactly as written
    return json.dumps(value, ensure_ascii=False)


def csv_value(value) -> str:
    if isinstance(value, Raw):
        return value.text
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def csv_cell(cell: str) -> str:
    """Quoted when it holds a comma, a quote or a line break, a lone CR included (Python 3.11's
    csv writer leaves a CR unquoted when lines end with LF)."""
    if any(ch in cell for ch in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def json_object(row: dict) -> str:
    return "{" + ", ".join(f"{json.dumps(k)}: {json_value(v)}" for k, v in row.items()) + "}"


def write(fmt: str, columns: list[str], rows: list[dict]) -> str:
    """The text of a records file; `rows` may lack columns (a JSON object without the key)."""
    if fmt == "csv":
        lines = [columns] + [[csv_value(row.get(c, "")) for c in columns] for row in rows]
        return "".join(",".join(csv_cell(c) for c in line) + "\n" for line in lines)
    if fmt == "json":
        return "[\n" + ",\n".join(json_object(r) for r in rows) + "\n]\n"
    if fmt == "jsonl":
        return "".join(json_object(r) + "\n" for r in rows)
    raise AssertionError(fmt)


# ---------------------------------------------------------------- the defects


@dataclass
class Case:
    """A records file and the number of records a reader must count in it (None: only the
    summary's own reconciliation is checked, e.g. a file in another encoding)."""

    data: bytes
    read: int | None
    note: str = ""


@dataclass
class Rows:
    columns: list[str]
    rows: list[dict]
    p: Program
    fmt: str
    rng: random.Random
    extra: dict = field(default_factory=dict)

    def set(self, i: int, column: str, value) -> None:
        self.rows[i % len(self.rows)][column] = value

    def case(self, read: int | None = None) -> Case:
        return Case(write(self.fmt, self.columns, self.rows).encode("utf-8", errors="surrogatepass"),
                    len(self.rows) if read is None else read)


def _values(r: Rows, column: str, values: list) -> Case:
    for i, v in enumerate(values):
        r.set(i, column, v)
    return r.case()


def _drop(r: Rows, column: str) -> Case:
    r.columns.remove(column)
    for row in r.rows:
        row.pop(column, None)
    return r.case()


def _extra_columns(r: Rows) -> Case:
    r.columns += ["notes", "zz"]
    for i, row in enumerate(r.rows):
        row["notes"] = ['a, "quoted" note', "two\nlines", "=1+1", ""][i % 4]
        row["zz"] = str(i)
    return r.case()


def _wrong_types(r: Rows) -> Case:
    p = r.p
    r.set(0, p.money, "abc")
    r.set(1, p.count, "3.5")
    r.set(2, p.enum, "platinium")
    r.set(3, p.number, "4,5")
    if p.bool:
        r.set(4, p.bool, "perhaps")
    r.set(5, p.money, "12 USD")
    r.set(6, p.count, "-1")
    r.set(7, p.money, "-5")
    return r.case()


def _duplicate_ids(r: Rows) -> Case:
    r.rows.insert(1, dict(r.rows[0]))
    r.rows.append(dict(r.rows[-1]))
    r.set(2, r.p.id, " " + r.rows[0][r.p.id] + " ")  # the same id once trimmed
    return r.case()


def _periods(r: Rows, values: list) -> Case:
    column = r.p.period or r.p.money
    return _values(r, column, values)


def _json_scalars(r: Rows) -> Case:
    p = r.p
    r.set(0, p.money, Raw("true"))
    r.set(1, p.id, Raw("12"))
    r.set(2, p.count, Raw("1.5e3"))
    r.set(3, p.enum, Raw("7"))
    r.set(4, p.number, Raw("null"))
    r.set(5, p.money, Raw("-0"))
    r.set(6, p.count, Raw("1E2"))
    if p.period:
        r.set(7, p.period, Raw("2026"))
    return r.case()


def _control(r: Rows) -> Case:
    p = r.p
    # \x1e and \x1f are the separators a multi-period run spills CSV batches with
    r.set(0, p.id, "A\x1fB")
    r.set(1, p.id, "C\x1eD")
    r.set(2, p.enum, "x\x00y")
    r.set(3, p.money, "\x1e")  # white space to str.strip(): a blank value
    r.set(4, p.enum, "a\rb")  # a CR in an id: tests/robustness/test_found.py
    return r.case()


def _encoded(r: Rows, encoding: str) -> Case:
    r.set(0, r.p.enum, "entérprise")
    r.set(1, r.p.id, "P-é")
    text = write(r.fmt, r.columns, r.rows)
    return Case(text.encode(encoding), len(r.rows) if encoding == "latin-1" else None)


def _line_ends(r: Rows, bom: bool, end: str) -> Case:
    text = write(r.fmt, r.columns, r.rows).replace("\n", end)
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    return Case(data, len(r.rows))


def _unclosed_quote(r: Rows, where: str) -> Case:
    """CSV: a quote never closed rejects its row, and reading goes on at the next line; in the
    header, no record can be read. JSON: a string never closed ends the array there."""
    n = len(r.rows)
    k = {"middle": n // 2, "last": n - 1, "header": 0}[where]
    if r.fmt == "csv":
        lines = write("csv", r.columns, r.rows).split("\n")
        at = 0 if where == "header" else k + 1
        head, sep, rest = lines[at].partition(",")
        lines[at] = head + sep + '"' + rest
        return Case("\n".join(lines).encode(), 1 if where == "header" else n)
    if r.fmt == "json":
        text = write("json", r.columns, r.rows)
        start = text.index(json_object(r.rows[k]))
        cut = start + json_object(r.rows[k]).index(": ") + 2
        return Case((text[:cut] + '"never closed, ' + text[cut:]).encode(), k + 1)
    lines = write("jsonl", r.columns, r.rows).split("\n")
    lines[k] = lines[k].replace(": ", ': "never closed, ', 1)
    return Case("\n".join(lines).encode(), n)


def _truncated(r: Rows) -> Case:
    """Cut inside a record: a JSON array counts the records before it and the cut one."""
    n = len(r.rows)
    k = r.rng.randrange(n)
    text = write(r.fmt, r.columns, r.rows)
    if r.fmt == "json":
        obj = json_object(r.rows[k])
        start = text.index(obj)
        return Case(text[:start + r.rng.randrange(1, len(obj))].encode(), k + 1)
    # CSV and JSON Lines: cut inside the last record; it is still a record (rejected)
    last = text.rstrip("\n").rsplit("\n", 1)
    return Case((last[0] + "\n" + last[1][:r.rng.randrange(1, len(last[1]))]).encode(), n)


def _garbage(r: Rows) -> Case:
    n = len(r.rows)
    k = r.rng.randrange(n)
    if r.fmt == "json":
        text = write("json", r.columns, r.rows)
        at = text.index(json_object(r.rows[k]))
        return Case((text[:at] + "oops, " + text[at:]).encode(), k + 1)
    lines = write(r.fmt, r.columns, r.rows).split("\n")
    lines.insert(k + (r.fmt == "csv"), "@@@ not a record {")
    return Case("\n".join(lines).encode(), n + 1)


def _nothing(r: Rows, what: str) -> Case:
    if what == "empty":
        return Case(b"", 0)
    if what == "blank":  # in CSV a line of spaces is the header, one of tabs a record: not counted here
        return Case(b" \n\n\t\n", None if r.fmt == "csv" else 0)
    return Case({"csv": ",".join(r.columns) + "\n", "json": "[]\n", "jsonl": "\n"}[r.fmt].encode(), 0)


def _blank_lines(r: Rows) -> Case:
    text = write(r.fmt, r.columns, r.rows)
    return Case(text.replace("\n", "\n\n").encode(), len(r.rows))


def _nested(r: Rows) -> Case:
    p = r.p
    values = [{"amount": 1000}, [1, 2], {}, [], None, {"a": {"b": [{"c": 1}]}}]
    for i, v in enumerate(values):
        r.set(i, [p.money, p.count, p.enum, p.number, p.money, p.id][i], v)
    return r.case()


def _long_cells(r: Rows) -> Case:
    r.set(0, r.p.money, "1" * 200_000)
    r.set(1, r.p.enum, "x" * 200_000)
    r.set(2, r.p.id, "P" * 100_000)
    return r.case()


DEFECTS = {
    "clean": lambda r: r.case(),
    "missing-column": lambda r: _drop(r, r.p.money),
    "missing-id-column": lambda r: _drop(r, r.p.id),
    "missing-period-column": lambda r: _drop(r, r.p.period or r.p.count),
    "extra-columns": _extra_columns,
    "wrong-types": _wrong_types,
    "blank-ids": lambda r: _values(r, r.p.id, ["", "   ", "\t"]),
    "duplicate-ids": _duplicate_ids,
    "blank-periods": lambda r: _periods(r, ["", " ", "\t"]),
    "bad-periods": lambda r: _periods(r, ["2026-03", "2026-Q5", "0000-Q1", "2026-q1", "Q1-2026", "10000-Q1"]),
    "huge-40-digits": lambda r: _values(r, r.p.money, ["1" * 40, "9" * 40 + ".99", "0." + "0" * 39 + "1"]),
    # 34 digits are read; a value that large cannot be computed to the cent (a reject). Sums over
    # 33 digits in the summary: tests/robustness/test_found.py
    "huge-34-digits": lambda r: _values(r, r.p.money, ["9" * 34, "0." + "0" * 32 + "1", "1" * 34]),
    "huge-exponents": lambda r: _values(r, r.p.money, ["1e999999", "-1e999999", "1e-999999", "1E+999999999999"]),
    "json-huge-exponents": lambda r: _values(r, r.p.money, [Raw("1e999999"), Raw("-1e999999"), Raw("1" * 400)]),
    "non-ascii-digits": lambda r: _values(r, r.p.money, ["١٢", "１２", "²", "Ⅻ", "12\u00a0000"]),
    "nan-infinity": lambda r: _values(r, r.p.number, ["NaN", "Infinity", "-Infinity", "nan", "inf", "sNaN"]),
    "json-nan-infinity": lambda r: _values(r, r.p.money, [Raw("NaN"), Raw("Infinity"), Raw("-Infinity")]),
    "nested-values": _nested,
    "json-scalars": _json_scalars,
    "control-characters": _control,
    "long-cells": _long_cells,
    "latin-1": lambda r: _encoded(r, "latin-1"),
    "utf-16": lambda r: _encoded(r, "utf-16"),
    "crlf": lambda r: _line_ends(r, False, "\r\n"),
    "bom": lambda r: _line_ends(r, True, "\n"),
    "bom-crlf": lambda r: _line_ends(r, True, "\r\n"),
    "cr-only": lambda r: _line_ends(r, False, "\r"),
    "unclosed-quote": lambda r: _unclosed_quote(r, "middle"),
    "unclosed-quote-last": lambda r: _unclosed_quote(r, "last"),
    "unclosed-quote-header": lambda r: _unclosed_quote(r, "header"),
    "truncated": _truncated,
    "garbage-in-the-middle": _garbage,
    "empty": lambda r: _nothing(r, "empty"),
    "blank": lambda r: _nothing(r, "blank"),
    "header-only": lambda r: _nothing(r, "header"),
    "blank-lines": _blank_lines,
}
FORMATS = ("csv", "json", "jsonl")


def build(program: Program, fmt: str, defect: str, seed: str) -> Case:
    columns, rows = base_rows(program)
    r = Rows(list(columns), [dict(row) for row in rows], program, fmt, random.Random(seed))
    return DEFECTS[defect](r)


# ---------------------------------------------------------------- one run


def run_and_reconcile(tmp: Path, program: Program, fmt: str, case: Case, what: str, figures: Figures,
                      explain_id: str | None = None) -> None:
    records = tmp / f"records.{fmt}"
    records.write_bytes(case.data)
    out_fmt = "json" if fmt == "json" else "csv"
    payouts, rejects, ledger = tmp / f"payouts.{out_fmt}", tmp / f"rejects.{out_fmt}", tmp / f"ledger.{out_fmt}"
    args = ["run", program.policy, "--records", records, "-o", payouts, "--rejects", rejects]
    if program.period:
        args += ["--ledger", ledger]
    ran = call_or_hang(what, *args, figures=figures)
    judge(ran, {0, 1}, what, figures)
    read, paid, rejected = reconciled(ran)
    assert read == paid + rejected, f"{what}: read {read} != paid {paid} + rejected {rejected}\n{ran.show()}"
    if case.read is not None:
        assert read == case.read, f"{what}: read {read} records, {case.read} were written\n{ran.show()}"
    paid_rows, reject_rows = table(payouts), table(rejects)
    assert len(paid_rows) == paid, f"{what}: the summary says {paid} paid, the payouts file has {len(paid_rows)}"
    assert len(reject_rows) == rejected, \
        f"{what}: the summary says {rejected} rejected, the rejects file has {len(reject_rows)}"
    assert all(str(r.get("reason") or "").strip() for r in reject_rows), f"{what}: a reject without a reason"
    assert ran.code == (1 if rejected else 0), f"{what}: exit {ran.code} with {rejected} rejected\n{ran.show()}"
    if program.period:
        for row in table(ledger):
            assert row["event"] and row["period"], f"{what}: a ledger row without event or period: {row}"
    if explain_id is not None:
        judge(call_or_hang(what, "explain", program.policy, "--records", records, "--id", explain_id,
                           "--format", "json", figures=figures), {0, 1, 2}, what, figures)


def table(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        rows = json.loads(text)
        assert isinstance(rows, list)
        return rows
    return list(csv.DictReader(io.StringIO(text)))


# ---------------------------------------------------------------- the tests


def matrix() -> list[tuple[str, str, str]]:
    names = list(PROGRAMS)
    cases = []
    for i, defect in enumerate(DEFECTS):
        for j, fmt in enumerate(FORMATS):
            chosen = names if LONG else [names[(i + j) % len(names)]]
            cases += [(name, fmt, defect) for name in chosen]
    return cases


@pytest.mark.parametrize("program, fmt, defect", matrix())
def test_record_matrix(program, fmt, defect, tmp_path, request):
    p = PROGRAMS[program]
    what = f"{defect} records of {program} as {fmt} (IPL_FUZZ_SEED={SEED})"
    case = build(p, fmt, defect, f"{SEED}-{program}-{fmt}-{defect}")
    figures = Figures(f"record-matrix {program} {fmt} {defect}")
    figures.inputs = 1
    try:
        run_and_reconcile(tmp_path, p, fmt, case, what, figures)
    except BaseException:
        print(f"{what}\nkept as {save_input(request, f'records-{program}-{defect}.{fmt}', case.data)}")
        raise
    finally:
        figures.save()


BAD_VALUES = ["", " ", "abc", "1" * 40, "1e999999", "-1e999999", "١٢", "１２", "NaN", "Infinity", "-0", "0x10",
              "1_000", "1,000", "12%", "120%", "-5", "3.5", "true", "yes", "2026-Q5", "2026-03", "\x00", "\x1e",
              "\x1f", '"', "\r\n", "é", "\ufeff", "=cmd|' /C calc'!A0", Raw("NaN"), Raw("1e999999"), {"a": 1},
              [1, [2]], None]


def random_case(index: int) -> tuple[Program, str, Case, list[str]]:
    rng = random.Random(f"ipl-record-fuzz-{SEED}-{index}")
    program = PROGRAMS[rng.choice(list(PROGRAMS))]
    fmt = rng.choice(FORMATS)
    columns, rows = base_rows(program)
    rows = [dict(r) for r in rows]
    ops: list[str] = []
    for _ in range(rng.randint(1, 3)):
        i, column = rng.randrange(len(rows)), rng.choice(columns)
        rows[i][column] = rng.choice(BAD_VALUES)
        ops.append(f"cell {i} {column}")
    data = write(fmt, columns, rows).encode("utf-8", errors="surrogatepass")
    read: int | None = len(rows)
    if rng.random() < 0.5:
        read = None  # after a change to the bytes, only the summary's own reconciliation is checked
        for _ in range(rng.randint(1, 2)):
            at = rng.randrange(len(data) + 1)
            op = rng.choice(["quote", "newline", "nul", "not-utf8", "cut", "repeat-line", "drop-line", "brace",
                             "comma", "bom"])
            ops.append(f"{op}@{at}")
            match op:
                case "quote" | "newline" | "nul" | "not-utf8" | "brace" | "comma":
                    extra = {"quote": b'"', "newline": b"\n", "nul": b"\x00", "not-utf8": rng.choice(
                        [b"\xff", b"\xc3(", b"\xed\xa0\x80"]), "brace": rng.choice([b"{", b"}", b"[", b"]"]),
                        "comma": b","}[op]
                    data = data[:at] + extra + data[at:]
                case "cut":
                    data = data[:at]
                case "repeat-line" | "drop-line":
                    lines = data.split(b"\n")
                    k = rng.randrange(len(lines))
                    lines[k:k + 1] = [lines[k]] * (2 if op == "repeat-line" else 0)
                    data = b"\n".join(lines)
                case "bom":
                    data = b"\xef\xbb\xbf" + data
    return program, fmt, Case(data, read), ops


@pytest.mark.parametrize("index", range(RANDOM_FILES))
def test_random_records_file(index, tmp_path, request):
    program, fmt, case, ops = random_case(index)
    what = f"random records file {index} (IPL_FUZZ_SEED={SEED}) of {program.name} as {fmt}: {', '.join(ops)}"
    figures = Figures(f"record-fuzz {index}")
    figures.inputs = 1
    first = base_rows(program)[1][0][program.id]
    try:
        run_and_reconcile(tmp_path, program, fmt, case, what, figures, explain_id=first if index % 4 == 0 else None)
    except BaseException:
        print(f"{what}\nkept as {save_input(request, f'records-random-{SEED}-{index}.{fmt}', case.data)}")
        raise
    finally:
        figures.save()


def test_the_matrix_covers_every_defect_format_and_program():
    cases = matrix()
    assert {d for _, _, d in cases} == set(DEFECTS)
    assert {(d, f) for _, f, d in cases} == {(d, f) for d in DEFECTS for f in FORMATS}
    assert {p for p, _, _ in cases} == set(PROGRAMS)


@pytest.mark.parametrize("name", ["a-folder.csv", "missing.csv", "records.txt", "records"])
def test_a_records_file_that_cannot_be_read_exits_2_with_one_line(tmp_path, name):
    """What exit 2 is for (§12): no records file to read, or one whose format is not known."""
    (tmp_path / "a-folder.csv").mkdir()
    for other in ("records.txt", "records"):
        (tmp_path / other).write_text(write("csv", *base_rows(PROGRAMS["growth"])))
    figures = Figures(f"record-fuzz unreadable {name}")
    for program in PROGRAMS.values():
        ran = call_or_hang(name, "run", program.policy, "--records", tmp_path / name, "-o", tmp_path / "o.csv",
                           figures=figures)
        judge(ran, {2}, f"{program.name} over {name}", figures)
        assert len(ran.stderr.strip().splitlines()) == 1, ran.show()
        assert not (tmp_path / "o.csv").exists()


def test_a_long_bad_value_costs_memory_in_proportion(tmp_path):
    """A 2 MB value that is not a member of an enum gets no "did you mean" (no member is close
    to it) and is not kept: the run's Python allocations peak at a few MB. The suggestion used
    to index every character of the value first: 80 MB here, 2 GB and 13 s for 50 MB
    (benchmarks/limits.py)."""
    import tracemalloc

    columns, rows = base_rows(PROGRAMS["growth"])
    path = tmp_path / "r.jsonl"
    path.write_text(write("jsonl", columns, [{**rows[0], "segment": "e" * 2_000_000}, *rows[1:3]]))
    args = ["run", PROGRAMS["growth"].policy, "--records", path, "-o", tmp_path / "o.csv",
            "--rejects", tmp_path / "rejects.csv"]
    judge(call_or_hang("warm-up", *args), {1}, "warm-up")  # the policy compiled once, untraced
    tracemalloc.start()
    try:
        ran = call_or_hang("a 2 MB value", *args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    judge(ran, {1}, "a 2 MB value")
    assert reconciled(ran) == (3, 2, 1)
    assert peak < 30_000_000, f"{peak:,} bytes at the peak"
    (reject,) = table(tmp_path / "rejects.csv")
    assert reject["reason"].endswith("...' is not a member of segment (expected one of enterprise, midmarket, digital)")
