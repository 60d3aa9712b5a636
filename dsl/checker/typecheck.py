"""The checker: types and units, tier tables, scorecards, caps and floors (§4, §6.2, §7, §8).

Receives a parsed file (policy, module or test file) and its path. For a policy
it runs, as stages: modules (loader.py) and names (names.py); types (this
module); ranges (ranges.py). Every stage keeps going so that all its errors are
reported; the range stage runs only when the earlier stages found no errors
(intervals over ill-typed code would only add noise). Expressions whose type
could not be found get the ERROR type, which is silently compatible with
everything so that one mistake is reported once.

Guarantees: `check_policy` returns a `CheckedPolicy` (dsl/ir.py) exactly when
the policy has no errors, with `types` for every expression node, `refs` for
every name and call, `constants` for every constant numeric expression.

Emits: E300 (operator, condition and branch types), E301 (unit confusion, with
the fix of `types.unit_hint`), E302 (currency), E303 (calls), E304 (declared
types; what a component or benefit may be), E310/E311/W103 (match), E400,
E402, E403, E311 (tables), E500, E501, E403 (scorecards), E600 (caps and
floors), W104 (history without `otherwise`); E700 for test files; and, through
names.py, loader.py and ranges.py, E200–E204, W100, E401, W101, W102.
"""

from __future__ import annotations

import dataclasses

from decimal import Decimal, DivisionByZero, InvalidOperation
from pathlib import Path

from dsl.front import ast
from dsl.checker.currency import minor_units
from dsl.front.diagnostics import Diagnostics
from dsl.checker.checked import CheckedModule, CheckedPolicy, Definition, Ref
from dsl.checker.names import ELIGIBILITY, HISTORY_FUNCTIONS, TOTAL, Resolution, decl_exprs, resolve, suggest
from dsl.front.source import SourceFile
from dsl.checker.types import (
    BOOL, BUILTIN_TYPES, COUNT, ERROR, LIST, MEMBERSHIP, MONEY, NEGATION, NUMBER, PERCENT, TEXT,
    Kind, Type, arithmetic, assignable, comparable, is_unit_confusion, unify, unit_hint,
)

COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
BENEFIT_KINDS = frozenset({Kind.MONEY, Kind.BOOL, Kind.LEVEL, Kind.NUMBER, Kind.PERCENT, Kind.COUNT})
HISTORY_TARGETS = ("input", "metric", "tiers", "scorecard", "component", "benefit")
_VERBS = {"+": ("add", "to"), "-": ("subtract", "from"), "*": ("multiply", "by"), "/": ("divide", "by")}


def _a(t: Type | str) -> str:
    s = str(t)
    return ("an " if s[:1] in "aeiou" else "a ") + s


