"""Parsing: the spec's own examples, AST shape, and E100 for broken text."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dsl.front import ast
from dsl.front.diagnostics import Diagnostics
from dsl.front.syntax import MAX_DEPTH, RESERVED, keywords, parse_bytes, parse_text

from .conftest import NOT_YET_IMPLEMENTED, spec_blocks, spec_examples


def parse_ok(text: str) -> ast.File:
    diags = Diagnostics()
    tree = parse_text(text, "t.ipl", diags)
    assert not diags.items, [d.message for d in diags.items]
    assert tree is not None
    return tree


def parse_err(text: str) -> list[str]:
    diags = Diagnostics()
    tree = parse_text(text, "t.ipl", diags)
    assert tree is None
    return [f"{d.code}: {d.message}" for d in diags.sorted()]


HEAD = 'policy "P" currency USD\n'


def test_every_spec_example_parses():
    examples = spec_examples(HEAD)
    assert len(examples) >= 9
    for text in examples:
        parse_ok(text)


def test_the_examples_left_out_are_real_sections():
    headings = {h for h, _ in spec_blocks()}
    assert NOT_YET_IMPLEMENTED <= headings


def test_literals():
    f = parse_ok(HEAD + "metric a = 1_000.50 USD\nmetric b = 12.5%\nmetric c = -5%\nmetric d = 3")
    values = [d.value for d in f.decls]
    assert values[0] == ast.Money(amount=Decimal("1000.50"), currency="USD")
    assert values[1] == ast.Percent(value=Decimal("0.125"))
    assert values[2] == ast.Unary(op="-", operand=ast.Percent(value=Decimal("0.05")))
    assert values[3] == ast.Number(value=Decimal(3))


def test_precedence_and_left_association():
    f = parse_ok(HEAD + "metric a = x - y - z * w otherwise 0")
    x, y, z, w = (ast.Name(name=n) for n in "xyzw")
    expected = ast.Otherwise(
        expr=ast.Binary(op="-", left=ast.Binary(op="-", left=x, right=y),
                        right=ast.Binary(op="*", left=z, right=w)),
        fallback=ast.Number(value=Decimal(0)),
    )
    assert f.decls[0].value == expected


def test_spans_are_ignored_by_equality_but_present():
    a = parse_ok(HEAD + "metric a = x + 1")
    b = parse_ok(HEAD + "\n\n   metric   a =   x+1")
    assert a.decls == b.decls
    assert b.decls[0].value.span.line == 4
    assert b.decls[0].name_span.column == 13


def test_component_modifiers_in_source_order():
    f = parse_ok(HEAD + 'component c = x require y else "R" floor 1 USD cap 5 USD cap x * 2 '
                 "hold 25% until ok within 2 periods")
    kinds = [type(m).__name__ for m in f.decls[0].modifiers]
    assert kinds == ["Require", "Floor", "Cap", "Cap", "Hold"]


def test_comments_are_collected():
    f = parse_ok(HEAD + "# one\nmetric a = 1  # two\n")
    assert [c.text for c in f.comments] == ["# one", "# two"]


def test_crlf_and_bom_parse_like_lf():
    diags = Diagnostics()
    _, lf = parse_bytes("a.ipl", (HEAD + "metric a = 1\n").encode(), diags)
    _, crlf = parse_bytes("b.ipl", b"\xef\xbb\xbf" + (HEAD + "metric a = 1\n").replace("\n", "\r\n").encode(), diags)
    assert not diags.items
    assert lf == crlf


@pytest.mark.parametrize("text, expected", [
    ("", "E100: the file is empty: expected `policy`, `module` or `tests for`"),
    (HEAD + "metric if = 1", "E100: `if` is a reserved word and cannot be used as a name"),
    (HEAD + "input total : money", "E100: `total` is a reserved word and cannot be used as a name"),
    (HEAD + "metric x = rank(1, 2)", "E303: `rank` takes one value, got 2"),
    (HEAD + "metric x = min(1 among 2)", "E100: `among` belongs to `rank(...)` and `percentile(...)`, not to `min`"),
    (HEAD + "metric a = Revenue", "E100: unexpected `Revenue`: names are lower case (snake_case)"),
    (HEAD + 'metric a = "\\n"', "E100: unknown escape `\\n` in a string (only `\\\"` and `\\\\` are allowed)"),
    ('policy "P" period weekly', "E100: unknown period `weekly`: expected `month`, `quarter`, `half` or `year`"),
    ('policy "P" rounding nearest', "E100: unknown rounding mode `nearest`: expected `half_even`, `half_up`, `down` or `up`"),
    (HEAD + "metric a = " + "1" * 1000, "E100: number literal has 1000 significant digits; IPL computes with 34"),
    (HEAD + "metric a = " + "(" * 5000 + "1" + ")" * 5000, f"E100: expression nested more than {MAX_DEPTH} levels deep"),
    (HEAD + "metric a = " + " + ".join(["x"] * 500), f"E100: expression nested more than {MAX_DEPTH} levels deep"),
])
def test_syntax_errors(text, expected):
    assert parse_err(text) == [expected]


def test_duplicate_header_field_is_e201():
    diags = Diagnostics()
    parse_text('policy "P" currency USD currency EUR', "t.ipl", diags)
    assert [(d.code, d.message) for d in diags.items] == [("E201", "the header gives `currency` twice")]


def test_binary_and_non_utf8_files():
    diags = Diagnostics()
    _, tree = parse_bytes("x.ipl", b"\x00\x01\x02binary", diags)
    assert tree is None
    assert diags.items[0].message == "the file holds a NUL byte: it looks like a binary file, not IPL text"
    diags = Diagnostics()
    _, tree = parse_bytes("x.ipl", HEAD.encode() + b"metric a = \xff", diags)
    assert diags.items[0].message == "the file is not UTF-8 text (byte 0xff at byte offset 35)"
    assert diags.items[0].span.line == 2


def test_only_declaration_and_expression_words_are_reserved():
    # §2a: every word the grammar spells is a keyword, but only these are reserved everywhere
    assert {"component", "tiers", "otherwise", "weight", "total", "prior"} - keywords() == {"prior"}
    assert {"weight", "target", "period", "cap", "pool", "rank"} & RESERVED == set()
    assert {"input", "total", "if", "otherwise", "true", "clawback", "fixture"} <= RESERVED


CONTEXTUAL = """
input partner_id : id
input period : period
input target : money
input version : text
input min : money
input pool : money
input cap : money
metric weight = target * 2%
metric ranked = rank(weight among version == "a")
metric share = percentile(weight)
metric lower = min(min, target)
component c = (pool) * 2% + pool * 1%
scorecard s {
  (cap)   weight 50% target 10 USD
  weight  weight 50% target 10 USD
}
"""


def test_contextual_keywords_are_names_where_a_name_fits():
    f = parse_ok('policy "P" currency USD period quarter\n' + CONTEXTUAL)
    names = [d.name for d in f.decls if hasattr(d, "name")]
    assert names[:7] == ["partner_id", "period", "target", "version", "min", "pool", "cap"]
    weight = f.decls[7]
    assert weight.value == ast.Binary(op="*", left=ast.Name(name="target"), right=ast.Percent(value=Decimal("0.02")))
    ranked = f.decls[8].value
    assert ranked == ast.Rank(kind="rank", value=ast.Name(name="weight"),
                              among=ast.Binary(op="==", left=ast.Name(name="version"), right=ast.String(value="a")))
    assert f.decls[9].value == ast.Rank(kind="percentile", value=ast.Name(name="weight"))
    assert f.decls[10].value == ast.Call(func="min", args=(ast.Name(name="min"), ast.Name(name="target")))
    assert f.decls[11].value.left.left == ast.Name(name="pool")
    assert [m.metric for m in f.decls[12].measures] == [ast.Name(name="cap"), ast.Name(name="weight")]


def test_contextual_keywords_in_test_files():
    f = parse_ok('tests for "x.ipl"\nfixture periods { a = 1 }\n'
                 'test "t" { given periods with { a = 2 } expect error = 5 expect error "boom" }')
    test = f.tests[0]
    assert test.givens[0].fixture == "periods"
    assert test.expects[0] == ast.Expect(name="error", value=ast.Number(value=Decimal(5)))
    assert test.expects[1] == ast.Expect(name=None, value=None, error="boom")


def test_parentheses_belong_to_the_expression_text():
    # explanations and diagnostics quote spans: `(a + b) * 10%` must not lose its `(`
    f = parse_ok(HEAD + "metric m = (a + b) * 10%")
    value = f.decls[0].value
    assert value.span.text == "(a + b) * 10%"
    assert value.left.span.text == "(a + b)"
    assert value.left == ast.Binary(op="+", left=ast.Name(name="a"), right=ast.Name(name="b"))
