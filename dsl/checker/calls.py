"""Calls through the type pass: the builtins (language §7), history functions (§15) and `def`s.

A mixin of `Typer` (dsl/checker/typecheck.py). Emits E303 (wrong number or types of arguments),
E300.
"""

from __future__ import annotations


from dsl.checker.checked import Ref
from dsl.checker.fold import fold_builtin, is_zero
from dsl.checker.text import article
from dsl.checker.types import (
    BUILTIN_TYPES, COUNT, ERROR, NUMBER, Kind, Type, assignable, unify, unit_hint,
)
from dsl.front import ast

HISTORY_TARGETS = ("input", "metric", "tiers", "scorecard", "component", "benefit")


class Calls:
    """The type of a call (a mixin of `Typer`)."""

    def call(self, e: ast.Call, env, expected: Type | None) -> Type:
        ref = self.refs.get(id(e))
        if ref is None:
            for a in e.args:
                self.infer(a, env, None)
            return ERROR
        if ref.kind == "definition":
            return self.call_def(e, env, ref)
        match e.func:
            case "min" | "max" | "clamp" | "abs":
                return self.call_numeric(e, env, expected)
            case "round":
                return self.call_round(e, env)
            case "streak":
                return self.call_streak(e, env)
            case _:  # prior, trailing_*
                return self.call_history(e, env)

    def call_numeric(self, e: ast.Call, env, expected: Type | None) -> Type:
        """`min`, `max` (§4a: of two or more; of levels of one table too), `clamp`, `abs`: one
        numeric type, folded when every argument is constant."""
        f = e.func
        args = e.args
        want = {"abs": (1, 1), "clamp": (3, 3)}.get(f, (2, None))  # §4a: min/max of two or more
        types = [self.infer(a, env, expected) if not is_zero(a) else None for a in args]
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
                         label=f"this is {article(t)}")
                return ERROR
            u = unify(result, t)
            if u is None:
                self.err("E303", f"the arguments of `{f}` must have one type: {result} and {t}", a.span,
                         label=f"this is {article(t)}",
                         help=unit_hint("<", result.kind, t.kind, args[0].span.text, a.span.text,
                                        self.currency or "USD"))
                return ERROR
            result = u
        values = [self.constants.get(id(a)) for a in args]
        if all(v is not None for v in values):
            self.constants[id(e)] = fold_builtin(f, values)
        return result

    def call_round(self, e: ast.Call, env) -> Type:
        """`round(x)`, `round(x, places)`: places a constant whole number >= 0."""
        args = e.args
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

    def call_streak(self, e: ast.Call, env) -> Type:
        """`streak(c)` (language §15): the consecutive periods, ending with this one, in which `c`
        held."""
        f = e.func
        args = e.args
        if self.arity(e, (1, 1)):
            self.history_use(e, f)
            self.condition(args[0], env, "the argument of `streak`")
        else:
            for a in args:
                self.infer(a, env, None)
        return COUNT

    def call_history(self, e: ast.Call, env) -> Type:
        """`prior(x)`, `prior(x, k)`, `trailing_*(x, n)` (language §15): x names a definition (or `total`)
        that history keeps; k and n are constant whole numbers >= 1."""
        f = e.func
        args = e.args
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
                         label=f"this is {article(t)}", help=self.declared_hint(t, p, a))
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
