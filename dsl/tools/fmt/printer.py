"""The formatter: one canonical layout for policies, modules and test files (`ipl fmt`).

Receives a parsed file (`ast.PolicyFile`, `ast.ModuleFile` or `ast.TestFile`) with
the comments the parser collected, and the `SourceFile` it came from (for the
written digits of numbers and the positions of comments and blank lines; an AST
made up without spans formats too, from its values alone). Returns the text.

Guarantees (tests/test_fmt_properties.py checks them over every `.ipl` in the
repository and over generated policies):
- `parse(format(s)) == parse(s)`: the same tree, ignoring spans; a value is never
  changed, and the digits of a number are kept as written (only `_` grouping
  changes);
- `format(format(s)) == format(s)`: idempotent;
- every comment survives, with its text (trailing spaces aside): a full-line
  comment stays before the declaration, band, arm, field or modifier it preceded,
  a trailing comment at the end of the line of the construct it followed;
- declarations, header fields, fixtures and tests keep their source order; at
  most one blank line is kept where the source had one or more.

The layout is described in docs/fmt.md. Emits no diagnostics of its own:
`format_source`, `format_text` and `format_bytes` parse first and pass on the
parser's E100 and E201, and format only a file that parsed without errors.
`format_bytes` and `rewrite` are the file side of `ipl fmt` (dsl/cli.py renders).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from decimal import Decimal

from dsl.front import ast
from dsl.front.diagnostics import Diagnostics
from dsl.front.source import SourceFile, Span
from dsl.front.syntax import RESERVED, keywords, parse_source

INDENT = "  "
# A `with { }` block or an inline `given { }` stays on one line up to this width.
INLINE_WIDTH = 100
# A declaration longer than this puts its value on the next lines (see `_valued`).
MAX_WIDTH = 100

# Precedence levels, lowest first (grammar/ipl.lark `?expr` chain).
OTHERWISE, OR, AND, NOT, CMP, SUM, PROD, UNARY, ATOM = range(1, 10)

_BINARY_LEVEL = {
    "or": OR, "and": AND,
    "<": CMP, "<=": CMP, ">": CMP, ">=": CMP, "==": CMP, "!=": CMP,
    "+": SUM, "-": SUM, "*": PROD, "/": PROD,
}

_NUMBER_RE = re.compile(r"[0-9](_?[0-9])*(\.[0-9](_?[0-9])*)?")
_BLANK_RE = re.compile(r"\n[ \t\f]*\n")


class _Align:
    """An alignment point inside a line: padded so that a run of lines line up."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ALIGN"


ALIGN = _Align()


@dataclass(slots=True)
class _Line:
    """One output line before comments are merged in.

    `start` is the source offset of the construct the line begins with (None for
    a tree made up without spans); `indent` is relative while a fragment is built
    and absolute once placed; `tag` names the alignment group (bands of a table,
    arms of a match, a run of inputs, measures) or is None.
    """

    indent: int
    parts: list
    start: int | None = None
    tag: str | None = None
    sep: str = " "
    header: bool = False
    end: int | None = None
    trailing: list[str] = field(default_factory=list)
    lead: tuple[str, ...] = ()  # keywords printed before the construct at `start`

    def text(self) -> str:
        return "".join(p for p in self.parts if p is not ALIGN)

    @property
    def opens(self) -> bool:
        return self.text().endswith("{")

    @property
    def closes(self) -> bool:
        return self.text().startswith("}")


# A fragment: the lines an expression or a clause prints as. The first line
# continues whatever line it is appended to; later lines carry relative indents.
Frag = list[_Line]


def _frag(text: str) -> Frag:
    return [_Line(0, [text])]


def _cat(*frags: Frag | str) -> Frag:
    """Concatenate fragments: each one's first line joins the previous one's last."""
    out: Frag = []
    for f in frags:
        if isinstance(f, str):
            f = _frag(f)
        if not out:
            out = [_Line(line.indent, list(line.parts), line.start, line.tag, line.sep) for line in f]
            continue
        last = out[-1]
        first, *rest = f
        last.parts.extend(first.parts)
        if last.start is None:
            last.start = first.start
        if first.tag is not None and last.tag is None:
            last.tag, last.sep = first.tag, first.sep
        base = last.indent
        out.extend(_Line(base + line.indent, list(line.parts), line.start, line.tag, line.sep) for line in rest)
    return out


def _join(frags: list[Frag], sep: str) -> Frag:
    out: Frag = _frag("")
    for i, f in enumerate(frags):
        out = _cat(out, sep, f) if i else _cat(out, f)
    return out


def _single(frag: Frag) -> bool:
    return len(frag) == 1


def _start(span: Span | None) -> int | None:
    return None if span is None else span.start


# ---------------------------------------------------------------- entry points


