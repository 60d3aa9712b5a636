"""Pass 2 of a program-wide policy from pass 1's values (`evaluate_pw`, dsl/backends/python/record.py) gives
the same rows as evaluating every record again (`evaluate`), on the checked-in programs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dsl.run.policy import compile_file
from dsl.run.runner import run

ROOT = Path(__file__).resolve().parent.parent


def _rows(compiled, records: Path) -> list[tuple]:
    rows = []
    summary = run(compiled, str(records), rows.append, rows.append)
    assert summary.reconciled
    return [tuple(r) for r in rows]


@pytest.mark.parametrize("name", ["recurring_mix", "partner_performance"])
def test_pass2_from_pass1_values_gives_the_same_rows(name):
    folder = ROOT / "programs" / name
    compiled = compile_file(str(folder / f"{name}.ipl"))
    assert compiled.multi.evaluate_pw is not None  # a program-wide policy: the fast pass 2 is used
    assert "def evaluate_pw(r, H, PW, K):" in compiled.source
    fast = _rows(compiled, folder / "records.csv")
    compiled.multi = dataclasses.replace(compiled.multi, evaluate_pw=None)
    again = _rows(compiled, folder / "records.csv")
    assert len(fast) == len(again) > 800
    assert fast == again


def test_pass1_hands_on_eligibility_and_what_it_computed():
    folder = ROOT / "programs" / "recurring_mix"
    compiled = compile_file(str(folder / "recurring_mix.ipl"))
    src = compiled.source
    pass2 = src[src.index("def evaluate_pw"):]
    # eligibility is not evaluated again: pass 2 unpacks it from K
    assert "reasons = []" not in pass2
    assert "reasons, eligible = K" in pass2
