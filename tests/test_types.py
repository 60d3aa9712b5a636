"""The §4.1 operator table, walked as data: one test per (operator, left, right).

Every allowed pair must check and give the table's type; every other numeric pair must be
an E301 (unit confusion) — through the real checker, on a one-line policy.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from dsl.checker import types
from dsl.checker.program import check_policy
from dsl.front.diagnostics import Diagnostics
from dsl.front.source import SourceFile
from dsl.front.syntax import parse_source
from dsl.checker.currency import MINOR_UNITS, minor_units
from dsl.checker.types import ARITHMETIC, Kind, Type, assignable, unify, unit_hint

M, P, N, C = Kind.MONEY, Kind.PERCENT, Kind.NUMBER, Kind.COUNT
NAMES = {M: "m", P: "p", N: "n", C: "c"}
HEAD = """policy "T" currency USD
input partner_id : id
input m : money
input p : percent
input n : number
input c : count
"""
USE_ALL = "benefit uses = m * p + m * n + m * c\n"


def check(body: str):
    diags = Diagnostics()
    source = SourceFile("t.ipl", HEAD + body + USE_ALL)
    file = parse_source(source, diags)
    assert file is not None, [d.message for d in diags.items]
    checked = check_policy(source, file, diags, path=Path("t.ipl"))
    return checked, [d for d in diags.sorted() if d.severity.value == "error"]


# Rows exactly as the spec's table writes them (kept separate from types.ARITHMETIC on purpose:
# the test compares the data in types.py against the spec's text).
SPEC_ROWS = {
    "M + M": M, "M - M": M, "P + P": P, "P - P": P,
    "N + N": N, "N - N": N, "N + C": N, "N - C": N, "C + N": N, "C - N": N,
    "C + C": C, "C - C": N,
    "M * P": M, "P * M": M, "M * N": M, "N * M": M, "M * C": M, "C * M": M,
    "P * P": P, "P * N": P, "N * P": P, "P * C": P, "C * P": P,
    "N * N": N, "N * C": N, "C * N": N, "C * C": C,
    "M / M": P, "P / P": P, "C / C": P,
    "N / N": N, "N / C": N, "C / N": N,
    "M / N": M, "M / C": M, "P / N": P, "P / C": P,
}
LETTER = {"M": M, "P": P, "N": N, "C": C}


def test_the_table_in_types_is_the_spec_table():
    from_spec = {(row[2], LETTER[row[0]], LETTER[row[4]]): kind for row, kind in SPEC_ROWS.items()}
    assert ARITHMETIC == from_spec


ALL_PAIRS = [(op, a, b) for op in "+-*/" for a, b in itertools.product((M, P, N, C), repeat=2)]


@pytest.mark.parametrize("op, left, right", ALL_PAIRS,
                         ids=[f"{a.value}{op}{b.value}" for op, a, b in ALL_PAIRS])
def test_every_numeric_pair(op, left, right):
    checked, errors = check(f"metric x = {NAMES[left]} {op} {NAMES[right]}\nbenefit y = x\n")
    expected = ARITHMETIC.get((op, left, right))
    if expected is None:
        assert [e.code for e in errors] == ["E301"], [e.message for e in errors]
        assert checked is None
    else:
        assert errors == []
        assert checked.definitions["x"].type == Type(expected)


@pytest.mark.parametrize("kind, result", [(M, M), (P, P), (N, N), (C, N)])
def test_negation(kind, result):
    checked, errors = check(f"metric x = -{NAMES[kind]}\nbenefit y = x\n")
    assert errors == [] and checked.definitions["x"].type == Type(result)


@pytest.mark.parametrize("left, right", list(itertools.product((M, P, N, C), repeat=2)))
def test_comparisons(left, right):
    checked, errors = check(f"metric x = {NAMES[left]} < {NAMES[right]}\nbenefit y = x\n")
    if left == right or {left, right} <= {N, C}:
        assert errors == [] and checked.definitions["x"].type == types.BOOL
    else:
        assert [e.code for e in errors] == ["E301"]


@pytest.mark.parametrize("expr, message, hint", [
    ("m > 1000", "cannot compare money with number", "compare money with money: write `1_000 USD`"),
    ("m + 10%", "cannot add percent to money", "did you mean `m * (100% + 10%)`?"),
    ("m - 10%", "cannot subtract percent from money", "did you mean `m * (100% - 10%)`?"),
    ("p < 0.5", "cannot compare percent with number", "compare percent with percent: write `50%`"),
    ("m * m", "cannot multiply money by money",
     "money times money has no meaning: multiply money by a percent or a number"),
    ("n / m", "cannot divide number by money", "only money divides by money (giving a percent ratio)"),
    ("p + 1", "cannot add number to percent", "add percent to percent: write `p + 100%`"),
])
def test_unit_confusion_messages_name_the_fix(expr, message, hint):
    _, errors = check(f"metric x = {expr}\nbenefit y = x\n")
    assert [(e.code, e.message, e.help) for e in errors] == [("E301", message, hint)]


def test_unit_hint_is_none_for_a_sound_pair():
    assert unit_hint("+", M, M, "a", "b", "USD") is None


def test_unify_and_assignable():
    assert unify(types.NUMBER, types.COUNT) == types.NUMBER
    assert unify(types.MONEY, types.PERCENT) is None
    assert unify(types.ERROR, types.MONEY) == types.MONEY
    from decimal import Decimal

    assert assignable(types.COUNT, types.NUMBER)
    assert assignable(types.NUMBER, types.COUNT, Decimal(3))
    assert not assignable(types.NUMBER, types.COUNT, Decimal("2.5"))
    assert not assignable(types.NUMBER, types.COUNT, Decimal(-1))
    assert not assignable(types.NUMBER, types.COUNT)
    assert not assignable(types.PERCENT, types.MONEY)


@pytest.mark.parametrize("code, digits", [("USD", 2), ("EUR", 2), ("GBP", 2), ("CHF", 2), ("CAD", 2),
                                          ("AUD", 2), ("JPY", 0), ("KRW", 0), ("BHD", 3), ("KWD", 3),
                                          ("OMR", 3), (None, 2)])
def test_minor_units(code, digits):
    assert minor_units(code) == digits
    assert all(v in (0, 2, 3, 4) for v in MINOR_UNITS.values())


def test_one_table_of_minor_units_serves_every_module():
    """An issue-12 defect: two tables disagreed (`ipl diff` showed BIF with 2 decimals and
    rounded CLF to 2 of its 4). dsl/checker/currency.py is the one table."""
    from dsl.checker import currency

    assert [currency.minor_units(c) for c in ("USD", "EUR", "JPY", "BIF", "KWD", "CLF", "UYW")] == [2, 2, 0, 0, 3, 4, 4]
    assert currency.minor_units("XYZ") == 2 and not currency.is_known("XYZ") and currency.is_known("GBP")
    for path in (Path(__file__).resolve().parent.parent / "dsl").rglob("*.py"):
        if path.name != "currency.py":
            assert "MINOR_UNITS" not in path.read_text(encoding="utf-8") and \
                "def minor_units" not in path.read_text(encoding="utf-8"), path
