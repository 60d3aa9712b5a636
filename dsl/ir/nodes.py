"""The typed IR: what every backend reads, and nothing else.

Lowered from the checked AST (dsl/ir/lower.py). Every expression node carries its type (with
the unit; money is in the program's currency), whether it is constant (it reads only literals,
params and module constants: a backend may compute it once per run), its value when the checker
could fold it, and its static interval (the range analysis of language §9.3); names are
resolved (`Ref`, `Local`, labels and members as `Literal`s), and the points where money is
rounded are explicit (`Component.rounds`, `Bound.rounds`, `Call("round")`). Definitions come in
dependency order; tables, scorecards, gates, caps, floors, holds, clawbacks, pools, ranks and
the budget are nodes of their own. Spans stay, for traces and explanations; equality ignores
them, as in the AST.

Nodes are frozen: a pass that changes the program (a test forcing a definition) builds a new
one with `dataclasses.replace`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Union

from dsl.checker.intervals import Interval
from dsl.checker.types import Type
from dsl.front.source import SourceFile, Span

node = dataclass(frozen=True, slots=True, kw_only=True)


def _span() -> Span:
    return field(default=None, compare=False, repr=False)  # type: ignore[return-value]


def _interval() -> Interval | None:
    return field(default=None, compare=False, repr=False)  # type: ignore[return-value]


# A definition's key: its name, or (module, name) for a definition of a used module.
Key = Union[str, tuple[str, str]]

# ------------------------------------------------------------------ expressions
# Every expression has `type`, `constant` (computable once per run), `value` (the checker's
# folded value, with params at their declared values; None when not folded) and `interval`.


@node
class Literal:
    """A number, percent, money amount, string, bool, enum member or level label."""

    value: Decimal | str | bool
    type: Type
    constant: bool = True
    interval: Interval | None = _interval()
    span: Span = _span()


@node
class Ref:
    """A definition read by name: `kind` is what it is (input, param, metric, tiers, scorecard,
    component, benefit); `key` its name, or (module, name) for a module's param or table."""

    key: Key
    kind: str
    type: Type
    constant: bool = False
    value: Decimal | None = None
    interval: Interval | None = _interval()
    span: Span = _span()


@node
class Local:
    """A parameter of the enclosing function."""

    name: str
    type: Type
    constant: bool = False
    value: Decimal | None = None
    interval: Interval | None = _interval()
    span: Span = _span()


@node
class Builtin:
    """A value the language gives: `eligible`, `reasons`, `periods_active`."""

    name: str
    type: Type
    constant: bool = False
    value: None = None
    interval: Interval | None = _interval()
    span: Span = _span()


@node
class Total:
    """`total` as a value: only inside `prior(total)`."""

    type: Type
    constant: bool = False
    value: None = None
    interval: Interval | None = _interval()
    span: Span = _span()


@node
class Unary:
    """`-x` or `not x`."""

    op: str
    operand: Expr
    type: Type
    constant: bool = False
    value: Decimal | None = None
    interval: Interval | None = _interval()
    span: Span = _span()


@node
class Binary:
    """Arithmetic, comparison and logic. A comparison of levels orders by band: `order` is the
    level's labels, lowest first (None for every other comparison)."""

    op: str
    left: Expr
    right: Expr
    type: Type
    order: tuple[str, ...] | None = None
    constant: bool = False
    value: Decimal | None = None
    interval: Interval | None = _interval()
    span: Span = _span()


@node
class Member:
    """`x in (a, b, ...)`."""

    operand: Expr
    items: tuple[Expr, ...]
    type: Type
    constant: bool = False
    value: None = None
    interval: Interval | None = _interval()
    span: Span = _span()


@node
class If:
    """`if cond then a else b`: only the branch chosen is evaluated."""

    cond: Expr
    then: Expr
    otherwise: Expr
    type: Type
    constant: bool = False
    value: None = None
    interval: Interval | None = _interval()
    span: Span = _span()


@node
class Pattern:
    """One pattern of a match arm: a member or label (`name`), `true`, `false` or `else`."""

    kind: str
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
    """`match subject { arms }`, exhaustive (the checker's E310)."""

    subject: Expr
    arms: tuple[Arm, ...]
    type: Type
    constant: bool = False
    value: None = None
    interval: Interval | None = _interval()
    span: Span = _span()


@node
class Otherwise:
    """`expr otherwise fallback`: the fallback when evaluating expr fails."""

    expr: Expr
    fallback: Expr
    type: Type
    constant: bool = False
    value: Decimal | None = None
    interval: Interval | None = _interval()
    span: Span = _span()