def format_source(source: SourceFile, diags: Diagnostics) -> str | None:
    """Parse and format one source; None (with diagnostics) when it does not parse cleanly."""
    tree = parse_source(source, diags)
    if tree is None or diags.has_errors:
        return None
    return format_file(tree, source)


def format_text(text: str, path: str = "<text>", diags: Diagnostics | None = None) -> str | None:
    """Convenience for tests and tools: format a string (CRLF and a BOM are accepted)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    source = SourceFile(path, text.replace("\r\n", "\n").replace("\r", "\n"))
    return format_source(source, diags if diags is not None else Diagnostics())


def format_file(file: ast.File, source: SourceFile | None = None) -> str:
    """The canonical text of a parsed file (comments from `file.comments`)."""
    if source is None:
        source = _source_of(file)
    printer = _Printer(source)
    match file:
        case ast.PolicyFile():
            lines = printer.policy(file)
        case ast.ModuleFile():
            lines = printer.module(file)
        case ast.TestFile():
            lines = printer.test_file(file)
        case _:
            raise AssertionError(f"unhandled {type(file).__name__}")
    return _Merger(source, file.comments).render(lines)


def _source_of(file: ast.File) -> SourceFile | None:
    span = getattr(file, "span", None)
    return None if span is None else span.source


# ---------------------------------------------------------------- the printer


class _Printer:
    """AST → lines (with alignment points and source positions); comments come later."""

    def __init__(self, source: SourceFile | None):
        self.text = source.text if source is not None else None
        self.source = source

    # -- literals: keep the written digits when the source has them
    def _digits(self, span: Span | None, value: Decimal) -> str:
        if span is not None and self.text is not None and span.source is self.source:
            m = _NUMBER_RE.match(self.text, span.start)
            if m is not None:
                digits = m.group(0).replace("_", "")
                if Decimal(digits) == value:
                    return _group(digits)
        return _group(_plain(value))

    def _percent_digits(self, span: Span | None, value: Decimal) -> str:
        if span is not None and self.text is not None and span.source is self.source:
            m = _NUMBER_RE.match(self.text, span.start)
            if m is not None:
                digits = m.group(0).replace("_", "")
                if Decimal(digits).scaleb(-2) == value:
                    return _group(digits)
        return _group(_plain(value.scaleb(2)))

    # -- files
    def policy(self, f: ast.PolicyFile) -> list[_Line]:
        h = f.header
        first = _Line(0, ["policy ", _string(h.name)], _start(h.span), header=True)
        lines = [first]
        order = [k for k, _ in h.field_spans] or ["version", "currency", "period", "rounding"]
        for key in order:
            value = getattr(h, key)
            if value is None:
                continue
            shown = _string(value) if key == "version" else value
            span = h.field_span(key) if h.field_spans else None
            lines.append(_Line(1, [f"{key} {shown}"], _start(span), header=True))
        return lines + self.decls(f.decls)

    def module(self, f: ast.ModuleFile) -> list[_Line]:
        return [_Line(0, [f"module {f.name}"], _start(f.span), header=True)] + self.decls(f.decls)

    def test_file(self, f: ast.TestFile) -> list[_Line]:
        lines = [_Line(0, ["tests for ", _string(f.target)], _start(f.span), header=True)]
        items: list = list(f.fixtures) + list(f.tests)
        if all(i.span is not None for i in items):
            items.sort(key=lambda i: i.span.start)  # the AST splits them; the source interleaves
        for item in items:
            match item:
                case ast.Fixture():
                    lines += self._block(f"fixture {item.name} {{", item.span,
                                         [self._assign(a) for a in item.fields])
                case ast.Test():
                    body = [self._given(g) for g in item.givens] + [self._expect(e) for e in item.expects]
                    lines += self._block(f"test {_string(item.name)} {{", item.span, body)
                case _:
                    raise AssertionError(f"unhandled {type(item).__name__}")
        return lines

    def decls(self, decls: tuple[ast.Decl, ...]) -> list[_Line]:
        out: list[_Line] = []
        for d in decls:
            out += self.decl(d)
        return out

    # -- blocks
    def _close(self, span: Span | None) -> int | None:
        """The offset of the `}` that closes a block whose span is given."""
        if span is None or self.text is None:
            return None
        return _Positions.of(self.source).closing_brace(span)

    def _block(self, head: Frag | str, span: Span | None, items: list[Frag], start: int | None = None) -> list[_Line]:
        """`HEAD {`, the items one per line indented, `}`; a whole-lines fragment."""
        head_frag = _cat(head) if isinstance(head, str) else head
        if head_frag[0].start is None:
            head_frag[0].start = _start(span) if start is None else start
        out = list(head_frag)
        for item in items:
            out += [_Line(line.indent + 1, line.parts, line.start, line.tag, line.sep) for line in item]
        out.append(_Line(0, ["}"], self._close(span)))
        return out

    # -- declarations
    def decl(self, d: ast.Decl) -> list[_Line]:
        start = _start(d.span)
        match d:
            case ast.Use(name=name):
                return [_Line(0, [f"use {name}"], start)]
            case ast.Input(name=name, type=t, range=rng, default=default, column=column):
                tail: list = [": ", self.type_ref(t)]
                if rng is not None:
                    lo = "" if rng.lo is None else self.flat(rng.lo)
                    hi = "" if rng.hi is None else self.flat(rng.hi)
                    tail.append(f" in {lo}..{hi}")
                frag = _cat([_Line(0, [f"input {name}", ALIGN], start, tag="input")], "".join(tail))
                if default is not None:
                    frag = _cat(frag, " = ", self.expr(default))
                if column is not None:  # §23.2: `column` comes last
                    frag = _cat(frag, f" column {_string(column)}")
                return frag
            case ast.Param(name=name, type=t, value=value):
                return self._valued(f"param {name} : {self.type_ref(t)} =", value, start)
            case ast.Metric(name=name, type=t, value=value):
                typed = "" if t is None else f" : {self.type_ref(t)}"
                return self._valued(f"metric {name}{typed} =", value, start)
            case ast.Def(name=name, params=params, returns=returns, body=body):
                ps = ", ".join(f"{p.name} : {self.type_ref(p.type)}" for p in params)
                return self._valued(f"def {name}({ps}) -> {self.type_ref(returns)} =", body, start)
            case ast.Tiers(name=name, key=key, mode=mode, bands=bands, mode_written=written):
                head = _cat(f"tiers {name} on ", self.expr(key), f" {mode} {{" if written else " {")
                return self._block(head, d.span, [self._band(b) for b in bands], start)
            case ast.Scorecard(name=name, measures=measures):
                items = [self._measure(m) for m in measures]
                for item, nxt in zip(items, items[1:]):
                    # a measure starting with `(` or `-` would continue the previous one's
                    # last expression (a call, a subtraction): the comma ends it
                    if nxt[0].text().startswith(("(", "-")):
                        item[-1].parts.append(",")
                return self._block(f"scorecard {name} {{", d.span, items, start)
            case ast.Eligibility(requires=requires):
                return self._block("eligibility {", d.span, [self._modifier(r) for r in requires], start)
            case ast.Component(kind=kind, name=name, value=value, modifiers=mods):
                lines = self._valued(f"{kind} {name} =", value, start)
                for m in mods:
                    lines += [_Line(line.indent + 1, line.parts, line.start, line.tag, line.sep)
                              for line in self._modifier(m)]
                return lines
            case ast.Clawback(component=name, within=within, when=when, recover=recover):
                lines = self._start_at(_cat(f"clawback {name} within ", self.expr(within),
                                            _periods(within)), start)
                if when is not None:
                    lines += _indent(_lead(self._start_at(_cat("when ", self.expr(when)), _start(when.span)), "when"))
                if recover is not None:
                    lines += _indent(_lead(self._start_at(_cat("recover ", self.expr(recover)), _start(recover.span)),
                                           "recover"))
                return lines
            case ast.Total(items=items):
                return self._block("total {", d.span, [self._modifier(i) for i in items], start)
            case ast.Program(budgets=budgets):
                items = [self._start_at(_cat("budget ", self.expr(b.amount), " per period"), _start(b.span))
                         for b in budgets]
                return self._block("program {", d.span, items, start)
            case _:
                raise AssertionError(f"unhandled {type(d).__name__}")

    def _valued(self, head: str, value: ast.Expr, start: int | None) -> Frag:
        """`HEAD = VALUE` on one line; past MAX_WIDTH the value goes on the next lines,
        indented, with a long `if` chain broken before each `else` and a long
        `otherwise` chain before each `otherwise`."""
        frag = self._start_at(_cat(head + " ", self.expr(value)), start)
        if not _single(frag) or len(frag[0].text()) <= MAX_WIDTH:
            return frag
        body = self._wrapped(value, MAX_WIDTH - len(INDENT))
        return [_Line(0, [head], start)] + _indent(body)

    def _wrapped(self, e: ast.Expr, width: int) -> Frag:
        one = self._start_at(self.expr(e), _start(e.span))
        if not _single(one) or len(one[0].text()) <= width:
            return one
        match e:
            case ast.If():
                out: Frag = []
                prefix = ""
                while isinstance(e, ast.If):
                    line = self._start_at(_cat(f"{prefix}if ", self.expr(e.cond), " then ", self.expr(e.then)),
                                          _start(e.span))
                    out += _lead(line, "else") if prefix else line
                    prefix = "else "
                    e = e.otherwise
                out += _lead(self._start_at(_cat("else ", self.expr(e)), _start(e.span)), "else")
                return out
            case ast.Otherwise():
                chain = []
                while isinstance(e, ast.Otherwise):
                    chain.append(e.fallback)
                    e = e.expr
                out = self._start_at(self._operand(e, OTHERWISE), _start(e.span))
                for fallback in reversed(chain):
                    out += _lead(self._start_at(_cat("otherwise ", self._operand(fallback, OR)),
                                                _start(fallback.span)), "otherwise")
                return out
            case _:
                return one

    @staticmethod
    def _start_at(frag: Frag, start: int | None) -> Frag:
        if frag[0].start is None or (start is not None and frag[0].start > start):
            frag[0].start = start
        return frag

    def type_ref(self, t: ast.TypeRef) -> str:
        if t.name == "enum" and t.members:
            return "enum(" + ", ".join(t.members) + ")"
        return t.name

    def _band(self, b: ast.Band) -> Frag:
        frag = _cat(f"{b.kind} ", self.expr(b.threshold), " ")
        frag[-1].parts.append(ALIGN)
        frag = _cat(frag, "-> ", self.expr(b.value))
        frag[0].tag = "band"
        return self._start_at(frag, _start(b.span))

    def _measure(self, m: ast.Measure) -> Frag:
        # a measure of a value named `cap` would read as the cap of the measure before it
        metric = _cat("(", self._bare(m.metric), ")") if _leading_name(m.metric) == "cap" else self.expr(m.metric)
        cells = [metric, _cat("weight ", self.expr(m.weight)),
                 _cat("target ", self.expr(m.target, among_follows=m.cap is None))]
        if m.cap is not None:
            cells.append(_cat("cap ", self.expr(m.cap, among_follows=True)))
        frag = cells[0]
        for cell in cells[1:]:
            frag[-1].parts.append(ALIGN)
            frag = _cat(frag, cell)
        frag[0].tag, frag[0].sep = "measure", "  "
        return self._start_at(frag, _start(m.span))

    def _modifier(self, m: ast.Modifier) -> Frag:
        match m:
            case ast.Require(cond=cond, reason=reason):
                frag = _cat("require ", self.expr(cond), f" else {_string(reason)}")
            case ast.Floor(value=value, recoverable=rec):
                frag = _cat("floor ", self.expr(value), " recoverable" if rec else "")
            case ast.Cap(value=value):
                frag = _cat("cap ", self.expr(value))
            case ast.Hold(portion=p, until=u, within=w):
                frag = _cat("hold ", self.expr(p), " until ", self.expr(u), " within ", self.expr(w), _periods(w))
            case _:
                raise AssertionError(f"unhandled {type(m).__name__}")
        return self._start_at(frag, _start(m.span))

    # -- tests
    def _assign(self, a: ast.Assign) -> Frag:
        # the next field may be named `among`, which would join a trailing `pool` (§2a)
        frag = _cat(f"{'param ' if a.is_param else ''}{a.name} = ", self.expr(a.value, among_follows=True))
        return self._start_at(frag, _start(a.span))

    def _overrides(self, head: str, overrides: tuple[ast.Assign, ...], span: Span | None, start: int | None) -> Frag:
        """`HEAD { a = 1, b = 2 }` on one line, or one assignment per line when it has
        comments inside, a `match`, or would pass INLINE_WIDTH."""
        items = [self._assign(a) for a in overrides]
        inline = all(_single(i) for i in items) and not self._has_comment_inside(span)
        if inline:
            body = ", ".join(i[0].text() for i in items)
            text = f"{head} {{ {body} }}" if body else f"{head} {{ }}"
            if len(text) <= INLINE_WIDTH:
                return [_Line(0, [text], start)]
        return self._block(f"{head} {{", span, items, start)

    def _has_comment_inside(self, span: Span | None) -> bool:
        if span is None or self.source is None:
            return False
        pos = _Positions.of(self.source)
        i = bisect.bisect_left(pos.opens, span.start)
        opening = pos.opens[i] if i < len(pos.opens) else span.start
        return pos.comment_between(opening, pos.closing_brace(span))

    def _given(self, g: ast.Given) -> Frag:
        start = _start(g.span)
        if g.periods:
            items = []
            for p in g.periods:
                head = f"{_string(p.period)} -> {p.fixture}"
                if p.overrides:
                    items.append(self._overrides(f"{head} with", p.overrides, p.span, _start(p.span)))
                else:
                    items.append([_Line(0, [head], _start(p.span))])
            return self._block("given periods {", g.span, items, start)
        if g.fixture is not None:
            if g.overrides:
                return self._overrides(f"given {g.fixture} with", g.overrides, g.span, start)
            return [_Line(0, [f"given {g.fixture}"], start)]
        return self._overrides("given", g.overrides, g.span, start)

    def _expect(self, e: ast.Expect) -> Frag:
        head = "expect " + (f"in {_string(e.period)} " if e.period is not None else "")
        if e.error is not None:
            frag = _frag(f"{head}error {_string(e.error)}")
        else:
            frag = _cat(f"{head}{'clawback ' if e.clawback else ''}{e.name} = ", self.expr(e.value))
        return self._start_at(frag, _start(e.span))

    # -- expressions
    def flat(self, e: ast.Expr) -> str:
        """An expression that prints on one line (literals of ranges)."""
        frag = self.expr(e)
        return "".join(line.text() for line in frag)

    def expr(self, e: ast.Expr, min_level: int = OTHERWISE, among_follows: bool = False) -> Frag:
        """Print `e` where the grammar expects an expression of at least `min_level`;
        parenthesize when it binds looser, or when an `among` follows that a trailing
        `pool` without its own `among` would take."""
        level = _level(e)
        if level < min_level or (among_follows and _ends_in_open_pool(e)):
            return _cat("(", self._bare(e), ")")
        return self._bare(e)

    def _operand(self, e: ast.Expr, min_level: int) -> Frag:
        """An operand of an operator: `if` and `pool` read better in parentheses."""
        if isinstance(e, (ast.If, ast.Pool)):
            return _cat("(", self._bare(e), ")")
        return self.expr(e, min_level)

    def _bare(self, e: ast.Expr) -> Frag:
        match e:
            case ast.Number(value=v):
                return _frag(self._digits(e.span, v))
            case ast.Percent(value=v):
                return _frag(self._percent_digits(e.span, v) + "%")
            case ast.Money(amount=v, currency=cur):
                return _frag(f"{self._digits(e.span, v)} {cur}")
            case ast.String(value=v):
                return _frag(_string(v))
            case ast.Bool(value=v):
                return _frag("true" if v else "false")
            case ast.Name(name=n):
                # §2a: `pool` starts `pool AMOUNT by SHARE`; a value of that name reads as `(pool)`
                return _frag("(pool)" if n == "pool" else n)
            case ast.Qualified(module=m, name=n):
                return _frag(f"{m}.{n}")
            case ast.TotalRef():
                return _frag("total")
            case ast.Call(func=func, args=args, module=module):
                name = func if module is None else f"{module}.{func}"
                return _cat(f"{name}(", _join([self.expr(a) for a in args], ", "), ")")
            case ast.Unary(op="-", operand=x):
                # `- -x`, not `--x`: two signs read as two
                return _cat("- " if isinstance(x, ast.Unary) and x.op == "-" else "-", self._operand(x, UNARY))
            case ast.Unary(op="not", operand=x):
                return _cat("not ", self._operand(x, NOT))
            case ast.Binary(op=op, left=a, right=b):
                level = _BINARY_LEVEL[op]
                if level == CMP:  # non-associative: both sides are sums
                    return _cat(self._operand(a, SUM), f" {op} ", self._operand(b, SUM))
                return _cat(self._operand(a, level), f" {op} ", self._operand(b, level + 1))
            case ast.Otherwise(expr=a, fallback=b):
                return _cat(self._operand(a, OTHERWISE), " otherwise ", self._operand(b, OR))
            case ast.Member(operand=x, items=items):
                return _cat(self._operand(x, SUM), " in (", _join([self.expr(i) for i in items], ", "), ")")
            case ast.If(cond=c, then=a, otherwise=b):
                return _cat("if ", self.expr(c), " then ", self.expr(a), " else ", self.expr(b))
            case ast.Match(subject=s, arms=arms):
                return self._match(e, s, arms)
            case ast.Pool(amount=a, share=s, among=c):
                # a contextual keyword right after `pool` would read as the end of a bare `pool`
                amount = _cat("(", self._bare(a), ")") if _leading_name(a) in _CONTEXTUAL else self.expr(a, OR)
                parts: list = ["pool ", amount, " by ", self.expr(s, OR, among_follows=c is not None)]
                if c is not None:
                    parts += [" among ", self.expr(c, OR)]
                return _cat(*parts)
            case ast.Rank(kind=kind, value=v, among=c):
                if c is None:
                    return _cat(f"{kind}(", self.expr(v), ")")
                return _cat(f"{kind}(", self.expr(v, among_follows=True), " among ", self.expr(c), ")")
            case ast.ListLit(items=items):
                return _cat("[", _join([self.expr(i) for i in items], ", "), "]")
            case _:
                raise AssertionError(f"unhandled {type(e).__name__}")

    def _match(self, e: ast.Match, subject: ast.Expr, arms: tuple[ast.Arm, ...]) -> Frag:
        head = _cat("match ", self.expr(subject), " {")
        out = list(head)
        for arm in arms:
            pats = " | ".join(_pattern(p) for p in arm.patterns)
            frag = _cat([_Line(0, [pats + " ", ALIGN], _start(arm.span), tag="arm")], "-> ", self.expr(arm.value, among_follows=True))
            out += [_Line(line.indent + 1, line.parts, line.start, line.tag, line.sep) for line in frag]
        out.append(_Line(0, ["}"], self._close(e.span)))
        return out


_CONTEXTUAL = keywords() - RESERVED


def _leading_name(e: ast.Expr) -> str | None:
    """The name an expression's text starts with, if it starts with one."""
    while True:
        match e:
            case ast.Name(name=n) | ast.Call(func=n, module=None) | ast.Qualified(module=n) \
                    | ast.Call(module=n):
                return n
            case ast.Binary(left=x) | ast.Otherwise(expr=x) | ast.Member(operand=x):
                e = x
            case _:
                return None


