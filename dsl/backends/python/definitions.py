"""The definitions of a policy as generated Python: params, metrics, tables (language §9),
scorecards (§10), components and benefits (§11), and the constant phase.

A mixin of `Generator` (dsl/backends/python/generator.py), over its state; reads IR nodes
(dsl/ir/nodes.py) only.
"""

from __future__ import annotations

from decimal import Decimal

from dsl.backends.python.writer import Block, tup
from dsl.checker.types import Kind
from dsl.ir import nodes as ir

# Tables of more bands are looked up by bisection rather than one test per band (`tiers`):
# measured per record, a flat table's inline tests are as fast up to about 12 bands, a marginal
# table's (one multiplication per band reached) only up to 3.
INLINE_BANDS = 12
INLINE_MARGINAL_BANDS = 3
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

    # -- tables (language §9)
    def tiers(self, t: ir.Table, b: Block, target: str) -> None:
        """Up to INLINE_BANDS (marginal: INLINE_MARGINAL_BANDS) bands: one test per band, inline.
        More: a bisection over the constant thresholds (`runtime.flat_steps`,
        `runtime.marginal_table`, prepared once per run), so that code and compile time grow with
        the bands, not a chain of thousands of `elif`s too deep for Python's compiler."""
        k = self.temp()
        b.emit(f"{k} = {self.expr(t.on, b)}")
        bounds = [self.const_expr(band.threshold, b) for band in t.bands]
        if t.mode == "marginal":
            rates = [self.const_expr(band.value, b) for band in t.bands]
            if len(t.bands) > INLINE_MARGINAL_BANDS:
                table = self.table_const(t, "marginal", b, f"_marginal_table({tup(bounds)}, {tup(rates)})")
                b.emit(f"{target} = {table}({k})")
                self.trace_def(b, t, target, f", 'key': {k}")
                return
            # sum of rate_i * (min(key, T(i+1)) - T(i)) over the bands the key reaches, inline
            acc = self.temp()
            b.emit(f"{acc} = _ZERO")
            for i, (lo, rate) in enumerate(zip(bounds, rates)):
                b.emit(f"if {k} > {lo}:")
                inner = b.child()
                if i + 1 < len(bounds):
                    hi = bounds[i + 1]
                    inner.emit(f"{acc} += {rate} * (({k} if {k} < {hi} else {hi}) - {lo})")
                else:
                    inner.emit(f"{acc} += {rate} * ({k} - {lo})")
            b.emit(f"{target} = {acc}")
            self.trace_def(b, t, target, f", 'key': {k}")
            return
        bands = t.bands
        bi = self.temp() if self.trace else None
        if len(bands) > INLINE_BANDS:
            self.flat_lookup(t, b, k, bounds, bi, target)
            self.trace_def(b, t, target, f", 'key': {k}, 'band': {bi}")
            return
        first = True
        for i in range(len(bands) - 1, -1, -1):
            band = bands[i]
            if band.kind == "below":
                b.emit("else:")
            else:
                b.emit(f"{'if' if first else 'elif'} {k} >= {bounds[i]}:")
            first = False
            inner = b.child()
            if bi:
                inner.emit(f"{bi} = {i}")
            inner.emit(f"{target} = {self.expr(band.value, inner)}")
        if bands[0].kind != "below":
            b.emit("else:")
            self.no_band(t, b.child(), k)
        self.trace_def(b, t, target, f", 'key': {k}, 'band': {bi}")

    def flat_lookup(self, t: ir.Table, b: Block, k: str, bounds: list[str], bi: str | None, target: str) -> None:
        """A flat table of many bands: `p = bisect_right(steps, key)` finds the band (see
        `runtime.flat_steps`); constant values are then read from a tuple, values computed per
        record by a balanced `if` tree on the band's index (only the chosen band's value is
        evaluated)."""
        below = t.bands[0].kind == "below"
        p = self.temp()
        # a module's table is computed once, in the constant phase: its values stay lazy too
        constant = self.scope != "const" and all(band.value.constant for band in t.bands)
        if constant:
            vals = [self.const_expr(band.value, b) for band in t.bands]
            steps, chosen, values = self.table_const(
                t, "flat", b, f"_flat_steps({tup(bounds)}, {below}, {tup(vals)})", 3)
        else:
            steps, chosen = self.table_const(t, "flat", b, f"_flat_steps({tup(bounds)}, {below})", 2)
        b.emit(f"{p} = _bisect({steps}, {k})")
        if not below:
            b.emit(f"if not {p}:")
            self.no_band(t, b.child(), k)
        if constant:
            if bi:
                b.emit(f"{bi} = {chosen}[{p}]")
            b.emit(f"{target} = {values}[{p}]")
            return
        bi = bi or self.temp()
        b.emit(f"{bi} = {chosen}[{p}]")
        self.dispatch(b, bi, len(t.bands), lambda i, blk: blk.emit(f"{target} = {self.expr(t.bands[i].value, blk)}"))

    def no_band(self, t: ir.Table, b: Block, k: str) -> None:
        """A key below the first threshold of a table without `below` has no band."""
        lo_text = t.bands[0].threshold.span.text
        msg = self.const(f"{self.current} has no band for this key: the first band starts at {lo_text}", "S")
        b.emit(f"raise _EvalError({msg} + ' (key ' + _fmt({k}) + ')', {self.current!r}, {self.site(t, t.text)}[1])")

    def table_const(self, t: ir.Table, what: str, b: Block, code: str, names: int = 1):
        """The name(s) of `code`, computed once per run in the constant phase (in `b` when
        compiling the constant phase itself: a module's table)."""
        got = self.table_consts.get((id(t), what))
        if got is None:
            got = tuple(f"c_{self.temp()}" for _ in range(names))
            line = f"{', '.join(got)} = {code}"
            if self.scope == "const":
                b.emit(line)
            else:
                self.tables_code.append(f"    {line}")
            self.table_consts[(id(t), what)] = got
        return got[0] if names == 1 else got

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