@node
class Call:
    """A builtin function: `min`, `max` (over numbers, or levels: `order` is the level's labels),
    `abs`, `clamp`, `round` (`places`: the constant number of places, None for the default),
    and the history functions `prior`, `trailing_sum|avg|min|max` (`n`: the constant k or n)
    and `streak` (`site`: its index among the program's streaks)."""

    func: str
    args: tuple[Expr, ...]
    type: Type
    n: int | None = None
    places: int | None = None
    order: tuple[str, ...] | None = None
    site: int | None = None
    constant: bool = False
    value: Decimal | None = None
    interval: Interval | None = _interval()
    span: Span = _span()


@node
class FuncCall:
    """A call of a `def` of the policy or of a module (`key`)."""

    key: Key
    args: tuple[Expr, ...]
    type: Type
    constant: bool = False
    value: Decimal | None = None
    interval: Interval | None = _interval()
    span: Span = _span()


@node
class Pool:
    """`pool AMOUNT by SHARE [among COND]` (language §16); `site` is its index among the
    program's program-wide sites."""

    amount: Expr
    share: Expr
    among: Expr | None
    site: int
    type: Type
    constant: bool = False
    value: None = None
    interval: Interval | None = _interval()
    span: Span = _span()


@node
class Rank:
    """`rank(x [among c])` or `percentile(...)` (language §16)."""

    kind: str
    operand: Expr
    among: Expr | None
    site: int
    type: Type
    constant: bool = False
    value: None = None
    interval: Interval | None = _interval()
    span: Span = _span()


Expr = Union[Literal, Ref, Local, Builtin, Total, Unary, Binary, Member, If, Match, Otherwise, Call, FuncCall,
             Pool, Rank]