def _indent(frag: Frag) -> Frag:
    return [_Line(line.indent + 1, line.parts, line.start, line.tag, line.sep, lead=line.lead) for line in frag]


def _lead(frag: Frag, *words: str) -> Frag:
    frag[0].lead = words
    return frag


def _periods(n: ast.Expr) -> str:
    # `within 1 period` reads as English; any other count says `periods`.
    return " period" if isinstance(n, ast.Number) and n.value == 1 else " periods"


def _pattern(p: ast.Pattern) -> str:
    match p.kind:
        case "name":
            return str(p.name)
        case "true" | "false" | "else":
            return p.kind
        case _:
            raise AssertionError(f"unhandled pattern {p.kind}")


def _level(e: ast.Expr) -> int:
    match e:
        case ast.Otherwise():
            return OTHERWISE
        case ast.Binary(op=op):
            return _BINARY_LEVEL[op]
        case ast.Unary(op="not"):
            return NOT
        case ast.Unary():
            return UNARY
        case ast.Member():
            return CMP
        case _:
            return ATOM


def _ends_in_open_pool(e: ast.Expr) -> bool:
    """Whether `e`, printed bare, ends in a `pool` that would take a following `among`."""
    while True:
        match e:
            case ast.Pool(among=None):
                return True
            case ast.Pool(among=c):
                if _level(c) < OR:
                    return False  # printed in parentheses
                e = c
            case ast.If(otherwise=b):
                e = b
            case _:
                return False


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _plain(value: Decimal) -> str:
    """A non-negative Decimal in positional notation, exactly (no exponent)."""
    text = format(value, "f")
    if text.startswith("-"):
        raise AssertionError(f"negative literal {value}: negatives are unary minus")
    return text


