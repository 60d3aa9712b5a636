"""Range analysis (§6.3): a static interval for every numeric expression.

Receives a policy whose names and types are checked without errors (the maps of
typecheck.py). Intervals (dsl/checker/intervals.py) come from declared input ranges (`count`
is >= 0), literals, params (their declared values), interval arithmetic for `+ - * /`,
`min`/`max`/`clamp`/`abs`/`round`, the union of `if`/`match` branches and of an
`otherwise` fallback, the union of the reachable band values of a flat table;
anything else is unbounded. Intervals over-approximate: what they prove holds
for every record that passes validation.

Emits: E401 (a flat table without `below` whose key may be below the first
threshold — the message names the reachable lower bound), W101 (a band the key
can never reach), W102 (a comparison that is always true or always false).
"""

from __future__ import annotations

from decimal import Decimal

from dsl.checker.currency import minor_units
from dsl.checker.declared import decl_exprs
from dsl.checker.intervals import (  # noqa: F401 - INF, NEG_INF, mul, reciprocal: importable from here
    INF, NEG_INF, TOP, Interval, add, decide, div, marginal_at, mul, neg, reaches, reciprocal, round_outward, sub,
    trailing_sum, union,
)
from dsl.checker.resolution import Resolution
from dsl.checker.text import fmt_number
from dsl.checker.types import Kind, Type
from dsl.front import ast
from dsl.front.diagnostics import Diagnostics


