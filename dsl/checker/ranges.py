"""Range analysis (§6.3): a static interval for every numeric expression.

Receives a policy whose names and types are checked without errors (the maps of
check.py). Intervals come from declared input ranges (`count` is >= 0),
literals, params (their declared values), interval arithmetic for `+ - * /`,
`min`/`max`/`clamp`/`abs`/`round`, the union of `if`/`match` branches and of an
`otherwise` fallback, the union of the reachable band values of a flat table;
anything else is unbounded. Intervals over-approximate: what they prove holds
for every record that passes validation.

Emits: E401 (a flat table without `below` whose key may be below the first
threshold — the message names the reachable lower bound), W101 (a band the key
can never reach), W102 (a comparison that is always true or always false).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal, InvalidOperation

from dsl.front import ast
from dsl.front.diagnostics import Diagnostics
from dsl.checker.declared import decl_exprs
from dsl.checker.resolution import Resolution
from dsl.checker.currency import minor_units
from dsl.checker.text import fmt_number
from dsl.checker.types import Kind, Type

INF = Decimal("Infinity")
NEG_INF = Decimal("-Infinity")


@dataclass(frozen=True, slots=True)
class Interval:
    """[lo, hi], either end possibly infinite (inclusive when finite)."""

    lo: Decimal = NEG_INF
    hi: Decimal = INF

    @staticmethod
    def point(v: Decimal) -> Interval:
        return Interval(v, v)

    def union(self, other: Interval | None) -> Interval | None:
        if other is None:
            return None
        return Interval(min(self.lo, other.lo), max(self.hi, other.hi))

    @property
    def bounded(self) -> bool:
        return self.lo.is_finite() or self.hi.is_finite()


TOP = Interval()


# Bounds are rounded outwards (§9's 34 digits): a lower bound down, an upper bound up, so that
# an inexact product or quotient never makes an interval narrower than the values it holds.
_DOWN = Context(prec=34, rounding=ROUND_FLOOR, Emax=999_999, Emin=-999_999)
_UP = Context(prec=34, rounding=ROUND_CEILING, Emax=999_999, Emin=-999_999)


def _mul(a: Decimal, b: Decimal, ctx: Context = _DOWN) -> Decimal:
    if a == 0 or b == 0:
        return Decimal(0)  # a bound of 0 is reached; the other end only grows without limit
    return ctx.multiply(a, b)


def _safe(f):
    try:
        return f()
    except (InvalidOperation, ArithmeticError):
        return TOP


def add(a: Interval, b: Interval) -> Interval:
    return _safe(lambda: Interval(_DOWN.add(a.lo, b.lo), _UP.add(a.hi, b.hi)))


def sub(a: Interval, b: Interval) -> Interval:
    return _safe(lambda: Interval(_DOWN.subtract(a.lo, b.hi), _UP.subtract(a.hi, b.lo)))


def mul(a: Interval, b: Interval) -> Interval:
    def go():
        pairs = [(x, y) for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
        return Interval(min(_mul(x, y, _DOWN) for x, y in pairs), max(_mul(x, y, _UP) for x, y in pairs))
    return _safe(go)


def reciprocal(b: Interval) -> Interval:
    """1 / b for the values b takes other than 0 (dividing by 0 fails: `otherwise` decides)."""
    if b.lo < 0 < b.hi:
        return TOP
    one = Decimal(1)
    if b.lo >= 0:
        if b.hi == 0:
            return TOP  # only zero: always fails
        hi = INF if b.lo == 0 else _UP.divide(one, b.lo)
        lo = Decimal(0) if not b.hi.is_finite() else _DOWN.divide(one, b.hi)
        return Interval(lo, hi)
    # b.hi <= 0
    if b.lo == 0:
        return TOP
    lo = NEG_INF if b.hi == 0 else _DOWN.divide(one, b.hi)
    hi = Decimal(0) if not b.lo.is_finite() else _UP.divide(one, b.lo)
    return Interval(lo, hi)


def div(a: Interval, b: Interval) -> Interval:
    return _safe(lambda: mul(a, reciprocal(b)))


def neg(a: Interval) -> Interval:
    return Interval(-a.hi, -a.lo)


class _Ranges:
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

    def _numeric(self, e: ast.Expr) -> bool:
        t = self.types.get(id(e))
        return t is not None and t.is_numeric

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
            return Interval(self.marginal_at(bands, rates, key.lo), self.marginal_at(bands, rates, key.hi))
        result: Interval | None = None
        for band, lo, hi in bands:
            if not _reaches(key, lo, hi):
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

    @staticmethod
    def marginal_at(bands, rates, x: Decimal) -> Decimal:
        if not x.is_finite():
            return Decimal(0) if x < 0 else (INF if any(r > 0 for r in rates) else Decimal(0))
        total = Decimal(0)
        for (band, lo, hi), rate in zip(bands, rates):
            top = min(x, hi)
            if top > lo:
                total += rate * (top - lo)
        return total

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
                return _union(self.of(a, env), self.of(b, env))
            case ast.Match(arms=arms):
                result = None
                for arm in arms:
                    result = _union(result, self.of(arm.value, env)) if result is not None \
                        else (self.of(arm.value, env) or TOP)
                return result or TOP
            case ast.Otherwise(expr=a, fallback=b):
                return _union(self.of(a, env), self.of(b, env))
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
                return Interval(_quantize(a.lo, exp, ROUND_FLOOR), _quantize(a.hi, exp, ROUND_CEILING))
            case "prior" | "trailing_min" | "trailing_max" | "trailing_avg":
                return args[0]
            case "trailing_sum":
                a = args[0]
                n = self.constants.get(id(e.args[1]))
                if n is None:
                    return TOP
                return _safe(lambda: Interval(min(a.lo, _mul(a.lo, n)), max(a.hi, _mul(a.hi, n))))
            case "streak":
                return Interval(Decimal(0), INF)
            case _:
                return TOP

    # ------------------------------------------------------------------ findings
    def show(self, value: Decimal, t: Type | None) -> str:
        if t is not None and t.kind is Kind.PERCENT:
            return f"{fmt_number(value * 100)} %"
        if t is not None and t.kind is Kind.MONEY:
            return f"{fmt_number(value)} {self.currency}"
        return fmt_number(value)

    def tables(self) -> None:
        for name, decl in self.res.decls.items():
            if not isinstance(decl, ast.Tiers):
                continue
            key, bands = self.key_and_bands(decl)
            if not bands:
                continue
            kt = self.types.get(id(decl.key))
            key_text = decl.key.span.text
            has_below = any(b.kind == "below" for b in decl.bands)
            first_band, first_lo, _ = next((b for b in bands if b[0].kind == "from"))
            if decl.mode == "flat" and not has_below and key.lo < first_lo:
                t_text = first_band.threshold.span.text
                if key.lo.is_finite():
                    where = f"{key_text} can be as low as {self.show(key.lo, kt)}"
                else:
                    where = f"{key_text} has no lower bound"
                self.diags.error(
                    "E401", f"{where} but the first band starts at {self.show(first_lo, kt)}; "
                    f"add `below {t_text} -> ...`", decl.key.span,
                    help=("or declare the range of the inputs it comes from (`in LO..HI`)"
                          if not key.lo.is_finite() else None))
            for band, lo, hi in bands:
                if band.kind == "below" or _reaches(key, lo, hi):
                    continue
                if key.hi < lo:
                    why = f"{key_text} is at most {self.show(key.hi, kt)}"
                else:
                    why = f"{key_text} is at least {self.show(key.lo, kt)}"
                self.diags.warn("W101", f"the band `from {band.threshold.span.text}` of `{name}` can never "
                                f"be reached: {why}", band.span,
                                help="remove the band, or check the thresholds and the key's range")

    def conditions(self) -> None:
        for decl in self.file.decls:
            if isinstance(decl, ast.Def):
                continue
            for root in decl_exprs(decl):
                for e in ast.walk(root):
                    if isinstance(e, ast.Binary) and e.op in ("<", "<=", ">", ">=", "==", "!="):
                        self.comparison(e)

    def comparison(self, e: ast.Binary) -> None:
        if not (self._numeric(e.left) and self._numeric(e.right)):
            return
        a, b = self.of(e.left, None), self.of(e.right, None)
        if a is None or b is None or not (a.bounded or b.bounded):
            return
        verdict = _decide(e.op, a, b)
        if verdict is None:
            return
        lt, rt = self.types.get(id(e.left)), self.types.get(id(e.right))
        side, iv, t = (e.left, a, lt) if not (a.lo == a.hi) else (e.right, b, rt)
        if iv.lo == iv.hi:
            reason = "both sides are constant"
        elif iv.lo.is_finite() and iv.hi.is_finite():
            reason = f"{side.span.text} is between {self.show(iv.lo, t)} and {self.show(iv.hi, t)}"
        elif iv.lo.is_finite():
            reason = f"{side.span.text} is at least {self.show(iv.lo, t)}"
        else:
            reason = f"{side.span.text} is at most {self.show(iv.hi, t)}"
        self.diags.warn("W102", f"`{e.span.text}` is always {'true' if verdict else 'false'}: {reason}",
                        e.span, help="remove the condition, or check the thresholds and the input ranges")


def _union(a: Interval | None, b: Interval | None) -> Interval:
    a, b = a or TOP, b or TOP
    return Interval(min(a.lo, b.lo), max(a.hi, b.hi))


def _reaches(key: Interval, lo: Decimal, hi: Decimal) -> bool:
    """Does [key.lo, key.hi] meet the band [lo, hi)?"""
    return key.hi >= lo and key.lo < hi


def _quantize(v: Decimal, exp: Decimal, rounding) -> Decimal:
    if not v.is_finite():
        return v
    try:
        return v.quantize(exp, rounding=rounding)
    except InvalidOperation:
        return v


def _decide(op: str, a: Interval, b: Interval) -> bool | None:
    """True/False when `a op b` has one outcome for all values of the intervals."""
    match op:
        case "<":
            return True if a.hi < b.lo else False if a.lo >= b.hi else None
        case "<=":
            return True if a.hi <= b.lo else False if a.lo > b.hi else None
        case ">":
            return True if a.lo > b.hi else False if a.hi <= b.lo else None
        case ">=":
            return True if a.lo >= b.hi else False if a.hi < b.lo else None
        case "==":
            if a.hi < b.lo or a.lo > b.hi:
                return False
            return None
        case "!=":
            if a.hi < b.lo or a.lo > b.hi:
                return True
            return None
        case _:
            raise AssertionError(f"unhandled comparison {op}")


def analyse(file: ast.PolicyFile, res: Resolution, types, refs, constants, modules,
            diags: Diagnostics) -> dict[int, Interval | None]:
    """The range pass over a policy that checked without errors; returns the interval of every
    numeric expression it reached, by id (None: not numeric)."""
    r = _Ranges(file, res, types, refs, constants, modules, diags)
    for name in res.visit_order:  # dependencies first: no deep recursion along long chains
        r.of_definition(name)
    try:
        r.tables()
        r.conditions()
    except RecursionError:  # pragma: no cover - defs nested hundreds deep: skip the warnings
        pass
    return r.memo