def _group(digits: str) -> str:
    """`1000000` → `1_000_000`: the integer part grouped by thousands from 1_000 up;
    the fraction is kept as written, without underscores."""
    whole, dot, frac = digits.partition(".")
    if len(whole) >= 4:
        head = len(whole) % 3 or 3
        whole = whole[:head] + "".join("_" + whole[i:i + 3] for i in range(head, len(whole), 3))
    return whole + dot + frac


# ---------------------------------------------------------------- source positions


class _Positions:
    """Where the comments and the real `{` `}` tokens are in one source text."""

    _cache: dict[int, tuple[SourceFile, _Positions]] = {}

    def __init__(self, source: SourceFile):
        self.text = source.text
        comments: list[tuple[int, int]] = []
        opens: list[int] = []
        closes: list[int] = []
        text = self.text
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if ch == "#":
                j = text.find("\n", i)
                j = n if j < 0 else j
                comments.append((i, j))
                i = j
            elif ch == '"':
                j = i + 1
                while j < n and text[j] != '"' and text[j] != "\n":
                    j += 2 if text[j] == "\\" else 1
                i = j + 1
            else:
                if ch == "}":
                    closes.append(i)
                elif ch == "{":
                    opens.append(i)
                i += 1
        self.comments = comments
        self.comment_starts = [c[0] for c in comments]
        self.closes = closes
        self.opens = opens

    @classmethod
    def of(cls, source: SourceFile) -> _Positions:
        hit = cls._cache.get(id(source))
        if hit is not None and hit[0] is source:
            return hit[1]
        pos = cls(source)
        if len(cls._cache) > 64:
            cls._cache.clear()
        cls._cache[id(source)] = (source, pos)
        return pos

    def closing_brace(self, span: Span) -> int:
        i = bisect.bisect_left(self.closes, span.end) - 1
        if i >= 0 and self.closes[i] >= span.start:
            return self.closes[i]
        return max(span.start, span.end - 1)

    def comment_between(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.comment_starts, start)
        return i < len(self.comment_starts) and self.comment_starts[i] < end

    def code_end_before(self, pos: int) -> int:
        """The end of the last code character before `pos` (skipping blanks and comments)."""
        text = self.text
        p = min(pos, len(text))
        while p > 0:
            if text[p - 1] in " \t\f\n":
                p -= 1
                continue
            i = bisect.bisect_right(self.comment_starts, p - 1) - 1
            if i >= 0 and self.comments[i][0] <= p - 1 < self.comments[i][1]:
                p = self.comments[i][0]
                continue
            break
        return p


