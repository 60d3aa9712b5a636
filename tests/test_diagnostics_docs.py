"""docs/diagnostics.md: every code of §11 has a section whose bad example reports that code
and whose fixed example checks without errors (and without that code)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dsl.front.diagnostics import CODES, Diagnostics
from dsl.checker.driver import check_file

from .conftest import ROOT

DOC = ROOT / "docs" / "diagnostics.md"


def sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^## ([EW]\d{3})\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def block_after(section: str, label: str) -> str:
    m = re.search(rf"^{label}:\n\n```ipl\n(.*?)```", section, re.S | re.M)
    assert m, f"no {label} example"
    return m.group(1)


def codes_of(path: Path) -> list[str]:
    diags = Diagnostics()
    check_file(path, diags)
    return [d.code for d in diags.sorted()]


def test_every_code_is_documented():
    assert sorted(sections()) == sorted(CODES)


@pytest.mark.parametrize("code", sorted(CODES))
def test_bad_and_fixed_examples(code, tmp_path):
    section = sections()[code]
    if code == "E700":  # the test file's policy is the first block of the section
        policy = re.search(r"```ipl\n(.*?)```", section, re.S).group(1)
        (tmp_path / "policy.ipl").write_text(policy)
    bad, fixed = tmp_path / "bad.ipl", tmp_path / "fixed.ipl"
    bad.write_text(block_after(section, "Bad"))
    fixed.write_text(block_after(section, "Fixed"))
    assert code in codes_of(bad)
    found = codes_of(fixed)
    assert code not in found and not [c for c in found if c.startswith("E")], found