class _Ranges:
    """The interval of every definition and numeric expression of one policy, memoised."""

    def __init__(self, file: ast.PolicyFile, res: Resolution, types, refs, constants, modules,
                 diags: Diagnostics):
        self.file = file
        self.res = res
        self.types = types
        self.refs = refs
        self.constants = constants
        self.modules = modules
        self.diags = diags
        self.currency = file.header.currency or "USD"
        self.units = minor_units(file.header.currency)
        self.memo: dict[int, Interval | None] = {}
        self.defs: dict[str, Interval | None] = {}
        self.busy: set[str] = set()

    # ------------------------------------------------------------------ definitions
    def of_definition(self, name: str) -> Interval | None:
        if name in self.defs:
            return self.defs[name]
        if name in self.busy:
            return TOP
        self.busy.add(name)
        try:
            result = self._of_definition(self.res.decls[name])
        finally:
            self.busy.discard(name)
        self.defs[name] = result
        return result

    def _of_definition(self, decl) -> Interval | None:
        match decl:
            case ast.Input():
                kind = decl.type.name
                if kind not in ("money", "percent", "number", "count"):
                    return None
                lo, hi = NEG_INF, INF
                if decl.range is not None:
                    if decl.range.lo is not None and id(decl.range.lo) in self.constants:
                        lo = self.constants[id(decl.range.lo)]
                    if decl.range.hi is not None and id(decl.range.hi) in self.constants:
                        hi = self.constants[id(decl.range.hi)]
                if kind == "count":
                    lo = max(lo, Decimal(0))
                return Interval(lo, hi)
            case ast.Param():
                if id(decl.value) in self.constants:
                    return Interval.point(self.constants[id(decl.value)])
                return self.of(decl.value, None)
            case ast.Metric():
                return self.of(decl.value, None)
            case ast.Tiers():
                return self.of_tiers(decl)
            case ast.Scorecard():
                hi = Decimal(0)
                for m in decl.measures:
                    w = self.constants.get(id(m.weight))
                    c = self.constants.get(id(m.cap)) if m.cap is not None else None
                    if w is None or c is None or w < 0:
                        return Interval(Decimal(0), INF)
                    hi += w * c
                return Interval(Decimal(0), hi)
            case ast.Component():
                t = self.types.get(id(decl.value))
                if t is None or not t.is_numeric:
                    return None
                v = self.of(decl.value, None) or TOP
                for f in decl.floors:
                    fv = self.of(f.value, None) or TOP
                    v = Interval(max(v.lo, fv.lo), max(v.hi, fv.hi))
                for c in decl.caps:
                    cv = self.of(c.value, None) or TOP
                    v = Interval(min(v.lo, cv.lo), min(v.hi, cv.hi))
                # an ineligible record, or a failed `require`, gives 0 (§8)
                return v.union(Interval.point(Decimal(0)))
            case ast.Def():
                return None
            case _:
                raise AssertionError(f"unhandled {type(decl).__name__}")

    def key_and_bands(self, decl: ast.Tiers):
        """The key's interval and each band as (band, lower, upper) with constant bounds."""
        key = self.of(decl.key, None) or TOP
        froms = [b for b in decl.bands if b.kind == "from"]
        out = []
        below = next((b for b in decl.bands if b.kind == "below"), None)
        if froms and below is not None and id(froms[0].threshold) in self.constants:
            out.append((below, NEG_INF, self.constants[id(froms[0].threshold)]))
        for i, band in enumerate(froms):
            lo = self.constants.get(id(band.threshold))
            if lo is None:
                return key, None
            hi = self.constants.get(id(froms[i + 1].threshold)) if i + 1 < len(froms) else INF
            if hi is None:
                return key, None
            out.append((band, lo, hi))
        return key, out

    def of_tiers(self, decl: ast.Tiers) -> Interval | None:
        if decl.name in self.res.levels:
            return None
        key, bands = self.key_and_bands(decl)
        if bands is None:
            return TOP
        if decl.mode == "marginal":
            rates = [self.constants.get(id(b.value)) for b, _, _ in bands]
            if any(r is None or r < 0 for r in rates):
                return TOP
            return Interval(marginal_at(bands, rates, key.lo), marginal_at(bands, rates, key.hi))
        result: Interval | None = None
        for band, lo, hi in bands:
            if not reaches(key, lo, hi):
                continue
            v = self.of(band.value, None)
            if v is None:
                return None
            result = v if result is None else result.union(v)
        if result is None or (decl.bands and not any(b.kind == "below" for b in decl.bands)
                              and bands and key.lo < bands[0][1]):
            # below the first band there is no value (E401 reports it); stay conservative
            return result or TOP
        return result

    # ------------------------------------------------------------------ expressions
    def of(self, e: ast.Expr, env: dict[str, Interval | None] | None) -> Interval | None:
        """The interval of a numeric expression (None for non-numeric ones)."""
        if env is None:
            key = id(e)
            if key in self.memo:
                return self.memo[key]
            result = self._of(e, None)
            self.memo[key] = result
            return result
        return self._of(e, env)

    def _of(self, e: ast.Expr, env) -> Interval | None:
        t: Type | None = self.types.get(id(e))
        if t is None or not t.is_numeric:
            # still visit nothing: non-numeric expressions have no interval
            return None
        if id(e) in self.constants and not isinstance(e, ast.Otherwise):
            return Interval.point(self.constants[id(e)])
        match e:
            case ast.Name():
                ref = self.refs.get(id(e))
                if ref is None:
                    return TOP
                if ref.kind == "local":
                    return (env or {}).get(ref.name) or TOP
                if ref.kind == "definition" and ref.module is None:
                    return self.of_definition(ref.name) or TOP
                if ref.kind == "builtin" and ref.name == "periods_active":
                    return Interval(Decimal(1), INF)
                return TOP
            case ast.Qualified():
                return TOP
            case ast.Unary(op="-", operand=x):
                return neg(self.of(x, env) or TOP)
            case ast.Binary(op="/", left=ast.Binary(op=("+" | "-") as op, left=a, right=c), right=b) \
                    if c == b:
                # (a ± b) / b is a / b ± 1: keeps `growth` bounded below by -100 % (§6.3 example)
                ratio = div(self.of(a, env) or TOP, self.of(b, env) or TOP)
                one = Interval.point(Decimal(1))
                return add(ratio, one) if op == "+" else sub(ratio, one)
            case ast.Binary(op=op, left=a, right=b):
                x, y = self.of(a, env) or TOP, self.of(b, env) or TOP
                return {"+": add, "-": sub, "*": mul, "/": div}[op](x, y)
            case ast.If(then=a, otherwise=b):
                return union(self.of(a, env), self.of(b, env))
            case ast.Match(arms=arms):
                result = None
                for arm in arms:
                    result = union(result, self.of(arm.value, env)) if result is not None \
                        else (self.of(arm.value, env) or TOP)
                return result or TOP
            case ast.Otherwise(expr=a, fallback=b):
                return union(self.of(a, env), self.of(b, env))
            case ast.Call():
                return self.of_call(e, env)
            case ast.Pool(amount=amount):
                v = self.constants.get(id(amount))
                return Interval(Decimal(0), v) if v is not None and v >= 0 else TOP
            case ast.Rank(kind="rank"):
                return Interval(Decimal(1), INF)
            case ast.Rank():
                return Interval(Decimal(0), Decimal(1))
            case ast.TotalRef():
                return TOP
            case _:
                return TOP

    def of_call(self, e: ast.Call, env) -> Interval:
        ref = self.refs.get(id(e))
        if ref is None:
            return TOP
        args = [self.of(a, env) or TOP for a in e.args]
        if ref.kind == "definition":
            if ref.module is not None:
                decl = self.modules[ref.module].definitions[ref.name].decl
            else:
                decl = self.res.decls[ref.name]
            inner = {p.name: iv for p, iv in zip(decl.params, args)}
            return self.of(decl.body, inner) or TOP
        f = e.func
        t = self.types.get(id(e))
        match f:
            case "min":
                return Interval(min(a.lo for a in args), min(a.hi for a in args))
            case "max":
                return Interval(max(a.lo for a in args), max(a.hi for a in args))
            case "abs":
                a = args[0]
                if a.lo >= 0:
                    return a
                if a.hi <= 0:
                    return neg(a)
                return Interval(Decimal(0), max(-a.lo, a.hi))
            case "clamp":
                x, lo, hi = args
                low = Interval(max(x.lo, lo.lo), max(x.hi, lo.hi))
                return Interval(min(low.lo, hi.lo), min(low.hi, hi.hi))
            case "round":
                a = args[0]
                if t is not None and t.kind is Kind.MONEY and len(e.args) == 1:
                    exp = Decimal(1).scaleb(-self.units)
                elif len(e.args) == 2 and id(e.args[1]) in self.constants:
                    exp = Decimal(1).scaleb(-int(self.constants[id(e.args[1])]))
                else:
                    exp = Decimal(1)
                return round_outward(a, exp)
            case "prior" | "trailing_min" | "trailing_max" | "trailing_avg":
                return args[0]
            case "trailing_sum":
                a = args[0]
                n = self.constants.get(id(e.args[1]))
                if n is None:
                    return TOP
                return trailing_sum(a, n)
            case "streak":
                return Interval(Decimal(0), INF)
            case _:
                return TOP