# ---------------------------------------------------------------- comments, blank lines, alignment


@dataclass(slots=True)
class _Entry:
    """A line of output: a printed line, a full-line comment, or a blank line."""

    kind: str  # "line" | "comment" | "blank"
    indent: int = 0
    line: _Line | None = None
    text: str = ""
    header: bool = False


class _Merger:
    """Puts the comments back, keeps blank-line grouping, aligns runs, renders text."""

    def __init__(self, source: SourceFile | None, comments: tuple[ast.Comment, ...]):
        self.source = source
        self.comments = sorted(comments, key=lambda c: c.span.start) if source is not None else []
        self.pos = _Positions.of(source) if source is not None else None

    def render(self, lines: list[_Line]) -> str:
        entries = self._merge(lines)
        return _render(entries)

    def _merge(self, lines: list[_Line]) -> list[_Entry]:
        if self.pos is None:
            return self._with_blanks(lines, {}, {})
        text = self.pos.text
        # every line needs a start to place comments; inherit when made up
        last = 0
        for line in lines:
            if line.start is None:
                line.start = last
            last = line.start
        # a line that begins a construct begins at the `(`s written around it, and at
        # the keyword that introduces it (`when`, `else`, `otherwise`)
        for i in range(1, len(lines)):
            p = self._back_over_parens(lines[i].start, lines[i - 1].start)
            for word in reversed(lines[i].lead):
                q = self.pos.code_end_before(p)
                if q - len(word) > lines[i - 1].start and text[q - len(word):q] == word:
                    p = self._back_over_parens(q - len(word), lines[i - 1].start)
            lines[i].start = p
        for i in range(1, len(lines)):  # keep starts in source order for the bisections
            lines[i].start = max(lines[i].start, lines[i - 1].start)
        for i, line in enumerate(lines):
            nxt = lines[i + 1].start if i + 1 < len(lines) else len(text)
            line.end = max(line.start, self.pos.code_end_before(max(nxt, line.start)))
        starts = [line.start for line in lines]
        reach = []  # reach[k]: the furthest end among lines[:k + 1]
        for line in lines:
            reach.append(max(line.end, reach[-1]) if reach else line.end)
        before: dict[int, list[ast.Comment]] = {}
        trailing: dict[int, list[ast.Comment]] = {}
        for c in self.comments:
            o = c.span.start
            line_start = text.rfind("\n", 0, o) + 1
            full = not text[line_start:o].strip()
            if not full:
                i = bisect.bisect_right(starts, o) - 1
                if i >= 0:
                    trailing.setdefault(i, []).append(c)
                    continue
            idx = bisect.bisect_right(reach, o)  # the first line that ends after the comment
            before.setdefault(idx, []).append(c)
        # one trailing comment per line; the others become full-line comments before the next line
        for i in sorted(trailing):
            extra = trailing[i][1:]
            trailing[i] = trailing[i][:1]
            if extra:
                before.setdefault(i + 1, [])
                before[i + 1] = sorted(extra + before[i + 1], key=lambda c: c.span.start)
        return self._with_blanks(lines, before, trailing)

    def _back_over_parens(self, p: int, floor: int) -> int:
        text = self.pos.text
        while True:
            q = self.pos.code_end_before(p)
            if q > floor + 1 and text[q - 1] == "(":
                p = q - 1
            else:
                return p

    def _with_blanks(self, lines, before, trailing) -> list[_Entry]:
        text = self.pos.text if self.pos is not None else ""
        out: list[_Entry] = []
        seen_end = 0
        header_done = False

        def blank_before(start: int | None) -> bool:
            if self.pos is None or start is None or start <= seen_end:
                return False
            return _BLANK_RE.search(text, seen_end, start) is not None

        def add_blank(is_header: bool, closes: bool, wanted: bool) -> None:
            nonlocal header_done
            if not out:
                return
            if not is_header and not header_done and any(e.header for e in out):
                header_done = True
                wanted = True  # one blank line after the header
            if not wanted or closes:
                return
            if out[-1].kind == "blank":
                return
            if out[-1].kind == "line" and out[-1].line.opens:
                return
            out.append(_Entry("blank"))

        for i, line in enumerate(lines + [None]):
            for c in before.get(i, []):
                if line is None:
                    indent, header = 0, False
                else:
                    indent, header = line.indent + (1 if line.closes else 0), line.header
                add_blank(header, False, blank_before(c.span.start))
                out.append(_Entry("comment", indent, text=c.text.rstrip(), header=header))
                seen_end = max(seen_end, c.span.end)
            if line is None:
                break
            add_blank(line.header, line.closes, blank_before(line.start))
            line.trailing = [c.text.rstrip() for c in trailing.get(i, [])]
            out.append(_Entry("line", line.indent, line=line, header=line.header))
            if line.end is not None:
                seen_end = max(seen_end, line.end)
            for c in trailing.get(i, []):
                seen_end = max(seen_end, c.span.end)
        return out


