"""The surface syntax tree of IPL: frozen nodes that do nothing.

Every node has a `span` that equality ignores (tests compare trees without
positions); a node a later pass makes up takes the span of the node it came
from. Class names are nouns matching the grammar rules of grammar/ipl.lark.

Why one module of some 650 lines: it is a catalogue, some fifty small node classes of a few
fields and a one-line docstring each, in the order of the grammar (expressions, declarations,
files, test files), with `children` and `walk` at the end; every pass reads it as `ast.Binary`,
`ast.Tiers`, and reading the whole tree in one place is what a catalogue is for. Splitting it
would add modules, not clarity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Union

from dsl.front.source import Span


def _span() -> Span:
    return field(default=None, compare=False, repr=False)  # type: ignore[return-value]


node = dataclass(frozen=True, slots=True, kw_only=True)


def _doc() -> Doc | None:
    # documentation is not part of the meaning: trees compare equal with or without it
    return field(default=None, compare=False, repr=False)  # type: ignore[return-value]


# ------------------------------------------------------------------ expressions


@node
class Number:
    """A decimal literal: `42`, `3.5`, `1_000_000`."""

    value: Decimal
    span: Span = _span()


@node
class Percent:
    """A percent literal; `value` is the fraction (`12.5%` is 0.125)."""

    value: Decimal
    span: Span = _span()


@node
class Money:
    """A money literal: an amount and an ISO 4217 code."""

    amount: Decimal
    currency: str
    span: Span = _span()


@node
class String:
    """A string literal, escapes resolved."""

    value: str
    span: Span = _span()


@node
class Bool:
    """`true` or `false`."""

    value: bool
    span: Span = _span()


@node
class Name:
    """A reference to a declaration, a parameter of a `def`, an enum member or a label."""

    name: str
    span: Span = _span()


@node
class Qualified:
    """A name from a module: `metrics.some_param`."""

    module: str
    name: str
    span: Span = _span()


@node
class TotalRef:
    """The keyword `total` used as a value (history: `prior(total)`)."""

    span: Span = _span()


@node
class Call:
    """A call of a builtin, a `def`, or (with `module`) a module's `def`."""

    func: str
    args: tuple[Expr, ...]
    module: str | None = None
    span: Span = _span()


@node
class Unary:
    """`-x` or `not x`."""

    op: str  # "-" | "not"
    operand: Expr
    span: Span = _span()


@node
class Binary:
    """Arithmetic, comparison and logic: + - * / < <= > >= == != and or."""

    op: str
    left: Expr
    right: Expr
    op_span: Span = _span()
    span: Span = _span()


@node
class Member:
    """`x in (a, b, ...)`."""

    operand: Expr
    items: tuple[Expr, ...]
    span: Span = _span()


@node
class If:
    """`if cond then a else b`."""

    cond: Expr
    then: Expr
    otherwise: Expr
    span: Span = _span()


@node
class Pattern:
    """One pattern of a match arm: a member name, `true`, `false` or `else`."""

    kind: str  # "name" | "true" | "false" | "else"
    name: str | None = None
    span: Span = _span()


@node
class Arm:
    """`a | b -> value`."""

    patterns: tuple[Pattern, ...]
    value: Expr
    span: Span = _span()


@node
class Match:
    """`match subject { arms }`."""

    subject: Expr
    arms: tuple[Arm, ...]
    span: Span = _span()


@node
class Otherwise:
    """`expr otherwise fallback`: the fallback when evaluating expr fails (§4.1)."""

    expr: Expr
    fallback: Expr
    span: Span = _span()


@node
class Pool:
    """`pool AMOUNT by SHARE [among COND]` (§15)."""

    amount: Expr
    share: Expr
    among: Expr | None = None
    span: Span = _span()


@node
class Rank:
    """`rank(x [among C])` or `percentile(x [among C])` (§15)."""

    kind: str  # "rank" | "percentile"
    value: Expr
    among: Expr | None = None
    span: Span = _span()


@node
class ListLit:
    """`[a, b]`: only meaningful as the expected value of `reasons` in tests."""

    items: tuple[Expr, ...]
    span: Span = _span()


Expr = Union[
    Number, Percent, Money, String, Bool, Name, Qualified, TotalRef, Call, Unary, Binary,
    Member, If, Match, Otherwise, Pool, Rank, ListLit,
]

# ------------------------------------------------------------------ declarations


@node
class Doc:
    """`##` lines directly above a declaration, band, measure or the header (§2a): the first is
    the label people read instead of the name; the rest, joined by newlines, the description."""

    label: str
    description: str = ""


