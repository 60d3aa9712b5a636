"""The formatter's layout (golden files: messy in → canonical out) and `ipl fmt` itself."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from dsl.front import ast
from dsl.cli import cli
from dsl.front.diagnostics import Diagnostics
from dsl.tools.fmt import format_file, format_text
from dsl.tools.fmt.exprs import _group

from .conftest import GOLDEN

CASES = sorted(p.stem for p in (GOLDEN / "fmt").glob("*.ipl") if not p.stem.endswith(".formatted"))
HEAD = 'policy "P"\n  currency USD\n\n'


def fmt(text: str) -> str:
    diags = Diagnostics()
    out = format_text(text, "t.ipl", diags)
    assert not diags.items, [d.message for d in diags.items]
    assert out is not None
    return out


@pytest.mark.parametrize("case", CASES)
def test_golden_layout(case, golden):
    text = (GOLDEN / "fmt" / f"{case}.ipl").read_text(encoding="utf-8")
    golden(f"fmt/{case}.formatted.ipl", fmt(text))


def test_there_are_golden_cases():
    assert {"policy_messy", "module_long", "tests_messy", "expressions"} <= set(CASES)


@pytest.mark.parametrize("digits, expected", [
    ("0", "0"), ("42", "42"), ("999", "999"), ("1000", "1_000"), ("25000", "25_000"),
    ("1000000", "1_000_000"), ("1234567.891", "1_234_567.891"), ("2.50", "2.50"), ("0.000001", "0.000001"),
])
def test_number_grouping(digits, expected):
    assert _group(digits) == expected


@pytest.mark.parametrize("written, expected", [
    ("1000000", "1_000_000"), ("1_0_0_0", "1_000"), ("2.50", "2.50"), ("2.5", "2.5"), ("007", "007"),
    ("12.50%", "12.50%"), ("1_000.5 USD", "1_000.5 USD"), ("0.000_1", "0.0001"),
])
def test_literals_keep_their_written_digits(written, expected):
    assert fmt(f"policy \"P\" currency USD metric a = {written}") == f"{HEAD}metric a = {expected}\n"


@pytest.mark.parametrize("written, expected", [
    ("(a + b) * c", "(a + b) * c"),
    ("a + (b * c)", "a + b * c"),
    ("a - (b - c)", "a - (b - c)"),
    ("(a - b) - c", "a - b - c"),
    ("a / (b / c)", "a / (b / c)"),
    ("-(a + b)", "-(a + b)"),
    ("- (- a)", "- -a"),
    ("not (a and b)", "not (a and b)"),
    ("(not a) and b", "not a and b"),
    ("(a or b) and c", "(a or b) and c"),
    ("a or (b and c)", "a or b and c"),
    ("(a < b) == c", "(a < b) == c"),
    ("(not a) == b", "(not a) == b"),
    ("(a == b) in (x)", "(a == b) in (x)"),
    ("a otherwise (b otherwise c)", "a otherwise (b otherwise c)"),
    ("(a otherwise b) + c", "(a otherwise b) + c"),
    ("x * (if a then b else c)", "x * (if a then b else c)"),
    ("(if a then b else c) + 1", "(if a then b else c) + 1"),
    ("if (if a then b else c) then d else e", "if if a then b else c then d else e"),
    ("(pool a by b) otherwise c", "(pool a by b) otherwise c"),
    ("pool (a otherwise b) by c", "pool (a otherwise b) by c"),
    ("pool a by (pool b by c) among d", "pool a by (pool b by c) among d"),
    ("rank((pool a by b) among c)", "rank((pool a by b) among c)"),
    ("rank(if x then pool a by b else (pool c by d) among e)", "rank((if x then pool a by b else pool c by d) among e)"),
    ("m.f((a), [1, 2,], )", "m.f(a, [1, 2])"),
])
def test_minimal_parentheses(written, expected):
    assert fmt(f"policy \"P\" currency USD metric a = {written}") == f"{HEAD}metric a = {expected}\n"


def test_strings_are_re_escaped():
    tree = ast.PolicyFile(header=ast.Header(name='a "b" \\ c', currency="USD"),
                          decls=(ast.Metric(name="m", type=None, value=ast.String(value='say "hi" \\o/')),))
    assert format_file(tree) == 'policy "a \\"b\\" \\\\ c"\n  currency USD\n\nmetric m = "say \\"hi\\" \\\\o/"\n'


def test_blank_lines_at_most_one_and_none_at_block_edges():
    text = 'policy "P" currency USD\n\n\n\nmetric a = 1\n\n\n\nmetric b = 2\nmetric c = 3\n' \
           'eligibility {\n\n  require a else "x"\n\n\n  require b else "y"\n\n}\n\n\n'
    assert fmt(text) == (HEAD + "metric a = 1\n\nmetric b = 2\nmetric c = 3\neligibility {\n"
                         '  require a else "x"\n\n  require b else "y"\n}\n')


def test_comments_stay_with_what_they_preceded_and_followed():
    text = ('# file\npolicy "P" currency USD # the currency\n# before a\nmetric a = 1 # after a\n'
            'tiers t on a {\n# first band\nfrom 0 -> 1 # low\n   # end of bands\n}\n')
    assert fmt(text) == ('# file\npolicy "P"\n  currency USD  # the currency\n\n# before a\nmetric a = 1  # after a\n'
                         "tiers t on a {\n  # first band\n  from 0 -> 1  # low\n  # end of bands\n}\n")


def test_trailing_comments_of_a_run_of_lines_line_up():
    text = 'policy "P" currency USD\nmetric a = 1 # one\nmetric bbbbbb = 2 # two\n\nmetric c = 3 # three\n'
    assert fmt(text) == HEAD + "metric a = 1       # one\nmetric bbbbbb = 2  # two\n\nmetric c = 3  # three\n"


def test_crlf_and_bom_give_lf_without_bom():
    assert format_text('\ufeffpolicy "P" currency USD\r\nmetric a = 1\r\n') == HEAD + "metric a = 1\n"


def test_a_tree_without_spans_formats_from_values():
    tree = ast.PolicyFile(header=ast.Header(name="P", currency="USD", period="quarter"), decls=(
        ast.Param(name="rate", type=ast.TypeRef(name="percent"), value=ast.Percent(value=Decimal("0.125"))),
        ast.Input(name="revenue", type=ast.TypeRef(name="money"),
                  range=ast.Range(lo=ast.Money(amount=Decimal(0), currency="USD"), hi=None)),
    ))
    assert format_file(tree) == ('policy "P"\n  currency USD\n  period quarter\n\n'
                                 "param rate : percent = 12.5%\ninput revenue : money in 0 USD..\n")


# ---------------------------------------------------------------- the command


MESSY = 'policy "P" currency USD\nmetric a = 1000000\n'
CLEAN = HEAD + "metric a = 1_000_000\n"


def run(*args: str):
    return CliRunner().invoke(cli, ["fmt", *args], catch_exceptions=False)


def test_fmt_rewrites_in_place_only_what_changes(tmp_path: Path):
    messy, clean = tmp_path / "a.ipl", tmp_path / "b.ipl"
    messy.write_text(MESSY)
    clean.write_text(CLEAN)
    os.utime(clean, (1_000_000, 1_000_000))
    result = run(str(tmp_path))
    assert result.exit_code == 0
    assert messy.read_text() == CLEAN
    assert clean.stat().st_mtime == 1_000_000  # untouched
    assert f"reformatted {messy}" in result.output
    assert "1 file reformatted, 1 unchanged" in result.output
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_fmt_keeps_the_file_mode(tmp_path: Path):
    path = tmp_path / "a.ipl"
    path.write_text(MESSY)
    path.chmod(0o640)
    assert run(str(path)).exit_code == 0
    assert path.stat().st_mode & 0o777 == 0o640


def test_fmt_check_lists_and_exits_1_without_writing(tmp_path: Path):
    path = tmp_path / "a.ipl"
    path.write_text(MESSY)
    result = run("--check", str(path))
    assert result.exit_code == 1
    assert f"would reformat {path}" in result.output
    assert path.read_text() == MESSY
    path.write_text(CLEAN)
    assert run("--check", str(path)).exit_code == 0


def test_fmt_diff_prints_a_unified_diff_and_writes_nothing(tmp_path: Path):
    path = tmp_path / "a.ipl"
    path.write_text(MESSY)
    result = run("--diff", str(path))
    assert result.exit_code == 0
    assert path.read_text() == MESSY
    assert f"--- {path}\n+++ {path} (formatted)\n" in result.output
    assert "-metric a = 1000000\n" in result.output
    assert "+metric a = 1_000_000\n" in result.output
    assert run("--diff", "--check", str(path)).exit_code == 1


def test_fmt_check_flags_crlf_and_bom(tmp_path: Path):
    path = tmp_path / "a.ipl"
    path.write_bytes(b"\xef\xbb\xbf" + CLEAN.replace("\n", "\r\n").encode())
    assert run("--check", str(path)).exit_code == 1
    assert run(str(path)).exit_code == 0
    assert path.read_bytes() == CLEAN.encode()


def test_fmt_reports_a_syntax_error_and_leaves_the_file(tmp_path: Path):
    path = tmp_path / "bad.ipl"
    good = tmp_path / "good.ipl"
    path.write_text('policy "P" currency USD\nmetric a = \n')
    good.write_text(MESSY)
    result = run(str(tmp_path))
    assert result.exit_code == 1
    assert "error[E100]: unexpected end of file" in result.output
    assert f"--> {path}:2:11" in result.output
    assert path.read_text() == 'policy "P" currency USD\nmetric a = \n'
    assert good.read_text() == CLEAN  # the other files are still formatted


def test_fmt_refuses_a_file_with_a_duplicate_header_field(tmp_path: Path):
    path = tmp_path / "a.ipl"
    path.write_text('policy "P" currency USD currency EUR\n')
    result = run(str(path))
    assert result.exit_code == 1
    assert "E201" in result.output
    assert path.read_text() == 'policy "P" currency USD currency EUR\n'


def test_fmt_missing_path_exits_2_with_one_line(tmp_path: Path):
    result = run(str(tmp_path / "nope.ipl"))
    assert result.exit_code == 2
    assert result.output == f"ipl: no such file or folder: {tmp_path / 'nope.ipl'}\n"


def test_fmt_binary_file_is_a_finding_not_a_traceback(tmp_path: Path):
    path = tmp_path / "a.ipl"
    path.write_bytes(b"\x00\x01binary")
    result = run(str(path))
    assert result.exit_code == 1
    assert "NUL byte" in result.output


def test_fmt_through_a_symlink_rewrites_the_target_and_keeps_the_link(tmp_path: Path):
    target = tmp_path / "real.ipl"
    target.write_text(MESSY)
    link = tmp_path / "sub" / "link.ipl"
    link.parent.mkdir()
    link.symlink_to(target)
    assert run(str(link)).exit_code == 0
    assert link.is_symlink()
    assert target.read_text() == CLEAN
