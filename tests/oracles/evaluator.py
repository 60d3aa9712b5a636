"""A small, obviously-correct reference evaluator: a direct walk of the checked tree.

It reads the same `CheckedPolicy` as dsl/backends/python/build.py and follows the spec text
literally (§5 on-demand definitions, §6 tables, §7 scorecards, §8 gates, caps,
floors and the total, §9 rounding), with none of the compiler's machinery:
no code generation, no hoisting, no guards. Slow on purpose; the differential
test (tests/test_compile_differential.py) checks that both agree.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

from dsl.backends.python.compiled import RecordResult
from dsl.front import ast
from dsl.backends.python import runtime
from dsl.checker.checked import CheckedPolicy
from dsl.checker.types import Kind


class RefError(Exception):
    """The record is rejected (an uncaught evaluation error)."""


def evaluate(policy: CheckedPolicy, record: dict, params: dict | None = None) -> tuple:
    with decimal.localcontext(runtime.CONTEXT):
        try:
            return _Ref(policy, record, params or {}).run()
        except RefError:
            raise
        except ArithmeticError as err:  # e.g. a value too large to round
            raise RefError(str(err)) from None


class _Ref:
    def __init__(self, policy: CheckedPolicy, record: dict, overrides: dict):
        self.p = policy
        self.record = record
        self.overrides = overrides
        self.memo: dict = {}
        self.q = runtime.quantum(policy.minor_units)
        self.mode = runtime.ROUNDING_MODES[policy.rounding]
        self.eligible: bool | None = None
        self.reasons: tuple = ()

    def rnd(self, v: Decimal) -> Decimal:
        return v.quantize(self.q, rounding=self.mode)

    # -- definitions, on demand, at most once
    def value(self, name: str, module: str | None = None):
        key = (module, name)
        if key not in self.memo:
            self.memo[key] = self.compute(name, module)
        return self.memo[key]

    def compute(self, name: str, module: str | None):
        d = (self.p.modules[module].definitions if module else self.p.definitions)[name]
        decl = d.decl
        if isinstance(decl, ast.Input):
            return self.record[name]
        if isinstance(decl, ast.Param):
            if module is None and name in self.overrides:
                return self.overrides[name]
            return self.ev(decl.value, {})
        if isinstance(decl, ast.Metric):
            return self.ev(decl.value, {})
        if isinstance(decl, ast.Tiers):
            return self.tiers(decl)
        if isinstance(decl, ast.Scorecard):
            score = Decimal(0)
            for m in decl.measures:
                att = self.ev(m.metric, {}) / self.ev(m.target, {})
                att = max(att, Decimal(0))
                if m.cap is not None:
                    att = min(att, self.ev(m.cap, {}))
                score += self.ev(m.weight, {}) * att
            return score
        if isinstance(decl, ast.Component):
            return self.component(decl, d.type.kind)[0]
        raise AssertionError(f"cannot compute {type(decl).__name__}")

    def tiers(self, t: ast.Tiers):
        key = self.ev(t.key, {})
        bounds = [self.ev(b.threshold, {}) for b in t.bands]
        if t.mode == "marginal":
            total = Decimal(0)
            for i, band in enumerate(t.bands):
                lo = bounds[i]
                hi = bounds[i + 1] if i + 1 < len(bounds) else None
                top = key if hi is None else min(key, hi)
                total += self.ev(band.value, {}) * max(Decimal(0), top - lo)
            return total
        chosen = None
        for i, band in enumerate(t.bands):
            if band.kind == "below":
                if key < bounds[i]:
                    chosen = band
            elif key >= bounds[i]:
                chosen = band  # the last band whose lower bound the key reaches
        if chosen is None:
            raise RefError("no band")
        return self.ev(chosen.value, {})

    def component(self, c: ast.Component, kind: Kind):
        failed = [r.reason for r in c.requires if not self.ev(r.cond, {})]
        if failed:
            zero = {Kind.MONEY: self.rnd(Decimal(0)), Kind.BOOL: False}.get(kind, Decimal(0))
            if kind is Kind.LEVEL:
                zero = self.ev(c.value, {})
            return zero, tuple(failed)
        v = self.ev(c.value, {})
        if kind in (Kind.MONEY, Kind.NUMBER, Kind.PERCENT, Kind.COUNT):
            bound = self.rnd if kind is Kind.MONEY else (lambda x: x)
            for f in c.floors:
                v = max(v, bound(self.ev(f.value, {})))
            for cap in c.caps:
                v = min(v, bound(self.ev(cap.value, {})))
        if kind is Kind.MONEY:
            v = self.rnd(v)
        return v, ()

    # -- expressions
    def ev(self, e: ast.Expr, local: dict):
        p = self.p
        match e:
            case ast.Number(value=v) | ast.Percent(value=v) | ast.Money(amount=v):
                return v
            case ast.String(value=v) | ast.Bool(value=v):
                return v
            case ast.Name(name=n):
                r = p.refs[id(e)]
                if r.kind == "local":
                    return local[n]
                if r.kind in ("member", "label"):
                    return r.name
                if r.kind == "builtin":
                    return self.eligible if n == "eligible" else self.reasons
                return self.value(r.name, r.module)
            case ast.Qualified():
                r = p.refs[id(e)]
                return self.value(r.name, r.module)
            case ast.Unary(op="-", operand=x):
                return -self.ev(x, local)
            case ast.Unary(op="not", operand=x):
                return not self.ev(x, local)
            case ast.Binary(op="and", left=a, right=b):
                return self.ev(a, local) and self.ev(b, local)
            case ast.Binary(op="or", left=a, right=b):
                return self.ev(a, local) or self.ev(b, local)
            case ast.Binary(op=op, left=a, right=b):
                x, y = self.ev(a, local), self.ev(b, local)
                if op == "+":
                    return x + y
                if op == "-":
                    return x - y
                if op == "*":
                    return x * y
                if op == "/":
                    if y == 0:
                        raise ZeroDivisionError("division by zero")
                    return x / y
                if p.types[id(a)].kind is Kind.LEVEL and op in ("<", "<=", ">", ">="):
                    labels = p.levels[p.types[id(a)].name]
                    x, y = labels.index(x), labels.index(y)
                return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y, "==": x == y, "!=": x != y}[op]
            case ast.Member(operand=x, items=items):
                return self.ev(x, local) in [self.ev(i, local) for i in items]
            case ast.If(cond=c, then=a, otherwise=b):
                return self.ev(a, local) if self.ev(c, local) else self.ev(b, local)
            case ast.Match(subject=s, arms=arms):
                subject = self.ev(s, local)
                for arm in arms:
                    for pat in arm.patterns:
                        if (pat.kind == "else" or (pat.kind == "true" and subject is True)
                                or (pat.kind == "false" and subject is False)
                                or (pat.kind == "name" and subject == pat.name)):
                            return self.ev(arm.value, local)
                raise AssertionError("match not exhaustive")
            case ast.Otherwise(expr=a, fallback=b):
                try:
                    return self.ev(a, local)
                except ZeroDivisionError:
                    return self.ev(b, local)
            case ast.Call(func=f, args=args, module=mod):
                r = p.refs.get(id(e))
                if mod is not None or (r is not None and r.kind == "definition"):
                    d = (p.modules[mod].definitions if mod else p.definitions)[f]
                    values = [self.ev(a, local) for a in args]
                    return self.ev(d.decl.body, {prm.name: v for prm, v in zip(d.decl.params, values)})
                values = [self.ev(a, local) for a in args]
                t = p.types[id(e)]
                if f in ("min", "max") and t.kind is Kind.LEVEL:  # §4a: by band order
                    order = p.levels[t.name]
                    return (min if f == "min" else max)(values, key=order.index)
                if f == "min":
                    return min(values)
                if f == "max":
                    return max(values)
                if f == "abs":
                    return abs(values[0])
                if f == "clamp":
                    return min(max(values[0], values[1]), values[2])
                if f == "round":
                    kind = p.types[id(args[0])].kind
                    places = int(values[1]) if len(values) > 1 else (0 if kind is not Kind.MONEY else None)
                    if kind is Kind.MONEY and len(values) == 1:
                        return self.rnd(values[0])
                    if kind is Kind.PERCENT:
                        places += 2
                    return values[0].quantize(Decimal(1).scaleb(-places), rounding=self.mode)
                raise AssertionError(f"builtin {f}")
            case _:
                raise AssertionError(f"unhandled {type(e).__name__}")

    # -- the record
    def run(self) -> tuple:
        p = self.p
        try:
            failed = [r.reason for r in p.eligibility if not self.ev(r.cond, {})]
        except ZeroDivisionError as err:
            raise RefError(str(err)) from None
        self.eligible, self.reasons = not failed, tuple(failed)
        zero = self.rnd(Decimal(0))
        try:
            if not self.eligible:
                bens = []
                for n in p.benefits:
                    kind = p.definitions[n].type.kind
                    if kind is Kind.LEVEL:
                        bens.append(self.value(n))
                    else:
                        bens.append({Kind.MONEY: zero, Kind.BOOL: False}.get(kind, Decimal(0)))
                return RecordResult(False, self.reasons, tuple(zero for _ in p.components), tuple(bens),
                                    zero, zero, zero, zero, ())
            comps, line_reasons = [], []
            for n in (*p.components, *p.benefits):
                d = p.definitions[n]
                value, failed_here = self.component(d.decl, d.type.kind)
                self.memo[(None, n)] = value
                if failed_here:
                    line_reasons.append((n, failed_here))
                comps.append(value)
            values = comps[: len(p.components)]
            s = sum(values, zero)
            t = s
            items = p.total.items if p.total else ()
            for item in items:
                if isinstance(item, ast.Floor):
                    t = max(t, self.rnd(self.ev(item.value, {})))
            fa = t - s
            for item in items:
                if isinstance(item, ast.Cap):
                    t = min(t, self.rnd(self.ev(item.value, {})))
            return RecordResult(True, self.reasons, tuple(values), tuple(comps[len(p.components):]), t, s, fa,
                                t - s - fa, tuple(line_reasons))
        except ZeroDivisionError as err:
            raise RefError(str(err)) from None