@node
class TypeRef:
    """A written type: a builtin type name, `enum(a, b)`, or a level (a tiers table's name)."""

    name: str  # "money" ... "period", "enum", or the name of a level table
    members: tuple[str, ...] = ()
    span: Span = _span()


@node
class Range:
    """`in LO..HI` on an input; either end may be missing."""

    lo: Expr | None
    hi: Expr | None
    span: Span = _span()


@node
class Header:
    """`policy "NAME"` with its fields; a missing field is None."""

    name: str
    version: str | None = None
    currency: str | None = None
    period: str | None = None
    rounding: str | None = None
    field_spans: tuple[tuple[str, Span], ...] = field(default=(), compare=False, repr=False)
    doc: Doc | None = _doc()
    span: Span = _span()

    def field_span(self, name: str) -> Span:
        for key, span in self.field_spans:
            if key == name:
                return span
        return self.span


@node
class Use:
    """`use NAME`."""

    name: str
    span: Span = _span()


@node
class Input:
    """`input NAME : TYPE [in RANGE] [= DEFAULT] [column "HEADER"]` (§2a: the column read)."""

    name: str
    type: TypeRef
    range: Range | None = None
    default: Expr | None = None
    column: str | None = None
    name_span: Span = _span()
    doc: Doc | None = _doc()
    span: Span = _span()


@node
class Param:
    """`param NAME : TYPE = EXPR`."""

    name: str
    type: TypeRef
    value: Expr
    name_span: Span = _span()
    doc: Doc | None = _doc()
    span: Span = _span()


@node
class Metric:
    """`metric NAME [: TYPE] = EXPR`."""

    name: str
    type: TypeRef | None
    value: Expr
    name_span: Span = _span()
    doc: Doc | None = _doc()
    span: Span = _span()


@node
class DefParam:
    """One parameter of a `def`."""

    name: str
    type: TypeRef
    span: Span = _span()


@node
class Def:
    """`def NAME(P : T, ...) -> T = EXPR`."""

    name: str
    params: tuple[DefParam, ...]
    returns: TypeRef
    body: Expr
    name_span: Span = _span()
    doc: Doc | None = _doc()
    span: Span = _span()


@node
class Band:
    """One band of a tier table: `below T -> V` or `from T -> V`."""

    kind: str  # "below" | "from"
    threshold: Expr
    value: Expr
    doc: Doc | None = _doc()
    span: Span = _span()


@node
class Tiers:
    """`tiers NAME on KEY [flat | marginal] { BANDS }` (§6)."""

    name: str
    key: Expr
    mode: str  # "flat" | "marginal"
    bands: tuple[Band, ...]
    mode_written: bool = False  # whether `flat`/`marginal` was spelled out
    name_span: Span = _span()
    doc: Doc | None = _doc()
    span: Span = _span()


@node
class Measure:
    """`METRIC weight W target T [cap C]` (§7)."""

    metric: Expr
    weight: Expr
    target: Expr
    cap: Expr | None = None
    doc: Doc | None = _doc()
    span: Span = _span()


@node
class Scorecard:
    """`scorecard NAME { MEASURES }` (§7)."""

    name: str
    measures: tuple[Measure, ...]
    name_span: Span = _span()
    doc: Doc | None = _doc()
    span: Span = _span()


@node
class Require:
    """`require COND else "REASON"`: in `eligibility` or on a component (§8)."""

    cond: Expr
    reason: str
    span: Span = _span()


@node
class Eligibility:
    """`eligibility { require ... }` (§8)."""

    requires: tuple[Require, ...]
    doc: Doc | None = _doc()
    span: Span = _span()


@node
class Floor:
    """`floor EXPR [recoverable]`."""

    value: Expr
    recoverable: bool = False
    span: Span = _span()


@node
class Cap:
    """`cap EXPR`."""

    value: Expr
    span: Span = _span()


@node
class Hold:
    """`hold PORTION until COND within N periods` (§14.2)."""

    portion: Expr
    until: Expr
    within: Expr
    span: Span = _span()


Modifier = Union[Require, Floor, Cap, Hold]


@node
class Component:
    """`component NAME = EXPR MODIFIERS` or `benefit NAME = EXPR MODIFIERS`."""

    kind: str  # "component" | "benefit"
    name: str
    value: Expr
    modifiers: tuple[Modifier, ...] = ()
    name_span: Span = _span()
    doc: Doc | None = _doc()
    span: Span = _span()

    @property
    def requires(self) -> tuple[Require, ...]:
        return tuple(m for m in self.modifiers if isinstance(m, Require))

    @property
    def floors(self) -> tuple[Floor, ...]:
        return tuple(m for m in self.modifiers if isinstance(m, Floor))

    @property
    def caps(self) -> tuple[Cap, ...]:
        return tuple(m for m in self.modifiers if isinstance(m, Cap))

    @property
    def holds(self) -> tuple[Hold, ...]:
        return tuple(m for m in self.modifiers if isinstance(m, Hold))


