"""Golden diagnostics: one small bad file per code of spec §11, and the three renderers.

tests/golden/diagnostics/<CODE>.ipl is the input (E700: a test file, with its policy in
E700/); <CODE>.txt is the exact text `ipl check` prints. `pytest --update-golden`
rewrites the .txt files: review the diff like code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dsl.cli import cli
from dsl.front.diagnostics import CODES, Diagnostics, render_text
from dsl.checker.driver import check_file
from dsl.front.source import SourceFile

from .conftest import GOLDEN, ROOT

CASES = GOLDEN / "diagnostics"


def run_check(relative: str) -> list:
    diags = Diagnostics()
    check_file(Path(relative), diags)
    return diags.sorted()


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_has_a_golden_case(code, golden, monkeypatch):
    monkeypatch.chdir(ROOT)
    relative = f"tests/golden/diagnostics/{code}.ipl"
    assert (ROOT / relative).is_file(), f"write {relative}: a small policy that shows {code}"
    found = run_check(relative)
    assert code in {d.code for d in found}, [f"{d.code}: {d.message}" for d in found]
    golden(f"diagnostics/{code}.txt", "\n\n".join(render_text(d) for d in found) + "\n")


def test_the_spec_example_of_e301(monkeypatch):
    monkeypatch.chdir(ROOT)
    [d] = run_check("tests/golden/diagnostics/E301.ipl")
    assert render_text(d) == "\n".join([
        "error[E301]: cannot compare money with number",
        " --> tests/golden/diagnostics/E301.ipl:5:21",
        "  |",
        '5 |   require revenue > 1000 else "Too small"',
        "  |                     ^^^^ this is a number",
        "  = help: compare money with money: write `1_000 USD`",
    ])


def test_the_spec_example_of_e401(monkeypatch):
    monkeypatch.chdir(ROOT)
    [d] = run_check("tests/golden/diagnostics/E401.ipl")
    assert d.message == ("growth can be as low as -100 % but the first band starts at 0 %; "
                         "add `below 0% -> ...`")


def test_cli_json_format(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["check", "--format", "json", "tests/golden/diagnostics/E301.ipl"])
    assert result.exit_code == 1
    assert json.loads(result.output) == [{
        "code": "E301", "severity": "error", "message": "cannot compare money with number",
        "file": "tests/golden/diagnostics/E301.ipl", "line": 5, "column": 21, "end_line": 5,
        "end_column": 25, "help": "compare money with money: write `1_000 USD`",
    }]


def test_cli_github_format(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["check", "--format", "github", "tests/golden/diagnostics/W102.ipl"])
    assert result.exit_code == 0  # warnings only
    assert result.output.splitlines() == [
        "::warning file=tests/golden/diagnostics/W102.ipl,line=6,col=11,endLine=6,endColumn=20,"
        "title=W102::`csat >= 0` is always true: csat is between 1 and 5 (help: remove the condition, "
        "or check the thresholds and the input ranges)"
    ]


def test_cli_exit_codes(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    assert runner.invoke(cli, ["check", "programs", "stdlib"]).exit_code == 0
    assert runner.invoke(cli, ["check", "tests/golden/diagnostics/E200.ipl"]).exit_code == 1
    missing = runner.invoke(cli, ["check", str(tmp_path / "nope.ipl")])
    assert missing.exit_code == 2
    assert missing.output.strip() == f"ipl: no such file or folder: {tmp_path / 'nope.ipl'}"
    assert "Traceback" not in missing.output


def test_a_very_long_line_is_clipped_around_the_caret():
    text = 'policy "P" currency USD input partner_id : id ' + " " * 10_000 + "component c = x\n"
    source = SourceFile("long.ipl", text)
    start = text.index("= x") + 2
    from dsl.front.diagnostics import Diagnostic

    out = render_text(Diagnostic("E200", "unknown name `x`", source.span(start, start + 1)))
    lines = out.splitlines()
    assert all(len(line) < 200 for line in lines)
    shown, caret = lines[3], lines[4]
    assert shown.startswith("1 | ...") and shown.endswith("component c = x")
    assert caret.index("^") == shown.index("= x") + 2