def children(e: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of an expression, in source order."""
    match e:
        case Literal() | Ref() | Local() | Builtin() | Total():
            return ()
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
        case Call(args=args) | FuncCall(args=args):
            return args
        case Pool(amount=a, share=s, among=c):
            return (a, s) if c is None else (a, s, c)
        case Rank(operand=v, among=c):
            return (v,) if c is None else (v, c)
        case _:
            raise AssertionError(f"unhandled {type(e).__name__}")


def walk(e: Expr):
    """Every sub-expression, pre-order, without recursion (deep trees are legal)."""
    stack = [e]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(reversed(children(x)))


# ------------------------------------------------------------------ definitions


@node
class Doc:
    """What people read for a definition (language §4, `##` lines): its label and description."""

    label: str | None = None
    description: str = ""


class _Named:
    """What every definition answers: its name, kind, label, description and title (what
    people read: the label, or the name)."""

    __slots__ = ()

    @property
    def name(self) -> str:
        key = self.key
        return key if isinstance(key, str) else key[1]

    @property
    def kind(self) -> str:
        return KIND[type(self)]

    @property
    def label(self) -> str | None:
        return self.doc.label

    @property
    def description(self) -> str:
        return self.doc.description

    @property
    def title(self) -> str:
        return self.doc.label or self.name


@node
class Input(_Named):
    """A field of each record (language §4, §14)."""

    name: str
    type: Type
    column: str  # the CSV column or JSON key it is read from
    lo: Decimal | None = None  # the declared range, inclusive
    hi: Decimal | None = None
    default: Decimal | str | bool | None = None
    has_default: bool = False
    doc: Doc = Doc()
    span: Span = _span()


@node
class Param(_Named):
    """`param NAME : TYPE = EXPR`: a constant, overridable by `--set` (a module's is not)."""

    key: Key
    type: Type
    value: Expr
    doc: Doc = Doc()
    span: Span = _span()


@node
class Metric(_Named):
    """`metric NAME = EXPR`."""

    key: Key
    type: Type
    value: Expr
    reads: tuple[str, ...] = ()  # the policy definitions it reads by name (a trace's operands)
    text: str = ""  # the source of its expression
    doc: Doc = Doc()
    span: Span = _span()


@node
class Band:
    """A band of a table: `below` (lo None) or `from` a constant threshold."""

    kind: str  # below | from
    threshold: Expr
    value: Expr
    doc: Doc = Doc()
    span: Span = _span()


@node
class Table(_Named):
    """`tiers NAME on KEY [flat | marginal] { BANDS }` (language §9); a level table's band values
    are label `Literal`s."""

    key: Key
    type: Type  # what the table gives (a level for a level table)
    on: Expr
    mode: str  # flat | marginal
    bands: tuple[Band, ...]
    level: bool = False
    reads: tuple[str, ...] = ()
    text: str = ""
    doc: Doc = Doc()
    span: Span = _span()


@node
class Measure:
    """`METRIC weight W target T [cap C]` (language §10); weight, target and cap are constant."""

    metric: Expr
    weight: Expr
    target: Expr
    cap: Expr | None = None
    text: str = ""
    doc: Doc = Doc()
    span: Span = _span()


@node
class Scorecard(_Named):
    """`scorecard NAME { MEASURES }`: a percent."""

    key: Key
    type: Type
    measures: tuple[Measure, ...]
    reads: tuple[str, ...] = ()
    text: str = ""
    doc: Doc = Doc()
    span: Span = _span()


@node
class Gate:
    """`require COND else "REASON"`: in `eligibility` or on a component."""

    cond: Expr
    reason: str
    span: Span = _span()


@node
class Bound:
    """A floor or cap; money bounds are rounded to the minor unit (`rounds`, language §12)."""

    value: Expr
    rounds: bool = False
    recoverable: bool = False  # a total's floor that is a draw (language §15)
    span: Span = _span()


@node
class Hold:
    """`hold PORTION until COND within N periods` (language §15)."""

    portion: Expr
    until: Expr
    within: int
    span: Span = _span()


@node
class Component(_Named):
    """A `component` (a cash line, money) or a `benefit`: `value`, then the gates, floors and
    caps in the order of language §11, then rounded to the minor unit when money (`rounds`)."""

    key: Key
    kind: str  # component | benefit
    type: Type
    value: Expr
    requires: tuple[Gate, ...] = ()
    floors: tuple[Bound, ...] = ()
    caps: tuple[Bound, ...] = ()
    holds: tuple[Hold, ...] = ()
    rounds: bool = False
    reads: tuple[str, ...] = ()
    text: str = ""
    doc: Doc = Doc()
    span: Span = _span()


@node
class Function(_Named):
    """`def NAME(P : T, ...) -> T = EXPR`, of the policy or of a module."""

    key: Key
    params: tuple[tuple[str, Type], ...]
    returns: Type
    body: Expr
    doc: Doc = Doc()
    span: Span = _span()

    @property
    def type(self) -> Type:
        return self.returns


Definition = Union[Input, Param, Metric, Table, Scorecard, Component, Function]

KIND = {Input: "input", Param: "param", Metric: "metric", Table: "tiers", Scorecard: "scorecard",
        Function: "def"}


def kind_of(d: Definition) -> str:
    """input, param, metric, tiers, scorecard, component, benefit or def."""
    return d.kind if isinstance(d, Component) else KIND[type(d)]


# ------------------------------------------------------------------ the program


@node
class Clawback:
    """`clawback COMPONENT within N periods [when C] [recover P]` (language §15)."""

    component: str
    within: int
    when: Expr | None = None
    recover: Expr | None = None
    span: Span = _span()


@node
class History:
    """What the history of a multi-period run must keep (language §15): the names read through
    `prior` / `trailing_*` (the slots of a stored period), how many earlier periods they read,
    whether `prior(total)` is read, and the conditions of the `streak` calls."""

    names: tuple[str, ...] = ()
    window: int = 0
    uses_total: bool = False
    streaks: tuple[Expr, ...] = ()


@node
class Program:
    """A checked policy, lowered: the one input of every backend."""

    name: str
    version: str | None
    currency: str
    minor_units: int
    rounding: str  # half_even | half_up | down | up
    granularity: str | None  # the header's `period`
    id_input: str
    period_input: str | None
    inputs: tuple[Input, ...]
    definitions: dict[Key, Definition]  # every definition, module ones under (module, name)
    order: tuple[Key, ...]  # the policy's definitions, each after what it reads
    components: tuple[str, ...]
    benefits: tuple[str, ...]
    gates: tuple[Gate, ...]  # eligibility
    floors: tuple[Bound, ...] = ()  # the total's
    caps: tuple[Bound, ...] = ()
    clawbacks: tuple[Clawback, ...] = ()
    budget: Expr | None = None
    levels: dict[str, tuple[str, ...]] = field(default_factory=dict)  # level table -> labels in order
    sites: tuple[Pool | Rank, ...] = ()  # program-wide sites, by index
    history: History = History()
    doc: Doc = Doc()
    source: SourceFile = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    @property
    def multi(self) -> bool:
        """Whether the run needs periods, history, a ledger or program-wide figures (language
        §15, §16): a period input, a pool or rank, a budget, a clawback, a hold or a draw."""
        return (self.period_input is not None or self.budget is not None or bool(self.clawbacks)
                or bool(self.sites) or any(f.recoverable for f in self.floors)
                or any(self.definitions[n].holds for n in self.components))

    def title(self, name: str) -> str:
        """What people read for a definition: its label, or its name."""
        d = self.definitions.get(name)
        return (d.doc.label if d is not None and not isinstance(d, Function) and d.doc.label else None) or name


def decision_key(kind: str, node, outcome) -> tuple:
    """The identity of one outcome of a decision, for coverage (dsl/tools/coverage.py) and the
    traced variant's branch events: an `if` branch ("then"/"else"), a `match` arm (its index)
    or an `otherwise` ("taken"/"not taken"), by the node's position, so that equal nodes stay
    apart. AST and IR nodes of one expression share their span, so both give the same key."""
    span = node.span
    return (kind, span.path, span.start, span.end, outcome)
