"""Parse IPL text into the AST of dsl/ast.py: the only module that imports lark.

Receives a `SourceFile`; returns a `PolicyFile`, `ModuleFile` or `TestFile`,
or None when the text does not parse. Guarantees that any text at all gives
either a tree or diagnostics, never an exception.

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
from decimal import Decimal

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from dsl.front import ast
from dsl.front.diagnostics import Diagnostics
from dsl.front.source import SourceFile, Span, decode

# §9: 34 significant digits; a literal that does not fit cannot be exact.
MAX_DIGITS = 34
# Deeper expressions are refused (E100) so that no later pass, nor Python's own
# compiler of the generated code, can run out of stack.
MAX_DEPTH = 100

PERIOD_KINDS = ("month", "quarter", "half", "year")
ROUNDING_MODES = ("half_even", "half_up", "down", "up")

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


# §2a: the words that stay reserved everywhere: those that start a declaration, the expression
# words, and the names the language itself gives values. Every other keyword of the grammar is a
# keyword only where the grammar uses it, and a name everywhere else (`input target : money`).
DECLARATION_WORDS = frozenset({
    "policy", "module", "tests", "use", "input", "param", "metric", "def", "tiers", "scorecard",
    "eligibility", "component", "benefit", "total", "program", "clawback", "fixture", "test",
})
EXPRESSION_WORDS = frozenset({"if", "then", "else", "match", "and", "or", "not", "in", "otherwise",
                              "true", "false"})
# `eligible`, `reasons` (and `periods_active`) name values: they may be read anywhere but not
# declared, which the names pass refuses (E201); `total` is also a declaration word.
VALUE_WORDS = frozenset({"eligible", "reasons", "total"})
RESERVED = DECLARATION_WORDS | EXPRESSION_WORDS
# Builtins the grammar does not spell: `rank(x among c)` and `percentile(...)` are calls (§2a:
# a call is a name followed by `(`), built into `ast.Rank` here.
RANK_CALLS = ("rank", "percentile")


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
    try:
        result = builder.transform(tree)
    except _Refused:
        return None
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
    return _with_docs(dataclasses.replace(file, comments=comments))


# ------------------------------------------------------------------ doc comments (§2a, §23.5)


def _with_docs(file):
    """Attach `##` lines to what they document: the declaration, band or scorecard measure
    that starts on the line right after them (no blank line between), or the header."""
    docs = _doc_lines(file)
    if not docs:
        return file

    def doc_at(span) -> ast.Doc | None:
        if span is None:
            return None
        lines: list[str] = []
        line = span.line - 1
        while line in docs:
            lines.append(docs[line])
            line -= 1
        if not lines:
            return None
        lines.reverse()
        return ast.Doc(label=lines[0].strip(), description="\n".join(t.rstrip() for t in lines[1:]).strip())

    def documented(node):
        doc = doc_at(node.span)
        match node:
            case ast.Tiers():
                node = dataclasses.replace(node, bands=tuple(documented(b) for b in node.bands))
            case ast.Scorecard():
                node = dataclasses.replace(node, measures=tuple(documented(m) for m in node.measures))
        return dataclasses.replace(node, doc=doc) if doc is not None and hasattr(node, "doc") else node

    match file:
        case ast.PolicyFile():
            return dataclasses.replace(file, header=documented(file.header),
                                       decls=tuple(documented(d) for d in file.decls))
        case ast.ModuleFile():
            return dataclasses.replace(file, decls=tuple(documented(d) for d in file.decls))
        case _:
            return file


def _doc_lines(file) -> dict[int, str]:
    """Line number -> text of every `##` comment that is alone on its line."""
    out = {}
    for c in file.comments:
        if c.text.startswith("##") and not c.span.source.line_text(c.span.line)[: c.span.column - 1].strip():
            out[c.span.line] = c.text[2:].removeprefix(" ")
    return out


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
        message = f"unexpected {what}: expected {_list(expected)}"
        if tok.value == "=" and "COMPARE" in err.expected:
            help_text = "compare with `==`"
        elif tok.type == "NAME" and re.fullmatch(r"[a-z]{3}", tok.value) and "CURRENCY" in err.expected:
            help_text = f"currency codes are upper case: `{tok.value.upper()}`"
    elif isinstance(err, (UnexpectedEOF, UnexpectedToken)):
        start = end = len(source.text.rstrip())
        expected = sorted({_describe(t) for t in getattr(err, "expected", ())})
        message = "unexpected end of file" + (f": expected {_list(expected)}" if expected else "")
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


def _list(items: list[str]) -> str:
    if len(items) > 8:
        return ", ".join(items[:8]) + f" or one of {len(items) - 8} more"
    if len(items) <= 1:
        return "".join(items) or "something else"
    return ", ".join(items[:-1]) + " or " + items[-1]


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


class _Refused(Exception):
    """The builder found a problem it cannot build a node around."""


def _unescape(raw: str) -> tuple[str, str | None]:
    body = raw[1:-1]
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1] if i + 1 < len(body) else ""
            if nxt in ('"', "\\"):
                out.append(nxt)
                i += 2
                continue
            return "", f"unknown escape `\\{nxt}` in a string (only `\\\"` and `\\\\` are allowed)"
        out.append(ch)
        i += 1
    return "".join(out), None


@v_args(meta=True)
class _Builder(Transformer):
    """lark tree → AST. Rule names match grammar/ipl.lark."""

    def __init__(self, source: SourceFile, diags: Diagnostics):
        super().__init__()
        self.source = source
        self.diags = diags
        self.failed = False

    # -- helpers
    def _span(self, meta) -> Span:
        if getattr(meta, "empty", True):
            return self.source.span(0, 0)
        return self.source.span(meta.start_pos, meta.end_pos)

    def _tok(self, tok: Token) -> Span:
        return self.source.span(tok.start_pos, tok.end_pos)

    def _err(self, message: str, span: Span, help: str | None = None, code: str = "E100") -> None:
        self.diags.error(code, message, span, help=help)
        self.failed = True

    def _name(self, tok: Token) -> str:
        if tok.value in RESERVED:
            self._err(f"`{tok.value}` is a reserved word and cannot be used as a name", self._tok(tok),
                      help=f"choose another name, e.g. `{tok.value}_value`")
        return str(tok.value)

    def _decimal(self, text: str, tok: Token) -> Decimal:
        digits = text.replace("_", "").replace(".", "").lstrip("0")
        if len(digits) > MAX_DIGITS:
            self._err(f"number literal has {len(digits)} significant digits; IPL computes with {MAX_DIGITS}",
                      self._tok(tok), help="write a smaller number")
            return Decimal(0)
        return Decimal(text.replace("_", ""))

    def _string(self, tok: Token) -> str:
        value, problem = _unescape(tok.value)
        if problem:
            self._err(problem, self._tok(tok))
        return value

    # -- files
    def start(self, meta, children):
        return children[0]

    def policy_file(self, meta, children):
        header, *decls = children
        return ast.PolicyFile(header=header, decls=tuple(decls), span=self._span(meta))

    def module_file(self, meta, children):
        name, *decls = children
        return ast.ModuleFile(name=self._name(name), decls=tuple(decls), name_span=self._tok(name),
                              span=self._span(meta))

    def test_file(self, meta, children):
        target, *items = children
        return ast.TestFile(
            target=self._string(target),
            fixtures=tuple(i for i in items if isinstance(i, ast.Fixture)),
            tests=tuple(i for i in items if isinstance(i, ast.Test)),
            target_span=self._tok(target),
            span=self._span(meta),
        )

    def header(self, meta, children):
        name, *fields = children
        values: dict[str, str] = {}
        spans: list[tuple[str, Span]] = []
        for key, value, span in fields:
            if key in values:
                self.diags.error("E201", f"the header gives `{key}` twice", span,
                                 help=f"keep one `{key}` line")
                continue
            values[key] = value
            spans.append((key, span))
        return ast.Header(name=self._string(name), field_spans=tuple(spans), span=self._span(meta), **values)

    def h_version(self, meta, children):
        return ("version", self._string(children[0]), self._span(meta))

    def h_currency(self, meta, children):
        return ("currency", str(children[0]), self._span(meta))

    def h_period(self, meta, children):
        value = str(children[0])
        if value not in PERIOD_KINDS:
            self._err(f"unknown period `{value}`: expected {_list([f'`{k}`' for k in PERIOD_KINDS])}",
                      self._tok(children[0]))
        return ("period", value, self._span(meta))

    def h_rounding(self, meta, children):
        value = str(children[0])
        if value not in ROUNDING_MODES:
            self._err(f"unknown rounding mode `{value}`: expected {_list([f'`{k}`' for k in ROUNDING_MODES])}",
                      self._tok(children[0]))
        return ("rounding", value, self._span(meta))

    # -- declarations
    def use_decl(self, meta, children):
        return ast.Use(name=self._name(children[0]), span=self._span(meta))

    def input_decl(self, meta, children):
        name, type_ref, rng, default, column = children
        return ast.Input(name=self._name(name), type=type_ref, range=rng, default=default, column=column,
                         name_span=self._tok(name), span=self._span(meta))

    def column(self, meta, children):
        text = self._string(children[0])
        if not text.strip():
            self._err("a column name cannot be empty", self._tok(children[0]),
                      help='write the header as the file spells it: `column "Partner ID"`')
        return text

    def default(self, meta, children):
        return children[0]

    def range(self, meta, children):
        lo, _dots, hi = children
        return ast.Range(lo=lo, hi=hi, span=self._span(meta))

    def signed_literal(self, meta, children):
        minus, value = children
        if isinstance(value, Token):
            value = self.number(meta, [value]) if value.type == "NUMBER" else self.percent(meta, [value])
        if minus is not None:
            return ast.Unary(op="-", operand=value, span=self._span(meta))
        return value

    def param_decl(self, meta, children):
        name, type_ref, value = children
        return ast.Param(name=self._name(name), type=type_ref, value=value, name_span=self._tok(name),
                         span=self._span(meta))

    def metric_decl(self, meta, children):
        name, type_ref, value = children
        return ast.Metric(name=self._name(name), type=type_ref, value=value, name_span=self._tok(name),
                          span=self._span(meta))

    def def_decl(self, meta, children):
        name, *rest = children
        body = rest[-1]
        returns = rest[-2]
        params = tuple(p for p in rest[:-2] if p is not None)
        return ast.Def(name=self._name(name), params=params, returns=returns, body=body,
                       name_span=self._tok(name), span=self._span(meta))

    def def_param(self, meta, children):
        name, type_ref = children
        return ast.DefParam(name=self._name(name), type=type_ref, span=self._span(meta))

    def type_named(self, meta, children):
        return ast.TypeRef(name=str(children[0]), span=self._span(meta))

    def type_enum(self, meta, children):
        members = tuple(self._name(t) for t in children)
        return ast.TypeRef(name="enum", members=members, span=self._span(meta))

    def tiers_decl(self, meta, children):
        name, key, mode, *bands = children
        return ast.Tiers(name=self._name(name), key=key, mode=mode or "flat", bands=tuple(bands),
                         mode_written=mode is not None, name_span=self._tok(name), span=self._span(meta))

    def flat(self, meta, children):
        return "flat"

    def marginal(self, meta, children):
        return "marginal"

    def band_below(self, meta, children):
        return ast.Band(kind="below", threshold=children[0], value=children[1], span=self._span(meta))

    def band_from(self, meta, children):
        return ast.Band(kind="from", threshold=children[0], value=children[1], span=self._span(meta))

    def scorecard_decl(self, meta, children):
        name, *measures = children
        return ast.Scorecard(name=self._name(name), measures=tuple(measures), name_span=self._tok(name),
                             span=self._span(meta))

    def measure(self, meta, children):
        metric, weight, target, cap = children
        return ast.Measure(metric=metric, weight=weight, target=target, cap=cap, span=self._span(meta))

    def eligibility_decl(self, meta, children):
        return ast.Eligibility(requires=tuple(children), span=self._span(meta))

    def require(self, meta, children):
        cond, reason = children
        return ast.Require(cond=cond, reason=self._string(reason), span=self._span(meta))

    def _component(self, kind, meta, children):
        name, value, *mods = children
        return ast.Component(kind=kind, name=self._name(name), value=value, modifiers=tuple(mods),
                             name_span=self._tok(name), span=self._span(meta))

    def component_decl(self, meta, children):
        return self._component("component", meta, children)

    def benefit_decl(self, meta, children):
        return self._component("benefit", meta, children)

    def floor(self, meta, children):
        return ast.Floor(value=children[0], recoverable=False, span=self._span(meta))

    def floor_recoverable(self, meta, children):
        return ast.Floor(value=children[0], recoverable=True, span=self._span(meta))

    def cap(self, meta, children):
        return ast.Cap(value=children[0], span=self._span(meta))

    def hold(self, meta, children):
        portion, until, within = children
        return ast.Hold(portion=portion, until=until, within=within, span=self._span(meta))

    def clawback_decl(self, meta, children):
        name, within, when, recover = children
        return ast.Clawback(component=self._name(name), within=within, when=when, recover=recover,
                            name_span=self._tok(name), span=self._span(meta))

    def clawback_when(self, meta, children):
        return children[0]

    def clawback_recover(self, meta, children):
        return children[0]

    def total_decl(self, meta, children):
        return ast.Total(items=tuple(children), span=self._span(meta))

    def program_decl(self, meta, children):
        return ast.Program(budgets=tuple(children), span=self._span(meta))

    def budget(self, meta, children):
        return ast.Budget(amount=children[0], span=self._span(meta))

    # -- expressions
    def number(self, meta, children):
        tok = children[0]
        return ast.Number(value=self._decimal(tok.value, tok), span=self._tok(tok))

    def percent(self, meta, children):
        tok = children[0]
        return ast.Percent(value=self._decimal(tok.value[:-1], tok).scaleb(-2), span=self._tok(tok))

    def money(self, meta, children):
        num, cur = children
        return ast.Money(amount=self._decimal(num.value, num), currency=str(cur),
                         span=self.source.span(num.start_pos, cur.end_pos))

    def string(self, meta, children):
        return ast.String(value=self._string(children[0]), span=self._tok(children[0]))

    def true(self, meta, children):
        return ast.Bool(value=True, span=self._span(meta))

    def false(self, meta, children):
        return ast.Bool(value=False, span=self._span(meta))

    def name(self, meta, children):
        tok = children[0]
        return ast.Name(name=self._name(tok), span=self._tok(tok))

    def qualified(self, meta, children):
        mod, name = children
        return ast.Qualified(module=self._name(mod), name=self._name(name), span=self._span(meta))

    def total_ref(self, meta, children):
        return ast.TotalRef(span=self._span(meta))

    def call(self, meta, children):
        func, *args = children
        args = tuple(a for a in args if a is not None)
        if func.value in RANK_CALLS:
            return self._rank(meta, func, args, None)
        return ast.Call(func=self._name(func), args=args, span=self._span(meta))

    def call_among(self, meta, children):
        func, value, among = children
        if func.value not in RANK_CALLS:
            self._err(f"`among` belongs to `rank(...)` and `percentile(...)`, not to `{func.value}`",
                      self._tok(func), help=f"write `{func.value}(...)` with its arguments separated by commas")
        return self._rank(meta, func, (value,), among)

    def _rank(self, meta, func: Token, args: tuple, among):
        """`rank(x [among c])`, `percentile(...)` (§15): one value, an optional condition."""
        if len(args) != 1:
            self._err(f"`{func.value}` takes one value, got {len(args)}", self._span(meta), code="E303",
                      help=f"write `{func.value}(VALUE)` or `{func.value}(VALUE among CONDITION)`")
            args = args[:1] or (ast.Number(value=Decimal(0), span=self._span(meta)),)
        return ast.Rank(kind=str(func.value), value=args[0], among=among, span=self._span(meta))

    def pool_name(self, meta, children):
        # `pool` alone is a name (§2a): the keyword only starts `pool AMOUNT by SHARE`
        return ast.Name(name="pool", span=self._span(meta))

    def qualified_call(self, meta, children):
        mod, func, *args = children
        return ast.Call(func=self._name(func), module=self._name(mod),
                        args=tuple(a for a in args if a is not None), span=self._span(meta))

    def paren(self, meta, children):
        # the parentheses belong to the expression's text (explanations quote spans)
        return dataclasses.replace(children[0], span=self._span(meta))

    def list(self, meta, children):
        return ast.ListLit(items=tuple(c for c in children if c is not None), span=self._span(meta))

    def if_expr(self, meta, children):
        cond, then, other = children
        return ast.If(cond=cond, then=then, otherwise=other, span=self._span(meta))

    def match_expr(self, meta, children):
        subject, *arms = children
        return ast.Match(subject=subject, arms=tuple(arms), span=self._span(meta))

    def arm(self, meta, children):
        *patterns, value = children
        return ast.Arm(patterns=tuple(patterns), value=value, span=self._span(meta))

    def pat_name(self, meta, children):
        return ast.Pattern(kind="name", name=self._name(children[0]), span=self._span(meta))

    def pat_true(self, meta, children):
        return ast.Pattern(kind="true", span=self._span(meta))

    def pat_false(self, meta, children):
        return ast.Pattern(kind="false", span=self._span(meta))

    def pat_else(self, meta, children):
        return ast.Pattern(kind="else", span=self._span(meta))

    def pool(self, meta, children):
        amount, share, among = children
        return ast.Pool(amount=amount, share=share, among=among, span=self._span(meta))

    def neg(self, meta, children):
        _minus, operand = children
        return ast.Unary(op="-", operand=operand, span=self._span(meta))

    def not_op(self, meta, children):
        return ast.Unary(op="not", operand=children[0], span=self._span(meta))

    def compare(self, meta, children):
        left, op, right = children
        return ast.Binary(op=str(op), left=left, right=right, op_span=self._tok(op), span=self._span(meta))

    def member(self, meta, children):
        operand, *items = children
        return ast.Member(operand=operand, items=tuple(i for i in items if i is not None),
                          span=self._span(meta))

    def _chain(self, meta, children, ops: str | None):
        result = children[0]
        i = 1
        while i < len(children):
            if ops is None:
                op_tok, right = children[i], children[i + 1]
                op, op_span = str(op_tok), self._tok(op_tok)
                i += 2
            else:
                op, right, op_span = ops, children[i], result.span
                i += 1
            if op == "otherwise":
                result = ast.Otherwise(expr=result, fallback=right, span=result.span.to(right.span))
            else:
                result = ast.Binary(op=op, left=result, right=right, op_span=op_span,
                                    span=result.span.to(right.span))
        return result

    def sum(self, meta, children):
        return self._chain(meta, children, None)

    def product(self, meta, children):
        return self._chain(meta, children, None)

    def or_expr(self, meta, children):
        return self._chain(meta, children, "or")

    def and_expr(self, meta, children):
        return self._chain(meta, children, "and")

    def otherwise(self, meta, children):
        return self._chain(meta, children, "otherwise")

    # -- tests (§10)
    def fixture(self, meta, children):
        name, *fields = children
        return ast.Fixture(name=self._name(name), fields=tuple(fields), name_span=self._tok(name),
                           span=self._span(meta))

    def assign(self, meta, children):
        name, value = children
        return ast.Assign(name=self._name(name), value=value, span=self._span(meta))

    def param_assign(self, meta, children):
        name, value = children
        return ast.Assign(name=self._name(name), value=value, is_param=True, span=self._span(meta))

    def test(self, meta, children):
        name, *items = children
        return ast.Test(
            name=self._string(name),
            givens=tuple(i for i in items if isinstance(i, ast.Given)),
            expects=tuple(i for i in items if isinstance(i, ast.Expect)),
            span=self._span(meta),
        )

    def given_fixture(self, meta, children):
        name, overrides = children
        return ast.Given(fixture=self._name(name), overrides=overrides or (), span=self._span(meta))

    def given_inline(self, meta, children):
        return ast.Given(overrides=tuple(children), span=self._span(meta))

    def given_periods(self, meta, children):
        return ast.Given(periods=tuple(children), span=self._span(meta))

    def periods_name(self, meta, children):
        return Token("NAME", "periods", start_pos=meta.start_pos, end_pos=meta.end_pos)

    def with_block(self, meta, children):
        return tuple(children)

    def period_given(self, meta, children):
        period, fixture, overrides = children
        return ast.PeriodGiven(period=self._string(period), fixture=self._name(fixture),
                               overrides=overrides or (), span=self._span(meta))

    def period_in(self, meta, children):
        return self._string(children[0])

    def expect_value(self, meta, children):
        period, (name, clawback), value = children
        return ast.Expect(name=name, value=value, period=period, clawback=clawback, span=self._span(meta))

    def expect_error(self, meta, children):
        period, text = children
        return ast.Expect(name=None, value=None, period=period, error=self._string(text),
                          span=self._span(meta))

    def target_name(self, meta, children):
        return (self._name(children[0]), False)

    def target_error_name(self, meta, children):
        return ("error", False)

    def target_total(self, meta, children):
        return ("total", False)

    def target_clawback(self, meta, children):
        return (self._name(children[0]), True)
