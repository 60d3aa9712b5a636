"""The definitions of a policy as generated Python: params, metrics, tables (language §9,
in tables.py), scorecards (§10), components and benefits (§11), and the constant phase.

A mixin of `Generator` (dsl/backends/python/generator.py), over its state; reads IR nodes
(dsl/ir/nodes.py) only.
"""

from __future__ import annotations

from decimal import Decimal

from dsl.backends.python.writer import Block
from dsl.checker.types import Kind
from dsl.ir import nodes as ir

# Longer sums (the total of the components, a scorecard's parts) are added in steps (`added`).
MAX_SUM_TERMS = 100


class Definitions:
    """How each kind of definition is computed (a mixin of `Generator`)."""

    def compute(self, key: ir.Key, b: Block) -> None:
        d = self.p.definitions[key]
        saved = self.current
        self.current = key if isinstance(key, str) else f"{key[0]}.{key[1]}"
        target = self.cvar(key) if self.is_const_def(key) else self.var(key)
        start = len(b.lines)
        if self.trace and self.scope == "record":
            b.emit(f"_at[0] = {self.current!r}")
        match d:
            case ir.Param(value=v):
                if isinstance(key, str):  # a policy's param: `--set` overrides it
                    b.emit(f"if {key!r} in OVR:")
                    b.child().emit(f"{target} = OVR[{key!r}]")
                    b.emit("else:")
                    inner = b.child()
                    inner.emit(f"{target} = {self.expr(v, inner)}")
                else:
                    b.emit(f"{target} = {self.expr(v, b)}")
            case ir.Metric(value=v):
                b.emit(f"{target} = {self.expr(v, b)}")
                self.trace_def(b, d, target)
            case ir.Table():
                self.tiers(d, b, target)
            case ir.Scorecard():
                self.scorecard(d, b, target)
            case ir.Component():
                self.component(d, b, target)
            case _:
                raise AssertionError(f"unhandled definition {type(d).__name__}")
        if len(b.lines) == start:
            b.emit("pass")
        self.current = saved

    def trace_def(self, b: Block, d, target: str, extra: str = "") -> None:
        if not self.trace:
            return
        ops = ", ".join(f"{dep!r}: {self.cvar(dep) if self.is_const_def(dep) else self.var(dep)}" for dep in d.reads)
        b.emit(f"_ev({{'def': {self.current!r}, 'kind': {ir.kind_of(d)!r}, 'site': {self.site(d, d.text)}, "
               f"'value': {target}, 'operands': _ops({{{ops}}}){extra}}})")

    def values_read(self, cond: ir.Expr) -> str:
        """Code for `{name: value}` of the policy's definitions a condition reads by name (the
        failing value shown beside a gate's reason); those not computed (`_UNSET`) left out."""
        if isinstance(cond, ir.Ref):
            return "{}"  # `require certified`: the condition's value is the value
        names: list[str] = []
        for e in ir.walk(cond):
            if isinstance(e, ir.Ref) and isinstance(e.key, str) and e.key not in names:
                names.append(e.key)
        items = ", ".join(f"{n!r}: {self.cvar(n) if self.is_const_def(n) else self.var(n)}" for n in names)
        return f"_ops({{{items}}})"

    # -- scorecards (language §10)
    def scorecard(self, sc: ir.Scorecard, b: Block, target: str) -> None:
        parts = []
        traced = []
        for m in sc.measures:
            v = self.temp()
            b.emit(f"{v} = {self.expr(m.metric, b)}")
            w, tg = self.const_expr(m.weight), self.const_expr(m.target)
            a = self.temp()
            b.emit(f"{a} = {v} / {tg}")
            ca = self.temp()
            if m.cap is not None:
                cap = self.const_expr(m.cap)
                b.emit(f"{ca} = _ZERO if {a} < _ZERO else ({cap} if {a} > {cap} else {a})")
            else:
                b.emit(f"{ca} = _ZERO if {a} < _ZERO else {a}")
            parts.append(f"{w} * {ca}")
            traced.append(f"({m.text!r}, {v}, {tg}, {a}, {ca}, {w}, {w} * {ca})")
        b.emit(f"{target} = {self.added(b, parts, '_ZERO')}")
        self.trace_def(b, sc, target, f", 'parts': ({', '.join(traced)},)")

    def added(self, b: Block, terms: list[str], zero: str) -> str:
        """`t0 + t1 + …`, added left to right; past MAX_SUM_TERMS terms, the running sum is kept
        in a temporary every MAX_SUM_TERMS terms (the same additions in the same order: a chain
        of thousands of `+` is too deep for Python's compiler)."""
        if not terms:
            return zero
        code = " + ".join(terms[:MAX_SUM_TERMS])
        for i in range(MAX_SUM_TERMS, len(terms), MAX_SUM_TERMS):
            t = self.temp()
            b.emit(f"{t} = {code}")
            code = " + ".join([t, *terms[i:i + MAX_SUM_TERMS]])
        return code

    # -- components and benefits (language §11)
    def component(self, c: ir.Component, b: Block, target: str) -> None:
        kind = c.type.kind
        q = f"q_{c.key}"
        body = b
        if c.requires:
            b.emit(f"{q} = []")
            gates = []
            for r in c.requires:
                cond = self.expr(r.cond, b)
                ok = self.temp()
                b.emit(f"{ok} = {cond}")
                b.emit(f"if not {ok}: {q}.append({self.const(r.reason, 'S')})")
                gates.append(f"({r.cond.span.text!r}, {ok}, {self.const(r.reason, 'S')}, {self.values_read(r.cond)})")
            b.emit(f"if {q}:")
            # a level keeps its value; the reasons still show
            zero = None if kind is Kind.LEVEL else {Kind.BOOL: "False", Kind.MONEY: "_MZERO"}.get(kind, "_ZERO")
            if zero is not None:
                b.child().emit(f"{target} = {zero}")
                if self.trace:
                    b.child().emit(f"_ev({{'def': {self.current!r}, 'kind': {c.kind!r}, 'site': {self.site(c, c.text)}, "
                                   f"'value': {target}, 'operands': {{}}, 'gates': ({', '.join(gates)},), "
                                   f"'failed': tuple({q})}})")
                b.emit("else:")
                body = b.child()
        raw = self.temp()
        body.emit(f"{raw} = {self.expr(c.value, body)}")
        value = raw
        floors_t, caps_t = [], []
        if c.type.is_numeric and (c.floors or c.caps):
            value = self.temp()
            body.emit(f"{value} = {raw}")
            for f in c.floors:
                fv = self.temp()
                body.emit(f"{fv} = {self.bound(f, body)}")
                body.emit(f"if {fv} > {value}: {value} = {fv}")
                floors_t.append(f"({f.value.span.text!r}, {fv})")
            for cp in c.caps:
                cv = self.temp()
                body.emit(f"{cv} = {self.bound(cp, body)}")
                body.emit(f"if {cv} < {value}: {value} = {cv}")
                caps_t.append(f"({cp.value.span.text!r}, {cv})")
        if c.rounds:  # language §12: a money line is rounded to the minor unit, last
            body.emit(f"{target} = {value}.quantize(_Q, rounding=_MODE)")
        else:
            body.emit(f"{target} = {value}")
        if self.trace:
            gates = ", ".join(f"({r.cond.span.text!r}, True, {self.const(r.reason, 'S')}, {self.values_read(r.cond)})"
                              for r in c.requires)
            self.trace_def(body, c, target,
                           f", 'raw': {raw}, 'floors': ({', '.join(floors_t)}{',' if floors_t else ''}), "
                           f"'caps': ({', '.join(caps_t)}{',' if caps_t else ''}), "
                           f"'gates': ({gates}{',' if gates else ''})")

    def bound(self, bound: ir.Bound, b: Block) -> str:
        """A floor or cap value: money bounds are rounded to the minor unit (language §12)."""
        expr = bound.value
        if expr.constant:
            code = self.const_expr(expr)
            if not bound.rounds:
                return code
            rounded = f"{code}_r"
            if rounded not in self.rounded:
                self.rounded.add(rounded)
                self.tables_code.append(f"    {rounded} = {code}.quantize(_Q, rounding=_MODE)")
            return rounded
        code = self.expr(expr, b)
        return f"({code}).quantize(_Q, rounding=_MODE)" if bound.rounds else code

    # -- constant expressions (thresholds, rates, weights, targets): the constant phase
    def const_expr(self, expr: ir.Expr, b: Block | None = None) -> str:
        """The name of a constant, computed once per run; `b`: the block being compiled, where
        the computation goes when it is the constant phase itself (a module's table), so that
        it comes before its use."""
        match expr:
            case ir.Literal(value=v) if isinstance(v, Decimal):
                return self.const(v)
            case ir.Literal(value=v) if isinstance(v, str):
                return self.const(v, "S")
            case ir.Unary(op="-", operand=ir.Literal(value=v)) if isinstance(v, Decimal):
                return self.const(-v)
        cached = self.const_exprs.get(id(expr))
        if cached is not None:
            return cached
        name = f"c_{self.temp()}"
        if self.scope == "const" and b is not None:
            b.emit(f"{name} = {self.expr(expr, b)}")
            self.const_exprs[id(expr)] = name
            return name
        saved_scope, saved_cur = self.scope, self.current
        self.scope = "const"
        lines: list[str] = []
        blk = Block(lines, 1, set(self.const_computed))
        code = self.expr(expr, blk)
        blk.emit(f"{name} = {code}")
        self.tables_code.extend(lines)
        self.scope, self.current = saved_scope, saved_cur
        self.const_exprs[id(expr)] = name
        return name
