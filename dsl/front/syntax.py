"""Parse IPL text into the AST of dsl/front/ast.py: the only module that imports lark.

Receives a `SourceFile`; returns a `PolicyFile`, `ModuleFile` or `TestFile`,
or None when the text does not parse. Guarantees that any text at all gives
either a tree or diagnostics, never an exception.

Here: the grammar (grammar/ipl.lark) loaded once, the parse entry points, the recovery of a
contextual keyword where a name fits, the syntax error messages, the nesting limit, and the
walk of lark's tree that hands each rule to the builder (build.py: files, headers,
declarations and test files; build_expr.py: expressions); `##` comments are attached by
doc_comments.py, the reserved words are in words.py.

Emits: E100 (syntax: unexpected token or character, reserved word used as a
name, unknown escape, number literal beyond 34 significant digits, nesting
deeper than `MAX_DEPTH`, bad header value, undecodable bytes), E201 (a header
field given twice).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import re

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from dsl.front import ast
from dsl.front.build import DeclarationRules, FileRules, listed
from dsl.front.build_expr import ExpressionRules
from dsl.front.diagnostics import Diagnostics
from dsl.front.doc_comments import with_docs
from dsl.front.source import SourceFile, decode
from dsl.front.words import PERIOD_KINDS, RESERVED, ROUNDING_MODES

__all__ = ["MAX_DEPTH", "PERIOD_KINDS", "RESERVED", "ROUNDING_MODES", "keywords", "parse_bytes", "parse_source",
           "parse_text"]

# Deeper expressions are refused (E100) so that no later pass, nor Python's own
# compiler of the generated code, can run out of stack.
MAX_DEPTH = 100

_FRIENDLY = {
    "NAME": "a name",
    "NUMBER": "a number",
    "PERCENT": "a percent",
    "CURRENCY": "a currency code",
    "STRING": "a string",
    "COMPARE": "a comparison",
    "MUL_OP": "`*` or `/`",
    "PLUS": "`+`",
    "MINUS": "`-`",
    "DOTDOT": "`..`",
    "$END": "the end of the file",
}


@functools.cache
def _parser() -> Lark:
    text = importlib.resources.files("dsl.grammar").joinpath("ipl.lark").read_text("utf-8")
    return Lark(
        text,
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        lexer_callbacks={"COMMENT": _collect_comment},
    )


_comment_sink: list[Token] = []


def _collect_comment(token: Token) -> Token:
    _comment_sink.append(token)
    return token


@functools.cache
def keywords() -> frozenset[str]:
    """Every word the grammar spells out (`if`, `target`, `weight`, ...): reserved or contextual."""
    words = set()
    for term in _parser().terminals:
        if isinstance(term.pattern, PatternStr) and re.fullmatch(r"[a-z_]+", term.pattern.value):
            words.add(term.pattern.value)
    return frozenset(words)

def _keyword_as_name(err: UnexpectedInput) -> bool:
    """§2a: a contextual keyword where the parser cannot take it is a name, if one fits there.

    The contextual lexer already reads `target` as a name where no keyword `target` is
    possible; this covers the states where LALR's merged lookaheads let the keyword through
    (e.g. `weight` starting the next measure of a scorecard). Returns whether parsing resumes."""
    if not isinstance(err, UnexpectedToken):
        return False
    tok = err.token
    if tok.type == "NAME" or tok.value in RESERVED or not re.fullmatch(r"[a-z_]+", str(tok.value)) \
            or "NAME" not in err.expected:
        return False
    err.interactive_parser.feed_token(Token.new_borrow_pos("NAME", tok.value, tok))
    return True


def _describe(term_name: str) -> str:
    if term_name in _FRIENDLY:
        return _FRIENDLY[term_name]
    try:
        term = _parser().get_terminal(term_name)
    except KeyError:
        return term_name
    if isinstance(term.pattern, PatternStr):
        return f"`{term.pattern.value}`"
    return term_name.lower()


def parse_source(source: SourceFile, diags: Diagnostics) -> ast.File | None:
    """Parse one source file; on failure report E100 and return None."""
    text = source.text
    if not text.strip():
        diags.error("E100", "the file is empty: expected `policy`, `module` or `tests for`",
                    source.span(0, 0),
                    help='start a policy with `policy "NAME"` and `currency USD`')
        return None
    _comment_sink.clear()
    try:
        tree = _parser().parse(text, on_error=_keyword_as_name)
    except UnexpectedInput as err:
        _syntax_error(source, err, diags)
        return None
    except RecursionError:  # pragma: no cover - lark's LALR parser is iterative
        diags.error("E100", "the file is nested too deeply to parse", source.whole())
        return None
    comments = tuple(
        ast.Comment(text=t.value, span=source.span(t.start_pos, t.end_pos)) for t in _comment_sink
    )
    _comment_sink.clear()
    if not _depth_ok(source, tree, diags):
        return None
    builder = _Builder(source, diags)
    result = _Walk(builder).transform(tree)
    if diags.has_errors and builder.failed:
        return None
    file = result.children[0] if isinstance(result, Tree) else result
    return _with_comments(file, comments)


def parse_bytes(path: str, data: bytes, diags: Diagnostics) -> tuple[SourceFile, ast.File | None]:
    """Decode and parse; undecodable bytes are an E100 at the first bad byte."""
    source, problem = decode(path, data)
    if problem is not None:
        diags.error("E100", problem.message, source.span(problem.offset, problem.offset),
                    help="IPL files are UTF-8 text")
        return source, None
    return source, parse_source(source, diags)


def parse_text(text: str, path: str = "<text>", diags: Diagnostics | None = None) -> ast.File | None:
    """Convenience for tests and tools: parse a string."""
    return parse_source(SourceFile(path, text.replace("\r\n", "\n")), diags if diags is not None else Diagnostics())


def _with_comments(file, comments):
    return with_docs(dataclasses.replace(file, comments=comments))


def _syntax_error(source: SourceFile, err: UnexpectedInput, diags: Diagnostics) -> None:
    help_text = None
    if isinstance(err, UnexpectedToken) and err.token.type != "$END":
        tok = err.token
        start, end = tok.start_pos, tok.end_pos
        expected = sorted({_describe(t) for t in err.expected if not t.startswith("__")}
                          | {_describe(t) for t in err.expected if t.startswith("__")})
        what = f"`{tok.value}`"
        if tok.value in RESERVED and "NAME" in err.expected:
            message = f"`{tok.value}` is a reserved word and cannot be used as a name"
            help_text = "choose another name, e.g. `" + tok.value + "_value`"
            diags.error("E100", message, source.span(start, end), help=help_text)
            return
        message = f"unexpected {what}: expected {listed(expected)}"
        if tok.value == "=" and "COMPARE" in err.expected:
            help_text = "compare with `==`"
        elif tok.type == "NAME" and re.fullmatch(r"[a-z]{3}", tok.value) and "CURRENCY" in err.expected:
            help_text = f"currency codes are upper case: `{tok.value.upper()}`"
    elif isinstance(err, (UnexpectedEOF, UnexpectedToken)):
        start = end = len(source.text.rstrip())
        expected = sorted({_describe(t) for t in getattr(err, "expected", ())})
        message = "unexpected end of file" + (f": expected {listed(expected)}" if expected else "")
        if source.text.count("{") > source.text.count("}"):
            help_text = "a `{` is not closed"
    elif isinstance(err, UnexpectedCharacters):
        start = err.pos_in_stream
        end = start + 1
        ch = source.text[start] if start < len(source.text) else ""
        message = f"unexpected character {ch!r}"
        if ch.isupper():
            word = re.match(r"[A-Za-z0-9_]+", source.text[start:])
            w = word.group(0) if word else ch
            message = f"unexpected `{w}`: names are lower case (snake_case)"
            end = start + len(w)
            help_text = f"write `{_snake(w)}`" if len(w) != 3 else f"write `{_snake(w)}`, or put the currency code after a number"
        elif ch == "'":
            help_text = 'strings use double quotes: "..."'
        elif ch == "%":
            help_text = "a percent sign follows a number: `10%`"
    else:  # pragma: no cover - lark raises only the kinds above
        start = end = 0
        message = str(err).splitlines()[0]
    diags.error("E100", message, source.span(start, max(end, start)), help=help_text)


def _snake(word: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", word).lower()


_CHAINS = {"sum", "product", "or_expr", "and_expr", "otherwise"}


def _depth_ok(source: SourceFile, tree: Tree, diags: Diagnostics) -> bool:
    """Refuse expressions nested deeper than MAX_DEPTH, measured without recursion."""
    stack: list[tuple[Tree, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        step = (len(node.children) // 2) if node.data in _CHAINS else 1
        depth += step
        if depth > MAX_DEPTH:
            meta = node.meta
            start = getattr(meta, "start_pos", 0) or 0
            diags.error(
                "E100",
                f"expression nested more than {MAX_DEPTH} levels deep",
                source.span(start, start + 1),
                help="split it into named metrics",
            )
            return False
        for child in node.children:
            if isinstance(child, Tree):
                stack.append((child, depth))
    return True


class _Builder(FileRules, DeclarationRules, ExpressionRules):
    """lark tree → AST: one method per grammar rule, named after it (grammar/ipl.lark), each
    called with the node's position and its children already built."""


class _Walk(Transformer):
    """lark's walk of the tree, bottom up, handing each rule to the builder's method of that
    name (lark calls `__default__` for a rule it has no method of its own for)."""

    def __init__(self, builder: _Builder):
        super().__init__()
        self.builder = builder

    def __default__(self, data, children, meta):
        rule = getattr(self.builder, data, None)
        if rule is None:
            return Tree(data, children, meta)
        return rule(meta, children)

    @v_args(meta=True)
    def periods_name(self, meta, children):
        # `given periods`: the word `periods` as the name of a fixture (the one rule that
        # makes a token)
        return Token("NAME", "periods", start_pos=meta.start_pos, end_pos=meta.end_pos)