def _render(entries: list[_Entry]) -> str:
    # alignment: runs of consecutive lines with the same tag and indent
    i = 0
    texts: list[str] = []
    while i < len(entries):
        e = entries[i]
        if e.kind == "line" and e.line.tag is not None and ALIGN in e.line.parts:
            j = i
            while (j < len(entries) and entries[j].kind == "line" and entries[j].line.tag == e.line.tag
                   and entries[j].indent == e.indent and ALIGN in entries[j].line.parts):
                j += 1
            texts += _align([entries[k].line for k in range(i, j)])
            i = j
            continue
        texts.append(_plain_entry(e))
        i += 1
    code = [INDENT * e.indent + t if e.kind != "blank" else "" for e, t in zip(entries, texts)]
    # trailing comments of consecutive lines start in one column
    i = 0
    while i < len(entries):
        if not (entries[i].kind == "line" and entries[i].line.trailing):
            i += 1
            continue
        j = i
        while j < len(entries) and entries[j].kind == "line" and entries[j].line.trailing:
            j += 1
        width = max(len(code[k].rstrip()) for k in range(i, j))
        for k in range(i, j):
            code[k] = code[k].rstrip().ljust(width) + "  " + entries[k].line.trailing[0]
        i = j
    return "\n".join(line.rstrip() for line in code) + "\n"


