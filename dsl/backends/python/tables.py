"""The tables of a policy as generated Python (language §9): a flat table's band found by one
test per band or, past INLINE_BANDS, by bisection over constant thresholds; a marginal
table's sum over the bands its key reaches; a key below the first band is an evaluation error.

A mixin of `Generator` (dsl/backends/python/generator.py), over its state; reads IR nodes
(dsl/ir/nodes.py) only. The thresholds, rates and bisection steps are computed once per run,
in the constant phase (`table_const`).
"""

from __future__ import annotations

from dsl.backends.python.writer import Block, tup
from dsl.ir import nodes as ir

# Tables of more bands are looked up by bisection rather than one test per band (`tiers`):
# measured per record, a flat table's inline tests are as fast up to about 12 bands, a marginal
# table's (one multiplication per band reached) only up to 3.
INLINE_BANDS = 12
INLINE_MARGINAL_BANDS = 3


class Tables:
    """How a table is looked up (a mixin of `Generator`)."""

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