@node
class Clawback:
    """`clawback NAME within N periods [when COND] [recover PORTION]` (§14.3)."""

    component: str
    within: Expr
    when: Expr | None = None
    recover: Expr | None = None
    name_span: Span = _span()
    doc: Doc | None = _doc()
    span: Span = _span()


@node
class Total:
    """`total { floor ... cap ... }` (§8, §14.5)."""

    items: tuple[Floor | Cap, ...]
    doc: Doc | None = _doc()
    span: Span = _span()


@node
class Budget:
    """`budget B per period` (§15)."""

    amount: Expr
    span: Span = _span()


@node
class Program:
    """`program { budget ... }` (§15)."""

    budgets: tuple[Budget, ...]
    doc: Doc | None = _doc()
    span: Span = _span()


Decl = Union[
    Use, Input, Param, Metric, Def, Tiers, Scorecard, Eligibility, Component, Clawback, Total,
    Program,
]

# ------------------------------------------------------------------ files


@node
class Comment:
    """A `#` comment, kept for the formatter."""

    text: str
    span: Span = _span()


@node
class PolicyFile:
    """A policy: one header, then declarations in any order."""

    header: Header
    decls: tuple[Decl, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False, repr=False)
    span: Span = _span()


@node
class ModuleFile:
    """`module NAME` and its `def`, `param` and `tiers` declarations."""

    name: str
    decls: tuple[Decl, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False, repr=False)
    name_span: Span = _span()
    span: Span = _span()


# ------------------------------------------------------------------ test files (§10)


@node
class Assign:
    """`NAME = EXPR` in a fixture or `with` block; `param NAME = EXPR` overrides a param."""

    name: str
    value: Expr
    is_param: bool = False
    span: Span = _span()


@node
class Fixture:
    """`fixture NAME { assignments }`."""

    name: str
    fields: tuple[Assign, ...]
    name_span: Span = _span()
    span: Span = _span()


@node
class PeriodGiven:
    """`"2026-Q1" -> fixture [with { ... }]` inside `given periods { }`."""

    period: str
    fixture: str
    overrides: tuple[Assign, ...] = ()
    span: Span = _span()


@node
class Given:
    """`given FIXTURE [with {..}]`, `given { .. }` or `given periods { .. }`."""

    fixture: str | None = None
    overrides: tuple[Assign, ...] = ()
    periods: tuple[PeriodGiven, ...] = ()
    span: Span = _span()


@node
class Expect:
    """`expect [in P] NAME = V`, `expect [in P] clawback NAME = V`, `expect [in P] error "T"`."""

    name: str | None
    value: Expr | None
    period: str | None = None
    clawback: bool = False
    error: str | None = None
    span: Span = _span()


@node
class Test:
    """`test "NAME" { given ... expect ... }`."""

    name: str
    givens: tuple[Given, ...]
    expects: tuple[Expect, ...]
    span: Span = _span()


@node
class TestFile:
    """`tests for "PATH"` with fixtures and tests."""

    target: str
    fixtures: tuple[Fixture, ...]
    tests: tuple[Test, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False, repr=False)
    target_span: Span = _span()
    span: Span = _span()


File = Union[PolicyFile, ModuleFile, TestFile]


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of an expression, in source order."""
    match expr:
        case Number() | Percent() | Money() | String() | Bool() | Name() | Qualified() | TotalRef():
            return ()
        case Call(args=args):
            return args
        case Unary(operand=x):
            return (x,)
        case Binary(left=a, right=b):
            return (a, b)
        case Member(operand=x, items=items):
            return (x, *items)
        case If(cond=c, then=a, otherwise=b):
            return (c, a, b)
        case Match(subject=s, arms=arms):
            return (s, *(a.value for a in arms))
        case Otherwise(expr=a, fallback=b):
            return (a, b)
        case Pool(amount=a, share=s, among=c):
            return (a, s) if c is None else (a, s, c)
        case Rank(value=v, among=c):
            return (v,) if c is None else (v, c)
        case ListLit(items=items):
            return items
        case _:
            raise AssertionError(f"unhandled {type(expr).__name__}")


def walk(expr: Expr):
    """Every sub-expression, pre-order, without recursion (deep trees are allowed)."""
    stack = [expr]
    while stack:
        e = stack.pop()
        yield e
        stack.extend(reversed(children(e)))