# ------------------------------------------------------------------ findings: E401, W101, W102


def _show(r: _Ranges, value: Decimal, t: Type | None) -> str:
    if t is not None and t.kind is Kind.PERCENT:
        return f"{fmt_number(value * 100)} %"
    if t is not None and t.kind is Kind.MONEY:
        return f"{fmt_number(value)} {r.currency}"
    return fmt_number(value)


def _tables(r: _Ranges) -> None:
    """E401: a flat table without `below` whose key may be below the first threshold; W101: a
    band the key never reaches."""
    for name, decl in r.res.decls.items():
        if not isinstance(decl, ast.Tiers):
            continue
        key, bands = r.key_and_bands(decl)
        if not bands:
            continue
        kt = r.types.get(id(decl.key))
        key_text = decl.key.span.text
        has_below = any(b.kind == "below" for b in decl.bands)
        first_band, first_lo, _ = next((b for b in bands if b[0].kind == "from"))
        if decl.mode == "flat" and not has_below and key.lo < first_lo:
            t_text = first_band.threshold.span.text
            if key.lo.is_finite():
                where = f"{key_text} can be as low as {_show(r, key.lo, kt)}"
            else:
                where = f"{key_text} has no lower bound"
            r.diags.error(
                "E401", f"{where} but the first band starts at {_show(r, first_lo, kt)}; "
                f"add `below {t_text} -> ...`", decl.key.span,
                help=("or declare the range of the inputs it comes from (`in LO..HI`)"
                      if not key.lo.is_finite() else None))
        for band, lo, hi in bands:
            if band.kind == "below" or reaches(key, lo, hi):
                continue
            if key.hi < lo:
                why = f"{key_text} is at most {_show(r, key.hi, kt)}"
            else:
                why = f"{key_text} is at least {_show(r, key.lo, kt)}"
            r.diags.warn("W101", f"the band `from {band.threshold.span.text}` of `{name}` can never "
                         f"be reached: {why}", band.span,
                         help="remove the band, or check the thresholds and the key's range")


def _conditions(r: _Ranges) -> None:
    """W102 for every comparison outside a `def` (a def's parameters have no interval)."""
    for decl in r.file.decls:
        if isinstance(decl, ast.Def):
            continue
        for root in decl_exprs(decl):
            for e in ast.walk(root):
                if isinstance(e, ast.Binary) and e.op in ("<", "<=", ">", ">=", "==", "!="):
                    _comparison(r, e)


def _comparison(r: _Ranges, e: ast.Binary) -> None:
    if not (_numeric(r, e.left) and _numeric(r, e.right)):
        return
    a, b = r.of(e.left, None), r.of(e.right, None)
    if a is None or b is None or not (a.bounded or b.bounded):
        return
    verdict = decide(e.op, a, b)
    if verdict is None:
        return
    lt, rt = r.types.get(id(e.left)), r.types.get(id(e.right))
    side, iv, t = (e.left, a, lt) if not (a.lo == a.hi) else (e.right, b, rt)
    if iv.lo == iv.hi:
        reason = "both sides are constant"
    elif iv.lo.is_finite() and iv.hi.is_finite():
        reason = f"{side.span.text} is between {_show(r, iv.lo, t)} and {_show(r, iv.hi, t)}"
    elif iv.lo.is_finite():
        reason = f"{side.span.text} is at least {_show(r, iv.lo, t)}"
    else:
        reason = f"{side.span.text} is at most {_show(r, iv.hi, t)}"
    r.diags.warn("W102", f"`{e.span.text}` is always {'true' if verdict else 'false'}: {reason}",
                 e.span, help="remove the condition, or check the thresholds and the input ranges")


def _numeric(r: _Ranges, e: ast.Expr) -> bool:
    t = r.types.get(id(e))
    return t is not None and t.is_numeric


def analyse(file: ast.PolicyFile, res: Resolution, types, refs, constants, modules,
            diags: Diagnostics) -> dict[int, Interval | None]:
    """The range pass over a policy that checked without errors; returns the interval of every
    numeric expression it reached, by id (None: not numeric)."""
    r = _Ranges(file, res, types, refs, constants, modules, diags)
    for name in res.visit_order:  # dependencies first: no deep recursion along long chains
        r.of_definition(name)
    try:
        _tables(r)
        _conditions(r)
    except RecursionError:  # pragma: no cover - defs nested hundreds deep: skip the warnings
        pass
    return r.memo
