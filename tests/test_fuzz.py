"""`ipl check` never raises: random text, mutated policies, and the hostile inputs of §16.

Mutations start from every .ipl file of the repository and the spec's examples: delete,
duplicate or swap tokens, replace one with another token of the corpus, insert random
characters. Whatever comes out must give a result or diagnostics that render — never an
exception (a traceback would be the CLI's crash).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.tools import fmt
from dsl.cli import cli
from dsl.front.diagnostics import Diagnostics, render_github, render_json, render_text
from dsl.checker.driver import Loaded, check_loaded
from dsl.front.syntax import parse_bytes

from . import strategies
from .conftest import ROOT, spec_examples

TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|\d[\d_]*(?:\.\d+)?%?|\.\.|->|[<>=!]=|\s+|.', re.S)


def corpus() -> list[tuple[Path, str]]:
    files = sorted(p for p in ROOT.rglob("*.ipl") if ".venv" not in p.parts)
    out = [(p, p.read_text(encoding="utf-8", errors="replace")) for p in files]
    head = 'policy "P" currency USD\ninput partner_id : id\n'
    for text in spec_examples(head):
        out.append((ROOT / "programs" / "growth" / "spec_example.ipl", text))
    return out


CORPUS = corpus()
TOKENS = sorted({t for _, text in CORPUS for t in TOKEN.findall(text) if not t.isspace()})


def check_text(path: Path, text: str | bytes) -> None:
    """Parse and check as `ipl check` would, then render every diagnostic three ways."""
    diags = Diagnostics()
    data = text.encode("utf-8", errors="surrogatepass") if isinstance(text, str) else text
    source, file = parse_bytes(str(path), data, diags)
    check_loaded(Loaded(str(path), source, file), diags)
    found = diags.sorted()
    for d in found:
        assert d.span.line >= 1 and d.span.column >= 1
        render_text(d)
        render_github(d)
    render_json(found)


@st.composite
def mutated(draw):
    path, text = draw(st.sampled_from(CORPUS))
    tokens = TOKEN.findall(text)
    for _ in range(draw(st.integers(1, 4))):
        if not tokens:
            break
        i = draw(st.integers(0, len(tokens) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "replace", "insert"]))
        if op == "delete":
            del tokens[i]
        elif op == "duplicate":
            tokens.insert(i, tokens[i])
        elif op == "swap":
            j = draw(st.integers(0, len(tokens) - 1))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif op == "replace":
            tokens[i] = draw(st.sampled_from(TOKENS))
        else:
            tokens.insert(i, draw(st.text(min_size=1, max_size=3)))
    return path, "".join(tokens)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_policies_never_raise(case):
    path, text = case
    check_text(path, text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_random_text_never_raises(text):
    check_text(ROOT / "x.ipl", text)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_raise(data):
    check_text(ROOT / "x.ipl", data)


HEAD = 'policy "P" currency USD\ninput partner_id : id\ninput revenue : money in 0 USD..\n'


@pytest.mark.parametrize("name, data, code", [
    ("parens", (HEAD + "component c = " + "(" * 5000 + "revenue" + ")" * 5000 + "\n").encode(), 1),
    ("digits", (HEAD + "component c = revenue * " + "9" * 1000 + "\n").encode(), 1),
    ("empty", b"", 1),
    ("blank", b"   \n\n", 1),
    ("binary", bytes(range(256)) * 4, 1),
    ("latin1", (HEAD + "# caf\xe9\n").encode("latin-1"), 1),
    ("bom_crlf", b"\xef\xbb\xbf" + (HEAD + "component c = revenue * 10%\n").replace("\n", "\r\n").encode(), 0),
    ("cr_only", (HEAD + "component c = revenue * 10%\n").replace("\n", "\r").encode(), 0),
    ("huge_exponent", (HEAD + "component c = revenue * 1e999999\n").encode(), 1),
    ("nan", (HEAD + "component c = revenue * NaN\n").encode(), 1),
    ("long_line", (HEAD + "component c = revenue" + " + revenue" * 90 + "\n").encode(), 0),
    # 3,000 metrics, each reading the next one declared: the passes must not recurse along it
    ("chain", (HEAD + "".join(f"metric r{i} = r{i - 1} + 1 USD\n" for i in range(3000, 0, -1))
               + "metric r0 = revenue\ncomponent c = r3000\n").encode(), 0),
    ("chain_and_cycle", (HEAD + "metric x = y\nmetric y = x\n"
                         + "".join(f"metric r{i} = r{i - 1} + x\n" for i in range(3000, 0, -1))
                         + "metric r0 = revenue\ncomponent c = r3000\n").encode(), 1),
])
def test_hostile_files_get_a_diagnostic_or_check(tmp_path, name, data, code):
    path = tmp_path / f"{name}.ipl"
    path.write_bytes(data)
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit) or result.exception is None, result.exception
    assert result.exit_code == code, result.output
    if code == 1:
        assert "error[E" in result.output


def test_a_folder_with_every_kind_of_file(tmp_path):
    (tmp_path / "p.ipl").write_text(HEAD + "component c = revenue * 10%\n")
    (tmp_path / "m.ipl").write_text("module m\nparam k : percent = 5%\n")
    (tmp_path / "t.ipl").write_text('tests for "p.ipl"\ntest "x" { given { partner_id = "a" revenue = 1 USD }\n'
                                    "  expect c = 0.1 USD }\n")
    result = CliRunner().invoke(cli, ["check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "checked 3 files: 0 errors, 0 warnings"


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_generated_valid_files_never_raise(data):
    """Syntactically valid files of every kind (tests/strategies.py, printed by dsl/tools/fmt/),
    untyped: the checker meets every construct of the grammar in odd combinations."""
    text = fmt.format_file(data.draw(strategies.files()))
    check_text(ROOT / "programs" / "growth" / "generated.ipl", text)
