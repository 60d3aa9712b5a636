"""Declarations through the type pass: inputs, scorecards (language §10), components and
benefits (§11), conditions, and what is constant; tables (§9) are tables.py.

A mixin of `Typer` (dsl/checker/typecheck.py), over its state. Emits E300, E301, E304 (declared
types; what a component or benefit may be), E403 (not constant), E500, E501 (scorecards),
E600 (caps and floors).
"""

from __future__ import annotations

from decimal import Decimal

from dsl.checker.text import article, fmt_number, fmt_percent
from dsl.checker.types import BOOL, COUNT, ERROR, MONEY, PERCENT, Kind, Type, assignable, comparable, unit_hint
from dsl.front import ast

BENEFIT_KINDS = frozenset({Kind.MONEY, Kind.BOOL, Kind.LEVEL, Kind.NUMBER, Kind.PERCENT, Kind.COUNT})


class Declarations:
    """The type rules of each kind of declaration (a mixin of `Typer`)."""

    def declared_hint(self, actual: Type, declared: Type, expr: ast.Expr) -> str | None:
        if actual.kind is Kind.PERCENT and declared.kind is Kind.MONEY:
            return "a percent is a rate: multiply it by an amount to get money"
        if actual.kind in (Kind.NUMBER, Kind.COUNT) and declared.kind is Kind.MONEY \
                and isinstance(expr, ast.Number):
            return f"write `{expr.span.text} {self.currency or 'USD'}`"
        if actual.kind in (Kind.NUMBER, Kind.COUNT) and declared.kind is Kind.PERCENT \
                and isinstance(expr, ast.Number):
            return f"write a percent: `{fmt_number(expr.value * 100)}%`"
        if actual.kind is Kind.NUMBER and declared.kind is Kind.COUNT:
            return "a count is a whole number >= 0: declare it `number`, or use `round(...)`"
        return None

    def check_input(self, decl: ast.Input) -> Type:
        t = self.type_ref(decl.type)
        if decl.range is not None:
            if not t.is_numeric and t is not ERROR:
                self.err("E304", f"a range needs a numeric type, but `{decl.name}` is {t}", decl.range.span)
            else:
                bounds = []
                for bound in (decl.range.lo, decl.range.hi):
                    if bound is None:
                        bounds.append(None)
                        continue
                    bt = self.infer(bound, {}, t)
                    if not assignable(bt, t, self.constants.get(id(bound))):
                        self.err("E304", f"the range of `{decl.name}` ({t}) has {article(bt)} bound",
                                 bound.span, help=self.declared_hint(bt, t, bound))
                    bounds.append(self.constants.get(id(bound)))
                lo, hi = bounds
                if lo is not None and hi is not None and lo > hi:
                    self.err("E304", f"the range of `{decl.name}` is empty: {fmt_number(lo)} is above {fmt_number(hi)}",
                             decl.range.span)
        if decl.default is not None:
            dt = self.infer(decl.default, {}, t)
            if t.kind in (Kind.ID, Kind.PERIOD):
                self.err("E304", f"the {t.kind.value} input `{decl.name}` cannot have a default",
                         decl.default.span)
            elif not assignable(dt, t, self.constants.get(id(decl.default))):
                self.err("E304", f"input `{decl.name}` is {t} but its default is {dt}", decl.default.span,
                         help=self.declared_hint(dt, t, decl.default))
            elif not self.is_constant(decl.default):
                self.err("E304", f"the default of `{decl.name}` must be a literal", decl.default.span)
        return t

    def check_scorecard(self, decl: ast.Scorecard) -> None:
        total = Decimal(0)
        weights_known = True
        for m in decl.measures:
            mt = self.infer(m.metric, {}, None)
            if mt is not ERROR and not mt.is_numeric:
                self.err("E300", f"a scorecard measure must be numeric, but it is {mt}", m.metric.span)
                mt = ERROR
            wt = self.infer(m.weight, {}, PERCENT)
            if wt is not ERROR and wt != PERCENT:
                self.err("E301" if wt.is_numeric else "E300", f"a weight must be a percent, not {wt}",
                         m.weight.span, help=self.declared_hint(wt, PERCENT, m.weight))
                weights_known = False
            elif not self.is_constant(m.weight):
                self.err("E403", "scorecard weights must be constant", m.weight.span)
                weights_known = False
            elif id(m.weight) in self.constants:
                total += self.constants[id(m.weight)]
            else:
                weights_known = False
            tt = self.infer(m.target, {}, mt)
            if not self.is_constant(m.target):
                self.err("E403", "scorecard targets must be constant", m.target.span)
            elif mt is not ERROR and tt is not ERROR and not comparable("==", mt, tt):
                self.err("E501", f"the target of `{m.metric.span.text}` must be {mt}, not {tt}",
                         m.target.span, help=unit_hint("==", mt.kind, tt.kind, m.metric.span.text,
                                                       m.target.span.text, self.currency or "USD"))
            elif self.constants.get(id(m.target)) == 0:
                self.err("E501", "a scorecard target cannot be zero (attainment divides by it)",
                         m.target.span)
            if m.cap is not None:
                ct = self.infer(m.cap, {}, PERCENT)
                if ct is not ERROR and ct != PERCENT:
                    self.err("E300", f"a measure's cap must be a percent, not {ct}", m.cap.span)
                elif not self.is_constant(m.cap):
                    self.err("E403", "a measure's cap must be constant", m.cap.span)
        if weights_known and total != 1:
            self.err("E500", f"the weights of `{decl.name}` add up to {fmt_percent(total)}, not 100 %",
                     decl.name_span, help="weights must add up to exactly 100 %")

    def check_component(self, decl: ast.Component) -> Type:
        is_component = decl.kind == "component"
        vt = self.infer(decl.value, {}, MONEY if is_component else None)
        if is_component and vt is not ERROR and vt != MONEY:
            hint = ("a percent is a rate: multiply it by an amount, e.g. `joint_revenue * "
                    f"{decl.value.span.text}`" if vt.kind is Kind.PERCENT else
                    "a component is a cash payout: its expression must be money")
            self.err("E304", f"component `{decl.name}` must be money, but its expression is {vt}",
                     decl.value.span, help=hint)
        if not is_component and vt is not ERROR and vt.kind not in BENEFIT_KINDS:
            self.err("E304", f"benefit `{decl.name}` is {vt}; a benefit is money, bool, a level, number, "
                     "percent or count", decl.value.span)
        own = MONEY if is_component else vt
        floors, caps = [], []
        for mod in decl.modifiers:
            match mod:
                case ast.Require():
                    self.condition(mod.cond, {}, "a `require` condition")
                case ast.Floor() | ast.Cap():
                    word = "floor" if isinstance(mod, ast.Floor) else "cap"
                    mt = self.infer(mod.value, {}, own)
                    if own is not ERROR and not own.is_numeric:
                        self.err("E600", f"{article(own)} {decl.kind} cannot have a {word}", mod.span)
                    elif not assignable(mt, own, self.constants.get(id(mod.value))):
                        self.err("E600", f"a {word} of `{decl.name}` must be {own}, not {mt}", mod.value.span,
                                 help=self.declared_hint(mt, own, mod.value))
                    (floors if word == "floor" else caps).append(mod)
                    if isinstance(mod, ast.Floor) and mod.recoverable:
                        self.err("E300", "`recoverable` applies to the total's floor only", mod.span,
                                 help="move it into `total { floor ... recoverable }`")
                case ast.Hold():
                    if not is_component:
                        self.err("E300", "only a component can hold money back", mod.span)
                    if not self.multi_period:
                        self.err("E300", "`hold` needs a multi-period policy", mod.span,
                                 help="add an input of type `period`")
                    pt = self.infer(mod.portion, {}, PERCENT)
                    if pt is not ERROR and pt != PERCENT:
                        self.err("E300", f"the held portion must be a percent, not {pt}", mod.portion.span)
                    self.condition(mod.until, {}, "a `hold ... until` condition")
                    self.infer(mod.within, {}, COUNT)
                    self.int_constant(mod.within, "`within`")
                case _:
                    raise AssertionError(f"unhandled {type(mod).__name__}")
        self.floor_above_cap(floors, caps)
        return own

    def floor_above_cap(self, floors, caps) -> None:
        for f in floors:
            fv = self.constants.get(id(f.value))
            if fv is None or not self.is_constant(f.value):
                continue
            for c in caps:
                cv = self.constants.get(id(c.value))
                if cv is not None and self.is_constant(c.value) and fv > cv:
                    self.err("E600", f"floor {f.value.span.text} is above cap {c.value.span.text}", f.span,
                             help="a cap wins over a floor, so this floor can never pay: lower it "
                             "or raise the cap")

    def condition(self, expr: ast.Expr, env, what: str) -> None:
        t = self.infer(expr, env, BOOL)
        if t is not ERROR and t != BOOL:
            self.err("E300", f"{what} must be a bool, but it is {t}", expr.span,
                     help="compare it, e.g. `x > 0`" if t.is_numeric else None)

    # ------------------------------------------------------------------ expressions
