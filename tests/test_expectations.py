"""Checker fixtures with inline expectations (STYLE.md §12; starlark-go's `###`, jlox's `// expect:`).

Every `.ipl` file under tests/check/ (a folder per part of the checker: names, types, tables,
scorecards, ranges, and the v0.2 rules at the top) is parsed and checked as `ipl check` would. A line that
ends in `# expect: CODE "TEXT"` (several separated by `;`) must get a diagnostic with that code
whose message contains TEXT, starting on that line; every other diagnostic — a warning too —
fails the test. A file without expectations must check clean.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dsl.front.diagnostics import Diagnostics
from dsl.checker.driver import check_file

FOLDER = Path(__file__).resolve().parent / "check"
EXPECT = re.compile(r'#\s*expect:\s*(.*)$')
ONE = re.compile(r'([EW]\d{3})\s+"((?:[^"\\]|\\.)*)"')


def expectations(text: str) -> list[tuple[int, str, str]]:
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        m = EXPECT.search(line)
        if m is None:
            continue
        found = ONE.findall(m.group(1))
        assert found, f"line {number}: an `# expect:` needs CODE \"TEXT\""
        out += [(number, code, message.replace('\\"', '"')) for code, message in found]
    return out


FILES = sorted(FOLDER.rglob("*.ipl"))


def test_there_are_fixtures():
    assert len(FILES) >= 70


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(FOLDER)))
def test_inline_expectations(path: Path):
    diags = Diagnostics()
    check_file(path, diags)
    got = [(d.span.line, d.code, d.message) for d in diags.sorted() if d.span.path == str(path)]
    elsewhere = [d for d in diags.sorted() if d.span.path != str(path)]
    assert not elsewhere, [f"{d.span}: {d.code} {d.message}" for d in elsewhere]
    wanted = expectations(path.read_text(encoding="utf-8"))
    missing = [(line, code, text) for line, code, text in wanted
               if not any(g[0] == line and g[1] == code and text in g[2] for g in got)]
    unexpected = [g for g in got
                  if not any(g[0] == line and g[1] == code and text in g[2] for line, code, text in wanted)]
    assert not missing and not unexpected, {"missing": missing, "unexpected": unexpected}