class _Types:
    """The type pass over one policy or module (after names.py)."""

    def __init__(self, source: SourceFile, file, res: Resolution, diags: Diagnostics,
                 currency: str | None):
        self.source = source
        self.file = file
        self.res = res
        self.diags = diags
        self.currency = currency
        self.is_module = isinstance(file, ast.ModuleFile)
        self.multi_period = res.period_input is not None
        self.types: dict[int, Type] = {}
        self.constants: dict[int, Decimal] = {}
        self.refs = res.refs
        self.decl_types: dict[str, Type] = {}
        self.param_values: dict[str, Decimal] = {}
        self.in_progress: set[str] = set()
        self.direct_program_wide: set[str] = set()
        self.direct_history: set[str] = set()
        self.current: str | None = None
        for mod in res.modules.values():
            self.param_values.update({f"{mod.name}.{k}": v for k, v in mod.constants.items()})

    # ------------------------------------------------------------------ helpers
    def err(self, code: str, message: str, span, help: str | None = None, label: str | None = None):
        self.diags.error(code, message, span, help=help, label=label)

    def type_ref(self, tref: ast.TypeRef | None) -> Type:
        if tref is None:
            return ERROR
        if tref.name == "enum":
            return Type(Kind.ENUM, tref.members)
        if tref.name in BUILTIN_TYPES:
            return BUILTIN_TYPES[tref.name]
        if tref.name in self.res.levels:
            return Type(Kind.LEVEL, self.res.levels[tref.name], tref.name)
        return ERROR  # names.py reported E200

    def zero_of(self, t: Type) -> str:
        return {Kind.MONEY: f"0 {self.currency or 'USD'}", Kind.PERCENT: "0%"}.get(t.kind, "0")

    def is_constant(self, expr: ast.Expr) -> bool:
        """Depends on literals, params, members and labels only (§6: thresholds, rates...)."""
        for e in ast.walk(expr):
            match e:
                case ast.Name() | ast.Qualified():
                    ref = self.refs.get(id(e))
                    if ref is None:
                        continue
                    if ref.kind == "definition":
                        kind = (self.res.modules[ref.module].definitions[ref.name].kind if ref.module
                                else self.res.kinds.get(ref.name))
                        if kind != "param":
                            return False
                    elif ref.kind in ("local", "builtin"):
                        return False
                case ast.TotalRef() | ast.Pool() | ast.Rank():
                    return False
                case ast.Call(func=f, module=None) if f in HISTORY_FUNCTIONS:
                    return False
                case _:
                    pass
        return True

    def int_constant(self, expr: ast.Expr, what: str, code_nonconst: str = "E403") -> None:
        """`n`, `k`, `within`: a constant whole number >= 1."""
        value = self.constants.get(id(expr))
        if not self.is_constant(expr) or value is None:
            self.err(code_nonconst, f"{what} must be a constant whole number", expr.span)
        elif value != value.to_integral_value() or value < 1:
            self.err("E303" if code_nonconst == "E303" else "E300",
                     f"{what} must be a whole number of at least 1, not {_fmt(value)}", expr.span)

    # ------------------------------------------------------------------ declarations
    def decl_type(self, name: str) -> Type:
        """The type of a definition, checking it first when its type is inferred."""
        if name in self.decl_types:
            return self.decl_types[name]
        decl = self.res.decls[name]
        match decl:
            case ast.Input() | ast.Param():
                return self.type_ref(decl.type)
            case ast.Metric(type=t) if t is not None:
                return self.type_ref(t)
            case ast.Def():
                return self.type_ref(decl.returns)
            case ast.Scorecard():
                return PERCENT
            case ast.Component(kind="component"):
                return MONEY
            case _:
                return self.check_decl(name)

    def check_decl(self, name: str) -> Type:
        if name in self.decl_types:
            return self.decl_types[name]
        if name in self.in_progress:
            return ERROR  # a cycle: names.py reported E202
        self.in_progress.add(name)
        outer, self.current = self.current, name
        try:
            t = self._check_decl(self.res.decls[name])
        finally:
            self.current = outer
            self.in_progress.discard(name)
        self.decl_types[name] = t
        return t

    def _check_decl(self, decl) -> Type:
        match decl:
            case ast.Input():
                return self.check_input(decl)
            case ast.Param():
                t = self.type_ref(decl.type)
                actual = self.infer(decl.value, {}, t)
                if not assignable(actual, t, self.constants.get(id(decl.value))):
                    self.err("E304", f"param `{decl.name}` is declared {t} but its value is {actual}",
                             decl.value.span, help=self.declared_hint(actual, t, decl.value))
                if not self.is_constant(decl.value):
                    self.err("E403", f"param `{decl.name}` must be a constant expression", decl.value.span,
                             help="a param may use literals and other params; use a metric for "
                             "values computed from inputs")
                if id(decl.value) in self.constants:
                    self.param_values[decl.name] = self.constants[id(decl.value)]
                return t
            case ast.Metric():
                declared = self.type_ref(decl.type) if decl.type is not None else None
                actual = self.infer(decl.value, {}, declared)
                if declared is not None:
                    if not assignable(actual, declared, self.constants.get(id(decl.value))):
                        self.err("E304", f"metric `{decl.name}` is declared {declared} but its expression "
                                 f"is {actual}", decl.value.span, help=self.declared_hint(actual, declared,
                                                                                          decl.value))
                    return declared
                return actual
            case ast.Def():
                env = {p.name: self.type_ref(p.type) for p in decl.params}
                returns = self.type_ref(decl.returns)
                actual = self.infer(decl.body, env, returns)
                if not assignable(actual, returns, self.constants.get(id(decl.body))):
                    self.err("E304", f"def `{decl.name}` is declared to return {returns} but its body is "
                             f"{actual}", decl.body.span, help=self.declared_hint(actual, returns, decl.body))
                return returns
            case ast.Tiers():
                return self.check_tiers(decl)
            case ast.Scorecard():
                self.check_scorecard(decl)
                return PERCENT
            case ast.Component():
                return self.check_component(decl)
            case _:
                raise AssertionError(f"unhandled {type(decl).__name__}")

    def declared_hint(self, actual: Type, declared: Type, expr: ast.Expr) -> str | None:
        if actual.kind is Kind.PERCENT and declared.kind is Kind.MONEY:
            return "a percent is a rate: multiply it by an amount to get money"
        if actual.kind in (Kind.NUMBER, Kind.COUNT) and declared.kind is Kind.MONEY \
                and isinstance(expr, ast.Number):
            return f"write `{expr.span.text} {self.currency or 'USD'}`"
        if actual.kind in (Kind.NUMBER, Kind.COUNT) and declared.kind is Kind.PERCENT \
                and isinstance(expr, ast.Number):
            return f"write a percent: `{_fmt(expr.value * 100)}%`"
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
                        self.err("E304", f"the range of `{decl.name}` ({t}) has {_a(bt)} bound",
                                 bound.span, help=self.declared_hint(bt, t, bound))
                    bounds.append(self.constants.get(id(bound)))
                lo, hi = bounds
                if lo is not None and hi is not None and lo > hi:
                    self.err("E304", f"the range of `{decl.name}` is empty: {_fmt(lo)} is above {_fmt(hi)}",
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

    def check_tiers(self, decl: ast.Tiers) -> Type:
        key_t = self.infer(decl.key, {}, None)
        if key_t is not ERROR and not key_t.is_numeric:
            self.err("E300", f"the key of a tier table must be numeric, but it is {key_t}", decl.key.span)
            key_t = ERROR
        froms = [b for b in decl.bands if b.kind == "from"]
        belows = [b for b in decl.bands if b.kind == "below"]
        marginal = decl.mode == "marginal"
        if not froms:
            self.err("E402", f"table `{decl.name}` has no `from` band", decl.name_span,
                     help="add at least one band `from THRESHOLD -> VALUE`")
        previous: Decimal | None = None
        previous_band = None
        for band in decl.bands:
            tt = self.infer(band.threshold, {}, key_t)
            if not comparable(">=", key_t, tt):
                if is_unit_confusion(key_t.kind, tt.kind):
                    self.err("E301", f"a threshold of `{decl.name}` is {tt} but the key is {key_t}",
                             band.threshold.span, label=f"this is {_a(tt)}",
                             help=unit_hint(">=", key_t.kind, tt.kind, decl.key.span.text,
                                            band.threshold.span.text, self.currency or "USD"))
                else:
                    self.err("E300", f"a threshold of `{decl.name}` is {tt} but the key is {key_t}",
                             band.threshold.span)
            if not self.is_constant(band.threshold):
                self.err("E403", f"thresholds of `{decl.name}` must be constant", band.threshold.span,
                         help="use literals or params")
        for band in belows:
            if marginal:
                self.err("E402", "`below` is not allowed in a marginal table", band.span,
                         help="in a marginal table a key below the first threshold contributes nothing")
        if len(belows) > 1:
            self.err("E400", f"table `{decl.name}` has more than one `below` band", belows[1].span)
        if belows and decl.bands[0] is not belows[0]:
            self.err("E400", "the `below` band must come first", belows[0].span)
        if belows and froms:
            b, f = self.constants.get(id(belows[0].threshold)), self.constants.get(id(froms[0].threshold))
            if b is not None and f is not None and b != f:
                self.err("E400", f"`below {belows[0].threshold.span.text}` must name the first band's "
                         f"threshold `{froms[0].threshold.span.text}`", belows[0].threshold.span,
                         help=f"write `below {froms[0].threshold.span.text} -> ...`")
        for band in froms:
            value = self.constants.get(id(band.threshold))
            if value is not None and previous is not None and value <= previous:
                self.err("E400", f"thresholds of `{decl.name}` must be strictly ascending: "
                         f"{band.threshold.span.text} comes after {previous_band.threshold.span.text}",
                         band.threshold.span, help="order the bands from the lowest threshold up")
            if value is not None:
                previous, previous_band = value, band
        # values
        if decl.name in self.res.levels:
            level = Type(Kind.LEVEL, self.res.levels[decl.name], decl.name)
            for band in decl.bands:
                self.types[id(band.value)] = level
            return level
        result: Type | None = None
        first_band = None
        mixed = False
        zeros = [band.value for band in decl.bands if _is_zero(band.value)]
        for band in decl.bands:
            if any(band.value is z for z in zeros):
                continue  # §2a: a zero band value takes the type of the others, below
            vt = self.infer(band.value, {}, result)
            if marginal:
                if not self.is_constant(band.value):
                    self.err("E403", f"the rates of the marginal table `{decl.name}` must be constant",
                             band.value.span, help="use literals or params")
                if vt is not ERROR and key_t is not ERROR and arithmetic("*", key_t.kind, vt.kind) is None:
                    self.err("E402", f"a marginal table multiplies its key by its rates, but "
                             f"{key_t} times {vt} has no type", band.value.span,
                             help="money keys take percent rates; number keys take money rates; "
                             "percent keys take percent rates")
                    vt = ERROR
            if result is None or result is ERROR:
                result, first_band = vt, band
                continue
            u = unify(result, vt)
            if u is None:
                self.err("E402", f"the bands of `{decl.name}` give different types: "
                         f"{result} (line {first_band.value.span.line}) and {vt}", band.value.span,
                         help="every band of a table gives the same type")
                mixed = True
            else:
                result = u
        for z in zeros:
            zt = self.infer(z, {}, result)
            result = zt if result is None or result is ERROR else result
        if mixed:
            return ERROR
        if result is None:
            return ERROR
        if marginal:
            if result is ERROR or key_t is ERROR:
                return ERROR
            product = arithmetic("*", key_t.kind, result.kind)
            return Type(product) if product is not None else ERROR
        return result

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
            self.err("E500", f"the weights of `{decl.name}` add up to {_pct(total)}, not 100 %",
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
                        self.err("E600", f"{_a(own)} {decl.kind} cannot have a {word}", mod.span)
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
    def infer(self, e: ast.Expr, env: dict[str, Type], expected: Type | None) -> Type:
        t = self._infer(e, env, expected)
        self.types[id(e)] = t
        return t

    def _infer(self, e: ast.Expr, env: dict[str, Type], expected: Type | None) -> Type:
        match e:
            case ast.Number(value=v):
                self.constants[id(e)] = v
                return expected if v == 0 and _numeric(expected) else NUMBER  # §2a: zero has no unit
            case ast.Percent(value=v):
                self.constants[id(e)] = v
                return expected if v == 0 and _numeric(expected) else PERCENT
            case ast.Money(amount=v, currency=cur):
                if self.currency is not None and cur != self.currency:
                    self.err("E302", f"money in {cur}, but the policy's currency is {self.currency}", e.span,
                             help=f"write `{e.span.text[: -len(cur)].strip()} {self.currency}`")
                self.constants[id(e)] = v
                return MONEY
            case ast.String():
                return TEXT
            case ast.Bool():
                return BOOL
            case ast.Name():
                return self.name(e, env, expected)
            case ast.Qualified():
                ref = self.refs.get(id(e))
                if ref is None:
                    return ERROR
                d = self.res.modules[ref.module].definitions[ref.name]
                key = f"{ref.module}.{ref.name}"
                if key in self.param_values:
                    self.constants[id(e)] = self.param_values[key]
                return d.type
            case ast.TotalRef():
                return MONEY
            case ast.Call():
                return self.call(e, env, expected)
            case ast.Unary(op="-", operand=x):
                t = self.infer(x, env, expected)
                if t is ERROR:
                    return ERROR
                if not t.is_numeric:
                    self.err("E300", f"cannot negate {_a(t)}", e.span)
                    return ERROR
                if id(x) in self.constants:
                    self.constants[id(e)] = -self.constants[id(x)]
                return Type(NEGATION[t.kind])
            case ast.Unary(op="not", operand=x):
                self.condition(x, env, "the operand of `not`")
                return BOOL
            case ast.Binary(op=op) if op in ("and", "or"):
                self.condition(e.left, env, f"the left side of `{op}`")
                self.condition(e.right, env, f"the right side of `{op}`")
                return BOOL
            case ast.Binary(op=op) if op in COMPARISONS:
                return self.compare(e, env)
            case ast.Binary():
                return self.arith(e, env)
            case ast.Member(operand=x, items=items):
                t = self.infer(x, env, None)
                if t is not ERROR and t.kind not in MEMBERSHIP:
                    self.err("E300", f"`in (...)` needs an enum, level, text or id, but this is {t}", x.span,
                             help="for numbers compare with `>=` and `<=`")
                    t = ERROR
                for item in items:
                    it = self.infer(item, env, t)
                    self.member_of(item, it, t)
                return BOOL
            case ast.If(cond=c, then=a, otherwise=b):
                self.condition(c, env, "an `if` condition")
                at, bt = self.branches(a, b, env, expected)
                u = unify(at, bt)
                if u is None:
                    self.err("E300", f"the branches of `if` have different types: {at} and {bt}", b.span,
                             help=self.branch_hint(at, bt, b))
                    return ERROR
                return u  # never folded: which branch runs depends on data
            case ast.Match():
                return self.match(e, env, expected)
            case ast.Otherwise(expr=a, fallback=b):
                at, bt = self.branches(a, b, env, expected)
                u = unify(at, bt)
                if u is None:
                    self.err("E300", f"`otherwise` must give the same type as the expression before it: "
                             f"{at}, not {bt}", b.span, help=self.branch_hint(at, bt, b))
                    return ERROR
                if id(a) in self.constants:
                    self.constants[id(e)] = self.constants[id(a)]
                return u
            case ast.Pool(amount=amount, share=share, among=among):
                self.mark_program_wide()
                at = self.infer(amount, env, MONEY)
                if at is not ERROR and not at.is_numeric:
                    self.err("E300", f"a pool's amount must be money, not {at}", amount.span)
                    at = ERROR
                elif not self.is_constant(amount):
                    self.err("E403", "a pool's amount must be constant", amount.span,
                             help="use a literal or a param")
                st = self.infer(share, env, None)
                if st is not ERROR and st.kind not in (Kind.MONEY, Kind.NUMBER, Kind.COUNT):
                    self.err("E300", f"a pool's share must be money, number or count, not {st}", share.span)
                if among is not None:
                    self.condition(among, env, "an `among` condition")
                return at
            case ast.Rank(kind=kind, value=v, among=among):
                self.mark_program_wide()
                vt = self.infer(v, env, None)
                if vt is not ERROR and not vt.is_numeric:
                    self.err("E300", f"`{kind}` orders numbers, but this is {vt}", v.span)
                if among is not None:
                    self.condition(among, env, "an `among` condition")
                return COUNT if kind == "rank" else PERCENT
            case ast.ListLit(items=items):
                for item in items:
                    self.infer(item, env, TEXT)
                self.err("E300", "a list is only meaningful as the expected `reasons` of a test", e.span)
                return ERROR
            case _:
                raise AssertionError(f"unhandled {type(e).__name__}")

    def mark_program_wide(self) -> None:
        if self.current is not None:
            self.direct_program_wide.add(self.current)

    def branch_hint(self, a: Type, b: Type, expr: ast.Expr) -> str | None:
        if a.kind is Kind.MONEY and b.kind in (Kind.NUMBER, Kind.COUNT) and isinstance(expr, ast.Number):
            return f"write `{expr.span.text} {self.currency or 'USD'}`"
        if a.kind is Kind.PERCENT and isinstance(expr, ast.Number):
            return f"write `{_fmt(expr.value * 100)}%`"
        return None

    def name(self, e: ast.Name, env, expected: Type | None) -> Type:
        ref = self.refs.get(id(e))
        if ref is None:
            return ERROR
        match ref.kind:
            case "local":
                return env.get(ref.name, ERROR)
            case "definition":
                kind = self.res.kinds[ref.name]
                if kind == "def":
                    self.err("E303", f"`{ref.name}` is a function: call it with arguments", e.span)
                    return ERROR
                if kind == "param" and ref.name not in self.param_values:
                    self.check_decl(ref.name)
                if ref.name in self.param_values:
                    self.constants[id(e)] = self.param_values[ref.name]
                return self.decl_type(ref.name)
            case "member":
                if expected is not None and expected.kind is Kind.ENUM and ref.name in expected.members:
                    return expected
                enums = self.res.enum_members[ref.name]
                return Type(Kind.ENUM, enums[0])
            case "label":
                return Type(Kind.LEVEL, self.res.levels[ref.table], ref.table)
            case "builtin":
                if ref.name == "periods_active":
                    self.history_use(e, "periods_active")
                    return COUNT
                return BOOL if ref.name == "eligible" else LIST
            case _:
                raise AssertionError(f"unhandled ref kind {ref.kind}")

    def history_use(self, e, what: str) -> None:
        if self.current is not None:
            self.direct_history.add(self.current)
        if not self.multi_period and not self.is_module:
            self.err("E303", f"`{what}` reads earlier periods, but this policy has a single period",
                     e.span, help="add an input of type `period` to make the policy multi-period")

    def unknown_tag(self, item: ast.Expr, t: Type) -> bool:
        """§4a: an unknown name compared with an enum or level is E311, else E200 (names.py
        left it to this pass, which knows the other side's type). True when it was one."""
        if not isinstance(item, ast.Name) or id(item) not in self.res.unknown_tags:
            return False
        if t.kind in (Kind.ENUM, Kind.LEVEL):
            what = "a member of " if t.kind is Kind.ENUM else "a label of "
            self.err("E311", f"`{item.name}` is not {what}{t}", item.span, help=suggest(item.name, t.members))
        elif t is not ERROR:
            self.err("E200", f"unknown name `{item.name}`", item.span, help=self.res.unknown_tags[id(item)])
        return True

    def member_of(self, item: ast.Expr, it: Type, t: Type) -> None:
        """An item of `x in (...)` or the right side of `x == item` for an enum or level x."""
        if self.unknown_tag(item, t):
            return
        if t is ERROR or it is ERROR:
            return
        if t.kind in (Kind.ENUM, Kind.LEVEL) and isinstance(item, ast.Name):
            ref = self.refs.get(id(item))
            if ref is not None and ref.kind in ("member", "label") and ref.name not in t.members:
                self.err("E311", f"`{ref.name}` is not {'a member of ' + str(t) if t.kind is Kind.ENUM else 'a label of ' + str(t)}",
                         item.span, help=suggest(ref.name, t.members))
                return
        if not comparable("==", t, it):
            self.err("E300", f"cannot compare {t} with {it}", item.span)

    def branches(self, a: ast.Expr, b: ast.Expr, env, expected: Type | None) -> tuple[Type, Type]:
        """The types of two expressions that must agree (branches, fallbacks, the operands of a
        comparison or a sum): each is inferred knowing the other's, and a zero literal (§2a)
        takes the type of the other side."""
        if _is_zero(a) and not _is_zero(b):
            bt = self.infer(b, env, expected)
            return self.infer(a, env, bt if bt is not ERROR else expected), bt
        at = self.infer(a, env, expected)
        return at, self.infer(b, env, expected if at is ERROR else at)

    def compare(self, e: ast.Binary, env) -> Type:
        tags = [x for x in (e.left, e.right) if isinstance(x, ast.Name) and id(x) in self.res.unknown_tags]
        if tags:  # §4a: an unknown name beside an enum or a level is E311, else E200
            other = e.right if e.left is tags[0] else e.left
            ot = self.infer(other, env, None) if len(tags) == 1 else TEXT
            for tag in tags:
                self.types[id(tag)] = ERROR
                self.unknown_tag(tag, ot)
            return BOOL
        if _is_zero(e.left) and not _is_zero(e.right):
            rt, lt = self.branches(e.right, e.left, env, None)
            return self.compared(e, lt, rt)
        left_first = not self._is_tag(e.left) or self._is_tag(e.right)
        if left_first:
            lt = self.infer(e.left, env, None)
            rt = self.infer(e.right, env, lt)
        else:
            rt = self.infer(e.right, env, None)
            lt = self.infer(e.left, env, rt)
        return self.compared(e, lt, rt)

    def compared(self, e: ast.Binary, lt: Type, rt: Type) -> Type:
        if lt is ERROR or rt is ERROR:
            return BOOL
        if lt.kind in (Kind.ENUM, Kind.LEVEL) and isinstance(e.right, ast.Name) and \
                self._is_tag(e.right) and e.op in ("==", "!="):
            self.member_of(e.right, rt, lt)
            return BOOL
        if rt.kind in (Kind.ENUM, Kind.LEVEL) and isinstance(e.left, ast.Name) and \
                self._is_tag(e.left) and e.op in ("==", "!="):
            self.member_of(e.left, lt, rt)
            return BOOL
        if comparable(e.op, lt, rt):
            return BOOL
        if is_unit_confusion(lt.kind, rt.kind):
            culprit, ct = self.culprit(e, lt, rt)
            self.err("E301", f"cannot compare {lt} with {rt}", culprit.span, label=f"this is {_a(ct)}",
                     help=unit_hint(e.op, lt.kind, rt.kind, e.left.span.text, e.right.span.text,
                                    self.currency or "USD"))
        elif lt.kind is Kind.ENUM and rt.kind is Kind.ENUM and lt.members == rt.members:
            self.err("E300", f"enum members are unordered: `{e.op}` cannot compare them", e.op_span,
                     help="use `==`, `!=`, `in (...)` or `match`; a tiers table of labels is ordered")
        else:
            hint = None
            for tagged, other in ((lt, e.right), (rt, e.left)):
                if tagged.kind in (Kind.ENUM, Kind.LEVEL) and isinstance(other, ast.String) \
                        and other.value in tagged.members:
                    hint = f"members and labels are written without quotes: `{other.value}`"
            self.err("E300", f"cannot compare {lt} with {rt}", e.op_span, help=hint)
        return BOOL

    def _is_tag(self, e: ast.Expr) -> bool:
        ref = self.refs.get(id(e)) if isinstance(e, ast.Name) else None
        return ref is not None and ref.kind in ("member", "label")

    def culprit(self, e: ast.Binary, lt: Type, rt: Type) -> tuple[ast.Expr, Type]:
        """The operand to rewrite: the bare number beside money or a percent."""
        loose = (Kind.NUMBER, Kind.COUNT)
        if lt.kind in loose and rt.kind in (Kind.MONEY, Kind.PERCENT):
            return e.left, lt
        return e.right, rt

    def arith(self, e: ast.Binary, env) -> Type:
        if e.op in "+-":  # §2a: `revenue - 0` is money
            lt, rt = self.branches(e.left, e.right, env, None)
        else:
            lt = self.infer(e.left, env, None)
            rt = self.infer(e.right, env, None)
        if lt is ERROR or rt is ERROR:
            return ERROR
        verb, prep = _VERBS[e.op]
        if not lt.is_numeric or not rt.is_numeric:
            bad, bt = (e.left, lt) if not lt.is_numeric else (e.right, rt)
            self.err("E300", f"cannot {verb} {rt} {prep} {lt}" if e.op in "+-" else
                     f"cannot {verb} {lt} {prep} {rt}", bad.span, label=f"this is {_a(bt)}")
            return ERROR
        kind = arithmetic(e.op, lt.kind, rt.kind)
        if kind is None:
            msg = (f"cannot {verb} {rt} {prep} {lt}" if e.op in "+-" else f"cannot {verb} {lt} {prep} {rt}")
            culprit, ct = self.culprit(e, lt, rt)
            if e.op in "*/":
                culprit, ct = e.right, rt
            self.err("E301", msg, culprit.span, label=f"this is {_a(ct)}",
                     help=unit_hint(e.op, lt.kind, rt.kind, e.left.span.text, e.right.span.text,
                                    self.currency or "USD"))
            return ERROR
        a, b = self.constants.get(id(e.left)), self.constants.get(id(e.right))
        if a is not None and b is not None:
            value = _fold(e.op, a, b)
            if value is not None:
                self.constants[id(e)] = value
        return Type(kind)

    def match(self, e: ast.Match, env, expected: Type | None) -> Type:
        st = self.infer(e.subject, env, None)
        if st is not ERROR and st.kind not in (Kind.ENUM, Kind.LEVEL, Kind.BOOL):
            self.err("E300", f"`match` works on an enum, a level or a bool, but this is {st}", e.subject.span,
                     help="for numbers use a tiers table or `if`")
            st = ERROR
        universe: tuple[str, ...] | None = None
        if st.kind in (Kind.ENUM, Kind.LEVEL):
            universe = st.members
        elif st.kind is Kind.BOOL:
            universe = ("true", "false")
        covered: list[str] = []
        has_else = False
        zeros: list[ast.Expr] = []
        unknown = False  # an unknown member (E311) is most likely the missing one: no E310 too
        result: Type | None = None
        first_arm = None
        for arm in e.arms:
            for pat in arm.patterns:
                if pat.kind == "else":
                    if has_else or (universe is not None and set(covered) >= set(universe)):
                        self.err("W103", "this `else` arm is never used: every case is already covered",
                                 pat.span, help="remove it")
                    has_else = True
                    continue
                label = pat.name if pat.kind == "name" else pat.kind
                if has_else:
                    self.err("W103", f"`{label}` comes after `else` and is never used", pat.span,
                             help="put `else` last")
                    continue
                if universe is None:
                    continue
                if label not in universe:
                    what = "true or false" if st.kind is Kind.BOOL else \
                        ("a member of " if st.kind is Kind.ENUM else "a label of ") + str(st)
                    self.err("E311", f"`{label}` is not {what}", pat.span, help=suggest(label, universe))
                    unknown = True
                    continue
                if label in covered:
                    self.err("W103", f"`{label}` is already covered by an earlier arm", pat.span,
                             help="remove the repeated pattern")
                    continue
                covered.append(label)
            if _is_zero(arm.value):
                zeros.append(arm.value)  # §2a: typed by the other arms, below
                continue
            vt = self.infer(arm.value, env, expected if result in (None, ERROR) else result)
            if result is None or result is ERROR:
                result, first_arm = vt, arm
                continue
            u = unify(result, vt)
            if u is None:
                self.err("E300", f"the arms of `match` have different types: {result} (line "
                         f"{first_arm.value.span.line}) and {vt}", arm.value.span,
                         help=self.branch_hint(result, vt, arm.value))
            else:
                result = u
        for z in zeros:
            zt = self.infer(z, env, expected if result in (None, ERROR) else result)
            result = zt if result is None or result is ERROR else result
        if universe is not None and not has_else and not unknown:
            missing = [m for m in universe if m not in covered]
            if missing:
                self.err("E310", f"`match` is not exhaustive: missing {', '.join(f'`{m}`' for m in missing)}",
                         e.subject.span, help="add an arm for each, or an `else -> ...` arm")
        return result if result is not None else ERROR

    def call(self, e: ast.Call, env, expected: Type | None) -> Type:
        ref = self.refs.get(id(e))
        if ref is None:
            for a in e.args:
                self.infer(a, env, None)
            return ERROR
        if ref.kind == "definition":
            return self.call_def(e, env, ref)
        f = e.func
        args = e.args
        if f in ("min", "max", "clamp", "abs"):
            want = {"abs": (1, 1), "clamp": (3, 3)}.get(f, (2, None))  # §4a: min/max of two or more
            types = [self.infer(a, env, expected) if not _is_zero(a) else None for a in args]
            # §2a: a zero argument takes the type of the others
            others = [t for t in types if t is not None and t is not ERROR]
            types = [t if t is not None else self.infer(a, env, others[0] if others else expected)
                     for a, t in zip(args, types)]
            if not self.arity(e, want):
                return ERROR
            result: Type | None = None
            for a, t in zip(args, types):
                if t is ERROR:
                    return ERROR
                levels = f in ("min", "max") and t.kind is Kind.LEVEL  # §4a: levels are ordered
                if not t.is_numeric and not levels:
                    self.err("E303", f"`{f}` takes numbers{' or levels' if f in ('min', 'max') else ''}, "
                             f"but this is {t}", a.span)
                    return ERROR
                if result is None:
                    result = t
                    continue
                if Kind.LEVEL in (result.kind, t.kind) and result != t:
                    self.err("E303", f"`{f}` compares levels of one table: {result} and {t}", a.span,
                             label=f"this is {_a(t)}")
                    return ERROR
                u = unify(result, t)
                if u is None:
                    self.err("E303", f"the arguments of `{f}` must have one type: {result} and {t}", a.span,
                             label=f"this is {_a(t)}",
                             help=unit_hint("<", result.kind, t.kind, args[0].span.text, a.span.text,
                                            self.currency or "USD"))
                    return ERROR
                result = u
            values = [self.constants.get(id(a)) for a in args]
            if all(v is not None for v in values):
                self.constants[id(e)] = _builtin_fold(f, values)
            return result
        if f == "round":
            types = [self.infer(a, env, None) for a in args]
            if not self.arity(e, (1, 2)):
                return ERROR
            if types[0] is not ERROR and not types[0].is_numeric:
                self.err("E303", f"`round` takes a number, but this is {types[0]}", args[0].span)
                return ERROR
            if len(args) == 2:
                places = self.constants.get(id(args[1]))
                if types[1] is not ERROR and types[1].kind not in (Kind.NUMBER, Kind.COUNT) or \
                        places is None or not self.is_constant(args[1]) or \
                        places != places.to_integral_value() or places < 0:
                    self.err("E303", "the places of `round` must be a constant whole number >= 0",
                             args[1].span)
            return types[0]
        if f == "streak":
            if self.arity(e, (1, 1)):
                self.history_use(e, f)
                self.condition(args[0], env, "the argument of `streak`")
            else:
                for a in args:
                    self.infer(a, env, None)
            return COUNT
        # prior, trailing_*
        is_prior = f == "prior"
        want = (1, 2) if is_prior else (2, 2)
        types = [self.infer(a, env, None) for a in args]
        if not self.arity(e, want):
            return ERROR
        self.history_use(e, f)
        target = args[0]
        t = types[0]
        ok_target = isinstance(target, ast.TotalRef) or (
            isinstance(target, ast.Name) and (ref0 := self.refs.get(id(target))) is not None
            and ref0.kind == "definition" and self.res.kinds.get(ref0.name) in HISTORY_TARGETS)
        if not ok_target and t is not ERROR:
            self.err("E303", f"`{f}` takes the name of an input, metric, table, scorecard, component, "
                     "benefit or `total`", target.span, help="name a metric that holds the expression")
            return ERROR
        if len(args) == 2:
            self.int_constant(args[1], "`k`" if is_prior else "`n`", "E303")
        if t is ERROR:
            return ERROR
        if not is_prior:
            if not t.is_numeric:
                self.err("E303", f"`{f}` works on numbers, but this is {t}", target.span)
                return ERROR
            if f == "trailing_avg" and t.kind is Kind.COUNT:
                return NUMBER
        return t

    def arity(self, e: ast.Call, want: tuple[int, int | None]) -> bool:
        lo, hi = want
        n = len(e.args)
        if n < lo or (hi is not None and n > hi):
            if hi is None:
                text = f"at least {lo} argument{'s' if lo != 1 else ''}"
            elif lo == hi:
                text = f"{lo} argument{'s' if lo != 1 else ''}"
            else:
                text = f"{lo} or {hi} arguments"
            self.err("E303", f"`{e.func}` takes {text}, got {n}", e.span)
            return False
        return True

    def call_def(self, e: ast.Call, env, ref: Ref) -> Type:
        if ref.module is not None:
            d = self.res.modules[ref.module].definitions[ref.name]
            decl = d.decl
            params = [self._module_type(ref.module, p.type) for p in decl.params]
            returns = d.type
            shown = f"{ref.module}.{ref.name}"
        else:
            decl = self.res.decls[ref.name]
            params = [self.type_ref(p.type) for p in decl.params]
            returns = self.type_ref(decl.returns)
            shown = ref.name
        types = [self.infer(a, env, params[i] if i < len(params) else None) for i, a in enumerate(e.args)]
        if len(e.args) != len(params):
            self.err("E303", f"`{shown}` takes {len(params)} argument{'s' if len(params) != 1 else ''}, "
                     f"got {len(e.args)}", e.span,
                     help=f"{shown}({', '.join(f'{p.name} : {p.type.name}' for p in decl.params)})")
            return returns
        for i, (a, t, p) in enumerate(zip(e.args, types, params)):
            if not assignable(t, p, self.constants.get(id(a))):
                pname = decl.params[i].name
                self.err("E303", f"argument {i + 1} of `{shown}` (`{pname}`) must be {p}, not {t}", a.span,
                         label=f"this is {_a(t)}", help=self.declared_hint(t, p, a))
        return returns

    def _module_type(self, module: str, tref: ast.TypeRef) -> Type:
        if tref.name == "enum":
            return Type(Kind.ENUM, tref.members)
        if tref.name in BUILTIN_TYPES:
            return BUILTIN_TYPES[tref.name]
        mod = self.res.modules[module]
        d = mod.definitions.get(tref.name)
        if d is not None and d.type.kind is Kind.LEVEL:
            return d.type
        return ERROR

    # ------------------------------------------------------------------ the whole file
    def run(self) -> None:
        # dependencies first, so that inferring one definition never recurses down a long chain
        for name in self.res.visit_order:
            self.check_decl(name)
        for name in self.res.decls:
            self.check_decl(name)
        if self.is_module:
            return
        seen_total = seen_program = None
        for decl in self.file.decls:
            match decl:
                case ast.Eligibility():
                    for r in decl.requires:
                        self.condition(r.cond, {}, "an eligibility condition")
                case ast.Total():
                    if seen_total is not None:
                        self.err("E201", "a second `total` block", decl.span, help="merge them into one")
                    seen_total = decl
                    floors, caps = [], []
                    for item in decl.items:
                        t = self.infer(item.value, {}, MONEY)
                        word = "floor" if isinstance(item, ast.Floor) else "cap"
                        if not assignable(t, MONEY, self.constants.get(id(item.value))):
                            self.err("E600", f"a {word} of the total must be money, not {t}", item.value.span,
                                     help=self.declared_hint(t, MONEY, item.value))
                        (floors if word == "floor" else caps).append(item)
                    self.floor_above_cap(floors, caps)
                case ast.Clawback():
                    if not self.multi_period:
                        self.err("E300", "`clawback` needs a multi-period policy", decl.span,
                                 help="add an input of type `period`")
                    self.infer(decl.within, {}, COUNT)
                    self.int_constant(decl.within, "`within`")
                    if decl.when is not None:
                        self.condition(decl.when, {}, "a `when` condition")
                    if decl.recover is not None:
                        rt = self.infer(decl.recover, {}, PERCENT)
                        if rt is not ERROR and rt != PERCENT:
                            self.err("E300", f"`recover` must be a percent, not {rt}", decl.recover.span)
                case ast.Program():
                    if seen_program is not None:
                        self.err("E201", "a second `program` block", decl.span, help="merge them into one")
                    seen_program = decl
                    for i, b in enumerate(decl.budgets):
                        if i:
                            self.err("E201", "a second `budget`", b.span, help="a program has one budget")
                        t = self.infer(b.amount, {}, MONEY)
                        if t is not ERROR and t != MONEY:
                            self.err("E300", f"a budget must be money, not {t}", b.amount.span)
                        elif not self.is_constant(b.amount):
                            self.err("E403", "a budget must be constant", b.amount.span)
                case _:
                    pass
        self.history_fallbacks()

    def history_fallbacks(self) -> None:
        """W104: `prior` / `trailing_*` must sit inside the left side of an `otherwise` (§14.1)."""
        for decl in self.file.decls:
            for root in decl_exprs(decl):
                stack = [(root, False)]
                while stack:
                    e, covered = stack.pop()
                    if isinstance(e, ast.Otherwise):
                        stack.append((e.fallback, covered))
                        stack.append((e.expr, True))
                        continue
                    if isinstance(e, ast.Call) and e.module is None and not covered and \
                            (e.func == "prior" or e.func.startswith("trailing_")) and \
                            self.refs.get(id(e)) is not None:
                        t = self.types.get(id(e), ERROR)
                        self.err("W104", f"`{e.func}` has no `otherwise` fallback", e.span,
                                 help=f"a period without a record makes it fail: write "
                                 f"`{e.span.text} otherwise {self.zero_of(t)}`")
                    stack.extend((c, covered) for c in ast.children(e))


def _numeric(t: Type | None) -> bool:
    return t is not None and t.is_numeric


def _is_zero(e: ast.Expr) -> bool:
    """A literal whose value is zero (`0`, `0.00`, `0%`, `-0`): §2a, it has no unit."""
    match e:
        case ast.Number(value=v) | ast.Percent(value=v):
            return v == 0
        case ast.Unary(op="-", operand=x):
            return _is_zero(x)
        case _:
            return False


# ---------------------------------------------------------------------- constant folding

def _fold(op: str, a: Decimal, b: Decimal) -> Decimal | None:
    try:
        match op:
            case "+":
                return a + b
            case "-":
                return a - b
            case "*":
                return a * b
            case "/":
                return None if b == 0 else a / b
            case _:
                raise AssertionError(f"unhandled operator {op}")
    except (InvalidOperation, DivisionByZero, OverflowError):
        return None


def _builtin_fold(f: str, values: list[Decimal]) -> Decimal | None:
    match f:
        case "min":
            return min(values)
        case "max":
            return max(values)
        case "abs":
            return abs(values[0])
        case "clamp":
            x, lo, hi = values
            return min(max(x, lo), hi)
        case _:
            raise AssertionError(f"unhandled builtin {f}")


def _fmt(value: Decimal) -> str:
    text = f"{value.normalize():f}" if value == value else str(value)
    whole, dot, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    if whole.isdigit() and len(whole) > 4:
        whole = f"{int(whole):_}"
    return f"{sign}{whole}{dot}{frac}"


def _pct(value: Decimal) -> str:
    return f"{_fmt(value * 100)} %"


# ---------------------------------------------------------------------- entry points

def _definitions(res: Resolution, types: _Types, module: str | None) -> dict[str, Definition]:
    reaches = _reaches_program_wide(res.deps, types.direct_program_wide)
    out: dict[str, Definition] = {}
    for name, decl in res.decls.items():
        deps = res.deps.get(name, set())
        out[name] = Definition(
            name=name,
            kind=res.kinds[name],
            type=types.decl_types.get(name, types.decl_type(name)),
            decl=decl,
            deps=frozenset(d for d in deps if d not in (ELIGIBILITY, TOTAL)),
            module=module,
            program_wide=name in reaches,
            history=name in types.direct_history,
            history_deps=frozenset(res.history_deps.get(name, set()) - {ELIGIBILITY, TOTAL}),
            uses_eligibility=ELIGIBILITY in deps,
            uses_total=TOTAL in deps,
            label=decl.doc.label if getattr(decl, "doc", None) else None,
            description=decl.doc.description if getattr(decl, "doc", None) else "",
        )
    return out


def _reaches_program_wide(deps: dict[str, set[str]], direct: set[str]) -> set[str]:
    """Nodes that depend, directly or not, on a program-wide one; iterative (long chains)."""
    users: dict[str, list[str]] = {}
    for node, ds in deps.items():
        for d in ds:
            users.setdefault(d, []).append(node)
    out = set(direct)
    stack = list(direct)
    while stack:
        for user in users.get(stack.pop(), ()):
            if user not in out:
                out.add(user)
                stack.append(user)
    return out


def check_module(source: SourceFile, file: ast.ModuleFile, diags: Diagnostics, *,
                 currency: str | None = None) -> CheckedModule | None:
    """A module: only `def`, `param` and `tiers` (no input exists in a module, so none is read)."""
    first = len(diags.items)
    for decl in file.decls:
        if not isinstance(decl, (ast.Def, ast.Param, ast.Tiers, ast.Use)):
            what = type(decl).__name__.lower() if not isinstance(decl, ast.Component) else decl.kind
            diags.error("E201", f"a module may hold only `def`, `param` and `tiers`, not `{what}`",
                        decl.span, help="move it into a policy")
    res = resolve(file, {}, diags)
    types = _Types(source, file, res, diags, currency)
    types.run()
    if _errors_since(diags, first):
        return None
    definitions = _definitions(res, types, file.name)
    constants = {n: v for n, v in types.param_values.items() if "." not in n}
    module = CheckedModule(name=file.name, file=file, source=source, definitions=definitions,
                           constants=constants)
    # keep the expression maps with the module so that a policy can merge them
    object.__setattr__(module, "definitions", definitions)
    # Inside the module a sibling is named bare; seen from a policy it is the module's own, so
    # qualify it here, once, for every consumer (ranges, compile) of the merged maps.
    refs = {key: (dataclasses.replace(r, module=file.name) if r.kind == "definition" and r.module is None else r)
            for key, r in res.refs.items()}
    _MODULE_MAPS[id(module)] = (types.types, refs, types.constants)
    return module


# id(CheckedModule) -> (types, refs, constants) of its expressions; a policy merges them.
_MODULE_MAPS: dict[int, tuple[dict, dict, dict]] = {}


def check_policy(source: SourceFile, file: ast.PolicyFile, diags: Diagnostics, *,
                 path: Path | None = None) -> CheckedPolicy | None:
    """Check a policy; the `CheckedPolicy` when it has no errors (warnings allowed), else None."""
    from dsl.checker import ranges
    from dsl.checker.loader import load_modules

    first = len(diags.items)
    header = file.header
    currency = header.currency
    modules, broken = load_modules(file, path, currency, diags)
    res = resolve(file, modules, diags, broken)
    types = _Types(source, file, res, diags, currency)
    types.run()
    if _errors_since(diags, first):
        return None
    all_types, all_refs, all_constants = dict(types.types), dict(res.refs), dict(types.constants)
    for mod in modules.values():
        maps = _MODULE_MAPS.get(id(mod))
        if maps is not None:
            all_types.update(maps[0])
            all_refs.update(maps[1])
            all_constants.update(maps[2])
    definitions = _definitions(res, types, None)
    before = len(diags.items)
    intervals = ranges.analyse(file, res, all_types, all_refs, all_constants, modules, diags)
    if any(d.severity.value == "error" for d in diags.items[before:]):
        return None
    budget = next((b for d in file.decls if isinstance(d, ast.Program) for b in d.budgets), None)
    return CheckedPolicy(
        file=file,
        source=source,
        currency=currency,
        minor_units=minor_units(currency),
        rounding=header.rounding or "half_even",
        period=header.period,
        id_input=res.id_input,
        period_input=res.period_input,
        inputs=tuple(d for d in file.decls if isinstance(d, ast.Input)),
        definitions=definitions,
        order=res.order or (),
        components=tuple(n for n, k in res.kinds.items() if k == "component"),
        benefits=tuple(n for n, k in res.kinds.items() if k == "benefit"),
        eligibility=tuple(r for d in file.decls if isinstance(d, ast.Eligibility) for r in d.requires),
        total=next((d for d in file.decls if isinstance(d, ast.Total)), None),
        clawbacks=tuple(d for d in file.decls if isinstance(d, ast.Clawback)),
        budget=budget,
        modules=modules,
        types=all_types,
        refs=all_refs,
        constants=all_constants,
        levels=dict(res.levels),
        intervals=intervals,
    )


def _errors_since(diags: Diagnostics, first: int) -> bool:
    return any(d.severity.value == "error" for d in diags.items[first:])


def check_file(loaded, diags: Diagnostics):
    """Dispatch on the kind of file: policy, module or test file (the driver calls this)."""
    file = loaded.file
    path = Path(loaded.path)
    match file:
        case None:
            return None
        case ast.PolicyFile():
            return check_policy(loaded.source, file, diags, path=path)
        case ast.ModuleFile():
            return check_module(loaded.source, file, diags)
        case ast.TestFile():
            return check_tests(loaded.source, file, diags, path=path)
        case _:
            raise AssertionError(f"unhandled {type(file).__name__}")


# ---------------------------------------------------------------------- test files (§10)

PERIOD_SHAPES = {
    "month": (r"\d{4}-(0[1-9]|1[0-2])", "2026-03"),
    "quarter": (r"\d{4}-Q[1-4]", "2026-Q1"),
    "half": (r"\d{4}-H[12]", "2026-H1"),
    "year": (r"\d{4}", "2026"),
}
EXPECT_KINDS = ("input", "param", "metric", "tiers", "scorecard", "component", "benefit")
SETTLEMENT = ("held", "released", "payable")


class _Tests:
    """E700: a test file against the policy it names (§10)."""

    def __init__(self, file: ast.TestFile, policy: CheckedPolicy, diags: Diagnostics):
        self.file = file
        self.policy = policy
        self.diags = diags
        self.multi = policy.period_input is not None
        self.inputs = {i.name: policy.definitions[i.name].type for i in policy.inputs}
        self.ranges = {i.name: (policy.constants.get(id(i.range.lo)) if i.range.lo is not None else None,
                                policy.constants.get(id(i.range.hi)) if i.range.hi is not None else None)
                       for i in policy.inputs if i.range is not None}
        self.params = {n: d.type for n, d in policy.definitions.items() if d.kind == "param"}
        self.fixtures: dict[str, ast.Fixture] = {}

    def err(self, message: str, span, help: str | None = None, code: str = "E700") -> None:
        self.diags.error(code, message, span, help=help)

    def run(self) -> None:
        for fx in self.file.fixtures:
            if fx.name in self.fixtures:
                self.err(f"fixture `{fx.name}` is defined twice (first at line "
                         f"{self.fixtures[fx.name].name_span.line})", fx.name_span, code="E201")
                continue
            self.fixtures[fx.name] = fx
            self.assigns(fx.fields)
        names = set()
        for test in self.file.tests:
            if test.name in names:
                self.err(f"two tests are named \"{test.name}\"", test.span, code="E201",
                         help="give each test its own name")
            names.add(test.name)
            periods: list[str] = []
            for given in test.givens:
                if given.periods:
                    if not self.multi:
                        self.err("`given periods` needs a multi-period policy (an input of type `period`)",
                                 given.span)
                    for pg in given.periods:
                        self.period_value(pg.period, pg.span)
                        if pg.period in periods:
                            self.err(f"period \"{pg.period}\" is given twice", pg.span, code="E201")
                        periods.append(pg.period)
                        self.fixture_ref(pg.fixture, pg.span)
                        self.assigns(pg.overrides)
                    continue
                if given.fixture is not None:
                    self.fixture_ref(given.fixture, given.span)
                self.assigns(given.overrides)
                # a plain `given` is one record, in the period its fields name
                fields = list(self.fixtures[given.fixture].fields) if given.fixture in self.fixtures else []
                for a in fields + list(given.overrides):
                    if a.name == self.policy.period_input and isinstance(a.value, ast.String):
                        periods.append(a.value.value)
            for ex in test.expects:
                self.expect(ex, periods)

    def fixture_ref(self, name: str, span) -> None:
        if name not in self.fixtures:
            self.err(f"unknown fixture `{name}`", span, help=suggest(name, self.fixtures))

    def period_value(self, text: str, span) -> None:
        import re

        shape = PERIOD_SHAPES.get(self.policy.period or "")
        if shape is not None and not re.fullmatch(shape[0], text):
            self.err(f"\"{text}\" is not a {self.policy.period} period", span,
                     help=f"write it like \"{shape[1]}\"")

    def assigns(self, assigns) -> None:
        seen: set[tuple[bool, str]] = set()
        for a in assigns:
            key = (a.is_param, a.name)
            if key in seen:
                self.err(f"`{a.name}` is given twice", a.span, code="E201")
            seen.add(key)
            if a.is_param:
                t = self.params.get(a.name)
                if t is None:
                    self.err(f"the policy has no param `{a.name}`", a.span, help=suggest(a.name, self.params))
                    continue
                self.value(a.value, t, f"param `{a.name}`")
                continue
            t = self.inputs.get(a.name)
            if t is None:
                hint = suggest(a.name, self.inputs)
                if a.name in self.params:
                    hint = f"to override a param write `param {a.name} = ...`"
                self.err(f"the policy has no input `{a.name}`", a.span, help=hint)
                continue
            self.value(a.value, t, f"input `{a.name}`", self.ranges.get(a.name))
            if t.kind is Kind.PERIOD and isinstance(a.value, ast.String):
                self.period_value(a.value.value, a.value.span)

    def expect(self, ex: ast.Expect, periods: list[str]) -> None:
        if ex.period is not None:
            if not self.multi:
                self.err("`expect in \"...\"` needs a multi-period policy", ex.span)
            elif ex.period not in periods:
                self.err(f"period \"{ex.period}\" is not given in this test", ex.span,
                         help=suggest(ex.period, periods) or "list it in `given periods { ... }`")
        if ex.error is not None or ex.name is None:
            return
        defs = self.policy.definitions
        if ex.clawback:
            d = defs.get(ex.name)
            if d is None or d.kind != "component":
                self.err(f"the policy has no component `{ex.name}`", ex.span,
                         help=suggest(ex.name, [n for n, x in defs.items() if x.kind == "component"]))
                return
            if not any(c.component == ex.name for c in self.policy.clawbacks):
                self.err(f"`{ex.name}` has no clawback in the policy", ex.span)
                return
            self.value(ex.value, MONEY, f"clawback {ex.name}")
            return
        name = ex.name
        if name == "total":
            t = MONEY
        elif name == "eligible":
            t = BOOL
        elif name == "reasons":
            t = LIST
        elif name in SETTLEMENT and name not in defs:
            if not self.multi:
                self.err(f"`{name}` exists only in a multi-period policy", ex.span)
                return
            t = MONEY
        elif name in defs and defs[name].kind in EXPECT_KINDS:
            t = defs[name].type
        else:
            if name in defs:
                self.err(f"`{name}` is a def: a test can expect only named values", ex.span)
                return
            candidates = [n for n, d in defs.items() if d.kind in EXPECT_KINDS] + \
                ["total", "eligible", "reasons"] + (list(SETTLEMENT) if self.multi else [])
            self.err(f"the policy has no `{name}`", ex.span, help=suggest(name, candidates))
            return
        self.value(ex.value, t, f"`{name}`")

    def value(self, e: ast.Expr, t: Type, what: str, rng: tuple | None = None) -> None:
        """A test value of type `t`; `rng`, an input's declared (lo, hi) bounds (§23.4)."""
        actual, constant = self.literal(e, t)
        if actual is None:
            return
        if t.is_numeric and constant == 0:
            return  # §2a: zero has no unit
        if t.kind is Kind.PERCENT and actual.kind in (Kind.NUMBER, Kind.COUNT) and constant is not None:
            # §2a, §23.4: a bare number is a fraction, but a whole one other than 0, 1, -1 is a
            # guess unless the input's declared range contains it
            lo, hi = rng if rng is not None else (None, None)
            declared = (lo is not None or hi is not None) and (lo is None or lo <= constant) \
                and (hi is None or constant <= hi)
            if constant == constant.to_integral_value() and abs(constant) > 1 and not declared:
                self.err(f"`{e.span.text}` for a percent would be {_fmt(constant * 100)} %: write "
                         f"`{_fmt(constant)}%` or `{_fmt(constant / 100)}`", e.span)
            return
        if t.kind is Kind.LIST:
            ok = actual.kind is Kind.LIST
        elif t.kind in (Kind.ID, Kind.PERIOD):
            ok = actual.kind is Kind.TEXT
        else:
            ok = assignable(actual, t, constant)
        if not ok:
            hint = None
            if t.kind is Kind.MONEY and actual.kind in (Kind.NUMBER, Kind.COUNT):
                hint = f"write `{e.span.text} {self.policy.currency}`"
            elif t.kind is Kind.PERCENT and actual.kind in (Kind.NUMBER, Kind.COUNT) and constant is not None:
                hint = f"write `{_fmt(constant * 100)}%`"
            elif t.kind in (Kind.ID, Kind.PERIOD, Kind.TEXT):
                hint = 'write it in double quotes: "..."'
            elif t.kind is Kind.COUNT:
                hint = "a count is a whole number >= 0"
            self.err(f"{what} is {t}, but this value is {actual}", e.span, help=hint)

    def literal(self, e: ast.Expr, expected: Type) -> tuple[Type | None, Decimal | None]:
        """The type of a value written in a test file (literals and arithmetic on them)."""
        match e:
            case ast.Number(value=v):
                return NUMBER, v
            case ast.Percent(value=v):
                return PERCENT, v
            case ast.Money(amount=v, currency=cur):
                if cur != self.policy.currency:
                    self.err(f"money in {cur}, but the policy's currency is {self.policy.currency}", e.span,
                             code="E302", help=f"write `{_fmt(v)} {self.policy.currency}`")
                    return None, None
                return MONEY, v
            case ast.String():
                return TEXT, None
            case ast.Bool():
                return BOOL, None
            case ast.ListLit(items=items):
                for item in items:
                    if not isinstance(item, ast.String):
                        self.err("`reasons` is a list of strings", item.span)
                        return None, None
                return LIST, None
            case ast.Unary(op="-", operand=x):
                t, v = self.literal(x, expected)
                if t is None:
                    return None, None
                if not t.is_numeric:
                    self.err(f"cannot negate {_a(t)}", e.span)
                    return None, None
                return Type(NEGATION[t.kind]), (-v if v is not None else None)
            case ast.Binary(op=op) if op in _VERBS:
                lt, lv = self.literal(e.left, expected)
                rt, rv = self.literal(e.right, expected)
                if lt is None or rt is None:
                    return None, None
                kind = arithmetic(op, lt.kind, rt.kind) if lt.is_numeric and rt.is_numeric else None
                if kind is None:
                    self.err(f"cannot {_VERBS[op][0]} {lt} and {rt}", e.span)
                    return None, None
                return Type(kind), (_fold(op, lv, rv) if lv is not None and rv is not None else None)
            case ast.Name(name=n):
                if expected.kind in (Kind.ENUM, Kind.LEVEL):
                    if n in expected.members:
                        return expected, None
                    what = "a member of " if expected.kind is Kind.ENUM else "a label of "
                    self.err(f"`{n}` is not {what}{expected}", e.span, help=suggest(n, expected.members))
                    return None, None
                self.err(f"a test value must be a literal; `{n}` is a name", e.span,
                         help='write a string in double quotes' if expected.kind in
                         (Kind.TEXT, Kind.ID, Kind.PERIOD) else None)
                return None, None
            case _:
                self.err("a test value must be a literal", e.span)
                return None, None


def check_tests(source: SourceFile, file: ast.TestFile, diags: Diagnostics, *,
                path: Path | None = None) -> CheckedPolicy | None:
    """A test file: its policy (relative to the test file) must exist and check; every
    fixture field, param override and expectation must name something of the policy, with
    a value of its type. Returns the policy's `CheckedPolicy` (None on errors)."""
    from dsl.front.syntax import parse_bytes

    folder = path.parent if path is not None else Path(".")
    target = folder / file.target
    if not file.target.endswith(".ipl") or not target.is_file():
        near = [p.name for p in folder.glob("*.ipl") if p.name != (path.name if path else "")]
        diags.error("E700", f"unknown policy file \"{file.target}\" (looked for {target})", file.target_span,
                    help=suggest(file.target, near) or "the path is relative to the test file")
        return None
    try:
        data = target.read_bytes()
    except OSError as err:
        diags.error("E700", f"cannot read the policy {target}: {err.strerror or err}", file.target_span)
        return None
    sink = Diagnostics()
    psource, parsed = parse_bytes(str(target), data, sink)
    if parsed is None or not isinstance(parsed, ast.PolicyFile):
        diags.error("E700", f"\"{file.target}\" is not a policy" if parsed is not None else
                    f"the policy \"{file.target}\" does not parse", file.target_span,
                    help=f"run `ipl check {target}`")
        return None
    policy = check_policy(psource, parsed, sink, path=target)
    if policy is None:
        diags.error("E700", f"the policy \"{file.target}\" has errors", file.target_span,
                    help=f"run `ipl check {target}`")
        return None
    first = len(diags.items)
    _Tests(file, policy, diags).run()
    return None if _errors_since(diags, first) else policy


__all__ = ["check_policy", "check_module", "check_tests", "check_file"]