def _plain_entry(e: _Entry) -> str:
    if e.kind == "comment":
        return e.text
    if e.kind == "blank":
        return ""
    return _cells_text(_cells(e.line), e.line.sep, None)


def _cells(line: _Line) -> list[str]:
    cells, cur = [], []
    for p in line.parts:
        if p is ALIGN:
            cells.append("".join(cur).rstrip())
            cur = []
        else:
            cur.append(p)
    cells.append("".join(cur))
    return cells


def _cells_text(cells: list[str], sep: str, widths: list[int] | None) -> str:
    out = []
    for k, cell in enumerate(cells):
        if k < len(cells) - 1:
            w = widths[k] if widths is not None and k < len(widths) else len(cell)
            out.append(cell.ljust(w) + sep)
        else:
            out.append(cell)
    return "".join(out)


def _align(lines: list[_Line]) -> list[str]:
    rows = [_cells(line) for line in lines]
    widths: list[int] = []
    for row in rows:
        for k, cell in enumerate(row[:-1]):
            if k == len(widths):
                widths.append(0)
            widths[k] = max(widths[k], len(cell))
    return [_cells_text(row, line.sep, widths) for row, line in zip(rows, lines)]


# ---------------------------------------------------------------- files (for `ipl fmt`)


@dataclass(frozen=True, slots=True)
class Formatted:
    """One file through the formatter: its bytes, its canonical text (None if it did not parse)."""

    path: str
    original: bytes
    text: str | None

    @property
    def changed(self) -> bool:
        return self.text is not None and self.text.encode("utf-8") != self.original

    def diff(self) -> str:
        """A unified diff from the file as it is to the canonical text."""
        import difflib

        old = self.original.decode("utf-8", errors="replace").lstrip("\ufeff")
        old = old.replace("\r\n", "\n").replace("\r", "\n")
        new = self.text or ""
        lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                     fromfile=self.path, tofile=f"{self.path} (formatted)")
        out = []
        for line in lines:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        if not out and self.changed:  # only line endings or a BOM differ
            out.append(f"--- {self.path}\n+++ {self.path} (formatted)\n# line endings or byte order mark only\n")
        return "".join(out)


def format_bytes(path: str, data: bytes, diags: Diagnostics) -> Formatted:
    """Decode, parse and format a file's bytes (E100 into `diags` when it does not parse)."""
    from dsl.front.syntax import parse_bytes

    source, tree = parse_bytes(path, data, diags)
    if tree is None or diags.has_errors:
        return Formatted(path, data, None)
    return Formatted(path, data, format_file(tree, source))


def rewrite(path: str, text: str) -> None:
    """Replace a file's content atomically (dsl/output.py: temporary file + rename, the file's
    own mode kept, a killed run's temporary file swept by the next), through a symlink to its
    target. Raises `output.OutputError` when it cannot be written."""
    from dsl.run.outputs import atomic_open

    with atomic_open(path, newline="\n") as handle:
        handle.write(text)
