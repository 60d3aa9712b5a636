"""Expressions through the printer: precedence, parentheses, and literals as they were written.

A mixin of `_Printer` (printer.py). Receives expression nodes. Guarantees the text parses back
to the same tree: an operand that binds looser than its place is parenthesized (the levels of
grammar/ipl.lark's `?expr` chain), and so is a `pool` whose open end would take a following
`among`, or a leading name that would read as a keyword; numbers keep their written digits (only
the `_` grouping changes), and a tree made up without spans prints from its values. Emits
nothing.

`_bare` is one `case` per expression kind, as the grammar lists them (STYLE.md, dispatch): it
is long because the language has that many kinds, and reads as the grammar does.
"""

from __future__ import annotations

import re
from decimal import Decimal

from dsl.front import ast
from dsl.front.source import Span
from dsl.front.syntax import RESERVED, keywords
from dsl.tools.fmt.lines import ALIGN, Frag, _cat, _frag, _join, _Line, _start, _string

# Precedence levels, lowest first (grammar/ipl.lark `?expr` chain).
OTHERWISE, OR, AND, NOT, CMP, SUM, PROD, UNARY, ATOM = range(1, 10)

_BINARY_LEVEL = {
    "or": OR, "and": AND,
    "<": CMP, "<=": CMP, ">": CMP, ">=": CMP, "==": CMP, "!=": CMP,
    "+": SUM, "-": SUM, "*": PROD, "/": PROD,
}

_NUMBER_RE = re.compile(r"[0-9](_?[0-9])*(\.[0-9](_?[0-9])*)?")


class Expressions:
    """The text of every kind of expression (a mixin of `_Printer`)."""

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
