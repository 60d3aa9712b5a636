"""The AST builder's rules for files, headers, declarations and test files: one method per
grammar rule (grammar/ipl.lark), named after it (spec §2, §2a, §10, §23.5).

Receives the children of one node of the parse tree, already built (syntax.py walks the tree
bottom up and calls the method named after each rule with its position, `meta`, and its
children: AST nodes, tokens, or None for an optional part left out). Guarantees the AST node
of dsl/front/ast.py for that rule, spans from `meta` and the tokens. Emits: E100 (a reserved
word used as a name, an unknown escape in a string, a number literal beyond 34 significant
digits, an unknown period or rounding mode, an empty column name), E201 (a header field given
twice); `failed` says whether a rule reported an error.

The rules use nothing of lark: a token is read through its text, type and position (`Token`);
lark itself stays in syntax.py. Expressions are built by build_expr.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from dsl.front import ast
from dsl.front.diagnostics import Diagnostics
from dsl.front.source import SourceFile, Span
from dsl.front.words import PERIOD_KINDS, RESERVED, ROUNDING_MODES

# §9: 34 significant digits; a literal that does not fit cannot be exact.
MAX_DIGITS = 34


class Token(Protocol):
    """A token as the rules read it (a lark `Token`, which is also its text as a `str`)."""

    type: str
    value: str
    start_pos: int
    end_pos: int


def listed(items: list[str]) -> str:
    """`a, b or c`; at most 8 items, then how many more."""
    if len(items) > 8:
        return ", ".join(items[:8]) + f" or one of {len(items) - 8} more"
    if len(items) <= 1:
        return "".join(items) or "something else"
    return ", ".join(items[:-1]) + " or " + items[-1]


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


class Rules:
    """What every rule reads: the source, the diagnostics, spans and checked names."""

    def __init__(self, source: SourceFile, diags: Diagnostics):
        self.source = source
        self.diags = diags
        self.failed = False

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


class FileRules(Rules):
    """Policy, module and test files (§10), and the policy's header."""

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
            self._err(f"unknown period `{value}`: expected {listed([f'`{k}`' for k in PERIOD_KINDS])}",
                      self._tok(children[0]))
        return ("period", value, self._span(meta))

    def h_rounding(self, meta, children):
        value = str(children[0])
        if value not in ROUNDING_MODES:
            self._err(f"unknown rounding mode `{value}`: expected {listed([f'`{k}`' for k in ROUNDING_MODES])}",
                      self._tok(children[0]))
        return ("rounding", value, self._span(meta))

    # test files (§10)
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


class DeclarationRules(Rules):
    """Declarations: `use`, `input`, `param`, `metric`, `def`, tables, scorecards,
    eligibility, components and benefits with their modifiers, clawbacks, `total`, `program`."""

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
