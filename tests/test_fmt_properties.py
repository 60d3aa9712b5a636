"""The formatter's properties (STYLE.md habit 5), over every `.ipl` in the repository,
the spec's examples and generated files:

- `fmt(fmt(s)) == fmt(s)`;
- `parse(fmt(s)) == parse(s)` (trees compare without spans);
- every comment survives: the multiset of comment texts is the same before and after.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings

from dsl.front import ast
from dsl.front.diagnostics import Diagnostics
from dsl.tools.fmt import format_bytes, format_file, format_text
from dsl.front.syntax import parse_text

from .conftest import ROOT, spec_examples
from .strategies import files, messy_files, typed_policies

HEAD = 'policy "P" currency USD\n'


def _repo_files() -> list[str]:
    found = []
    for folder in ("programs", "stdlib", "tests/golden"):
        found += sorted(str(p.relative_to(ROOT)) for p in (ROOT / folder).rglob("*.ipl")
                        if not any(part.startswith(".") for part in p.relative_to(ROOT).parts))
    return found


def _spec_examples() -> list[str]:
    return spec_examples(HEAD)


def _parse(text: str) -> ast.File | None:
    diags = Diagnostics()
    tree = parse_text(text, "t.ipl", diags)
    return None if diags.has_errors else tree


def _comments(tree: ast.File) -> Counter:
    return Counter(c.text.rstrip() for c in tree.comments)


def assert_round_trip(text: str) -> str:
    """The three properties for one text that parses; returns the formatted text."""
    before = _parse(text)
    assert before is not None
    once = format_text(text)
    assert once is not None
    after = _parse(once)
    assert after == before, "formatting changed the tree"
    assert _comments(after) == _comments(before), "a comment was lost or changed"
    assert format_text(once) == once, "formatting is not idempotent"
    return once


@pytest.mark.parametrize("path", _repo_files())
def test_every_repository_file_round_trips(path):
    try:
        text = (ROOT / path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pytest.skip("gone or unreadable since collection (another tool's scratch file)")
    if _parse(text) is None:
        pytest.skip("does not parse (a diagnostics fixture)")
    once = assert_round_trip(text)
    # the bytes as Windows editors save them format the same, to LF without a BOM
    result = format_bytes(path, b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"), Diagnostics())
    assert result.text == once


def test_the_repository_has_files_to_format():
    assert len(_repo_files()) >= 5  # programs/, stdlib/ and the formatter's golden inputs


@pytest.mark.parametrize("index", range(len(_spec_examples())))
def test_every_spec_example_round_trips(index):
    assert_round_trip(_spec_examples()[index])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(messy_files())
def test_generated_messy_files_round_trip(case):
    tree, text, comments = case
    assert _parse(text) == tree  # the strategy's own promise
    once = assert_round_trip(text)
    assert _comments(_parse(once)) == Counter(c.rstrip() for c in comments)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(files())
def test_generated_trees_print_to_text_that_parses_back(tree):
    text = format_file(tree)  # no source: from the values alone
    assert _parse(text) == tree
    assert format_text(text) == text


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(typed_policies())
def test_typed_policies_check_clean_before_and_after_formatting(tree):
    """`typed_policies` promises policies without errors (for differential tests elsewhere)."""
    from dsl.checker.program import check_policy
    from dsl.front.source import SourceFile
    from dsl.front.syntax import parse_source

    text = format_file(tree)
    diags = Diagnostics()
    source = SourceFile("generated.ipl", text)
    parsed = parse_source(source, diags)
    assert parsed == tree
    assert check_policy(source, parsed, diags) is not None, [(d.code, d.message) for d in diags.items]
    assert not diags.has_errors
