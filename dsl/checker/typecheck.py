"""The type pass: types and units, tier tables, scorecards, caps and floors (language §5–§11).

Receives a parsed policy or module and its `Resolution` (dsl/checker/names.py). The stages of
a policy are chained by dsl/checker/program.py: modules (loader.py), names (names.py), types
(this module, with the mixins decls.py, tables.py, exprs.py, compare.py, matches.py and
calls.py), ranges (ranges.py). Every stage keeps going so that all its errors are reported;
the range stage runs only when the earlier stages found no errors (intervals over ill-typed
code would only add noise). Expressions whose type could not be found get the ERROR type, which is silently
compatible with everything so that one mistake is reported once.

Guarantees: `types` for every expression node, `constants` for every constant numeric
expression, each definition's type (`decl_types`), and what it reads of history and of
program-wide figures.

Emits: E300 (operator, condition and branch types), E301 (unit confusion, with
the fix of `types.unit_hint`), E302 (currency), E303 (calls), E304 (declared
types; what a component or benefit may be), E310/E311/W103 (match), E400,
E402, E403, E311 (tables), E500, E501, E403 (scorecards), E600 (caps and
floors), W104 (history without `otherwise`).
"""


from __future__ import annotations

from decimal import Decimal

from dsl.checker.calls import Calls
from dsl.checker.compare import Comparisons
from dsl.checker.decls import Declarations
from dsl.checker.exprs import Expressions
from dsl.checker.matches import Matches
from dsl.checker.declared import decl_exprs
from dsl.checker.resolution import HISTORY_FUNCTIONS, Resolution
from dsl.checker.tables import Tables
from dsl.checker.types import BUILTIN_TYPES, COUNT, ERROR, MONEY, PERCENT, Kind, Type, assignable
from dsl.checker.text import fmt_number
from dsl.front import ast
from dsl.front.diagnostics import Diagnostics
from dsl.front.source import SourceFile


class Typer(Declarations, Tables, Expressions, Comparisons, Matches, Calls):
    """The type pass over one policy or module (after names.py): its state, the definitions in
    dependency order, and the whole file."""

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
                     f"{what} must be a whole number of at least 1, not {fmt_number(value)}", expr.span)

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
